//! The O2-DMS plugin configuration: the spec's `plugins.dms[]` YAML, read in one place.
//! Beside `plugins`, a `server` section holds what `o2dms serve` needs: its access
//! control ([`server`]: tokens read from files or environment variables, never written
//! in the file; client certificates).
//!
//! [`Config`] reads the file and checks what every plugin shares: names are DNS-1123
//! labels and unique, `type` is known (`helm`, `mock`), at most one enabled plugin is the
//! default. Each plugin's `config` block stays untyped here; its adapter reads it into
//! its own settings type with [`DmsPlugin::settings`]. Unknown keys are errors. Every
//! error names the key path, a line and the reason: serde-saphyr's line of the offending
//! key or value in what every plugin shares, the plugin's first line for a rule on it,
//! the first line of its `config` block for its settings (not of the key itself). Errors
//! never quote a value: they say what was expected and the kind of value found
//! (`expected u32, found a string`).
//!
//! ```
//! use std::time::Duration;
//!
//! #[derive(serde::Deserialize)]
//! #[serde(deny_unknown_fields, rename_all = "camelCase")]
//! struct HelmSettings {
//!     namespace: String,
//!     #[serde(deserialize_with = "o2dms_config::duration::deserialize")]
//!     timeout: Duration,
//!     max_history: u32,
//! }
//!
//! let config = o2dms_config::Config::from_yaml_str(r#"
//! plugins:
//!   dms:
//!     - name: helm-deployer
//!       type: helm
//!       enabled: true
//!       default: true
//!       config:
//!         namespace: deployments
//!         timeout: 10m
//!         maxHistory: 10
//! "#)?;
//! let helm = config.select(None)?;
//! assert_eq!(helm.name(), "helm-deployer");
//! let settings: HelmSettings = helm.settings()?;
//! assert_eq!(settings.timeout, Duration::from_secs(600));
//! # Ok::<(), o2dms_config::ConfigError>(())
//! ```

pub mod duration;
mod error;
mod model;
pub mod server;

pub use error::ConfigError;
pub use model::{Config, DmsPlugin, PluginKind};
pub use server::{
    Anonymous, AuthSettings, ClientCertificates, ClientSettings, Scope, ServerSettings,
    TokenSettings, TokenSource,
};
