//! The conformance report an implementation publishes: YAML with who was tested, by which
//! suite, when, on what cluster, the verdict of each profile, and how to reproduce it.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::report::{Counts, Report};
use crate::verdict::Verdict;

/// `apiVersion` of [`PublishedReport`].
pub const PUBLISHED_API_VERSION: &str = "conformance.o2dms.io/v1";

/// The implementation under test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Implementation {
    /// Adapter (or DMS) name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// The backend it drives.
    pub backend: String,
    /// The backend's version, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_version: Option<String>,
    /// Capabilities it declared.
    pub capabilities: Vec<String>,
}

/// The cluster of the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishedCluster {
    /// `none` (no cluster), `local`, `kind` or `kubeconfig`.
    pub kind: String,
    /// The Kubernetes server version, when there is a cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubernetes_version: Option<String>,
}

/// One profile's verdict as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishedProfile {
    /// `core` or `extended`.
    pub name: String,
    /// Success, partial or failure.
    pub result: Verdict,
    /// Why.
    pub reason: String,
    /// Outcome counts.
    pub summary: Counts,
    /// Scenarios that failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed_tests: Vec<String>,
    /// Scenarios that did not run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped_tests: Vec<String>,
    /// Core: core capabilities not declared.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_capabilities: Vec<String>,
    /// Extended: features whose scenarios ran.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub supported_features: Vec<String>,
    /// Extended: features the implementation does not offer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unsupported_features: Vec<String>,
}

/// A conformance report to publish (`kind: ConformanceReport`).
///
/// ```no_run
/// # async fn demo(adapter: &dyn o2dms_core::DmsAdapter) -> std::io::Result<()> {
/// let report = o2dms_conformance::run(adapter, o2dms_conformance::Settings::default()).await;
/// report
///     .published("cargo test --test conformance")
///     .write_yaml("conformance-report.yaml".as_ref())?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishedReport {
    /// [`PUBLISHED_API_VERSION`].
    pub api_version: String,
    /// `ConformanceReport`.
    pub kind: String,
    /// Who was tested.
    pub implementation: Implementation,
    /// The suite's version.
    pub suite_version: String,
    /// When the run started (RFC 3339).
    pub date: String,
    /// The cluster of the run.
    pub cluster: PublishedCluster,
    /// Core, then extended.
    pub profiles: Vec<PublishedProfile>,
    /// The command that reproduces the run.
    pub reproduce: String,
}

impl Report {
    /// The report to publish, with the command that reproduces this run.
    pub fn published(&self, reproduce: impl Into<String>) -> PublishedReport {
        let a = &self.adapter;
        PublishedReport {
            api_version: PUBLISHED_API_VERSION.to_owned(),
            kind: "ConformanceReport".to_owned(),
            implementation: Implementation {
                name: a.name.clone(),
                version: a.version.clone(),
                backend: a.backend.clone(),
                backend_version: a.backend_version.clone(),
                capabilities: a.capabilities.clone(),
            },
            suite_version: self.suite.version.clone(),
            date: self.started_at.clone(),
            cluster: PublishedCluster {
                kind: self.cluster.kind.clone(),
                kubernetes_version: self.cluster.kubernetes_version.clone(),
            },
            profiles: self
                .profiles
                .iter()
                .map(|p| PublishedProfile {
                    name: p.profile.as_str().to_owned(),
                    result: p.verdict,
                    reason: p.reason.clone(),
                    summary: p.counts,
                    failed_tests: p.failed.clone(),
                    skipped_tests: p.not_run.clone(),
                    missing_capabilities: p.missing_capabilities.clone(),
                    supported_features: p
                        .features
                        .iter()
                        .filter(|f| f.supported)
                        .map(|f| f.name.clone())
                        .collect(),
                    unsupported_features: p
                        .features
                        .iter()
                        .filter(|f| f.unavailable)
                        .map(|f| f.name.clone())
                        .collect(),
                })
                .collect(),
            reproduce: reproduce.into(),
        }
    }
}

impl PublishedReport {
    /// As YAML.
    pub fn to_yaml(&self) -> String {
        serde_saphyr::to_string(self).expect("a published report always serializes")
    }

    /// Writes the YAML to `path`.
    pub fn write_yaml(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, self.to_yaml())
    }
}

/// `args` as one command line a person can paste into a POSIX shell: arguments with
/// characters outside a safe set are single-quoted. For display (the `reproduce` field),
/// never for execution.
pub fn command_line<I, S>(args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    args.into_iter()
        .map(|a| {
            let a = a.as_ref();
            let safe = !a.is_empty()
                && a.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || b"_-./=:,@%+".contains(&c));
            if safe {
                a.to_owned()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::command_line;

    #[test]
    fn command_lines_quote_what_a_shell_would_split() {
        assert_eq!(
            command_line([
                "o2dms-conformance",
                "--only",
                "rollback.*",
                "--kubeconfig",
                "/a b/c"
            ]),
            "o2dms-conformance --only 'rollback.*' --kubeconfig '/a b/c'"
        );
        assert_eq!(command_line(["it's"]), r"'it'\''s'");
        assert_eq!(command_line([""]), "''");
    }
}
