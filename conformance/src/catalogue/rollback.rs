//! Rollback: a new revision with the target's package and values.

use o2dms_core::{DmsAdapter, ErrorKind, RollbackRequest, UpdateDeployment, ValuesMode};

use super::{caps, get, update, vals};
use crate::body;
use crate::check::{ensure_eq, ResultExt};
use crate::context::Context;
use crate::fixtures::Fixture;
use crate::scenario::{Scenario, ScenarioResult};

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario::new(
            "rollback.creates_new_revision",
            "rollback to revision 1 after an update makes revision 3 with revision 1's values and package",
            body!(creates_new_revision),
        )
        .requires(caps::ROLLBACK)
        .covers(&["rollback.new_revision"]),
        Scenario::new(
            "rollback.restores_package",
            "after an update to web 2.0.0, rollback to revision 1 runs web 0.1.0 again, as revision 3",
            body!(restores_package),
        )
        .requires(caps::ROLLBACK)
        .covers(&["rollback.new_revision"]),
        Scenario::new(
            "rollback.default_is_previous",
            "rollback without a revision returns to the previous one: after revisions 1-3 it makes revision 4 with revision 2's values",
            body!(default_is_previous),
        )
        .requires(caps::ROLLBACK)
        .covers(&["rollback.previous"]),
        Scenario::new(
            "rollback.missing_revision_is_not_found",
            "rollback to a revision that does not exist is NotFound and changes nothing",
            body!(missing_revision),
        )
        .requires(caps::ROLLBACK)
        .covers(&["rollback.missing_revision", "trait.not_found"]),
        Scenario::new(
            "rollback.to_current_makes_new_revision",
            "rollback to the current revision is allowed and still makes a new revision with the same values",
            body!(to_current),
        )
        .requires(caps::ROLLBACK)
        .covers(&["rollback.current"]),
        Scenario::new(
            "rollback.missing_deployment_is_not_found",
            "rollback of a deployment that does not exist is NotFound",
            body!(missing_deployment),
        )
        .requires(caps::ROLLBACK)
        .covers(&["trait.not_found"]),
    ]
}

fn to(revision: Option<u32>, cx: &Context) -> RollbackRequest {
    let mut request = RollbackRequest::previous().timeout(cx.operation_timeout());
    request.revision = revision;
    request
}

async fn creates_new_revision(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("app");
    let v1 = vals(r#"{"replicaCount":1,"conformance":{"v":"one"}}"#);
    cx.deploy(a, "app", Fixture::Web, v1.clone()).await?;
    update(
        a,
        cx,
        &id,
        vals(r#"{"conformance":{"v":"two","extra":true}}"#),
        ValuesMode::Merge,
    )
    .await?;
    let d = a
        .rollback_deployment(&id, to(Some(1), cx))
        .await
        .step("rollback_deployment to 1")?;
    ensure_eq("rollback: revision", &3, &d.revision)?;
    let g = get(a, &id).await?;
    ensure_eq("get after rollback: revision", &3, &g.revision)?;
    ensure_eq("get after rollback: values (revision 1's)", &v1, &g.values)?;
    ensure_eq(
        "get after rollback: package",
        &cx.package(Fixture::Web)?,
        &g.package,
    )
}

async fn restores_package(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("app");
    cx.deploy(a, "app", Fixture::Web, vals(r#"{"replicaCount":1}"#))
        .await?;
    let req = UpdateDeployment::new()
        .package(cx.package(Fixture::WebV2)?)
        .timeout(cx.operation_timeout());
    a.update_deployment(&id, req)
        .await
        .step("update_deployment to web 2.0.0")?;
    let d = a
        .rollback_deployment(&id, to(Some(1), cx))
        .await
        .step("rollback_deployment to 1")?;
    ensure_eq("rollback: revision", &3, &d.revision)?;
    ensure_eq("rollback: package", &cx.package(Fixture::Web)?, &d.package)?;
    ensure_eq(
        "get: package",
        &cx.package(Fixture::Web)?,
        &get(a, &id).await?.package,
    )
}

async fn default_is_previous(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("app");
    cx.deploy(a, "app", Fixture::Web, vals(r#"{"conformance":{"v":1}}"#))
        .await?;
    let r2 = update(
        a,
        cx,
        &id,
        vals(r#"{"conformance":{"v":2}}"#),
        ValuesMode::Merge,
    )
    .await?;
    let v2 = get(a, &id).await?.values;
    update(
        a,
        cx,
        &id,
        vals(r#"{"conformance":{"v":3}}"#),
        ValuesMode::Merge,
    )
    .await?;
    ensure_eq("revision before the rollback", &2, &r2.revision)?;
    let d = a
        .rollback_deployment(&id, to(None, cx))
        .await
        .step("rollback_deployment with no revision")?;
    ensure_eq("rollback: revision", &4, &d.revision)?;
    ensure_eq(
        "get: values (revision 2's)",
        &v2,
        &get(a, &id).await?.values,
    )
}

async fn missing_revision(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("app");
    let v1 = vals(r#"{"conformance":{"v":1}}"#);
    cx.deploy(a, "app", Fixture::Web, v1.clone()).await?;
    a.rollback_deployment(&id, to(Some(99), cx))
        .await
        .expect_kind(ErrorKind::NotFound, "rollback_deployment to revision 99")?;
    let g = get(a, &id).await?;
    ensure_eq("revision after the refused rollback", &1, &g.revision)?;
    ensure_eq("values after the refused rollback", &v1, &g.values)
}

async fn to_current(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("app");
    cx.deploy(a, "app", Fixture::Web, vals(r#"{"conformance":{"v":1}}"#))
        .await?;
    update(
        a,
        cx,
        &id,
        vals(r#"{"conformance":{"v":2}}"#),
        ValuesMode::Merge,
    )
    .await?;
    let v2 = get(a, &id).await?.values;
    let d = a
        .rollback_deployment(&id, to(Some(2), cx))
        .await
        .step("rollback_deployment to the current revision 2")?;
    ensure_eq("rollback: revision", &3, &d.revision)?;
    ensure_eq("get: values", &v2, &get(a, &id).await?.values)
}

async fn missing_deployment(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    a.rollback_deployment(&cx.id("missing"), to(None, cx))
        .await
        .expect_kind(
            ErrorKind::NotFound,
            "rollback_deployment of a missing deployment",
        )?;
    Ok(())
}
