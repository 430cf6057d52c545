//! The mock, set up the way the conformance suite expects: the fixture packages loaded
//! and marked (the mock cannot render templates, so it is told which package never
//! becomes ready and which ignores the scale key).

#![allow(dead_code)]

use std::time::Duration;

use o2dms_conformance::Settings;
use o2dms_core::{Value, Values};
use o2dms_mock::{MockAdapter, PackageSpec};

fn values(json: &str) -> Values {
    serde_json::from_str(json).unwrap()
}

/// A mock with the fixture charts' packages and behaviours.
pub fn mock() -> MockAdapter {
    let web = r#"{"replicaCount":2,"image":{"repository":"registry.k8s.io/pause","tag":"3.9","pullPolicy":"IfNotPresent"},"service":{"type":"ClusterIP","port":80}}"#;
    let mock = MockAdapter::builder()
        .package(PackageSpec::new("web", "0.1.0").values(values(web)))
        .package(PackageSpec::new("web", "2.0.0").values(values(web)))
        .package(PackageSpec::new("custom-key", "0.1.0").values(values(
            r#"{"server":{"replicas":1},"image":{"repository":"registry.k8s.io/pause","tag":"3.9"}}"#,
        )))
        .package(PackageSpec::new("ignores-scale", "0.1.0").values(values(r#"{"replicaCount":1}"#)))
        .package(PackageSpec::new("never-ready", "0.1.0").values(values(r#"{"replicaCount":1}"#)))
        .package(PackageSpec::new("hook", "0.1.0").values(values(r#"{"replicaCount":1}"#)))
        .build();
    mock.faults().package_never_ready("never-ready");
    mock.faults().package_ignores_scale("ignores-scale");
    let _ = Value::Null;
    mock
}

/// Fast settings for the in-memory mock.
pub fn settings() -> Settings {
    Settings {
        progress: false,
        never_ready_timeout: Duration::from_millis(100),
        ..Settings::fast()
    }
}
