//! Helm's release records as stored in the cluster, decoded without running helm.
//!
//! One Secret per revision, `sh.helm.release.v1.<name>.v<revision>`, type
//! `helm.sh/release.v1`, data key `release` = base64(gzip(JSON)). Kubernetes adds its own
//! base64 layer, which `kube` has already removed by the time [`decode_release`] sees the bytes.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;

use base64::Engine as _;
use o2dms_core::{Error, Timestamp, Values};

pub(crate) use super::helm_status::HelmStatus;
use serde::{Deserialize, Deserializer};

/// The Secret type Helm's storage driver uses.
pub(crate) const RELEASE_SECRET_TYPE: &str = "helm.sh/release.v1";
/// The data key holding the encoded release.
pub(crate) const RELEASE_DATA_KEY: &str = "release";
/// Decompressed releases larger than this are refused (a Secret holds at most 1 MiB
/// compressed; charts compress well, but not this well).
pub(crate) const MAX_RELEASE_JSON: u64 = 64 * 1024 * 1024;

/// The name of the Secret holding `revision` of release `name`.
pub(crate) fn secret_name(name: &str, revision: u32) -> String {
    format!("sh.helm.release.v1.{name}.v{revision}")
}

/// Parses a Helm timestamp leniently: missing, `null`, `""`, unparseable text and Go's
/// zero time (`0001-01-01T00:00:00Z`, which Helm 3 writes for "unset") are all `None`.
pub(crate) fn parse_helm_time(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if s.is_empty() || s.starts_with("0001-01-01") {
        return None;
    }
    Timestamp::parse_rfc3339(s)
}

fn helm_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
    // Accept any JSON here (a string, null, or something odd) and never fail on it.
    let v = serde_json::Value::deserialize(d)?;
    Ok(v.as_str().and_then(parse_helm_time))
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `info` of a release.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub(crate) struct ReleaseInfo {
    /// When revision 1 was installed.
    #[serde(deserialize_with = "helm_time")]
    pub(crate) first_deployed: Option<Timestamp>,
    /// When this revision was made.
    #[serde(deserialize_with = "helm_time")]
    pub(crate) last_deployed: Option<Timestamp>,
    /// When it was uninstalled (kept history only).
    #[serde(deserialize_with = "helm_time")]
    pub(crate) deleted: Option<Timestamp>,
    /// What the operation said.
    #[serde(deserialize_with = "null_as_default")]
    pub(crate) description: String,
    /// Helm's status.
    pub(crate) status: HelmStatus,
    /// Newest Helm: the revision a rollback returned to.
    pub(crate) rollback_revision: Option<u32>,
}

/// `chart.metadata` (the fields the adapter uses).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub(crate) struct ChartMetadata {
    /// Chart name.
    #[serde(deserialize_with = "null_as_default")]
    pub(crate) name: String,
    /// Chart version.
    #[serde(deserialize_with = "null_as_default")]
    pub(crate) version: String,
    /// App version.
    #[serde(rename = "appVersion")]
    pub(crate) app_version: Option<String>,
    /// Description.
    #[serde(deserialize_with = "null_as_default")]
    pub(crate) description: String,
    /// `v1`, `v2` (or `v3` behind Helm 4's experiment flag).
    #[serde(rename = "apiVersion")]
    pub(crate) api_version: Option<String>,
    /// Declared dependencies; their charts are not stored in the release.
    #[serde(deserialize_with = "null_as_default")]
    pub(crate) dependencies: Vec<serde_json::Value>,
    /// Every other `Chart.yaml` field, kept to rebuild the chart.
    #[serde(flatten)]
    pub(crate) extra: BTreeMap<String, serde_json::Value>,
}

/// A file of a stored chart (`data` is base64 in the JSON).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub(crate) struct ChartFile {
    /// Path inside the chart.
    pub(crate) name: String,
    /// Base64 content.
    pub(crate) data: String,
}

/// `chart` of a release.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub(crate) struct ReleaseChart {
    /// `Chart.yaml`.
    #[serde(deserialize_with = "null_as_default")]
    pub(crate) metadata: ChartMetadata,
    /// The chart's default values (`values.yaml`).
    #[serde(deserialize_with = "null_as_default")]
    pub(crate) values: Values,
    /// Templates (name + base64 data).
    #[serde(deserialize_with = "null_as_default")]
    pub(crate) templates: Vec<ChartFile>,
    /// Other files.
    #[serde(deserialize_with = "null_as_default")]
    pub(crate) files: Vec<ChartFile>,
    /// `values.schema.json`, base64.
    pub(crate) schema: Option<String>,
}

/// A decoded release record: one revision of one release.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub(crate) struct Release {
    /// Release name.
    #[serde(deserialize_with = "null_as_default")]
    pub(crate) name: String,
    /// Namespace.
    #[serde(deserialize_with = "null_as_default")]
    pub(crate) namespace: String,
    /// Revision.
    pub(crate) version: u32,
    /// Status, times and description.
    #[serde(deserialize_with = "null_as_default")]
    pub(crate) info: ReleaseInfo,
    /// The chart it was made from.
    #[serde(deserialize_with = "null_as_default")]
    pub(crate) chart: ReleaseChart,
    /// The user-supplied values.
    #[serde(deserialize_with = "null_as_default")]
    pub(crate) config: Values,
    /// The rendered manifest (YAML documents).
    #[serde(deserialize_with = "null_as_default")]
    pub(crate) manifest: String,
    /// Helm 4: `ssa` or `csa` (empty: client-side).
    pub(crate) apply_method: Option<String>,
}

impl Release {
    /// `name-version` of the chart, as `helm list` prints it.
    pub(crate) fn chart_ref(&self) -> String {
        format!(
            "{}-{}",
            self.chart.metadata.name, self.chart.metadata.version
        )
    }
}

/// Why a stored release could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DecodeError(pub String);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot decode Helm release record: {}", self.0)
    }
}

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Self {
        Error::backend(e.to_string())
    }
}

const GZIP_MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];

/// The JSON inside the `release` data of a release Secret (after Kubernetes' own base64
/// layer is removed): base64, then gunzip if the gzip magic `1f 8b 08` is present (very
/// old records are plain), at most `MAX_RELEASE_JSON` bytes.
pub(crate) fn release_json(data: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let text: Vec<u8> = data
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(&text)
        .map_err(|e| DecodeError(format!("base64: {e}")))?;
    if !raw.starts_with(&GZIP_MAGIC) {
        return Ok(raw);
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(raw.as_slice())
        .take(MAX_RELEASE_JSON + 1)
        .read_to_end(&mut out)
        .map_err(|e| DecodeError(format!("gzip: {e}")))?;
    if out.len() as u64 > MAX_RELEASE_JSON {
        return Err(DecodeError(format!(
            "decompressed record exceeds {MAX_RELEASE_JSON} bytes"
        )));
    }
    Ok(out)
}

/// Decodes the `release` data of a release Secret ([`release_json`]) as a release of
/// either Helm version.
pub(crate) fn decode_release(data: &[u8]) -> Result<Release, DecodeError> {
    serde_json::from_slice(&release_json(data)?).map_err(|e| DecodeError(format!("json: {e}")))
}

/// Encodes a release JSON the way Helm stores it (base64 of gzip); for tests and tools.
pub(crate) fn encode_release_json(json: &[u8]) -> String {
    use std::io::Write as _;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(json).expect("writing to a Vec cannot fail");
    let bytes = gz.finish().expect("writing to a Vec cannot fail");
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELM3_JSON: &str = r#"{"name":"a","info":{"first_deployed":"2026-11-24T16:32:29.039595186Z","last_deployed":"2026-11-24T16:32:47.517560235Z","deleted":"","description":"Upgrade \"a\" failed: context deadline exceeded","status":"failed","notes":"n"},"chart":{"metadata":{"name":"webc","version":"0.1.0","description":"A Helm chart for Kubernetes","apiVersion":"v2","appVersion":"1.16.0","type":"application"},"lock":null,"templates":[{"name":"templates/a.yaml","data":"YTogMQo="}],"values":{"replicaCount":1},"schema":null,"files":[]},"config":{"replicaCount":3,"image":{"tag":"x"}},"manifest":"---\n# Source: webc/templates/a.yaml\na: 1\n","hooks":[],"version":2,"namespace":"t3"}"#;

    const HELM4_JSON: &str = r#"{"name":"a","info":{"first_deployed":"2026-11-24T16:32:30.054110788Z","last_deployed":"2026-11-24T16:33:00.192800067Z","description":"Install complete","status":"pending-upgrade"},"chart":{"metadata":{"name":"webc","version":"0.2.0","apiVersion":"v2"},"lock":null,"templates":[],"values":{},"schema":null,"schemamodtime":"0001-01-01T00:00:00Z","files":[],"modtime":"2026-11-24T16:30:00Z"},"manifest":"","hooks":[],"version":5,"namespace":"t4","apply_method":"ssa"}"#;

    #[test]
    fn decodes_gzip_records_of_both_versions() {
        let r = decode_release(encode_release_json(HELM3_JSON.as_bytes()).as_bytes()).unwrap();
        assert_eq!(
            (r.name.as_str(), r.namespace.as_str(), r.version),
            ("a", "t3", 2)
        );
        assert_eq!(r.info.status, HelmStatus::Failed);
        assert_eq!(r.info.deleted, None);
        assert_eq!(
            r.info.first_deployed.unwrap().to_string(),
            "2026-11-24T16:32:29.039595186Z"
        );
        assert_eq!(r.chart_ref(), "webc-0.1.0");
        assert_eq!(r.chart.metadata.app_version.as_deref(), Some("1.16.0"));
        assert_eq!(
            r.config.get_path("image.tag").and_then(|v| v.as_str()),
            Some("x")
        );
        assert!(r.manifest.contains("# Source"));

        let r = decode_release(encode_release_json(HELM4_JSON.as_bytes()).as_bytes()).unwrap();
        assert_eq!(r.version, 5);
        assert_eq!(r.info.status, HelmStatus::PendingUpgrade);
        assert!(r.config.is_empty(), "missing config is empty values");
        assert_eq!(r.info.deleted, None);
        assert_eq!(r.apply_method.as_deref(), Some("ssa"));
        assert_eq!(r.chart.metadata.app_version, None);
    }

    #[test]
    fn accepts_plain_json_and_whitespace() {
        let plain = base64::engine::general_purpose::STANDARD.encode(HELM3_JSON);
        let wrapped: String = plain
            .as_bytes()
            .chunks(60)
            .map(|c| format!("{}\n", std::str::from_utf8(c).unwrap()))
            .collect();
        let r = decode_release(wrapped.as_bytes()).unwrap();
        assert_eq!(r.version, 2);
    }

    #[test]
    fn rejects_garbage_with_a_reason() {
        assert!(decode_release(b"!!!").unwrap_err().0.starts_with("base64"));
        let not_json = base64::engine::general_purpose::STANDARD.encode("nope");
        assert!(decode_release(not_json.as_bytes())
            .unwrap_err()
            .0
            .starts_with("json"));
        let mut bad_gzip = GZIP_MAGIC.to_vec();
        bad_gzip.extend_from_slice(b"garbage");
        let bad_gzip = base64::engine::general_purpose::STANDARD.encode(bad_gzip);
        assert!(decode_release(bad_gzip.as_bytes())
            .unwrap_err()
            .0
            .starts_with("gzip"));
    }

    #[test]
    fn timestamp_quirks() {
        for unset in ["", "   ", "0001-01-01T00:00:00Z", "not a time"] {
            assert_eq!(parse_helm_time(unset), None, "{unset:?}");
        }
        let j = |info: &str| -> ReleaseInfo { serde_json::from_str(info).unwrap() };
        assert_eq!(j("{}").last_deployed, None);
        assert_eq!(j(r#"{"last_deployed":null}"#).last_deployed, None);
        assert_eq!(j(r#"{"last_deployed":42}"#).last_deployed, None);
        assert_eq!(
            j(r#"{"deleted":"0001-01-01T00:00:00Z"}"#).deleted,
            None,
            "Helm 3's zero time"
        );
        assert_eq!(
            j(r#"{"last_deployed":"2026-01-12T10:00:00+02:00"}"#)
                .last_deployed
                .unwrap()
                .to_string(),
            "2026-01-12T08:00:00Z"
        );
        assert_eq!(j("{}").status, HelmStatus::Unknown);
        assert_eq!(j(r#"{"status":null}"#).status, HelmStatus::Unknown);
    }
}
