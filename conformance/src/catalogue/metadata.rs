//! Labels, descriptions and timestamps as they move.

use std::collections::BTreeMap;
use std::time::Duration;

use o2dms_core::{
    CreateDeployment, DeploymentFilter, DeploymentId, DmsAdapter, RollbackRequest, ScaleRequest,
    UpdateDeployment, ValuesMode,
};

use super::{caps, get, history, list_all, update, vals};
use crate::body;
use crate::check::{ensure, ensure_eq, Failure, ResultExt};
use crate::context::Context;
use crate::fixtures::Fixture;
use crate::scenario::{Scenario, ScenarioResult};

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario::new(
            "meta.labels_survive_writes",
            "labels given at create are returned by get and list after an update, a scale and a rollback",
            body!(labels_survive_writes),
        )
        .requires(caps::LABELS_WRITES)
        .covers(&["meta.labels"]),
        Scenario::new(
            "meta.description_per_revision",
            "the description given to create and to update is the description of the revision each makes, in get and in history",
            body!(description_per_revision),
        )
        .requires(caps::HISTORY)
        .covers(&["meta.description"]),
        Scenario::new(
            "meta.timestamps_move_with_revisions",
            "created stays at revision 1's time through updates while updated moves forward with each revision; history times ascend and the newest is get's updated",
            body!(timestamps),
        )
        .requires(caps::HISTORY)
        .covers(&["meta.timestamps"]),
    ]
}

async fn labels_in_get_and_list(
    a: &dyn DmsAdapter,
    cx: &Context,
    id: &DeploymentId,
    want: &BTreeMap<String, String>,
    after: &str,
) -> ScenarioResult {
    ensure_eq(
        &format!("get: labels after {after}"),
        want,
        &get(a, id).await?.labels,
    )?;
    let listed = list_all(a, DeploymentFilter::in_namespace(cx.namespace())).await?;
    let d = listed.iter().find(|d| d.id == *id);
    ensure(d.is_some(), format!("list to include {id}"), || {
        format!("{} listed, not it", listed.len())
    })?;
    ensure_eq(
        &format!("list: labels after {after}"),
        want,
        &d.map(|d| d.labels.clone()).unwrap_or_default(),
    )?;
    let filter = DeploymentFilter::in_namespace(cx.namespace()).labels(want.clone());
    let matching = list_all(a, filter).await?;
    ensure(
        matching.iter().any(|d| d.id == *id),
        format!("a label filter on its labels to find {id} after {after}"),
        || format!("{} found, not it", matching.len()),
    )
}

async fn labels_survive_writes(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("app");
    let req = CreateDeployment::new(id.clone(), cx.package(Fixture::Web)?)
        .values(vals(r#"{"replicaCount":1}"#))
        .label("app.kubernetes.io/part-of", "conformance")
        .label("tier", "edge");
    let want = req.labels.clone();
    cx.create(a, req)
        .await
        .step("create_deployment with labels")?;
    labels_in_get_and_list(a, cx, &id, &want, "create").await?;
    update(
        a,
        cx,
        &id,
        vals(r#"{"conformance":{"v":2}}"#),
        ValuesMode::Merge,
    )
    .await?;
    labels_in_get_and_list(a, cx, &id, &want, "update").await?;
    a.scale_deployment(&id, ScaleRequest::to(2).timeout(cx.operation_timeout()))
        .await
        .step("scale_deployment to 2")?;
    labels_in_get_and_list(a, cx, &id, &want, "scale").await?;
    a.rollback_deployment(
        &id,
        RollbackRequest::to_revision(1).timeout(cx.operation_timeout()),
    )
    .await
    .step("rollback_deployment to 1")?;
    labels_in_get_and_list(a, cx, &id, &want, "rollback").await
}

async fn description_per_revision(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("app");
    let (first, second) = (
        "conformance: the first install",
        "conformance: the second revision",
    );
    let req = CreateDeployment::new(id.clone(), cx.package(Fixture::Web)?)
        .values(vals(r#"{"replicaCount":1}"#))
        .description(first);
    let d = cx
        .create(a, req)
        .await
        .step("create_deployment with a description")?;
    ensure_eq("create: description", &first, &d.description.as_str())?;
    ensure_eq(
        "get: description after create",
        &first,
        &get(a, &id).await?.description.as_str(),
    )?;
    let up = UpdateDeployment::new()
        .values(vals(r#"{"conformance":{"v":2}}"#))
        .description(second)
        .timeout(cx.operation_timeout());
    a.update_deployment(&id, up)
        .await
        .step("update_deployment with a description")?;
    ensure_eq(
        "get: description after update",
        &second,
        &get(a, &id).await?.description.as_str(),
    )?;
    let h = history(a, &id).await?;
    let seen: Vec<(u32, &str)> = h
        .iter()
        .map(|r| (r.revision, r.description.as_str()))
        .collect();
    ensure_eq(
        "history (revision, description)",
        &vec![(1, first), (2, second)],
        &seen,
    )
}

async fn timestamps(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("app");
    cx.deploy(a, "app", Fixture::Web, vals(r#"{"replicaCount":1}"#))
        .await?;
    let g = get(a, &id).await?;
    let created = g.created_at;
    ensure(
        g.updated_at >= created,
        "after create: updated at or after created",
        || format!("created {created}, updated {}", g.updated_at),
    )?;
    let mut last = g.updated_at;
    for v in 2..=3 {
        // Revisions made a moment apart, even on a coarse clock.
        tokio::time::sleep(Duration::from_millis(20)).await;
        update(
            a,
            cx,
            &id,
            vals(&format!(r#"{{"conformance":{{"v":{v}}}}}"#)),
            ValuesMode::Merge,
        )
        .await?;
        let g = get(a, &id).await?;
        ensure_eq(
            &format!("created after revision {v}"),
            &created,
            &g.created_at,
        )?;
        ensure(
            g.updated_at > last,
            format!("updated to move forward with revision {v}"),
            || format!("updated {} (was {last})", g.updated_at),
        )?;
        last = g.updated_at;
        let listed = list_all(a, DeploymentFilter::in_namespace(cx.namespace())).await?;
        let l = listed.iter().find(|d| d.id == id);
        ensure_eq(
            &format!("list: (created, updated) after revision {v}"),
            &Some((created, last)),
            &l.map(|d| (d.created_at, d.updated_at)),
        )?;
    }
    let h = history(a, &id).await?;
    let times: Vec<String> = h
        .iter()
        .map(|r| format!("{}: {}", r.revision, r.updated_at))
        .collect();
    ensure(
        h.windows(2).all(|w| w[0].updated_at < w[1].updated_at),
        "history times ascending",
        || format!("{times:?}"),
    )?;
    ensure(
        h.first().is_some_and(|r| r.updated_at >= created),
        "revision 1 made at or after created",
        || format!("created {created}, history {times:?}"),
    )?;
    match h.last() {
        Some(r) => ensure_eq(
            "the newest revision's time (get's updated)",
            &last,
            &r.updated_at,
        ),
        None => Err(Failure::mismatch("a history", "an empty history")),
    }
}
