//! What an adapter author writes: run the whole conformance catalogue against an adapter
//! and fail on any failed scenario. Here the mock stands in for "your adapter"; in your
//! crate this body goes in a `#[tokio::test]` (see docs/adapter-guide.md).
//!
//! `cargo run -p o2dms-conformance --example adapter_test`

use std::sync::Arc;

use o2dms_conformance::{FixtureSource, Settings, Suite};
use o2dms_layers::Events;

#[tokio::main]
async fn main() {
    // Your adapter. The fixture packages must be installable: with `package_upload` the
    // suite uploads them itself (the charts are built into o2dms-conformance).
    let adapter = o2dms_conformance::mock::fixture_mock(FixtureSource::Embedded)
        .expect("fixture charts readable");

    // The one call: the full catalogue with default settings.
    let report = o2dms_conformance::run(&adapter, Settings::default()).await;
    println!("{}", report.summary());

    // With operation events observed too (the events.* scenarios need an event source).
    let with_events = Arc::new(Events::new(adapter));
    let report = Suite::new(Settings::default())
        .events(with_events.clone())
        .run(&*with_events)
        .await;
    report
        .write_json("conformance-report.json".as_ref())
        .expect("report written");
    report.assert_passed();
}
