//! The chart repository index (`index.yaml`) as a data model: written so that Helm and
//! `helm repo index`-compatible tooling read it, and read back. No I/O.

use std::collections::BTreeMap;

use o2dms_core::Timestamp;
use serde::{Deserialize, Serialize};

use crate::chart::ChartType;

/// The only index `apiVersion`.
pub const INDEX_API_VERSION: &str = "v1";

/// A chart repository index, as in `index.yaml`.
///
/// Field names and shapes follow Helm's `repo.IndexFile`, which Helm loads with a strict
/// YAML decoder: every field written here is one Helm knows, so `helm repo add` and
/// `helm pull` accept the output (checked by hand with Helm 3.17.2 and 4.1.4: `repo add`,
/// `search repo` and `pull` against an index written by this model, and `from_yaml` on
/// one written by `helm repo index`). Reading ignores fields this model does not carry.
///
/// ```
/// use o2dms_chart::{ChartIndex, IndexEntry};
/// use o2dms_core::Timestamp;
///
/// let t = Timestamp::parse_rfc3339("2026-01-12T10:00:00Z").unwrap();
/// let mut index = ChartIndex::new(t);
/// index.add(IndexEntry {
///     name: "demo".into(),
///     version: "0.1.0".into(),
///     api_version: "v2".into(),
///     digest: "ab".repeat(32),
///     urls: vec!["charts/demo-0.1.0.tgz".into()],
///     created: t,
///     ..Default::default()
/// });
/// let yaml = index.to_yaml().unwrap();
/// assert_eq!(ChartIndex::from_yaml(&yaml).unwrap(), index);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChartIndex {
    /// Always [`INDEX_API_VERSION`] (`v1`).
    pub api_version: String,
    /// Chart name to its versions, newest first after [`ChartIndex::sort_entries`].
    #[serde(default)]
    pub entries: BTreeMap<String, Vec<IndexEntry>>,
    /// When the index was generated.
    pub generated: Timestamp,
    /// Free-form annotations (Helm keeps them and does not interpret them).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// One chart version in a [`ChartIndex`], as Helm's `repo.ChartVersion`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexEntry {
    /// Chart name.
    pub name: String,
    /// Chart version (SemVer 2).
    pub version: String,
    /// Version of the packaged application.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
    /// One-sentence description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The chart's `apiVersion` (`v2`).
    pub api_version: String,
    /// The chart's type.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub chart_type: Option<ChartType>,
    /// The chart's `kubeVersion` constraint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kube_version: Option<String>,
    /// Keywords.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// Whether the chart is deprecated.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deprecated: bool,
    /// Chart annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// SHA-256 of the archive, lowercase hex (no `sha256:` prefix).
    #[serde(default)]
    pub digest: String,
    /// Where the archive can be downloaded: absolute URLs, or paths relative to the
    /// index's own URL.
    #[serde(default)]
    pub urls: Vec<String>,
    /// When this version was added.
    #[serde(default)]
    pub created: Timestamp,
}

/// Why an index could not be written or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    /// The text is not an index (YAML or shape error).
    #[error("index.yaml does not parse: {0}")]
    Parse(String),
    /// The serializer failed.
    #[error("index.yaml could not be written: {0}")]
    Write(String),
    /// `apiVersion` is not `v1`.
    #[error("index.yaml has apiVersion `{0}`; only `v1` is known")]
    ApiVersion(String),
}

impl ChartIndex {
    /// An empty index generated at `generated`.
    pub fn new(generated: Timestamp) -> Self {
        ChartIndex {
            api_version: INDEX_API_VERSION.to_string(),
            entries: BTreeMap::new(),
            generated,
            annotations: BTreeMap::new(),
        }
    }

    /// Adds `entry`, replacing an entry with the same name and version, and keeps that
    /// chart's versions sorted newest first.
    pub fn add(&mut self, entry: IndexEntry) {
        let versions = self.entries.entry(entry.name.clone()).or_default();
        versions.retain(|e| e.version != entry.version);
        versions.push(entry);
        sort_versions(versions);
    }

    /// Removes `name` at `version`; returns whether it was there. A chart with no
    /// versions left is removed from the index.
    pub fn remove(&mut self, name: &str, version: &str) -> bool {
        let Some(versions) = self.entries.get_mut(name) else {
            return false;
        };
        let before = versions.len();
        versions.retain(|e| e.version != version);
        let removed = versions.len() != before;
        if versions.is_empty() {
            self.entries.remove(name);
        }
        removed
    }

    /// The entry for `name` at exactly `version`.
    pub fn get(&self, name: &str, version: &str) -> Option<&IndexEntry> {
        self.entries
            .get(name)?
            .iter()
            .find(|e| e.version == version)
    }

    /// Sorts every chart's versions newest first by SemVer precedence, as Helm's
    /// `SortEntries` does (versions that do not parse go last).
    pub fn sort_entries(&mut self) {
        self.entries.values_mut().for_each(|v| sort_versions(v));
    }

    /// The index as YAML.
    pub fn to_yaml(&self) -> Result<String, IndexError> {
        let mut text =
            serde_saphyr::to_string(self).map_err(|e| IndexError::Write(e.to_string()))?;
        if !text.ends_with('\n') {
            text.push('\n');
        }
        Ok(text)
    }

    /// Reads an index from YAML (or JSON), checking its `apiVersion`.
    pub fn from_yaml(text: &str) -> Result<Self, IndexError> {
        let index: ChartIndex =
            serde_saphyr::from_str(text).map_err(|e| IndexError::Parse(e.to_string()))?;
        if index.api_version != INDEX_API_VERSION {
            return Err(IndexError::ApiVersion(index.api_version));
        }
        Ok(index)
    }
}

fn sort_versions(v: &mut [IndexEntry]) {
    v.sort_by(|a, b| {
        let pa = semver::Version::parse(&a.version).ok();
        let pb = semver::Version::parse(&b.version).ok();
        // Newest first; unparsable last, in name order for stability.
        match (pa, pb) {
            (Some(x), Some(y)) => y.cmp(&x),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.version.cmp(&b.version),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, version: &str) -> IndexEntry {
        IndexEntry {
            name: name.into(),
            version: version.into(),
            api_version: "v2".into(),
            app_version: Some("1.16.0".into()),
            description: Some("A chart: with a colon".into()),
            chart_type: Some(ChartType::Application),
            digest: "0".repeat(64),
            urls: vec![format!(
                "https://charts.example.invalid/{name}-{version}.tgz"
            )],
            created: Timestamp::parse_rfc3339("2026-01-12T10:00:00.5Z").unwrap(),
            ..Default::default()
        }
    }

    #[test]
    fn writes_helm_shape_and_reads_back() {
        let mut index = ChartIndex::new(Timestamp::parse_rfc3339("2026-01-12T11:00:00Z").unwrap());
        index.add(entry("demo", "0.1.0"));
        index.add(entry("demo", "0.10.0"));
        index.add(entry("demo", "0.2.0-rc.1"));
        index.add(entry("other", "1.0.0"));
        index.add(entry("demo", "0.1.0"));
        let yaml = index.to_yaml().unwrap();
        assert!(yaml.ends_with('\n'));
        for needle in [
            "apiVersion: v1",
            "entries:",
            "generated:",
            "appVersion:",
            "type: application",
            "digest:",
            "urls:",
            "created:",
        ] {
            assert!(yaml.contains(needle), "{needle} missing in\n{yaml}");
        }
        assert!(
            !yaml.contains("app_version") && !yaml.contains("chart_type"),
            "{yaml}"
        );
        let back = ChartIndex::from_yaml(&yaml).unwrap();
        assert_eq!(back, index);
        let versions: Vec<_> = back.entries["demo"]
            .iter()
            .map(|e| e.version.as_str())
            .collect();
        assert_eq!(versions, ["0.10.0", "0.2.0-rc.1", "0.1.0"]);
        assert!(back.get("other", "1.0.0").is_some());

        let mut index = back;
        assert!(index.remove("other", "1.0.0"));
        assert!(!index.entries.contains_key("other"));
        assert!(!index.remove("other", "1.0.0"));
    }

    #[test]
    fn reads_helm_written_index() {
        // The shape `helm repo index` writes, with fields this model does not carry.
        let yaml = r#"apiVersion: v1
entries:
  nginx:
  - apiVersion: v2
    appVersion: 1.16.0
    created: "2026-01-12T10:00:00.123456789+01:00"
    description: A Helm chart for Kubernetes
    digest: 8a7bd6b3cbd84c28d5b1e5c6a35e7d51c7b7e0d4f1c8e9a1b2c3d4e5f6a7b8c9
    home: https://example.invalid
    maintainers:
    - name: someone
    name: nginx
    type: application
    urls:
    - nginx-0.1.0.tgz
    version: 0.1.0
generated: "2026-01-12T10:00:00.5+01:00"
serverInfo: {}
"#;
        let index = ChartIndex::from_yaml(yaml).unwrap();
        let e = index.get("nginx", "0.1.0").unwrap();
        assert_eq!(e.urls, ["nginx-0.1.0.tgz"]);
        assert_eq!(e.app_version.as_deref(), Some("1.16.0"));
        assert!(matches!(
            ChartIndex::from_yaml("apiVersion: v2\ngenerated: \"2026-01-12T10:00:00Z\"\n"),
            Err(IndexError::ApiVersion(_))
        ));
        assert!(matches!(
            ChartIndex::from_yaml("[1, 2"),
            Err(IndexError::Parse(_))
        ));
    }
}
