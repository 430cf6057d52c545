//! The boundary to `o2dms-chart`: validation of untrusted archives and the
//! `index.yaml` model, plus digest helpers.

use o2dms_chart::{ChartIndex, Limits, ValidatedChart};
use o2dms_core::{Error, PackageUpload, Result, Timestamp};
use sha2::Digest as _;

pub(crate) use o2dms_chart::IndexEntry;

/// A chart index (`index.yaml`).
#[derive(Debug, Clone)]
pub(crate) struct Index(ChartIndex);

impl Index {
    /// An empty index.
    pub(crate) fn new() -> Self {
        Index(ChartIndex::new(Timestamp::now()))
    }

    /// Reads `index.yaml` bytes.
    pub(crate) fn parse(bytes: &[u8]) -> std::result::Result<Self, String> {
        let text =
            std::str::from_utf8(bytes).map_err(|e| format!("index.yaml is not UTF-8: {e}"))?;
        ChartIndex::from_yaml(text)
            .map(Index)
            .map_err(|e| e.to_string())
    }

    /// The index as YAML, with `generated` set to now.
    pub(crate) fn to_yaml(&self) -> Result<String> {
        let mut index = self.0.clone();
        index.generated = Timestamp::now();
        index.to_yaml().map_err(|e| Error::backend(e.to_string()))
    }

    pub(crate) fn get(&self, name: &str, version: &str) -> Option<&IndexEntry> {
        self.0.get(name, version)
    }

    pub(crate) fn add(&mut self, entry: IndexEntry) {
        self.0.add(entry);
    }

    pub(crate) fn remove(&mut self, name: &str, version: &str) -> bool {
        self.0.remove(name, version)
    }

    /// Every entry, by chart name.
    pub(crate) fn entries(&self) -> impl Iterator<Item = &IndexEntry> {
        self.0.entries.values().flatten()
    }
}

/// A chart archive that passed validation.
#[derive(Debug, Clone)]
pub(crate) struct Checked {
    pub(crate) name: String,
    pub(crate) version: String,
    /// Lowercase hex SHA-256 of the archive.
    pub(crate) digest: String,
    pub(crate) description: String,
    pub(crate) chart: ValidatedChart,
}

impl Checked {
    /// The index entry for this chart at `url`.
    pub(crate) fn index_entry(&self, url: String, created: Timestamp) -> IndexEntry {
        self.chart.index_entry(vec![url], created)
    }

    /// Chart.yaml metadata as JSON, for an OCI config blob (the fields validation
    /// keeps: apiVersion, name, version, appVersion, description, kubeVersion, type).
    pub(crate) fn config_json(&self) -> serde_json::Value {
        let c = &self.chart;
        let mut m = serde_json::Map::new();
        m.insert("name".into(), c.name.clone().into());
        m.insert("version".into(), c.version.to_string().into());
        if let Some(d) = &c.description {
            m.insert("description".into(), d.clone().into());
        }
        m.insert("apiVersion".into(), c.api_version.clone().into());
        if let Some(a) = &c.app_version {
            m.insert("appVersion".into(), a.clone().into());
        }
        if let Some(k) = &c.kube_version {
            m.insert("kubeVersion".into(), k.clone().into());
        }
        m.insert("type".into(), c.chart_type.as_str().into());
        serde_json::Value::Object(m)
    }
}

/// Validates an untrusted archive within `limits`: InvalidArgument naming the problem
/// on rejection.
pub(crate) fn validate(bytes: &[u8], limits: &Limits) -> Result<Checked> {
    let chart = o2dms_chart::validate(bytes, limits)?;
    Ok(Checked {
        name: chart.name.clone(),
        version: chart.version.to_string(),
        digest: chart.digest.clone(),
        description: chart.description.clone().unwrap_or_default(),
        chart,
    })
}

/// Checks an upload's expected name and version against the archive.
pub(crate) fn check_expectations(c: &Checked, upload: &PackageUpload) -> Result<()> {
    if let Some(name) = &upload.expected_name {
        if name != &c.name {
            return Err(Error::invalid(
                "expected_name",
                format!("the archive holds chart `{}`, not `{name}`", c.name),
            ));
        }
    }
    if let Some(version) = &upload.expected_version {
        if version != &c.version {
            return Err(Error::invalid(
                "expected_version",
                format!("the archive holds version `{}`, not `{version}`", c.version),
            ));
        }
    }
    Ok(())
}

/// Lowercase hex SHA-256.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

fn bare(d: &str) -> &str {
    d.strip_prefix("sha256:").unwrap_or(d)
}

/// `sha256:<hex>` from either form.
pub(crate) fn prefixed_digest(d: &str) -> String {
    format!("sha256:{}", bare(d).to_ascii_lowercase())
}

/// Whether two digests (either form) are equal.
pub(crate) fn same_digest(a: &str, b: &str) -> bool {
    !bare(a).is_empty() && bare(a).eq_ignore_ascii_case(bare(b))
}
