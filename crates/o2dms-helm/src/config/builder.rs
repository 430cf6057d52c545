//! [`HelmConfigBuilder`]: a [`HelmConfig`] built in code, from the defaults.

use std::path::PathBuf;
use std::time::Duration;

use o2dms_core::Result;

use super::{ApplyMethod, HelmConfig, WaitStrategy};

/// Builds a [`HelmConfig`]; [`build`](Self::build) validates it.
#[derive(Debug, Clone)]
pub struct HelmConfigBuilder {
    pub(super) config: HelmConfig,
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

    /// An OCI registry as a package store.
    pub fn registry(mut self, registry: super::RegistryConfig) -> Self {
        self.config.registry = Some(registry);
        self
    }

    /// Default namespace.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.config.namespace = namespace.into();
        self
    }

    /// The namespaces the adapter serves ([`HelmConfig::namespaces`]); none: all.
    pub fn namespaces<S: Into<String>>(mut self, namespaces: impl IntoIterator<Item = S>) -> Self {
        self.config.namespaces = namespaces.into_iter().map(Into::into).collect();
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

    /// The directory for what must survive a restart (the package store).
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.config.data_dir = Some(dir.into());
        self
    }

    /// Rebuild the current chart from the release record when no store has it.
    pub fn rebuild_from_release(mut self, rebuild: bool) -> Self {
        self.config.rebuild_from_release = rebuild;
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

    /// Glob patterns on value keys whose values reads show as `[redacted]`
    /// ([`HelmConfig::redact_values`]).
    pub fn redact_values<S: Into<String>>(mut self, patterns: impl IntoIterator<Item = S>) -> Self {
        self.config.redact_values = patterns.into_iter().map(Into::into).collect();
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

    /// Take a Kubernetes Lease per release for every write ([`HelmConfig::lease_locking`]).
    pub fn lease_locking(mut self, on: bool) -> Self {
        self.config.lease_locking = on;
        self
    }

    /// How long a write's Lease holds without renewal ([`HelmConfig::lease_duration`]).
    pub fn lease_duration(mut self, duration: Duration) -> Self {
        self.config.lease_duration = duration;
        self
    }

    /// The configuration, validated.
    pub fn build(self) -> Result<HelmConfig> {
        self.config.validate()?;
        Ok(self.config)
    }
}
