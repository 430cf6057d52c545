//! Suite settings from a YAML file (`--settings`): every field optional, durations in
//! seconds, unknown keys refused naming the key.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use o2dms_conformance::Settings;
use serde::Deserialize;

/// The settings file. Each field overrides the default of [`Settings`].
///
/// ```yaml
/// concurrency: 4
/// scenarioTimeout: 180
/// operationTimeout: 300
/// skip: ["logs.*"]
/// ```
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SettingsFile {
    /// Scenarios run at once.
    pub concurrency: Option<usize>,
    /// Seconds one scenario may take.
    pub scenario_timeout: Option<u64>,
    /// Seconds a slow scenario may take.
    pub slow_scenario_timeout: Option<u64>,
    /// Seconds the cleanup after a scenario may take.
    pub cleanup_timeout: Option<u64>,
    /// Seconds passed as the timeout of every write.
    pub operation_timeout: Option<u64>,
    /// Seconds the never-ready create waits before it must time out.
    pub never_ready_timeout: Option<u64>,
    /// Seconds to wait for operation events.
    pub event_wait: Option<u64>,
    /// Rounds of the concurrency scenarios.
    pub repeat: Option<u32>,
    /// Globs of scenarios to run.
    pub only: Option<Vec<String>>,
    /// Globs of scenarios to skip.
    pub skip: Option<Vec<String>>,
    /// Namespace prefix.
    pub namespace_prefix: Option<String>,
    /// Fixture chart directories.
    pub fixtures: Option<PathBuf>,
}

impl SettingsFile {
    /// Reads and parses `path`.
    ///
    /// # Errors
    /// A file that cannot be read, or YAML that does not fit (naming the key).
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_saphyr::from_str(&text).with_context(|| format!("{}", path.display()))
    }

    /// `settings` with every field this file sets.
    pub fn apply(&self, mut settings: Settings) -> Settings {
        let secs = Duration::from_secs;
        if let Some(v) = self.concurrency {
            settings.concurrency = v;
        }
        if let Some(v) = self.scenario_timeout {
            settings.scenario_timeout = secs(v);
        }
        if let Some(v) = self.slow_scenario_timeout {
            settings.slow_scenario_timeout = secs(v);
        }
        if let Some(v) = self.cleanup_timeout {
            settings.cleanup_timeout = secs(v);
        }
        if let Some(v) = self.operation_timeout {
            settings.operation_timeout = Some(secs(v));
        }
        if let Some(v) = self.never_ready_timeout {
            settings.never_ready_timeout = secs(v);
        }
        if let Some(v) = self.event_wait {
            settings.event_wait = secs(v);
        }
        if let Some(v) = self.repeat {
            settings.repeat = v;
        }
        if let Some(v) = &self.only {
            settings.only.clone_from(v);
        }
        if let Some(v) = &self.skip {
            settings.skip.clone_from(v);
        }
        if let Some(v) = &self.namespace_prefix {
            settings.namespace_prefix = Some(v.clone());
        }
        if let Some(v) = &self.fixtures {
            settings.fixtures_dir = Some(v.clone());
        }
        settings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_overrides_only_what_it_sets() {
        let f: SettingsFile =
            serde_saphyr::from_str("concurrency: 3\nscenarioTimeout: 9\nskip: [\"logs.*\"]\n")
                .unwrap();
        let s = f.apply(Settings::default());
        assert_eq!(s.concurrency, 3);
        assert_eq!(s.scenario_timeout, Duration::from_secs(9));
        assert_eq!(s.skip, ["logs.*"]);
        assert_eq!(s.repeat, Settings::default().repeat);
    }

    #[test]
    fn unknown_keys_are_refused_by_name() {
        let e = serde_saphyr::from_str::<SettingsFile>("concurency: 3\n").unwrap_err();
        assert!(e.to_string().contains("concurency"), "{e}");
    }
}
