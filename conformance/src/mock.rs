//! The mock adapter set up for the suite (feature `mock`).
//!
//! The mock cannot render templates, so the fixture packages are loaded from the chart
//! directories' `Chart.yaml` and `values.yaml`, and the ones whose workloads misbehave
//! are marked through the mock's fault injection: `never-ready` never becomes ready and
//! `ignores-scale` ignores the scale key.

use std::path::Path;

use o2dms_core::Values;
use o2dms_mock::{MockAdapter, PackageSpec};

use crate::fixtures::{chart_name_version, Fixture};
use crate::settings::Settings;

/// A mock with every fixture package of `fixtures_dir` loaded and marked.
///
/// # Errors
/// A chart directory that cannot be read, or a `values.yaml` that is not a map.
pub fn fixture_mock(fixtures_dir: &Path) -> Result<MockAdapter, String> {
    let mut builder = MockAdapter::builder();
    let mut never_ready = Vec::new();
    let mut ignores_scale = Vec::new();
    for f in Fixture::ALL {
        let dir = fixtures_dir.join(f.dir());
        let read = |file: &str| {
            std::fs::read_to_string(dir.join(file))
                .map_err(|e| format!("{}: {e}", dir.join(file).display()))
        };
        let (name, version) = chart_name_version(&read("Chart.yaml")?)
            .ok_or_else(|| format!("{}: Chart.yaml has no name or version", dir.display()))?;
        let values: Values = match read("values.yaml") {
            Ok(text) => serde_saphyr::from_str(&text)
                .map_err(|e| format!("{}/values.yaml: {e}", dir.display()))?,
            Err(_) => Values::new(),
        };
        match f {
            Fixture::NeverReady => never_ready.push(name.clone()),
            Fixture::IgnoresScale => ignores_scale.push(name.clone()),
            _ => {}
        }
        builder = builder.package(PackageSpec::new(name, version).values(values));
    }
    let mock = builder.build();
    for n in never_ready {
        mock.faults().package_never_ready(n);
    }
    for n in ignores_scale {
        mock.faults().package_ignores_scale(n);
    }
    Ok(mock)
}

/// Settings for the in-memory mock: [`Settings::fast`] with a 100 ms never-ready timeout
/// (the mock simulates the wait without sleeping).
pub fn mock_settings() -> Settings {
    Settings {
        never_ready_timeout: std::time::Duration::from_millis(100),
        ..Settings::fast()
    }
}
