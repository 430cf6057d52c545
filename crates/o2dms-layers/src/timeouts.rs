//! Per-operation time limits around any adapter.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use o2dms_core::{
    AdapterInfo, Capabilities, CreateDeployment, DeletePackageOptions, Deployment,
    DeploymentFilter, DeploymentId, DmsAdapter, Error, Health, HistoryOptions, LogOptions, Logs,
    Package, PackageFilter, PackageId, PackageUpload, Page, Result, Revision, RollbackRequest,
    ScaleRequest, StatusDetail, UpdateDeployment,
};

use crate::method::Method;

/// Time limits: one per method, else a default.
///
/// The defaults are 30 s for reads and 15 min for writes: above the Helm adapter's own
/// default wait of 10 min, so the adapter's own timeout (which leaves a Failed
/// deployment behind) fires first and this limit only catches a backend that hangs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeoutLimits {
    /// Limit for reads without their own entry.
    pub read: Duration,
    /// Limit for writes without their own entry.
    pub write: Duration,
    /// Per-method limits.
    pub per_method: BTreeMap<Method, Duration>,
}

impl Default for TimeoutLimits {
    fn default() -> Self {
        TimeoutLimits {
            read: Duration::from_secs(30),
            write: Duration::from_secs(15 * 60),
            per_method: BTreeMap::new(),
        }
    }
}

impl TimeoutLimits {
    /// The same limit for every method.
    pub fn uniform(limit: Duration) -> Self {
        TimeoutLimits {
            read: limit,
            write: limit,
            per_method: BTreeMap::new(),
        }
    }

    /// With a limit for one method.
    pub fn with(mut self, method: Method, limit: Duration) -> Self {
        self.per_method.insert(method, limit);
        self
    }

    /// The limit for `method`.
    pub fn limit(&self, method: Method) -> Duration {
        self.per_method
            .get(&method)
            .copied()
            .unwrap_or(if method.is_mutating() {
                self.write
            } else {
                self.read
            })
    }
}

/// Wraps an adapter so that every operation ends within its limit, with
/// [`Error::Timeout`] naming the operation when it does not.
///
/// Cancelling a write cannot undo what the backend already did: the error says so, and a
/// caller reads the deployment to see the state it was left in.
pub struct Timeouts<A> {
    inner: A,
    limits: TimeoutLimits,
}

impl<A: DmsAdapter> Timeouts<A> {
    /// Wraps `inner` with `limits`.
    pub fn new(inner: A, limits: TimeoutLimits) -> Self {
        Timeouts { inner, limits }
    }

    /// The wrapped adapter.
    pub fn inner(&self) -> &A {
        &self.inner
    }

    async fn bound<T>(&self, method: Method, fut: impl Future<Output = Result<T>>) -> Result<T> {
        let limit = self.limits.limit(method);
        match tokio::time::timeout(limit, fut).await {
            Ok(r) => r,
            Err(_) => Err(Error::Timeout {
                operation: method.as_str().to_owned(),
                limit,
                state: if method.is_mutating() {
                    "the backend may have applied part of it; read the deployment to see its state"
                        .to_owned()
                } else {
                    "nothing was changed".to_owned()
                },
            }),
        }
    }
}

#[async_trait]
impl<A: DmsAdapter> DmsAdapter for Timeouts<A> {
    fn info(&self) -> AdapterInfo {
        self.inner.info()
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    async fn health(&self) -> Result<Health> {
        self.bound(Method::Health, self.inner.health()).await
    }

    async fn list_packages(&self, filter: &PackageFilter) -> Result<Page<Package>> {
        self.bound(Method::ListPackages, self.inner.list_packages(filter))
            .await
    }

    async fn get_package(&self, id: &PackageId) -> Result<Package> {
        self.bound(Method::GetPackage, self.inner.get_package(id))
            .await
    }

    async fn upload_package(&self, upload: PackageUpload) -> Result<Package> {
        self.bound(Method::UploadPackage, self.inner.upload_package(upload))
            .await
    }

    async fn delete_package(&self, id: &PackageId, options: DeletePackageOptions) -> Result<()> {
        self.bound(
            Method::DeletePackage,
            self.inner.delete_package(id, options),
        )
        .await
    }

    async fn list_deployments(&self, filter: &DeploymentFilter) -> Result<Page<Deployment>> {
        self.bound(Method::ListDeployments, self.inner.list_deployments(filter))
            .await
    }

    async fn get_deployment(&self, id: &DeploymentId) -> Result<Deployment> {
        self.bound(Method::GetDeployment, self.inner.get_deployment(id))
            .await
    }

    async fn create_deployment(&self, request: CreateDeployment) -> Result<Deployment> {
        self.bound(
            Method::CreateDeployment,
            self.inner.create_deployment(request),
        )
        .await
    }

    async fn update_deployment(
        &self,
        id: &DeploymentId,
        request: UpdateDeployment,
    ) -> Result<Deployment> {
        self.bound(
            Method::UpdateDeployment,
            self.inner.update_deployment(id, request),
        )
        .await
    }

    async fn delete_deployment(&self, id: &DeploymentId) -> Result<()> {
        self.bound(Method::DeleteDeployment, self.inner.delete_deployment(id))
            .await
    }

    async fn scale_deployment(
        &self,
        id: &DeploymentId,
        request: ScaleRequest,
    ) -> Result<Deployment> {
        self.bound(
            Method::ScaleDeployment,
            self.inner.scale_deployment(id, request),
        )
        .await
    }

    async fn rollback_deployment(
        &self,
        id: &DeploymentId,
        request: RollbackRequest,
    ) -> Result<Deployment> {
        self.bound(
            Method::RollbackDeployment,
            self.inner.rollback_deployment(id, request),
        )
        .await
    }

    async fn deployment_status(&self, id: &DeploymentId) -> Result<StatusDetail> {
        self.bound(Method::DeploymentStatus, self.inner.deployment_status(id))
            .await
    }

    async fn deployment_history(
        &self,
        id: &DeploymentId,
        options: HistoryOptions,
    ) -> Result<Vec<Revision>> {
        self.bound(
            Method::DeploymentHistory,
            self.inner.deployment_history(id, options),
        )
        .await
    }

    async fn deployment_logs(&self, id: &DeploymentId, options: &LogOptions) -> Result<Logs> {
        self.bound(
            Method::DeploymentLogs,
            self.inner.deployment_logs(id, options),
        )
        .await
    }
}
