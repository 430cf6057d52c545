//! The mock adapter set up for the suite (feature `mock`).
//!
//! The mock cannot render templates, so the fixture packages are loaded from the charts'
//! `Chart.yaml` and `values.yaml`, and the ones whose workloads misbehave are marked
//! through the mock's fault injection: `never-ready` never becomes ready and
//! `ignores-scale` ignores the scale key.

use o2dms_core::Values;
use o2dms_mock::{MockAdapter, PackageSpec};

use crate::fixtures::{Fixture, FixtureSource};
use crate::settings::Settings;

/// How long the fixture mock shows a never-ready install as pending, in real time (at
/// most the create's timeout): long enough for a client of a server hosting the mock
/// to see it, as `reads.pending_visible_during_install` requires.
pub const PENDING_INSTALL_HOLD: std::time::Duration = std::time::Duration::from_millis(100);

/// A mock with every fixture package of `source` loaded and marked, never-ready installs
/// held pending for [`PENDING_INSTALL_HOLD`].
///
/// `source`: a [`FixtureSource`] (`FixtureSource::Embedded`: the charts built into the
/// library), a directory (`&Path`, `PathBuf`), or
/// [`Settings::fixtures_dir`](crate::Settings::fixtures_dir) (`&Option<PathBuf>`: `None`
/// is `$O2DMS_FIXTURES` or the embedded charts). To match a run, pass
/// `&settings.fixture_source()`.
///
/// # Errors
/// A chart that cannot be read, or a `values.yaml` that is not a map.
pub fn fixture_mock(source: impl Into<FixtureSource>) -> Result<MockAdapter, String> {
    let source = source.into();
    let mut builder = MockAdapter::builder();
    let mut never_ready = Vec::new();
    let mut ignores_scale = Vec::new();
    for f in Fixture::ALL {
        let chart = source
            .chart(f)
            .map_err(|e| format!("{}: {e}", source.location(f)))?;
        let (name, version) = (chart.name, chart.version);
        let values_path = format!("{}/values.yaml", source.location(f));
        let values: Values = match source
            .file(f, "values.yaml")
            .map_err(|e| format!("{values_path}: {e}"))?
        {
            Some(bytes) => {
                let json = o2dms_chart::parse_values_yaml(&values_path, &bytes)
                    .map_err(|e| e.to_string())?;
                serde_json::from_value(json).map_err(|e| format!("{values_path}: {e}"))?
            }
            None => Values::new(),
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
    mock.faults().hold_pending_install(PENDING_INSTALL_HOLD);
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
