//! With no fixtures directory anywhere (`Settings::fixtures_dir` `None`, `O2DMS_FIXTURES`
//! unset) the suite runs from the charts embedded in the library, and the scenarios that
//! install each fixture pass. One test in its own binary: it changes the environment.

use std::sync::Arc;

use o2dms_conformance::{FixtureSource, Outcome, Suite, FIXTURES_ENV};
use o2dms_layers::Events;

/// A scenario installing each fixture (and the one listing them).
const FIXTURE_SCENARIOS: [&str; 7] = [
    "lifecycle.create_then_get",              // web
    "update.package_version_change",          // web-v2
    "scale.custom_key_per_deployment",        // custom-key
    "scale.ignored_key_is_an_error",          // ignores-scale
    "status.never_ready_fails_after_timeout", // never-ready
    "lifecycle.chart_with_hook_installs",     // hook
    "packages.fixtures_listed_and_get",       // web and web-v2, listed
];

#[test]
fn the_suite_runs_from_the_embedded_charts() {
    // Before any other thread exists (the runtime is built below).
    std::env::remove_var(FIXTURES_ENV);

    let settings = o2dms_conformance::Settings {
        progress: false,
        ..o2dms_conformance::mock::mock_settings()
    };
    assert_eq!(settings.fixtures_dir, None);
    assert_eq!(settings.fixture_source(), FixtureSource::Embedded);

    let mock = o2dms_conformance::mock::fixture_mock(settings.fixture_source()).unwrap();
    let adapter = Arc::new(Events::new(mock));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let report = runtime.block_on(Suite::new(settings).events(adapter.clone()).run(&*adapter));
    eprintln!("{}", report.summary());
    report.assert_passed();
    for id in FIXTURE_SCENARIOS {
        let s = report
            .scenario(id)
            .unwrap_or_else(|| panic!("no scenario {id} in the report"));
        assert_eq!(s.outcome, Outcome::Passed, "{id}: {}", s.message);
    }

    // The environment variable still overrides the embedded charts.
    let missing = std::env::temp_dir().join("o2dms-no-such-fixtures-dir");
    std::env::set_var(FIXTURES_ENV, &missing);
    let settings = o2dms_conformance::Settings::default();
    assert_eq!(
        settings.fixture_source(),
        FixtureSource::Dir(missing.clone())
    );
    let err = o2dms_conformance::mock::fixture_mock(settings.fixture_source()).unwrap_err();
    assert!(err.contains(&missing.display().to_string()), "{err}");
}
