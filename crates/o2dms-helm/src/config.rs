//! The adapter's configuration: its fields and their defaults, the builder, the checks,
//! and reading it from a `type: helm` entry of the spec's configuration file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use o2dms_config::{DmsPlugin, PluginKind};
use o2dms_core::{validate, Error, Result};
use serde::Deserialize;

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
    /// The default namespace (`namespace`), for callers that build ids from a bare name
    /// ([`HelmAdapter::deployment_id`](crate::HelmAdapter::deployment_id)).
    pub namespace: String,
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
    /// Directory the adapter owns (`workDir`): helm's cache/config/data homes and
    /// transient values files. A fresh temporary directory (removed with the adapter) if
    /// unset.
    pub work_dir: Option<PathBuf>,
    /// Directory of the local package store (`packageDir`; `<name>-<version>.tgz`);
    /// `<work_dir>/packages` if unset.
    pub package_dir: Option<PathBuf>,
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
}

/// How helm applies a chart's objects to the cluster.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ApplyMethod {
    /// helm's own default: Helm 4 installs with server-side apply and upgrades or rolls
    /// back the way the release was applied; Helm 3 applies client-side.
    #[default]
    Auto,
    /// Server-side apply (Helm 4 `--server-side=true`; Helm 3 cannot).
    ServerSide,
    /// Client-side apply (Helm 4 `--server-side=false`; what Helm 3 always does). For
    /// charts that server-side apply refuses, e.g. duplicate list entries (ingress-nginx
    /// 4.10 on a Kubernetes 1.20 API server).
    ClientSide,
}

/// How Helm 4 waits for a release to be ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum WaitStrategy {
    /// Watch the objects' status (kstatus): `--wait=watcher`. Helm 3 cannot.
    Watcher,
    /// Poll as Helm 3 does: `--wait=legacy` (Helm 3: `--wait`).
    Legacy,
}

/// The defaults, for the builder and for every key the configuration file leaves out.
impl Default for HelmConfig {
    fn default() -> Self {
        HelmConfig {
            kubeconfig: None,
            context: None,
            chart_repository: None,
            namespace: "default".to_owned(),
            timeout: Self::DEFAULT_TIMEOUT,
            max_history: Self::DEFAULT_MAX_HISTORY,
            helm_binary: PathBuf::from("helm"),
            scale_key: Self::DEFAULT_SCALE_KEY.to_owned(),
            work_dir: None,
            package_dir: None,
            max_values_bytes: Self::DEFAULT_MAX_VALUES_BYTES,
            read_timeout: Self::DEFAULT_READ_TIMEOUT,
            record_cache_bytes: Self::DEFAULT_RECORD_CACHE_BYTES,
            create_namespace: false,
            delete_created_namespaces: false,
            apply_method: ApplyMethod::Auto,
            skip_crds: false,
            disable_open_api_validation: false,
            wait_strategy: None,
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
        if !(Duration::from_secs(1)..=Duration::from_secs(600)).contains(&self.read_timeout) {
            return Err(Error::invalid("readTimeout", "must be 1s to 10m"));
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
        if self.helm_binary.as_os_str().is_empty() {
            return Err(Error::invalid("helmBinary", "must not be empty"));
        }
        for (field, path) in [
            ("kubeconfig", &self.kubeconfig),
            ("workDir", &self.work_dir),
            ("packageDir", &self.package_dir),
        ] {
            if path.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
                return Err(Error::invalid(field, "must not be empty when set"));
            }
        }
        Ok(())
    }
}

/// Builds a [`HelmConfig`]; [`build`](Self::build) validates it.
#[derive(Debug, Clone)]
pub struct HelmConfigBuilder {
    config: HelmConfig,
}

impl HelmConfigBuilder {
    /// Kubeconfig file.
    pub fn kubeconfig(mut self, path: impl Into<PathBuf>) -> Self {
        self.config.kubeconfig = Some(path.into());
        self
    }

    /// Kubeconfig context.
    pub fn context(mut self, context: impl Into<String>) -> Self {
        self.config.context = Some(context.into());
        self
    }

    /// Chart repository URL.
    pub fn chart_repository(mut self, url: impl Into<String>) -> Self {
        self.config.chart_repository = Some(url.into());
        self
    }

    /// Default namespace.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.config.namespace = namespace.into();
        self
    }

    /// Default write timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.config.timeout = timeout;
        self
    }

    /// Revisions kept per release.
    pub fn max_history(mut self, max_history: u32) -> Self {
        self.config.max_history = max_history;
        self
    }

    /// The `helm` binary.
    pub fn helm_binary(mut self, path: impl Into<PathBuf>) -> Self {
        self.config.helm_binary = path.into();
        self
    }

    /// Default scale key.
    pub fn scale_key(mut self, key: impl Into<String>) -> Self {
        self.config.scale_key = key.into();
        self
    }

    /// The adapter's own directory.
    pub fn work_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.config.work_dir = Some(dir.into());
        self
    }

    /// The package store directory.
    pub fn package_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.config.package_dir = Some(dir.into());
        self
    }

    /// Largest values file a write gives helm, in bytes.
    pub fn max_values_bytes(mut self, bytes: usize) -> Self {
        self.config.max_values_bytes = bytes;
        self
    }

    /// Create a deployment's namespace when it does not exist.
    pub fn create_namespace(mut self, create: bool) -> Self {
        self.config.create_namespace = create;
        self
    }

    /// Delete a namespace the adapter created when its last deployment is deleted.
    pub fn delete_created_namespaces(mut self, delete: bool) -> Self {
        self.config.delete_created_namespaces = delete;
        self
    }

    /// How helm applies objects.
    pub fn apply_method(mut self, method: ApplyMethod) -> Self {
        self.config.apply_method = method;
        self
    }

    /// Install no CRDs from the chart.
    pub fn skip_crds(mut self, skip: bool) -> Self {
        self.config.skip_crds = skip;
        self
    }

    /// Do not validate rendered objects against the cluster's OpenAPI schema.
    pub fn disable_open_api_validation(mut self, disable: bool) -> Self {
        self.config.disable_open_api_validation = disable;
        self
    }

    /// How Helm 4 waits for readiness.
    pub fn wait_strategy(mut self, strategy: WaitStrategy) -> Self {
        self.config.wait_strategy = Some(strategy);
        self
    }

    /// Memory for cached release records, in bytes.
    pub fn record_cache_bytes(mut self, bytes: u64) -> Self {
        self.config.record_cache_bytes = bytes;
        self
    }

    /// Longest wait for one read of the Kubernetes API.
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.config.read_timeout = timeout;
        self
    }

    /// The configuration, validated.
    pub fn build(self) -> Result<HelmConfig> {
        self.config.validate()?;
        Ok(self.config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_spec() {
        let c = HelmConfig::builder().build().unwrap();
        assert_eq!(c.timeout, Duration::from_secs(600));
        assert_eq!(c.max_history, 10);
        assert_eq!(c.scale_key, "replicaCount");
        assert_eq!(c.helm_binary, PathBuf::from("helm"));
    }

    #[test]
    fn bad_fields_are_named() {
        let field = |b: HelmConfigBuilder| match b.build() {
            Err(Error::InvalidArgument { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(HelmConfig::builder().namespace("Bad_NS")),
            "namespace"
        );
        assert_eq!(
            field(HelmConfig::builder().timeout(Duration::ZERO)),
            "timeout"
        );
        assert_eq!(field(HelmConfig::builder().scale_key("a..b")), "scaleKey");
        assert_eq!(
            field(HelmConfig::builder().chart_repository("ftp://x")),
            "chartRepository"
        );
        assert_eq!(field(HelmConfig::builder().context("")), "context");
        assert_eq!(field(HelmConfig::builder().helm_binary("")), "helmBinary");
        assert_eq!(field(HelmConfig::builder().work_dir("")), "workDir");
        assert_eq!(field(HelmConfig::builder().package_dir("")), "packageDir");
        assert_eq!(field(HelmConfig::builder().kubeconfig("")), "kubeconfig");
        // plain HTTP only on loopback, as the repository store will insist at connect
        assert_eq!(
            field(HelmConfig::builder().chart_repository("http://charts.example.com/")),
            "chartRepository"
        );
        assert_eq!(
            field(HelmConfig::builder().chart_repository("not a url")),
            "chartRepository"
        );
        for ok in [
            "https://charts.example.com/stable",
            "http://127.0.0.1:8080/",
            "http://localhost/",
        ] {
            assert!(
                HelmConfig::builder().chart_repository(ok).build().is_ok(),
                "{ok}"
            );
        }
    }

    /// The settings of the only plugin of a file whose helm entry's `config` block is
    /// `block` (indented by the caller's lines).
    fn from_block(block: &str) -> Result<HelmConfig> {
        let indented: String = block.lines().map(|l| format!("        {l}\n")).collect();
        let yaml = format!(
            "plugins:\n  dms:\n    - name: helm-deployer\n      type: helm\n      config:\n{indented}"
        );
        let file = o2dms_config::Config::from_yaml_str(&yaml)?;
        HelmConfig::from_plugin(file.select(None)?)
    }

    fn invalid(block: &str) -> (String, String) {
        match from_block(block) {
            Err(Error::InvalidArgument { field, reason, .. }) => (field, reason),
            other => panic!("{block}: {other:?}"),
        }
    }

    #[test]
    fn omitted_keys_take_the_defaults() {
        assert_eq!(from_block("").unwrap(), HelmConfig::default());
        let c = from_block("maxHistory: 0").unwrap();
        assert_eq!(
            c,
            HelmConfig {
                max_history: 0,
                ..HelmConfig::default()
            }
        );
    }

    #[test]
    fn every_key_in_camel_case() {
        let c = from_block(
            "kubeconfig: /etc/kubernetes/admin.conf\n\
             context: admin@edge\n\
             chartRepository: https://charts.example.com\n\
             namespace: deployments\n\
             timeout: 1h30m\n\
             maxHistory: 5\n\
             helmBinary: /opt/helm/bin/helm\n\
             scaleKey: du.replicas\n\
             workDir: /var/lib/o2dms\n\
             packageDir: /var/lib/o2dms/charts\n\
             maxValuesBytes: 1000\n\
             readTimeout: 5s\n\
             recordCacheBytes: 2097152\n\
             createNamespace: true\n\
             deleteCreatedNamespaces: true\n\
             applyMethod: client-side\n\
             skipCrds: true\n\
             disableOpenApiValidation: true\n\
             waitStrategy: legacy",
        )
        .unwrap();
        assert_eq!(
            c,
            HelmConfig {
                kubeconfig: Some("/etc/kubernetes/admin.conf".into()),
                context: Some("admin@edge".into()),
                chart_repository: Some("https://charts.example.com".into()),
                namespace: "deployments".into(),
                timeout: Duration::from_secs(5400),
                max_history: 5,
                helm_binary: "/opt/helm/bin/helm".into(),
                scale_key: "du.replicas".into(),
                work_dir: Some("/var/lib/o2dms".into()),
                package_dir: Some("/var/lib/o2dms/charts".into()),
                max_values_bytes: 1000,
                read_timeout: Duration::from_secs(5),
                record_cache_bytes: 2 * 1024 * 1024,
                create_namespace: true,
                delete_created_namespaces: true,
                apply_method: ApplyMethod::ClientSide,
                skip_crds: true,
                disable_open_api_validation: true,
                wait_strategy: Some(WaitStrategy::Legacy),
            }
        );
        assert_eq!(
            invalid("maxValuesBytes: 0").0,
            "plugins.dms[0].config.maxValuesBytes"
        );
        // the Rust spelling is not the file's
        let (field, reason) = invalid("max_history: 5");
        assert_eq!(field, "plugins.dms[0].config.max_history");
        assert!(reason.contains("unknown field `max_history`"), "{reason}");
    }

    #[test]
    fn unknown_keys_are_refused_with_their_path_and_line() {
        let (field, reason) = invalid("namespace: deployments\nmaxHistroy: 3");
        assert_eq!(field, "plugins.dms[0].config.maxHistroy");
        // the line of a settings error is the `config` block's first line
        assert!(
            reason.starts_with("unknown field `maxHistroy`, expected one of")
                && reason.ends_with("(line 6)"),
            "{reason}"
        );
    }

    #[test]
    fn bad_timeouts_are_refused() {
        for bad in [
            "timeout: 10 minutes please",
            "timeout: 600",
            "timeout: [10m]",
        ] {
            let (field, reason) = invalid(bad);
            assert_eq!(field, "plugins.dms[0].config.timeout", "{bad}");
            assert!(reason.contains("`90s`"), "{bad}: {reason}");
        }
        // parses, but breaks the rule every adapter shares
        let (field, reason) = invalid("timeout: 0s");
        assert_eq!(field, "plugins.dms[0].config.timeout");
        assert!(reason.contains("more than 0"), "{reason}");
    }

    #[test]
    fn checks_name_the_key_path_and_quote_no_secret() {
        let (field, _) = invalid("namespace: Bad_NS");
        assert_eq!(field, "plugins.dms[0].config.namespace");
        let (field, _) = invalid("scaleKey: a..b");
        assert_eq!(field, "plugins.dms[0].config.scaleKey");
        let (field, reason) =
            invalid("chartRepository: https://user:s3cret@charts.example.com:99999");
        assert_eq!(field, "plugins.dms[0].config.chartRepository");
        assert!(!reason.contains("s3cret"), "{reason}");
        let (field, reason) = invalid("maxHistory: s3cret");
        assert_eq!(field, "plugins.dms[0].config.maxHistory");
        assert!(!reason.contains("s3cret"), "{reason}");
    }

    #[test]
    fn the_example_file_documents_every_key() {
        // The example shows optional keys commented out; with them uncommented, every
        // field is set and every key is one the adapter knows.
        let example = include_str!("../../../docs/config.example.yaml");
        let uncommented: String = example
            .lines()
            .map(|l| match l.strip_prefix("        # ") {
                Some(key) => format!("        {key}\n"),
                None => format!("{l}\n"),
            })
            .collect();
        let file = o2dms_config::Config::from_yaml_str(&uncommented).unwrap();
        let plugin = file.select(None).unwrap();
        let c = HelmConfig::from_plugin(plugin).unwrap_or_else(|e| panic!("{e}"));
        let mut keys: Vec<&str> = plugin.config().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "applyMethod",
                "chartRepository",
                "context",
                "createNamespace",
                "deleteCreatedNamespaces",
                "disableOpenApiValidation",
                "helmBinary",
                "kubeconfig",
                "maxHistory",
                "maxValuesBytes",
                "namespace",
                "packageDir",
                "readTimeout",
                "recordCacheBytes",
                "scaleKey",
                "skipCrds",
                "timeout",
                "waitStrategy",
                "workDir"
            ]
        );
        assert!(c.context.is_some() && c.work_dir.is_some() && c.package_dir.is_some());
    }

    #[test]
    fn only_helm_plugins() {
        let file = o2dms_config::Config::from_yaml_str(
            "plugins:\n  dms:\n    - name: sim\n      type: mock\n",
        )
        .unwrap();
        match HelmConfig::from_plugin(&file.plugins()[0]) {
            Err(Error::InvalidArgument { field, reason, .. }) => {
                assert_eq!(field, "plugins.dms[0].type");
                assert!(reason.contains("`mock`"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn from_config_file_picks_the_plugin() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("o2dms.yaml");
        std::fs::write(
            &path,
            "plugins:\n  dms:\n\
             \x20   - {name: edge, type: helm, config: {namespace: edge}}\n\
             \x20   - {name: core, type: helm, default: true, config: {namespace: core}}\n\
             \x20   - {name: old, type: helm, enabled: false}\n\
             \x20   - {name: sim, type: mock}\n",
        )
        .unwrap();
        let ns = |name| HelmConfig::from_config_file(&path, name).map(|c| c.namespace);
        assert_eq!(ns(None).unwrap(), "core");
        assert_eq!(ns(Some("edge")).unwrap(), "edge");
        for (name, field) in [
            (Some("old"), "plugins.dms"),
            (Some("nope"), "plugins.dms"),
            (Some("sim"), "plugins.dms[3].type"),
        ] {
            match ns(name) {
                Err(Error::InvalidArgument { field: f, .. }) => assert_eq!(f, field, "{name:?}"),
                other => panic!("{name:?}: {other:?}"),
            }
        }
        match HelmConfig::from_config_file(dir.path().join("missing.yaml"), None) {
            Err(Error::InvalidArgument { field, .. }) => assert!(field.ends_with("missing.yaml")),
            other => panic!("{other:?}"),
        }
    }
}
