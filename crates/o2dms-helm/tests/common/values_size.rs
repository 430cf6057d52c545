//! Large values (dashboards, certificates): the size limit is the size of the values file
//! helm gets, and the limit is the `maxValuesBytes` setting.

use o2dms_core::{CreateDeployment, DmsAdapter, Error, UpdateDeployment, Value, Values};
use o2dms_helm::HelmConfig;

use super::{id, pkg, Env};

/// A values map whose compact JSON is `bytes` long: one string of JSON-safe text, the way
/// a chart carries a dashboard.
fn values_of_size(bytes: usize) -> Values {
    let wrap = r#"{"dashboard":""}"#.len();
    let v = Values::from_pairs([("dashboard", Value::from("x".repeat(bytes - wrap)))]);
    assert_eq!(serde_json::to_vec(&v).unwrap().len(), bytes);
    v
}

/// Dashboard-like text of about `bytes` bytes (whole lines): quotes and newlines, which
/// JSON escapes, and unicode, which it does not.
fn dashboard_text(bytes: usize) -> String {
    let line = "{\"panel\": \"latency — p99\", \"expr\": \"histogram_quantile(0.99, x)\"}\n";
    line.repeat(bytes / line.len())
}

pub async fn large_values(env: &Env) {
    let a = &env.adapter;
    let limit = HelmConfig::DEFAULT_MAX_VALUES_BYTES;
    assert_eq!(a.config().max_values_bytes, limit);

    // About 101 KB of dashboard text: far below the limit once measured as written
    // (an estimate that assumed every byte escaped refused it as ~600 KB).
    let text = dashboard_text(101_000);
    let dashboards = Values::from_pairs([("dashboard", Value::from(text.clone()))]);
    let big = id("o2-values", "big");
    let created = a
        .create_deployment(CreateDeployment::new(big.clone(), pkg("web@0.1.0")).values(dashboards))
        .await
        .expect("a 101 KB values file is accepted");
    assert_eq!(
        created.values.get("dashboard").and_then(Value::as_str),
        Some(text.as_str()),
        "the values come back whole"
    );

    // Exactly at the limit: accepted; one byte over: InvalidArgument naming `values`,
    // nothing written (the revision stays).
    let at = a
        .update_deployment(
            &big,
            UpdateDeployment::new().replace_values(values_of_size(limit)),
        )
        .await
        .expect("values of exactly maxValuesBytes are accepted");
    assert_eq!(at.revision, 2);
    let over = a
        .update_deployment(
            &big,
            UpdateDeployment::new().replace_values(values_of_size(limit + 1)),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&over, Error::InvalidArgument { field, reason } if field == "values" && reason.contains("maxValuesBytes")),
        "{over}"
    );
    assert_eq!(
        a.get_deployment(&big).await.unwrap().revision,
        2,
        "nothing written"
    );

    // A create over the limit leaves nothing behind.
    let refused = id("o2-values", "refused");
    let err = a
        .create_deployment(
            CreateDeployment::new(refused.clone(), pkg("web@0.1.0"))
                .values(values_of_size(limit + 1)),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidArgument { field, .. } if field == "values"),
        "{err}"
    );
    assert!(matches!(
        a.get_deployment(&refused).await,
        Err(Error::NotFound { .. })
    ));
    a.delete_deployment(&big).await.expect("delete");
}
