//! Proof that the scenarios about writes that time out or fail, recovery, concurrency
//! and operation events catch real bugs: each test breaks the mock (or the event source
//! in front of it) the way an adapter gets it wrong, and checks that the named
//! scenarios fail while the plain mock passes them.

mod common;

use std::sync::Arc;

use async_trait::async_trait;
use common::broken::{assert_caught, Bug};
use o2dms_conformance::{EventSource, Outcome, Report, Suite};
use o2dms_core::{
    CreateDeployment, Deployment, DeploymentId, DeploymentStatus, DmsAdapter, Error, ErrorKind,
    EventPhase, HistoryOptions, OperationEvent, Resource, Result, RollbackRequest, ScaleRequest,
    StatusDetail, UpdateDeployment, Value, Values,
};
use o2dms_layers::Events;
use o2dms_mock::{MockAdapter, DEFAULT_TIMEOUT};
use tokio::sync::broadcast;

/// Whether `id` is Failed right now.
async fn is_failed(m: &MockAdapter, id: &DeploymentId) -> bool {
    m.get_deployment(id)
        .await
        .is_ok_and(|d| d.status == DeploymentStatus::Failed)
}

// ---------------------------------------------------------------------------------------
// Timeouts.

/// Every write reports the adapter's configured default wait as the limit of its Timeout,
/// whatever the request asked for (the error is built from the settings, not the request).
struct TimeoutReportsDefaultLimit;

fn default_limit<T>(r: Result<T>) -> Result<T> {
    r.map_err(|e| match e {
        Error::Timeout {
            operation, state, ..
        } => Error::timeout(operation, DEFAULT_TIMEOUT, state),
        other => other,
    })
}

#[async_trait]
impl Bug for TimeoutReportsDefaultLimit {
    async fn create_deployment(&self, m: &MockAdapter, r: CreateDeployment) -> Result<Deployment> {
        default_limit(m.create_deployment(r).await)
    }
    async fn update_deployment(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        r: UpdateDeployment,
    ) -> Result<Deployment> {
        default_limit(m.update_deployment(id, r).await)
    }
    async fn scale_deployment(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        r: ScaleRequest,
    ) -> Result<Deployment> {
        default_limit(m.scale_deployment(id, r).await)
    }
    async fn rollback_deployment(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        r: RollbackRequest,
    ) -> Result<Deployment> {
        default_limit(m.rollback_deployment(id, r).await)
    }
}

#[tokio::test]
async fn a_timeout_reporting_the_default_limit_is_caught() {
    assert_caught(
        TimeoutReportsDefaultLimit,
        &[
            "timeout.create_reports_operation_and_limit",
            "timeout.update_leaves_failed",
            "timeout.scale_leaves_failed",
            "timeout.rollback_leaves_failed",
        ],
    )
    .await;
}

/// Update as `helm upgrade --atomic`: a timed-out update is rolled back to the previous
/// revision before the Timeout is returned, so the failure is hidden behind a Deployed
/// deployment.
struct AtomicUpdate;

#[async_trait]
impl Bug for AtomicUpdate {
    async fn update_deployment(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        r: UpdateDeployment,
    ) -> Result<Deployment> {
        let result = m.update_deployment(id, r).await;
        if matches!(result, Err(Error::Timeout { .. })) {
            let _ = m.rollback_deployment(id, RollbackRequest::previous()).await;
        }
        result
    }
}

#[tokio::test]
async fn an_update_rolled_back_after_its_timeout_is_caught() {
    assert_caught(
        AtomicUpdate,
        &[
            "timeout.update_leaves_failed",
            "timeout.status_after_timed_out_update",
        ],
    )
    .await;
}

/// A timed-out update is deleted to clean up after it (`--cleanup-on-fail` taken too far):
/// the caller gets Timeout, and the deployment is gone.
struct UpdateDeletesOnTimeout;

#[async_trait]
impl Bug for UpdateDeletesOnTimeout {
    async fn update_deployment(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        r: UpdateDeployment,
    ) -> Result<Deployment> {
        let result = m.update_deployment(id, r).await;
        if matches!(result, Err(Error::Timeout { .. })) {
            let _ = m.delete_deployment(id).await;
        }
        result
    }
}

#[tokio::test]
async fn an_update_deleted_after_its_timeout_is_caught() {
    assert_caught(
        UpdateDeletesOnTimeout,
        &[
            "timeout.update_leaves_failed",
            "recovery.update_after_timed_out_update",
        ],
    )
    .await;
}

/// Helm's "context deadline exceeded" of an upgrade is passed on as a Backend error.
struct UpdateTimeoutAsBackend;

#[async_trait]
impl Bug for UpdateTimeoutAsBackend {
    async fn update_deployment(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        r: UpdateDeployment,
    ) -> Result<Deployment> {
        m.update_deployment(id, r).await.map_err(|e| match e {
            Error::Timeout { .. } => {
                Error::backend(format!("UPGRADE FAILED: context deadline exceeded ({e})"))
            }
            other => other,
        })
    }
}

#[tokio::test]
async fn an_update_timeout_reported_as_a_backend_error_is_caught() {
    assert_caught(
        UpdateTimeoutAsBackend,
        &[
            "timeout.update_leaves_failed",
            "recovery.rollback_after_timed_out_update",
        ],
    )
    .await;
}

/// Scale implemented as an update that merges the replica key: a timed-out scale names
/// `update_deployment`.
struct ScaleThroughUpdate;

#[async_trait]
impl Bug for ScaleThroughUpdate {
    async fn scale_deployment(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        r: ScaleRequest,
    ) -> Result<Deployment> {
        r.validate()?;
        let mut values = Values::new();
        values.set_path(r.key.as_deref().unwrap_or("replicaCount"), r.replicas);
        let update = UpdateDeployment::new().values(values).timeout(r.timeout);
        m.update_deployment(id, update).await
    }
}

#[tokio::test]
async fn a_scale_timeout_naming_update_is_caught() {
    assert_caught(ScaleThroughUpdate, &["timeout.scale_leaves_failed"]).await;
}

/// Rollback does not pass its timeout on (`helm rollback` without `--timeout`): it waits
/// for the adapter's default.
struct RollbackIgnoresTimeout;

#[async_trait]
impl Bug for RollbackIgnoresTimeout {
    async fn rollback_deployment(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        mut r: RollbackRequest,
    ) -> Result<Deployment> {
        r.timeout = None;
        m.rollback_deployment(id, r).await
    }
}

#[tokio::test]
async fn a_rollback_ignoring_its_timeout_is_caught() {
    assert_caught(RollbackIgnoresTimeout, &["timeout.rollback_leaves_failed"]).await;
}

/// Status is read from the last revision that was deployed (Helm's "last deployed
/// release"), so a deployment whose newest revision failed looks healthy.
struct StatusFromLastDeployed;

#[async_trait]
impl Bug for StatusFromLastDeployed {
    async fn deployment_status(&self, m: &MockAdapter, id: &DeploymentId) -> Result<StatusDetail> {
        let mut s = m.deployment_status(id).await?;
        if s.status == DeploymentStatus::Failed {
            let h = m.deployment_history(id, HistoryOptions::default()).await?;
            if let Some(good) = h.iter().rev().find(|r| {
                matches!(
                    r.status,
                    DeploymentStatus::Deployed | DeploymentStatus::Superseded
                )
            }) {
                s.status = DeploymentStatus::Deployed;
                s.message = format!("revision {} deployed", good.revision);
            }
        }
        Ok(s)
    }
}

#[tokio::test]
async fn status_of_the_last_deployed_revision_is_caught() {
    assert_caught(
        StatusFromLastDeployed,
        &["timeout.status_after_timed_out_update"],
    )
    .await;
}

// ---------------------------------------------------------------------------------------
// Recovery.

/// An update of a Failed deployment is refused (Helm 3.0's "has no deployed releases").
struct UpdateRefusesFailed;

#[async_trait]
impl Bug for UpdateRefusesFailed {
    async fn update_deployment(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        r: UpdateDeployment,
    ) -> Result<Deployment> {
        if is_failed(m, id).await {
            return Err(Error::conflict(
                Resource::Deployment,
                id,
                "has no deployed releases; delete it and create it again",
            ));
        }
        m.update_deployment(id, r).await
    }
}

#[tokio::test]
async fn an_update_refusing_a_failed_deployment_is_caught() {
    assert_caught(
        UpdateRefusesFailed,
        &[
            "recovery.update_after_timed_out_create",
            "recovery.update_after_timed_out_update",
        ],
    )
    .await;
}

/// A rollback of a Failed deployment is refused: the adapter only rolls back healthy
/// deployments.
struct RollbackRefusesFailed;

#[async_trait]
impl Bug for RollbackRefusesFailed {
    async fn rollback_deployment(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        r: RollbackRequest,
    ) -> Result<Deployment> {
        if is_failed(m, id).await {
            return Err(Error::conflict(
                Resource::Deployment,
                id,
                "the deployment is failed; update it first",
            ));
        }
        m.rollback_deployment(id, r).await
    }
}

#[tokio::test]
async fn a_rollback_refusing_a_failed_deployment_is_caught() {
    assert_caught(
        RollbackRefusesFailed,
        &[
            "recovery.rollback_after_timed_out_update",
            "timeout.rollback_leaves_failed",
        ],
    )
    .await;
}

/// A retry layer that retries a write that timed out: a timed-out update leaves two
/// failed revisions instead of one.
struct RetriesTimedOutUpdates;

#[async_trait]
impl Bug for RetriesTimedOutUpdates {
    async fn update_deployment(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        r: UpdateDeployment,
    ) -> Result<Deployment> {
        match m.update_deployment(id, r.clone()).await {
            Err(Error::Timeout { .. }) => m.update_deployment(id, r).await,
            other => other,
        }
    }
}

#[tokio::test]
async fn retrying_a_timed_out_update_is_caught() {
    assert_caught(
        RetriesTimedOutUpdates,
        &[
            "recovery.update_after_timed_out_update",
            "timeout.update_leaves_failed",
        ],
    )
    .await;
}

/// A create over a Failed deployment replaces it (`helm install --replace`) instead of
/// answering AlreadyExists.
struct CreateReplacesFailed;

#[async_trait]
impl Bug for CreateReplacesFailed {
    async fn create_deployment(&self, m: &MockAdapter, r: CreateDeployment) -> Result<Deployment> {
        if is_failed(m, &r.id).await {
            m.delete_deployment(&r.id).await?;
        }
        m.create_deployment(r).await
    }
}

#[tokio::test]
async fn a_create_replacing_a_failed_deployment_is_caught() {
    assert_caught(
        CreateReplacesFailed,
        &["recovery.create_over_failed_is_already_exists"],
    )
    .await;
}

/// Delete refuses a Failed deployment (it only uninstalls what it can read as deployed).
struct DeleteRefusesFailed;

#[async_trait]
impl Bug for DeleteRefusesFailed {
    async fn delete_deployment(&self, m: &MockAdapter, id: &DeploymentId) -> Result<()> {
        if is_failed(m, id).await {
            return Err(Error::conflict(
                Resource::Deployment,
                id,
                "the deployment is failed; roll it back before deleting it",
            ));
        }
        m.delete_deployment(id).await
    }
}

#[tokio::test]
async fn a_delete_refusing_a_failed_deployment_is_caught() {
    assert_caught(
        DeleteRefusesFailed,
        &["recovery.delete_after_timed_out_create"],
    )
    .await;
}

// ---------------------------------------------------------------------------------------
// Update, scale, concurrency.

/// Update as `helm upgrade --install`: updating a missing deployment creates it.
struct UpdateUpserts;

#[async_trait]
impl Bug for UpdateUpserts {
    async fn update_deployment(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        r: UpdateDeployment,
    ) -> Result<Deployment> {
        match (m.get_deployment(id).await, &r.package) {
            (Err(e), Some(package)) if e.kind() == ErrorKind::NotFound => {
                let create = CreateDeployment::new(id.clone(), package.clone())
                    .values(r.values.clone())
                    .timeout(r.timeout);
                m.create_deployment(create).await
            }
            _ => m.update_deployment(id, r).await,
        }
    }
}

#[tokio::test]
async fn an_update_that_creates_a_missing_deployment_is_caught() {
    assert_caught(UpdateUpserts, &["update.missing_creates_nothing"]).await;
}

/// Scale writes twice: the values, then a second upgrade to record the scale in the
/// release (two revisions per scale).
struct ScaleWritesTwice;

#[async_trait]
impl Bug for ScaleWritesTwice {
    async fn scale_deployment(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        r: ScaleRequest,
    ) -> Result<Deployment> {
        let replicas = r.replicas;
        let timeout = r.timeout;
        m.scale_deployment(id, r).await?;
        let record = UpdateDeployment::new()
            .description(format!("Scaled to {replicas}"))
            .timeout(timeout);
        m.update_deployment(id, record).await
    }
}

#[tokio::test]
async fn a_scale_making_two_revisions_is_caught() {
    assert_caught(ScaleWritesTwice, &["scale.one_revision_each"]).await;
}

/// Scale reads the values, sets the key and writes them all back with no check that
/// nothing changed in between: a concurrent update is lost.
struct ScaleReadModifyWrite;

#[async_trait]
impl Bug for ScaleReadModifyWrite {
    async fn scale_deployment(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        r: ScaleRequest,
    ) -> Result<Deployment> {
        r.validate()?;
        let mut values = m.get_deployment(id).await?.values;
        // The read and the write are two calls to the backend: others run in between.
        tokio::task::yield_now().await;
        values.set_path(
            r.key.as_deref().unwrap_or("replicaCount"),
            Value::from(r.replicas),
        );
        let write = UpdateDeployment::new()
            .replace_values(values)
            .timeout(r.timeout);
        m.update_deployment(id, write).await
    }
}

#[tokio::test]
async fn a_scale_losing_a_concurrent_update_is_caught() {
    assert_caught(ScaleReadModifyWrite, &["concurrency.scale_races_update"]).await;
}

// ---------------------------------------------------------------------------------------
// Event sources.

/// An event source relaying the mock's events through `rewrite` (a notification bridge
/// with a bug).
struct Relay {
    sender: broadcast::Sender<OperationEvent>,
}

impl Relay {
    fn spawn<A: DmsAdapter + 'static>(
        events: &Events<A>,
        mut rewrite: impl FnMut(OperationEvent) -> Vec<OperationEvent> + Send + 'static,
    ) -> Self {
        let (sender, _) = broadcast::channel(4096);
        let mut rx = events.subscribe();
        let tx = sender.clone();
        tokio::spawn(async move {
            loop {
                match rx.recv().await {
                    Ok(e) => {
                        for out in rewrite(e) {
                            let _ = tx.send(out);
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        });
        Relay { sender }
    }
}

impl EventSource for Relay {
    fn subscribe(&self) -> broadcast::Receiver<OperationEvent> {
        self.sender.subscribe()
    }
}

/// What a broken relay does to each event.
type Rewrite = Box<dyn FnMut(OperationEvent) -> Vec<OperationEvent> + Send>;

/// The `events.*` scenarios against the plain mock wrapped in events, with the events
/// read from `relay` (a broken source) or straight from the wrapper.
async fn run_events(relay: Option<Rewrite>) -> Report {
    let adapter = Arc::new(Events::new(common::mock()));
    let mut settings = common::settings();
    settings.only = vec!["events.*".into()];
    let source: Arc<dyn EventSource> = match relay {
        Some(f) => Arc::new(Relay::spawn(&adapter, f)),
        None => adapter.clone(),
    };
    Suite::new(settings).events(source).run(&*adapter).await
}

/// The plain source passes each of `ids`; the source relayed through `rewrite` fails each.
async fn assert_source_caught(
    name: &str,
    rewrite: impl FnMut(OperationEvent) -> Vec<OperationEvent> + Send + 'static,
    ids: &[&str],
) {
    let plain = run_events(None).await;
    let broken = run_events(Some(Box::new(rewrite))).await;
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
}

fn is_end(e: &OperationEvent) -> bool {
    e.phase != EventPhase::Started
}

#[tokio::test]
async fn a_source_delivering_end_events_twice_is_caught() {
    // At-least-once delivery with no de-duplication: every end goes out twice.
    assert_source_caught(
        "DuplicatedEnds",
        |e| {
            if is_end(&e) {
                vec![e.clone(), e]
            } else {
                vec![e]
            }
        },
        &[
            "events.one_end_per_operation",
            "events.timed_out_create_fails_with_timeout",
        ],
    )
    .await;
}

#[tokio::test]
async fn a_source_losing_the_error_kind_is_caught() {
    // A bridge whose wire format has no error kind: every failure arrives as Backend.
    assert_source_caught(
        "KindlessFailures",
        |mut e| {
            if let EventPhase::Failed { kind, .. } = &mut e.phase {
                *kind = ErrorKind::Backend;
            }
            vec![e]
        },
        &[
            "events.timed_out_create_fails_with_timeout",
            "events.refused_write_fails_with_invalid_argument",
        ],
    )
    .await;
}

#[tokio::test]
async fn a_source_dropping_failures_is_caught() {
    // Notifications only for operations that succeeded.
    assert_source_caught(
        "DroppedFailures",
        |e| {
            if matches!(e.phase, EventPhase::Failed { .. }) {
                vec![]
            } else {
                vec![e]
            }
        },
        &[
            "events.timed_out_create_fails_with_timeout",
            "events.refused_write_fails_with_invalid_argument",
        ],
    )
    .await;
}

#[tokio::test]
async fn a_source_numbering_events_instead_of_operations_is_caught() {
    // Each event gets an id of its own, so an end no longer names its Started.
    let mut next = 1_000_000u64;
    assert_source_caught(
        "IdPerEvent",
        move |mut e| {
            next += 1;
            e.operation_id = next;
            vec![e]
        },
        &["events.one_end_per_operation"],
    )
    .await;
}
