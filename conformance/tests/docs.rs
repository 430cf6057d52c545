//! docs/conformance.md is generated from the scenario data and must be up to date.

use o2dms_conformance::{catalogue, catalogue_markdown};

#[test]
fn catalogue_doc_is_up_to_date() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/conformance.md");
    let want = catalogue_markdown(&catalogue());
    if std::env::var_os("O2DMS_WRITE_DOCS").is_some() {
        std::fs::write(path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        have == want,
        "docs/conformance.md is out of date with the scenario catalogue; regenerate it with \
         `cargo xtask conformance --write-docs` (or `O2DMS_WRITE_DOCS=1 cargo test -p o2dms-conformance --test docs`)"
    );
}

#[test]
fn catalogue_is_large_unique_and_well_formed() {
    let all = catalogue();
    assert!(all.len() >= 40, "{} scenarios", all.len());
    let mut ids: Vec<&str> = all.iter().map(|s| s.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), all.len(), "duplicate ids");
    let caps = o2dms_core::Capabilities::all();
    for s in &all {
        assert!(s.id.contains('.'), "{}", s.id);
        assert!(!s.description.is_empty(), "{}", s.id);
        for c in s.requires {
            assert!(caps.get(c).is_some(), "{}: unknown capability {c}", s.id);
        }
    }
    for group in [
        "lifecycle",
        "update",
        "rollback",
        "scale",
        "status",
        "history",
        "list",
        "packages",
        "bad_input",
        "concurrency",
        "events",
        "logs",
    ] {
        assert!(
            all.iter().any(|s| s.group() == group),
            "no {group} scenario"
        );
    }
}

#[test]
fn every_promise_is_checked_and_every_scenario_checks_a_promise() {
    let all = catalogue();
    let known: Vec<&str> = o2dms_conformance::PROMISES.iter().map(|p| p.id).collect();
    let mut ids = known.clone();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), known.len(), "duplicate promise ids");
    for s in &all {
        assert!(
            !s.covers.is_empty(),
            "{} checks no promise (Scenario::covers)",
            s.id
        );
        for c in s.covers {
            assert!(known.contains(c), "{}: unknown promise `{c}`", s.id);
        }
    }
    let unchecked: Vec<&str> = known
        .iter()
        .copied()
        .filter(|p| !all.iter().any(|s| s.covers.contains(p)))
        .collect();
    assert!(
        unchecked.is_empty(),
        "promises no scenario checks: {unchecked:?}"
    );
}
