//! The O2-DMS plugin configuration, parsed from YAML.
//!
//! ```
//! use std::time::Duration;
//! let config = o2dms_config::Config::from_yaml_str(r#"
//! plugins:
//!   dms:
//!     - name: helm-deployer
//!       type: helm
//!       enabled: true
//!       default: true
//!       config:
//!         kubeconfig: /etc/kubernetes/admin.conf
//!         chartRepository: https://charts.example.com
//!         namespace: deployments
//!         timeout: 10m
//!         maxHistory: 10
//! "#)?;
//! let helm = config.default_plugin().unwrap();
//! assert_eq!(helm.config.timeout, Duration::from_secs(600));
//! assert_eq!(helm.config.scale_key, "replicaCount");
//!
//! let err = o2dms_config::Config::from_yaml_str("plugins:\n  dms:\n    - name: x\n      type: helm\n      colour: red\n").unwrap_err();
//! assert!(err.to_string().contains("line 5"), "{err}");
//! assert!(err.to_string().contains("colour"), "{err}");
//! # Ok::<(), o2dms_config::ConfigError>(())
//! ```

mod error;
mod model;

pub use error::ConfigError;
pub use model::{
    Config, DmsPlugin, PluginKind, PluginSettings, Plugins, DEFAULT_MAX_HISTORY, DEFAULT_TIMEOUT,
};
