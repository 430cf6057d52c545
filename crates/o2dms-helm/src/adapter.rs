//! [`HelmAdapter`]: the [`DmsAdapter`] on Helm 3 and 4.
//!
//! ## Packages
//!
//! Packages live in an `o2dms-store` [`PackageStore`]: by default a [`LocalDirStore`]
//! (`package_dir`, or `<work_dir>/packages`; ids `name@version`, the upload target),
//! plus a read-only [`HttpRepoStore`] for `chart_repository` (ids `repo:name@version`),
//! combined in a [`MultiStore`]; or any store given to
//! [`HelmAdapter::connect_with_store`] (an [`OciStore`](o2dms_store::OciStore), ids
//! `oci:name@version`, ...). Install and upgrade give helm what the store's
//! [`install_source`](PackageStore::install_source) says: a verified archive on disk, or
//! `oci://host/repo/name --version V [--plain-http]`.
//!
//! ## From a release back to its package id
//!
//! Helm records the chart's name and version in the release, not where the chart came
//! from. So that a deployment created from package id X reports X (and deleting X while
//! it is in use is a Conflict), the adapter writes the id's store prefix as the release
//! label `o2dms.io/package-prefix` (`oci` for `oci:web@1.0.0`; store prefixes are
//! lowercase letters, digits and `-`, always a valid label value) and reads the id back as
//! `prefix:name@version` from that label and the recorded chart. An unprefixed id
//! (`web@1.0.0`, the local store) writes no label; an update to such a package removes
//! it (`--labels o2dms.io/package-prefix=null`, Helm 3 and 4). Helm carries labels over on
//! upgrade and copies the target revision's labels on rollback, so history and
//! rollbacks report each revision's own id. Releases made by the helm CLI have no label
//! and report `name@version`. Resolving name@version against the stores instead was
//! rejected: the same chart version can sit in several stores, and the answer would
//! change as stores change.
//!
//! When an update, scale or rollback needs the current revision's chart and no store
//! has it (NotFound, e.g. a CLI release, or a package deleted with force), the chart is
//! rebuilt from the release record.

use std::collections::{BTreeMap, HashSet};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use futures::stream::{self, StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Secret;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::PartialObjectMeta;
use kube::{Api, Client};
use o2dms_core::{
    async_trait, validate, AdapterInfo, Capabilities, CreateDeployment, DeletePackageOptions,
    Deployment, DeploymentFilter, DeploymentId, DeploymentStatus, DmsAdapter, Error, ErrorKind,
    Health, HealthStatus, HistoryOptions, LogOptions, Logs, Package, PackageFilter, PackageId,
    PackageUpload, Page, Resource, Result, Revision, RollbackRequest, ScaleRequest, StatusDetail,
    UpdateDeployment, Values, ValuesMode,
};

use crate::classify::{classify, HelmFailure};
use crate::cli::{
    install_args, rollback_args, uninstall_args, upgrade_args, Apply, ChartSource, Connection,
    HelmRunner, HelmVersion, Waiting, WATCHDOG_GRACE,
};
use crate::config::HelmConfig;
use crate::index::{IndexedRevision, RecordCache, ReleaseIndex};
use crate::manifest::{workloads, WorkloadRef};
use crate::reader::{latest_revisions, ReleaseReader, RevisionMeta, StoredRelease};
use crate::release::{
    secret_name, HelmStatus, Release, ADAPTER_LABEL_PREFIX, PACKAGE_PREFIX_LABEL, SCALE_KEY_LABEL,
};
use crate::values_file::ValuesFile;
use crate::workloads;
use o2dms_store::{HttpRepoOptions, HttpRepoStore, LocalDirStore, MultiStore, PackageStore};

/// What [`HelmAdapter::recover_pending`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Recovery {
    /// The newest revision was not pending; nothing was changed.
    NotPending {
        /// Its status.
        status: DeploymentStatus,
    },
    /// Rolled back from the stuck revision to the last good one (a new revision).
    RolledBack {
        /// The stuck revision and its Helm status.
        stuck_revision: u32,
        /// Its Helm status (`pending-upgrade`, ...).
        stuck_status: String,
        /// The revision returned to.
        to_revision: u32,
        /// The deployment afterwards.
        deployment: Box<Deployment>,
    },
    /// A first install that never finished, with nothing to return to: uninstalled.
    Uninstalled {
        /// The stuck revision.
        stuck_revision: u32,
    },
}

/// The Helm adapter. Writes run the `helm` binary; reads decode Helm's release Secrets
/// through the Kubernetes API.
///
/// ```no_run
/// # async fn demo() -> o2dms_core::Result<()> {
/// use o2dms_helm::{HelmAdapter, HelmConfig};
/// let adapter = HelmAdapter::connect(
///     HelmConfig::builder().kubeconfig("/etc/kubernetes/admin.conf").build()?,
/// )
/// .await?;
/// # Ok(()) }
/// ```
pub struct HelmAdapter {
    config: HelmConfig,
    client: Client,
    reader: ReleaseReader,
    runner: HelmRunner,
    version: HelmVersion,
    connection: Connection,
    work_dir: PathBuf,
    _owned_dir: Option<tempfile::TempDir>,
    store: Arc<dyn PackageStore>,
    busy: Arc<Mutex<HashSet<DeploymentId>>>,
    /// The live index of release records, started by the first read.
    index: tokio::sync::OnceCell<ReleaseIndex>,
    /// Decoded records by Secret resource version.
    records: RecordCache,
}

/// How long the first read waits for the release index's initial list.
const INDEX_SYNC_BOUND: Duration = Duration::from_secs(30);
/// How long a write waits for the index to see what it wrote.
const INDEX_CATCH_UP_BOUND: Duration = Duration::from_secs(5);

/// What a successful write leaves behind, for the index to catch up with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// A revision newer than this one, no longer pending (install: after 0).
    NewRevisionAfter(u32),
    /// No release (uninstalled).
    Gone,
    /// Not known in advance: ask the API server.
    Unknown,
}

/// Marks a deployment busy for the lifetime of one write by this adapter.
struct Busy {
    set: Arc<Mutex<HashSet<DeploymentId>>>,
    id: DeploymentId,
}

impl Drop for Busy {
    fn drop(&mut self) {
        if let Ok(mut s) = self.set.lock() {
            s.remove(&self.id);
        }
    }
}

fn encode_token(ns: &str, name: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{ns}/{name}"))
}

fn decode_token(t: &str) -> Result<(String, String)> {
    let bad = || Error::invalid("continue", "is not a token this adapter issued");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(t)
        .map_err(|_| bad())?;
    let s = String::from_utf8(raw).map_err(|_| bad())?;
    let (ns, name) = s.split_once('/').ok_or_else(bad)?;
    Ok((ns.to_owned(), name.to_owned()))
}

/// A scale key as a storage label value (label values are at most 63 characters of
/// `[A-Za-z0-9_.-]` with alphanumeric ends).
fn scale_key_label(key: &str) -> Result<String> {
    validate::scale_key("scale_key", key)?;
    validate::label_value("scale_key", key).map_err(|_| {
        Error::invalid(
            "scale_key",
            "must fit a label value (at most 63 characters, alphanumeric at both ends) to be \
             stored with the release",
        )
    })?;
    Ok(key.to_owned())
}

fn user_label_check(labels: &BTreeMap<String, String>) -> Result<()> {
    for k in labels.keys() {
        if k.starts_with(ADAPTER_LABEL_PREFIX) {
            return Err(Error::invalid(
                format!("labels[{k}]"),
                format!("the `{ADAPTER_LABEL_PREFIX}` prefix is reserved for the adapter"),
            ));
        }
    }
    Ok(())
}

fn revision_id(id: &DeploymentId, revision: u32) -> String {
    format!("{id} revision {revision}")
}

/// The store prefix of a package id (`oci` of `oci:web@1.0.0`), if it has one.
fn package_prefix(id: &PackageId) -> Option<&str> {
    id.as_str().split_once(':').map(|(p, _)| p)
}

/// The storage label recording `package`'s store prefix (see the module docs): set for
/// a prefixed id; for an unprefixed one, removed (`null`) when `current` has it.
fn package_label(
    package: &PackageId,
    current: Option<&StoredRelease>,
) -> Result<Option<(String, String)>> {
    match package_prefix(package) {
        Some(prefix) => {
            // `null` is Helm's "remove this label" on upgrade.
            if prefix == "null" || validate::label_value("package", prefix).is_err() {
                return Err(Error::invalid(
                    "package",
                    format!(
                        "the store prefix `{prefix}` of `{package}` cannot be recorded as a \
                         release label (lowercase letters, digits and '-', not `null`)"
                    ),
                ));
            }
            Ok(Some((PACKAGE_PREFIX_LABEL.to_owned(), prefix.to_owned())))
        }
        None if current.is_some_and(|c| c.labels.contains_key(PACKAGE_PREFIX_LABEL)) => {
            Ok(Some((PACKAGE_PREFIX_LABEL.to_owned(), "null".to_owned())))
        }
        None => Ok(None),
    }
}

/// Builds the Kubernetes client from the configuration (kubeconfig file and context, or
/// inferred as kubectl does).
async fn client_for(config: &HelmConfig) -> Result<Client> {
    match &config.kubeconfig {
        Some(path) => {
            let kc = Kubeconfig::read_from(path).map_err(|e| {
                Error::invalid("kubeconfig", format!("cannot read {}: {e}", path.display()))
            })?;
            let options = KubeConfigOptions {
                context: config.context.clone(),
                ..Default::default()
            };
            let kconf = kube::Config::from_custom_kubeconfig(kc, &options)
                .await
                .map_err(|e| Error::invalid("kubeconfig", e.to_string()))?;
            Client::try_from(kconf).map_err(|e| Error::Unavailable {
                message: format!("cannot build a Kubernetes client: {e}"),
            })
        }
        None => {
            let kconf = match &config.context {
                Some(ctx) => kube::Config::from_kubeconfig(&KubeConfigOptions {
                    context: Some(ctx.clone()),
                    ..Default::default()
                })
                .await
                .map_err(|e| Error::invalid("context", e.to_string()))?,
                None => kube::Config::infer()
                    .await
                    .map_err(|e| Error::invalid("kubeconfig", e.to_string()))?,
            };
            Client::try_from(kconf).map_err(|e| Error::Unavailable {
                message: format!("cannot build a Kubernetes client: {e}"),
            })
        }
    }
}

/// The default store (see the module docs): the local directory store, plus the chart
/// repository when configured.
fn default_store(config: &HelmConfig, work_dir: &Path) -> Result<Arc<dyn PackageStore>> {
    let local: Arc<dyn PackageStore> = Arc::new(LocalDirStore::open(
        config
            .package_dir
            .clone()
            .unwrap_or_else(|| work_dir.join("packages")),
    )?);
    let Some(url) = &config.chart_repository else {
        return Ok(local);
    };
    let repo = HttpRepoStore::new(
        url,
        HttpRepoOptions {
            cache_dir: Some(work_dir.join("repo-cache")),
            ..HttpRepoOptions::default()
        },
    )?;
    Ok(Arc::new(MultiStore::new(vec![local, Arc::new(repo)])?))
}

impl HelmAdapter {
    /// Connects with `config`: builds the Kubernetes client from the kubeconfig (or
    /// infers it), prepares the adapter's own directories and the default package store
    /// (see the module docs), and detects the helm version.
    pub async fn connect(config: HelmConfig) -> Result<HelmAdapter> {
        config.validate()?;
        let client = client_for(&config).await?;
        Self::build(config, client, None).await
    }

    /// Like [`connect`](Self::connect), with packages in `store` instead of the default
    /// (`package_dir` and `chart_repository` are then not used). Uploads go to the store
    /// and are [`Unsupported`](Error::Unsupported) when it is read-only.
    ///
    /// ```no_run
    /// # async fn demo() -> o2dms_core::Result<()> {
    /// use std::sync::Arc;
    /// use o2dms_helm::{HelmAdapter, HelmConfig};
    /// use o2dms_store::{OciOptions, OciStore};
    /// let registry = OciStore::new("registry.example.com", "charts", OciOptions::default())?;
    /// let adapter = HelmAdapter::connect_with_store(
    ///     HelmConfig::builder().kubeconfig("/etc/kubernetes/admin.conf").build()?,
    ///     Arc::new(registry),
    /// )
    /// .await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect_with_store(
        config: HelmConfig,
        store: Arc<dyn PackageStore>,
    ) -> Result<HelmAdapter> {
        config.validate()?;
        let client = client_for(&config).await?;
        Self::build(config, client, Some(store)).await
    }

    /// Like [`connect`](Self::connect) with a ready client (which must reach the same
    /// cluster as the kubeconfig helm is given).
    pub async fn with_client(config: HelmConfig, client: Client) -> Result<HelmAdapter> {
        config.validate()?;
        Self::build(config, client, None).await
    }

    /// Like [`connect_with_store`](Self::connect_with_store) with a ready client.
    pub async fn with_client_and_store(
        config: HelmConfig,
        client: Client,
        store: Arc<dyn PackageStore>,
    ) -> Result<HelmAdapter> {
        config.validate()?;
        Self::build(config, client, Some(store)).await
    }

    async fn build(
        config: HelmConfig,
        client: Client,
        store: Option<Arc<dyn PackageStore>>,
    ) -> Result<HelmAdapter> {
        let (work_dir, owned) = match &config.work_dir {
            Some(d) => (d.clone(), None),
            None => {
                let t = tempfile::Builder::new()
                    .prefix("o2dms-helm-")
                    .tempdir()
                    .map_err(|e| Error::backend(format!("creating the work directory: {e}")))?;
                (t.path().to_path_buf(), Some(t))
            }
        };
        let mkdir = |p: &Path| -> Result<()> {
            std::fs::create_dir_all(p)
                .and_then(|_| std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o700)))
                .map_err(|e| Error::backend(format!("preparing {}: {e}", p.display())))
        };
        mkdir(&work_dir)?;
        for sub in ["helm/cache", "helm/config", "helm/data", "tmp"] {
            mkdir(&work_dir.join(sub))?;
        }
        let store = match store {
            Some(s) => s,
            None => default_store(&config, &work_dir)?,
        };
        let runner = HelmRunner::new(&config.helm_binary, work_dir.join("helm"));
        let version = runner.version().await?;
        tracing::debug!(helm = %version.raw, "detected helm");
        Ok(HelmAdapter {
            connection: Connection {
                kubeconfig: config.kubeconfig.clone(),
                context: config.context.clone(),
            },
            reader: ReleaseReader::new(client.clone()),
            client,
            runner,
            version,
            work_dir,
            _owned_dir: owned,
            store,
            busy: Arc::new(Mutex::new(HashSet::new())),
            index: tokio::sync::OnceCell::new(),
            records: RecordCache::default(),
            config,
        })
    }

    /// The detected helm version.
    pub fn helm_version(&self) -> &HelmVersion {
        &self.version
    }

    /// The configuration.
    pub fn config(&self) -> &HelmConfig {
        &self.config
    }

    /// The Kubernetes client reads go through.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The package store.
    pub fn store(&self) -> &Arc<dyn PackageStore> {
        &self.store
    }

    /// `name` in the configured default namespace.
    pub fn deployment_id(&self, name: &str) -> Result<DeploymentId> {
        DeploymentId::new(self.config.namespace.clone(), name)
    }

    fn busy(&self, id: &DeploymentId) -> Result<Busy> {
        let mut set = self
            .busy
            .lock()
            .map_err(|_| Error::backend("adapter lock poisoned"))?;
        if !set.insert(id.clone()) {
            return Err(Error::conflict(
                Resource::Deployment,
                id,
                "another operation through this adapter is in progress",
            ));
        }
        Ok(Busy {
            set: self.busy.clone(),
            id: id.clone(),
        })
    }

    fn waiting(&self, timeout: Option<Duration>) -> Waiting {
        Waiting {
            wait: true,
            timeout: timeout.unwrap_or(self.config.timeout),
        }
    }

    fn tmp(&self) -> PathBuf {
        self.work_dir.join("tmp")
    }

    /// The chart to install for package `id`, as the store says (NotFound if no store
    /// has it; a malformed id is InvalidArgument naming `package`).
    async fn resolve_package(&self, id: &PackageId) -> Result<ChartSource> {
        match self.store.install_source(id).await {
            Ok(source) => Ok(ChartSource::Store(source)),
            Err(Error::InvalidArgument { reason, .. }) => Err(Error::invalid("package", reason)),
            Err(e) => Err(e),
        }
    }

    /// The chart of the current revision: the store's if it has it, otherwise rebuilt
    /// from the release record into `scratch`.
    async fn resolve_current(
        &self,
        current: &StoredRelease,
        scratch: &Path,
    ) -> Result<ChartSource> {
        match self.resolve_package(&current.package()).await {
            Ok(c) => Ok(c),
            // Not in any store (a CLI release, a package deleted with force), or an id no
            // store can parse (a CLI release of a chart with an unusual name).
            Err(e @ (Error::NotFound { .. } | Error::InvalidArgument { .. })) => {
                tracing::debug!(error = %e, "chart of the current revision rebuilt from the release record");
                Ok(ChartSource::Path(crate::chartdir::rebuild(
                    &current.release.chart,
                    scratch,
                )?))
            }
            Err(e) => Err(e),
        }
    }

    /// Runs helm; for a write (`writes` names the deployment and what success leaves
    /// behind), waits afterwards, whatever the outcome, until the release index has seen
    /// what helm left.
    async fn run_helm(
        &self,
        args: &[std::ffi::OsString],
        timeout: Duration,
        writes: Option<(&DeploymentId, Outcome)>,
    ) -> Result<std::result::Result<String, HelmFailure>> {
        let out = self.runner.run(args, timeout + WATCHDOG_GRACE).await;
        if let Some((id, outcome)) = writes {
            let succeeded = matches!(&out, Ok(o) if o.success);
            let outcome = if succeeded { outcome } else { Outcome::Unknown };
            self.index_catch_up(id, outcome).await;
        }
        let out = match out {
            Ok(out) => out,
            // helm outlived its own --timeout by the grace period and was terminated
            // (SIGTERM: helm marks the release failed). Report it as helm's own timeout.
            Err(Error::Timeout { state, .. }) => {
                return Ok(Err(HelmFailure {
                    kind: ErrorKind::Timeout,
                    resource: None,
                    message: state,
                }))
            }
            Err(e) => return Err(e),
        };
        if out.success {
            Ok(Ok(out.stdout))
        } else {
            Ok(Err(classify(&out.stderr)))
        }
    }

    /// Turns a classified helm failure into the adapter's error; a Timeout reads the
    /// release to say what state it left.
    async fn failure(
        &self,
        f: HelmFailure,
        operation: &str,
        id: &DeploymentId,
        revision: Option<u32>,
        limit: Duration,
    ) -> Error {
        match f.kind {
            ErrorKind::NotFound => match (f.resource, revision) {
                (Some(Resource::Revision), Some(r)) => {
                    Error::not_found(Resource::Revision, revision_id(id, r))
                }
                _ => Error::not_found(Resource::Deployment, id),
            },
            ErrorKind::AlreadyExists => Error::already_exists(Resource::Deployment, id),
            ErrorKind::Conflict => Error::conflict(Resource::Deployment, id, f.message),
            ErrorKind::Timeout => {
                let state = match self.reader.latest(id).await {
                    Ok(Some(r)) => format!(
                        "deployment {id} is {} at revision {} (helm: {})",
                        r.release.info.status.live_status(),
                        r.release.version,
                        f.message
                    ),
                    Ok(None) => format!("deployment {id} does not exist (helm: {})", f.message),
                    Err(e) => format!("state of {id} unknown: {e} (helm: {})", f.message),
                };
                Error::Timeout {
                    operation: operation.to_owned(),
                    limit,
                    state,
                }
            }
            ErrorKind::Unavailable => Error::Unavailable { message: f.message },
            ErrorKind::InvalidArgument => {
                let m = f.message.to_ascii_lowercase();
                let field = if m.contains("values don't meet") || m.contains("values.yaml") {
                    "values"
                } else {
                    "package"
                };
                Error::invalid(field, f.message)
            }
            _ => Error::backend(f.message),
        }
    }

    async fn require_not_pending(&self, id: &DeploymentId) -> Result<StoredRelease> {
        let current = self.current(id).await?;
        let status = &current.release.info.status;
        if status.is_pending() {
            return Err(Error::conflict(
                Resource::Deployment,
                id,
                format!(
                    "revision {} is {status}: another operation is in progress, or a writer \
                     crashed (then call recover_pending)",
                    current.release.version
                ),
            ));
        }
        if *status == HelmStatus::Uninstalling {
            return Err(Error::conflict(
                Resource::Deployment,
                id,
                "the deployment is being deleted",
            ));
        }
        Ok(current)
    }

    async fn read_back(&self, id: &DeploymentId) -> Result<Deployment> {
        Ok(self.current(id).await?.to_deployment())
    }

    /// The release index, started (and its first list awaited) on first use; `None` while
    /// it is unusable (then reads go to the API server directly).
    async fn live_index(&self) -> Option<&ReleaseIndex> {
        let index = self
            .index
            .get_or_init(|| async {
                let index = ReleaseIndex::start(self.client.clone());
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
    async fn confirmed(
        &self,
        known: &IndexedRevision,
    ) -> Option<(Option<String>, Arc<StoredRelease>)> {
        let m = &known.meta;
        let metas: Api<PartialObjectMeta<Secret>> =
            Api::namespaced(self.client.clone(), &m.namespace);
        let newer = secret_name(&m.name, m.revision + 1);
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
    async fn caught_up_revisions(
        &self,
        id: &DeploymentId,
    ) -> Option<(Vec<IndexedRevision>, Arc<StoredRelease>)> {
        let index = self.live_index().await?;
        let known = index.revisions_of(&id.namespace, &id.name);
        let newest = known.last()?;
        let (rv, record) = self.confirmed(newest).await?;
        (rv.is_some() && rv == newest.resource_version).then_some((known, record))
    }

    /// The metadata of every revision of `id` (empty: no release): from the index when it
    /// has caught up with the release, otherwise one consistent list.
    async fn release_metas(&self, id: &DeploymentId) -> Result<Vec<RevisionMeta>> {
        if let Some((known, _)) = self.caught_up_revisions(id).await {
            return Ok(known.into_iter().map(|r| r.meta).collect());
        }
        self.reader
            .list_meta(Some(&id.namespace), Some(&id.name))
            .await
    }

    /// Every revision of `id`, ascending: when the index has caught up with the release,
    /// the older ones from the record cache; otherwise one consistent list.
    async fn revisions(&self, id: &DeploymentId) -> Result<Vec<StoredRelease>> {
        if let Some((known, newest)) = self.caught_up_revisions(id).await {
            let reads: Vec<_> = known[..known.len() - 1]
                .iter()
                .map(|r| self.records.read(&self.client, r))
                .collect();
            let older: Vec<Option<Arc<StoredRelease>>> =
                stream::iter(reads).buffered(16).try_collect().await?;
            if older.iter().all(Option::is_some) {
                let mut all: Vec<StoredRelease> =
                    older.into_iter().flatten().map(|r| (*r).clone()).collect();
                all.push((*newest).clone());
                return Ok(all);
            }
        }
        self.reader.all_revisions(id).await
    }

    /// After a write: waits until the index shows what it left behind (`outcome`; when
    /// unknown, the newest revision the API server has, or none), so a list right after
    /// the write shows it.
    async fn index_catch_up(&self, id: &DeploymentId, outcome: Outcome) {
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
                let Ok(truth) = self.reader.latest_meta(id).await else {
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

    /// The newest revision of `id`, or NotFound. With the index: the revision it names,
    /// read from the API server together with a check that no newer one exists (two
    /// point reads); otherwise, or when the index is behind, a consistent list.
    async fn current(&self, id: &DeploymentId) -> Result<StoredRelease> {
        if let Some(index) = self.live_index().await {
            if let Some(known) = index.latest_of(&id.namespace, &id.name) {
                if let Some((_, record)) = self.confirmed(&known).await {
                    return Ok((*record).clone());
                }
            }
        }
        self.reader.require(id).await
    }

    /// One upgrade with the complete `values` (`--reset-values`); `labels` are merged
    /// into the release's labels (Helm keeps the others).
    #[allow(clippy::too_many_arguments)]
    async fn upgrade(
        &self,
        operation: &str,
        id: &DeploymentId,
        chart: &ChartSource,
        values: &Values,
        labels: &BTreeMap<String, String>,
        description: Option<&str>,
        timeout: Option<Duration>,
        dry_run: bool,
        before: u32,
    ) -> Result<String> {
        let file = ValuesFile::write(&self.tmp(), values)?;
        let waiting = self.waiting(timeout);
        let args = upgrade_args(
            self.version.major,
            &self.connection,
            &Apply {
                name: &id.name,
                namespace: &id.namespace,
                chart,
                values_file: file.path(),
                labels,
                description,
                waiting,
                max_history: self.config.max_history,
                dry_run,
            },
        );
        match self
            .run_helm(
                &args,
                waiting.timeout,
                (!dry_run).then_some((id, Outcome::NewRevisionAfter(before))),
            )
            .await?
        {
            Ok(stdout) => Ok(stdout),
            Err(f) => Err(self.failure(f, operation, id, None, waiting.timeout).await),
        }
    }

    /// Recovers a deployment whose newest revision a crashed writer left `pending-*`:
    /// rolls back to the newest earlier revision that was deployed (or superseded), which
    /// makes a new revision and clears the lock; a first install that never finished and
    /// has nothing to return to is uninstalled. Says what it did.
    ///
    /// Only call this when the writer is known to be gone: Helm cannot tell a crashed
    /// writer from a slow one, and neither can this method.
    pub async fn recover_pending(&self, id: &DeploymentId) -> Result<Recovery> {
        id.validate()?;
        let _busy = self.busy(id)?;
        let metas = self
            .reader
            .list_meta(Some(&id.namespace), Some(&id.name))
            .await?;
        let Some(latest) = latest_revisions(metas.clone()).into_values().next() else {
            return Err(Error::not_found(Resource::Deployment, id));
        };
        if !latest.status.is_pending() {
            return Ok(Recovery::NotPending {
                status: latest.status.live_status(),
            });
        }
        let good = metas
            .iter()
            .filter(|m| m.revision < latest.revision)
            .filter(|m| matches!(m.status, HelmStatus::Deployed | HelmStatus::Superseded))
            .max_by_key(|m| m.revision);
        match good {
            Some(target) => {
                let waiting = self.waiting(None);
                let args = rollback_args(
                    self.version.major,
                    &self.connection,
                    &id.name,
                    &id.namespace,
                    target.revision,
                    waiting,
                    self.config.max_history,
                );
                let outcome = Outcome::NewRevisionAfter(latest.revision);
                if let Err(f) = self
                    .run_helm(&args, waiting.timeout, Some((id, outcome)))
                    .await?
                {
                    return Err(self
                        .failure(f, "recover_pending", id, Some(target.revision), waiting.timeout)
                        .await);
                }
                tracing::info!(%id, stuck = latest.revision, to = target.revision, "recovered pending release by rollback");
                Ok(Recovery::RolledBack {
                    stuck_revision: latest.revision,
                    stuck_status: latest.status.to_string(),
                    to_revision: target.revision,
                    deployment: Box::new(self.read_back(id).await?),
                })
            }
            None if latest.status == HelmStatus::PendingInstall => {
                self.uninstall(id, None, "recover_pending").await?;
                tracing::info!(%id, stuck = latest.revision, "recovered pending install by uninstalling");
                Ok(Recovery::Uninstalled {
                    stuck_revision: latest.revision,
                })
            }
            None => Err(Error::conflict(
                Resource::Deployment,
                id,
                format!(
                    "revision {} is {} and no earlier revision was ever deployed; delete the deployment",
                    latest.revision, latest.status
                ),
            )),
        }
    }

    async fn uninstall(
        &self,
        id: &DeploymentId,
        timeout: Option<Duration>,
        op: &str,
    ) -> Result<()> {
        let waiting = self.waiting(timeout);
        let args = uninstall_args(
            self.version.major,
            &self.connection,
            &id.name,
            &id.namespace,
            waiting,
        );
        match self
            .run_helm(&args, waiting.timeout, Some((id, Outcome::Gone)))
            .await?
        {
            Ok(_) => Ok(()),
            Err(f) => Err(self.failure(f, op, id, None, waiting.timeout).await),
        }
    }

    async fn live_workloads(
        &self,
        current: &StoredRelease,
    ) -> Result<Vec<workloads::LiveWorkload>> {
        let refs = workloads(&current.release.manifest, &current.release.namespace);
        workloads::read_all(&self.client, &refs).await
    }

    /// Whether any deployment's newest revision runs `package`.
    async fn package_in_use(&self, package: &PackageId) -> Result<Option<DeploymentId>> {
        let latest = latest_revisions(self.reader.list_meta(None, None).await?);
        let reads: Vec<_> = latest
            .into_values()
            .map(|m| {
                let reader = self.reader.clone();
                let package = package.clone();
                async move {
                    let r = reader.revision(&m.namespace, &m.name, m.revision).await?;
                    Ok::<_, Error>(r.filter(|r| r.package() == package).map(|r| r.id()))
                }
            })
            .collect();
        let found = stream::iter(reads)
            .buffer_unordered(16)
            .try_filter_map(|x| async move { Ok(x) })
            .try_collect::<Vec<_>>()
            .await?;
        Ok(found.into_iter().min())
    }
}

fn scale_check(
    refs: &[WorkloadRef],
    replicas: u32,
) -> std::result::Result<Vec<WorkloadRef>, String> {
    let scalable: Vec<&WorkloadRef> = refs.iter().filter(|w| w.kind.has_replicas()).collect();
    let hits: Vec<WorkloadRef> = scalable
        .iter()
        .filter(|w| w.replicas == Some(i64::from(replicas)))
        .map(|w| (*w).clone())
        .collect();
    if hits.is_empty() {
        let seen: Vec<String> = scalable
            .iter()
            .map(|w| match w.replicas {
                Some(r) => format!("{}={r}", w.label()),
                None => format!("{} (replicas not set)", w.label()),
            })
            .collect();
        Err(if seen.is_empty() {
            "the chart renders no Deployment or StatefulSet".to_owned()
        } else {
            format!("rendered workloads have {}", seen.join(", "))
        })
    } else {
        Ok(hits)
    }
}

fn release_from_stdout(stdout: &str) -> Result<Release> {
    let start = stdout.find('{').unwrap_or(0);
    serde_json::from_str(&stdout[start..])
        .map_err(|e| Error::backend(format!("cannot read helm's dry-run output: {e}")))
}

#[async_trait]
impl DmsAdapter for HelmAdapter {
    fn info(&self) -> AdapterInfo {
        AdapterInfo {
            name: "helm".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            backend: "helm".to_owned(),
            backend_version: Some(self.version.raw.clone()),
        }
    }

    fn capabilities(&self) -> Capabilities {
        let mut caps = Capabilities::all();
        caps.package_upload = self.store.accepts_uploads();
        caps
    }

    async fn health(&self) -> Result<Health> {
        match self.client.apiserver_version().await {
            Ok(v) => Ok(Health {
                status: HealthStatus::Healthy,
                message: format!("helm {}, Kubernetes {}", self.version.raw, v.git_version),
            }),
            Err(e) => Ok(Health {
                status: HealthStatus::Unhealthy,
                message: format!("Kubernetes API: {e}"),
            }),
        }
    }

    async fn list_packages(&self, filter: &PackageFilter) -> Result<Page<Package>> {
        filter.validate()?;
        self.store.list(filter).await
    }

    async fn get_package(&self, id: &PackageId) -> Result<Package> {
        self.store.get(id).await
    }

    async fn upload_package(&self, upload: PackageUpload) -> Result<Package> {
        if !self.store.accepts_uploads() {
            return Err(Error::unsupported(
                "upload_package",
                format!(
                    "the adapter's package store (`{}`) is read-only: publish charts to it \
                     directly, or configure a writable store (local directory or OCI registry)",
                    self.store.kind()
                ),
            ));
        }
        self.store.put(upload).await
    }

    async fn delete_package(&self, id: &PackageId, options: DeletePackageOptions) -> Result<()> {
        self.store.get(id).await?;
        if !options.force {
            if let Some(user) = self.package_in_use(id).await? {
                return Err(Error::conflict(
                    Resource::Package,
                    id,
                    format!("deployment {user} uses it (delete with force to remove anyway)"),
                ));
            }
        }
        self.store.delete(id).await
    }

    async fn list_deployments(&self, filter: &DeploymentFilter) -> Result<Page<Deployment>> {
        filter.validate()?;
        let limit = filter.page.effective_limit()?;
        let after = filter
            .page
            .continue_token
            .as_deref()
            .map(decode_token)
            .transpose()?;
        let latest: Vec<IndexedRevision> = match self.live_index().await {
            Some(index) => index.latest(filter.namespace.as_deref()),
            None => latest_revisions(
                self.reader
                    .list_meta(filter.namespace.as_deref(), None)
                    .await?,
            )
            .into_values()
            .map(|meta| IndexedRevision {
                meta,
                resource_version: None,
            })
            .collect(),
        };
        let matching: Vec<IndexedRevision> = latest
            .into_iter()
            .filter(|IndexedRevision { meta: m, .. }| {
                filter.statuses.is_empty() || filter.statuses.contains(&m.status.live_status())
            })
            .filter(|IndexedRevision { meta: m, .. }| {
                filter
                    .labels
                    .iter()
                    .all(|(k, v)| m.labels.get(k) == Some(v))
            })
            .collect();
        // Without a package filter the labels alone decide membership, so the total is exact.
        let total = filter
            .package_name
            .is_none()
            .then_some(matching.len() as u64);
        let candidates: Vec<IndexedRevision> = matching
            .into_iter()
            .filter(|r| after.as_ref().is_none_or(|a| r.meta.key() > *a))
            .collect();
        let mut items: Vec<Deployment> = Vec::new();
        let mut more = false;
        let mut chunks = candidates.chunks(limit.max(16));
        'outer: for chunk in chunks.by_ref() {
            let reads: Vec<_> = chunk
                .iter()
                .map(|r| self.records.read(&self.client, r))
                .collect();
            let decoded: Vec<Option<Arc<StoredRelease>>> =
                stream::iter(reads).buffered(16).try_collect().await?;
            // A Secret that vanished between the list and the get (a concurrent delete or
            // history pruning) is skipped.
            for r in decoded.into_iter().flatten() {
                if let Some(p) = &filter.package_name {
                    if r.release.chart.metadata.name != *p {
                        continue;
                    }
                }
                if items.len() == limit {
                    more = true;
                    break 'outer;
                }
                items.push(r.to_deployment());
            }
        }
        let continue_token = if more {
            items
                .last()
                .map(|d| encode_token(&d.id.namespace, &d.id.name))
        } else {
            None
        };
        Ok(Page {
            items,
            continue_token,
            total,
        })
    }

    async fn get_deployment(&self, id: &DeploymentId) -> Result<Deployment> {
        id.validate()?;
        self.read_back(id).await
    }

    async fn create_deployment(&self, request: CreateDeployment) -> Result<Deployment> {
        request.validate()?;
        user_label_check(&request.labels)?;
        let mut labels = request.labels.clone();
        if let Some(k) = &request.scale_key {
            labels.insert(SCALE_KEY_LABEL.to_owned(), scale_key_label(k)?);
        }
        labels.extend(package_label(&request.package, None)?);
        let chart = self.resolve_package(&request.package).await?;
        let id = &request.id;
        let _busy = self.busy(id)?;
        // A release uninstalled with `--keep-history` (by the CLI) keeps its name until
        // it is reused with `--replace`; anything else by that name already exists.
        // With the index, a name it does not know is left to helm's own check (a release
        // made by another writer within the watch delay: helm refuses, AlreadyExists).
        let existing = match self.live_index().await {
            Some(index) if index.latest_of(&id.namespace, &id.name).is_none() => None,
            _ => latest_revisions(self.release_metas(id).await?)
                .into_values()
                .next(),
        };
        let replace = match existing {
            Some(existing) if existing.status == HelmStatus::Uninstalled => true,
            Some(_) => return Err(Error::already_exists(Resource::Deployment, id)),
            None => false,
        };
        let file = ValuesFile::write(&self.tmp(), &request.values)?;
        let waiting = self.waiting(request.timeout);
        let mut args = install_args(
            self.version.major,
            &self.connection,
            &Apply {
                name: &id.name,
                namespace: &id.namespace,
                chart: &chart,
                values_file: file.path(),
                labels: &labels,
                description: request.description.as_deref(),
                waiting,
                max_history: self.config.max_history,
                dry_run: false,
            },
        );
        if replace {
            args.push("--replace".into());
        }
        let outcome = if replace {
            Outcome::Unknown
        } else {
            Outcome::NewRevisionAfter(0)
        };
        if let Err(f) = self
            .run_helm(&args, waiting.timeout, Some((id, outcome)))
            .await?
        {
            return Err(self
                .failure(f, "create_deployment", id, None, waiting.timeout)
                .await);
        }
        drop(file);
        self.read_back(id).await
    }

    async fn update_deployment(
        &self,
        id: &DeploymentId,
        request: UpdateDeployment,
    ) -> Result<Deployment> {
        id.validate()?;
        request.validate()?;
        let new_chart = match &request.package {
            Some(p) => {
                package_label(p, None)?;
                Some(self.resolve_package(p).await?)
            }
            None => None,
        };
        let _busy = self.busy(id)?;
        let current = self.require_not_pending(id).await?;
        let labels: BTreeMap<String, String> = match &request.package {
            Some(p) => package_label(p, Some(&current))?.into_iter().collect(),
            None => BTreeMap::new(),
        };
        let values = match request.mode {
            ValuesMode::Merge => current.release.config.merged(&request.values),
            ValuesMode::Replace => request.values.clone(),
        };
        let scratch = tempfile::tempdir_in(self.tmp())
            .map_err(|e| Error::backend(format!("scratch directory: {e}")))?;
        let chart = match new_chart {
            Some(c) => c,
            None => self.resolve_current(&current, scratch.path()).await?,
        };
        self.upgrade(
            "update_deployment",
            id,
            &chart,
            &values,
            &labels,
            request.description.as_deref(),
            request.timeout,
            false,
            current.release.version,
        )
        .await?;
        self.read_back(id).await
    }

    async fn delete_deployment(&self, id: &DeploymentId) -> Result<()> {
        id.validate()?;
        let _busy = self.busy(id)?;
        let current = self.current(id).await?;
        if current.release.info.status.is_pending() {
            return Err(Error::conflict(
                Resource::Deployment,
                id,
                format!(
                    "revision {} is {}: another operation is in progress, or a writer crashed \
                     (then call recover_pending)",
                    current.release.version, current.release.info.status
                ),
            ));
        }
        self.uninstall(id, None, "delete_deployment").await
    }

    async fn scale_deployment(
        &self,
        id: &DeploymentId,
        request: ScaleRequest,
    ) -> Result<Deployment> {
        id.validate()?;
        request.validate()?;
        let _busy = self.busy(id)?;
        let current = self.require_not_pending(id).await?;
        let key = request
            .key
            .clone()
            .or_else(|| current.scale_key().map(str::to_owned))
            .unwrap_or_else(|| self.config.scale_key.clone());
        let mut values = current.release.config.clone();
        values.set_path(&key, request.replicas);
        let scratch = tempfile::tempdir_in(self.tmp())
            .map_err(|e| Error::backend(format!("scratch directory: {e}")))?;
        let chart = self.resolve_current(&current, scratch.path()).await?;
        let no_labels = BTreeMap::new();
        // Render first: a chart that ignores the key is refused before anything is written.
        let rendered = self
            .upgrade(
                "scale_deployment",
                id,
                &chart,
                &values,
                &no_labels,
                None,
                request.timeout,
                true,
                current.release.version,
            )
            .await?;
        let rendered = release_from_stdout(&rendered)?;
        let targets = scale_check(
            &workloads(&rendered.manifest, &id.namespace),
            request.replicas,
        )
        .map_err(|seen| {
            Error::invalid(
                "key",
                format!(
                    "chart {} ignores values key `{key}`: after setting it to {}, {seen}",
                    current.release.chart_ref(),
                    request.replicas
                ),
            )
        })?;
        let description = format!("Scale to {} replicas ({key})", request.replicas);
        self.upgrade(
            "scale_deployment",
            id,
            &chart,
            &values,
            &no_labels,
            Some(&description),
            request.timeout,
            false,
            current.release.version,
        )
        .await?;
        // Verify against the live workloads, not just what helm said.
        let live = workloads::read_all(&self.client, &targets).await?;
        let wrong: Vec<String> = live
            .iter()
            .filter(|w| w.spec_replicas != i32::try_from(request.replicas).ok())
            .map(|w| match w.spec_replicas {
                Some(r) => format!("{} has {r}", w.reference.label()),
                None => format!("{} is missing", w.reference.label()),
            })
            .collect();
        if !wrong.is_empty() {
            return Err(Error::backend(format!(
                "scaled {id} to {} through `{key}`, but the live workloads disagree: {}",
                request.replicas,
                wrong.join(", ")
            )));
        }
        self.read_back(id).await
    }

    async fn rollback_deployment(
        &self,
        id: &DeploymentId,
        request: RollbackRequest,
    ) -> Result<Deployment> {
        id.validate()?;
        request.validate()?;
        let _busy = self.busy(id)?;
        let metas = self.release_metas(id).await?;
        let Some(latest) = metas.iter().max_by_key(|m| m.revision) else {
            return Err(Error::not_found(Resource::Deployment, id));
        };
        if latest.status.is_pending() {
            return Err(Error::conflict(
                Resource::Deployment,
                id,
                format!(
                    "revision {} is {}: another operation is in progress, or a writer crashed \
                     (then call recover_pending)",
                    latest.revision, latest.status
                ),
            ));
        }
        let target = match request.revision {
            Some(r) => r,
            None => {
                let prev = metas
                    .iter()
                    .filter(|m| m.revision < latest.revision)
                    .map(|m| m.revision)
                    .max();
                prev.ok_or_else(|| {
                    Error::not_found(
                        Resource::Revision,
                        format!("{id}: no revision before {}", latest.revision),
                    )
                })?
            }
        };
        if !metas.iter().any(|m| m.revision == target) {
            return Err(Error::not_found(
                Resource::Revision,
                revision_id(id, target),
            ));
        }
        let waiting = self.waiting(request.timeout);
        let args = rollback_args(
            self.version.major,
            &self.connection,
            &id.name,
            &id.namespace,
            target,
            waiting,
            self.config.max_history,
        );
        let outcome = Outcome::NewRevisionAfter(latest.revision);
        if let Err(f) = self
            .run_helm(&args, waiting.timeout, Some((id, outcome)))
            .await?
        {
            return Err(self
                .failure(f, "rollback_deployment", id, Some(target), waiting.timeout)
                .await);
        }
        self.read_back(id).await
    }

    async fn deployment_status(&self, id: &DeploymentId) -> Result<StatusDetail> {
        id.validate()?;
        // The record cached for the revision the index names tells which workloads to
        // read: read them while that revision is confirmed (one round trip, not two).
        if let Some(index) = self.live_index().await {
            if let Some(known) = index.latest_of(&id.namespace, &id.name) {
                if let Some(cached) = self.records.get(&known) {
                    let (confirmed, live) =
                        futures::join!(self.confirmed(&known), self.live_workloads(&cached));
                    if let Some((rv, _)) = confirmed {
                        if rv.is_some() && rv == known.resource_version {
                            let r = &cached.release;
                            return Ok(workloads::detail(
                                r.info.status.live_status(),
                                &r.info.description,
                                &live?,
                            ));
                        }
                    }
                }
            }
        }
        let current = self.current(id).await?;
        let live = self.live_workloads(&current).await?;
        Ok(workloads::detail(
            current.release.info.status.live_status(),
            &current.release.info.description,
            &live,
        ))
    }

    async fn deployment_history(
        &self,
        id: &DeploymentId,
        options: HistoryOptions,
    ) -> Result<Vec<Revision>> {
        id.validate()?;
        if options.limit == Some(0) {
            return Err(Error::invalid("limit", "must be at least 1"));
        }
        let all = self.revisions(id).await?;
        if all.is_empty() {
            return Err(Error::not_found(Resource::Deployment, id));
        }
        let skip = options
            .limit
            .map_or(0, |l| all.len().saturating_sub(l as usize));
        Ok(all
            .iter()
            .skip(skip)
            .map(StoredRelease::to_revision)
            .collect())
    }

    async fn deployment_logs(&self, id: &DeploymentId, options: &LogOptions) -> Result<Logs> {
        id.validate()?;
        options.validate()?;
        let current = self.current(id).await?;
        let live = self.live_workloads(&current).await?;
        workloads::logs(&self.client, &live, options).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::WorkloadKind;

    fn wr(kind: WorkloadKind, name: &str, replicas: Option<i64>) -> WorkloadRef {
        WorkloadRef {
            kind,
            namespace: "ns".into(),
            name: name.into(),
            replicas,
        }
    }

    #[test]
    fn scale_check_needs_a_workload_with_the_count() {
        let refs = [
            wr(WorkloadKind::Deployment, "web", Some(3)),
            wr(WorkloadKind::Job, "migrate", None),
        ];
        assert_eq!(scale_check(&refs, 3).unwrap().len(), 1);
        let e = scale_check(&refs, 5).unwrap_err();
        assert_eq!(e, "rendered workloads have Deployment/web=3");
        assert!(scale_check(&[wr(WorkloadKind::Job, "j", None)], 1)
            .unwrap_err()
            .contains("no Deployment"));
    }

    #[test]
    fn tokens_round_trip_and_reject_junk() {
        let t = encode_token("ns", "web");
        assert_eq!(decode_token(&t).unwrap(), ("ns".into(), "web".into()));
        assert!(decode_token("%%%").is_err());
        assert!(
            decode_token(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("x")).is_err()
        );
    }

    #[test]
    fn package_prefix_label_is_set_removed_or_refused() {
        let pid = |s: &str| PackageId::new(s).unwrap();
        assert_eq!(package_prefix(&pid("oci:web@1.0.0")), Some("oci"));
        assert_eq!(package_prefix(&pid("web@1.0.0")), None);
        assert_eq!(
            package_label(&pid("repo:web@1.0.0"), None).unwrap(),
            Some((PACKAGE_PREFIX_LABEL.to_owned(), "repo".to_owned()))
        );
        assert_eq!(package_label(&pid("web@1.0.0"), None).unwrap(), None);
        for bad in ["null:web@1", "Bad_:web@1", "x-:web@1"] {
            assert!(
                matches!(
                    package_label(&pid(bad), None),
                    Err(Error::InvalidArgument { ref field, .. }) if field == "package"
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn scale_keys_must_fit_a_label() {
        assert_eq!(
            scale_key_label("server.replicas").unwrap(),
            "server.replicas"
        );
        assert!(scale_key_label("_x").is_err());
        assert!(scale_key_label(&"a".repeat(64)).is_err());
        let mut l = BTreeMap::new();
        l.insert("o2dms.io/x".to_string(), "y".to_string());
        assert!(user_label_check(&l).is_err());
    }
}
