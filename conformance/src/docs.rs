//! The catalogue as Markdown (`docs/conformance.md` is generated from this).

use std::fmt::Write as _;

use crate::promises::PROMISES;
use crate::scenario::Scenario;

/// The catalogue page: every scenario with its profile, capabilities and flags, by group.
pub fn catalogue_markdown(scenarios: &[Scenario]) -> String {
    let mut out = String::new();
    out.push_str("<!-- Generated from the scenario data in conformance/src/catalogue/.\n");
    out.push_str("     Do not edit: run `cargo xtask conformance --write-docs`. -->\n");
    out.push_str("# Conformance scenario catalogue\n\n");
    let _ = writeln!(
        out,
        "{} scenarios ({} core, {} extended). Each ends in exactly one outcome: passed, \
         failed (expected vs seen), skipped (with the reason) or not supported (the missing \
         capability). Run them with `cargo xtask conformance` or \
         `o2dms_conformance::run(&adapter, Settings::default())`.\n",
        scenarios.len(),
        scenarios
            .iter()
            .filter(|s| s.profile == crate::Profile::Core)
            .count(),
        scenarios
            .iter()
            .filter(|s| s.profile == crate::Profile::Extended)
            .count(),
    );
    let mut groups: Vec<&str> = Vec::new();
    for s in scenarios {
        if !groups.contains(&s.group()) {
            groups.push(s.group());
        }
    }
    for g in groups {
        let _ = writeln!(out, "## {g}\n");
        out.push_str("| id | profile | requires | flags | checks |\n");
        out.push_str("| --- | --- | --- | --- | --- |\n");
        for s in scenarios.iter().filter(|s| s.group() == g) {
            let join = |v: Vec<&str>| {
                if v.is_empty() {
                    "-".to_owned()
                } else {
                    v.join(", ")
                }
            };
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} |",
                s.id,
                s.profile,
                join(s.requires.to_vec()),
                join(s.flags.iter().map(|f| f.as_str()).collect()),
                s.description.replace('|', "\\|"),
            );
        }
        out.push('\n');
    }
    out.push_str(&coverage_markdown(scenarios));
    out
}

/// The coverage table: each promise of the contract and the scenarios that check it.
pub fn coverage_markdown(scenarios: &[Scenario]) -> String {
    let mut out = String::from("## Coverage of the contract\n\n");
    out.push_str(
        "Every promise the `DmsAdapter` docs (`trait`), the data model (`model`) and the \
         design's semantics (`semantics`) make, and the scenarios that would fail an adapter \
         breaking it. A test keeps this table whole: no promise without a scenario.\n\n",
    );
    out.push_str("| promise | source | checked by |\n| --- | --- | --- |\n");
    for p in PROMISES {
        let ids: Vec<String> = scenarios
            .iter()
            .filter(|s| s.covers.contains(&p.id))
            .map(|s| format!("`{}`", s.id))
            .collect();
        let _ = writeln!(
            out,
            "| **{}**: {} | {} | {} |",
            p.id,
            p.text.replace('|', "\\|"),
            p.source,
            if ids.is_empty() {
                "**none**".to_owned()
            } else {
                ids.join(", ")
            },
        );
    }
    out
}
