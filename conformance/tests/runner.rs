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

/// An adapter that serves only the namespaces a run planned (as the Helm adapter with
/// `namespaces` set does): every call naming another namespace is InvalidArgument naming
/// `namespace`, and lists over all namespaces cover only the planned ones.
mod allow_list {
    use std::collections::BTreeSet;

    use async_trait::async_trait;
    use o2dms_core::{
        CreateDeployment, Deployment, DeploymentFilter, DeploymentId, DmsAdapter, Error,
        HistoryOptions, LogOptions, Logs, Page, Result, Revision, RollbackRequest, ScaleRequest,
        StatusDetail, UpdateDeployment,
    };
    use o2dms_mock::MockAdapter;

    use super::common::broken::Bug;

    pub struct AllowList(pub BTreeSet<String>);

    impl AllowList {
        fn check(&self, namespace: &str) -> Result<()> {
            if self.0.contains(namespace) {
                Ok(())
            } else {
                Err(Error::invalid(
                    "namespace",
                    format!("namespace {namespace} is not planned"),
                ))
            }
        }

        fn id(&self, id: &DeploymentId) -> Result<()> {
            id.validate()?;
            self.check(&id.namespace)
        }
    }

    #[async_trait]
    impl Bug for AllowList {
        async fn list_deployments(
            &self,
            m: &MockAdapter,
            f: &DeploymentFilter,
        ) -> Result<Page<Deployment>> {
            f.validate()?;
            if let Some(ns) = &f.namespace {
                self.check(ns)?;
            }
            let mut page = m.list_deployments(f).await?;
            // everything the run made is in planned namespaces: nothing to drop
            assert!(page.items.iter().all(|d| self.0.contains(&d.id.namespace)));
            page.items.retain(|d| self.0.contains(&d.id.namespace));
            Ok(page)
        }
        async fn get_deployment(&self, m: &MockAdapter, id: &DeploymentId) -> Result<Deployment> {
            self.id(id)?;
            m.get_deployment(id).await
        }
        async fn create_deployment(
            &self,
            m: &MockAdapter,
            r: CreateDeployment,
        ) -> Result<Deployment> {
            r.validate()?;
            self.check(&r.id.namespace)?;
            m.create_deployment(r).await
        }
        async fn update_deployment(
            &self,
            m: &MockAdapter,
            id: &DeploymentId,
            r: UpdateDeployment,
        ) -> Result<Deployment> {
            self.id(id)?;
            m.update_deployment(id, r).await
        }
        async fn delete_deployment(&self, m: &MockAdapter, id: &DeploymentId) -> Result<()> {
            self.id(id)?;
            m.delete_deployment(id).await
        }
        async fn scale_deployment(
            &self,
            m: &MockAdapter,
            id: &DeploymentId,
            r: ScaleRequest,
        ) -> Result<Deployment> {
            self.id(id)?;
            m.scale_deployment(id, r).await
        }
        async fn rollback_deployment(
            &self,
            m: &MockAdapter,
            id: &DeploymentId,
            r: RollbackRequest,
        ) -> Result<Deployment> {
            self.id(id)?;
            m.rollback_deployment(id, r).await
        }
        async fn deployment_status(
            &self,
            m: &MockAdapter,
            id: &DeploymentId,
        ) -> Result<StatusDetail> {
            self.id(id)?;
            m.deployment_status(id).await
        }
        async fn deployment_history(
            &self,
            m: &MockAdapter,
            id: &DeploymentId,
            o: HistoryOptions,
        ) -> Result<Vec<Revision>> {
            self.id(id)?;
            m.deployment_history(id, o).await
        }
        async fn deployment_logs(
            &self,
            m: &MockAdapter,
            id: &DeploymentId,
            o: &LogOptions,
        ) -> Result<Logs> {
            self.id(id)?;
            m.deployment_logs(id, o).await
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_catalogue_uses_only_the_planned_namespaces() {
    use std::sync::Arc;

    let mut settings = common::settings();
    settings.namespace_prefix = Some("o2lp-".into());
    let suite = Suite::new(settings);
    let planned = o2dms_conformance::planned_namespaces("o2lp-", suite.scenarios());
    let per_scenario = 2 + o2dms_conformance::MAX_OTHER_NAMESPACES as usize;
    assert_eq!(planned.len(), suite.scenarios().len() * per_scenario);
    let unique: std::collections::BTreeSet<String> = planned.iter().cloned().collect();
    assert_eq!(unique.len(), planned.len(), "no namespace planned twice");
    for ns in &planned {
        o2dms_core::validate::namespace("namespace", ns).unwrap();
    }
    let adapter = Arc::new(o2dms_layers::Events::new(common::broken::Broken::new(
        allow_list::AllowList(unique),
    )));
    let report = suite.events(adapter.clone()).run(&*adapter).await;
    report.assert_passed();
    for s in &report.scenarios {
        assert_eq!(s.outcome, Outcome::Passed, "{}: {}", s.id, s.message);
    }
}

#[test]
fn other_namespaces_beyond_the_maximum_are_a_failure() {
    use std::sync::Arc;
    let cx = Context::new(
        "x.y",
        "o2lp-07".into(),
        Arc::new(common::settings()),
        Arc::default(),
        None,
    );
    assert_eq!(cx.other_namespace(1).unwrap(), "o2lp-07-1");
    let max = o2dms_conformance::MAX_OTHER_NAMESPACES;
    assert!(cx.other_namespace(max + 1).is_err());
    assert!(cx.other_namespace(0).is_err());
    let longest = cx.longest_namespace();
    assert_eq!(longest.len(), o2dms_core::validate::MAX_NAMESPACE_LEN);
    assert!(longest.starts_with("o2lp-07-n"));
}
