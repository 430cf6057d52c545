//! The configuration model and its checks.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use crate::error::ConfigError;

/// Default wait for create, update, scale and rollback (the spec's `10m`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);
/// Default number of revisions kept per deployment (the spec's `10`; 0 = unlimited).
pub const DEFAULT_MAX_HISTORY: u32 = 10;

/// The whole configuration file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The plugins.
    pub plugins: Plugins,
}

/// The `plugins` section.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plugins {
    /// DMS plugins, in file order.
    #[serde(default)]
    pub dms: Vec<DmsPlugin>,
}

/// Which adapter a plugin uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PluginKind {
    /// The Helm adapter.
    Helm,
    /// The in-memory mock adapter.
    Mock,
}

/// One entry of `plugins.dms`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DmsPlugin {
    /// Unique name (a DNS-1123 label).
    pub name: String,
    /// Adapter type.
    #[serde(rename = "type")]
    pub kind: PluginKind,
    /// Whether it is used (default true).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Whether it is the default plugin (default false; at most one enabled plugin).
    #[serde(default)]
    pub default: bool,
    /// Adapter settings.
    #[serde(default)]
    pub config: PluginSettings,
}

fn yes() -> bool {
    true
}

/// A plugin's `config` block.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct PluginSettings {
    /// Kubeconfig file; unset: `$KUBECONFIG`, then `~/.kube/config`, then in-cluster.
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context; unset: the current context.
    pub context: Option<String>,
    /// Chart repository URL (`http://`, `https://` or `oci://`).
    pub chart_repository: Option<String>,
    /// Namespace for deployments that name none (default `default`).
    pub namespace: String,
    /// How long writes wait for readiness (default `10m`), e.g. `90s`, `1h30m`.
    #[serde(deserialize_with = "duration")]
    pub timeout: Duration,
    /// Revisions kept per deployment (default 10, 0 = unlimited).
    pub max_history: u32,
    /// The `helm` binary (default: `helm` on `PATH`).
    pub helm_binary: Option<PathBuf>,
    /// Values key that scale sets (default `replicaCount`).
    pub scale_key: String,
}

impl Default for PluginSettings {
    fn default() -> Self {
        PluginSettings {
            kubeconfig: None,
            context: None,
            chart_repository: None,
            namespace: "default".to_owned(),
            timeout: DEFAULT_TIMEOUT,
            max_history: DEFAULT_MAX_HISTORY,
            helm_binary: None,
            scale_key: "replicaCount".to_owned(),
        }
    }
}

fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    humantime::parse_duration(text.trim()).map_err(|e| {
        serde::de::Error::custom(format!(
            "invalid duration {text:?} ({e}); use e.g. `90s`, `10m`, `1h30m`"
        ))
    })
}

impl Config {
    /// Parses and checks a configuration.
    pub fn from_yaml_str(yaml: &str) -> Result<Config, ConfigError> {
        let config: Config = serde_saphyr::from_str(yaml).map_err(|e| ConfigError::Parse {
            message: e
                .to_string()
                .lines()
                .next()
                .unwrap_or("invalid YAML")
                .trim_start_matches("error: ")
                .to_owned(),
        })?;
        config.check()?;
        Ok(config)
    }

    /// Reads, parses and checks a configuration file.
    pub fn from_path(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_owned(),
            source,
        })?;
        Config::from_yaml_str(&text)
    }

    /// The plugin to use when none is named: the enabled one marked `default`, or the
    /// only enabled one.
    pub fn default_plugin(&self) -> Option<&DmsPlugin> {
        let mut enabled = self.plugins.dms.iter().filter(|p| p.enabled);
        self.plugins
            .dms
            .iter()
            .find(|p| p.enabled && p.default)
            .or_else(|| {
                let first = enabled.next();
                if enabled.next().is_none() {
                    first
                } else {
                    None
                }
            })
    }

    /// The enabled plugin called `name`.
    pub fn plugin(&self, name: &str) -> Option<&DmsPlugin> {
        self.plugins
            .dms
            .iter()
            .find(|p| p.enabled && p.name == name)
    }

    fn check(&self) -> Result<(), ConfigError> {
        let invalid = |key: String, reason: String| ConfigError::Invalid { key, reason };
        let mut defaults = 0;
        for (i, p) in self.plugins.dms.iter().enumerate() {
            let at = format!("plugins.dms[{i}]");
            o2dms_core::validate::namespace("name", &p.name)
                .map_err(|e| invalid(format!("{at}.name"), reason_of(e)))?;
            if self.plugins.dms[..i].iter().any(|q| q.name == p.name) {
                return Err(invalid(
                    format!("{at}.name"),
                    format!("`{}` is used by an earlier plugin", p.name),
                ));
            }
            if p.enabled && p.default {
                defaults += 1;
                if defaults > 1 {
                    return Err(invalid(
                        format!("{at}.default"),
                        "only one enabled plugin can be the default".into(),
                    ));
                }
            }
            let c = &p.config;
            let key = |k: &str| format!("{at}.config.{k}");
            o2dms_core::validate::namespace("namespace", &c.namespace)
                .map_err(|e| invalid(key("namespace"), reason_of(e)))?;
            o2dms_core::validate::timeout("timeout", c.timeout)
                .map_err(|e| invalid(key("timeout"), reason_of(e)))?;
            o2dms_core::validate::scale_key("scaleKey", &c.scale_key)
                .map_err(|e| invalid(key("scaleKey"), reason_of(e)))?;
            if let Some(url) = &c.chart_repository {
                let ok = ["http://", "https://", "oci://"]
                    .iter()
                    .any(|s| url.starts_with(s) && url.len() > s.len());
                if !ok || url.chars().any(char::is_whitespace) {
                    return Err(invalid(
                        key("chartRepository"),
                        "must be an http://, https:// or oci:// URL".into(),
                    ));
                }
            }
            if let Some(ctx) = &c.context {
                if ctx.is_empty() {
                    return Err(invalid(key("context"), "must not be empty".into()));
                }
            }
        }
        Ok(())
    }
}

fn reason_of(e: o2dms_core::Error) -> String {
    match e {
        o2dms_core::Error::InvalidArgument { reason, .. } => reason,
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(config: &str) -> String {
        let indented: String = config.lines().map(|l| format!("      {l}\n")).collect();
        format!("plugins:\n  dms:\n    - name: helm-deployer\n      type: helm\n{indented}")
    }

    #[test]
    fn spec_example_and_defaults() {
        let c = Config::from_yaml_str(&one(
            "config:\n  namespace: deployments\n  timeout: 90s\n  maxHistory: 0",
        ))
        .unwrap();
        let p = c.default_plugin().unwrap();
        assert_eq!(p.kind, PluginKind::Helm);
        assert!(p.enabled && !p.default);
        assert_eq!(p.config.timeout, Duration::from_secs(90));
        assert_eq!(p.config.max_history, 0);
        let c = Config::from_yaml_str(&one("")).unwrap();
        assert_eq!(c.plugins.dms[0].config, PluginSettings::default());
        assert_eq!(PluginSettings::default().timeout, Duration::from_secs(600));
    }

    #[test]
    fn unknown_keys_name_key_and_line() {
        let e = Config::from_yaml_str(&one("config:\n  namespace: x\n  maxHistroy: 3"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("maxHistroy") && e.contains("line 7"), "{e}");
        let e = Config::from_yaml_str("plugins:\n  dms: []\nextra: 1\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("extra") && e.contains("line 3"), "{e}");
    }

    #[test]
    fn bad_durations_name_the_line() {
        let e = Config::from_yaml_str(&one("config:\n  timeout: 10 minutes please"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 6") && e.contains("invalid duration"),
            "{e}"
        );
        let e = Config::from_yaml_str(&one("config:\n  timeout: 0s"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("plugins.dms[0].config.timeout"), "{e}");
    }

    #[test]
    fn values_are_checked_with_their_key() {
        let cases = [
            (
                "config:\n  namespace: Bad_NS",
                "plugins.dms[0].config.namespace",
            ),
            (
                "config:\n  chartRepository: ftp://x",
                "plugins.dms[0].config.chartRepository",
            ),
            (
                "config:\n  scaleKey: a..b",
                "plugins.dms[0].config.scaleKey",
            ),
        ];
        for (cfg, key) in cases {
            match Config::from_yaml_str(&one(cfg)) {
                Err(ConfigError::Invalid { key: k, .. }) => assert_eq!(k, key),
                other => panic!("{cfg}: {other:?}"),
            }
        }
        let two = "plugins:\n  dms:\n    - {name: a, type: helm, default: true}\n    - {name: a, type: mock}\n";
        assert!(
            matches!(Config::from_yaml_str(two), Err(ConfigError::Invalid { key, .. }) if key == "plugins.dms[1].name")
        );
        let two = "plugins:\n  dms:\n    - {name: a, type: helm, default: true}\n    - {name: b, type: mock, default: true}\n";
        assert!(
            matches!(Config::from_yaml_str(two), Err(ConfigError::Invalid { key, .. }) if key == "plugins.dms[1].default")
        );
    }

    #[test]
    fn default_plugin_choice() {
        let two = "plugins:\n  dms:\n    - {name: a, type: helm}\n    - {name: b, type: mock, default: true}\n";
        assert_eq!(
            Config::from_yaml_str(two)
                .unwrap()
                .default_plugin()
                .unwrap()
                .name,
            "b"
        );
        let two = "plugins:\n  dms:\n    - {name: a, type: helm}\n    - {name: b, type: mock}\n";
        assert!(Config::from_yaml_str(two)
            .unwrap()
            .default_plugin()
            .is_none());
        let off = "plugins:\n  dms:\n    - {name: a, type: helm, enabled: false, default: true}\n    - {name: b, type: mock}\n";
        assert_eq!(
            Config::from_yaml_str(off)
                .unwrap()
                .default_plugin()
                .unwrap()
                .name,
            "b"
        );
    }

    #[test]
    fn documented_example_parses() {
        let c = Config::from_yaml_str(include_str!("../../../docs/config.example.yaml")).unwrap();
        let p = c.default_plugin().unwrap();
        assert_eq!(
            (
                p.name.as_str(),
                p.config.namespace.as_str(),
                p.config.max_history
            ),
            ("helm-deployer", "deployments", 10)
        );
        assert_eq!(
            p.config.chart_repository.as_deref(),
            Some("https://charts.example.com")
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_any_text(s in "\\PC{0,200}") {
            let _ = Config::from_yaml_str(&s);
        }
    }
}
