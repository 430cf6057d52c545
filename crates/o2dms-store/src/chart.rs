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

/// A SHA-256 digest as 64 lowercase hex characters: either computed here or read from an
/// index entry and checked by [`entry_digest`]. The only thing a cache file name is built
/// from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sha256Hex(String);

impl Sha256Hex {
    /// The digest of `bytes`.
    pub(crate) fn of(bytes: &[u8]) -> Self {
        Sha256Hex(sha256_hex(bytes))
    }

    /// The 64 hex characters.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// `sha256:<hex>`.
    pub(crate) fn prefixed(&self) -> String {
        format!("sha256:{}", self.0)
    }

    /// An untrusted OCI digest (a descriptor's, a header's, a pin file's), checked:
    /// exactly `sha256:` and 64 lowercase hex characters. Anything else (another or no
    /// algorithm, upper case, a wrong length, a path) is the problem, and the value is
    /// never used.
    pub(crate) fn parse_prefixed(digest: &str) -> std::result::Result<Self, DigestProblem> {
        let hex = digest
            .strip_prefix("sha256:")
            .ok_or(DigestProblem::Algorithm)?;
        if hex.len() != 64 {
            return Err(DigestProblem::Length(hex.chars().count()));
        }
        if !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(DigestProblem::NotLowercaseHex);
        }
        Ok(Sha256Hex(hex.to_owned()))
    }
}

impl std::fmt::Display for DigestProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DigestProblem::Algorithm => f.write_str("an algorithm other than `sha256:`"),
            DigestProblem::Length(n) => write!(f, "{n} characters where 64 are needed"),
            DigestProblem::NotLowercaseHex => f.write_str("not lowercase hex"),
        }
    }
}

/// What is wrong with the digest of an `index.yaml` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DigestProblem {
    /// A prefix other than `sha256:` (another algorithm, `SHA256:`, ...).
    Algorithm,
    /// Not 64 characters after the prefix (the count it has).
    Length(usize),
    /// A character that is not `0-9` or `a-f` (upper case hex included).
    NotLowercaseHex,
}

/// The digest of an `index.yaml` entry is not `sha256:` followed by 64 lowercase hex
/// characters (or the 64 characters alone, the form `helm repo index` writes). The
/// digest is never used: not compared, not shown, and never part of a file path. The
/// message names the entry and the problem, not the value (it is untrusted text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexDigestError {
    /// The entry's chart name, as the index spells it.
    pub name: String,
    /// The entry's version, as the index spells it.
    pub version: String,
    /// What is wrong.
    pub problem: DigestProblem,
}

impl std::fmt::Display for IndexDigestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "index entry {:?} version {:?} has a malformed digest (",
            self.name, self.version
        )?;
        match self.problem {
            DigestProblem::Algorithm => f.write_str("an algorithm prefix other than `sha256:`")?,
            other => write!(f, "{other}")?,
        }
        f.write_str("); expected `sha256:` and 64 lowercase hex characters")
    }
}

impl std::error::Error for IndexDigestError {}

/// The checked digest of an untrusted index entry: `None` when it has none (Helm
/// tolerates that), else `sha256:<64 lowercase hex>` or the bare 64 characters.
pub(crate) fn entry_digest(
    entry: &IndexEntry,
) -> std::result::Result<Option<Sha256Hex>, IndexDigestError> {
    if entry.digest.is_empty() {
        return Ok(None);
    }
    let problem = |problem| IndexDigestError {
        name: entry.name.clone(),
        version: entry.version.clone(),
        problem,
    };
    let hex = entry
        .digest
        .strip_prefix("sha256:")
        .unwrap_or(&entry.digest);
    if hex.contains(':') {
        return Err(problem(DigestProblem::Algorithm));
    }
    if hex.len() != 64 {
        return Err(problem(DigestProblem::Length(hex.chars().count())));
    }
    if !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(problem(DigestProblem::NotLowercaseHex));
    }
    Ok(Some(Sha256Hex(hex.to_owned())))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(digest: &str) -> IndexEntry {
        IndexEntry {
            name: "web".into(),
            version: "1.0.0".into(),
            digest: digest.into(),
            ..IndexEntry::default()
        }
    }

    fn problem(digest: &str) -> DigestProblem {
        match entry_digest(&entry(digest)) {
            Err(e) => {
                assert_eq!((e.name.as_str(), e.version.as_str()), ("web", "1.0.0"));
                let text = e.to_string();
                assert!(text.contains("\"web\" version \"1.0.0\""), "{text}");
                assert!(digest.len() < 10 || !text.contains(digest), "{text}");
                e.problem
            }
            Ok(d) => panic!("{digest:?} accepted as {d:?}"),
        }
    }

    #[test]
    fn index_digests_are_sha256_lowercase_hex() {
        let good = "0123456789abcdef".repeat(4);
        let d = entry_digest(&entry(&format!("sha256:{good}")))
            .unwrap()
            .unwrap();
        assert_eq!(
            (d.as_str(), d.prefixed()),
            (good.as_str(), format!("sha256:{good}"))
        );
        // the bare form `helm repo index` (and the local store) write
        assert_eq!(entry_digest(&entry(&good)).unwrap().unwrap().as_str(), good);
        assert_eq!(entry_digest(&entry("")).unwrap(), None);
    }

    #[test]
    fn oci_digests_are_exactly_sha256_lowercase_hex() {
        let good = "0123456789abcdef".repeat(4);
        assert_eq!(
            Sha256Hex::parse_prefixed(&format!("sha256:{good}"))
                .unwrap()
                .as_str(),
            good
        );
        for (bad, problem) in [
            (good.clone(), DigestProblem::Algorithm),
            (format!("sha512:{good}"), DigestProblem::Algorithm),
            (format!("SHA256:{good}"), DigestProblem::Algorithm),
            (format!("sha256:{}", &good[1..]), DigestProblem::Length(63)),
            (
                format!("sha256:{}", good.to_ascii_uppercase()),
                DigestProblem::NotLowercaseHex,
            ),
            (
                format!("sha256:{}../x", &good[4..]),
                DigestProblem::NotLowercaseHex,
            ),
            ("sha256:../../etc/passwd".into(), DigestProblem::Length(16)),
        ] {
            assert_eq!(Sha256Hex::parse_prefixed(&bad), Err(problem), "{bad}");
        }
    }

    #[test]
    fn traversal_and_malformed_digests_are_refused() {
        let good = "ab".repeat(32);
        for traversal in [
            "../../x",
            "sha256:../../x",
            "sha256:../../../../../../etc/some-chart",
            "/etc/passwd",
            &format!("sha256:../{}", &good[3..]),
            &format!("{}/..", &good[3..]),
            &format!("sha256:{}\\..", &good[4..]),
            &format!("sha256:{}\0", &good[1..]),
        ] {
            assert!(
                matches!(
                    problem(traversal),
                    DigestProblem::Length(_) | DigestProblem::NotLowercaseHex
                ),
                "{traversal:?}"
            );
        }
        // 64 characters, but a path
        let sneaky = format!("{}../../x", "a".repeat(57));
        assert_eq!(problem(&sneaky), DigestProblem::NotLowercaseHex);
        assert_eq!(
            problem(&good.to_ascii_uppercase()),
            DigestProblem::NotLowercaseHex
        );
        assert_eq!(
            problem(&format!("sha256:{}", good.to_ascii_uppercase())),
            DigestProblem::NotLowercaseHex
        );
        assert_eq!(problem(&good[..63]), DigestProblem::Length(63));
        assert_eq!(
            problem(&format!("sha256:{good}0")),
            DigestProblem::Length(65)
        );
        assert_eq!(problem("sha256:"), DigestProblem::Length(0));
        // a prefix that is not `sha256:`, or a mangled one
        assert_eq!(problem(&format!("sha512:{good}")), DigestProblem::Algorithm);
        assert_eq!(problem(&format!("SHA256:{good}")), DigestProblem::Algorithm);
        assert_eq!(
            problem(&format!("sha256:sha256:{good}")),
            DigestProblem::Algorithm
        );
        assert_eq!(problem(&format!("sha256{good}")), DigestProblem::Length(70));
        assert_eq!(problem(&format!(":{good}")), DigestProblem::Algorithm);
    }
}
