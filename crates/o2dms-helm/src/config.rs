//! The adapter's configuration and its builder.

use std::path::PathBuf;
use std::time::Duration;

use o2dms_core::{validate, Error, Result};

/// Default time limit of a write (`timeout: 10m`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);
/// Default number of revisions Helm keeps per release (`maxHistory: 10`).
pub const DEFAULT_MAX_HISTORY: u32 = 10;
/// Default values key that `scale` sets.
pub const DEFAULT_SCALE_KEY: &str = "replicaCount";

/// Configuration of a [`HelmAdapter`](crate::HelmAdapter).
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelmConfig {
    /// Kubeconfig file; `None` infers as kubectl does (`KUBECONFIG`, `~/.kube/config`,
    /// in-cluster).
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context; `None` uses the current context.
    pub context: Option<String>,
    /// A chart repository URL: packages not in the local store are installed from it
    /// (`--repo URL NAME --version V`).
    pub chart_repository: Option<String>,
    /// The default namespace, for callers that build ids from a bare name
    /// ([`HelmAdapter::deployment_id`](crate::HelmAdapter::deployment_id)).
    pub namespace: String,
    /// Default time limit of a write (install/upgrade/rollback/uninstall `--timeout`).
    pub timeout: Duration,
    /// Revisions kept per release (`--history-max`; 0 = unlimited).
    pub max_history: u32,
    /// The `helm` binary (3.x or 4.x).
    pub helm_binary: PathBuf,
    /// Values key `scale` sets unless the deployment or the call says otherwise.
    pub scale_key: String,
    /// Directory the adapter owns: helm's cache/config/data homes and transient values
    /// files. A fresh temporary directory (removed with the adapter) if unset.
    pub work_dir: Option<PathBuf>,
    /// Directory of the local package store (`<name>-<version>.tgz`); `<work_dir>/packages`
    /// if unset.
    pub package_dir: Option<PathBuf>,
}

impl Default for HelmConfig {
    fn default() -> Self {
        HelmConfig {
            kubeconfig: None,
            context: None,
            chart_repository: None,
            namespace: "default".to_owned(),
            timeout: DEFAULT_TIMEOUT,
            max_history: DEFAULT_MAX_HISTORY,
            helm_binary: PathBuf::from("helm"),
            scale_key: DEFAULT_SCALE_KEY.to_owned(),
            work_dir: None,
            package_dir: None,
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

    /// Checks every field, naming the first bad one.
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
            // loopback host only.
            o2dms_store::HttpRepoStore::check_url(r, o2dms_store::PlainHttp::LoopbackOnly)?;
        }
        if self.helm_binary.as_os_str().is_empty() {
            return Err(Error::invalid("helmBinary", "must not be empty"));
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
}
