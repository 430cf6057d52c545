//! Proof that the suite catches bugs: deliberately broken adapters wrapping the mock
//! must each fail the named scenarios, which the plain mock passes.

mod common;

use std::sync::Mutex;

use async_trait::async_trait;
use o2dms_conformance::{Outcome, Report, Suite};
use o2dms_core::{
    AdapterInfo, Capabilities, CreateDeployment, DeletePackageOptions, Deployment,
    DeploymentFilter, DeploymentId, DmsAdapter, Error, Health, HistoryOptions, LogOptions, Logs,
    Package, PackageFilter, PackageId, PackageUpload, Page, Result, Revision, RollbackRequest,
    ScaleRequest, StatusDetail, UpdateDeployment, Value, ValuesMode,
};
use o2dms_mock::MockAdapter;

/// The bug a [`Broken`] adapter has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bug {
    /// Rollback answers with the current deployment and makes no new revision.
    RollbackWithoutNewRevision,
    /// Merge updates replace the values: earlier values are dropped.
    UpdateDropsValues,
    /// List ignores the label and status filters.
    ListIgnoresFilters,
    /// NotFound comes back as a Backend error.
    NotFoundAsBackend,
    /// Scale reports success (with the asked replica count) but changes nothing.
    ScaleDoesNothing,
    /// Delete removes the deployment but list keeps showing it.
    DeleteLeavesListed,
}

struct Broken {
    inner: MockAdapter,
    bug: Bug,
    ghosts: Mutex<Vec<Deployment>>,
}

impl Broken {
    fn new(bug: Bug) -> Self {
        Broken {
            inner: common::mock(),
            bug,
            ghosts: Mutex::new(Vec::new()),
        }
    }

    fn map<T>(&self, r: Result<T>) -> Result<T> {
        match r {
            Err(Error::NotFound { resource, id }) if self.bug == Bug::NotFoundAsBackend => Err(
                Error::backend(format!("internal error: {resource} {id} missing")),
            ),
            other => other,
        }
    }
}

#[async_trait]
impl DmsAdapter for Broken {
    fn info(&self) -> AdapterInfo {
        AdapterInfo {
            name: format!("broken-{:?}", self.bug),
            ..self.inner.info()
        }
    }
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    async fn health(&self) -> Result<Health> {
        self.inner.health().await
    }
    async fn list_packages(&self, filter: &PackageFilter) -> Result<Page<Package>> {
        self.map(self.inner.list_packages(filter).await)
    }
    async fn get_package(&self, id: &PackageId) -> Result<Package> {
        self.map(self.inner.get_package(id).await)
    }
    async fn upload_package(&self, upload: PackageUpload) -> Result<Package> {
        self.map(self.inner.upload_package(upload).await)
    }
    async fn delete_package(&self, id: &PackageId, options: DeletePackageOptions) -> Result<()> {
        self.map(self.inner.delete_package(id, options).await)
    }
    async fn list_deployments(&self, filter: &DeploymentFilter) -> Result<Page<Deployment>> {
        let mut filter = filter.clone();
        if self.bug == Bug::ListIgnoresFilters {
            filter.labels.clear();
            filter.statuses.clear();
        }
        let mut page = self.map(self.inner.list_deployments(&filter).await)?;
        if self.bug == Bug::DeleteLeavesListed && page.continue_token.is_none() {
            for g in self.ghosts.lock().unwrap().iter() {
                if filter
                    .namespace
                    .as_deref()
                    .is_none_or(|ns| ns == g.id.namespace)
                {
                    page.items.push(g.clone());
                }
            }
        }
        Ok(page)
    }
    async fn get_deployment(&self, id: &DeploymentId) -> Result<Deployment> {
        self.map(self.inner.get_deployment(id).await)
    }
    async fn create_deployment(&self, request: CreateDeployment) -> Result<Deployment> {
        self.map(self.inner.create_deployment(request).await)
    }
    async fn update_deployment(
        &self,
        id: &DeploymentId,
        mut request: UpdateDeployment,
    ) -> Result<Deployment> {
        if self.bug == Bug::UpdateDropsValues {
            request.mode = ValuesMode::Replace;
        }
        self.map(self.inner.update_deployment(id, request).await)
    }
    async fn delete_deployment(&self, id: &DeploymentId) -> Result<()> {
        let before = self.inner.get_deployment(id).await;
        self.map(self.inner.delete_deployment(id).await)?;
        if let (Bug::DeleteLeavesListed, Ok(d)) = (self.bug, before) {
            self.ghosts.lock().unwrap().push(d);
        }
        Ok(())
    }
    async fn scale_deployment(
        &self,
        id: &DeploymentId,
        request: ScaleRequest,
    ) -> Result<Deployment> {
        if self.bug == Bug::ScaleDoesNothing {
            request.validate()?;
            let mut d = self.map(self.inner.get_deployment(id).await)?;
            let key = request.key.as_deref().unwrap_or("replicaCount");
            d.values.set_path(key, Value::from(request.replicas));
            return Ok(d);
        }
        self.map(self.inner.scale_deployment(id, request).await)
    }
    async fn rollback_deployment(
        &self,
        id: &DeploymentId,
        request: RollbackRequest,
    ) -> Result<Deployment> {
        if self.bug == Bug::RollbackWithoutNewRevision {
            request.validate()?;
            return self.map(self.inner.get_deployment(id).await);
        }
        self.map(self.inner.rollback_deployment(id, request).await)
    }
    async fn deployment_status(&self, id: &DeploymentId) -> Result<StatusDetail> {
        self.map(self.inner.deployment_status(id).await)
    }
    async fn deployment_history(
        &self,
        id: &DeploymentId,
        options: HistoryOptions,
    ) -> Result<Vec<Revision>> {
        self.map(self.inner.deployment_history(id, options).await)
    }
    async fn deployment_logs(&self, id: &DeploymentId, options: &LogOptions) -> Result<Logs> {
        self.map(self.inner.deployment_logs(id, options).await)
    }
}

async fn run(adapter: &dyn DmsAdapter) -> Report {
    Suite::new(common::settings()).run(adapter).await
}

/// The broken adapter fails each of `ids`, and the plain mock passes each of them.
async fn assert_caught(bug: Bug, ids: &[&str]) {
    let plain = run(&common::mock()).await;
    let broken = run(&Broken::new(bug)).await;
    for id in ids {
        let p = plain
            .scenario(id)
            .unwrap_or_else(|| panic!("no scenario {id}"));
        assert_eq!(
            p.outcome,
            Outcome::Passed,
            "the plain mock must pass {id}: {}",
            p.message
        );
        let b = broken.scenario(id).unwrap();
        assert!(
            matches!(b.outcome, Outcome::Failed { .. }),
            "{bug:?} must fail {id}, but it was {}",
            b.outcome.as_str()
        );
        eprintln!("{bug:?} fails {id}: {}", b.message);
    }
}

#[tokio::test]
async fn rollback_without_a_new_revision_is_caught() {
    assert_caught(
        Bug::RollbackWithoutNewRevision,
        &[
            "rollback.creates_new_revision",
            "rollback.restores_package",
            "rollback.default_is_previous",
            "rollback.to_current_makes_new_revision",
            "history.records_rollback",
        ],
    )
    .await;
}

#[tokio::test]
async fn update_that_drops_values_is_caught() {
    assert_caught(
        Bug::UpdateDropsValues,
        &[
            "update.merge_keeps_earlier_values",
            "update.null_removes_a_key",
            "update.package_version_change",
            "concurrency.two_writers_no_lost_update",
        ],
    )
    .await;
}

#[tokio::test]
async fn list_that_ignores_filters_is_caught() {
    assert_caught(
        Bug::ListIgnoresFilters,
        &["list.label_filter", "list.status_filter"],
    )
    .await;
}

#[tokio::test]
async fn not_found_reported_as_another_kind_is_caught() {
    assert_caught(
        Bug::NotFoundAsBackend,
        &[
            "lifecycle.get_missing_is_not_found",
            "lifecycle.update_missing_is_not_found",
            "lifecycle.delete_missing_is_not_found",
            "rollback.missing_revision_is_not_found",
            "rollback.missing_deployment_is_not_found",
            "scale.missing_is_not_found",
            "status.missing_is_not_found",
            "history.missing_is_not_found",
            "logs.missing_deployment_is_not_found",
        ],
    )
    .await;
}

#[tokio::test]
async fn scale_that_changes_nothing_is_caught() {
    assert_caught(
        Bug::ScaleDoesNothing,
        &[
            "scale.replicas_reach_workload",
            "scale.keeps_other_values",
            "scale.to_zero",
            "scale.custom_key_per_deployment",
        ],
    )
    .await;
}

#[tokio::test]
async fn delete_that_leaves_the_deployment_listed_is_caught() {
    assert_caught(Bug::DeleteLeavesListed, &["lifecycle.delete_removes"]).await;
}
