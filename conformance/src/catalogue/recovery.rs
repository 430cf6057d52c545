//! Writes to Failed deployments: the recovery path.
//!
//! A deployment left Failed by a write that timed out (the `never-ready` package) must
//! stay writable: an update or a rollback to something good makes it Deployed again at a
//! new revision, delete removes it, and a create of its name is still AlreadyExists.

use o2dms_core::{
    CreateDeployment, DeploymentStatus, DmsAdapter, ErrorKind, RollbackRequest, UpdateDeployment,
    Value,
};

use super::timeouts::{create_never_ready, expect_listed, expect_state, update_to_never_ready};
use super::{caps, history, names_in, numbers, vals};
use crate::body;
use crate::check::{ensure, ensure_eq, ResultExt};
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
            "recovery.update_after_timed_out_create",
            "after a create that timed out (Failed at revision 1), an update to a good package makes it Deployed at revision 2 running that package",
            body!(update_after_create),
            caps::TIMEOUTS,
        )
        .covers(&[
            "update.failed_recovers",
            "update.package",
            "update.one_revision",
        ]),
        slow(
            "recovery.rollback_after_timed_out_update",
            "after an update that timed out (Failed at revision 2), a rollback without a revision returns to revision 1: revision 3, Deployed, with revision 1's package and values",
            body!(rollback_after_update),
            caps::TIMEOUTS_ROLLBACK,
        )
        .covers(&["rollback.previous", "rollback.new_revision"]),
        slow(
            "recovery.update_after_timed_out_update",
            "after an update that timed out (Failed at revision 2), an update back to a good package makes exactly revision 3, Deployed, values merged; history is 1, 2, 3 and only revision 3 is current",
            body!(update_after_update),
            caps::TIMEOUTS_HISTORY,
        )
        .covers(&[
            "update.failed_recovers",
            "update.one_revision",
            "history.one_current",
        ]),
        slow(
            "recovery.create_over_failed_is_already_exists",
            "creating the name of a deployment left Failed by a timed-out create is AlreadyExists and changes nothing: it stays Failed at revision 1 with its package",
            body!(create_over_failed),
            caps::TIMEOUTS,
        )
        .covers(&["create.existing", "reads.after_refused_write"]),
        slow(
            "recovery.delete_after_timed_out_create",
            "a deployment left Failed by a timed-out create can be deleted: get is NotFound, list omits it, and its name can be created again at revision 1",
            body!(delete_after_create),
            caps::TIMEOUTS,
        )
        .covers(&["delete.removes", "delete.recreate"]),
    ]
}

async fn update_after_create(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("app");
    create_never_ready(a, cx, "app").await?;
    expect_state(
        a,
        &id,
        DeploymentStatus::Failed,
        1,
        "after the timed-out create",
    )
    .await?;
    let web = cx.package(Fixture::Web)?;
    let req = UpdateDeployment::new()
        .package(web.clone())
        .values(vals(r#"{"replicaCount":1}"#))
        .timeout(cx.operation_timeout());
    let d = a
        .update_deployment(&id, req)
        .await
        .step("update_deployment of the Failed deployment to web")?;
    ensure_eq(
        "update: (status, revision)",
        &(DeploymentStatus::Deployed, 2),
        &(d.status, d.revision),
    )?;
    let g = expect_state(
        a,
        &id,
        DeploymentStatus::Deployed,
        2,
        "after the recovering update",
    )
    .await?;
    ensure_eq("get: package", &web, &g.package)?;
    expect_listed(
        a,
        &id,
        DeploymentStatus::Deployed,
        "after the recovering update",
    )
    .await
}

async fn rollback_after_update(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("app");
    let v1 = vals(r#"{"replicaCount":1,"conformance":{"v":1}}"#);
    cx.deploy(a, "app", Fixture::Web, v1.clone()).await?;
    update_to_never_ready(a, cx, &id, vals(r#"{"conformance":{"v":2}}"#)).await?;
    expect_state(
        a,
        &id,
        DeploymentStatus::Failed,
        2,
        "after the timed-out update",
    )
    .await?;
    let d = a
        .rollback_deployment(
            &id,
            RollbackRequest::previous().timeout(cx.operation_timeout()),
        )
        .await
        .step("rollback_deployment (to the previous revision) of the Failed deployment")?;
    ensure_eq(
        "rollback: (status, revision)",
        &(DeploymentStatus::Deployed, 3),
        &(d.status, d.revision),
    )?;
    let g = expect_state(
        a,
        &id,
        DeploymentStatus::Deployed,
        3,
        "after the recovering rollback",
    )
    .await?;
    ensure_eq(
        "get: package (revision 1's)",
        &cx.package(Fixture::Web)?,
        &g.package,
    )?;
    ensure_eq("get: values (revision 1's)", &v1, &g.values)
}

async fn update_after_update(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("app");
    cx.deploy(
        a,
        "app",
        Fixture::Web,
        vals(r#"{"replicaCount":1,"conformance":{"a":1}}"#),
    )
    .await?;
    update_to_never_ready(a, cx, &id, vals("{}")).await?;
    expect_state(
        a,
        &id,
        DeploymentStatus::Failed,
        2,
        "after the timed-out update",
    )
    .await?;
    let req = UpdateDeployment::new()
        .package(cx.package(Fixture::Web)?)
        .values(vals(r#"{"conformance":{"b":2}}"#))
        .timeout(cx.operation_timeout());
    let d = a
        .update_deployment(&id, req)
        .await
        .step("update_deployment of the Failed deployment back to web")?;
    ensure_eq(
        "update: (status, revision)",
        &(DeploymentStatus::Deployed, 3),
        &(d.status, d.revision),
    )?;
    let g = expect_state(
        a,
        &id,
        DeploymentStatus::Deployed,
        3,
        "after the recovering update",
    )
    .await?;
    for (key, want) in [("conformance.a", 1), ("conformance.b", 2)] {
        ensure_eq(
            &format!("get: {key} (values merge into the current ones)"),
            &Some(&Value::Int(want)),
            &g.values.get_path(key),
        )?;
    }
    let h = history(a, &id).await?;
    ensure_eq("history revisions", &vec![1, 2, 3], &numbers(&h))?;
    let current: Vec<u32> = h
        .iter()
        .filter(|r| {
            !matches!(
                r.status,
                DeploymentStatus::Superseded | DeploymentStatus::Failed
            )
        })
        .map(|r| r.revision)
        .collect();
    ensure_eq(
        "revisions neither superseded nor failed",
        &vec![3],
        &current,
    )
}

async fn create_over_failed(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("app");
    create_never_ready(a, cx, "app").await?;
    let req = CreateDeployment::new(id.clone(), cx.package(Fixture::Web)?)
        .values(vals(r#"{"replicaCount":1}"#));
    cx.create(a, req).await.expect_kind(
        ErrorKind::AlreadyExists,
        "create_deployment of the name of a Failed deployment",
    )?;
    let g = expect_state(
        a,
        &id,
        DeploymentStatus::Failed,
        1,
        "after the refused create",
    )
    .await?;
    ensure_eq(
        "get after the refused create: package (unchanged)",
        &cx.package(Fixture::NeverReady)?,
        &g.package,
    )
}

async fn delete_after_create(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    // A second deployment keeps the namespace in use, so that deleting the failed one
    // cannot take the namespace with it before the name is created again.
    cx.deploy(a, "keep", Fixture::Web, vals(r#"{"replicaCount":1}"#))
        .await?;
    let id = cx.id("app");
    create_never_ready(a, cx, "app").await?;
    a.delete_deployment(&id)
        .await
        .step("delete_deployment of the Failed deployment")?;
    a.get_deployment(&id).await.expect_kind(
        ErrorKind::NotFound,
        "get_deployment after deleting the Failed deployment",
    )?;
    let names = names_in(a, cx.namespace()).await?;
    ensure(
        !names.iter().any(|n| n == "app"),
        "list to omit the deleted Failed deployment",
        || format!("listed {names:?}"),
    )?;
    let d = cx
        .deploy(a, "app", Fixture::Web, vals(r#"{"replicaCount":1}"#))
        .await?;
    ensure_eq(
        "create again: (status, revision)",
        &(DeploymentStatus::Deployed, 1),
        &(d.status, d.revision),
    )
}
