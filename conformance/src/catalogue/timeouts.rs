//! Timeouts of every write and what they leave.
//!
//! Each write here is made to wait for a workload that never becomes ready (the
//! `never-ready` package) with the short `never_ready_timeout`: it must end in Timeout
//! naming the operation and the limit asked for, and leave the deployment in place,
//! Failed, at the revision the write made.

use std::time::Duration;

use o2dms_core::{
    CreateDeployment, Deployment, DeploymentFilter, DeploymentId, DeploymentStatus, DmsAdapter,
    Error, ErrorKind, RollbackRequest, ScaleRequest, UpdateDeployment, Value, Values,
};

use super::{caps, get, list_all, vals};
use crate::body;
use crate::check::{describe_error, ensure, ensure_eq, Failure, ResultExt};
use crate::context::Context;
use crate::fixtures::Fixture;
use crate::scenario::{Flag, Scenario, ScenarioResult};

pub(super) fn scenarios() -> Vec<Scenario> {
    let slow = |id, description, body, requires| {
        Scenario::new(id, description, body)
            .requires(requires)
            .flags(&[Flag::Slow, Flag::Destructive])
    };
    vec![
        slow(
            "timeout.create_reports_operation_and_limit",
            "a create of a never-ready package is Timeout naming create_deployment, the limit asked for and the state left; the deployment stays, Failed at revision 1, in get and list",
            body!(create_reports),
            caps::TIMEOUTS,
        )
        .covers(&[
            "create.timeout_leaves_failed",
            "timeout.reports_limit",
            "timeout.every_write",
        ]),
        slow(
            "timeout.update_leaves_failed",
            "an update of a ready deployment to the never-ready package is Timeout naming update_deployment and the limit asked for; the deployment stays, Failed at revision 2 with the new package, in get and list",
            body!(update_leaves_failed),
            caps::TIMEOUTS,
        )
        .covers(&[
            "timeout.every_write",
            "timeout.reports_limit",
            "reads.after_failed_write",
            "update.one_revision",
        ]),
        slow(
            "timeout.scale_leaves_failed",
            "a scale of a deployment whose workload never becomes ready is Timeout naming scale_deployment and the limit asked for; the deployment stays, Failed at revision 2 with the new replica count",
            body!(scale_leaves_failed),
            caps::TIMEOUTS_SCALING,
        )
        .covers(&[
            "timeout.every_write",
            "timeout.reports_limit",
            "scale.one_revision",
        ]),
        slow(
            "timeout.rollback_leaves_failed",
            "a rollback to a revision that never became ready is Timeout naming rollback_deployment and the limit asked for; the deployment stays, Failed at the new revision with that revision's package",
            body!(rollback_leaves_failed),
            caps::TIMEOUTS_ROLLBACK,
        )
        .covers(&[
            "timeout.every_write",
            "timeout.reports_limit",
            "rollback.new_revision",
        ]),
        slow(
            "timeout.status_after_timed_out_update",
            "after an update that timed out, status says Failed with a message and progress below 100, get agrees, and the description says what happened",
            body!(status_after_update),
            caps::TIMEOUTS_STATUS,
        )
        .covers(&["reads.after_failed_write", "status.agrees_with_get"]),
    ]
}

/// The limit the never-ready writes ask for.
pub(super) fn short(cx: &Context) -> Duration {
    cx.settings().never_ready_timeout
}

/// Fails unless `e` is a Timeout naming `operation` and `limit`, with a state.
pub(super) fn ensure_timeout(e: &Error, operation: &str, limit: Duration) -> ScenarioResult {
    let Error::Timeout {
        operation: op,
        limit: seen,
        state,
    } = e
    else {
        return Err(Failure::mismatch(
            format!("a Timeout error of {operation}"),
            describe_error(e),
        ));
    };
    ensure(
        op == operation,
        format!("the Timeout error to name the operation `{operation}`"),
        || format!("operation `{op}` ({e})"),
    )?;
    ensure(
        *seen == limit,
        format!("the Timeout error of {operation} to report the limit asked for, {limit:?}"),
        || format!("limit {seen:?} ({e})"),
    )?;
    ensure(
        !state.trim().is_empty(),
        format!("the Timeout error of {operation} to say what state it left"),
        || format!("an empty state ({e})"),
    )
}

/// Creates `name` from the never-ready package with the short limit: it must time out.
pub(super) async fn create_never_ready(
    a: &dyn DmsAdapter,
    cx: &Context,
    name: &str,
) -> Result<Error, Failure> {
    let req =
        CreateDeployment::new(cx.id(name), cx.package(Fixture::NeverReady)?).timeout(short(cx));
    cx.create(a, req).await.expect_kind(
        ErrorKind::Timeout,
        "create_deployment of the never-ready package",
    )
}

/// Updates `id` to the never-ready package, merging `values`, with the short limit: it
/// must time out.
pub(super) async fn update_to_never_ready(
    a: &dyn DmsAdapter,
    cx: &Context,
    id: &DeploymentId,
    values: Values,
) -> Result<Error, Failure> {
    let req = UpdateDeployment::new()
        .package(cx.package(Fixture::NeverReady)?)
        .values(values)
        .timeout(short(cx));
    a.update_deployment(id, req).await.expect_kind(
        ErrorKind::Timeout,
        "update_deployment to the never-ready package",
    )
}

/// `get_deployment`, which must show `status` at `revision`.
pub(super) async fn expect_state(
    a: &dyn DmsAdapter,
    id: &DeploymentId,
    status: DeploymentStatus,
    revision: u32,
    when: &str,
) -> Result<Deployment, Failure> {
    let g = get(a, id).await?;
    ensure_eq(
        &format!("get {when}: (status, revision)"),
        &(status, revision),
        &(g.status, g.revision),
    )?;
    Ok(g)
}

/// The deployment `id` is listed in its namespace with `status`.
pub(super) async fn expect_listed(
    a: &dyn DmsAdapter,
    id: &DeploymentId,
    status: DeploymentStatus,
    when: &str,
) -> ScenarioResult {
    let listed = list_all(a, DeploymentFilter::in_namespace(&id.namespace)).await?;
    let found = listed.iter().find(|d| d.id == *id).map(|d| d.status);
    ensure_eq(
        &format!("list {when}: status of {id}"),
        &Some(status),
        &found,
    )
}

async fn create_reports(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("stuck");
    let e = create_never_ready(a, cx, "stuck").await?;
    ensure_timeout(&e, "create_deployment", short(cx))?;
    let g = expect_state(
        a,
        &id,
        DeploymentStatus::Failed,
        1,
        "after the timed-out create",
    )
    .await?;
    ensure_eq(
        "get: package",
        &cx.package(Fixture::NeverReady)?,
        &g.package,
    )?;
    expect_listed(
        a,
        &id,
        DeploymentStatus::Failed,
        "after the timed-out create",
    )
    .await
}

async fn update_leaves_failed(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("app");
    cx.deploy(
        a,
        "app",
        Fixture::Web,
        vals(r#"{"replicaCount":1,"conformance":{"v":1}}"#),
    )
    .await?;
    let e = update_to_never_ready(a, cx, &id, vals(r#"{"conformance":{"v":2}}"#)).await?;
    ensure_timeout(&e, "update_deployment", short(cx))?;
    let g = expect_state(
        a,
        &id,
        DeploymentStatus::Failed,
        2,
        "after the timed-out update",
    )
    .await?;
    ensure_eq(
        "get after the timed-out update: package (the new one)",
        &cx.package(Fixture::NeverReady)?,
        &g.package,
    )?;
    ensure_eq(
        "get after the timed-out update: conformance.v (the new value)",
        &Some(&Value::Int(2)),
        &g.values.get_path("conformance.v"),
    )?;
    expect_listed(
        a,
        &id,
        DeploymentStatus::Failed,
        "after the timed-out update",
    )
    .await
}

async fn scale_leaves_failed(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("stuck");
    create_never_ready(a, cx, "stuck").await?;
    let e = a
        .scale_deployment(&id, ScaleRequest::to(2).timeout(short(cx)))
        .await
        .expect_kind(
            ErrorKind::Timeout,
            "scale_deployment of a deployment that never becomes ready",
        )?;
    ensure_timeout(&e, "scale_deployment", short(cx))?;
    let g = expect_state(
        a,
        &id,
        DeploymentStatus::Failed,
        2,
        "after the timed-out scale",
    )
    .await?;
    ensure_eq(
        "get after the timed-out scale: replicaCount",
        &Some(&Value::Int(2)),
        &g.values.get("replicaCount"),
    )?;
    expect_listed(
        a,
        &id,
        DeploymentStatus::Failed,
        "after the timed-out scale",
    )
    .await
}

async fn rollback_leaves_failed(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("app");
    cx.deploy(a, "app", Fixture::Web, vals(r#"{"replicaCount":1}"#))
        .await?;
    update_to_never_ready(a, cx, &id, vals("{}")).await?;
    let back = a
        .rollback_deployment(
            &id,
            RollbackRequest::to_revision(1).timeout(cx.operation_timeout()),
        )
        .await
        .step("rollback_deployment to the ready revision 1")?;
    ensure_eq(
        "rollback to 1: (status, revision)",
        &(DeploymentStatus::Deployed, 3),
        &(back.status, back.revision),
    )?;
    let e = a
        .rollback_deployment(&id, RollbackRequest::to_revision(2).timeout(short(cx)))
        .await
        .expect_kind(
            ErrorKind::Timeout,
            "rollback_deployment to revision 2, which never became ready",
        )?;
    ensure_timeout(&e, "rollback_deployment", short(cx))?;
    let g = expect_state(
        a,
        &id,
        DeploymentStatus::Failed,
        4,
        "after the timed-out rollback",
    )
    .await?;
    ensure_eq(
        "get after the timed-out rollback: package (revision 2's)",
        &cx.package(Fixture::NeverReady)?,
        &g.package,
    )?;
    expect_listed(
        a,
        &id,
        DeploymentStatus::Failed,
        "after the timed-out rollback",
    )
    .await
}

async fn status_after_update(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("app");
    cx.deploy(a, "app", Fixture::Web, vals(r#"{"replicaCount":1}"#))
        .await?;
    update_to_never_ready(a, cx, &id, vals("{}")).await?;
    let s = a
        .deployment_status(&id)
        .await
        .step("deployment_status after the timed-out update")?;
    ensure_eq(
        "status after the timed-out update",
        &DeploymentStatus::Failed,
        &s.status,
    )?;
    ensure(
        !s.message.trim().is_empty(),
        "a status message saying why it failed",
        || "an empty message".into(),
    )?;
    ensure(s.progress < 100, "progress below 100", || {
        format!("progress {}", s.progress)
    })?;
    let g = get(a, &id).await?;
    ensure_eq("get: status (as status says)", &s.status, &g.status)?;
    ensure(
        !g.description.trim().is_empty(),
        "get: a description of what the failed update did",
        || "an empty description".into(),
    )
}
