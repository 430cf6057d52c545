//! Status detail: progress and conditions; a deployment that never becomes ready.

use o2dms_core::{
    ConditionStatus, CreateDeployment, DeploymentFilter, DeploymentId, DeploymentStatus,
    DmsAdapter, ErrorKind, RollbackRequest, ScaleRequest, ValuesMode,
};

use super::{caps, get, list_all, update, vals};
use crate::body;
use crate::check::{ensure, ensure_eq, ResultExt};
use crate::context::Context;
use crate::fixtures::Fixture;
use crate::scenario::{Flag, Scenario, ScenarioResult};

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario::new(
            "status.progress_after_rollout",
            "after create with 2 replicas, status is Deployed, progress 100, 2 desired/ready/available, every workload ready, and an Available=True condition",
            body!(after_rollout),
        )
        .requires(caps::STATUS)
        .covers(&["status.detail"]),
        Scenario::new(
            "status.never_ready_fails_after_timeout",
            "a deployment that never becomes ready ends in Timeout; it stays visible in get, status and list as Failed with a message",
            body!(never_ready),
        )
        .requires(caps::TIMEOUTS_STATUS)
        .flags(&[Flag::Slow, Flag::Destructive])
        .covers(&[
            "create.timeout_leaves_failed",
            "reads.after_failed_write",
            "list.failed_and_pending",
        ]),
        Scenario::new(
            "status.missing_is_not_found",
            "status of a deployment that does not exist is NotFound",
            body!(missing),
        )
        .requires(caps::STATUS)
        .covers(&["trait.not_found"]),
        Scenario::new(
            "status.replicas_follow_scale",
            "status replica counts and progress follow the live workload: 1, then 3 after a scale, then 0 (progress 100) after a scale to 0; the totals are the sums over the workloads",
            body!(replicas_follow_scale),
        )
        .requires(caps::SCALING_STATUS)
        .covers(&["status.detail", "scale.zero"]),
        Scenario::new(
            "status.agrees_with_get",
            "status, get and list give the same status after create, update, scale and rollback, and after a scale that a package ignores",
            body!(agrees_with_get),
        )
        .requires(caps::SCALING_ROLLBACK_STATUS)
        .flags(&[Flag::Destructive])
        .covers(&["status.agrees_with_get"]),
    ]
}

async fn after_rollout(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    cx.deploy(a, "app", Fixture::Web, vals(r#"{"replicaCount":2}"#))
        .await?;
    let s = a
        .deployment_status(&cx.id("app"))
        .await
        .step("deployment_status")?;
    ensure_eq("status", &DeploymentStatus::Deployed, &s.status)?;
    ensure_eq("progress", &100, &s.progress)?;
    ensure_eq(
        "replicas (desired, ready, available)",
        &(2, 2, 2),
        &(s.replicas.desired, s.replicas.ready, s.replicas.available),
    )?;
    ensure(!s.workloads.is_empty(), "at least one workload", || {
        "none".into()
    })?;
    ensure(
        s.workloads.iter().all(|w| w.ready),
        "every workload ready",
        || format!("{:?}", s.workloads),
    )?;
    ensure(
        s.conditions
            .iter()
            .any(|c| c.kind.ends_with("Available") && c.status == ConditionStatus::True),
        "a condition `Available` (or `<workload>: Available`) with status True",
        || format!("conditions {:?}", s.conditions),
    )
}

async fn never_ready(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("stuck");
    let req = CreateDeployment::new(id.clone(), cx.package(Fixture::NeverReady)?)
        .timeout(cx.settings().never_ready_timeout);
    cx.create(a, req).await.expect_kind(
        ErrorKind::Timeout,
        "create_deployment of a never-ready package",
    )?;
    let g = get(a, &id).await?;
    ensure_eq(
        "get: status after the timeout",
        &DeploymentStatus::Failed,
        &g.status,
    )?;
    let s = a.deployment_status(&id).await.step("deployment_status")?;
    ensure_eq(
        "status detail: status",
        &DeploymentStatus::Failed,
        &s.status,
    )?;
    ensure(
        !s.message.trim().is_empty(),
        "a message saying why it failed",
        || "an empty message".into(),
    )?;
    ensure(s.progress < 100, "progress below 100", || {
        format!("progress {}", s.progress)
    })?;
    let listed = list_all(a, DeploymentFilter::in_namespace(cx.namespace())).await?;
    let found = listed.iter().find(|d| d.id == id).map(|d| d.status);
    ensure_eq(
        "list: the failed deployment's status",
        &Some(DeploymentStatus::Failed),
        &found,
    )
}

async fn missing(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    a.deployment_status(&cx.id("missing")).await.expect_kind(
        ErrorKind::NotFound,
        "deployment_status of a missing deployment",
    )?;
    Ok(())
}

async fn counts_are(
    a: &dyn DmsAdapter,
    id: &DeploymentId,
    want: u32,
    after: &str,
) -> ScenarioResult {
    let s = a
        .deployment_status(id)
        .await
        .step(&format!("deployment_status after {after}"))?;
    let r = s.replicas;
    ensure_eq(
        &format!("replicas (desired, updated, ready, available) after {after}"),
        &(want, want, want, want),
        &(r.desired, r.updated, r.ready, r.available),
    )?;
    ensure_eq(&format!("progress after {after}"), &100, &s.progress)?;
    let sum = s.workloads.iter().fold((0, 0), |(d, rd), w| {
        (d + w.replicas.desired, rd + w.replicas.ready)
    });
    ensure_eq(
        &format!("(desired, ready) summed over the workloads after {after}"),
        &(r.desired, r.ready),
        &sum,
    )
}

async fn replicas_follow_scale(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("app");
    cx.deploy(a, "app", Fixture::Web, vals(r#"{"replicaCount":1}"#))
        .await?;
    counts_are(a, &id, 1, "create with 1 replica").await?;
    for n in [3, 0] {
        a.scale_deployment(&id, ScaleRequest::to(n).timeout(cx.operation_timeout()))
            .await
            .step(&format!("scale_deployment to {n}"))?;
        counts_are(a, &id, n, &format!("scale to {n}")).await?;
    }
    Ok(())
}

async fn agree(a: &dyn DmsAdapter, cx: &Context, id: &DeploymentId, after: &str) -> ScenarioResult {
    let g = get(a, id).await?;
    let s = a
        .deployment_status(id)
        .await
        .step(&format!("deployment_status after {after}"))?;
    ensure_eq(
        &format!(
            "status detail's status (get says {}) after {after}",
            g.status
        ),
        &g.status,
        &s.status,
    )?;
    let listed = list_all(a, DeploymentFilter::in_namespace(cx.namespace())).await?;
    ensure_eq(
        &format!("list's status of {id} after {after}"),
        &Some(g.status),
        &listed.iter().find(|d| d.id == *id).map(|d| d.status),
    )
}

async fn agrees_with_get(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("app");
    cx.deploy(a, "app", Fixture::Web, vals(r#"{"replicaCount":1}"#))
        .await?;
    agree(a, cx, &id, "create").await?;
    update(
        a,
        cx,
        &id,
        vals(r#"{"conformance":{"v":2}}"#),
        ValuesMode::Merge,
    )
    .await?;
    agree(a, cx, &id, "update").await?;
    a.scale_deployment(&id, ScaleRequest::to(2).timeout(cx.operation_timeout()))
        .await
        .step("scale_deployment to 2")?;
    agree(a, cx, &id, "scale").await?;
    a.rollback_deployment(
        &id,
        RollbackRequest::to_revision(1).timeout(cx.operation_timeout()),
    )
    .await
    .step("rollback_deployment to 1")?;
    agree(a, cx, &id, "rollback").await?;
    let odd = cx.id("odd");
    cx.deploy(a, "odd", Fixture::IgnoresScale, vals("{}"))
        .await?;
    let scaled = a
        .scale_deployment(&odd, ScaleRequest::to(3).timeout(cx.operation_timeout()))
        .await;
    ensure(
        scaled.is_err(),
        "scale of a package that ignores the key to fail",
        || "success".into(),
    )?;
    agree(a, cx, &odd, "a scale the package ignores").await
}
