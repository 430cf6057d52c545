//! Configuration errors.

use std::path::PathBuf;

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The YAML does not parse or does not fit the schema (unknown key, wrong type,
    /// bad duration); the message names the key and its line.
    #[error("configuration: {message}")]
    Parse {
        /// The parser's message, starting with `line L column C`.
        message: String,
    },
    /// A value parses but is not acceptable.
    #[error("configuration key `{key}`: {reason}")]
    Invalid {
        /// Dotted path of the key, e.g. `plugins.dms[0].config.namespace`.
        key: String,
        /// The rule it breaks.
        reason: String,
    },
    /// The file could not be read.
    #[error("configuration file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
}

impl From<ConfigError> for o2dms_core::Error {
    fn from(e: ConfigError) -> Self {
        match e {
            ConfigError::Invalid { key, reason } => o2dms_core::Error::invalid(key, reason),
            other => o2dms_core::Error::invalid("config", other.to_string()),
        }
    }
}
