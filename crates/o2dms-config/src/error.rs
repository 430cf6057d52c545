//! Configuration errors.

use std::path::PathBuf;

/// Why a configuration could not be used.
///
/// No variant quotes a configuration value: a value may be a secret (a URL with
/// credentials, a token). Keys, line numbers and the rule broken are enough to fix it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The text is not a YAML document (bad indentation, an unclosed quote, a repeated
    /// key); the message ends with the line and column.
    #[error("configuration: {message}")]
    Syntax {
        /// The YAML parser's message, without a source excerpt.
        message: String,
    },
    /// A key or its value does not fit: an unknown key, a wrong type, a bad duration, a
    /// broken rule. The message says what was expected and the kind of value found
    /// (`expected u32, found a string`), never the value.
    #[error("configuration key `{key}`{}: {reason}", at_line(*.line))]
    Invalid {
        /// Path of the key, e.g. `plugins.dms[0].config.maxHistory`.
        key: String,
        /// Line in the file, when known: serde-saphyr's (the offending key or value) for
        /// what every plugin shares; the plugin's first line for a rule on the entry (a
        /// repeated name, a second default); the first line of its `config` block for a
        /// key in it.
        line: Option<u64>,
        /// The rule it breaks.
        reason: String,
    },
    /// The file could not be read.
    #[error("configuration file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
}

fn at_line(line: Option<u64>) -> String {
    line.map(|l| format!(" (line {l})")).unwrap_or_default()
}

impl ConfigError {
    /// The key path the error is about, for [`ConfigError::Invalid`].
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Invalid { key, .. } => Some(key),
            _ => None,
        }
    }
}

/// Every configuration error is bad input: [`o2dms_core::Error::InvalidArgument`] whose
/// field is the key path (`plugins.dms[0].config.timeout`), `configuration` for a YAML
/// syntax error, or the file for one that cannot be read.
impl From<ConfigError> for o2dms_core::Error {
    fn from(e: ConfigError) -> Self {
        match e {
            ConfigError::Invalid { key, line, reason } => {
                o2dms_core::Error::invalid(key, format!("{reason}{}", at_line(line)))
            }
            ConfigError::Syntax { message } => o2dms_core::Error::invalid("configuration", message),
            ConfigError::Io { path, source } => {
                o2dms_core::Error::invalid(path.display().to_string(), source.to_string())
            }
        }
    }
}

/// `message` (serde's, or serde-saphyr's) without the value it may quote.
///
/// serde's `invalid type: string "hunter2", expected u32` and
/// ``invalid value: integer `-1`, expected u32`` become `expected u32, found a string` and
/// `expected u32, found an integer`; ``unknown variant `s3cr3t`, expected ...`` becomes
/// `unknown variant, expected ...`. Every other message is kept as it is: serde's quote at
/// most a field name (``unknown field `colour`, expected ...``, ``missing field `type` ``).
pub(crate) fn without_values(message: &str) -> String {
    // The expectation is the program's text and comes last; the value before it may hold
    // anything, `, expected ` included, so split at the last one.
    let typed = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "));
    if let Some(rest) = typed {
        return match rest.rsplit_once(", expected ") {
            Some((found, expected)) => format!("expected {expected}, found {}", kind(found)),
            None => format!("found {}", kind(rest)),
        };
    }
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        return match rest.rsplit_once(", expected ") {
            Some((_, expected)) => format!("unknown variant, expected {expected}"),
            None => "unknown variant".to_owned(),
        };
    }
    message.to_owned()
}

/// The kind of value in serde's description of it (`string "..."`, ``integer `5` ``,
/// `map`), without the value.
fn kind(unexpected: &str) -> &'static str {
    const KINDS: [(&str, &str); 10] = [
        ("string ", "a string"),
        ("integer ", "an integer"),
        ("floating point ", "a number"),
        ("boolean ", "a boolean"),
        ("character ", "a character"),
        ("unit value", "null"),
        ("null", "null"),
        ("sequence", "a sequence"),
        ("map", "a mapping"),
        ("byte array", "bytes"),
    ];
    KINDS
        .iter()
        .find(|(prefix, _)| unexpected.starts_with(prefix))
        .map_or("another kind of value", |(_, kind)| kind)
}

#[cfg(test)]
mod tests {
    use super::without_values;

    #[test]
    fn values_are_dropped_from_messages() {
        for (message, reduced) in [
            (
                "invalid type: string \"hunter2, expected x\", expected u32",
                "expected u32, found a string",
            ),
            (
                "invalid value: integer `-1`, expected u32",
                "expected u32, found an integer",
            ),
            (
                "invalid type: floating point `1.5`, expected u32",
                "expected u32, found a number",
            ),
            (
                "invalid type: boolean `true`, expected a string",
                "expected a string, found a boolean",
            ),
            (
                "invalid type: null, expected a string",
                "expected a string, found null",
            ),
            (
                "invalid type: map, expected a string",
                "expected a string, found a mapping",
            ),
            (
                "unknown variant `s3cr3t`, expected `helm` or `mock`",
                "unknown variant, expected `helm` or `mock`",
            ),
            (
                "unknown variant `s3cr3t`, there are no variants",
                "unknown variant",
            ),
            // field names only: kept
            (
                "unknown field `colour`, expected `name`",
                "unknown field `colour`, expected `name`",
            ),
            ("missing field `type`", "missing field `type`"),
        ] {
            assert_eq!(without_values(message), reduced, "{message}");
        }
    }
}
