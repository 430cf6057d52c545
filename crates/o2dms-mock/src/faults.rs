//! Fault injection: failures, latency, stuck writers and misbehaving packages.

use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use o2dms_core::{DeploymentId, DeploymentStatus, Error, Operation, Result};

use crate::state::Shared;

/// The fault-injection handle of a [`MockAdapter`](crate::MockAdapter), from
/// [`MockAdapter::faults`](crate::MockAdapter::faults). Faults apply to every clone of
/// the mock.
///
/// ```
/// use std::time::Duration;
/// use o2dms_core::{DmsAdapter, DeploymentId, Error, ErrorKind};
/// use o2dms_core::Operation;
/// use o2dms_mock::MockAdapter;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let mock = MockAdapter::builder().build();
/// let id = DeploymentId::new("ran", "du-1").unwrap();
///
/// // The next two gets fail with Unavailable, then the mock answers normally again.
/// mock.faults().fail_next(Operation::GetDeployment, 2, Error::Unavailable { message: "injected".into() });
/// for _ in 0..2 {
///     assert_eq!(mock.get_deployment(&id).await.unwrap_err().kind(), ErrorKind::Unavailable);
/// }
/// assert_eq!(mock.get_deployment(&id).await.unwrap_err().kind(), ErrorKind::NotFound);
///
/// // Every list takes 5 ms longer (an async sleep).
/// mock.faults().latency(Operation::ListDeployments, Duration::from_millis(5));
/// mock.faults().clear();
/// # }
/// ```
#[derive(Clone)]
pub struct Faults {
    pub(crate) shared: Arc<Shared>,
}

impl Faults {
    /// The next `n` calls of `operation` fail with `error` (a clone each time) before doing
    /// anything. Adds to failures already queued for that operation.
    pub fn fail_next(&self, operation: Operation, n: usize, error: Error) {
        let mut f = self.shared.faults();
        let queue = f.failures.entry(operation).or_default();
        queue.extend(std::iter::repeat_n(error, n));
        self.shared.faults_armed.store(true, Ordering::Release);
    }

    /// Every call of `operation` first waits `delay` (a `tokio::time::sleep`, so it needs a
    /// Tokio runtime with time enabled). A zero delay removes the latency.
    pub fn latency(&self, operation: Operation, delay: Duration) {
        let mut f = self.shared.faults();
        if delay.is_zero() {
            f.latency.remove(&operation);
        } else {
            f.latency.insert(operation, delay);
            self.shared.faults_armed.store(true, Ordering::Release);
        }
    }

    /// An install whose workload never becomes ready stays visible as pending
    /// (`Deploying`) for `hold` of real time (an async `tokio::time::sleep`, at most the
    /// create's timeout) before it fails; by default it fails at once, its wait simulated
    /// on the [`Clock`](crate::Clock). For callers that read from elsewhere while the
    /// create runs, such as clients of a server hosting the mock, which could never see
    /// the pending state otherwise. A zero `hold` restores the default.
    ///
    /// ```
    /// let mock = o2dms_mock::MockAdapter::new();
    /// mock.faults().hold_pending_install(std::time::Duration::from_millis(100));
    /// ```
    pub fn hold_pending_install(&self, hold: Duration) {
        self.shared.write().install_hold = Some(hold).filter(|h| !h.is_zero());
    }

    /// How many injected failures of `operation` are still queued.
    pub fn pending_failures(&self, operation: Operation) -> usize {
        self.shared
            .faults()
            .failures
            .get(&operation)
            .map_or(0, |q| q.len())
    }

    /// Removes every queued failure and every latency (package behaviours and stuck
    /// deployments stay).
    pub fn clear(&self) {
        let mut f = self.shared.faults();
        f.failures.clear();
        f.latency.clear();
    }

    /// Leaves deployment `id` as a writer that crashed mid-operation would: its current
    /// revision's status becomes `status`, which must be an in-progress status
    /// (`Deploying`, `Upgrading` or `RollingBack`, Helm's `pending-*`).
    ///
    /// While it is stuck, update and scale give [`Error::Conflict`] ("another operation
    /// is in progress"), like Helm's lock; rollback is allowed (Helm's rollback does not
    /// check the lock) and clears it; delete is allowed.
    ///
    /// ```
    /// use o2dms_core::{CreateDeployment, DmsAdapter, DeploymentId, DeploymentStatus, ErrorKind,
    ///     RollbackRequest, ScaleRequest};
    /// use o2dms_mock::{MockAdapter, PackageSpec};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> o2dms_core::Result<()> {
    /// let mock = MockAdapter::builder().package(PackageSpec::new("web", "1.0.0")).build();
    /// let id = DeploymentId::new("ns", "web")?;
    /// mock.create_deployment(CreateDeployment::new(id.clone(), "web@1.0.0".parse()?)).await?;
    /// mock.scale_deployment(&id, ScaleRequest::to(2)).await?;
    ///
    /// mock.faults().stick_pending(&id, DeploymentStatus::Upgrading)?;
    /// assert_eq!(mock.get_deployment(&id).await?.status, DeploymentStatus::Upgrading);
    /// let err = mock.scale_deployment(&id, ScaleRequest::to(3)).await.unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Conflict);
    ///
    /// // The safe recovery: roll back (to revision 1 here); a new revision, Deployed.
    /// let d = mock.rollback_deployment(&id, RollbackRequest::default()).await?;
    /// assert_eq!((d.revision, d.status), (3, DeploymentStatus::Deployed));
    /// # Ok(())
    /// # }
    /// ```
    pub fn stick_pending(&self, id: &DeploymentId, status: DeploymentStatus) -> Result<()> {
        if !matches!(
            status,
            DeploymentStatus::Deploying
                | DeploymentStatus::Upgrading
                | DeploymentStatus::RollingBack
        ) {
            return Err(Error::invalid(
                "status",
                format!("must be deploying, upgrading or rolling_back (got {status})"),
            ));
        }
        let mut st = self.shared.write();
        let rec = st.deployment_mut(id)?;
        rec.current_mut().status = status;
        rec.refresh();
        Ok(())
    }

    /// Every version of package `name` ignores the scale key: its simulated workload keeps
    /// the replica count of the chart's default values, so scale never reaches what was
    /// asked. Scale then writes its new revision as `Failed` (as Helm would) and returns
    /// [`Error::Backend`] saying the workload did not reach the replica count: never
    /// success. Affects deployments that exist already, too.
    ///
    /// ```
    /// use o2dms_core::{CreateDeployment, DmsAdapter, DeploymentId, DeploymentStatus, Error,
    ///     ScaleRequest};
    /// use o2dms_mock::{MockAdapter, PackageSpec};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> o2dms_core::Result<()> {
    /// let mock = MockAdapter::builder().package(PackageSpec::new("ignores-scale", "0.1.0")).build();
    /// mock.faults().package_ignores_scale("ignores-scale");
    /// let id = DeploymentId::new("ns", "app")?;
    /// mock.create_deployment(CreateDeployment::new(id.clone(), "ignores-scale@0.1.0".parse()?)).await?;
    /// let err = mock.scale_deployment(&id, ScaleRequest::to(3)).await.unwrap_err();
    /// assert!(matches!(err, Error::Backend { ref message, .. } if message.contains("did not reach 3 replicas")));
    /// let d = mock.get_deployment(&id).await?;
    /// assert_eq!((d.revision, d.status), (2, DeploymentStatus::Failed));
    /// # Ok(())
    /// # }
    /// ```
    pub fn package_ignores_scale(&self, name: impl Into<String>) {
        self.shared.write().ignores_scale.insert(name.into());
    }

    /// Every version of package `name` never becomes ready (its pods are stuck in
    /// `ErrImagePull`). Create, update, scale and rollback onto it wait for their whole
    /// timeout (on the mock's [`Clock`](crate::Clock), without sleeping), write the new
    /// revision as `Failed`, and return [`Error::Timeout`]; the deployment stays, Failed,
    /// visible in get and list, and its status detail says why.
    ///
    /// ```
    /// use std::time::Duration;
    /// use o2dms_core::{CreateDeployment, DmsAdapter, DeploymentId, DeploymentStatus, Error};
    /// use o2dms_mock::{Clock, ManualClock, MockAdapter, PackageSpec};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> o2dms_core::Result<()> {
    /// let clock = ManualClock::default();
    /// let mock = MockAdapter::builder()
    ///     .package(PackageSpec::new("never-ready", "0.1.0"))
    ///     .clock(clock.clone())
    ///     .build();
    /// mock.faults().package_never_ready("never-ready");
    /// let id = DeploymentId::new("ns", "stuck")?;
    /// let before = clock.now();
    /// let req = CreateDeployment::new(id.clone(), "never-ready@0.1.0".parse()?)
    ///     .timeout(Duration::from_secs(60));
    /// let err = mock.create_deployment(req).await.unwrap_err();
    /// assert!(matches!(err, Error::Timeout { ref operation, .. } if operation == "create_deployment"));
    /// assert_eq!(clock.now().unix_seconds(), before.unix_seconds() + 60); // no real sleep
    /// assert_eq!(mock.get_deployment(&id).await?.status, DeploymentStatus::Failed);
    /// # Ok(())
    /// # }
    /// ```
    pub fn package_never_ready(&self, name: impl Into<String>) {
        self.shared.write().never_ready.insert(name.into());
    }

    /// Undoes [`Faults::package_ignores_scale`] and [`Faults::package_never_ready`] for `name`.
    pub fn package_behaves(&self, name: &str) {
        let mut st = self.shared.write();
        st.ignores_scale.remove(name);
        st.never_ready.remove(name);
    }

    /// Takes the next injected failure of `operation` and its latency.
    pub(crate) fn take(shared: &Shared, operation: Operation) -> (Option<Duration>, Option<Error>) {
        let mut f = shared.faults();
        let err = f.failures.get_mut(&operation).and_then(|q| q.pop_front());
        (f.latency.get(&operation).copied(), err)
    }
}

impl fmt::Debug for Faults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Faults").finish_non_exhaustive()
    }
}
