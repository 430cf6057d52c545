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
        let (name, version) =
            chart_name_version(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let values_path = dir.join("values.yaml");
        let values: Values = match std::fs::read(&values_path) {
            Ok(bytes) => {
                let path = values_path.display().to_string();
                let json =
                    o2dms_chart::parse_values_yaml(&path, &bytes).map_err(|e| e.to_string())?;
                serde_json::from_value(json).map_err(|e| format!("{path}: {e}"))?
            }
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
