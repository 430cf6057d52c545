//! Deliberately broken adapters: the mock with one bug. A bug overrides only the
//! methods it breaks; every other call goes to the mock unchanged.
//!
//! ```ignore
//! struct ScaleDoesNothing;
//! #[async_trait]
//! impl Bug for ScaleDoesNothing {
//!     async fn scale_deployment(&self, m: &MockAdapter, id: &DeploymentId, r: ScaleRequest) -> Result<Deployment> {
//!         m.get_deployment(id).await
//!     }
//! }
//! assert_caught(ScaleDoesNothing, &["scale.replicas_reach_workload"]).await;
//! ```

#![allow(dead_code)]

use std::sync::Arc;

use async_trait::async_trait;
use o2dms_conformance::{Outcome, Report, Suite};
use o2dms_core::{
    AdapterInfo, Capabilities, CreateDeployment, DeletePackageOptions, Deployment,
    DeploymentFilter, DeploymentId, DmsAdapter, Health, HistoryOptions, LogOptions, Logs, Package,
    PackageFilter, PackageId, PackageUpload, Page, Result, Revision, RollbackRequest, ScaleRequest,
    StatusDetail, UpdateDeployment,
};
use o2dms_mock::MockAdapter;

/// One bug: override the methods it breaks; the defaults call the mock.
#[async_trait]
pub trait Bug: Send + Sync + 'static {
    /// The capabilities the broken adapter declares.
    fn capabilities(&self, mock: &MockAdapter) -> Capabilities {
        mock.capabilities()
    }
    /// Info.
    fn info(&self, mock: &MockAdapter) -> AdapterInfo {
        mock.info()
    }
    /// Health.
    async fn health(&self, m: &MockAdapter) -> Result<Health> {
        m.health().await
    }
    /// List packages.
    async fn list_packages(&self, m: &MockAdapter, f: &PackageFilter) -> Result<Page<Package>> {
        m.list_packages(f).await
    }
    /// Get a package.
    async fn get_package(&self, m: &MockAdapter, id: &PackageId) -> Result<Package> {
        m.get_package(id).await
    }
    /// Upload a package.
    async fn upload_package(&self, m: &MockAdapter, u: PackageUpload) -> Result<Package> {
        m.upload_package(u).await
    }
    /// Delete a package.
    async fn delete_package(
        &self,
        m: &MockAdapter,
        id: &PackageId,
        o: DeletePackageOptions,
    ) -> Result<()> {
        m.delete_package(id, o).await
    }
    /// List deployments.
    async fn list_deployments(
        &self,
        m: &MockAdapter,
        f: &DeploymentFilter,
    ) -> Result<Page<Deployment>> {
        m.list_deployments(f).await
    }
    /// Get a deployment.
    async fn get_deployment(&self, m: &MockAdapter, id: &DeploymentId) -> Result<Deployment> {
        m.get_deployment(id).await
    }
    /// Create.
    async fn create_deployment(&self, m: &MockAdapter, r: CreateDeployment) -> Result<Deployment> {
        m.create_deployment(r).await
    }
    /// Update.
    async fn update_deployment(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        r: UpdateDeployment,
    ) -> Result<Deployment> {
        m.update_deployment(id, r).await
    }
    /// Delete.
    async fn delete_deployment(&self, m: &MockAdapter, id: &DeploymentId) -> Result<()> {
        m.delete_deployment(id).await
    }
    /// Scale.
    async fn scale_deployment(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        r: ScaleRequest,
    ) -> Result<Deployment> {
        m.scale_deployment(id, r).await
    }
    /// Rollback.
    async fn rollback_deployment(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        r: RollbackRequest,
    ) -> Result<Deployment> {
        m.rollback_deployment(id, r).await
    }
    /// Status.
    async fn deployment_status(&self, m: &MockAdapter, id: &DeploymentId) -> Result<StatusDetail> {
        m.deployment_status(id).await
    }
    /// History.
    async fn deployment_history(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        o: HistoryOptions,
    ) -> Result<Vec<Revision>> {
        m.deployment_history(id, o).await
    }
    /// Logs.
    async fn deployment_logs(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        o: &LogOptions,
    ) -> Result<Logs> {
        m.deployment_logs(id, o).await
    }
}

/// The fixture mock with bug `B`.
pub struct Broken<B> {
    /// The mock behind it.
    pub mock: MockAdapter,
    /// The bug.
    pub bug: B,
}

impl<B: Bug> Broken<B> {
    /// The fixture mock (as [`super::mock`]) with `bug`.
    pub fn new(bug: B) -> Self {
        Broken {
            mock: super::mock(),
            bug,
        }
    }
}

#[async_trait]
impl<B: Bug> DmsAdapter for Broken<B> {
    fn info(&self) -> AdapterInfo {
        self.bug.info(&self.mock)
    }
    fn capabilities(&self) -> Capabilities {
        self.bug.capabilities(&self.mock)
    }
    async fn health(&self) -> Result<Health> {
        self.bug.health(&self.mock).await
    }
    async fn list_packages(&self, f: &PackageFilter) -> Result<Page<Package>> {
        self.bug.list_packages(&self.mock, f).await
    }
    async fn get_package(&self, id: &PackageId) -> Result<Package> {
        self.bug.get_package(&self.mock, id).await
    }
    async fn upload_package(&self, u: PackageUpload) -> Result<Package> {
        self.bug.upload_package(&self.mock, u).await
    }
    async fn delete_package(&self, id: &PackageId, o: DeletePackageOptions) -> Result<()> {
        self.bug.delete_package(&self.mock, id, o).await
    }
    async fn list_deployments(&self, f: &DeploymentFilter) -> Result<Page<Deployment>> {
        self.bug.list_deployments(&self.mock, f).await
    }
    async fn get_deployment(&self, id: &DeploymentId) -> Result<Deployment> {
        self.bug.get_deployment(&self.mock, id).await
    }
    async fn create_deployment(&self, r: CreateDeployment) -> Result<Deployment> {
        self.bug.create_deployment(&self.mock, r).await
    }
    async fn update_deployment(
        &self,
        id: &DeploymentId,
        r: UpdateDeployment,
    ) -> Result<Deployment> {
        self.bug.update_deployment(&self.mock, id, r).await
    }
    async fn delete_deployment(&self, id: &DeploymentId) -> Result<()> {
        self.bug.delete_deployment(&self.mock, id).await
    }
    async fn scale_deployment(&self, id: &DeploymentId, r: ScaleRequest) -> Result<Deployment> {
        self.bug.scale_deployment(&self.mock, id, r).await
    }
    async fn rollback_deployment(
        &self,
        id: &DeploymentId,
        r: RollbackRequest,
    ) -> Result<Deployment> {
        self.bug.rollback_deployment(&self.mock, id, r).await
    }
    async fn deployment_status(&self, id: &DeploymentId) -> Result<StatusDetail> {
        self.bug.deployment_status(&self.mock, id).await
    }
    async fn deployment_history(
        &self,
        id: &DeploymentId,
        o: HistoryOptions,
    ) -> Result<Vec<Revision>> {
        self.bug.deployment_history(&self.mock, id, o).await
    }
    async fn deployment_logs(&self, id: &DeploymentId, o: &LogOptions) -> Result<Logs> {
        self.bug.deployment_logs(&self.mock, id, o).await
    }
}

/// Runs the catalogue against `adapter` wrapped in operation events (so the `events.*`
/// scenarios run too).
pub async fn run<A: DmsAdapter + 'static>(adapter: A) -> Report {
    let adapter = Arc::new(o2dms_layers::Events::new(adapter));
    Suite::new(super::settings())
        .events(adapter.clone())
        .run(&*adapter)
        .await
}

/// The plain fixture mock passes each of `ids`, and the mock with `bug` fails each of them.
/// Returns the broken run's report for further checks.
pub async fn assert_caught<B: Bug>(bug: B, ids: &[&str]) -> Report {
    let name = std::any::type_name::<B>();
    let plain = run(super::mock()).await;
    let broken = run(Broken::new(bug)).await;
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
            "{name} must fail {id}, but it was {}: {}",
            b.outcome.as_str(),
            b.message
        );
        eprintln!("{name} fails {id}: {}", b.message);
    }
    broken
}
