//! The adapter trait: one method per operation.

use async_trait::async_trait;

use crate::capabilities::Capabilities;
use crate::deployment::{
    CreateDeployment, Deployment, RollbackRequest, ScaleRequest, UpdateDeployment,
};
use crate::error::{Error, Result};
use crate::history::{HistoryOptions, Revision};
use crate::ids::{DeploymentId, PackageId};
use crate::info::{AdapterInfo, Health};
use crate::logs::{LogOptions, Logs};
use crate::operation::Operation;
use crate::package::{DeletePackageOptions, Package, PackageFilter, PackageUpload};
use crate::page::{DeploymentFilter, Page};
use crate::status::StatusDetail;

/// A DMS backend. Every operation returns the typed [`Error`]; a missing thing is always
/// [`Error::NotFound`].
///
/// Implementations are `Send + Sync` and safe to call concurrently. Cross-cutting
/// concerns (events, timeouts) are wrappers implementing this same trait; see
/// [`Wrapper`](crate::Wrapper) for one that forwards every method without writing them out.
///
/// An adapter must implement [`info`](Self::info), [`capabilities`](Self::capabilities),
/// [`health`](Self::health) and the deployment lifecycle (list, get, create, update,
/// delete). Every other method has a default body that returns
/// [`Error::Unsupported`] naming the operation: implement the ones whose capability
/// [`capabilities`](Self::capabilities) declares. The capabilities stay the source of
/// truth: the conformance suite runs what they declare and checks that what they do not
/// declare is refused.
///
/// ```
/// use o2dms_core::{async_trait, *};
///
/// /// A backend that can only create and read deployments.
/// struct Minimal;
///
/// #[async_trait]
/// impl DmsAdapter for Minimal {
///     fn info(&self) -> AdapterInfo {
///         AdapterInfo::new("minimal", "0.1.0", "none")
///     }
///     fn capabilities(&self) -> Capabilities {
///         let mut caps = Capabilities::none();
///         caps.deployment_lifecycle = true;
///         caps
///     }
///     async fn health(&self) -> Result<Health> {
///         Ok(Health::healthy("nothing to check"))
///     }
///     async fn list_deployments(&self, _: &DeploymentFilter) -> Result<Page<Deployment>> {
///         Ok(Page::empty())
///     }
///     async fn get_deployment(&self, id: &DeploymentId) -> Result<Deployment> {
///         Err(Error::not_found(Resource::Deployment, id))
///     }
///     async fn create_deployment(&self, r: CreateDeployment) -> Result<Deployment> {
///         Err(Error::unavailable("backend down"))
///     }
///     async fn update_deployment(&self, id: &DeploymentId, _: UpdateDeployment) -> Result<Deployment> {
///         Err(Error::not_found(Resource::Deployment, id))
///     }
///     async fn delete_deployment(&self, id: &DeploymentId) -> Result<()> {
///         Err(Error::not_found(Resource::Deployment, id))
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let id = DeploymentId::new("ran", "du-1").unwrap();
/// let e = Minimal.scale_deployment(&id, ScaleRequest::to(2)).await.unwrap_err();
/// assert!(matches!(e, Error::Unsupported { ref operation, .. } if operation == "scale_deployment"));
/// # }
/// ```
#[async_trait]
pub trait DmsAdapter: Send + Sync {
    /// Who this adapter is.
    fn info(&self) -> AdapterInfo;

    /// What it can do.
    fn capabilities(&self) -> Capabilities;

    /// Whether the backend is reachable and working.
    async fn health(&self) -> Result<Health>;

    /// Lists packages in a stable order (name, then version).
    async fn list_packages(&self, filter: &PackageFilter) -> Result<Page<Package>> {
        let _ = filter;
        Err(not_implemented(
            Operation::ListPackages,
            "package_management",
        ))
    }

    /// Reads one package.
    async fn get_package(&self, id: &PackageId) -> Result<Package> {
        let _ = id;
        Err(not_implemented(Operation::GetPackage, "package_management"))
    }

    /// Validates an untrusted archive and stores it; returns the package, whose id create accepts.
    async fn upload_package(&self, upload: PackageUpload) -> Result<Package> {
        let _ = upload;
        Err(not_implemented(Operation::UploadPackage, "package_upload"))
    }

    /// Deletes a package; Conflict while a deployment uses it unless forced.
    async fn delete_package(&self, id: &PackageId, options: DeletePackageOptions) -> Result<()> {
        let _ = (id, options);
        Err(not_implemented(
            Operation::DeletePackage,
            "package_management",
        ))
    }

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
    ) -> Result<Deployment> {
        let _ = (id, request);
        Err(not_implemented(Operation::ScaleDeployment, "scaling"))
    }

    /// Makes a new revision with the package and values of an earlier one.
    async fn rollback_deployment(
        &self,
        id: &DeploymentId,
        request: RollbackRequest,
    ) -> Result<Deployment> {
        let _ = (id, request);
        Err(not_implemented(Operation::RollbackDeployment, "rollback"))
    }

    /// Status with detail from the live workloads.
    async fn deployment_status(&self, id: &DeploymentId) -> Result<StatusDetail> {
        let _ = id;
        Err(not_implemented(
            Operation::DeploymentStatus,
            "status_detail",
        ))
    }

    /// Revisions, ascending.
    async fn deployment_history(
        &self,
        id: &DeploymentId,
        options: HistoryOptions,
    ) -> Result<Vec<Revision>> {
        let _ = (id, options);
        Err(not_implemented(Operation::DeploymentHistory, "history"))
    }

    /// Log lines of the deployment's workloads.
    async fn deployment_logs(&self, id: &DeploymentId, options: &LogOptions) -> Result<Logs> {
        let _ = (id, options);
        Err(not_implemented(Operation::DeploymentLogs, "logs"))
    }
}

/// The error of a trait method the adapter does not implement.
fn not_implemented(operation: Operation, capability: &str) -> Error {
    Error::unsupported(
        operation.as_str(),
        format!("this adapter does not implement it (capability `{capability}`)"),
    )
}
