//! A live index of Helm's release records, kept by metadata-only watches: one over all
//! namespaces, or, with a namespace allow-list (`namespaces`), one per namespace.
//!
//! Listing deployments straight from the API server means a consistent list of every
//! release Secret: at 1,000 releases × 10 revisions that is 10,000 objects the API
//! server reads from etcd on every call, which takes seconds. The index instead watches
//! the metadata of Secrets labelled `owner=helm` (cluster-wide, one watch per adapter; or
//! one watch in each namespace of the allow-list; started on first use) and keeps every
//! revision's labels in memory, in the order lists return them. Records themselves are still read from the API server and
//! decoded once per Secret resource version ([`RecordCache`](super::cache::RecordCache)).
//!
//! **Consistency** is [`Storage`](super::Storage)'s business: writes through the adapter
//! wait until the index has seen them, so a list after a write always shows it; writes by
//! others (the `helm` CLI, another adapter) appear after the watch delivers them, normally
//! within milliseconds; reads of one deployment confirm what the index says with the API
//! server.
//!
//! When a watch cannot run (e.g. RBAC allows no cluster-wide watch of Secrets, or no
//! watch in one of the listed namespaces), the index reports itself unusable and the
//! adapter lists from the API server instead.

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

type Releases = BTreeMap<Key, BTreeMap<u32, IndexedRevision>>;

/// One watch: what it covers and how far it got.
#[derive(Debug, Default)]
struct Watch {
    /// Its namespace; `None`: all namespaces.
    namespace: Option<String>,
    /// Filled during a (re)list, swapped in at its end.
    relisting: Option<Releases>,
    /// The first list finished.
    synced: bool,
    /// The last watch call failed and no event arrived since: the index may be behind.
    error: Option<String>,
}

#[derive(Debug, Default)]
struct State {
    /// Every revision of every release, by (namespace, release name).
    releases: Releases,
    /// The watches feeding it: one over all namespaces, or one per namespace.
    watches: Vec<Watch>,
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
    /// A state fed by one watch per entry of `scopes` (`None`: all namespaces).
    fn new(scopes: &[Option<String>]) -> State {
        State {
            releases: Releases::new(),
            watches: scopes
                .iter()
                .map(|ns| Watch {
                    namespace: ns.clone(),
                    ..Watch::default()
                })
                .collect(),
        }
    }

    /// Ok when every watch has listed and none is failing; otherwise why not.
    fn health(&self) -> Result<(), String> {
        let mut failing = self.watches.iter().filter(|w| w.error.is_some());
        if let Some(w) = failing.next() {
            let more = failing.count();
            let scope = match &w.namespace {
                Some(ns) => format!("in namespace {ns}"),
                None => "in all namespaces".to_owned(),
            };
            let e = w.error.as_deref().unwrap_or_default();
            return Err(if more == 0 {
                format!("watch of release Secrets {scope} failing: {e}")
            } else {
                format!("watch of release Secrets {scope} failing: {e} (and {more} more watches)")
            });
        }
        let listed = self.watches.iter().filter(|w| w.synced).count();
        if listed < self.watches.len() {
            return Err(format!(
                "index not synced yet ({listed} of {} watches listed)",
                self.watches.len()
            ));
        }
        Ok(())
    }

    /// Whether a watch is failing.
    fn failing(&self) -> bool {
        self.watches.iter().any(|w| w.error.is_some())
    }

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

    /// Applies `event` of watch `watch` (an index into the watches).
    fn apply(&mut self, watch: usize, event: Event<PartialObjectMeta<Secret>>) {
        let Some(w) = self.watches.get_mut(watch) else {
            return;
        };
        w.error = None;
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
            Event::Init => w.relisting = Some(Releases::new()),
            Event::InitApply(obj) => {
                if let (Some(buf), Some(r)) = (w.relisting.as_mut(), indexed(&obj)) {
                    insert(buf, r);
                }
            }
            Event::InitDone => {
                if let Some(buf) = w.relisting.take() {
                    match &w.namespace {
                        None => self.releases = buf,
                        // A relist replaces what this watch covers, nothing else.
                        Some(ns) => {
                            self.releases.retain(|(n, _), _| n != ns);
                            self.releases.extend(buf);
                        }
                    }
                }
                w.synced = true;
            }
        }
    }

    /// Records that watch `watch` failed with `error`.
    fn failed(&mut self, watch: usize, error: String) {
        if let Some(w) = self.watches.get_mut(watch) {
            w.error = Some(error);
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
    /// Starts watching release Secrets: in every namespace when `namespaces` is empty,
    /// otherwise in each of `namespaces` (one watch each, all in one task). Returns at
    /// once; see [`ready`](Self::ready).
    pub(crate) fn start(client: Client, namespaces: &[String]) -> ReleaseIndex {
        let scopes: Vec<Option<String>> = if namespaces.is_empty() {
            vec![None]
        } else {
            namespaces.iter().cloned().map(Some).collect()
        };
        let state = Arc::new(RwLock::new(State::new(&scopes)));
        let (tx, changes) = watch::channel(0u64);
        // `any_semantic`: the first list may come from the API server's watch cache; the
        // watch that follows starts at that list's resource version, so nothing is lost.
        let config = watcher::Config::default()
            .labels("owner=helm")
            .any_semantic();
        let streams = scopes.into_iter().enumerate().map(|(i, ns)| {
            let api: Api<PartialObjectMeta<Secret>> = match &ns {
                Some(ns) => Api::namespaced(client.clone(), ns),
                None => Api::all(client.clone()),
            };
            watcher::watcher(api, config.clone())
                .default_backoff()
                .map(move |item| (i, item))
                .boxed()
        });
        let mut events = futures::stream::select_all(streams);
        let task_state = state.clone();
        let task = tokio::spawn(async move {
            while let Some((i, item)) = events.next().await {
                {
                    let Ok(mut s) = task_state.write() else {
                        return;
                    };
                    match item {
                        Ok(event) => s.apply(i, event),
                        Err(e) => {
                            tracing::debug!(error = %e, "release index: watch failed, retrying");
                            s.failed(i, e.to_string());
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
        self.state
            .read()
            .map_err(|_| "index lock poisoned".to_owned())?
            .health()
    }

    /// Waits up to `bound` for the index to become usable.
    pub(crate) async fn ready(&self, bound: Duration) -> Result<(), String> {
        let mut changes = self.changes.clone();
        let deadline = tokio::time::Instant::now() + bound;
        loop {
            match self.usable() {
                Ok(()) => return Ok(()),
                Err(e) if self.state.read().is_ok_and(|s| s.failing()) => return Err(e),
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
        let mut s = State::new(&[None]);
        s.apply(0, Event::Init);
        s.apply(0, Event::InitApply(obj("b", "web", 1, "superseded", "1")));
        s.apply(0, Event::InitApply(obj("b", "web", 2, "deployed", "2")));
        s.apply(0, Event::InitApply(obj("a", "db", 1, "deployed", "3")));
        assert!(s.health().is_err(), "not synced before InitDone");
        assert!(s.releases.is_empty(), "a relist is swapped in at its end");
        s.apply(0, Event::InitDone);
        assert_eq!(s.health(), Ok(()));
        assert_eq!(
            latest(&s, None),
            [("a/db".to_owned(), 1), ("b/web".to_owned(), 2)]
        );

        s.apply(0, Event::Apply(obj("b", "web", 3, "pending-upgrade", "4")));
        assert_eq!(latest(&s, Some("b")), [("b/web".to_owned(), 3)]);
        assert_eq!(
            s.revisions_of("b", "web")
                .iter()
                .map(|r| r.meta.revision)
                .collect::<Vec<_>>(),
            [1, 2, 3]
        );
        s.apply(0, Event::Delete(obj("b", "web", 3, "pending-upgrade", "5")));
        assert_eq!(latest(&s, Some("b")), [("b/web".to_owned(), 2)]);
        assert_eq!(
            s.latest_of("b", "web").unwrap().resource_version.as_deref(),
            Some("2")
        );
        assert!(s.latest_of("b", "db").is_none());
        // namespace ranges do not bleed into namespaces sharing a prefix
        s.apply(0, Event::Apply(obj("bb", "web", 1, "deployed", "7")));
        assert_eq!(latest(&s, Some("b")), [("b/web".to_owned(), 2)]);
        s.apply(0, Event::Delete(obj("a", "db", 1, "deployed", "6")));
        assert_eq!(latest(&s, Some("a")), []);
        assert!(!s.releases.contains_key(&("a".to_owned(), "db".to_owned())));

        // a relist replaces everything: releases deleted while the watch was down go
        s.failed(0, "connection reset".into());
        assert!(s.failing());
        s.apply(0, Event::Init);
        assert!(!s.failing(), "an event clears the error");
        s.apply(0, Event::InitApply(obj("c", "x", 1, "deployed", "9")));
        s.apply(0, Event::InitDone);
        assert_eq!(latest(&s, None), [("c/x".to_owned(), 1)]);

        // Secrets that are not release records are ignored
        let mut other = obj("c", "y", 1, "deployed", "10");
        other.metadata.labels.as_mut().unwrap().remove("owner");
        s.apply(0, Event::Apply(other));
        assert_eq!(latest(&s, None), [("c/x".to_owned(), 1)]);
    }

    #[test]
    fn one_watch_per_namespace_relists_only_its_own() {
        let mut s = State::new(&[Some("a".into()), Some("b".into())]);
        for (w, ns) in [(0, "a"), (1, "b")] {
            s.apply(w, Event::Init);
            s.apply(w, Event::InitApply(obj(ns, "web", 1, "deployed", "1")));
        }
        s.apply(0, Event::InitDone);
        assert_eq!(
            s.health(),
            Err("index not synced yet (1 of 2 watches listed)".to_owned())
        );
        s.apply(1, Event::InitDone);
        assert_eq!(s.health(), Ok(()));
        assert_eq!(
            latest(&s, None),
            [("a/web".to_owned(), 1), ("b/web".to_owned(), 1)]
        );

        // namespace b's watch fails and relists: a's releases stay, b's are replaced
        s.failed(1, "403 forbidden".into());
        let e = s.health().unwrap_err();
        assert!(e.contains("in namespace b") && e.contains("403"), "{e}");
        s.apply(1, Event::Init);
        s.apply(1, Event::InitApply(obj("b", "db", 2, "deployed", "5")));
        s.apply(1, Event::InitDone);
        assert_eq!(
            latest(&s, None),
            [("a/web".to_owned(), 1), ("b/db".to_owned(), 2)]
        );
        // a watch that does not exist changes nothing
        s.apply(7, Event::Apply(obj("c", "x", 1, "deployed", "9")));
        s.failed(7, "no such watch".into());
        assert_eq!(s.health(), Ok(()));
        assert_eq!(latest(&s, Some("c")), []);

        s.failed(0, "reset".into());
        s.failed(1, "reset".into());
        let e = s.health().unwrap_err();
        assert!(e.contains("in namespace a") && e.contains("1 more"), "{e}");
    }
}
