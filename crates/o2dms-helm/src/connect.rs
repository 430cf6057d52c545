//! [`HelmAdapter`]: connecting one (the Kubernetes client, the adapter's own directories,
//! the package store, the helm version), and what it offers beyond the trait.
//!
//! ## Packages
//!
//! Packages live in an `o2dms-store` [`PackageStore`]: by default a [`LocalDirStore`]
//! (`package_dir`, or `<data_dir>/packages`, which survives a restart; ids
//! `name@version`, the upload target),
//! plus a read-only [`HttpRepoStore`] for `chart_repository` (ids `repo:name@version`)
//! and an [`OciStore`](o2dms_store::OciStore) for `registry` (ids `oci:name@version`;
//! the upload target with `uploads: true`), combined in a [`MultiStore`]; or any store
//! given to [`HelmAdapter::connect_with_store`]. Install and upgrade give helm what the
//! store's [`install_source`](PackageStore::install_source) says: for the stores here, a
//! verified and validated archive on disk (an OCI chart fetched by digest), so helm never
//! talks to a repository or registry and needs no credentials (a store of another kind
//! may still say `oci://host/repo/name --version V`). When an update or scale needs the
//! current revision's chart and no store has it (a CLI release, or a package deleted with
//! force), the chart is rebuilt from the release record only when `rebuild_from_release`
//! is set (and then validated like an upload); otherwise the call must name a package.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::Client;
use o2dms_core::{DeploymentId, Error, Result};
use o2dms_store::{HttpRepoOptions, HttpRepoStore, LocalDirStore, MultiStore, PackageStore};

use crate::action::recover::{Recover, Recovery};
use crate::action::Context;
use crate::config::HelmConfig;
use crate::helm::{Connection, Helm, HelmVersion};
use crate::lease::Leases;
use crate::locks::Locks;
use crate::redact::Redaction;
use crate::storage::Storage;

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
    pub(crate) cx: Context,
    /// The adapter's work directory when it made a temporary one (removed with it).
    _owned_dir: Option<tempfile::TempDir>,
}

impl HelmAdapter {
    /// Connects with `config`: builds the Kubernetes client from the kubeconfig (or
    /// infers it), prepares the adapter's own directories and the default package store
    /// (see the module docs; its directory, under `data_dir` unless `package_dir` is set,
    /// is created 0700 and kept across restarts), and detects the helm version.
    pub async fn connect(config: HelmConfig) -> Result<HelmAdapter> {
        config.validate()?;
        let (client, server) = client_for(&config).await?;
        Self::build(config, client, server, None).await
    }

    /// Like [`connect`](Self::connect), with packages in `store` instead of the default
    /// (`package_dir`, `chart_repository` and `registry` are then not used). Uploads go to the store
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
        let (client, server) = client_for(&config).await?;
        Self::build(config, client, server, Some(store)).await
    }

    /// Like [`connect`](Self::connect) with a ready client (which must reach the same
    /// cluster as the kubeconfig helm is given).
    pub async fn with_client(config: HelmConfig, client: Client) -> Result<HelmAdapter> {
        config.validate()?;
        Self::build(config, client, UNNAMED_SERVER.to_owned(), None).await
    }

    /// Like [`connect_with_store`](Self::connect_with_store) with a ready client.
    pub async fn with_client_and_store(
        config: HelmConfig,
        client: Client,
        store: Arc<dyn PackageStore>,
    ) -> Result<HelmAdapter> {
        config.validate()?;
        Self::build(config, client, UNNAMED_SERVER.to_owned(), Some(store)).await
    }

    async fn build(
        config: HelmConfig,
        client: Client,
        server: String,
        store: Option<Arc<dyn PackageStore>>,
    ) -> Result<HelmAdapter> {
        let (work_dir, owned) = match &config.work_dir {
            Some(d) => (d.clone(), None),
            None => {
                let t = tempfile::Builder::new()
                    .prefix("o2dms-helm-")
                    .tempdir()
                    .map_err(|e| Error::backend_from("creating the work directory", e))?;
                (t.path().to_path_buf(), Some(t))
            }
        };
        private_dir(&work_dir)?;
        for sub in ["helm/cache", "helm/config", "helm/data", "tmp"] {
            private_dir(&work_dir.join(sub))?;
        }
        let store = match store {
            Some(s) => s,
            None => default_store(&config, &work_dir)?,
        };
        let connection = Connection {
            kubeconfig: config.kubeconfig.clone(),
            context: config.context.clone(),
        };
        let helm = Helm::detect(
            &config.helm_binary,
            work_dir.join("helm"),
            work_dir.join("tmp"),
            connection,
        )
        .await?;
        config.check_for(helm.major())?;
        Ok(HelmAdapter {
            cx: Context {
                storage: Storage::new(
                    client.clone(),
                    config.read_timeout,
                    config.record_cache_bytes,
                    server,
                    config.namespaces.clone(),
                ),
                leases: Leases::new(
                    client.clone(),
                    config.lease_duration,
                    config.read_timeout,
                    config.lease_locking,
                ),
                client,
                helm,
                store,
                locks: Locks::default(),
                redaction: Redaction::new(&config.redact_values)?,
                config,
            },
            _owned_dir: owned,
        })
    }

    /// The detected helm version.
    pub fn helm_version(&self) -> &HelmVersion {
        self.cx.helm.version()
    }

    /// The configuration.
    pub fn config(&self) -> &HelmConfig {
        &self.cx.config
    }

    /// The Kubernetes client reads go through.
    pub fn client(&self) -> &Client {
        &self.cx.client
    }

    /// The package store.
    pub fn store(&self) -> &Arc<dyn PackageStore> {
        &self.cx.store
    }

    /// `name` in the configured default namespace.
    pub fn deployment_id(&self, name: &str) -> Result<DeploymentId> {
        DeploymentId::new(self.cx.config.namespace.clone(), name)
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
        self.cx.config.check_served(&id.namespace)?;
        Recover { id }.run(&self.cx).await
    }
}

/// Creates `dir` (and its parents) readable by the adapter's user only.
fn private_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)
        .and_then(|_| std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)))
        .map_err(|e| Error::backend_from(format!("preparing {}", dir.display()), e))
}

/// How errors name the API server of a client given ready-made.
const UNNAMED_SERVER: &str = "the Kubernetes API server";

/// Builds the Kubernetes client from the configuration (kubeconfig file and context, or
/// inferred as kubectl does), and how errors name its API server.
async fn client_for(config: &HelmConfig) -> Result<(Client, String)> {
    let kconf = match (&config.kubeconfig, &config.context) {
        (Some(path), context) => {
            let kc = Kubeconfig::read_from(path).map_err(|e| {
                Error::invalid("kubeconfig", format!("cannot read {}: {e}", path.display()))
            })?;
            let options = KubeConfigOptions {
                context: context.clone(),
                ..Default::default()
            };
            kube::Config::from_custom_kubeconfig(kc, &options)
                .await
                .map_err(|e| Error::invalid("kubeconfig", e.to_string()))?
        }
        (None, Some(ctx)) => kube::Config::from_kubeconfig(&KubeConfigOptions {
            context: Some(ctx.clone()),
            ..Default::default()
        })
        .await
        .map_err(|e| Error::invalid("context", e.to_string()))?,
        (None, None) => kube::Config::infer()
            .await
            .map_err(|e| Error::invalid("kubeconfig", e.to_string()))?,
    };
    let server = format!("the Kubernetes API server at {}", kconf.cluster_url);
    let client = Client::try_from(kconf)
        .map_err(|e| Error::unavailable(format!("cannot build a Kubernetes client: {e}")))?;
    Ok((client, server))
}

/// The default store (see the module docs): the local directory store (in
/// `package_dir`, or `<data_dir>/packages` with the data directory made 0700), plus the
/// chart repository when configured (its download cache is scratch, in `work_dir`), plus
/// the OCI registry when configured (first, receiving uploads, with `uploads: true`; its
/// validated charts and pins must last: `<data_dir>/registry`, 0700).
fn default_store(config: &HelmConfig, work_dir: &Path) -> Result<Arc<dyn PackageStore>> {
    let packages = config.package_location()?;
    if config.package_dir.is_none() {
        if let Some(data) = packages.parent() {
            private_dir(data)?;
        }
        private_dir(&packages)?;
    }
    let local: Arc<dyn PackageStore> = Arc::new(LocalDirStore::open(packages)?);
    let mut stores = vec![local];
    if let Some(url) = &config.chart_repository {
        let repo = HttpRepoStore::new(
            url,
            HttpRepoOptions {
                cache_dir: Some(work_dir.join("repo-cache")),
                ..HttpRepoOptions::default()
            },
        )?;
        stores.push(Arc::new(repo));
    }
    if let Some(registry) = &config.registry {
        let data = config
            .data_dir
            .clone()
            .or_else(HelmConfig::default_data_dir)
            .ok_or_else(|| {
                Error::invalid(
                    "dataDir",
                    "there is no user data directory to keep the registry's validated \
                     charts and pins in (HOME is unset); set dataDir",
                )
            })?;
        private_dir(&data)?;
        let oci: Arc<dyn PackageStore> = Arc::new(registry.store(data.join("registry"))?);
        if registry.uploads {
            stores.insert(0, oci);
        } else {
            stores.push(oci);
        }
    }
    if stores.len() == 1 {
        return Ok(stores.remove(0));
    }
    Ok(Arc::new(MultiStore::new(stores)?))
}
