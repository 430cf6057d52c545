//! Operation events around any adapter.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use o2dms_core::{
    AdapterInfo, Capabilities, CreateDeployment, DeletePackageOptions, Deployment,
    DeploymentFilter, DeploymentId, DmsAdapter, EventPhase, Health, HistoryOptions, LogOptions,
    Logs, Operation, OperationEvent, Package, PackageFilter, PackageId, PackageUpload, Page,
    Result, Revision, RollbackRequest, ScaleRequest, StatusDetail, Timestamp, UpdateDeployment,
};
use tokio::sync::broadcast;

/// Events kept for a subscriber that has not read them yet; past that it lags.
pub const DEFAULT_EVENT_CAPACITY: usize = 1024;

/// Wraps an adapter so that every mutating operation emits
/// [`EventPhase::Started`], then [`EventPhase::Succeeded`] or [`EventPhase::Failed`].
///
/// Events go out on a [`broadcast`] channel: sending never waits, and a subscriber that
/// falls more than the capacity behind receives [`broadcast::error::RecvError::Lagged`]
/// and loses the oldest events instead of slowing the adapter down.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use o2dms_core::{CreateDeployment, DeploymentId, DmsAdapter, EventPhase, PackageId};
/// use o2dms_layers::Events;
/// use o2dms_mock::{MockAdapter, PackageSpec};
///
/// let mock = MockAdapter::builder().package(PackageSpec::new("web", "1.0.0")).build();
/// let adapter = Events::new(mock);
/// let mut events = adapter.subscribe();
/// let id = DeploymentId::new("demo", "web")?;
/// adapter.create_deployment(CreateDeployment::new(id, PackageId::new("web@1.0.0")?)).await?;
/// assert_eq!(events.recv().await.unwrap().phase, EventPhase::Started);
/// assert_eq!(events.recv().await.unwrap().phase, EventPhase::Succeeded { revision: Some(1) });
/// # Ok(())
/// # }
/// ```
pub struct Events<A> {
    inner: A,
    sender: broadcast::Sender<OperationEvent>,
    next_id: AtomicU64,
}

impl<A: DmsAdapter> Events<A> {
    /// Wraps `inner` with room for [`DEFAULT_EVENT_CAPACITY`] unread events per subscriber.
    pub fn new(inner: A) -> Self {
        Self::with_capacity(inner, DEFAULT_EVENT_CAPACITY)
    }

    /// Wraps `inner` with room for `capacity` unread events per subscriber (at least 1).
    pub fn with_capacity(inner: A, capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity.max(1));
        Events {
            inner,
            sender,
            next_id: AtomicU64::new(1),
        }
    }

    /// A new subscriber; it sees events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<OperationEvent> {
        self.sender.subscribe()
    }

    /// The wrapped adapter.
    pub fn inner(&self) -> &A {
        &self.inner
    }

    fn emit(&self, operation_id: u64, operation: Operation, target: &str, phase: EventPhase) {
        // No subscriber is not an error: events are best effort, operations never wait.
        let _ = self.sender.send(OperationEvent {
            operation_id,
            operation,
            target: target.to_owned(),
            phase,
            at: Timestamp::now(),
        });
    }

    async fn observe<T>(
        &self,
        operation: Operation,
        target: String,
        revision_of: impl FnOnce(&T) -> Option<u32>,
        fut: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.emit(id, operation, &target, EventPhase::Started);
        let result = fut.await;
        let phase = match &result {
            Ok(v) => EventPhase::Succeeded {
                revision: revision_of(v),
            },
            Err(e) => EventPhase::Failed {
                kind: e.kind(),
                message: e.to_string(),
            },
        };
        self.emit(id, operation, &target, phase);
        result
    }
}

fn deployment_revision(d: &Deployment) -> Option<u32> {
    Some(d.revision)
}

fn no_revision<T>(_: &T) -> Option<u32> {
    None
}

#[async_trait]
impl<A: DmsAdapter> DmsAdapter for Events<A> {
    fn info(&self) -> AdapterInfo {
        self.inner.info()
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    async fn health(&self) -> Result<Health> {
        self.inner.health().await
    }

    async fn list_packages(&self, filter: &PackageFilter) -> Result<Page<Package>> {
        self.inner.list_packages(filter).await
    }

    async fn get_package(&self, id: &PackageId) -> Result<Package> {
        self.inner.get_package(id).await
    }

    async fn upload_package(&self, upload: PackageUpload) -> Result<Package> {
        let target = upload
            .expected_name
            .clone()
            .unwrap_or_else(|| "(upload)".to_owned());
        self.observe(
            Operation::UploadPackage,
            target,
            no_revision,
            self.inner.upload_package(upload),
        )
        .await
    }

    async fn delete_package(&self, id: &PackageId, options: DeletePackageOptions) -> Result<()> {
        self.observe(
            Operation::DeletePackage,
            id.to_string(),
            no_revision,
            self.inner.delete_package(id, options),
        )
        .await
    }

    async fn list_deployments(&self, filter: &DeploymentFilter) -> Result<Page<Deployment>> {
        self.inner.list_deployments(filter).await
    }

    async fn get_deployment(&self, id: &DeploymentId) -> Result<Deployment> {
        self.inner.get_deployment(id).await
    }

    async fn create_deployment(&self, request: CreateDeployment) -> Result<Deployment> {
        let target = request.id.to_string();
        self.observe(
            Operation::CreateDeployment,
            target,
            deployment_revision,
            self.inner.create_deployment(request),
        )
        .await
    }

    async fn update_deployment(
        &self,
        id: &DeploymentId,
        request: UpdateDeployment,
    ) -> Result<Deployment> {
        self.observe(
            Operation::UpdateDeployment,
            id.to_string(),
            deployment_revision,
            self.inner.update_deployment(id, request),
        )
        .await
    }

    async fn delete_deployment(&self, id: &DeploymentId) -> Result<()> {
        self.observe(
            Operation::DeleteDeployment,
            id.to_string(),
            no_revision,
            self.inner.delete_deployment(id),
        )
        .await
    }

    async fn scale_deployment(
        &self,
        id: &DeploymentId,
        request: ScaleRequest,
    ) -> Result<Deployment> {
        self.observe(
            Operation::ScaleDeployment,
            id.to_string(),
            deployment_revision,
            self.inner.scale_deployment(id, request),
        )
        .await
    }

    async fn rollback_deployment(
        &self,
        id: &DeploymentId,
        request: RollbackRequest,
    ) -> Result<Deployment> {
        self.observe(
            Operation::RollbackDeployment,
            id.to_string(),
            deployment_revision,
            self.inner.rollback_deployment(id, request),
        )
        .await
    }

    async fn deployment_status(&self, id: &DeploymentId) -> Result<StatusDetail> {
        self.inner.deployment_status(id).await
    }

    async fn deployment_history(
        &self,
        id: &DeploymentId,
        options: HistoryOptions,
    ) -> Result<Vec<Revision>> {
        self.inner.deployment_history(id, options).await
    }

    async fn deployment_logs(&self, id: &DeploymentId, options: &LogOptions) -> Result<Logs> {
        self.inner.deployment_logs(id, options).await
    }
}
