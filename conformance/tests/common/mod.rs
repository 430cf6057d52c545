//! The mock as the suite expects it, and fast settings.

#![allow(dead_code)]

pub mod broken;

use o2dms_conformance::Settings;
use o2dms_mock::MockAdapter;

/// A mock with the fixture packages loaded and marked, from the fixture charts
/// [`settings()`] uses (the embedded ones unless `O2DMS_FIXTURES` is set).
pub fn mock() -> MockAdapter {
    o2dms_conformance::mock::fixture_mock(settings().fixture_source()).unwrap()
}

/// Fast settings for the in-memory mock, no progress bar.
pub fn settings() -> Settings {
    Settings {
        progress: false,
        ..o2dms_conformance::mock::mock_settings()
    }
}
