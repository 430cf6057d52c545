//! Operation events around any adapter.

use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use o2dms_core::{
    Call, CallFuture, CallOutput, DmsAdapter, EventPhase, Operation, OperationEvent, Result,
    Timestamp, Wrapper,
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
}

#[async_trait]
impl<A: DmsAdapter> Wrapper for Events<A> {
    type Inner = A;

    fn inner(&self) -> &A {
        &self.inner
    }

    /// Reads pass straight through; a write emits Started before it reaches the inner
    /// adapter and exactly one end event after.
    async fn around<'a, T: CallOutput>(
        &'a self,
        call: Call<'a>,
        inner: CallFuture<'a, T>,
    ) -> Result<T> {
        if !call.operation.is_mutating() {
            return inner.await;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let target = call.target.to_string();
        self.emit(id, call.operation, &target, EventPhase::Started);
        let result = inner.await;
        let phase = match &result {
            Ok(v) => EventPhase::Succeeded {
                revision: v.revision(),
            },
            Err(e) => EventPhase::Failed {
                kind: e.kind(),
                message: e.to_string(),
            },
        };
        self.emit(id, call.operation, &target, phase);
        result
    }
}
