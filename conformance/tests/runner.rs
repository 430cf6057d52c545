//! The runner: cleanup after failures, panics and timeouts; nothing it did not create
//! is touched; filters.

mod common;

use std::time::Duration;

use o2dms_conformance::{body, Context, Fixture, Outcome, Scenario, ScenarioResult, Suite};
use o2dms_core::{CreateDeployment, DeploymentId, DmsAdapter, PackageId};

async fn create_then_panic(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    cx.deploy(a, "left", Fixture::Web, Default::default())
        .await?;
    panic!("after creating a deployment");
}

async fn create_then_hang(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    cx.deploy(a, "left", Fixture::Web, Default::default())
        .await?;
    tokio::time::sleep(Duration::from_secs(3600)).await;
    Ok(())
}

async fn create_then_fail(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    cx.deploy(a, "left", Fixture::Web, Default::default())
        .await?;
    Err(o2dms_conformance::Failure::mismatch(
        "something",
        "something else",
    ))
}

#[tokio::test]
async fn everything_a_scenario_created_is_deleted_and_nothing_else() {
    let mock = common::mock();
    // Someone else's deployment, there before the run.
    let foreign = DeploymentId::new("someone-else", "keep-me").unwrap();
    mock.create_deployment(CreateDeployment::new(
        foreign.clone(),
        PackageId::new("web@0.1.0").unwrap(),
    ))
    .await
    .unwrap();

    let mut settings = common::settings();
    settings.scenario_timeout = Duration::from_millis(300);
    let report = Suite::empty(settings)
        .scenario(Scenario::new(
            "custom.panics",
            "panics",
            body!(create_then_panic),
        ))
        .scenario(Scenario::new(
            "custom.hangs",
            "hangs",
            body!(create_then_hang),
        ))
        .scenario(Scenario::new(
            "custom.fails",
            "fails",
            body!(create_then_fail),
        ))
        .run(&mock)
        .await;

    for id in ["custom.panics", "custom.hangs", "custom.fails"] {
        assert!(
            matches!(report.scenario(id).unwrap().outcome, Outcome::Failed { .. }),
            "{id}"
        );
    }
    assert!(report
        .scenario("custom.hangs")
        .unwrap()
        .message
        .contains("within"));
    assert!(report
        .scenario("custom.panics")
        .unwrap()
        .message
        .contains("after creating"));
    // Only the foreign deployment is left; the fixture packages are still the mock's own.
    assert_eq!(mock.deployment_count(), 1);
    mock.get_deployment(&foreign).await.unwrap();
}

#[tokio::test]
async fn the_full_catalogue_leaves_nothing_behind() {
    let mock = common::mock();
    let foreign = DeploymentId::new("someone-else", "keep-me").unwrap();
    mock.create_deployment(CreateDeployment::new(
        foreign.clone(),
        PackageId::new("web@0.1.0").unwrap(),
    ))
    .await
    .unwrap();
    let before = mock
        .list_packages(&Default::default())
        .await
        .unwrap()
        .items
        .len();
    let report = o2dms_conformance::run(&mock, common::settings()).await;
    report.assert_passed();
    assert_eq!(
        mock.deployment_count(),
        1,
        "only the foreign deployment is left"
    );
    mock.get_deployment(&foreign).await.unwrap();
    let after = mock
        .list_packages(&Default::default())
        .await
        .unwrap()
        .items
        .len();
    assert_eq!(before, after, "uploaded packages are deleted again");
}

#[tokio::test]
async fn only_and_skip_globs_select_scenarios() {
    let mock = common::mock();
    let mut settings = common::settings();
    settings.only = vec!["rollback.*".into()];
    settings.skip = vec!["rollback.missing_*".into()];
    let report = o2dms_conformance::run(&mock, settings).await;
    report.assert_passed();
    assert_eq!(report.scenarios.len(), o2dms_conformance::catalogue().len());
    for s in &report.scenarios {
        let want = if s.id.starts_with("rollback.missing_") {
            "skipped"
        } else if s.id.starts_with("rollback.") {
            "passed"
        } else {
            "skipped"
        };
        assert_eq!(s.outcome.as_str(), want, "{}", s.id);
    }
}

/// Records the prefixes it was asked to clean.
#[derive(Default)]
struct RecordingCleanup(std::sync::Mutex<Vec<String>>);

impl o2dms_conformance::NamespaceCleanup for RecordingCleanup {
    fn remove_namespaces<'a>(
        &'a self,
        prefix: &'a str,
    ) -> futures::future::BoxFuture<'a, Result<Vec<String>, String>> {
        self.0.lock().unwrap().push(prefix.to_owned());
        Box::pin(async { Ok(Vec::new()) })
    }
}

#[tokio::test]
async fn an_interrupt_stops_the_run_and_still_cleans_up() {
    let mock = common::mock();
    let cleanup = std::sync::Arc::new(RecordingCleanup::default());
    let mut settings = common::settings();
    settings.concurrency = 1;
    settings.namespace_prefix = Some("o2c-stop-".into());
    let started = std::time::Instant::now();
    let report = Suite::empty(settings)
        .scenario(Scenario::new(
            "custom.hangs",
            "creates, then hangs",
            body!(create_then_hang),
        ))
        .scenario(Scenario::new(
            "custom.later",
            "never starts",
            body!(create_then_fail),
        ))
        .namespace_cleanup(cleanup.clone())
        .interrupt_on(tokio::time::sleep(Duration::from_millis(300)))
        .run(&mock)
        .await;
    // Well before the scenario timeout: the interrupt stopped it.
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    for id in ["custom.hangs", "custom.later"] {
        let s = report.scenario(id).unwrap();
        assert!(
            matches!(&s.outcome, Outcome::Skipped { reason } if reason.starts_with("interrupted")),
            "{id}: {:?}",
            s.outcome
        );
    }
    assert!(
        report.warnings.iter().any(|w| w.contains("interrupted")),
        "{:?}",
        report.warnings
    );
    // The hanging scenario's deployment is gone, and the namespaces were cleaned.
    let left = mock
        .list_deployments(&o2dms_core::DeploymentFilter::in_namespace("o2c-stop-00"))
        .await
        .unwrap();
    assert!(left.items.is_empty(), "{:?}", left.items);
    assert_eq!(*cleanup.0.lock().unwrap(), ["o2c-stop-"]);
}
