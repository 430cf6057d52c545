//! The configuration files of the servers under test: one plugin each, in the spec's
//! `plugins: {dms: [...]}` form, written as JSON (a YAML flow mapping, which
//! o2dms-config reads like any YAML). The in-process adapters are built from the same
//! settings, so both sides of a comparison run the same configuration.

use std::path::{Path, PathBuf};

use anyhow::Context;
use o2dms_mock::{MockPackage, MockSettings};
use serde_json::{json, Value};

/// The deployment manager name both servers host.
pub const DM: &str = "bench";

/// The mock of the read measurements: one package, `web@0.1.0`, with default values.
pub fn mock_settings() -> MockSettings {
    let mut settings = MockSettings::default();
    let values = serde_json::from_value(json!({"replicaCount": 1, "image": {"tag": "1.0"}}))
        .expect("a JSON object is values");
    settings
        .packages
        .push(MockPackage::new("web", "0.1.0").values(values));
    settings
}

/// A `type: mock` plugin named [`DM`] with `settings`.
pub fn mock_plugin(settings: &MockSettings) -> anyhow::Result<Value> {
    let config = serde_json::to_value(settings).context("encoding the mock settings")?;
    Ok(json!({"name": DM, "type": "mock", "enabled": true, "config": config}))
}

/// Where a Helm adapter of the run works and keeps packages.
pub struct HelmDirs<'a> {
    /// `dataDir`: the package store.
    pub data: &'a Path,
    /// `workDir`: helm's homes and values files.
    pub work: &'a Path,
}

/// A `type: helm` plugin named [`DM`] on the cluster of `kubeconfig` with the `helm`
/// binary: namespaces created by creates and deleted with their last deployment.
pub fn helm_plugin(kubeconfig: &Path, helm: &Path, dirs: &HelmDirs<'_>) -> Value {
    json!({
        "name": DM,
        "type": "helm",
        "enabled": true,
        "config": {
            "kubeconfig": kubeconfig,
            "helmBinary": helm,
            "dataDir": dirs.data,
            "workDir": dirs.work,
            "createNamespace": true,
            "deleteCreatedNamespaces": true,
        },
    })
}

/// The configuration file text of one plugin.
pub fn file_text(plugin: Value) -> String {
    json!({"plugins": {"dms": [plugin]}}).to_string()
}

/// Writes the configuration of `plugin` to `dir/dms.yaml`.
pub fn write(dir: &Path, plugin: Value) -> anyhow::Result<PathBuf> {
    let path = dir.join("dms.yaml");
    std::fs::write(&path, file_text(plugin))
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// The Helm adapter's settings as `o2dms serve` reads them from the same plugin.
pub fn helm_config(plugin: Value) -> anyhow::Result<o2dms_helm::HelmConfig> {
    let file = o2dms_config::Config::from_yaml_str(&file_text(plugin))
        .map_err(|e| anyhow::anyhow!("the helm plugin's configuration: {e}"))?;
    let plugin = file
        .select(None)
        .map_err(|e| anyhow::anyhow!("the helm plugin's configuration: {e}"))?;
    o2dms_helm::HelmConfig::from_plugin(plugin)
        .map_err(|e| anyhow::anyhow!("the helm plugin's configuration: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mock_plugin_reads_back_as_the_same_settings() {
        let settings = mock_settings();
        let text = file_text(mock_plugin(&settings).unwrap());
        let file = o2dms_config::Config::from_yaml_str(&text).unwrap();
        let plugin = file.select(None).unwrap();
        let read: MockSettings = plugin.settings().unwrap();
        assert_eq!(read, settings);
        o2dms_mock::MockAdapter::from_settings(&read).unwrap();
    }

    #[test]
    fn the_helm_plugin_reads_back() {
        let dirs = HelmDirs {
            data: Path::new("/tmp/d"),
            work: Path::new("/tmp/w"),
        };
        let plugin = helm_plugin(Path::new("/tmp/kc"), Path::new("/usr/bin/helm"), &dirs);
        let config = helm_config(plugin).unwrap();
        assert!(config.create_namespace && config.delete_created_namespaces);
        assert_eq!(config.data_dir.as_deref(), Some(Path::new("/tmp/d")));
        assert_eq!(config.helm_binary, Path::new("/usr/bin/helm"));
    }
}
