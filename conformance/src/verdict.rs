//! Verdicts per profile, as in Gateway API conformance: the core profile names the
//! capabilities every adapter must have, and a run is conformant for it only when every
//! core scenario ran and passed; extended features are reported as supported or not.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::report::{Counts, Outcome, ScenarioReport};
use crate::scenario::{Flag, Profile};

/// The capabilities every adapter must declare (and pass) to be conformant for the
/// core profile. The others (`package_upload`, `logs`) and operation events are
/// extended features.
pub const CORE_CAPABILITIES: &[&str] = &[
    "deployment_lifecycle",
    "package_management",
    "rollback",
    "scaling",
    "history",
    "status_detail",
    "labels",
    "timeouts",
];

/// The name of the extended feature of scenarios that read operation events.
pub const EVENTS_FEATURE: &str = "events";

/// How a profile came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every scenario of the profile ran and passed.
    Success,
    /// Nothing failed, but not every scenario ran: for core, some were left out by
    /// `--only` / `--skip`; for extended, some features are not supported.
    Partial,
    /// A scenario failed, or (core) a scenario could not run because a core capability
    /// is not declared.
    Failure,
}

impl Verdict {
    /// `success`, `partial` or `failure`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Success => "success",
            Verdict::Partial => "partial",
            Verdict::Failure => "failure",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One extended feature and how the run treated it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureResult {
    /// The capability name, or [`EVENTS_FEATURE`].
    pub name: String,
    /// Whether its scenarios ran (the adapter declared it; for events, the harness gave
    /// an event source). A feature whose scenarios were all left out of the run counts
    /// as not supported by this run.
    pub supported: bool,
    /// Whether the adapter (or harness) lacks it: every one of its scenarios was not
    /// supported (as opposed to left out by `--only` / `--skip`).
    #[serde(default)]
    pub unavailable: bool,
    /// Outcomes of its scenarios.
    pub counts: Counts,
}

/// The verdict of one profile and the scenarios behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileReport {
    /// Core or extended.
    pub profile: Profile,
    /// Success, partial or failure.
    pub verdict: Verdict,
    /// Why, in one sentence.
    pub reason: String,
    /// Outcomes of the profile's scenarios.
    pub counts: Counts,
    /// Scenarios that failed.
    pub failed: Vec<String>,
    /// Scenarios that did not run (skipped or not supported).
    pub not_run: Vec<String>,
    /// Core only: core capabilities the adapter does not declare.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_capabilities: Vec<String>,
    /// Extended only: each feature, supported or not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<FeatureResult>,
}

/// The verdicts of both profiles from the scenario results and the declared capabilities.
pub fn profiles(scenarios: &[ScenarioReport], declared: &[String]) -> Vec<ProfileReport> {
    vec![core(scenarios, declared), extended(scenarios)]
}

fn count<'a>(scenarios: impl Iterator<Item = &'a ScenarioReport>) -> Counts {
    let mut c = Counts::default();
    for s in scenarios {
        c.add(&s.outcome);
    }
    c
}

fn ids<'a>(
    scenarios: impl Iterator<Item = &'a ScenarioReport>,
    keep: impl Fn(&Outcome) -> bool,
) -> Vec<String> {
    scenarios
        .filter(|s| keep(&s.outcome))
        .map(|s| s.id.clone())
        .collect()
}

fn is_failed(o: &Outcome) -> bool {
    matches!(o, Outcome::Failed { .. })
}

fn is_not_run(o: &Outcome) -> bool {
    matches!(o, Outcome::Skipped { .. } | Outcome::NotSupported { .. })
}

fn core(scenarios: &[ScenarioReport], declared: &[String]) -> ProfileReport {
    let of = || scenarios.iter().filter(|s| s.profile == Profile::Core);
    let counts = count(of());
    let missing: Vec<String> = CORE_CAPABILITIES
        .iter()
        .filter(|c| !declared.iter().any(|d| d == *c))
        .map(|c| (*c).to_owned())
        .collect();
    let (verdict, reason) = if counts.failed > 0 {
        (
            Verdict::Failure,
            format!("{} core scenario(s) failed", counts.failed),
        )
    } else if !missing.is_empty() {
        (
            Verdict::Failure,
            format!(
                "core capabilities not declared: {} ({} core scenario(s) could not run)",
                missing.join(", "),
                counts.not_supported
            ),
        )
    } else if counts.not_supported > 0 {
        (
            Verdict::Failure,
            format!(
                "{} core scenario(s) could not run (not supported)",
                counts.not_supported
            ),
        )
    } else if counts.skipped > 0 {
        (
            Verdict::Partial,
            format!(
                "{} core scenario(s) were left out of the run; a conformant run runs them all",
                counts.skipped
            ),
        )
    } else {
        (
            Verdict::Success,
            format!("all {} core scenarios passed", counts.passed),
        )
    };
    ProfileReport {
        profile: Profile::Core,
        verdict,
        reason,
        counts,
        failed: ids(of(), is_failed),
        not_run: ids(of(), is_not_run),
        missing_capabilities: missing,
        features: Vec::new(),
    }
}

/// The extended feature a scenario belongs to: the first capability it needs that is not
/// core, else events when it reads them, else `other`.
fn feature_of(s: &ScenarioReport) -> String {
    s.requires
        .iter()
        .find(|c| !CORE_CAPABILITIES.contains(&c.as_str()))
        .cloned()
        .unwrap_or_else(|| {
            if s.flags.contains(&Flag::NeedsEvents) {
                EVENTS_FEATURE.to_owned()
            } else {
                "other".to_owned()
            }
        })
}

fn extended(scenarios: &[ScenarioReport]) -> ProfileReport {
    let of = || scenarios.iter().filter(|s| s.profile == Profile::Extended);
    let counts = count(of());
    let mut names: Vec<String> = of().map(feature_of).collect();
    names.sort();
    names.dedup();
    let features: Vec<FeatureResult> = names
        .into_iter()
        .map(|name| {
            let c = count(of().filter(|s| feature_of(s) == name));
            FeatureResult {
                supported: c.passed + c.failed > 0,
                unavailable: c.total > 0 && c.not_supported == c.total,
                name,
                counts: c,
            }
        })
        .collect();
    let unsupported: Vec<&str> = features
        .iter()
        .filter(|f| f.unavailable)
        .map(|f| f.name.as_str())
        .collect();
    let (verdict, reason) = if counts.failed > 0 {
        (
            Verdict::Failure,
            format!("{} extended scenario(s) failed", counts.failed),
        )
    } else if counts.not_supported + counts.skipped > 0 {
        (
            Verdict::Partial,
            if unsupported.is_empty() {
                format!(
                    "{} extended scenario(s) did not run",
                    counts.not_supported + counts.skipped
                )
            } else {
                format!("features not supported: {}", unsupported.join(", "))
            },
        )
    } else {
        (
            Verdict::Success,
            format!("all {} extended scenarios passed", counts.passed),
        )
    };
    ProfileReport {
        profile: Profile::Extended,
        verdict,
        reason,
        counts,
        failed: ids(of(), is_failed),
        not_run: ids(of(), is_not_run),
        missing_capabilities: Vec::new(),
        features,
    }
}
