//! The mock adapter set up for the suite (feature `mock`).
//!
//! The mock cannot render templates, so the fixture packages are loaded from the charts'
//! `Chart.yaml` and `values.yaml`, and the ones whose workloads misbehave are marked
//! through the mock's fault injection: `never-ready` never becomes ready and
//! `ignores-scale` ignores the scale key.

use o2dms_core::Values;
use o2dms_mock::{MockAdapter, MockPackage, MockSettings};

use crate::fixtures::{Fixture, FixtureSource};
use crate::settings::Settings;

/// How long the fixture mock shows a never-ready install as pending, in real time (at
/// most the create's timeout): long enough for a client of a server hosting the mock
/// to see it, as `reads.pending_visible_during_install` requires.
pub const PENDING_INSTALL_HOLD: std::time::Duration = std::time::Duration::from_millis(100);

/// A mock with every fixture package of `source` loaded and marked, never-ready installs
/// held pending for [`PENDING_INSTALL_HOLD`]: [`fixture_mock_settings`] made real.
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
    MockAdapter::from_settings(&fixture_mock_settings(source)?).map_err(|e| e.to_string())
}

/// The fixture mock as data: the `config` of a `type: mock` plugin (e.g. for
/// `o2dms serve`) that hosts the same mock as [`fixture_mock`].
///
/// # Errors
/// A chart that cannot be read, or a `values.yaml` that is not a map.
pub fn fixture_mock_settings(source: impl Into<FixtureSource>) -> Result<MockSettings, String> {
    let source = source.into();
    let mut settings = MockSettings::default();
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
            Fixture::NeverReady => settings.faults.never_ready.push(name.clone()),
            Fixture::IgnoresScale => settings.faults.ignores_scale.push(name.clone()),
            _ => {}
        }
        settings
            .packages
            .push(MockPackage::new(name, version).values(values));
    }
    settings.faults.hold_pending_install_ms = Some(PENDING_INSTALL_HOLD.as_millis() as u64);
    Ok(settings)
}

/// Settings for the in-memory mock: [`Settings::fast`] with a 100 ms never-ready timeout
/// (the mock simulates the wait without sleeping).
pub fn mock_settings() -> Settings {
    Settings {
        never_ready_timeout: std::time::Duration::from_millis(100),
        ..Settings::fast()
    }
}
