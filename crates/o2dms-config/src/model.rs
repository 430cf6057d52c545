//! The configuration model: the plugins, what every plugin shares, and the checks on it.
//!
//! The file is read by serde-saphyr straight into its outer shape ([`FileForm`]), with
//! serde_path_to_error naming the key path of an error and serde-saphyr its line; each
//! plugin's `config` block stays a [`serde_json::Map`] until its adapter reads it.

use std::fmt;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{Map, Value};
use serde_path_to_error::{Path as KeyPath, Segment};
use serde_saphyr::{MessageFormatter, Spanned, UserMessageFormatter};

use crate::error::{without_values, ConfigError};
use crate::server::{self, ServerForm, ServerSettings};

/// The configuration file: the spec's `plugins.dms[]`, checked.
///
/// What every plugin has (`name`, `type`, `enabled`, `default`) is read and checked
/// here; each plugin's `config` block stays untyped until its adapter reads it with
/// [`DmsPlugin::settings`].
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    plugins: Vec<DmsPlugin>,
    server: ServerSettings,
}

/// Which adapter a plugin uses (its `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum PluginKind {
    /// `helm`: the Helm adapter.
    Helm,
    /// `mock`: the in-memory mock adapter.
    Mock,
}

impl PluginKind {
    /// The spelling in the file (`helm`, `mock`).
    pub fn as_str(self) -> &'static str {
        match self {
            PluginKind::Helm => "helm",
            PluginKind::Mock => "mock",
        }
    }
}

impl fmt::Display for PluginKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of `plugins.dms`.
#[derive(Debug, Clone, PartialEq)]
pub struct DmsPlugin {
    name: String,
    kind: PluginKind,
    enabled: bool,
    default: bool,
    config: Map<String, Value>,
    key: String,
    /// First line of the entry.
    line: Option<u64>,
    /// First line of its `config` block, when it has one.
    config_line: Option<u64>,
}

impl DmsPlugin {
    /// Its name (a DNS-1123 label, unique in the file).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its `type`.
    pub fn kind(&self) -> PluginKind {
        self.kind
    }

    /// Whether it is used (`enabled`, default true).
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// Whether it is marked `default: true` (default false).
    pub fn is_default(&self) -> bool {
        self.default
    }

    /// Its key path in the file, e.g. `plugins.dms[0]`.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Its `config` block as written (empty when absent).
    pub fn config(&self) -> &Map<String, Value> {
        &self.config
    }

    /// The key path of `key` within this entry: `type` gives `plugins.dms[0].type`,
    /// `config.maxHistory` gives `plugins.dms[0].config.maxHistory`.
    pub fn key_of(&self, key: &str) -> String {
        format!("{}.{key}", self.key)
    }

    /// Reads the `config` block as the adapter's own settings type, with
    /// serde_path_to_error over the block as a [`serde_json`] value. Errors name the key
    /// path (`plugins.dms[0].config.maxHistory`) and the reason, and never quote a value;
    /// their line is the first line of the entry's `config` block (of the entry when it
    /// has none), not of the key itself.
    ///
    /// The block is read as serde_json reads JSON: a value must have the type of its field
    /// (`namespace: 123` for a string is an error naming `namespace`), and a key with
    /// nothing after it (`key:`, a YAML null) is `None` for an `Option` field and an error
    /// for any other type. A key left out takes the type's default (`#[serde(default)]`).
    ///
    /// ```
    /// #[derive(serde::Deserialize)]
    /// #[serde(deny_unknown_fields, rename_all = "camelCase")]
    /// struct Settings {
    ///     max_history: u32,
    /// }
    ///
    /// let config = o2dms_config::Config::from_yaml_str(
    ///     "plugins:\n  dms:\n    - name: a\n      type: mock\n      config:\n        maxHistory: ten\n",
    /// )?;
    /// let err = config.plugins()[0].settings::<Settings>().err().unwrap();
    /// assert_eq!(err.key(), Some("plugins.dms[0].config.maxHistory"));
    /// assert_eq!(
    ///     err.to_string(),
    ///     "configuration key `plugins.dms[0].config.maxHistory` (line 6): expected u32, found a string"
    /// );
    /// # Ok::<(), o2dms_config::ConfigError>(())
    /// ```
    pub fn settings<T: DeserializeOwned>(&self) -> Result<T, ConfigError> {
        // A mapping even when the block is absent, so that absent settings get defaults.
        serde_path_to_error::deserialize(&self.config).map_err(|e| ConfigError::Invalid {
            key: key_path(&self.key_of("config"), e.path().iter()),
            line: self.config_line.or(self.line),
            reason: without_values(&e.inner().to_string()),
        })
    }

    /// A [`ConfigError::Invalid`] for `key` within this entry (as in
    /// [`key_of`](Self::key_of)), for an adapter's own checks on settings that parsed.
    /// Its line is the first line of the `config` block for a key in it (`config.timeout`),
    /// else of the entry.
    pub fn invalid(&self, key: &str, reason: impl Into<String>) -> ConfigError {
        let in_config = key == "config" || key.starts_with("config.") || key.starts_with("config[");
        ConfigError::Invalid {
            line: if in_config {
                self.config_line.or(self.line)
            } else {
                self.line
            },
            key: self.key_of(key),
            reason: reason.into(),
        }
    }
}

/// The file's shape; what a plugin's `config` holds is its adapter's business. A key with
/// nothing after it (`plugins:`, `enabled:`) is as if left out.
#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a mapping with `plugins` and `server`"
)]
struct FileForm {
    #[serde(default)]
    plugins: Option<PluginsForm>,
    #[serde(default)]
    server: Option<ServerForm>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a mapping with `dms`")]
struct PluginsForm {
    /// Each entry with its location.
    #[serde(default)]
    dms: Option<Vec<Spanned<PluginForm>>>,
}

#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a plugin: a mapping with `name` and `type`"
)]
struct PluginForm {
    name: String,
    #[serde(rename = "type")]
    kind: PluginKind,
    /// Default true.
    #[serde(default)]
    enabled: Option<bool>,
    /// Default false.
    #[serde(default)]
    default: Option<bool>,
    /// The block with its location.
    #[serde(default)]
    config: Option<Spanned<Map<String, Value>>>,
}

/// A serde-saphyr line (1-based; 0 when unknown).
pub(crate) fn line_of(location: serde_saphyr::Location) -> Option<u64> {
    Some(location.line()).filter(|&l| l > 0)
}

/// `root` followed by the segments of a serde_path_to_error path: `maxHistory` under
/// `plugins.dms[0].config` is `plugins.dms[0].config.maxHistory`, `[1]` is `...[1]`.
fn key_path<'a>(root: &str, segments: impl Iterator<Item = &'a Segment>) -> String {
    let mut key = root.to_owned();
    for segment in segments {
        if !key.is_empty() && !matches!(segment, Segment::Seq { .. }) {
            key.push('.');
        }
        key.push_str(&segment.to_string());
    }
    key
}

/// The key path of an error in the file's outer shape, as the file spells it.
///
/// serde_path_to_error sees each [`Spanned`] wrapper (of a plugin entry
/// `plugins.dms[0]` and its `config` block, of `server.auth` and of its `tokens[i]` and
/// `clients[i]` entries) as a mapping whose `value` key holds the wrapped value; that
/// step is not in the file, so it is left out: `plugins.dms[0].value.config.value.x` is
/// `plugins.dms[0].config.x`. Only one step per wrapper: an unknown key `value` written
/// in the file is kept (`server.auth.tokens[0].value`).
fn file_key(path: &KeyPath) -> String {
    let mut key = String::new();
    let mut unwrapped = false;
    for segment in path.iter() {
        let is_value = matches!(segment, Segment::Map { key } if key == "value");
        if is_value && !unwrapped && spanned_at(&key) {
            unwrapped = true;
            continue;
        }
        unwrapped = false;
        key = key_path(&key, std::iter::once(segment));
    }
    if key.is_empty() {
        "(document)".to_owned()
    } else {
        key
    }
}

/// Whether the value at `key` is read through a [`Spanned`] wrapper.
fn spanned_at(key: &str) -> bool {
    let entry = |key: &str, list: &str| {
        key.strip_prefix(list)
            .and_then(|r| r.strip_prefix('['))
            .and_then(|r| r.strip_suffix(']'))
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
    };
    key == "server.auth"
        || entry(key, "plugins.dms")
        || entry(key, "server.auth.tokens")
        || entry(key, "server.auth.clients")
        || key
            .strip_suffix(".config")
            .is_some_and(|k| entry(k, "plugins.dms"))
}

/// A serde-saphyr error as a [`ConfigError`]: text that is not one YAML document is
/// [`ConfigError::Syntax`] (its message ends with the line and column); a value that does
/// not fit the file's shape is [`ConfigError::Invalid`] at its key path (`path`, from
/// serde_path_to_error) and line. serde-saphyr's user-facing wording, without values.
fn file_error(e: &serde_saphyr::Error, path: Option<&KeyPath>) -> ConfigError {
    use serde_saphyr::Error as E;
    let mut inner = e.without_snippet();
    while let E::AliasError { error, .. } = inner {
        inner = error;
    }
    let not_yaml = matches!(
        inner,
        E::ExternalMessage { .. }
            | E::Eof { .. }
            | E::MultipleDocuments { .. }
            | E::DuplicateMappingKey { .. }
            | E::UnknownAnchor { .. }
            | E::InvalidUtf8Input
            | E::IndentationError { .. }
            | E::Budget { .. }
    );
    if not_yaml {
        return ConfigError::Syntax {
            message: without_values(&e.render_with_formatter(&UserMessageFormatter)),
        };
    }
    let reason = match inner {
        // Its message quotes the number (`.nan`, `1e999`).
        E::NonFiniteFloat { .. } => "not a finite number".to_owned(),
        _ => without_values(&UserMessageFormatter.format_message(inner)),
    };
    let key = path.map_or_else(|| "(document)".to_owned(), file_key);
    let reason = match server::inline_secret_hint(&key, &reason) {
        Some(hint) => format!("{reason}; {hint}"),
        None => reason,
    };
    ConfigError::Invalid {
        key,
        line: inner.location().and_then(line_of),
        reason,
    }
}

impl Config {
    /// Parses and checks a configuration. An empty text has no plugins.
    ///
    /// ```
    /// let config = o2dms_config::Config::from_yaml_str(r#"
    /// plugins:
    ///   dms:
    ///     - name: helm-deployer
    ///       type: helm
    ///       default: true
    ///       config:
    ///         namespace: deployments
    ///         timeout: 10m
    /// "#)?;
    /// let helm = config.default_plugin().unwrap();
    /// assert_eq!(helm.kind(), o2dms_config::PluginKind::Helm);
    /// assert_eq!(helm.config()["timeout"], "10m");
    ///
    /// let err = o2dms_config::Config::from_yaml_str(
    ///     "plugins:\n  dms:\n    - name: x\n      type: helm\n      colour: red\n",
    /// )
    /// .unwrap_err();
    /// assert_eq!(err.key(), Some("plugins.dms[0].colour"));
    /// assert!(err.to_string().contains("(line 5)"), "{err}");
    /// # Ok::<(), o2dms_config::ConfigError>(())
    /// ```
    pub fn from_yaml_str(yaml: &str) -> Result<Config, ConfigError> {
        // No source excerpt in messages: it would repeat values, which may be secret.
        let options = serde_saphyr::options! { with_snippet: false };
        let mut path = None;
        // An empty text (or only comments) is a null document: `None`.
        let form = serde_saphyr::with_deserializer_from_str_with_options(yaml, options, |d| {
            serde_path_to_error::deserialize::<_, Option<FileForm>>(d).map_err(|e| {
                path = Some(e.path().clone());
                e.into_inner()
            })
        })
        .map_err(|e| file_error(&e, path.as_ref()))?;
        let (plugins, server) = form.map_or((None, None), |f| (f.plugins, f.server));
        let entries = plugins.and_then(|p| p.dms).unwrap_or_default();
        let plugins = entries
            .into_iter()
            .enumerate()
            .map(|(i, entry)| {
                let p = entry.value;
                let (config, config_line) = match p.config {
                    Some(block) => (block.value, line_of(block.referenced)),
                    None => (Map::new(), None),
                };
                DmsPlugin {
                    name: p.name,
                    kind: p.kind,
                    enabled: p.enabled.unwrap_or(true),
                    default: p.default.unwrap_or(false),
                    config,
                    key: format!("plugins.dms[{i}]"),
                    line: line_of(entry.referenced),
                    config_line,
                }
            })
            .collect();
        let mut config = Config {
            plugins,
            server: ServerSettings::default(),
        };
        config.check()?;
        if let Some(server) = server {
            config.server = server::settings(server, &config.plugins)?;
        }
        Ok(config)
    }

    /// Reads, parses and checks a configuration file.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_owned(),
            source,
        })?;
        Config::from_yaml_str(&text).map_err(|e| match e {
            ConfigError::Syntax { message } => ConfigError::Syntax {
                message: format!("{}: {message}", path.display()),
            },
            other => other,
        })
    }

    /// The `server` section (empty when the file has none): what `o2dms serve` needs
    /// besides the plugins, its access control (`server.auth`).
    pub fn server(&self) -> &ServerSettings {
        &self.server
    }

    /// Every plugin, enabled or not, in file order.
    pub fn plugins(&self) -> &[DmsPlugin] {
        &self.plugins
    }

    /// The enabled plugin called `name`.
    pub fn plugin(&self, name: &str) -> Option<&DmsPlugin> {
        self.enabled().find(|p| p.name == name)
    }

    /// The plugin to use when none is named: the enabled one marked `default`, else the
    /// only enabled one. Disabled plugins never count.
    pub fn default_plugin(&self) -> Option<&DmsPlugin> {
        self.enabled().find(|p| p.default).or_else(|| {
            let mut enabled = self.enabled();
            match (enabled.next(), enabled.next()) {
                (Some(only), None) => Some(only),
                _ => None,
            }
        })
    }

    /// The enabled plugin called `name`, or with no name the
    /// [default one](Self::default_plugin); the error says which exist.
    pub fn select(&self, name: Option<&str>) -> Result<&DmsPlugin, ConfigError> {
        let found = match name {
            Some(n) => self.plugin(n),
            None => self.default_plugin(),
        };
        found.ok_or_else(|| {
            let enabled: Vec<String> = self.enabled().map(|p| format!("`{}`", p.name)).collect();
            let have = if enabled.is_empty() {
                "there is no enabled plugin".to_owned()
            } else {
                format!("enabled plugins: {}", enabled.join(", "))
            };
            let reason = match name {
                Some(n) => format!("no enabled plugin is called `{n}` ({have})"),
                None => format!(
                    "no default plugin: mark one enabled plugin `default: true`, or name one ({have})"
                ),
            };
            ConfigError::Invalid {
                key: "plugins.dms".to_owned(),
                line: self.plugins.first().and_then(|p| p.line),
                reason,
            }
        })
    }

    fn enabled(&self) -> impl Iterator<Item = &DmsPlugin> {
        self.plugins.iter().filter(|p| p.enabled)
    }

    /// Names are DNS-1123 labels and unique; at most one enabled plugin is the default.
    fn check(&self) -> Result<(), ConfigError> {
        let invalid = |p: &DmsPlugin, key: &str, reason: String| p.invalid(key, reason);
        let mut default: Option<&DmsPlugin> = None;
        for (i, p) in self.plugins.iter().enumerate() {
            if let Err(e) = o2dms_core::validate::namespace("name", &p.name) {
                return Err(invalid(
                    p,
                    "name",
                    format!("a plugin name is a DNS-1123 label: {}", reason_of(e)),
                ));
            }
            if let Some(first) = self.plugins[..i].iter().find(|q| q.name == p.name) {
                return Err(invalid(
                    p,
                    "name",
                    format!("`{}` is already the name of {}", p.name, first.key),
                ));
            }
            if p.enabled && p.default {
                if let Some(first) = default {
                    return Err(invalid(
                        p,
                        "default",
                        format!(
                            "{} is already the default; at most one enabled plugin can be",
                            first.key
                        ),
                    ));
                }
                default = Some(p);
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

    /// One helm plugin whose entry continues with `rest` (indented into the entry).
    fn one(rest: &str) -> String {
        let indented: String = rest.lines().map(|l| format!("      {l}\n")).collect();
        format!("plugins:\n  dms:\n    - name: helm-deployer\n      type: helm\n{indented}")
    }

    fn invalid(yaml: &str) -> (String, Option<u64>, String) {
        match Config::from_yaml_str(yaml) {
            Err(ConfigError::Invalid { key, line, reason }) => (key, line, reason),
            other => panic!("{yaml}: {other:?}"),
        }
    }

    #[derive(Debug, PartialEq, serde::Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase", default)]
    struct Settings {
        namespace: String,
        max_history: u32,
        #[serde(deserialize_with = "crate::duration::deserialize")]
        timeout: std::time::Duration,
    }

    impl Default for Settings {
        fn default() -> Self {
            Settings {
                namespace: "default".into(),
                max_history: 10,
                timeout: std::time::Duration::from_secs(600),
            }
        }
    }

    fn settings_error(config: &str) -> (String, Option<u64>, String) {
        let c = Config::from_yaml_str(&one(config)).unwrap();
        match c.plugins()[0].settings::<Settings>() {
            Err(ConfigError::Invalid { key, line, reason }) => (key, line, reason),
            other => panic!("{config}: {other:?}"),
        }
    }

    #[test]
    fn common_fields_and_the_untyped_block() {
        let c = Config::from_yaml_str(&one(
            "config:\n  namespace: deployments\n  timeout: 90s\n  anything: [1, 2]",
        ))
        .unwrap();
        let p = c.default_plugin().unwrap();
        assert_eq!(
            (p.name(), p.kind(), p.key()),
            ("helm-deployer", PluginKind::Helm, "plugins.dms[0]")
        );
        assert!(
            p.is_enabled() && !p.is_default(),
            "enabled by default, not the default"
        );
        assert_eq!(
            Value::Object(p.config().clone()),
            serde_json::json!({"namespace": "deployments", "timeout": "90s", "anything": [1, 2]})
        );
        assert_eq!(p.key_of("config.timeout"), "plugins.dms[0].config.timeout");
        // a key in the block: the block's first line (namespace, line 6)
        let e = p.invalid("config.timeout", "too long");
        assert_eq!(
            e.to_string(),
            "configuration key `plugins.dms[0].config.timeout` (line 6): too long"
        );
        // a key of the entry: the entry's first line
        let e = p.invalid("type", "not here");
        assert_eq!(
            e.to_string(),
            "configuration key `plugins.dms[0].type` (line 3): not here"
        );
        // no config block, or an empty one: an empty mapping
        for rest in ["", "config:", "config: {}"] {
            let c = Config::from_yaml_str(&one(rest)).unwrap();
            assert!(c.plugins()[0].config().is_empty(), "{rest:?}");
        }
        // `enabled:` and `default:` with nothing after them: their defaults
        let c = Config::from_yaml_str(&one("enabled:\ndefault:")).unwrap();
        assert!(c.plugins()[0].is_enabled() && !c.plugins()[0].is_default());
        assert!(Config::from_yaml_str("").unwrap().plugins().is_empty());
        assert!(Config::from_yaml_str("plugins:\n  dms: []\n")
            .unwrap()
            .plugins()
            .is_empty());
    }

    #[test]
    fn unknown_keys_are_named_with_path_and_line() {
        assert_eq!(
            invalid(&one("colour: red")),
            (
                "plugins.dms[0].colour".into(),
                Some(5),
                "unknown field `colour`, expected one of name, type, enabled, default, config"
                    .into()
            )
        );
        let (key, line, _) = invalid(&one("config: {}\nextra:\n  deeper: 1"));
        assert_eq!((key.as_str(), line), ("plugins.dms[0].extra", Some(6)));
        let (key, line, _) = invalid("plugins:\n  dms: []\nextra: 1\n");
        assert_eq!((key.as_str(), line), ("extra", Some(3)));
        let (key, line, _) = invalid("plugins:\n  dms: []\n  gitops: []\n");
        assert_eq!((key.as_str(), line), ("plugins.gitops", Some(3)));
    }

    #[test]
    fn types_are_known() {
        let (key, line, reason) = invalid("plugins:\n  dms:\n    - name: a\n      type: gitops\n");
        assert_eq!((key.as_str(), line), ("plugins.dms[0].type", Some(4)));
        assert_eq!(reason, "unknown variant, expected one of helm, mock");
        let (key, _, reason) = invalid("plugins:\n  dms:\n    - name: a\n");
        assert_eq!(key, "plugins.dms[0]");
        assert!(reason.contains("missing field `type`"), "{reason}");
        let (key, line, _) =
            invalid("plugins:\n  dms:\n    - name: a\n      type: mock\n      config: [1]\n");
        assert_eq!((key.as_str(), line), ("plugins.dms[0].config", Some(5)));
        let (key, line, _) = invalid("plugins:\n  dms:\n    - {name: a, type: mock, enabled: x}\n");
        assert_eq!((key.as_str(), line), ("plugins.dms[0].enabled", Some(3)));
        let (key, _, _) = invalid("plugins:\n  dms: {name: a}\n");
        assert_eq!(key, "plugins.dms");
        let (key, _, _) = invalid("[1, 2]\n");
        assert_eq!(key, "(document)");
    }

    #[test]
    fn names_are_dns_labels_and_unique() {
        let (key, line, reason) = invalid("plugins:\n  dms:\n    - {name: Helm_1, type: helm}\n");
        assert_eq!((key.as_str(), line), ("plugins.dms[0].name", Some(3)));
        assert!(reason.contains("DNS-1123 label"), "{reason}");
        let two = "plugins:\n  dms:\n    - {name: a, type: helm}\n    - {name: a, type: mock, enabled: false}\n";
        let (key, line, reason) = invalid(two);
        assert_eq!((key.as_str(), line), ("plugins.dms[1].name", Some(4)));
        assert_eq!(reason, "`a` is already the name of plugins.dms[0]");
    }

    #[test]
    fn at_most_one_enabled_default() {
        let two = "plugins:\n  dms:\n    - {name: a, type: helm, default: true}\n    - {name: b, type: mock, default: true}\n";
        let (key, line, reason) = invalid(two);
        assert_eq!((key.as_str(), line), ("plugins.dms[1].default", Some(4)));
        assert!(
            reason.contains("plugins.dms[0] is already the default"),
            "{reason}"
        );
        let off = "plugins:\n  dms:\n    - {name: a, type: helm, default: true, enabled: false}\n    - {name: b, type: mock, default: true}\n";
        assert_eq!(
            Config::from_yaml_str(off)
                .unwrap()
                .default_plugin()
                .unwrap()
                .name(),
            "b"
        );
    }

    #[test]
    fn default_plugin_and_select() {
        let pick = |yaml: &str| {
            Config::from_yaml_str(yaml)
                .unwrap()
                .default_plugin()
                .map(|p| p.name().to_owned())
        };
        let yaml = "plugins:\n  dms:\n    - {name: a, type: helm}\n    - {name: b, type: mock, default: true}\n";
        assert_eq!(pick(yaml).as_deref(), Some("b"));
        // two enabled, none marked: no default
        assert_eq!(
            pick("plugins:\n  dms:\n    - {name: a, type: helm}\n    - {name: b, type: mock}\n"),
            None
        );
        // a disabled default is ignored; the only enabled plugin is the default
        let off = "plugins:\n  dms:\n    - {name: a, type: helm, enabled: false, default: true}\n    - {name: b, type: mock}\n";
        assert_eq!(pick(off).as_deref(), Some("b"));
        // only disabled plugins: none
        assert_eq!(
            pick("plugins:\n  dms:\n    - {name: a, type: helm, enabled: false}\n"),
            None
        );

        let c = Config::from_yaml_str(off).unwrap();
        assert_eq!(c.select(Some("b")).unwrap().name(), "b");
        assert_eq!(c.select(None).unwrap().name(), "b");
        assert!(c.plugin("a").is_none(), "disabled");
        let e = c.select(Some("a")).unwrap_err();
        assert_eq!(e.key(), Some("plugins.dms"));
        assert!(
            e.to_string()
                .contains("no enabled plugin is called `a` (enabled plugins: `b`)"),
            "{e}"
        );
        let c = Config::from_yaml_str(
            "plugins:\n  dms:\n    - {name: a, type: helm}\n    - {name: b, type: mock}\n",
        )
        .unwrap();
        let e = c.select(None).unwrap_err().to_string();
        assert!(e.contains("no default plugin"), "{e}");
    }

    #[test]
    fn typed_settings_with_defaults() {
        let c = Config::from_yaml_str(&one("config:\n  namespace: deployments\n  timeout: 90s"))
            .unwrap();
        let s: Settings = c.plugins()[0].settings().unwrap();
        assert_eq!(
            s,
            Settings {
                namespace: "deployments".into(),
                timeout: std::time::Duration::from_secs(90),
                ..Settings::default()
            }
        );
        let c = Config::from_yaml_str(&one("")).unwrap();
        assert_eq!(
            c.plugins()[0].settings::<Settings>().unwrap(),
            Settings::default()
        );
    }

    #[test]
    fn typed_settings_errors_name_the_path() {
        // The line is the block's first line (6), whichever key is wrong.
        let (key, line, reason) = settings_error("config:\n  namespace: x\n  maxHistroy: 3");
        assert_eq!(
            (key.as_str(), line),
            ("plugins.dms[0].config.maxHistroy", Some(6))
        );
        assert!(
            reason.starts_with("unknown field `maxHistroy`, expected one of"),
            "{reason}"
        );

        let (key, line, reason) = settings_error("config:\n  maxHistory: -1");
        assert_eq!(
            (key.as_str(), line),
            ("plugins.dms[0].config.maxHistory", Some(6))
        );
        assert_eq!(reason, "expected u32, found an integer");

        let (key, line, reason) = settings_error("config:\n  timeout: 10 minutes please");
        assert_eq!(
            (key.as_str(), line),
            ("plugins.dms[0].config.timeout", Some(6))
        );
        assert!(reason.starts_with("not a duration"), "{reason}");

        let (key, _, reason) = settings_error("config:\n  timeout: 90");
        assert_eq!(key, "plugins.dms[0].config.timeout");
        assert!(reason.contains("`90s`"), "{reason}");

        let (key, _, reason) = settings_error("config:\n  namespace: {a: 1}");
        assert_eq!(key, "plugins.dms[0].config.namespace");
        assert_eq!(reason, "expected a string, found a mapping");

        // plain serde_json types: a number is not text
        let (key, _, reason) = settings_error("config:\n  namespace: 123");
        assert_eq!(key, "plugins.dms[0].config.namespace");
        assert_eq!(reason, "expected a string, found an integer");

        // an entry in a flow mapping: the entry's line
        let c = Config::from_yaml_str(
            "plugins:\n  dms:\n    - {name: a, type: mock}\n    - {name: b, type: mock, config: {maxHistory: x}}\n",
        )
        .unwrap();
        let e = c.plugins()[1].settings::<Settings>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "configuration key `plugins.dms[1].config.maxHistory` (line 4): expected u32, found a string"
        );
    }

    #[derive(Debug, PartialEq, serde::Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct Nested {
        #[serde(default)]
        ports: Vec<Port>,
        #[serde(default)]
        label: Option<String>,
        #[serde(default)]
        mode: Option<Mode>,
    }

    #[derive(Debug, PartialEq, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Port {
        port: u16,
    }

    #[derive(Debug, PartialEq, serde::Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum Mode {
        Fast,
        Limit(u32),
    }

    fn nested(config: &str) -> Result<Nested, ConfigError> {
        Config::from_yaml_str(&one(config)).unwrap().plugins()[0].settings()
    }

    #[test]
    fn nested_settings_paths_and_nulls() {
        let n = nested("config:\n  ports: [{port: 80}]\n  label:\n  mode: {limit: 2}").unwrap();
        assert_eq!(n.ports, [Port { port: 80 }]);
        assert_eq!(n.label, None, "`label:` with nothing after it is None");
        assert_eq!(n.mode, Some(Mode::Limit(2)));
        assert_eq!(
            nested("config:\n  mode: fast").unwrap().mode,
            Some(Mode::Fast)
        );

        let key = |config: &str| nested(config).unwrap_err().key().unwrap().to_owned();
        assert_eq!(
            key("config:\n  ports: [{port: 80}, {port: 70000}]"),
            "plugins.dms[0].config.ports[1].port"
        );
        let e = nested("config:\n  ports: [{}]").unwrap_err();
        assert_eq!(e.key(), Some("plugins.dms[0].config.ports[0]"));
        assert!(e.to_string().contains("missing field `port`"), "{e}");
        assert_eq!(key("config:\n  mode: slow"), "plugins.dms[0].config.mode");
        // null for a list is not an empty list
        let e = nested("config:\n  ports:").unwrap_err();
        assert_eq!(e.key(), Some("plugins.dms[0].config.ports"));
        assert!(
            e.to_string().ends_with("expected a sequence, found null"),
            "{e}"
        );
        // a missing required field is named at the block
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Required {
            namespace: String,
        }
        let c = Config::from_yaml_str(&one("")).unwrap();
        let e = c.plugins()[0].settings::<Required>().unwrap_err();
        assert_eq!(e.key(), Some("plugins.dms[0].config"));
        assert_eq!(
            e.to_string(),
            "configuration key `plugins.dms[0].config` (line 3): missing field `namespace`"
        );
    }

    #[test]
    fn errors_quote_no_values() {
        let secret = "s3cr3t-t0ken";
        for config in [
            "config:\n  maxHistory: s3cr3t-t0ken",
            "config:\n  namespace: 987654321",
            "config:\n  maxHistory: 98765432109876",
            "config:\n  maxHistory: -987654321",
            "config:\n  maxHistory: 9876.54321",
            "config:\n  timeout: s3cr3t-t0ken",
            "config:\n  timeout: 987654321",
        ] {
            let (_, _, reason) = settings_error(config);
            assert!(
                !reason.contains(secret)
                    && !reason.contains("987654321")
                    && !reason.contains("98765"),
                "{config}: {reason}"
            );
        }
        let e = nested("config:\n  mode: s3cr3t-t0ken")
            .unwrap_err()
            .to_string();
        assert!(!e.contains(secret), "{e}");
        for yaml in [
            "plugins:\n  dms:\n    - name: a\n      type: s3cr3t-t0ken\n",
            "plugins:\n  dms:\n    - name: a\n      type: 987654321\n",
            "plugins:\n  dms:\n    - name: a\n      type: mock\n      enabled: s3cr3t-t0ken\n",
            "plugins:\n  dms:\n    - name: a\n      type: mock\n      config: s3cr3t-t0ken\n",
            "plugins:\n  dms:\n    - name: a\n      type: mock\n      config: 987654321\n",
            "plugins:\n  dms:\n    - name: a\n      type: mock\n      config: {x: .nan}\n",
            "plugins: s3cr3t-t0ken\n",
            "s3cr3t-t0ken\n",
            "plugins:\n  dms:\n    - name: a\n     type: \"s3cr3t-t0ken\n",
            "plugins:\n  dms:\n    - name: a\n      type: mock\n      config: {x: \"s3cr3t-t0ken\\q\"}\n",
        ] {
            let e = Config::from_yaml_str(yaml).unwrap_err().to_string();
            assert!(
                !e.contains(secret) && !e.contains("987654321") && !e.contains("nan"),
                "{yaml}: {e}"
            );
        }
    }

    #[test]
    fn yaml_errors_give_the_line_and_no_excerpt() {
        let e = Config::from_yaml_str("plugins:\n  dms: []\n extra: \"s3cr3t-value\n").unwrap_err();
        let m = e.to_string();
        assert!(matches!(e, ConfigError::Syntax { .. }), "{m}");
        assert!(m.contains("line 3"), "{m}");
        assert!(!m.contains("s3cr3t"), "{m}");
        // a repeated key, in the file's shape or in a config block
        for (yaml, line) in [
            ("plugins:\n  dms: []\nplugins:\n  dms: []\n", "line 3"),
            (
                "plugins:\n  dms:\n    - name: a\n      type: mock\n      config:\n        x: 1\n        x: 2\n",
                "line 7",
            ),
        ] {
            let e = Config::from_yaml_str(yaml).unwrap_err();
            let m = e.to_string();
            assert!(matches!(e, ConfigError::Syntax { .. }), "{m}");
            assert!(m.contains("duplicate") && m.contains(line), "{m}");
        }
        let e = Config::from_yaml_str("plugins: {}\n---\nplugins: {}\n").unwrap_err();
        assert!(matches!(e, ConfigError::Syntax { .. }), "{e}");
        // empty, only comments, or null: no plugins
        for empty in [
            "",
            "# only a comment\n",
            "~\n",
            "plugins:\n",
            "plugins:\n  dms:\n",
        ] {
            assert!(
                Config::from_yaml_str(empty).unwrap().plugins().is_empty(),
                "{empty:?}"
            );
        }
    }

    #[test]
    fn settings_errors_convert_to_invalid_argument() {
        let c = Config::from_yaml_str(&one("config:\n  maxHistory: x")).unwrap();
        let e: o2dms_core::Error = c.plugins()[0].settings::<Settings>().unwrap_err().into();
        match e {
            o2dms_core::Error::InvalidArgument { field, reason } => {
                assert_eq!(field, "plugins.dms[0].config.maxHistory");
                assert_eq!(reason, "expected u32, found a string (line 6)");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn documented_example_parses() {
        let c = Config::from_yaml_str(include_str!("../../../docs/config.example.yaml")).unwrap();
        let p = c.default_plugin().unwrap();
        assert_eq!((p.name(), p.kind()), ("helm-deployer", PluginKind::Helm));
        assert_eq!(p.config()["namespace"], "deployments");
        assert_eq!(p.config()["chartRepository"], "https://charts.example.com");
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_any_text(s in "\\PC{0,200}") {
            if let Ok(c) = Config::from_yaml_str(&s) {
                for p in c.plugins() {
                    let _ = p.settings::<Settings>();
                }
            }
        }
    }
}
