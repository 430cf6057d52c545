//! Report shape: JSON validated against docs/report.schema.json, JUnit parsed back,
//! insta snapshots of the JSON and the summary (durations redacted).

mod common;

use o2dms_conformance::{
    body, ensure_eq, Context, Failure, Flag, Outcome, Profile, Report, Scenario, ScenarioResult,
    Settings, Suite,
};
use o2dms_core::DmsAdapter;

async fn passes(a: &dyn DmsAdapter, _cx: &Context) -> ScenarioResult {
    a.health().await?;
    Ok(())
}

async fn fails(_a: &dyn DmsAdapter, _cx: &Context) -> ScenarioResult {
    ensure_eq("answer", &42, &41)
}

async fn panics(_a: &dyn DmsAdapter, _cx: &Context) -> ScenarioResult {
    panic!("a scenario bug");
}

async fn declines(_a: &dyn DmsAdapter, _cx: &Context) -> ScenarioResult {
    Err(Failure::NotSupported("no such thing here".into()))
}

fn small_suite(settings: Settings) -> Suite {
    Suite::empty(settings)
        .scenario(Scenario::new(
            "custom.passes",
            "health answers",
            body!(passes),
        ))
        .scenario(
            Scenario::new(
                "custom.fails",
                "an expectation that does not hold",
                body!(fails),
            )
            .profile(Profile::Extended),
        )
        .scenario(Scenario::new(
            "custom.panics",
            "a body that panics",
            body!(panics),
        ))
        .scenario(Scenario::new(
            "custom.declines",
            "a body that is not supported",
            body!(declines),
        ))
        .scenario(
            Scenario::new(
                "custom.needs_events",
                "needs an event source",
                body!(passes),
            )
            .flags(&[Flag::NeedsEvents]),
        )
        .scenario(Scenario::new(
            "custom.skipped",
            "filtered out",
            body!(passes),
        ))
}

async fn small_report() -> Report {
    let mock = common::mock();
    let mut settings = common::settings();
    settings.skip = vec!["custom.skip*".into()];
    settings.namespace_prefix = Some("o2c-test-".into());
    small_suite(settings).run(&mock).await
}

fn schema_validator() -> jsonschema::Validator {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/report.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).expect("docs/report.schema.json is a valid JSON Schema")
}

fn assert_valid(report: &Report) {
    let instance: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    let v = schema_validator();
    let errors: Vec<String> = v
        .iter_errors(&instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "report does not match the schema:\n{}",
        errors.join("\n")
    );
}

#[tokio::test]
async fn outcomes_are_exact_and_exclusive() {
    let r = small_report().await;
    let outcome = |id: &str| r.scenario(id).unwrap().outcome.clone();
    assert_eq!(outcome("custom.passes"), Outcome::Passed);
    assert_eq!(
        outcome("custom.fails"),
        Outcome::Failed {
            expected: "answer = 42".into(),
            seen: "answer = 41".into()
        }
    );
    assert!(
        matches!(outcome("custom.panics"), Outcome::Failed { seen, .. } if seen.contains("a scenario bug"))
    );
    assert!(matches!(
        outcome("custom.declines"),
        Outcome::NotSupported { .. }
    ));
    assert!(
        matches!(outcome("custom.needs_events"), Outcome::NotSupported { reason } if reason.contains("event source"))
    );
    assert!(
        matches!(outcome("custom.skipped"), Outcome::Skipped { reason } if reason.contains("--skip custom.skip*"))
    );
    assert_eq!(r.scenarios.len(), 6);
    assert_eq!(
        (
            r.totals.all.passed,
            r.totals.all.failed,
            r.totals.all.skipped,
            r.totals.all.not_supported
        ),
        (1, 2, 1, 2)
    );
    assert_eq!((r.totals.core.total, r.totals.extended.total), (5, 1));
    assert!(!r.passed());
    assert_eq!(r.failed_ids(), ["custom.fails", "custom.panics"]);
}

#[tokio::test]
async fn json_report_matches_the_schema() {
    let small = small_report().await;
    assert_valid(&small);
    // The full catalogue, whatever its outcomes against the mock.
    let mock = common::mock();
    let full = Suite::new(common::settings()).run(&mock).await;
    assert_valid(&full);
    // And it round-trips.
    let back: Report = serde_json::from_str(&full.to_json()).unwrap();
    assert_eq!(back, full);
}

#[test]
fn the_schema_rejects_a_broken_report() {
    let v = schema_validator();
    let bad = serde_json::json!({"schema_version": "1.1", "scenarios": [{"id": "x.y", "outcome": "maybe"}]});
    assert!(!v.is_valid(&bad));
}

#[tokio::test]
async fn junit_report_parses_with_one_case_per_scenario() {
    let r = small_report().await;
    let xml = r.to_junit();
    let parsed = quick_junit::Report::deserialize_from_str(&xml).expect("valid JUnit XML");
    // Six scenarios and one case per profile, whose verdict is failure for both here.
    assert_eq!(parsed.tests, 8);
    assert_eq!(parsed.failures, 4);
    assert_eq!(parsed.test_suites.len(), 2);
    assert_eq!(parsed.test_suites[0].name.as_str(), "custom");
    let profiles = &parsed.test_suites[1];
    assert_eq!(profiles.name.as_str(), "profiles");
    let names: Vec<&str> = profiles
        .test_cases
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(names, ["profile.core", "profile.extended"]);
}

#[tokio::test]
async fn json_report_snapshot() {
    let r = small_report().await;
    insta::assert_json_snapshot!("report_json", r, {
        ".started_at" => "[started_at]",
        ".duration_ms" => "[duration]",
        ".scenarios[].duration_ms" => "[duration]",
        ".suite.version" => "[version]",
        ".adapter.version" => "[version]",
    });
}

#[tokio::test]
async fn summary_snapshot() {
    let mut r = small_report().await.redacted();
    r.suite.version = "[version]".into();
    r.adapter.version = "[version]".into();
    insta::assert_snapshot!("summary", r.summary());
}

#[tokio::test]
async fn published_report_snapshot() {
    let mut r = small_report().await.redacted();
    r.suite.version = "[version]".into();
    r.adapter.version = "[version]".into();
    let published = r.published("o2dms-conformance --adapter mock --only 'custom.*'");
    let yaml = published.to_yaml();
    let back: o2dms_conformance::PublishedReport = serde_saphyr::from_str(&yaml).unwrap();
    assert_eq!(back, published);
    insta::assert_snapshot!("published_yaml", yaml);
}
