//! The runner: filters, capabilities, bounded parallelism, timeouts, cleanup, progress.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use futures::future::{BoxFuture, Shared};
use futures::{FutureExt, StreamExt};
use globset::{Glob, GlobSet, GlobSetBuilder};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use o2dms_core::{DeletePackageOptions, DmsAdapter, ErrorKind, Timestamp};

use crate::check::Failure;
use crate::context::{Context, EventSource};
use crate::fixtures::Fixtures;
use crate::report::{
    AdapterReport, Outcome, Report, ScenarioReport, SuiteReport, Totals, SCHEMA_VERSION,
    SUITE_VERSION,
};
use crate::scenario::{Flag, Scenario};
use crate::settings::Settings;

/// What removes the namespaces a run created once the run is over: the suite knows only
/// the adapter, which has no call for namespaces, so the harness (which knows the
/// cluster) gives one to [`Suite::namespace_cleanup`].
pub trait NamespaceCleanup: Send + Sync {
    /// Deletes the namespaces whose names start with `prefix` *and* that the run created
    /// (e.g. by the label the adapter puts on namespaces it creates), and waits until they
    /// are gone. Returns the names removed.
    fn remove_namespaces<'a>(
        &'a self,
        prefix: &'a str,
    ) -> BoxFuture<'a, Result<Vec<String>, String>>;
}

/// A signal that stops a run early (e.g. Ctrl-C).
type Interrupt = Shared<BoxFuture<'static, ()>>;

/// A catalogue plus settings and an optional event source, ready to run.
///
/// ```no_run
/// # async fn demo(adapter: &dyn o2dms_core::DmsAdapter) {
/// use o2dms_conformance::{Settings, Suite};
/// let report = Suite::new(Settings::default()).run(adapter).await;
/// report.assert_passed();
/// # }
/// ```
pub struct Suite {
    settings: Settings,
    scenarios: Vec<Scenario>,
    events: Option<Arc<dyn EventSource>>,
    namespaces: Option<Arc<dyn NamespaceCleanup>>,
    interrupt: Option<Interrupt>,
}

impl Suite {
    /// The full catalogue with `settings`.
    pub fn new(settings: Settings) -> Self {
        Suite {
            settings,
            scenarios: crate::catalogue::catalogue(),
            events: None,
            namespaces: None,
            interrupt: None,
        }
    }

    /// No scenarios yet; add your own with [`Suite::scenario`].
    pub fn empty(settings: Settings) -> Self {
        Suite {
            settings,
            scenarios: Vec::new(),
            events: None,
            namespaces: None,
            interrupt: None,
        }
    }

    /// Adds a scenario (an adapter author's own). Ids must be unique.
    pub fn scenario(mut self, scenario: Scenario) -> Self {
        assert!(
            self.scenarios.iter().all(|s| s.id != scenario.id),
            "duplicate scenario id `{}`",
            scenario.id
        );
        self.scenarios.push(scenario);
        self
    }

    /// Observes operation events through `source`, enabling the `events.*` scenarios.
    pub fn events(mut self, source: Arc<dyn EventSource>) -> Self {
        self.events = Some(source);
        self
    }

    /// Removes the namespaces the run created at its end (after a failure or an
    /// interruption too) through `cleanup`.
    pub fn namespace_cleanup(mut self, cleanup: Arc<dyn NamespaceCleanup>) -> Self {
        self.namespaces = Some(cleanup);
        self
    }

    /// Stops the run early when `signal` completes (e.g. `tokio::signal::ctrl_c()`):
    /// running scenarios are cancelled and reported skipped as interrupted, scenarios not
    /// yet started are skipped, and everything created so far is still cleaned up.
    ///
    /// ```no_run
    /// # async fn demo(adapter: &dyn o2dms_core::DmsAdapter) {
    /// use o2dms_conformance::{Settings, Suite};
    /// let report = Suite::new(Settings::default())
    ///     .interrupt_on(async { let _ = tokio::signal::ctrl_c().await; })
    ///     .run(adapter)
    ///     .await;
    /// # }
    /// ```
    pub fn interrupt_on(
        mut self,
        signal: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Self {
        self.interrupt = Some(signal.boxed().shared());
        self
    }

    /// The scenarios, in order.
    pub fn scenarios(&self) -> &[Scenario] {
        &self.scenarios
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Runs every scenario against `adapter`. Every scenario appears in the report with
    /// exactly one outcome.
    ///
    /// # Panics
    /// If the settings are invalid ([`Settings::validate`]).
    pub async fn run(&self, adapter: &dyn DmsAdapter) -> Report {
        if let Err(e) = self.settings.validate() {
            panic!("invalid conformance settings: {e}");
        }
        let started = Instant::now();
        let started_at = Timestamp::now().to_rfc3339();
        let settings = Arc::new(self.settings.clone());
        let prefix = settings
            .namespace_prefix
            .clone()
            .unwrap_or_else(random_prefix);
        let caps = adapter.capabilities();
        let only = globs(&settings.only);
        let skip = globs(&settings.skip);

        let mut outcomes: HashMap<&'static str, (Outcome, u64)> = HashMap::new();
        let mut to_run = Vec::new();
        for (index, s) in self.scenarios.iter().enumerate() {
            let planned = if !settings.only.is_empty() && !only.is_match(s.id) {
                Some(Outcome::Skipped {
                    reason: format!("not selected by --only {}", settings.only.join(",")),
                })
            } else if let Some(g) = skip.matches(s.id).first() {
                Some(Outcome::Skipped {
                    reason: format!("filtered by --skip {}", settings.skip[*g]),
                })
            } else if let Some(missing) = s.requires.iter().find(|c| caps.get(c) != Some(true)) {
                Some(Outcome::NotSupported {
                    reason: format!("the adapter lacks capability `{missing}`"),
                })
            } else if s.has_flag(Flag::NeedsEvents) && self.events.is_none() {
                Some(Outcome::NotSupported {
                    reason: "no event source: the harness passed none (Suite::events)".into(),
                })
            } else {
                None
            };
            match planned {
                Some(o) => {
                    outcomes.insert(s.id, (o, 0));
                }
                None => to_run.push((index, s)),
            }
        }

        // Longest first: the slow scenarios (most of their time is waiting for a timeout)
        // start before the rest, so none of them is left to run alone at the end. The
        // report keeps catalogue order.
        to_run.sort_by_key(|(_, s)| !s.has_flag(Flag::Slow));

        let fixtures = if to_run.is_empty() {
            Arc::new(Fixtures::default())
        } else {
            Arc::new(Fixtures::prepare(adapter, &settings.fixtures_dir).await)
        };

        let bar = progress_bar(settings.progress, to_run.len() as u64);
        let results: Vec<(&'static str, Outcome, u64)> = futures::stream::iter(to_run)
            .map(|(index, s)| {
                let cx = Context::new(
                    s.id,
                    crate::context::scenario_namespace(&prefix, index),
                    settings.clone(),
                    fixtures.clone(),
                    self.events.clone(),
                );
                let bar = bar.clone();
                let settings = settings.clone();
                let interrupt = self.interrupt.clone();
                async move {
                    let (outcome, ms) = if interrupt.as_ref().is_some_and(|i| i.peek().is_some()) {
                        (
                            Outcome::Skipped {
                                reason: INTERRUPTED.into(),
                            },
                            0,
                        )
                    } else {
                        run_one(adapter, s, cx, &settings, interrupt).await
                    };
                    bar.set_message(s.id);
                    bar.inc(1);
                    (s.id, outcome, ms)
                }
            })
            .buffer_unordered(settings.concurrency)
            .collect()
            .await;
        bar.finish_and_clear();
        for (id, o, ms) in results {
            outcomes.insert(id, (o, ms));
        }

        let mut warnings = Vec::new();
        if self.interrupt.as_ref().is_some_and(|i| i.peek().is_some()) {
            warnings.push("the run was interrupted: scenarios not finished are skipped".to_owned());
        }
        for id in fixtures.uploaded() {
            match adapter
                .delete_package(id, DeletePackageOptions::new())
                .await
            {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => warnings.push(format!("deleting fixture package {id}: {e}")),
            }
        }

        if let Some(cleanup) = &self.namespaces {
            match tokio::time::timeout(settings.cleanup_timeout, cleanup.remove_namespaces(&prefix))
                .await
            {
                Ok(Ok(_removed)) => {}
                Ok(Err(e)) => warnings.push(format!("removing the run's namespaces: {e}")),
                Err(_) => warnings.push(format!(
                    "removing the run's namespaces did not finish within {:?}",
                    settings.cleanup_timeout
                )),
            }
        }

        let info = adapter.info();
        let mut report = Report {
            schema_version: SCHEMA_VERSION.to_owned(),
            suite: SuiteReport {
                name: "o2dms-conformance".to_owned(),
                version: SUITE_VERSION.to_owned(),
            },
            adapter: AdapterReport {
                name: info.name,
                version: info.version,
                backend: info.backend,
                backend_version: info.backend_version,
                capabilities: caps
                    .named()
                    .iter()
                    .filter(|(_, on)| *on)
                    .map(|(n, _)| (*n).to_owned())
                    .collect(),
            },
            cluster: settings.cluster.clone(),
            started_at,
            duration_ms: 0,
            namespace_prefix: prefix,
            totals: Totals::default(),
            profiles: Vec::new(),
            scenarios: self
                .scenarios
                .iter()
                .map(|s| {
                    let (outcome, duration_ms) = outcomes.remove(s.id).unwrap_or((
                        Outcome::Failed {
                            expected: "an outcome".into(),
                            seen: "none recorded".into(),
                        },
                        0,
                    ));
                    ScenarioReport {
                        id: s.id.to_owned(),
                        group: s.group().to_owned(),
                        description: s.description.to_owned(),
                        profile: s.profile,
                        flags: s.flags.to_vec(),
                        requires: s.requires.iter().map(|c| (*c).to_owned()).collect(),
                        message: outcome.message(),
                        outcome,
                        duration_ms,
                    }
                })
                .collect(),
            warnings,
        };
        report.compute_totals();
        report.duration_ms = millis(started);
        report
    }
}

/// Runs the full catalogue against `adapter`: the one call an adapter author needs.
///
/// ```no_run
/// # async fn demo(adapter: &dyn o2dms_core::DmsAdapter) {
/// let report = o2dms_conformance::run(adapter, o2dms_conformance::Settings::default()).await;
/// report.assert_passed();
/// # }
/// ```
pub async fn run(adapter: &dyn DmsAdapter, settings: Settings) -> Report {
    Suite::new(settings).run(adapter).await
}

/// The reason of a scenario the interrupt stopped or kept from starting.
const INTERRUPTED: &str = "interrupted: the run was stopped before this scenario finished";

async fn run_one(
    adapter: &dyn DmsAdapter,
    s: &Scenario,
    cx: Context,
    settings: &Settings,
    interrupt: Option<Interrupt>,
) -> (Outcome, u64) {
    let start = Instant::now();
    let limit = if s.has_flag(Flag::Slow) {
        settings.slow_scenario_timeout
    } else {
        settings.scenario_timeout
    };
    let body = AssertUnwindSafe((s.body)(adapter, &cx)).catch_unwind();
    let interrupted = async {
        match interrupt {
            Some(i) => i.await,
            None => futures::future::pending().await,
        }
    };
    let finished = tokio::select! {
        r = tokio::time::timeout(limit, body) => Some(r),
        () = interrupted => None,
    };
    let mut outcome = match finished {
        None => Outcome::Skipped {
            reason: INTERRUPTED.into(),
        },
        Some(Err(_)) => Outcome::Failed {
            expected: format!("the scenario to finish within {limit:?}"),
            seen: "it was still running and was cancelled".into(),
        },
        Some(Ok(Err(panic))) => Outcome::Failed {
            expected: "no panic".into(),
            seen: format!("panic: {}", panic_message(&*panic)),
        },
        Some(Ok(Ok(Ok(())))) => Outcome::Passed,
        Some(Ok(Ok(Err(Failure::Mismatch { expected, seen })))) => {
            Outcome::Failed { expected, seen }
        }
        Some(Ok(Ok(Err(Failure::NotSupported(reason))))) => Outcome::NotSupported { reason },
        Some(Ok(Ok(Err(Failure::Skipped(reason))))) => Outcome::Skipped { reason },
    };
    let problems = match tokio::time::timeout(settings.cleanup_timeout, cx.cleanup(adapter)).await {
        Ok(p) => p,
        Err(_) => vec![format!(
            "cleanup did not finish within {:?}",
            settings.cleanup_timeout
        )],
    };
    if !problems.is_empty() {
        let problems = problems.join("; ");
        outcome = match outcome {
            Outcome::Failed { expected, seen } => Outcome::Failed {
                expected,
                seen: format!("{seen} (and cleanup failed: {problems})"),
            },
            _ => Outcome::Failed {
                expected: "cleanup of the scenario's deployments and packages to succeed".into(),
                seen: problems,
            },
        };
    }
    (outcome, millis(start))
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(not a string)".to_owned())
}

fn millis(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
}

fn globs(patterns: &[String]) -> GlobSet {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        b.add(Glob::new(p).expect("globs are checked by Settings::validate"));
    }
    b.build().expect("globs are checked by Settings::validate")
}

/// `o2c-` and six random lowercase letters and digits, then `-`.
fn random_prefix() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.write_u32(std::process::id());
    let mut n = h.finish();
    let alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut s = String::from("o2c-");
    for _ in 0..6 {
        s.push(char::from(alphabet[(n % 36) as usize]));
        n /= 36;
    }
    s.push('-');
    s
}

fn progress_bar(enabled: bool, len: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden());
    if enabled && std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::stderr());
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
        {
            bar.set_style(style);
        }
    }
    bar
}
