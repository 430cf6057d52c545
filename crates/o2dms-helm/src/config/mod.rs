//! The adapter's configuration: its fields and their defaults, the checks, and reading it
//! from a `type: helm` entry of the spec's configuration file; the builder
//! ([`builder`]) and helm's apply options ([`options`]) beside it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use o2dms_config::{DmsPlugin, PluginKind};
use o2dms_core::{validate, Error, Result};
use serde::Deserialize;

mod allow_list;
mod builder;
mod options;
mod registry;

pub use builder::HelmConfigBuilder;
pub use options::{ApplyMethod, WaitStrategy};
pub use registry::RegistryConfig;

/// Configuration of a [`HelmAdapter`](crate::HelmAdapter).
///
/// Built in code with [`HelmConfig::builder`], or read from the `config` block of a
/// `type: helm` plugin in the configuration file ([`HelmConfig::from_config_file`]),
/// where the fields have the spec's camelCase names (`chartRepository`, `maxHistory`,
/// `helmBinary`, ...), `timeout` is written like `10m` or `90s`, unknown keys are
/// refused, and every key is optional with the default of [`HelmConfig::default`].
///
/// ```
/// use std::time::Duration;
/// use o2dms_helm::HelmConfig;
///
/// let config = HelmConfig::builder()
///     .kubeconfig("/etc/kubernetes/admin.conf")
///     .namespace("deployments")
///     .timeout(Duration::from_secs(300))
///     .max_history(10)
///     .build()?;
/// assert_eq!(config.scale_key, "replicaCount");
/// # Ok::<(), o2dms_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "camelCase",
    default,
    expecting = "the Helm plugin's settings (a mapping)"
)]
#[non_exhaustive]
pub struct HelmConfig {
    /// Kubeconfig file (`kubeconfig`); `None` infers as kubectl does (`KUBECONFIG`,
    /// `~/.kube/config`, in-cluster).
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context (`context`); `None` uses the current context.
    pub context: Option<String>,
    /// A chart repository URL (`chartRepository`), a read-only package store beside the
    /// local one (ids `repo:name@version`). `https://`, or `http://` to a loopback host.
    pub chart_repository: Option<String>,
    /// An OCI registry as a package store beside the local one (`registry`; ids
    /// `oci:name@version`): its location, credentials (read from files), CAs, and
    /// whether uploads go there. Installs use the chart layer fetched by digest and
    /// validated like an upload, kept with the version's pin in `<dataDir>/registry`;
    /// helm never talks to the registry. See [`RegistryConfig`]. Not used when the
    /// adapter is given its own store
    /// ([`connect_with_store`](crate::HelmAdapter::connect_with_store)).
    pub registry: Option<RegistryConfig>,
    /// The default namespace (`namespace`), for callers that build ids from a bare name
    /// ([`HelmAdapter::deployment_id`](crate::HelmAdapter::deployment_id)).
    pub namespace: String,
    /// The namespaces the adapter serves (`namespaces`): empty (the default) serves the
    /// whole cluster, with one watch of release Secrets in all namespaces and rights to
    /// match (a ClusterRole, `deploy/rbac/cluster-wide.yaml`). Set, the adapter watches
    /// and lists only these (one watch per namespace), lists over "all namespaces" and
    /// "is this package in use" cover exactly these, and every call naming another
    /// namespace (a deployment's id, a list filter) is InvalidArgument naming
    /// `namespace`, before any request to the cluster or helm run; the rights it needs
    /// are a Role in each (`deploy/rbac/namespaced.yaml`). Each watch holds one
    /// connection to the API server (measured with 438 namespaces on the local cluster:
    /// all listed within about 1.3 s of the first read, the process about 20 MiB larger).
    /// Each entry must be a DNS-1123 label, listed once (InvalidArgument naming
    /// `namespaces[i]`), and the default `namespace` must be one of them. With `createNamespace`, only listed namespaces
    /// are ever created (others are refused first); that needs the cluster-scoped right to
    /// create namespaces, which a Role cannot grant, so with namespaced rights only leave
    /// `createNamespace` off and create the namespaces beforehand.
    pub namespaces: Vec<String>,
    /// Default time limit of a write (`timeout`; install/upgrade/rollback/uninstall
    /// `--timeout`). A write ends within it plus a grace: helm still running 60 s after
    /// its own timeout is terminated (SIGTERM, so it marks the release failed), and each
    /// Kubernetes API read the write makes before and after helm is bounded by
    /// `readTimeout`.
    #[serde(deserialize_with = "o2dms_config::duration::deserialize")]
    pub timeout: Duration,
    /// Revisions kept per release (`maxHistory`; `--history-max`; 0 = unlimited).
    pub max_history: u32,
    /// The `helm` binary, 3.x or 4.x (`helmBinary`).
    pub helm_binary: PathBuf,
    /// Values key `scale` sets unless the deployment or the call says otherwise
    /// (`scaleKey`).
    pub scale_key: String,
    /// Scratch directory the adapter owns (`workDir`): helm's cache/config/data homes,
    /// transient values files, rebuilt charts and the chart repository's download cache;
    /// nothing in it has to outlive the adapter. A fresh temporary directory (removed
    /// with the adapter) if unset.
    pub work_dir: Option<PathBuf>,
    /// Directory for what must survive a restart (`dataDir`): the local package store,
    /// `<data_dir>/packages`, unless `packageDir` puts it elsewhere. Created 0700 (and
    /// set to 0700 if it exists). If unset: `o2dms/helm` under the user's data directory
    /// ([`HelmConfig::default_data_dir`]: `$XDG_DATA_HOME` or `~/.local/share` on Linux);
    /// when there is none (no `HOME`, as for some system services) and the local store
    /// needs it, connecting fails with InvalidArgument naming `dataDir`, rather than keep
    /// packages in a directory that vanishes while deployments made from them stay.
    /// Not used when `packageDir` is set or the adapter is given its own store
    /// ([`connect_with_store`](crate::HelmAdapter::connect_with_store)).
    pub data_dir: Option<PathBuf>,
    /// Directory of the local package store (`packageDir`; `<name>-<version>.tgz`);
    /// `<data_dir>/packages` if unset.
    pub package_dir: Option<PathBuf>,
    /// Rebuild the current chart from the release record when an update that names no
    /// package, or a scale, finds it in no store (`rebuildFromRelease`, default false).
    /// A release Secret is only as trustworthy as everyone who can write Secrets in its
    /// namespace; a rebuilt chart is applied with the adapter's identity. Off, such an
    /// update or scale is InvalidArgument naming `package` (say which package to run);
    /// on, the rebuilt chart is packed and must pass the same archive validation as an
    /// upload ([`o2dms_chart::validate`], default limits) before helm sees it.
    pub rebuild_from_release: bool,
    /// Largest values a write gives helm (`maxValuesBytes`), measured on the values file
    /// as written (compact JSON; for an update, the merged values): 1 to
    /// [`o2dms_core::validate::MAX_VALUES_BYTES`].
    pub max_values_bytes: usize,
    /// Longest wait for one read of the Kubernetes API (`readTimeout`, e.g. `20s`): a get,
    /// list, status, history or logs call, and each read a write makes before and after
    /// helm runs. Past it the call is [`Unavailable`](o2dms_core::Error::Unavailable)
    /// naming the API server. 1 s to 10 min.
    #[serde(deserialize_with = "o2dms_config::duration::deserialize")]
    pub read_timeout: Duration,
    /// Create a deployment's namespace when it does not exist (`createNamespace`); when
    /// false (the default), creating into a missing namespace is NotFound naming it. A
    /// namespace the adapter creates carries the label
    /// `app.kubernetes.io/managed-by: o2dms`.
    pub create_namespace: bool,
    /// When a deployment is deleted, also delete its namespace if the adapter created it
    /// and no release is left in it (`deleteCreatedNamespaces`), with everything else in
    /// it. Namespaces the adapter did not create are never deleted.
    pub delete_created_namespaces: bool,
    /// How helm applies objects (`applyMethod`: `auto`, `server-side`, `client-side`).
    pub apply_method: ApplyMethod,
    /// Install no CRDs from the chart's `crds/` (`skipCrds`; `--skip-crds`).
    pub skip_crds: bool,
    /// Do not validate rendered objects against the cluster's OpenAPI schema
    /// (`disableOpenApiValidation`; `--disable-openapi-validation`).
    pub disable_open_api_validation: bool,
    /// How Helm 4 waits for readiness (`waitStrategy`: `watcher` or `legacy`); unset:
    /// `watcher` on Helm 4, and Helm 3's own polling.
    pub wait_strategy: Option<WaitStrategy>,
    /// Memory for decoded release records kept between reads (`recordCacheBytes`): only
    /// what reads need is kept (no chart content, no manifest), the least useful evicted
    /// first. At least 1 MiB.
    pub record_cache_bytes: u64,
    /// Values to mask in what reads return (`redactValues`): glob patterns (`*`, `?`,
    /// `[...]`, `{a,b}`), case-insensitive, on a value's key (the last segment of its
    /// path: `grafana.adminPassword` is matched as `adminPassword`), for example
    /// `["*password*", "*token*", "*secret*", "*key"]`. A value whose key matches is shown
    /// as the string `[redacted]`, whatever its type (a map included), in get, list,
    /// history and the deployment a write returns. What is stored and applied never
    /// changes: an update with `mode: merge` keeps the real value of a masked key. (An
    /// update with `mode: replace` built from values read back would store the mask:
    /// merge instead.) Empty (the default): nothing is masked. Each pattern must be a
    /// valid glob (InvalidArgument naming `redactValues[i]`). Independent of this
    /// setting, helm's messages never reach an error, an event or a log with a value in
    /// them (see the security notes).
    pub redact_values: Vec<String>,
    /// Take a Kubernetes Lease (`coordination.k8s.io/v1`, `o2dms-release-<name>` in the
    /// release's namespace) for every write (`leaseLocking`, default true), so that two
    /// adapter processes (DMS replicas) never write one release at once: the second is
    /// Conflict at once, naming the holder. Needs get/create/update/delete on `leases`
    /// in the release's namespace (`deploy/rbac/`). Off, only writes through one
    /// adapter process exclude each other, and helm's own pending check is the rest.
    pub lease_locking: bool,
    /// How long a write's Lease holds without renewal (`leaseDuration`, default 30s;
    /// 3 s to 10 min): renewed every third of it while helm runs, so a crashed holder's
    /// Lease lets writes through again after at most this long.
    #[serde(deserialize_with = "o2dms_config::duration::deserialize")]
    pub lease_duration: Duration,
}

impl HelmConfig {
    /// Default time limit of a write (`timeout: 10m`).
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);
    /// Default number of revisions Helm keeps per release (`maxHistory: 10`).
    pub const DEFAULT_MAX_HISTORY: u32 = 10;
    /// Default values key that `scale` sets (`scaleKey: replicaCount`).
    pub const DEFAULT_SCALE_KEY: &'static str = "replicaCount";
    /// Default largest values file (`maxValuesBytes: 524288`, 512 KiB): well inside a
    /// release Secret's 1 MiB, which also holds the chart and the manifest.
    pub const DEFAULT_MAX_VALUES_BYTES: usize = 512 * 1024;
    /// Default longest wait for one read of the Kubernetes API (`readTimeout: 20s`).
    pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(20);
    /// Default memory for cached release records (`recordCacheBytes: 67108864`, 64 MiB).
    pub const DEFAULT_RECORD_CACHE_BYTES: u64 = 64 * 1024 * 1024;
    /// Default time a write's Lease holds without renewal (`leaseDuration: 30s`).
    pub const DEFAULT_LEASE_DURATION: Duration = Duration::from_secs(30);
}

/// The defaults, for the builder and for every key the configuration file leaves out.
impl Default for HelmConfig {
    fn default() -> Self {
        HelmConfig {
            kubeconfig: None,
            context: None,
            chart_repository: None,
            registry: None,
            namespace: "default".to_owned(),
            namespaces: Vec::new(),
            timeout: Self::DEFAULT_TIMEOUT,
            max_history: Self::DEFAULT_MAX_HISTORY,
            helm_binary: PathBuf::from("helm"),
            scale_key: Self::DEFAULT_SCALE_KEY.to_owned(),
            work_dir: None,
            data_dir: None,
            package_dir: None,
            rebuild_from_release: false,
            max_values_bytes: Self::DEFAULT_MAX_VALUES_BYTES,
            read_timeout: Self::DEFAULT_READ_TIMEOUT,
            record_cache_bytes: Self::DEFAULT_RECORD_CACHE_BYTES,
            create_namespace: false,
            delete_created_namespaces: false,
            apply_method: ApplyMethod::Auto,
            skip_crds: false,
            disable_open_api_validation: false,
            wait_strategy: None,
            redact_values: Vec::new(),
            lease_locking: true,
            lease_duration: Self::DEFAULT_LEASE_DURATION,
        }
    }
}

impl HelmConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> HelmConfigBuilder {
        HelmConfigBuilder {
            config: HelmConfig::default(),
        }
    }

    /// The settings of a `type: helm` plugin, checked. Errors are
    /// [`Error::InvalidArgument`] naming the key path in the file
    /// (`plugins.dms[0].config.maxHistory`), its line and the reason, without quoting
    /// the value.
    ///
    /// ```
    /// use o2dms_helm::HelmConfig;
    ///
    /// let file = o2dms_config::Config::from_yaml_str(
    ///     "plugins:\n  dms:\n    - name: helm-deployer\n      type: helm\n      config:\n        maxHistory: 3\n",
    /// )?;
    /// let config = HelmConfig::from_plugin(file.select(None)?)?;
    /// assert_eq!(config.max_history, 3);
    /// assert_eq!(config.timeout, HelmConfig::DEFAULT_TIMEOUT);
    /// # Ok::<(), o2dms_core::Error>(())
    /// ```
    pub fn from_plugin(plugin: &DmsPlugin) -> Result<HelmConfig> {
        if plugin.kind() != PluginKind::Helm {
            return Err(plugin
                .invalid(
                    "type",
                    format!(
                        "plugin `{}` is of type `{}`; the Helm adapter reads `type: helm` plugins",
                        plugin.name(),
                        plugin.kind()
                    ),
                )
                .into());
        }
        let config: HelmConfig = plugin.settings()?;
        config.validate().map_err(|e| match e {
            Error::InvalidArgument { field, reason, .. } => {
                plugin.invalid(&format!("config.{field}"), reason).into()
            }
            other => other,
        })?;
        Ok(config)
    }

    /// Where the adapter keeps what must survive a restart when `dataDir` is unset:
    /// `o2dms/helm` under the user's data directory (`dirs::data_dir()`:
    /// `$XDG_DATA_HOME` or `~/.local/share` on Linux, `~/Library/Application Support` on
    /// macOS); `None` when the platform has none (no `HOME`).
    pub fn default_data_dir() -> Option<PathBuf> {
        dirs::data_dir().map(|d| d.join("o2dms").join("helm"))
    }

    /// The directory of the local package store: `packageDir`, else
    /// `<dataDir>/packages`, else `<default data dir>/packages`. InvalidArgument naming
    /// `dataDir` when none of these exists.
    pub fn package_location(&self) -> Result<PathBuf> {
        if let Some(p) = &self.package_dir {
            return Ok(p.clone());
        }
        self.data_dir
            .clone()
            .or_else(Self::default_data_dir)
            .map(|d| d.join("packages"))
            .ok_or_else(|| {
                Error::invalid(
                    "dataDir",
                    "there is no user data directory to keep packages in (HOME is unset); \
                     set dataDir or packageDir",
                )
            })
    }

    /// Reads the configuration file at `path` and returns the settings of the enabled
    /// plugin called `plugin_name`, or without a name of the default plugin (the enabled
    /// one marked `default: true`, else the only enabled one). Errors are
    /// [`Error::InvalidArgument`] naming the key path, as in
    /// [`from_plugin`](Self::from_plugin).
    pub fn from_config_file(
        path: impl AsRef<Path>,
        plugin_name: Option<&str>,
    ) -> Result<HelmConfig> {
        let file = o2dms_config::Config::from_path(path)?;
        HelmConfig::from_plugin(file.select(plugin_name)?)
    }

    /// Checks that the helm found (`major`) can do what the settings ask: Helm 3 has no
    /// server-side apply and no watcher wait. Unsupported naming the setting otherwise.
    pub(crate) fn check_for(&self, major: crate::HelmMajor) -> Result<()> {
        if major == crate::HelmMajor::V3 {
            if self.apply_method == ApplyMethod::ServerSide {
                return Err(Error::unsupported(
                    "applyMethod",
                    "Helm 3 applies client-side only; use Helm 4 for server-side apply",
                ));
            }
            if self.wait_strategy == Some(WaitStrategy::Watcher) {
                return Err(Error::unsupported(
                    "waitStrategy",
                    "Helm 3 has no watcher wait (it polls, as `legacy` does)",
                ));
            }
        }
        Ok(())
    }

    /// Checks every field, naming the first bad one as the configuration file spells it
    /// (`chartRepository`, `helmBinary`, ...).
    pub fn validate(&self) -> Result<()> {
        validate::namespace("namespace", &self.namespace)?;
        self.validate_namespaces()?;
        validate::timeout("timeout", self.timeout)?;
        validate::scale_key("scaleKey", &self.scale_key)?;
        if let Some(c) = &self.context {
            if c.is_empty() {
                return Err(Error::invalid("context", "must not be empty when set"));
            }
        }
        if let Some(r) = &self.chart_repository {
            // The rule the repository store applies at connect: https, or plain http to a
            // loopback host only. Its message may quote the URL, which may hold credentials.
            o2dms_store::HttpRepoStore::check_url(r, o2dms_store::PlainHttp::LoopbackOnly)
                .map_err(|e| match e {
                    Error::InvalidArgument { field, reason, .. } => {
                        Error::invalid(field, reason.replace(r.as_str(), "<chartRepository>"))
                    }
                    other => other,
                })?;
        }
        if let Some(r) = &self.registry {
            r.validate()?;
        }
        if !(Duration::from_secs(1)..=Duration::from_secs(600)).contains(&self.read_timeout) {
            return Err(Error::invalid("readTimeout", "must be 1s to 10m"));
        }
        if !(Duration::from_secs(3)..=Duration::from_secs(600)).contains(&self.lease_duration) {
            return Err(Error::invalid("leaseDuration", "must be 3s to 10m"));
        }
        if self.record_cache_bytes < 1024 * 1024 {
            return Err(Error::invalid(
                "recordCacheBytes",
                "must be at least 1 MiB (1048576)",
            ));
        }
        if self.max_values_bytes == 0 || self.max_values_bytes > validate::MAX_VALUES_BYTES {
            return Err(Error::invalid(
                "maxValuesBytes",
                format!("must be 1 to {} bytes", validate::MAX_VALUES_BYTES),
            ));
        }
        crate::redact::Redaction::check(&self.redact_values)?;
        if self.helm_binary.as_os_str().is_empty() {
            return Err(Error::invalid("helmBinary", "must not be empty"));
        }
        for (field, path) in [
            ("kubeconfig", &self.kubeconfig),
            ("workDir", &self.work_dir),
            ("dataDir", &self.data_dir),
            ("packageDir", &self.package_dir),
        ] {
            if path.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
                return Err(Error::invalid(field, "must not be empty when set"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
