//! Chart metadata: the chart-name rule, `Chart.yaml` and `values.yaml` parsing, and
//! [`ValidatedChart`].

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::ArchiveError;
use crate::index::IndexEntry;

/// Longest chart name accepted.
///
/// Helm's loader sets no length limit on chart names; 53 is Helm's limit for release
/// names, and a chart's name is the default release name in many tools, so a chart that
/// passes here can always be installed under its own name.
pub const MAX_CHART_NAME_LEN: usize = 53;

/// The chart `apiVersion` of Helm 3 charts (dependencies in Chart.yaml).
pub const CHART_API_VERSION: &str = "v2";
/// The chart `apiVersion` of charts first written for Helm 2 (dependencies in
/// `requirements.yaml`), which Helm 3 and 4 still install and popular charts still ship.
pub const CHART_API_VERSION_V1: &str = "v1";
/// Every chart `apiVersion` accepted: [`CHART_API_VERSION_V1`] and [`CHART_API_VERSION`]
/// (`v3` exists only behind a Helm 4 experiment flag).
pub const CHART_API_VERSIONS: [&str; 2] = [CHART_API_VERSION_V1, CHART_API_VERSION];

/// Checks a chart name, returning the rule it breaks.
///
/// The rule: 1 to [`MAX_CHART_NAME_LEN`] (53) characters, only lowercase ASCII letters,
/// digits and `-`, starting and ending with a letter or digit
/// (`[a-z0-9]([-a-z0-9]*[a-z0-9])?`).
///
/// How this relates to Helm: Helm's chart loader only rejects empty names, `.`, `..`
/// and names with path separators; `helm lint` additionally requires `^[a-z0-9-]+$`
/// ("lowercase letters, numbers, and dashes"), which the Helm best-practices guide also
/// asks for. This rule is `helm lint`'s, plus letter-or-digit ends and the 53-character
/// cap, so every accepted name is also a valid DNS-1123 label and Helm release name.
///
/// ```
/// use o2dms_chart::validate_chart_name;
/// assert!(validate_chart_name("nginx-ingress").is_ok());
/// assert!(validate_chart_name("Nginx").is_err());
/// assert!(validate_chart_name("../evil").is_err());
/// ```
pub fn validate_chart_name(name: &str) -> Result<(), &'static str> {
    let b = name.as_bytes();
    let ok_end = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if b.is_empty() {
        return Err("must not be empty");
    }
    if name.len() > MAX_CHART_NAME_LEN {
        return Err("must be at most 53 characters");
    }
    if !b.iter().all(|&c| ok_end(c) || c == b'-') {
        return Err("may contain only lowercase letters, digits and '-'");
    }
    if !ok_end(b[0]) || !ok_end(b[b.len() - 1]) {
        return Err("must start and end with a lowercase letter or digit");
    }
    Ok(())
}

/// A chart's `type`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChartType {
    /// An installable chart (Helm's default when `type` is absent or empty).
    #[default]
    Application,
    /// A library chart: templates for other charts, not installable itself.
    Library,
}

impl ChartType {
    /// The value as written in Chart.yaml.
    pub fn as_str(&self) -> &'static str {
        match self {
            ChartType::Application => "application",
            ChartType::Library => "library",
        }
    }
}

impl fmt::Display for ChartType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A chart archive that passed [`validate`](crate::validate), with what an adapter needs
/// to store and list it.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedChart {
    /// `name` from Chart.yaml (checked by [`validate_chart_name`]).
    pub name: String,
    /// `version` from Chart.yaml, strict SemVer 2.
    pub version: semver::Version,
    /// `appVersion` from Chart.yaml, if set and not empty.
    pub app_version: Option<String>,
    /// `description` from Chart.yaml, if set and not empty.
    pub description: Option<String>,
    /// `kubeVersion` from Chart.yaml (a constraint, not checked), if set and not empty.
    pub kube_version: Option<String>,
    /// `apiVersion` from Chart.yaml (one of [`CHART_API_VERSIONS`]).
    pub api_version: String,
    /// `type` from Chart.yaml; [`ChartType::Application`] when absent or empty.
    pub chart_type: ChartType,
    /// SHA-256 of the archive bytes as uploaded, lowercase hex (the form `index.yaml`
    /// uses; see [`ValidatedChart::digest_ref`] for `sha256:<hex>`).
    pub digest: String,
    /// The chart's default values (`values.yaml`), always a JSON object; empty when the
    /// chart has no values.yaml or it is empty.
    pub values: Value,
    /// Paths of the regular files in the archive, in archive order, each starting with
    /// the top-level directory (`mychart/Chart.yaml`), `.` and empty components dropped.
    pub files: Vec<String>,
    /// SHA-256 (lowercase hex) of the content of every regular file, by its path below
    /// the top-level directory (`templates/deployment.yaml`): what the chart is, whatever
    /// the archive's metadata, order or compression.
    pub file_digests: BTreeMap<String, String>,
    /// The one top-level directory.
    pub top_level_dir: String,
    /// Size of the archive as uploaded.
    pub compressed_bytes: u64,
    /// Bytes of tar stream inflated while validating (headers and padding included).
    pub uncompressed_bytes: u64,
}

impl ValidatedChart {
    /// The digest as `sha256:<hex>`, the form [`o2dms_core::Package::digest`] uses.
    pub fn digest_ref(&self) -> String {
        format!("sha256:{}", self.digest)
    }

    /// The conventional archive file name, `<name>-<version>.tgz`.
    pub fn package_file_name(&self) -> String {
        format!("{}-{}.tgz", self.name, self.version)
    }

    /// An `index.yaml` entry for this chart, served at `urls`, created at `created`.
    pub fn index_entry(&self, urls: Vec<String>, created: o2dms_core::Timestamp) -> IndexEntry {
        IndexEntry {
            name: self.name.clone(),
            version: self.version.to_string(),
            app_version: self.app_version.clone(),
            description: self.description.clone(),
            api_version: self.api_version.clone(),
            chart_type: Some(self.chart_type),
            kube_version: self.kube_version.clone(),
            digest: self.digest.clone(),
            urls,
            created,
            ..IndexEntry::default()
        }
    }
}

/// What [`package_file_name`] rejects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileNameError {
    /// The name breaks [`validate_chart_name`].
    #[error("chart name `{name}` is invalid: {reason}")]
    Name {
        /// The name.
        name: String,
        /// The rule it breaks.
        reason: &'static str,
    },
    /// The version is not SemVer 2.
    #[error("chart version `{version}` is not SemVer 2: {reason}")]
    Version {
        /// The version.
        version: String,
        /// What the SemVer parser reported.
        reason: String,
    },
}

/// The archive file name Helm gives a chart, `<name>-<version>.tgz`, after checking the
/// name ([`validate_chart_name`]) and the version (SemVer 2), so the result is always a
/// single safe path component.
///
/// ```
/// assert_eq!(o2dms_chart::package_file_name("nginx", "1.2.3").unwrap(), "nginx-1.2.3.tgz");
/// assert!(o2dms_chart::package_file_name("../x", "1.2.3").is_err());
/// ```
pub fn package_file_name(name: &str, version: &str) -> Result<String, FileNameError> {
    validate_chart_name(name).map_err(|reason| FileNameError::Name {
        name: name.to_string(),
        reason,
    })?;
    let v = semver::Version::parse(version).map_err(|e| FileNameError::Version {
        version: version.to_string(),
        reason: e.to_string(),
    })?;
    Ok(format!("{name}-{v}.tgz"))
}

/// The fields of a `Chart.yaml` that [`ValidatedChart`] carries, checked as Helm checks
/// them ([`parse_chart_yaml`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ChartMetadata {
    /// `name`, a valid chart name.
    pub name: String,
    /// `version`, SemVer 2.
    pub version: semver::Version,
    /// `appVersion`, if set.
    pub app_version: Option<String>,
    /// `description`, if set.
    pub description: Option<String>,
    /// `kubeVersion`, if set.
    pub kube_version: Option<String>,
    /// `apiVersion`.
    pub api_version: String,
    /// `type`: application (the default) or library.
    pub chart_type: ChartType,
}

/// Longest parser message kept in an error (the parser may quote the input).
const MAX_MESSAGE_LEN: usize = 400;

fn short(msg: impl fmt::Display) -> String {
    let s = msg.to_string();
    if s.len() <= MAX_MESSAGE_LEN {
        return s;
    }
    let mut end = MAX_MESSAGE_LEN;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

/// Parses YAML text (a leading UTF-8 BOM is dropped, as Helm does) into a JSON object;
/// an empty document is an empty object.
fn yaml_object(bytes: &[u8]) -> Result<Map<String, Value>, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not valid UTF-8 ({e})"))?;
    let value: Value = serde_saphyr::from_str(text).map_err(short)?;
    match value {
        Value::Null => Ok(Map::new()),
        Value::Object(m) => Ok(m),
        other => Err(format!(
            "the top level must be a mapping, found {}",
            kind_of(&other)
        )),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a sequence",
        Value::Object(_) => "a mapping",
    }
}

/// An optional string field: absent, null and empty are `None`; any other non-string is
/// an error (Helm's loader refuses those too).
fn opt_str(
    path: &str,
    map: &Map<String, Value>,
    key: &'static str,
) -> Result<Option<String>, ArchiveError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(ArchiveError::ChartYamlSyntax {
            path: path.to_string(),
            message: format!(
                "field `{key}` must be a string, found {} (quote it)",
                kind_of(other)
            ),
        }),
    }
}

fn required(
    path: &str,
    map: &Map<String, Value>,
    key: &'static str,
) -> Result<String, ArchiveError> {
    opt_str(path, map, key)?.ok_or(ArchiveError::MissingChartField {
        path: path.to_string(),
        field: key,
    })
}

/// Parses and checks the `Chart.yaml` at `path` (the path only names it in errors), in
/// Helm's order: apiVersion, name, version, type.
///
/// ```
/// let meta = o2dms_chart::parse_chart_yaml("web/Chart.yaml", b"apiVersion: v2\nname: web # the name\nversion: 2.0.0\n")?;
/// assert_eq!((meta.name.as_str(), meta.version.to_string().as_str()), ("web", "2.0.0"));
/// assert!(o2dms_chart::parse_chart_yaml("web/Chart.yaml", b"name: web\n").is_err());
/// # Ok::<(), o2dms_chart::ArchiveError>(())
/// ```
pub fn parse_chart_yaml(path: &str, bytes: &[u8]) -> Result<ChartMetadata, ArchiveError> {
    let map = yaml_object(bytes).map_err(|message| ArchiveError::ChartYamlSyntax {
        path: path.to_string(),
        message,
    })?;
    let api_version = required(path, &map, "apiVersion")?;
    if !CHART_API_VERSIONS.contains(&api_version.as_str()) {
        return Err(ArchiveError::ChartApiVersion {
            path: path.to_string(),
            found: api_version,
        });
    }
    let name = required(path, &map, "name")?;
    validate_chart_name(&name).map_err(|reason| ArchiveError::ChartName {
        path: path.to_string(),
        name: name.clone(),
        reason: reason.to_string(),
    })?;
    let version_text = required(path, &map, "version")?;
    let version =
        semver::Version::parse(&version_text).map_err(|e| ArchiveError::ChartVersion {
            path: path.to_string(),
            version: version_text.clone(),
            reason: e.to_string(),
        })?;
    let chart_type = match opt_str(path, &map, "type")?.as_deref() {
        None | Some("application") => ChartType::Application,
        Some("library") => ChartType::Library,
        Some(other) => {
            return Err(ArchiveError::ChartType {
                path: path.to_string(),
                found: other.to_string(),
            })
        }
    };
    Ok(ChartMetadata {
        name,
        version,
        app_version: opt_str(path, &map, "appVersion")?,
        description: opt_str(path, &map, "description")?,
        kube_version: opt_str(path, &map, "kubeVersion")?,
        api_version,
        chart_type,
    })
}

/// Parses the `values.yaml` at `path` (the path only names it in errors) into a JSON
/// object; an empty file is an empty object.
pub fn parse_values_yaml(path: &str, bytes: &[u8]) -> Result<Value, ArchiveError> {
    yaml_object(bytes)
        .map(Value::Object)
        .map_err(|message| ArchiveError::ValuesYaml {
            path: path.to_string(),
            message,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["a", "nginx", "my-chart-2", "0abc", &"a".repeat(53)] {
            assert_eq!(validate_chart_name(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "-a",
            "a-",
            "A",
            "a_b",
            "a.b",
            "a/b",
            "..",
            ".",
            "ü",
            "a b",
            &"a".repeat(54),
        ] {
            assert!(validate_chart_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn chart_yaml_rules_in_helm_order() {
        let p = "c/Chart.yaml";
        let ok = parse_chart_yaml(
            p,
            b"\xEF\xBB\xBFapiVersion: v2\nname: c\nversion: 1.2.3-rc.1+b5\nappVersion: 1.16.0\ntype: library\n",
        )
        .unwrap();
        assert_eq!(ok.version.to_string(), "1.2.3-rc.1+b5");
        assert_eq!(ok.app_version.as_deref(), Some("1.16.0"));
        assert_eq!(ok.chart_type, ChartType::Library);

        let code = |y: &str| parse_chart_yaml(p, y.as_bytes()).unwrap_err().code();
        assert_eq!(code(""), "missing_chart_field");
        assert_eq!(code("name: c\nversion: 1.0.0\n"), "missing_chart_field");
        // v1 charts (Helm 2's format, still installed by Helm 3 and 4) pass the same checks.
        let v1 = parse_chart_yaml(p, b"apiVersion: v1\nname: c\nversion: 1.0.0\n").unwrap();
        assert_eq!(v1.api_version, "v1");
        assert_eq!(
            code("apiVersion: v1\nname: C\nversion: 1.0.0\n"),
            "chart_name"
        );
        assert_eq!(
            code("apiVersion: v1\nname: c\nversion: \"1.0\"\n"),
            "chart_version"
        );
        assert_eq!(
            code("apiVersion: v3\nname: c\nversion: 1.0.0\n"),
            "chart_api_version"
        );
        assert_eq!(
            code("apiVersion: v2\nversion: 1.0.0\n"),
            "missing_chart_field"
        );
        assert_eq!(
            code("apiVersion: v2\nname: C\nversion: 1.0.0\n"),
            "chart_name"
        );
        assert_eq!(code("apiVersion: v2\nname: c\n"), "missing_chart_field");
        assert_eq!(
            code("apiVersion: v2\nname: c\nversion: v1.0.0\n"),
            "chart_version"
        );
        assert_eq!(
            code("apiVersion: v2\nname: c\nversion: \"1.0\"\n"),
            "chart_version"
        );
        assert_eq!(
            code("apiVersion: v2\nname: c\nversion: 1.0\n"),
            "chart_yaml_syntax"
        );
        assert_eq!(
            code("apiVersion: v2\nname: c\nversion: 1.0.0\ntype: x\n"),
            "chart_type"
        );
        assert_eq!(code("apiVersion: v2\nname: [c\n"), "chart_yaml_syntax");
        assert_eq!(code("- a\n- b\n"), "chart_yaml_syntax");
    }

    #[test]
    fn values() {
        let v = parse_values_yaml("c/values.yaml", b"a: 1\nb: {c: [x, 2.5]}\n1: one\n").unwrap();
        assert_eq!(v["b"]["c"][1], serde_json::json!(2.5));
        assert_eq!(
            parse_values_yaml("c/values.yaml", b"").unwrap(),
            serde_json::json!({})
        );
        assert_eq!(
            parse_values_yaml("c/values.yaml", b"# only a comment\n").unwrap(),
            serde_json::json!({})
        );
        assert!(parse_values_yaml("c/values.yaml", b"a: [").is_err());
        assert!(parse_values_yaml("c/values.yaml", b"just a string").is_err());
        assert!(parse_values_yaml("c/values.yaml", b"\xff\xfe").is_err());
    }
}
