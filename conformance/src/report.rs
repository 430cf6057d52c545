//! Reports: JSON (versioned schema), JUnit XML and a readable summary.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::scenario::{Flag, Profile};
use crate::settings::ClusterInfo;
use crate::verdict::{ProfileReport, Verdict};

/// The version of the JSON report's schema (`docs/report.schema.json`).
pub const SCHEMA_VERSION: &str = "1.1";

/// The suite's own version.
pub const SUITE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// How one scenario ended. Exactly one per scenario in the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// It ran and everything held.
    Passed,
    /// It ran and the adapter did not do what the contract says.
    Failed {
        /// What the contract expects.
        expected: String,
        /// What the adapter did.
        seen: String,
    },
    /// It did not run, by choice (filtered by `--skip` / `--only`, ...).
    Skipped {
        /// Why.
        reason: String,
    },
    /// It cannot run against this adapter (a missing capability, no event source).
    NotSupported {
        /// What is missing.
        reason: String,
    },
}

impl Outcome {
    /// `passed`, `failed`, `skipped` or `not_supported`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed { .. } => "failed",
            Outcome::Skipped { .. } => "skipped",
            Outcome::NotSupported { .. } => "not_supported",
        }
    }

    /// One line for a person.
    pub fn message(&self) -> String {
        match self {
            Outcome::Passed => String::new(),
            Outcome::Failed { expected, seen } => format!("expected {expected}; seen {seen}"),
            Outcome::Skipped { reason } | Outcome::NotSupported { reason } => reason.clone(),
        }
    }
}

/// The adapter under test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdapterReport {
    /// Adapter name.
    pub name: String,
    /// Adapter version.
    pub version: String,
    /// Backend name.
    pub backend: String,
    /// Backend version, if known.
    pub backend_version: Option<String>,
    /// Capability names the adapter declared.
    pub capabilities: Vec<String>,
}

/// The suite that ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuiteReport {
    /// `o2dms-conformance`.
    pub name: String,
    /// Its version.
    pub version: String,
}

/// Counts of outcomes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Scenarios counted.
    pub total: u32,
    /// Passed.
    pub passed: u32,
    /// Failed.
    pub failed: u32,
    /// Skipped.
    pub skipped: u32,
    /// Not supported.
    pub not_supported: u32,
}

impl Counts {
    pub(crate) fn add(&mut self, o: &Outcome) {
        self.total += 1;
        match o {
            Outcome::Passed => self.passed += 1,
            Outcome::Failed { .. } => self.failed += 1,
            Outcome::Skipped { .. } => self.skipped += 1,
            Outcome::NotSupported { .. } => self.not_supported += 1,
        }
    }
}

/// Totals per profile and overall.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Core scenarios.
    pub core: Counts,
    /// Extended scenarios.
    pub extended: Counts,
    /// All scenarios.
    pub all: Counts,
}

/// One scenario's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioReport {
    /// Scenario id.
    pub id: String,
    /// Its group (the id up to the first dot).
    pub group: String,
    /// What it checks.
    pub description: String,
    /// Core or extended.
    pub profile: Profile,
    /// Its flags.
    pub flags: Vec<Flag>,
    /// Capabilities it needs.
    pub requires: Vec<String>,
    /// How it ended.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// The outcome in one line (empty when passed).
    pub message: String,
    /// How long it took, cleanup included (0 when it did not run).
    pub duration_ms: u64,
}

/// The result of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// [`SCHEMA_VERSION`].
    pub schema_version: String,
    /// The suite.
    pub suite: SuiteReport,
    /// The adapter under test.
    pub adapter: AdapterReport,
    /// The cluster (kind `none` without one).
    pub cluster: ClusterInfo,
    /// When the run started (RFC 3339).
    pub started_at: String,
    /// How long the run took.
    pub duration_ms: u64,
    /// The namespace prefix of the run.
    pub namespace_prefix: String,
    /// Totals per profile.
    pub totals: Totals,
    /// The verdict of each profile (core, then extended) and the scenarios behind it.
    pub profiles: Vec<ProfileReport>,
    /// Every scenario of the catalogue, in catalogue order.
    pub scenarios: Vec<ScenarioReport>,
    /// Problems outside any scenario (fixture cleanup, ...).
    pub warnings: Vec<String>,
}

impl Report {
    /// Recomputes [`Report::totals`] and [`Report::profiles`] from the scenarios and the
    /// declared capabilities.
    pub fn compute_totals(&mut self) {
        self.profiles = crate::verdict::profiles(&self.scenarios, &self.adapter.capabilities);
        let mut t = Totals::default();
        for s in &self.scenarios {
            t.all.add(&s.outcome);
            match s.profile {
                Profile::Core => t.core.add(&s.outcome),
                Profile::Extended => t.extended.add(&s.outcome),
            }
        }
        self.totals = t;
    }

    /// Whether no scenario failed.
    pub fn passed(&self) -> bool {
        self.totals.all.failed == 0
    }

    /// The verdict of `profile`.
    pub fn profile(&self, profile: Profile) -> Option<&ProfileReport> {
        self.profiles.iter().find(|p| p.profile == profile)
    }

    /// Whether the adapter is conformant for the core profile: every core capability
    /// declared and every core scenario run and passed.
    pub fn conformant(&self) -> bool {
        self.profile(Profile::Core)
            .is_some_and(|p| p.verdict == Verdict::Success)
    }

    /// The scenarios that failed.
    pub fn failures(&self) -> impl Iterator<Item = &ScenarioReport> {
        self.scenarios
            .iter()
            .filter(|s| matches!(s.outcome, Outcome::Failed { .. }))
    }

    /// Ids of the scenarios that failed.
    pub fn failed_ids(&self) -> Vec<&str> {
        self.failures().map(|s| s.id.as_str()).collect()
    }

    /// The result of scenario `id`.
    pub fn scenario(&self, id: &str) -> Option<&ScenarioReport> {
        self.scenarios.iter().find(|s| s.id == id)
    }

    /// Panics with the summary unless every scenario passed or was skipped / not supported.
    #[track_caller]
    pub fn assert_passed(&self) {
        if !self.passed() {
            let mut msg = format!(
                "{} conformance scenario(s) failed:\n",
                self.totals.all.failed
            );
            for s in self.failures() {
                let _ = writeln!(msg, "  {}: {}", s.id, s.message);
            }
            let _ = write!(msg, "\n{}", self.summary());
            panic!("{msg}");
        }
    }

    /// The JSON report, pretty-printed.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serializes")
    }

    /// The JUnit XML report: one test suite per group, one test case per scenario.
    pub fn to_junit(&self) -> String {
        use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};
        let mut report = quick_junit::Report::new("o2dms-conformance");
        report.set_time(Duration::from_millis(self.duration_ms));
        let mut groups: Vec<&str> = Vec::new();
        for s in &self.scenarios {
            if !groups.contains(&s.group.as_str()) {
                groups.push(&s.group);
            }
        }
        for g in groups {
            let mut suite = TestSuite::new(g);
            for s in self.scenarios.iter().filter(|s| s.group == g) {
                let status = match &s.outcome {
                    Outcome::Passed => TestCaseStatus::success(),
                    Outcome::Failed { expected, seen } => {
                        let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
                        st.set_message(format!("expected {expected}"));
                        st.set_type("conformance");
                        st.set_description(format!("expected: {expected}\nseen: {seen}"));
                        st
                    }
                    Outcome::Skipped { reason } => {
                        let mut st = TestCaseStatus::skipped();
                        st.set_message(format!("skipped: {reason}"));
                        st
                    }
                    Outcome::NotSupported { reason } => {
                        let mut st = TestCaseStatus::skipped();
                        st.set_message(format!("not supported: {reason}"));
                        st
                    }
                };
                let mut case = TestCase::new(s.id.as_str(), status);
                case.set_classname(format!("o2dms-conformance.{}", s.group));
                case.set_time(Duration::from_millis(s.duration_ms));
                case.add_property(quick_junit::Property::new("profile", s.profile.as_str()));
                suite.add_test_case(case);
            }
            report.add_test_suite(suite);
        }
        let mut suite = TestSuite::new("profiles");
        for p in &self.profiles {
            let status = match p.verdict {
                Verdict::Success => TestCaseStatus::success(),
                Verdict::Partial => {
                    let mut st = TestCaseStatus::skipped();
                    st.set_message(format!("partial: {}", p.reason));
                    st
                }
                Verdict::Failure => {
                    let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    st.set_message(format!("failure: {}", p.reason));
                    st.set_type("conformance");
                    st
                }
            };
            let mut case = TestCase::new(format!("profile.{}", p.profile), status);
            case.set_classname("o2dms-conformance.profiles");
            case.add_property(quick_junit::Property::new("verdict", p.verdict.as_str()));
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
        report
            .to_string()
            .expect("a JUnit report always serializes")
    }

    /// A table of every scenario and the totals, for a person.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let a = &self.adapter;
        let _ = writeln!(
            out,
            "o2dms conformance {}: adapter {} {} (backend {} {}), cluster {}{}",
            self.suite.version,
            a.name,
            a.version,
            a.backend,
            a.backend_version.as_deref().unwrap_or("unknown"),
            self.cluster.kind,
            self.cluster
                .kubernetes_version
                .as_deref()
                .map(|v| format!(" {v}"))
                .unwrap_or_default(),
        );
        let width = self.scenarios.iter().map(|s| s.id.len()).max().unwrap_or(8);
        let _ = writeln!(
            out,
            "{:<13} {:>9}  {:<width$}  MESSAGE",
            "OUTCOME", "TIME", "SCENARIO"
        );
        for s in &self.scenarios {
            let _ = writeln!(
                out,
                "{:<13} {:>7}ms  {:<width$}  {}",
                s.outcome.as_str(),
                s.duration_ms,
                s.id,
                s.message
            )
            .map(|_| ());
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{:<9} {:>6} {:>6} {:>6} {:>8} {:>14}",
            "PROFILE", "TOTAL", "PASSED", "FAILED", "SKIPPED", "NOT SUPPORTED"
        );
        for (name, c) in [
            ("core", self.totals.core),
            ("extended", self.totals.extended),
            ("all", self.totals.all),
        ] {
            let _ = writeln!(
                out,
                "{:<9} {:>6} {:>6} {:>6} {:>8} {:>14}",
                name, c.total, c.passed, c.failed, c.skipped, c.not_supported
            );
        }
        let _ = writeln!(out);
        for p in &self.profiles {
            let _ = writeln!(
                out,
                "profile {:<9} {:<8} {}",
                p.profile.as_str(),
                p.verdict.as_str().to_uppercase(),
                p.reason
            );
            for f in &p.features {
                let _ = writeln!(
                    out,
                    "  feature {:<16} {}",
                    f.name,
                    if f.supported {
                        format!("supported ({}/{} passed)", f.counts.passed, f.counts.total)
                    } else if f.unavailable {
                        "not supported".to_owned()
                    } else {
                        "not run".to_owned()
                    }
                );
            }
        }
        for w in &self.warnings {
            let _ = writeln!(out, "warning: {w}");
        }
        let _ = writeln!(
            out,
            "result: {} in {} ms",
            match (self.passed(), self.conformant()) {
                (true, true) => "PASSED (conformant: core)",
                (true, false) => "PASSED, but NOT CONFORMANT (core profile incomplete)",
                (false, _) => "FAILED",
            },
            self.duration_ms
        );
        out
    }

    /// Writes the JSON report to `path`.
    pub fn write_json(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, self.to_json() + "\n")
    }

    /// Writes the JUnit report to `path`.
    pub fn write_junit(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, self.to_junit())
    }

    /// A copy with durations, start time and namespace prefix replaced by fixed values,
    /// for comparing reports across runs (snapshots).
    pub fn redacted(&self) -> Report {
        let mut r = self.clone();
        r.duration_ms = 0;
        r.started_at = "[started_at]".into();
        r.namespace_prefix = "[prefix]".into();
        for s in &mut r.scenarios {
            s.duration_ms = 0;
        }
        r
    }
}
