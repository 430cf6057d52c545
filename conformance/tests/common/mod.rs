//! The mock as the suite expects it, and fast settings.

#![allow(dead_code)]

pub mod broken;

use o2dms_conformance::{default_fixtures_dir, Settings};
use o2dms_mock::MockAdapter;

/// A mock with the fixture packages loaded and marked.
pub fn mock() -> MockAdapter {
    o2dms_conformance::mock::fixture_mock(&default_fixtures_dir()).unwrap()
}

/// Fast settings for the in-memory mock, no progress bar.
pub fn settings() -> Settings {
    Settings {
        progress: false,
        ..o2dms_conformance::mock::mock_settings()
    }
}
