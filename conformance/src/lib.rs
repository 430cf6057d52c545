//! # o2dms-conformance
//!
//! The conformance suite for o2dms adapters: a catalogue of scenarios (data: an id, a
//! description, the capabilities they need, a profile, flags and an async body), a runner
//! (bounded parallelism, timeouts, cleanup of everything a scenario created, `--only` /
//! `--skip` globs, progress) and reports (JSON with a versioned schema, JUnit XML, a summary).
//!
//! An adapter author calls one function from their own test:
//!
//! ```no_run
//! # async fn demo(adapter: &dyn o2dms_core::DmsAdapter) {
//! let report = o2dms_conformance::run(adapter, o2dms_conformance::Settings::default()).await;
//! report.assert_passed();
//! # }
//! ```
//!
//! See `docs/adapter-guide.md` for a complete example and `docs/conformance.md` for the
//! catalogue.

mod catalogue;
mod check;
mod context;
mod docs;
mod fixtures;
#[cfg(feature = "mock")]
pub mod mock;
mod promises;
mod published;
mod report;
mod runner;
mod scenario;
mod settings;
mod verdict;

pub use catalogue::catalogue;
pub use check::{describe_error, ensure, ensure_eq, Failure, ResultExt};
pub use context::{planned_namespaces, Context, EventSource, MAX_OTHER_NAMESPACES};
pub use docs::{catalogue_markdown, coverage_markdown};
pub use fixtures::{
    chart_name_version, hostile_archive, package_chart_dir, tgz, tiny_chart, Fixture, FixtureChart,
    FixtureSource, Fixtures, Hostile, FIXTURES_ENV,
};
pub use promises::{promises, Promise, PROMISES};
pub use published::{
    command_line, Implementation, PublishedCluster, PublishedProfile, PublishedReport,
    PUBLISHED_API_VERSION,
};
pub use report::{
    AdapterReport, Counts, Outcome, Report, ScenarioReport, SuiteReport, Totals, SCHEMA_VERSION,
    SUITE_VERSION,
};
pub use runner::{run, NamespaceCleanup, Suite};
pub use scenario::{Body, Flag, Profile, Scenario, ScenarioResult};
pub use settings::{ClusterInfo, Settings};
pub use verdict::{FeatureResult, ProfileReport, Verdict, CORE_CAPABILITIES, EVENTS_FEATURE};
