//! The adapter trait: one method per operation.

use async_trait::async_trait;

use crate::capabilities::Capabilities;
use crate::deployment::{
    CreateDeployment, Deployment, RollbackRequest, ScaleRequest, UpdateDeployment,
};
use crate::error::Result;
use crate::history::{HistoryOptions, Revision};
use crate::ids::{DeploymentId, PackageId};
use crate::info::{AdapterInfo, Health};
use crate::logs::{LogOptions, Logs};
use crate::package::{DeletePackageOptions, Package, PackageFilter, PackageUpload};
use crate::page::{DeploymentFilter, Page};
use crate::status::StatusDetail;

/// A DMS backend. Every operation returns the typed [`Error`](crate::Error); a missing
/// thing is always [`Error::NotFound`](crate::Error::NotFound).
///
/// Implementations are `Send + Sync` and safe to call concurrently. Cross-cutting
/// concerns (events, timeouts) are wrappers implementing this same trait.
#[async_trait]
pub trait DmsAdapter: Send + Sync {
    /// Who this adapter is.
    fn info(&self) -> AdapterInfo;

    /// What it can do.
    fn capabilities(&self) -> Capabilities;

    /// Whether the backend is reachable and working.
    async fn health(&self) -> Result<Health>;

    /// Lists packages in a stable order (name, then version).
    async fn list_packages(&self, filter: &PackageFilter) -> Result<Page<Package>>;

    /// Reads one package.
    async fn get_package(&self, id: &PackageId) -> Result<Package>;

    /// Validates an untrusted archive and stores it; returns the package, whose id create accepts.
    async fn upload_package(&self, upload: PackageUpload) -> Result<Package>;

    /// Deletes a package; Conflict while a deployment uses it unless forced.
    async fn delete_package(&self, id: &PackageId, options: DeletePackageOptions) -> Result<()>;

    /// Lists deployments in a stable order (namespace, then name), pending and failed included.
    async fn list_deployments(&self, filter: &DeploymentFilter) -> Result<Page<Deployment>>;

    /// Reads one deployment.
    async fn get_deployment(&self, id: &DeploymentId) -> Result<Deployment>;

    /// Installs a package and waits until it is ready or the timeout passes
    /// (then Timeout, and the deployment stays, Failed).
    async fn create_deployment(&self, request: CreateDeployment) -> Result<Deployment>;

    /// Changes values and/or package; exactly one new revision.
    async fn update_deployment(
        &self,
        id: &DeploymentId,
        request: UpdateDeployment,
    ) -> Result<Deployment>;

    /// Removes the deployment and everything it created.
    async fn delete_deployment(&self, id: &DeploymentId) -> Result<()>;

    /// Sets the replica count through the values key, keeping every other value, and
    /// verifies it against the live workload.
    async fn scale_deployment(
        &self,
        id: &DeploymentId,
        request: ScaleRequest,
    ) -> Result<Deployment>;

    /// Makes a new revision with the package and values of an earlier one.
    async fn rollback_deployment(
        &self,
        id: &DeploymentId,
        request: RollbackRequest,
    ) -> Result<Deployment>;

    /// Status with detail from the live workloads.
    async fn deployment_status(&self, id: &DeploymentId) -> Result<StatusDetail>;

    /// Revisions, ascending.
    async fn deployment_history(
        &self,
        id: &DeploymentId,
        options: HistoryOptions,
    ) -> Result<Vec<Revision>>;

    /// Log lines of the deployment's workloads.
    async fn deployment_logs(&self, id: &DeploymentId, options: &LogOptions) -> Result<Logs>;
}
