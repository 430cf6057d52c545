//! Concurrency: two writers on one deployment lose no update and keep history consistent.

use o2dms_core::{
    Deployment, DeploymentStatus, DmsAdapter, Error, ErrorKind, ScaleRequest, UpdateDeployment,
    Value,
};

use super::{caps, get, history, numbers, vals};
use crate::body;
use crate::check::{describe_error, ensure, ensure_eq, Failure};
use crate::context::Context;
use crate::fixtures::Fixture;
use crate::scenario::{Scenario, ScenarioResult};

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario::new(
            "concurrency.two_writers_no_lost_update",
            "two concurrent merge updates of one deployment: each succeeds or is Conflict; every success is in the final values, one revision per success",
            body!(two_writers),
        )
        .requires(caps::LIFECYCLE)
        .covers(&["concurrency.no_lost_update"]),
        Scenario::new(
            "concurrency.history_stays_consistent",
            "after rounds of concurrent writers, history is 1..n without gaps or repeats and only the newest revision is current",
            body!(history_consistent),
        )
        .requires(caps::HISTORY)
        .covers(&["concurrency.history_intact", "history.one_current"]),
        Scenario::new(
            "concurrency.scale_races_update",
            "a scale and a merge update of one deployment at once, in rounds: each succeeds or is Conflict; the replica count of a successful scale and the value of a successful update are both in the final values, one revision per success, and history stays contiguous",
            body!(scale_races_update),
        )
        .requires(caps::SCALING_HISTORY)
        .covers(&["concurrency.no_lost_update", "concurrency.history_intact"]),
    ]
}

/// Runs `writers` concurrent merge updates, each setting its own key to `round`;
/// returns the keys whose update succeeded.
async fn round(
    a: &dyn DmsAdapter,
    cx: &Context,
    writers: u32,
    round: u32,
) -> Result<Vec<String>, Failure> {
    let id = cx.id("app");
    let updates = (0..writers).map(|w| {
        let id = id.clone();
        let key = format!("w{w}");
        async move {
            let req = UpdateDeployment::new()
                .values(vals(&format!(r#"{{"conformance":{{"{key}":{round}}}}}"#)))
                .timeout(cx.operation_timeout());
            (key, a.update_deployment(&id, req).await)
        }
    });
    let mut ok = Vec::new();
    for (key, result) in futures::future::join_all(updates).await {
        match result {
            Ok(_) => ok.push(key),
            Err(e) if e.kind() == ErrorKind::Conflict => {}
            Err(e) => {
                return Err(Failure::mismatch(
                    format!("writer {key} to succeed or get Conflict"),
                    describe_error(&e),
                ))
            }
        }
    }
    ensure(
        !ok.is_empty(),
        "at least one of the concurrent writers to succeed",
        || "every writer got Conflict".into(),
    )?;
    Ok(ok)
}

async fn two_writers(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("app");
    cx.deploy(
        a,
        "app",
        Fixture::Web,
        vals(r#"{"conformance":{"base":true}}"#),
    )
    .await?;
    let mut revision = 1;
    for r in 1..=cx.settings().repeat {
        let ok = round(a, cx, 2, r).await?;
        revision += ok.len() as u32;
        let g = get(a, &id).await?;
        ensure_eq(&format!("revision after round {r}"), &revision, &g.revision)?;
        for key in &ok {
            ensure_eq(
                &format!("conformance.{key} after round {r} (its update succeeded)"),
                &Some(&Value::Int(i64::from(r))),
                &g.values.get_path(&format!("conformance.{key}")),
            )?;
        }
        ensure_eq(
            "conformance.base (from create)",
            &Some(&Value::Bool(true)),
            &g.values.get_path("conformance.base"),
        )?;
    }
    Ok(())
}

async fn history_consistent(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("app");
    cx.deploy(a, "app", Fixture::Web, vals("{}")).await?;
    let mut revision = 1u32;
    for r in 1..=cx.settings().repeat {
        revision += round(a, cx, 3, r).await?.len() as u32;
    }
    let h = history(a, &id).await?;
    let n = numbers(&h);
    let first = n.first().copied().unwrap_or(1);
    ensure_eq(
        "history revisions (contiguous, ascending)",
        &(first..=revision).collect::<Vec<u32>>(),
        &n,
    )?;
    let current: Vec<u32> = h
        .iter()
        .filter(|r| r.status != DeploymentStatus::Superseded)
        .map(|r| r.revision)
        .collect();
    ensure_eq("revisions not superseded", &vec![revision], &current)
}

/// Whether a concurrent write applied: Ok is true, Conflict false, anything else fails.
fn applied(what: &str, result: &Result<Deployment, Error>) -> Result<bool, Failure> {
    match result {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == ErrorKind::Conflict => Ok(false),
        Err(e) => Err(Failure::mismatch(
            format!("{what} to succeed or get Conflict"),
            describe_error(e),
        )),
    }
}

async fn scale_races_update(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("app");
    cx.deploy(
        a,
        "app",
        Fixture::Web,
        vals(r#"{"replicaCount":1,"conformance":{"base":true}}"#),
    )
    .await?;
    let mut revision = 1u32;
    for r in 1..=cx.settings().repeat {
        let replicas = r + 1;
        let scale = a.scale_deployment(
            &id,
            ScaleRequest::to(replicas).timeout(cx.operation_timeout()),
        );
        let req = UpdateDeployment::new()
            .values(vals(&format!(r#"{{"conformance":{{"u":{r}}}}}"#)))
            .timeout(cx.operation_timeout());
        let update = a.update_deployment(&id, req);
        let (scaled, updated) = futures::join!(scale, update);
        let scaled = applied(&format!("scale to {replicas} (round {r})"), &scaled)?;
        let updated = applied(&format!("update (round {r})"), &updated)?;
        ensure(
            scaled || updated,
            format!("the scale or the update of round {r} to succeed"),
            || "both got Conflict".into(),
        )?;
        revision += u32::from(scaled) + u32::from(updated);
        let g = get(a, &id).await?;
        ensure_eq(&format!("revision after round {r}"), &revision, &g.revision)?;
        if scaled {
            ensure_eq(
                &format!("replicaCount after round {r} (its scale succeeded)"),
                &Some(&Value::Int(i64::from(replicas))),
                &g.values.get("replicaCount"),
            )?;
        }
        if updated {
            ensure_eq(
                &format!("conformance.u after round {r} (its update succeeded)"),
                &Some(&Value::Int(i64::from(r))),
                &g.values.get_path("conformance.u"),
            )?;
        }
        ensure_eq(
            "conformance.base (from create)",
            &Some(&Value::Bool(true)),
            &g.values.get_path("conformance.base"),
        )?;
    }
    let n = numbers(&history(a, &id).await?);
    let first = n.first().copied().unwrap_or(1);
    ensure_eq(
        "history revisions (contiguous, ascending)",
        &(first..=revision).collect::<Vec<u32>>(),
        &n,
    )
}
