//! The whole catalogue through the wire: the fixture mock behind a real server on
//! loopback, the suite on a `RemoteAdapter`, scenario by scenario the same outcomes as
//! the same mock in process.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use o2dms_conformance::mock::{fixture_mock, mock_settings};
use o2dms_conformance::{FixtureSource, Report, Suite};
use o2dms_core::DmsAdapter;
use o2dms_layers::Events;

async fn in_process() -> Report {
    let mock = fixture_mock(FixtureSource::Embedded).expect("fixture mock");
    let adapter = Arc::new(Events::new(mock));
    Suite::new(mock_settings())
        .events(adapter.clone())
        .run(&*adapter)
        .await
}

async fn over_the_wire(server: &common::Running) -> Report {
    let remote = o2dms_remote::RemoteAdapter::builder(server.endpoint("mock"))
        .connect()
        .await
        .expect("connect");
    // Events are the client's: subscriptions come with the service (#16).
    let adapter = Arc::new(Events::new(remote));
    Suite::new(mock_settings())
        .events(adapter.clone())
        .run(&*adapter)
        .await
}

fn outcomes(report: &Report) -> BTreeMap<String, String> {
    report
        .scenarios
        .iter()
        .map(|s| (s.id.clone(), s.outcome.as_str().to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_has_the_same_outcome_over_the_wire_as_in_process() {
    let local = in_process().await;
    let mock = fixture_mock(FixtureSource::Embedded).expect("fixture mock");
    let server = common::serve(vec![("mock", Arc::new(mock) as Arc<dyn DmsAdapter>)]).await;
    let wire = over_the_wire(&server).await;
    let report = server.stop().await;
    assert!(
        report.unfinished.is_empty(),
        "operations left running: {:?}",
        report.unfinished
    );

    let (a, b) = (outcomes(&local), outcomes(&wire));
    assert_eq!(a.len(), local.scenarios.len(), "scenario ids are unique");
    let differences: Vec<String> = a
        .iter()
        .filter(|(id, o)| b.get(*id) != Some(o))
        .map(|(id, o)| {
            let w = wire.scenario(id);
            format!(
                "{id}: in process {o}, over the wire {} ({})",
                w.map_or("missing", |s| s.outcome.as_str()),
                w.map(|s| s.message.as_str()).unwrap_or_default()
            )
        })
        .collect();
    assert!(
        differences.is_empty(),
        "{} of {} scenarios differ:\n{}",
        differences.len(),
        a.len(),
        differences.join("\n")
    );
    assert_eq!(a.len(), b.len(), "the same scenarios ran");
    // the mock passes the whole catalogue in process; so it must over the wire
    local.assert_passed();
    wire.assert_passed();
    assert_eq!(local.adapter.name, wire.adapter.name);
    assert_eq!(local.adapter.capabilities, wire.adapter.capabilities);
}
