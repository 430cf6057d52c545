//! The plain mock passes every scenario of the catalogue.

mod common;

use std::sync::Arc;
use std::time::Instant;

use o2dms_conformance::{Outcome, Suite};
use o2dms_layers::Events;

#[tokio::test(flavor = "multi_thread")]
async fn mock_passes_the_whole_catalogue() {
    let adapter = Arc::new(Events::new(common::mock()));
    let start = Instant::now();
    let report = Suite::new(common::settings())
        .events(adapter.clone())
        .run(&*adapter)
        .await;
    let took = start.elapsed();
    eprintln!("{}", report.summary());
    eprintln!("whole catalogue against the mock: {took:?}");
    report.assert_passed();
    for s in &report.scenarios {
        assert_eq!(
            s.outcome,
            Outcome::Passed,
            "{} did not pass: {}",
            s.id,
            s.message
        );
    }
    assert!(report.scenarios.len() >= 40);
    assert!(
        took.as_secs_f64() < 5.0,
        "the catalogue took {took:?} against the mock"
    );
}

#[tokio::test]
async fn without_an_event_source_events_are_not_supported() {
    let mock = common::mock();
    let mut settings = common::settings();
    settings.only = vec![
        "events.*".into(),
        "lifecycle.get_missing_is_not_found".into(),
    ];
    let report = o2dms_conformance::run(&mock, settings).await;
    report.assert_passed();
    for s in report.scenarios.iter().filter(|s| s.group == "events") {
        assert!(
            matches!(&s.outcome, Outcome::NotSupported { reason } if reason.contains("event source")),
            "{}: {:?}",
            s.id,
            s.outcome
        );
    }
    assert_eq!(
        report
            .scenario("lifecycle.get_missing_is_not_found")
            .unwrap()
            .outcome,
        Outcome::Passed
    );
    assert!(matches!(
        &report.scenario("update.merge_keeps_earlier_values").unwrap().outcome,
        Outcome::Skipped { reason } if reason.contains("--only")
    ));
}
