//! A live index of Helm's release records, kept by one metadata-only watch.
//!
//! Listing deployments straight from the API server means a consistent list of every
//! release Secret: at 1,000 releases × 10 revisions that is 10,000 objects the API
//! server reads from etcd on every call, which takes seconds. The index instead watches
//! the metadata of Secrets labelled `owner=helm` (cluster-wide, one watch per adapter,
//! started on first use) and keeps the newest revision of every release in memory, in the
//! order lists return them. Records themselves are still read from the API server and
//! decoded once per Secret resource version ([`RecordCache`](super::cache::RecordCache)).
//!
//! **Consistency** is [`Storage`](super::Storage)'s business: writes through the adapter
//! wait until the index has seen them, so a list after a write always shows it; writes by
//! others (the `helm` CLI, another adapter) appear after the watch delivers them, normally
//! within milliseconds; reads of one deployment confirm what the index says with the API
//! server.
//!
//! When the watch cannot run (e.g. RBAC allows no cluster-wide watch of Secrets), the
//! index reports itself unusable and the adapter lists from the API server instead.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Secret;
use kube::core::PartialObjectMeta;
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;
use kube::{Api, Client};
use tokio::sync::watch;

use super::stored::RevisionMeta;

/// One revision as the index knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IndexedRevision {
    /// What the labels say.
    pub(crate) meta: RevisionMeta,
    /// The Secret's resource version when last seen.
    pub(crate) resource_version: Option<String>,
}

type Key = (String, String);

#[derive(Debug, Default)]
struct State {
    /// Every revision of every release, by (namespace, release name).
    releases: BTreeMap<Key, BTreeMap<u32, IndexedRevision>>,
    /// Filled during a (re)list, swapped in at its end.
    relisting: Option<BTreeMap<Key, BTreeMap<u32, IndexedRevision>>>,
    /// The first list finished.
    synced: bool,
    /// The last watch call failed and no event arrived since: the index may be behind.
    error: Option<String>,
}

fn insert(map: &mut BTreeMap<Key, BTreeMap<u32, IndexedRevision>>, rev: IndexedRevision) {
    map.entry(rev.meta.key())
        .or_default()
        .insert(rev.meta.revision, rev);
}

fn remove(map: &mut BTreeMap<Key, BTreeMap<u32, IndexedRevision>>, meta: &RevisionMeta) {
    let key = meta.key();
    if let Some(revs) = map.get_mut(&key) {
        revs.remove(&meta.revision);
        if revs.is_empty() {
            map.remove(&key);
        }
    }
}

fn indexed(obj: &PartialObjectMeta<Secret>) -> Option<IndexedRevision> {
    Some(IndexedRevision {
        meta: RevisionMeta::from_meta(&obj.metadata)?,
        resource_version: obj.metadata.resource_version.clone(),
    })
}

impl State {
    fn latest(&self, namespace: Option<&str>) -> Vec<IndexedRevision> {
        let newest = |revs: &BTreeMap<u32, IndexedRevision>| revs.values().next_back().cloned();
        match namespace {
            Some(ns) => self
                .releases
                .range((ns.to_owned(), String::new())..)
                .take_while(|((n, _), _)| n == ns)
                .filter_map(|(_, revs)| newest(revs))
                .collect(),
            None => self.releases.values().filter_map(newest).collect(),
        }
    }

    fn latest_of(&self, namespace: &str, name: &str) -> Option<IndexedRevision> {
        self.releases
            .get(&(namespace.to_owned(), name.to_owned()))?
            .values()
            .next_back()
            .cloned()
    }

    fn revisions_of(&self, namespace: &str, name: &str) -> Vec<IndexedRevision> {
        self.releases
            .get(&(namespace.to_owned(), name.to_owned()))
            .map(|revs| revs.values().cloned().collect())
            .unwrap_or_default()
    }

    fn apply(&mut self, event: Event<PartialObjectMeta<Secret>>) {
        self.error = None;
        match event {
            Event::Apply(obj) => {
                if let Some(r) = indexed(&obj) {
                    insert(&mut self.releases, r);
                }
            }
            Event::Delete(obj) => {
                if let Some(r) = indexed(&obj) {
                    remove(&mut self.releases, &r.meta);
                }
            }
            Event::Init => self.relisting = Some(BTreeMap::new()),
            Event::InitApply(obj) => {
                if let (Some(buf), Some(r)) = (self.relisting.as_mut(), indexed(&obj)) {
                    insert(buf, r);
                }
            }
            Event::InitDone => {
                if let Some(buf) = self.relisting.take() {
                    self.releases = buf;
                }
                self.synced = true;
            }
        }
    }
}

/// The index: a watch task and the state it keeps. Dropping it stops the watch.
#[derive(Debug)]
pub(crate) struct ReleaseIndex {
    state: Arc<RwLock<State>>,
    changes: watch::Receiver<u64>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ReleaseIndex {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ReleaseIndex {
    /// Starts watching release Secrets in every namespace. Returns at once; see
    /// [`ready`](Self::ready).
    pub(crate) fn start(client: Client) -> ReleaseIndex {
        let state = Arc::new(RwLock::new(State::default()));
        let (tx, changes) = watch::channel(0u64);
        let api: Api<PartialObjectMeta<Secret>> = Api::all(client);
        // `any_semantic`: the first list may come from the API server's watch cache; the
        // watch that follows starts at that list's resource version, so nothing is lost.
        let config = watcher::Config::default()
            .labels("owner=helm")
            .any_semantic();
        let task_state = state.clone();
        let task = tokio::spawn(async move {
            let mut stream = watcher::watcher(api, config).default_backoff().boxed();
            while let Some(item) = stream.next().await {
                {
                    let Ok(mut s) = task_state.write() else {
                        return;
                    };
                    match item {
                        Ok(event) => s.apply(event),
                        Err(e) => {
                            tracing::debug!(error = %e, "release index: watch failed, retrying");
                            s.error = Some(e.to_string());
                        }
                    }
                }
                tx.send_modify(|n| *n = n.wrapping_add(1));
            }
        });
        ReleaseIndex {
            state,
            changes,
            task,
        }
    }

    /// Whether the index is synced and its watch healthy; otherwise why not.
    pub(crate) fn usable(&self) -> Result<(), String> {
        let s = self
            .state
            .read()
            .map_err(|_| "index lock poisoned".to_owned())?;
        match (&s.error, s.synced) {
            (Some(e), _) => Err(format!("watch of release Secrets failing: {e}")),
            (None, false) => Err("index not synced yet".to_owned()),
            (None, true) => Ok(()),
        }
    }

    /// Waits up to `bound` for the index to become usable.
    pub(crate) async fn ready(&self, bound: Duration) -> Result<(), String> {
        let mut changes = self.changes.clone();
        let deadline = tokio::time::Instant::now() + bound;
        loop {
            match self.usable() {
                Ok(()) => return Ok(()),
                Err(e) if self.state.read().is_ok_and(|s| s.error.is_some()) => return Err(e),
                Err(_) => {}
            }
            match tokio::time::timeout_at(deadline, changes.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return Err("the index's watch stopped".to_owned()),
                Err(_) => return self.usable(),
            }
        }
    }

    /// The newest revision of every release (of `namespace`, or all), ordered by
    /// namespace then name.
    pub(crate) fn latest(&self, namespace: Option<&str>) -> Vec<IndexedRevision> {
        self.state
            .read()
            .map(|s| s.latest(namespace))
            .unwrap_or_default()
    }

    /// The newest revision of one release, if the index has any.
    pub(crate) fn latest_of(&self, namespace: &str, name: &str) -> Option<IndexedRevision> {
        self.state.read().ok()?.latest_of(namespace, name)
    }

    /// Every revision of one release the index knows, ascending.
    pub(crate) fn revisions_of(&self, namespace: &str, name: &str) -> Vec<IndexedRevision> {
        self.state
            .read()
            .map(|s| s.revisions_of(namespace, name))
            .unwrap_or_default()
    }

    /// Waits up to `bound` until `check` holds for the newest revision of `namespace/name`
    /// (`None`: the index has none). Returns whether it did.
    pub(crate) async fn wait_for(
        &self,
        namespace: &str,
        name: &str,
        bound: Duration,
        check: impl Fn(Option<&IndexedRevision>) -> bool,
    ) -> bool {
        let mut changes = self.changes.clone();
        let deadline = tokio::time::Instant::now() + bound;
        loop {
            if check(self.latest_of(namespace, name).as_ref()) {
                return true;
            }
            match tokio::time::timeout_at(deadline, changes.changed()).await {
                Ok(Ok(())) => {}
                _ => return check(self.latest_of(namespace, name).as_ref()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::api::ObjectMeta;

    fn obj(ns: &str, name: &str, rev: u32, status: &str, rv: &str) -> PartialObjectMeta<Secret> {
        let labels = [
            ("owner", "helm"),
            ("name", name),
            ("version", &rev.to_string()),
            ("status", status),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        PartialObjectMeta {
            types: None,
            metadata: ObjectMeta {
                name: Some(super::super::record::secret_name(name, rev)),
                namespace: Some(ns.to_owned()),
                labels: Some(labels),
                resource_version: Some(rv.to_owned()),
                ..ObjectMeta::default()
            },
            _phantom: Default::default(),
        }
    }

    fn latest(s: &State, ns: Option<&str>) -> Vec<(String, u32)> {
        s.latest(ns)
            .into_iter()
            .map(|r| {
                (
                    format!("{}/{}", r.meta.namespace, r.meta.name),
                    r.meta.revision,
                )
            })
            .collect()
    }

    #[test]
    fn events_keep_the_newest_revision_of_each_release() {
        let mut s = State::default();
        s.apply(Event::Init);
        s.apply(Event::InitApply(obj("b", "web", 1, "superseded", "1")));
        s.apply(Event::InitApply(obj("b", "web", 2, "deployed", "2")));
        s.apply(Event::InitApply(obj("a", "db", 1, "deployed", "3")));
        assert!(!s.synced, "not synced before InitDone");
        assert!(s.releases.is_empty(), "a relist is swapped in at its end");
        s.apply(Event::InitDone);
        assert!(s.synced);
        assert_eq!(
            latest(&s, None),
            [("a/db".to_owned(), 1), ("b/web".to_owned(), 2)]
        );

        s.apply(Event::Apply(obj("b", "web", 3, "pending-upgrade", "4")));
        assert_eq!(latest(&s, Some("b")), [("b/web".to_owned(), 3)]);
        assert_eq!(
            s.revisions_of("b", "web")
                .iter()
                .map(|r| r.meta.revision)
                .collect::<Vec<_>>(),
            [1, 2, 3]
        );
        s.apply(Event::Delete(obj("b", "web", 3, "pending-upgrade", "5")));
        assert_eq!(latest(&s, Some("b")), [("b/web".to_owned(), 2)]);
        assert_eq!(
            s.latest_of("b", "web").unwrap().resource_version.as_deref(),
            Some("2")
        );
        assert!(s.latest_of("b", "db").is_none());
        // namespace ranges do not bleed into namespaces sharing a prefix
        s.apply(Event::Apply(obj("bb", "web", 1, "deployed", "7")));
        assert_eq!(latest(&s, Some("b")), [("b/web".to_owned(), 2)]);
        s.apply(Event::Delete(obj("a", "db", 1, "deployed", "6")));
        assert_eq!(latest(&s, Some("a")), []);
        assert!(!s.releases.contains_key(&("a".to_owned(), "db".to_owned())));

        // a relist replaces everything: releases deleted while the watch was down go
        s.error = Some("connection reset".into());
        s.apply(Event::Init);
        assert!(s.error.is_none(), "an event clears the error");
        s.apply(Event::InitApply(obj("c", "x", 1, "deployed", "9")));
        s.apply(Event::InitDone);
        assert_eq!(latest(&s, None), [("c/x".to_owned(), 1)]);

        // Secrets that are not release records are ignored
        let mut other = obj("c", "y", 1, "deployed", "10");
        other.metadata.labels.as_mut().unwrap().remove("owner");
        s.apply(Event::Apply(other));
        assert_eq!(latest(&s, None), [("c/x".to_owned(), 1)]);
    }
}
