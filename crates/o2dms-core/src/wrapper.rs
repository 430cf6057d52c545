//! [`Wrapper`]: an adapter around an inner adapter that sees every call, without writing
//! out the trait's methods.
//!
//! A wrapper names its inner adapter and implements one method, [`Wrapper::around`],
//! which gets each call's [`Call`] (the operation and what it acts on) and the inner
//! adapter's future for it. Every type that implements [`Wrapper`] implements
//! [`DmsAdapter`] too: each trait method builds its `Call`, asks the inner adapter for the
//! future and hands both to `around`. Timeouts, operation events, metrics and tracing are
//! all one `around` each.

use std::future::Future;
use std::pin::Pin;

use async_trait::async_trait;

use crate::adapter::DmsAdapter;
use crate::capabilities::Capabilities;
use crate::deployment::{
    CreateDeployment, Deployment, RollbackRequest, ScaleRequest, UpdateDeployment,
};
use crate::error::Result;
use crate::history::{HistoryOptions, Revision};
use crate::ids::{DeploymentId, PackageId};
use crate::info::{AdapterInfo, Health};
use crate::logs::{LogOptions, Logs};
use crate::operation::Operation;
use crate::package::{DeletePackageOptions, Package, PackageFilter, PackageUpload};
use crate::page::{DeploymentFilter, Page};
use crate::status::StatusDetail;

/// The inner adapter's future for one call, as every trait method returns it.
pub type CallFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

/// What a call acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Target<'a> {
    /// Nothing in particular: `health`, the lists.
    Adapter,
    /// One deployment.
    Deployment(&'a DeploymentId),
    /// One package.
    Package(&'a PackageId),
    /// An upload, with the package name it expects, if any.
    Upload {
        /// [`PackageUpload::expected_name`].
        expected_name: Option<&'a str>,
    },
}

impl std::fmt::Display for Target<'_> {
    /// The deployment id (`namespace/name`), the package id, the expected name of an
    /// upload (`(upload)` without one), or `(adapter)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Adapter => f.write_str("(adapter)"),
            Target::Deployment(id) => write!(f, "{id}"),
            Target::Package(id) => write!(f, "{id}"),
            Target::Upload {
                expected_name: Some(n),
            } => f.write_str(n),
            Target::Upload {
                expected_name: None,
            } => f.write_str("(upload)"),
        }
    }
}

/// One call on its way to the inner adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Call<'a> {
    /// Which trait method.
    pub operation: Operation,
    /// What it acts on.
    pub target: Target<'a>,
}

impl<'a> Call<'a> {
    /// `operation` on `target`.
    pub fn new(operation: Operation, target: Target<'a>) -> Self {
        Call { operation, target }
    }
}

/// What a trait method returns, as a wrapper may look at it.
pub trait CallOutput: Send + 'static {
    /// The deployment's revision this result reports, if it reports one.
    fn revision(&self) -> Option<u32> {
        None
    }
}

impl CallOutput for () {}
impl CallOutput for Health {}
impl CallOutput for Package {}
impl CallOutput for Page<Package> {}
impl CallOutput for Page<Deployment> {}
impl CallOutput for StatusDetail {}
impl CallOutput for Vec<Revision> {}
impl CallOutput for Logs {}
impl CallOutput for Deployment {
    fn revision(&self) -> Option<u32> {
        Some(self.revision)
    }
}

/// An adapter that wraps another and sees every call; implementing it implements
/// [`DmsAdapter`].
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use o2dms_core::{async_trait, Call, CallFuture, CallOutput, DmsAdapter, Result, Wrapper};
///
/// /// Counts the writes that reach the inner adapter.
/// struct CountWrites<A> {
///     inner: A,
///     writes: AtomicUsize,
/// }
///
/// #[async_trait]
/// impl<A: DmsAdapter> Wrapper for CountWrites<A> {
///     type Inner = A;
///
///     fn inner(&self) -> &A {
///         &self.inner
///     }
///
///     async fn around<'a, T: CallOutput>(&'a self, call: Call<'a>, inner: CallFuture<'a, T>) -> Result<T> {
///         if call.operation.is_mutating() {
///             self.writes.fetch_add(1, Ordering::Relaxed);
///         }
///         inner.await
///     }
/// }
///
/// fn is_adapter(_: &dyn DmsAdapter) {}
/// # struct Never;
/// # fn check<A: DmsAdapter>(a: CountWrites<A>) { is_adapter(&a) }
/// ```
#[async_trait]
pub trait Wrapper: Send + Sync {
    /// The wrapped adapter's type.
    type Inner: DmsAdapter + ?Sized;

    /// The wrapped adapter.
    fn inner(&self) -> &Self::Inner;

    /// Who the adapter is: the inner adapter's info unless overridden.
    fn info(&self) -> AdapterInfo {
        self.inner().info()
    }

    /// What it can do: the inner adapter's capabilities unless overridden.
    fn capabilities(&self) -> Capabilities {
        self.inner().capabilities()
    }

    /// Runs one call: `inner` is the inner adapter's future for it, not yet polled.
    /// Await it (or do not, or bound it in time) and return its result or another.
    async fn around<'a, T: CallOutput>(
        &'a self,
        call: Call<'a>,
        inner: CallFuture<'a, T>,
    ) -> Result<T> {
        let _ = call;
        inner.await
    }
}

fn on_deployment(operation: Operation, id: &DeploymentId) -> Call<'_> {
    Call::new(operation, Target::Deployment(id))
}

fn on_package(operation: Operation, id: &PackageId) -> Call<'_> {
    Call::new(operation, Target::Package(id))
}

fn on_adapter(operation: Operation) -> Call<'static> {
    Call::new(operation, Target::Adapter)
}

#[async_trait]
impl<W: Wrapper> DmsAdapter for W {
    fn info(&self) -> AdapterInfo {
        Wrapper::info(self)
    }

    fn capabilities(&self) -> Capabilities {
        Wrapper::capabilities(self)
    }

    async fn health(&self) -> Result<Health> {
        self.around(on_adapter(Operation::Health), self.inner().health())
            .await
    }

    async fn list_packages(&self, filter: &PackageFilter) -> Result<Page<Package>> {
        self.around(
            on_adapter(Operation::ListPackages),
            self.inner().list_packages(filter),
        )
        .await
    }

    async fn get_package(&self, id: &PackageId) -> Result<Package> {
        self.around(
            on_package(Operation::GetPackage, id),
            self.inner().get_package(id),
        )
        .await
    }

    async fn upload_package(&self, upload: PackageUpload) -> Result<Package> {
        let expected_name = upload.expected_name.clone();
        let call = Call::new(
            Operation::UploadPackage,
            Target::Upload {
                expected_name: expected_name.as_deref(),
            },
        );
        self.around(call, self.inner().upload_package(upload)).await
    }

    async fn delete_package(&self, id: &PackageId, options: DeletePackageOptions) -> Result<()> {
        self.around(
            on_package(Operation::DeletePackage, id),
            self.inner().delete_package(id, options),
        )
        .await
    }

    async fn list_deployments(&self, filter: &DeploymentFilter) -> Result<Page<Deployment>> {
        self.around(
            on_adapter(Operation::ListDeployments),
            self.inner().list_deployments(filter),
        )
        .await
    }

    async fn get_deployment(&self, id: &DeploymentId) -> Result<Deployment> {
        self.around(
            on_deployment(Operation::GetDeployment, id),
            self.inner().get_deployment(id),
        )
        .await
    }

    async fn create_deployment(&self, request: CreateDeployment) -> Result<Deployment> {
        let id = request.id.clone();
        self.around(
            on_deployment(Operation::CreateDeployment, &id),
            self.inner().create_deployment(request),
        )
        .await
    }

    async fn update_deployment(
        &self,
        id: &DeploymentId,
        request: UpdateDeployment,
    ) -> Result<Deployment> {
        self.around(
            on_deployment(Operation::UpdateDeployment, id),
            self.inner().update_deployment(id, request),
        )
        .await
    }

    async fn delete_deployment(&self, id: &DeploymentId) -> Result<()> {
        self.around(
            on_deployment(Operation::DeleteDeployment, id),
            self.inner().delete_deployment(id),
        )
        .await
    }

    async fn scale_deployment(
        &self,
        id: &DeploymentId,
        request: ScaleRequest,
    ) -> Result<Deployment> {
        self.around(
            on_deployment(Operation::ScaleDeployment, id),
            self.inner().scale_deployment(id, request),
        )
        .await
    }

    async fn rollback_deployment(
        &self,
        id: &DeploymentId,
        request: RollbackRequest,
    ) -> Result<Deployment> {
        self.around(
            on_deployment(Operation::RollbackDeployment, id),
            self.inner().rollback_deployment(id, request),
        )
        .await
    }

    async fn deployment_status(&self, id: &DeploymentId) -> Result<StatusDetail> {
        self.around(
            on_deployment(Operation::DeploymentStatus, id),
            self.inner().deployment_status(id),
        )
        .await
    }

    async fn deployment_history(
        &self,
        id: &DeploymentId,
        options: HistoryOptions,
    ) -> Result<Vec<Revision>> {
        self.around(
            on_deployment(Operation::DeploymentHistory, id),
            self.inner().deployment_history(id, options),
        )
        .await
    }

    async fn deployment_logs(&self, id: &DeploymentId, options: &LogOptions) -> Result<Logs> {
        self.around(
            on_deployment(Operation::DeploymentLogs, id),
            self.inner().deployment_logs(id, options),
        )
        .await
    }
}
