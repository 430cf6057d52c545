//! Settings of a run, each with a documented default.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::fixtures::FixtureSource;

/// The cluster a run used, for the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterInfo {
    /// `none` (no cluster, e.g. the mock), `local`, `kind`, `kubeconfig`, or `remote`
    /// (a DMS server tested over its API: its cluster, if any, is the server's).
    pub kind: String,
    /// The Kubernetes server version (`v1.33.1`) when there is a cluster.
    pub kubernetes_version: Option<String>,
}

impl Default for ClusterInfo {
    fn default() -> Self {
        ClusterInfo {
            kind: "none".to_owned(),
            kubernetes_version: None,
        }
    }
}

/// How a run behaves. Every field has a default (see [`Settings::default`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Scenarios run at once. Default 8: most of a scenario against a real cluster is
    /// waiting (Helm 3 polls readiness every 2 s), so more run at once than there are cores.
    pub concurrency: usize,
    /// Time limit of one scenario (body, not cleanup). Default 120 s.
    pub scenario_timeout: Duration,
    /// Time limit of a scenario flagged `slow`. Default 600 s.
    pub slow_scenario_timeout: Duration,
    /// Time limit of the cleanup after each scenario. Default 120 s.
    pub cleanup_timeout: Duration,
    /// Timeout passed to create, update, scale and rollback requests; `None` leaves the
    /// adapter's default. Default `None`.
    pub operation_timeout: Option<Duration>,
    /// Timeout passed when creating the `never-ready` fixture, which must end in Timeout
    /// and a Failed deployment. Default 10 s: long enough for a real install to apply, short because 16 scenarios wait for it on purpose.
    pub never_ready_timeout: Duration,
    /// How long to wait for operation events to arrive. Default 5 s.
    pub event_wait: Duration,
    /// Rounds of the concurrency scenarios (two writers each round). Default 3.
    pub repeat: u32,
    /// Deployments made by the pagination scenario; more than one page. Default 7.
    pub pagination_items: u32,
    /// Page size of the pagination scenario. Default 3.
    pub page_size: u32,
    /// Uncompressed size of the decompression-bomb archive. Default 1 GiB.
    pub bomb_bytes: u64,
    /// Run only scenarios whose id matches one of these globs (all if empty).
    pub only: Vec<String>,
    /// Skip scenarios whose id matches one of these globs.
    pub skip: Vec<String>,
    /// Namespace prefix; a fresh `o2c-<random6>-` if unset. Default unset.
    pub namespace_prefix: Option<String>,
    /// Where the fixture charts are. `None` (the default): the charts embedded in this
    /// library, unless the environment variable `O2DMS_FIXTURES` names a directory at run
    /// time; `Some(dir)`: chart directories under `dir`, one per fixture, named as
    /// [`Fixture::dir`](crate::Fixture::dir). [`Settings::fixture_source`] tells which
    /// a run uses.
    pub fixtures_dir: Option<PathBuf>,
    /// Show a progress bar on stderr (only when stderr is a terminal). Default true.
    pub progress: bool,
    /// The cluster, for the report. Default kind `none`, no version.
    pub cluster: ClusterInfo,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            concurrency: 8,
            scenario_timeout: Duration::from_secs(120),
            slow_scenario_timeout: Duration::from_secs(600),
            cleanup_timeout: Duration::from_secs(120),
            operation_timeout: None,
            never_ready_timeout: Duration::from_secs(10),
            event_wait: Duration::from_secs(5),
            repeat: 3,
            pagination_items: 7,
            page_size: 3,
            bomb_bytes: 1024 * 1024 * 1024,
            only: Vec::new(),
            skip: Vec::new(),
            namespace_prefix: None,
            fixtures_dir: None,
            progress: true,
            cluster: ClusterInfo::default(),
        }
    }
}

impl Settings {
    /// Where this run's fixture charts come from: [`Settings::fixtures_dir`] if set, else
    /// the directory in `$O2DMS_FIXTURES` if set, else the embedded charts.
    pub fn fixture_source(&self) -> FixtureSource {
        FixtureSource::resolve(self.fixtures_dir.as_deref())
    }

    /// Settings for an in-memory adapter: short timeouts, so the whole catalogue takes seconds.
    pub fn fast() -> Self {
        Settings {
            concurrency: 8,
            scenario_timeout: Duration::from_secs(30),
            slow_scenario_timeout: Duration::from_secs(60),
            cleanup_timeout: Duration::from_secs(30),
            never_ready_timeout: Duration::from_millis(200),
            event_wait: Duration::from_secs(2),
            bomb_bytes: 256 * 1024 * 1024,
            ..Settings::default()
        }
    }

    /// Checks the globs and the numbers; the message names the bad setting.
    pub fn validate(&self) -> Result<(), String> {
        for g in self.only.iter().chain(&self.skip) {
            globset::Glob::new(g).map_err(|e| format!("bad glob `{g}`: {e}"))?;
        }
        if self.concurrency == 0 {
            return Err("concurrency must be at least 1".into());
        }
        if self.page_size == 0 || self.pagination_items <= self.page_size {
            return Err(
                "pagination_items must be more than page_size, and page_size at least 1".into(),
            );
        }
        if let Some(p) = &self.namespace_prefix {
            let ok = !p.is_empty()
                && p.len() <= 40
                && p.bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
                && p.as_bytes()[0].is_ascii_lowercase();
            if !ok {
                return Err(format!(
                    "namespace prefix `{p}` must be 1-40 lowercase letters, digits or '-', starting with a letter"
                ));
            }
        }
        Ok(())
    }
}
