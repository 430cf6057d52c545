//! The operation registry: every write the server accepted, in memory, as
//! `o2dms_api::wire::OperationOccurrence`s.
//!
//! An operation is `STARTING` once accepted (waiting for its turn: writes to one
//! deployment or one package run one at a time, in the order accepted), `PROCESSING`
//! while the adapter call runs, then `COMPLETED` (with the resulting deployment or
//! package and the revision) or `FAILED` (with the error as a problem). The newest
//! [`Limits::operation_retention`](crate::Limits::operation_retention) finished
//! operations are kept; running ones always are.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use o2dms_api::wire::{ListOperationsQuery, OperationOccurrence, OperationState, OperationTarget};
use o2dms_api::{paths, Problem};
use o2dms_core::{Error, Operation, Page, PageRequest, Timestamp};
use tokio::sync::{watch, Mutex as AsyncMutex, OwnedMutexGuard};

/// What a write produced.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    /// A deployment (create, update, scale, rollback).
    Deployment(o2dms_core::Deployment),
    /// A package (upload).
    Package(o2dms_core::Package),
    /// Nothing (the deletes).
    Deleted,
}

struct Entry {
    seq: u64,
    occ: watch::Sender<OperationOccurrence>,
}

#[derive(Default)]
struct Inner {
    next_seq: u64,
    by_id: HashMap<String, Entry>,
    /// Every kept operation by acceptance order.
    order: BTreeMap<u64, String>,
    /// Finished operations, oldest first, for eviction.
    finished: VecDeque<u64>,
}

/// The operations of one server, shared by its routes; see the [module](self) docs.
pub struct Operations {
    inner: Mutex<Inner>,
    retention: usize,
    prefix: String,
    running: watch::Sender<usize>,
    locks: Mutex<HashMap<String, Arc<AsyncMutex<()>>>>,
}

impl std::fmt::Debug for Operations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Operations")
            .field("retention", &self.retention)
            .field("running", &*self.running.borrow())
            .finish_non_exhaustive()
    }
}

impl Operations {
    /// An empty registry keeping `retention` finished operations.
    pub fn new(retention: usize) -> Self {
        let now = Timestamp::now();
        Operations {
            inner: Mutex::default(),
            retention,
            // ids unique across restarts of the server: its start time, then a counter
            prefix: format!("{:x}{:05x}", now.unix_seconds(), now.subsec_nanos() >> 12),
            running: watch::channel(0).0,
            locks: Mutex::default(),
        }
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a new `STARTING` operation and returns it.
    pub(crate) fn start(
        &self,
        dm: &str,
        operation: Operation,
        target: OperationTarget,
    ) -> OperationOccurrence {
        let mut inner = self.inner();
        let seq = inner.next_seq;
        inner.next_seq += 1;
        let now = Timestamp::now();
        let occ = OperationOccurrence {
            id: format!("{}-{seq}", self.prefix),
            operation,
            target,
            deployment_manager: dm.to_owned(),
            state: OperationState::Starting,
            start_time: now,
            state_entered_time: now,
            end_time: None,
            revision: None,
            result: None,
            package: None,
            error: None,
        };
        inner.order.insert(seq, occ.id.clone());
        inner.by_id.insert(
            occ.id.clone(),
            Entry {
                seq,
                occ: watch::channel(occ.clone()).0,
            },
        );
        self.running.send_modify(|n| *n += 1);
        occ
    }

    /// Moves an operation to `PROCESSING`.
    pub(crate) fn processing(&self, id: &str) {
        if let Some(e) = self.inner().by_id.get(id) {
            e.occ.send_modify(|o| {
                o.state = OperationState::Processing;
                o.state_entered_time = Timestamp::now();
            });
        }
    }

    /// Ends an operation with the adapter's answer.
    pub(crate) fn finish(&self, id: &str, result: Result<Outcome, Error>) {
        let mut inner = self.inner();
        let Some(entry) = inner.by_id.get(id) else {
            return;
        };
        let seq = entry.seq;
        let now = Timestamp::now();
        entry.occ.send_modify(|o| {
            o.end_time = Some(now);
            o.state_entered_time = now;
            match result {
                Ok(Outcome::Deployment(d)) => {
                    o.state = OperationState::Completed;
                    o.revision = Some(d.revision);
                    o.result = Some(d.into());
                }
                Ok(Outcome::Package(p)) => {
                    o.state = OperationState::Completed;
                    o.target = OperationTarget::Package {
                        id: Some(p.id.to_string()),
                    };
                    o.package = Some(p.into());
                }
                Ok(Outcome::Deleted) => o.state = OperationState::Completed,
                Err(e) => {
                    o.state = OperationState::Failed;
                    let at = paths::operation(&o.deployment_manager, &o.id);
                    o.error = Some(Problem::from_error(&e, Some(&at)));
                }
            }
        });
        inner.finished.push_back(seq);
        while inner.finished.len() > self.retention {
            let Some(old) = inner.finished.pop_front() else {
                break;
            };
            if let Some(old_id) = inner.order.remove(&old) {
                inner.by_id.remove(&old_id);
            }
        }
        drop(inner);
        self.running.send_modify(|n| *n = n.saturating_sub(1));
    }

    /// One operation of deployment manager `dm`.
    pub fn get(&self, dm: &str, id: &str) -> Option<OperationOccurrence> {
        let inner = self.inner();
        let occ = inner.by_id.get(id)?.occ.borrow().clone();
        (occ.deployment_manager == dm).then_some(occ)
    }

    /// The operations of `dm` matching `query`, in the order they were accepted; the
    /// `limit` follows the adapters' paging rules (1 to 1000, 100 if unset), and the
    /// `continue` token is this server's (InvalidArgument otherwise).
    pub fn list(
        &self,
        dm: &str,
        query: &ListOperationsQuery,
    ) -> Result<Page<OperationOccurrence>, Error> {
        let limit = PageRequest::new(query.limit, None).effective_limit()?;
        let after = match &query.continue_token {
            None => 0,
            Some(t) => t
                .parse::<u64>()
                .ok()
                .and_then(|n| n.checked_add(1))
                .ok_or_else(|| Error::invalid("continue", "is not a token this server gave"))?,
        };
        let inner = self.inner();
        let mut items = Vec::new();
        let mut total = 0u64;
        let mut next = None;
        for (seq, id) in inner.order.range(after..) {
            let Some(entry) = inner.by_id.get(id) else {
                continue;
            };
            let occ = entry.occ.borrow();
            if !matches(&occ, dm, query) {
                continue;
            }
            total += 1;
            if items.len() < limit {
                items.push(occ.clone());
                if items.len() == limit {
                    next = Some(*seq);
                }
            }
        }
        let before = inner
            .order
            .range(..after)
            .filter(|(_, id)| {
                inner
                    .by_id
                    .get(*id)
                    .is_some_and(|e| matches(&e.occ.borrow(), dm, query))
            })
            .count() as u64;
        let more = total > items.len() as u64;
        Ok(Page {
            items,
            continue_token: next.filter(|_| more).map(|s| s.to_string()),
            total: Some(total + before),
        })
    }

    /// Waits up to `within` for operation `id` to end; the final operation, or `None`
    /// when it has not ended by then (or is unknown).
    pub async fn wait_final(&self, id: &str, within: Duration) -> Option<OperationOccurrence> {
        let mut rx = self.inner().by_id.get(id)?.occ.subscribe();
        let ended = tokio::time::timeout(within, rx.wait_for(|o| o.state.is_final())).await;
        match ended {
            Ok(Ok(occ)) => Some(occ.clone()),
            _ => None,
        }
    }

    /// How many operations are not over.
    pub fn running_count(&self) -> usize {
        *self.running.borrow()
    }

    /// The operations that are not over, in the order accepted.
    pub fn running(&self) -> Vec<OperationOccurrence> {
        let inner = self.inner();
        inner
            .order
            .values()
            .filter_map(|id| inner.by_id.get(id))
            .map(|e| e.occ.borrow().clone())
            .filter(|o| !o.state.is_final())
            .collect()
    }

    /// Waits up to `within` for every running operation to end; whether they did.
    pub async fn wait_idle(&self, within: Duration) -> bool {
        let mut rx = self.running.subscribe();
        let idle = tokio::time::timeout(within, rx.wait_for(|n| *n == 0)).await;
        idle.is_ok()
    }

    /// The turn of a write on `key` (one deployment or package): held while it runs.
    pub(crate) async fn turn(&self, key: String) -> Turn<'_> {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
            locks.entry(key.clone()).or_default().clone()
        };
        let guard = lock.lock_owned().await;
        Turn {
            owner: self,
            key,
            guard: Some(guard),
        }
    }
}

/// A write's turn on its target; dropping it lets the next one run.
pub(crate) struct Turn<'a> {
    owner: &'a Operations,
    key: String,
    guard: Option<OwnedMutexGuard<()>>,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut locks = self.owner.locks.lock().unwrap_or_else(|e| e.into_inner());
        // forget the lock once nobody holds or waits for it
        if locks
            .get(&self.key)
            .is_some_and(|l| Arc::strong_count(l) == 1)
        {
            locks.remove(&self.key);
        }
    }
}

fn matches(o: &OperationOccurrence, dm: &str, q: &ListOperationsQuery) -> bool {
    if o.deployment_manager != dm
        || (!q.operations.is_empty() && !q.operations.contains(&o.operation))
        || (!q.states.is_empty() && !q.states.contains(&o.state))
    {
        return false;
    }
    let (ns, name, pkg) = match &o.target {
        OperationTarget::Deployment { namespace, name } => {
            (Some(namespace.as_str()), Some(name.as_str()), None)
        }
        OperationTarget::Package { id } => (None, None, id.as_deref()),
    };
    let want = |filter: &Option<String>, have: Option<&str>| {
        filter.as_deref().is_none_or(|f| have == Some(f))
    };
    want(&q.namespace, ns) && want(&q.name, name) && want(&q.package_id, pkg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(name: &str) -> OperationTarget {
        OperationTarget::Deployment {
            namespace: "ran".into(),
            name: name.into(),
        }
    }

    #[test]
    fn keeps_the_newest_finished_and_every_running_one() {
        let ops = Operations::new(2);
        let running = ops.start("edge", Operation::CreateDeployment, target("a"));
        let ids: Vec<String> = (0..4)
            .map(|i| {
                let o = ops.start(
                    "edge",
                    Operation::DeleteDeployment,
                    target(&format!("d{i}")),
                );
                ops.finish(&o.id, Ok(Outcome::Deleted));
                o.id
            })
            .collect();
        assert!(ops.get("edge", &running.id).is_some());
        assert!(ops.get("edge", &ids[0]).is_none());
        assert!(ops.get("edge", &ids[1]).is_none());
        assert!(ops.get("edge", &ids[3]).is_some());
        assert!(ops.get("other", &ids[3]).is_none());
        assert_eq!(ops.running_count(), 1);
        assert_eq!(ops.running().len(), 1);
    }

    #[test]
    fn lists_by_filter_and_pages() {
        let ops = Operations::new(100);
        for i in 0..5 {
            let o = ops.start("edge", Operation::ScaleDeployment, target(&format!("d{i}")));
            ops.finish(&o.id, Err(Error::unavailable("down")));
        }
        ops.start("other", Operation::ScaleDeployment, target("x"));
        let mut q = ListOperationsQuery {
            limit: Some(2),
            states: vec![OperationState::Failed],
            ..Default::default()
        };
        let mut seen = 0;
        for _ in 0..10 {
            let page = ops.list("edge", &q).unwrap();
            assert_eq!(page.total, Some(5));
            seen += page.items.len();
            match page.continue_token {
                Some(t) => q.continue_token = Some(t),
                None => break,
            }
        }
        assert_eq!(seen, 5);
        q.limit = Some(100_000);
        assert!(matches!(
            ops.list("edge", &q),
            Err(Error::InvalidArgument { .. })
        ));
    }
}
