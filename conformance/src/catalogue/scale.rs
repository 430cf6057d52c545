//! Scale: through the values key, verified against the live workload.

use o2dms_core::{CreateDeployment, DeploymentStatus, DmsAdapter, ErrorKind, ScaleRequest, Value};

use super::{caps, get, history, numbers, vals};
use crate::body;
use crate::check::{ensure_eq, Failure, ResultExt};
use crate::context::Context;
use crate::fixtures::Fixture;
use crate::scenario::{Scenario, ScenarioResult};

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario::new(
            "scale.replicas_reach_workload",
            "scale to 3 sets replicaCount to 3 and the live workload reports 3 desired and 3 ready replicas",
            body!(replicas_reach_workload),
        )
        .requires(caps::SCALING_STATUS)
        .covers(&["scale.key", "status.detail"]),
        Scenario::new(
            "scale.keeps_other_values",
            "scale changes only the replica key: every other value stays as it was",
            body!(keeps_other_values),
        )
        .requires(caps::SCALING)
        .covers(&["scale.keeps_values"]),
        Scenario::new(
            "scale.to_zero",
            "scale to 0 is allowed: the deployment stays Deployed and the workload desires 0 replicas",
            body!(to_zero),
        )
        .requires(caps::SCALING_STATUS)
        .covers(&["scale.zero"]),
        Scenario::new(
            "scale.custom_key_per_deployment",
            "a deployment created with scale key `server.replicas` scales through that key, not replicaCount",
            body!(custom_key),
        )
        .requires(caps::SCALING_STATUS)
        .covers(&["scale.key"]),
        Scenario::new(
            "scale.custom_key_per_call",
            "a scale request naming the key `server.replicas` (the deployment has the default key) succeeds, sets that key, and writes no `replicaCount`",
            body!(key_per_call),
        )
        .requires(caps::SCALING)
        .covers(&["scale.key"]),
        Scenario::new(
            "scale.ignored_key_is_an_error",
            "scaling a chart whose workload ignores the key is an error, never a success",
            body!(ignored_key),
        )
        .requires(caps::SCALING)
        .covers(&["scale.verified"]),
        Scenario::new(
            "scale.missing_is_not_found",
            "scale of a deployment that does not exist is NotFound",
            body!(missing),
        )
        .requires(caps::SCALING)
        .covers(&["trait.not_found"]),
        Scenario::new(
            "scale.one_revision_each",
            "each scale makes exactly one new revision: scaling to 2, then 3 gives revisions 2 and 3 and a history of 1..3",
            body!(one_revision_each),
        )
        .requires(caps::SCALING_HISTORY)
        .covers(&["scale.one_revision"]),
    ]
}

fn scale_to(replicas: u32, key: Option<&str>, cx: &Context) -> ScaleRequest {
    let mut request = ScaleRequest::to(replicas).timeout(cx.operation_timeout());
    request.key = key.map(str::to_owned);
    request
}

async fn desired_ready(
    a: &dyn DmsAdapter,
    cx: &Context,
    name: &str,
) -> Result<(u32, u32), Failure> {
    let s = a
        .deployment_status(&cx.id(name))
        .await
        .step("deployment_status")?;
    Ok((s.replicas.desired, s.replicas.ready))
}

async fn replicas_reach_workload(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    cx.deploy(a, "app", Fixture::Web, vals(r#"{"replicaCount":1}"#))
        .await?;
    let d = a
        .scale_deployment(&cx.id("app"), scale_to(3, None, cx))
        .await
        .step("scale_deployment to 3")?;
    ensure_eq(
        "scale: replicaCount",
        &Some(&Value::Int(3)),
        &d.values.get("replicaCount"),
    )?;
    ensure_eq(
        "live workload (desired, ready)",
        &(3, 3),
        &desired_ready(a, cx, "app").await?,
    )
}

async fn keeps_other_values(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    cx.deploy(
        a,
        "app",
        Fixture::Web,
        vals(r#"{"replicaCount":1,"conformance":{"keep":"me","n":[1,2]}}"#),
    )
    .await?;
    a.scale_deployment(&cx.id("app"), scale_to(2, None, cx))
        .await
        .step("scale_deployment to 2")?;
    ensure_eq(
        "values after scale",
        &vals(r#"{"replicaCount":2,"conformance":{"keep":"me","n":[1,2]}}"#),
        &get(a, &cx.id("app")).await?.values,
    )
}

async fn to_zero(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    cx.deploy(a, "app", Fixture::Web, vals(r#"{"replicaCount":2}"#))
        .await?;
    let d = a
        .scale_deployment(&cx.id("app"), scale_to(0, None, cx))
        .await
        .step("scale_deployment to 0")?;
    ensure_eq("scale: status", &DeploymentStatus::Deployed, &d.status)?;
    ensure_eq(
        "get: replicaCount",
        &Some(&Value::Int(0)),
        &get(a, &cx.id("app")).await?.values.get("replicaCount"),
    )?;
    ensure_eq(
        "live workload (desired, ready)",
        &(0, 0),
        &desired_ready(a, cx, "app").await?,
    )
}

async fn custom_key(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let req = CreateDeployment::new(cx.id("app"), cx.package(Fixture::CustomKey)?)
        .values(vals(r#"{"server":{"replicas":1}}"#))
        .scale_key("server.replicas");
    cx.create(a, req)
        .await
        .step("create_deployment of custom-key with scale key server.replicas")?;
    a.scale_deployment(&cx.id("app"), scale_to(2, None, cx))
        .await
        .step("scale_deployment to 2")?;
    let g = get(a, &cx.id("app")).await?;
    ensure_eq(
        "server.replicas",
        &Some(&Value::Int(2)),
        &g.values.get_path("server.replicas"),
    )?;
    ensure_eq(
        "replicaCount (must not be set)",
        &None,
        &g.values.get("replicaCount"),
    )?;
    ensure_eq(
        "live workload (desired, ready)",
        &(2, 2),
        &desired_ready(a, cx, "app").await?,
    )
}

async fn key_per_call(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    cx.deploy(
        a,
        "app",
        Fixture::CustomKey,
        vals(r#"{"server":{"replicas":1}}"#),
    )
    .await?;
    let d = a
        .scale_deployment(&cx.id("app"), scale_to(3, Some("server.replicas"), cx))
        .await
        .step("scale_deployment to 3 with key server.replicas")?;
    ensure_eq("scale: revision", &2, &d.revision)?;
    let g = get(a, &cx.id("app")).await?;
    ensure_eq(
        "server.replicas",
        &Some(&Value::Int(3)),
        &g.values.get_path("server.replicas"),
    )?;
    ensure_eq(
        "replicaCount (must not be set)",
        &None,
        &g.values.get("replicaCount"),
    )
}

async fn ignored_key(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    cx.deploy(a, "app", Fixture::IgnoresScale, vals("{}"))
        .await?;
    match a
        .scale_deployment(&cx.id("app"), scale_to(3, None, cx))
        .await
    {
        Ok(d) => Err(Failure::mismatch(
            "scale_deployment of a chart that ignores replicaCount to fail",
            format!(
                "success at revision {} with status {}",
                d.revision, d.status
            ),
        )),
        // Refusing up front (InvalidArgument on the key) is allowed when nothing was
        // written; any other error is the workload check failing after the change.
        Err(e) if e.kind() == ErrorKind::InvalidArgument => {
            let d = a
                .get_deployment(&cx.id("app"))
                .await
                .step("get_deployment after the refused scale")?;
            ensure_eq(
                "revision after a scale refused as InvalidArgument",
                &1,
                &d.revision,
            )
        }
        Err(_) => Ok(()),
    }
}

async fn missing(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    a.scale_deployment(&cx.id("missing"), scale_to(1, None, cx))
        .await
        .expect_kind(
            ErrorKind::NotFound,
            "scale_deployment of a missing deployment",
        )?;
    Ok(())
}

async fn one_revision_each(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("app");
    cx.deploy(a, "app", Fixture::Web, vals(r#"{"replicaCount":1}"#))
        .await?;
    for (replicas, revision) in [(2, 2u32), (3, 3)] {
        let d = a
            .scale_deployment(&id, scale_to(replicas, None, cx))
            .await
            .step(&format!("scale_deployment to {replicas}"))?;
        ensure_eq(
            &format!("revision after the scale to {replicas}"),
            &revision,
            &d.revision,
        )?;
    }
    ensure_eq("get: revision", &3, &get(a, &id).await?.revision)?;
    ensure_eq(
        "history revisions",
        &vec![1, 2, 3],
        &numbers(&history(a, &id).await?),
    )
}
