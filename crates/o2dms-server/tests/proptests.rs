//! Arbitrary path segments and arbitrary JSON bodies against a real server: never a
//! 5xx other than the 501/502/503/504 of adapter kinds, always a problem for an error,
//! never a panic (the server answers every request).

mod common;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("namespace".to_owned()),
                    Just("name".to_owned()),
                    Just("package".to_owned()),
                    Just("values".to_owned()),
                    Just("labels".to_owned()),
                    Just("timeoutSeconds".to_owned()),
                    Just("scaleKey".to_owned()),
                    "[a-zA-Z]{1,8}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A create body: mostly the right shape with arbitrary members.
fn create_body() -> impl Strategy<Value = Value> {
    prop_oneof![
        json_value(),
        (
            "[a-z0-9.-]{0,70}",
            "[a-zA-Z0-9._-]{0,60}",
            prop_oneof![Just("web@0.1.0".to_owned()), "\\PC{0,20}"],
            json_value(),
            prop::option::of(any::<f64>()),
        )
            .prop_map(|(ns, name, package, values, timeout)| {
                let mut v = serde_json::json!({"namespace": ns, "name": name, "package": package, "values": values});
                if let Some(t) = timeout {
                    v["timeoutSeconds"] = Value::from(t);
                }
                v
            }),
    ]
}

/// Segment text made safe for a request line (what is not allowed raw is escaped); `%`
/// may stay raw, so that bad escapes reach the server.
fn segment() -> impl Strategy<Value = String> {
    "\\PC{0,24}".prop_map(|s| {
        let mut out = String::new();
        for b in s.bytes() {
            if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@%/".contains(&b) {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    })
}

fn acceptable(status: u16, body: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        status < 500 || (501..=504).contains(&status),
        "status {status}: {body}"
    );
    if status >= 400 {
        let p: Value =
            serde_json::from_str(body).map_err(|e| TestCaseError::fail(format!("{e}: {body}")))?;
        prop_assert_eq!(p["status"].as_u64(), Some(u64::from(status)));
    }
    Ok(())
}

#[test]
fn arbitrary_input_never_fails_the_server() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let srv = rt.block_on(common::start());
    let addr = srv.addr;
    let mut runner = TestRunner::new(Config {
        cases: 96,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(
            &(segment(), segment(), segment(), create_body()),
            |(dm, ns, name, body)| {
                let paths = [
                    format!("/o2dms/v1/deploymentManagers/{dm}/deployments"),
                    format!("/o2dms/v1/deploymentManagers/edge/deployments/{ns}/{name}"),
                    format!("/o2dms/v1/deploymentManagers/edge/deployments/{ns}/{name}/status"),
                    format!("/o2dms/v1/deploymentManagers/edge/packages/{name}"),
                    format!("/o2dms/v1/deploymentManagers/edge/operations/{name}"),
                ];
                for p in &paths {
                    let (status, text) = rt.block_on(common::raw(addr, "GET", p, "", b""));
                    acceptable(status, &text)?;
                }
                let bytes = body.to_string().into_bytes();
                for (path, wait) in [
                    (
                        "/o2dms/v1/deploymentManagers/edge/deployments".to_owned(),
                        "Prefer: wait=5\r\n",
                    ),
                    (paths[0].clone(), ""),
                ] {
                    let extra = format!("Content-Type: application/json\r\n{wait}");
                    let (status, text) =
                        rt.block_on(common::raw(addr, "POST", &path, &extra, &bytes));
                    acceptable(status, &text)?;
                }
                Ok(())
            },
        )
        .unwrap();
    rt.block_on(srv.stop());
}
