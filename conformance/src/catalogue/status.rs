//! Status detail: progress and conditions; a deployment that never becomes ready.

use o2dms_core::{
    ConditionStatus, CreateDeployment, DeploymentFilter, DeploymentStatus, DmsAdapter, ErrorKind,
};

use super::{caps, get, list_all, vals};
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
        .requires(caps::STATUS),
        Scenario::new(
            "status.never_ready_fails_after_timeout",
            "a deployment that never becomes ready ends in Timeout; it stays visible in get, status and list as Failed with a message",
            body!(never_ready),
        )
        .requires(caps::TIMEOUTS_STATUS)
        .flags(&[Flag::Slow, Flag::Destructive]),
        Scenario::new(
            "status.missing_is_not_found",
            "status of a deployment that does not exist is NotFound",
            body!(missing),
        )
        .requires(caps::STATUS),
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
