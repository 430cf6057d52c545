//! Per-operation time limits around any adapter.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use o2dms_core::{Call, CallFuture, CallOutput, DmsAdapter, Error, Operation, Result, Wrapper};

/// Time limits: one per operation, else a default.
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
    /// Per-operation limits.
    pub per_operation: BTreeMap<Operation, Duration>,
}

impl Default for TimeoutLimits {
    fn default() -> Self {
        TimeoutLimits {
            read: Duration::from_secs(30),
            write: Duration::from_secs(15 * 60),
            per_operation: BTreeMap::new(),
        }
    }
}

impl TimeoutLimits {
    /// The same limit for every operation.
    pub fn uniform(limit: Duration) -> Self {
        TimeoutLimits {
            read: limit,
            write: limit,
            per_operation: BTreeMap::new(),
        }
    }

    /// With a limit for one operation.
    pub fn with(mut self, operation: Operation, limit: Duration) -> Self {
        self.per_operation.insert(operation, limit);
        self
    }

    /// The limit for `operation`.
    pub fn limit(&self, operation: Operation) -> Duration {
        self.per_operation
            .get(&operation)
            .copied()
            .unwrap_or(if operation.is_mutating() {
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
}

#[async_trait]
impl<A: DmsAdapter> Wrapper for Timeouts<A> {
    type Inner = A;

    fn inner(&self) -> &A {
        &self.inner
    }

    async fn around<'a, T: CallOutput>(
        &'a self,
        call: Call<'a>,
        inner: CallFuture<'a, T>,
    ) -> Result<T> {
        let operation = call.operation;
        let limit = self.limits.limit(operation);
        match tokio::time::timeout(limit, inner).await {
            Ok(r) => r,
            Err(_) => Err(Error::timeout(
                operation.as_str(),
                limit,
                if operation.is_mutating() {
                    "the backend may have applied part of it; read the deployment to see its state"
                } else {
                    "nothing was changed"
                },
            )),
        }
    }
}
