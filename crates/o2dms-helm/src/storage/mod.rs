//! Release storage: Helm's release records in the cluster, behind one type.
//!
//! [`Storage`] is the adapter's storage driver, read-only (helm writes the records). It
//! decodes records ([`record`], [`stored`]), reads them straight from the API server
//! ([`secrets`]), keeps a live index of the newest revision of every release
//! ([`index`]) and a cache of decoded records by resource version ([`cache`]), and
//! answers "which deployments use this package". Its consistency rules stay here:
//!
//! - **One deployment** (current, history, metadata) is never stale: what the index says
//!   is confirmed with two point reads (that revision at the resource version the index
//!   saw, and that no newer revision exists), else read with one consistent list.
//! - **Lists** come from the index: writes through the adapter wait until the index has
//!   seen their outcome ([`Storage::await_outcome`]), so a list after a write shows it;
//!   others' writes (the helm CLI) appear within the watch delay.
//! - Without permission to watch Secrets cluster-wide (or, with a namespace allow-list,
//!   in each listed namespace) the index is unusable and every read goes to the API
//!   server.
//! - **Scope**: with a namespace allow-list, nothing outside it is read: the index runs
//!   one watch per listed namespace, and what spans "all namespaces" (lists, "in use")
//!   spans exactly those. The adapter refuses ids and filters naming other namespaces
//!   before they reach the storage.

mod cache;
mod helm_status;
mod index;
pub(crate) mod record;
mod repair;
mod secrets;
mod stored;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::stream::{self, StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Secret;
use kube::core::PartialObjectMeta;
use kube::{Api, Client};
use o2dms_core::{DeploymentId, Error, PackageId, Result};

use crate::deadline::within;
use cache::RecordCache;
use index::ReleaseIndex;
use secrets::ReleaseSecrets;

pub(crate) use helm_status::HelmStatus;
pub(crate) use index::IndexedRevision as Head;
pub(crate) use stored::{RevisionMeta, StoredRelease};

/// How long the first read waits for the release index's initial list.
const INDEX_SYNC_BOUND: Duration = Duration::from_secs(30);
/// How long a write waits for the index to see what it wrote.
const INDEX_CATCH_UP_BOUND: Duration = Duration::from_secs(5);
/// Record reads in flight at once.
const READS_IN_FLIGHT: usize = 16;

/// What a write left behind, for [`Storage::await_outcome`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// A revision newer than this one, no longer pending (install: after 0).
    NewRevisionAfter(u32),
    /// No release (uninstalled).
    Gone,
    /// Not known in advance (a failed write): whatever the API server has now.
    Unknown,
}

/// Helm's release records in one cluster (see the module docs).
pub(crate) struct Storage {
    client: Client,
    /// Longest wait for one read (see [`Storage::bounded`]).
    read_timeout: Duration,
    /// The API server, as errors name it.
    server: String,
    /// The namespaces read; empty: all.
    namespaces: Vec<String>,
    secrets: ReleaseSecrets,
    /// The live index, started (and its first list awaited) by the first read.
    index: tokio::sync::OnceCell<ReleaseIndex>,
    records: RecordCache,
}

impl Storage {
    /// Storage read through `client`, each read bounded by `read_timeout`, decoded records
    /// cached within `cache_bytes`; `server` names the API server in errors; only
    /// `namespaces` are read (all when empty). Nothing is read until the first call.
    pub(crate) fn new(
        client: Client,
        read_timeout: Duration,
        cache_bytes: u64,
        server: String,
        namespaces: Vec<String>,
    ) -> Self {
        Storage {
            secrets: ReleaseSecrets::new(client.clone()),
            client,
            read_timeout,
            server,
            namespaces,
            index: tokio::sync::OnceCell::new(),
            records: RecordCache::new(cache_bytes),
        }
    }

    /// The newest revision of `id`, or NotFound. With the index: the revision it names,
    /// read together with a check that no newer one exists (two point reads); otherwise,
    /// or when the index is behind, a consistent list.
    pub(crate) async fn current(&self, id: &DeploymentId) -> Result<StoredRelease> {
        self.bounded(async {
            if let Some(index) = self.live_index().await {
                if let Some(known) = index.latest_of(&id.namespace, &id.name) {
                    if let Some((_, record)) = self.confirmed(&known).await {
                        return Ok(record);
                    }
                }
            }
            self.secrets.require(id).await
        })
        .await
    }

    /// The newest revision of `id` (NotFound without one) and what `derive` reads from it.
    /// When the index names a revision whose record is cached, `derive` runs on that
    /// record while the revision is being confirmed (one round trip instead of two); if
    /// the confirmation fails, both are read again in turn.
    pub(crate) async fn current_with<T, F, Fut>(
        &self,
        id: &DeploymentId,
        derive: F,
    ) -> Result<(Arc<StoredRelease>, T)>
    where
        F: Fn(Arc<StoredRelease>) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        self.bounded(async {
            if let Some(index) = self.live_index().await {
                if let Some(known) = index.latest_of(&id.namespace, &id.name) {
                    if let Some(cached) = self.records.get(&known) {
                        let (confirmed, derived) =
                            futures::join!(self.confirmed(&known), derive(cached.clone()));
                        if let Some((rv, _)) = confirmed {
                            if rv.is_some() && rv == known.resource_version {
                                return Ok((cached, derived?));
                            }
                        }
                    }
                }
            }
            let current = Arc::new(self.current(id).await?);
            let derived = derive(current.clone()).await?;
            Ok((current, derived))
        })
        .await
    }

    /// The newest revision of `id` read from the API server now, bypassing the index
    /// (`None`: no release). For reporting the state a failed write left.
    pub(crate) async fn latest_uncached(&self, id: &DeploymentId) -> Result<Option<StoredRelease>> {
        self.bounded(async { self.secrets.latest(id).await }).await
    }

    /// Revision `revision` of `id` read from the API server now (`None`: it is not kept).
    pub(crate) async fn revision(
        &self,
        id: &DeploymentId,
        revision: u32,
    ) -> Result<Option<StoredRelease>> {
        self.bounded(self.secrets.revision(&id.namespace, &id.name, revision))
            .await
    }

    /// The metadata of every revision of `id` (empty: no release): from the index when it
    /// has caught up with the release, otherwise one consistent list.
    pub(crate) async fn metas(&self, id: &DeploymentId) -> Result<Vec<RevisionMeta>> {
        self.bounded(async {
            if let Some((known, _)) = self.caught_up_revisions(id).await {
                return Ok(known.into_iter().map(|r| r.meta).collect());
            }
            self.secrets
                .list_meta(Some(&id.namespace), Some(&id.name))
                .await
        })
        .await
    }

    /// The newest revision's metadata of `id`, if a release by that name exists, for a
    /// create. With the index, a name it does not know is taken as free (a release made by
    /// another writer within the watch delay is then refused by helm's own check).
    pub(crate) async fn existing(&self, id: &DeploymentId) -> Result<Option<RevisionMeta>> {
        self.bounded(async {
            if let Some(index) = self.live_index().await {
                if index.latest_of(&id.namespace, &id.name).is_none() {
                    return Ok(None);
                }
            }
            Ok(newest(self.metas(id).await?))
        })
        .await
    }

    /// Every revision of `id`, ascending (empty: no release): when the index has caught
    /// up with the release, the older ones from the record cache; otherwise one
    /// consistent list.
    pub(crate) async fn revisions(&self, id: &DeploymentId) -> Result<Vec<StoredRelease>> {
        self.bounded(async {
            if let Some((known, newest)) = self.caught_up_revisions(id).await {
                let older: Vec<Option<Arc<StoredRelease>>> =
                    self.records_of(&known[..known.len() - 1]).await?;
                if older.iter().all(Option::is_some) {
                    let mut all: Vec<StoredRelease> =
                        older.into_iter().flatten().map(|r| (*r).clone()).collect();
                    all.push(newest);
                    return Ok(all);
                }
            }
            self.secrets.all_revisions(id).await
        })
        .await
    }

    /// The newest revision of every release in `namespace` (all if `None`), ordered by
    /// namespace then name: from the index, else one consistent list of metadata.
    pub(crate) async fn heads(&self, namespace: Option<&str>) -> Result<Vec<Head>> {
        self.bounded(async {
            if let Some(index) = self.live_index().await {
                return Ok(index.latest(namespace));
            }
            let metas = match namespace {
                Some(ns) => self.secrets.list_meta(Some(ns), None).await?,
                None => self.every_meta().await?,
            };
            Ok(stored::latest_revisions(metas)
                .into_values()
                .map(|meta| Head {
                    meta,
                    resource_version: None,
                })
                .collect())
        })
        .await
    }

    /// The decoded records of `heads`, in order: cached ones from the cache, the others
    /// read (several at a time). `None` for a record that vanished since (a concurrent
    /// delete or history pruning).
    pub(crate) async fn records_of(
        &self,
        heads: &[Head],
    ) -> Result<Vec<Option<Arc<StoredRelease>>>> {
        self.bounded(async {
            let reads: Vec<_> = heads
                .iter()
                .map(|h| self.records.read(&self.client, h))
                .collect();
            stream::iter(reads)
                .buffered(READS_IN_FLIGHT)
                .try_collect()
                .await
        })
        .await
    }

    /// A deployment whose newest revision runs `package` (the first by id), if any.
    pub(crate) async fn in_use(&self, package: &PackageId) -> Result<Option<DeploymentId>> {
        self.bounded(async {
            let latest = stored::latest_revisions(self.every_meta().await?);
            let reads: Vec<_> = latest
                .into_values()
                .map(|m| {
                    let secrets = self.secrets.clone();
                    let package = package.clone();
                    async move {
                        let r = secrets.revision(&m.namespace, &m.name, m.revision).await?;
                        Ok::<_, Error>(r.filter(|r| r.package() == package).map(|r| r.id()))
                    }
                })
                .collect();
            let found = stream::iter(reads)
                .buffer_unordered(READS_IN_FLIGHT)
                .try_filter_map(|x| async move { Ok(x) })
                .try_collect::<Vec<_>>()
                .await?;
            Ok(found.into_iter().min())
        })
        .await
    }

    /// Ends revision `revision` of `id`, left pending by a writer that stopped, as failed
    /// with `description` (see [`repair`]); nothing when it is no longer pending.
    pub(crate) async fn end_interrupted(
        &self,
        id: &DeploymentId,
        revision: u32,
        description: &str,
    ) -> Result<()> {
        self.bounded(repair::end_interrupted(
            &self.client,
            id,
            revision,
            description,
        ))
        .await
    }

    /// After a write: waits (boundedly) until the index shows what it left behind
    /// (`outcome`; when unknown, the newest revision the API server has, or none), so a
    /// list right after the write shows it. Does nothing without a usable index.
    pub(crate) async fn await_outcome(&self, id: &DeploymentId, outcome: Outcome) {
        let Some(index) = self.index.get().filter(|i| i.usable().is_ok()) else {
            return;
        };
        let (ns, name) = (&id.namespace, &id.name);
        let caught_up = match outcome {
            Outcome::NewRevisionAfter(before) => {
                index
                    .wait_for(ns, name, INDEX_CATCH_UP_BOUND, |e| {
                        e.is_some_and(|e| e.meta.revision > before && !e.meta.status.is_pending())
                    })
                    .await
            }
            Outcome::Gone => {
                index
                    .wait_for(ns, name, INDEX_CATCH_UP_BOUND, |e| {
                        e.is_none_or(|e| e.meta.status == HelmStatus::Uninstalled)
                    })
                    .await
            }
            Outcome::Unknown => {
                let Ok(truth) = self.bounded(self.secrets.latest_meta(id)).await else {
                    return;
                };
                let want = truth.map(|m| (m.revision, m.status));
                index
                    .wait_for(ns, name, INDEX_CATCH_UP_BOUND, |e| {
                        e.map(|e| (e.meta.revision, e.meta.status.clone())) == want
                    })
                    .await
            }
        };
        if !caught_up {
            tracing::warn!(%id, "release index did not catch up within {INDEX_CATCH_UP_BOUND:?}; lists may lag");
        }
    }

    /// `read`, bounded by the read timeout: past it, Unavailable naming the API server.
    pub(crate) async fn bounded<T>(&self, read: impl Future<Output = Result<T>>) -> Result<T> {
        within(self.read_timeout, &self.server, read).await
    }

    /// The metadata of every release Secret the adapter may read, from the API server: one
    /// cluster-wide list, or with an allow-list one list per namespace (several at a time).
    async fn every_meta(&self) -> Result<Vec<RevisionMeta>> {
        if self.namespaces.is_empty() {
            return self.secrets.list_meta(None, None).await;
        }
        let lists: Vec<_> = self
            .namespaces
            .iter()
            .map(|ns| {
                let secrets = self.secrets.clone();
                let ns = ns.clone();
                async move { secrets.list_meta(Some(&ns), None).await }
            })
            .collect();
        let lists: Vec<Vec<RevisionMeta>> = stream::iter(lists)
            .buffered(READS_IN_FLIGHT)
            .try_collect()
            .await?;
        Ok(lists.into_iter().flatten().collect())
    }

    /// The release index, started (and its first list awaited) on first use; `None` while
    /// it is unusable (then reads go to the API server directly).
    async fn live_index(&self) -> Option<&ReleaseIndex> {
        let index = self
            .index
            .get_or_init(|| async {
                let index = ReleaseIndex::start(self.client.clone(), &self.namespaces);
                if let Err(why) = index.ready(INDEX_SYNC_BOUND).await {
                    tracing::warn!(%why, "release index unavailable; reading from the API server");
                }
                index
            })
            .await;
        index.usable().ok().map(|()| index)
    }

    /// `known`, the newest revision the index has of a release, read from the API server
    /// now, if no newer revision exists: the record with the resource version read.
    async fn confirmed(&self, known: &Head) -> Option<(Option<String>, StoredRelease)> {
        let m = &known.meta;
        let metas: Api<PartialObjectMeta<Secret>> =
            Api::namespaced(self.client.clone(), &m.namespace);
        let newer = record::secret_name(&m.name, m.revision + 1);
        let (record, newer) = futures::join!(
            self.records.fetch(&self.client, known),
            metas.get_metadata_opt(&newer)
        );
        match (record, newer) {
            (Ok(Some(record)), Ok(None)) => Some(record),
            _ => None,
        }
    }

    /// Every revision of `id` the index knows, ascending, with the newest one's record,
    /// when the newest is confirmed (no newer one) at the very resource version the index
    /// saw: then the index has seen every earlier write to the release's records. `None`
    /// when the index is unusable, knows no revision, or is behind.
    async fn caught_up_revisions(&self, id: &DeploymentId) -> Option<(Vec<Head>, StoredRelease)> {
        let index = self.live_index().await?;
        let known = index.revisions_of(&id.namespace, &id.name);
        let newest = known.last()?;
        let (rv, record) = self.confirmed(newest).await?;
        (rv.is_some() && rv == newest.resource_version).then_some((known, record))
    }
}

/// The newest of `metas`.
fn newest(metas: Vec<RevisionMeta>) -> Option<RevisionMeta> {
    metas.into_iter().max_by_key(|m| m.revision)
}
