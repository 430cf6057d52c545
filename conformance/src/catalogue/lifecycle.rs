//! Create, get, list, delete; AlreadyExists and NotFound.

use o2dms_core::{CreateDeployment, DeploymentStatus, DmsAdapter, ErrorKind, UpdateDeployment};

use super::{caps, get, names_in, vals};
use crate::body;
use crate::check::{ensure, ensure_eq, ResultExt};
use crate::context::Context;
use crate::fixtures::Fixture;
use crate::scenario::{Scenario, ScenarioResult};

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario::new(
            "lifecycle.create_then_get",
            "create returns revision 1, Deployed, with the given values; get returns the same id, package, revision, status and values",
            body!(create_then_get),
        )
        .requires(caps::LIFECYCLE)
        .covers(&["create.ready"]),
        Scenario::new(
            "lifecycle.create_existing_is_already_exists",
            "creating an existing name again is AlreadyExists and changes nothing (revision and values stay)",
            body!(create_existing),
        )
        .requires(caps::LIFECYCLE)
        .covers(&["create.existing"]),
        Scenario::new(
            "lifecycle.get_missing_is_not_found",
            "get of a deployment that does not exist is NotFound",
            body!(get_missing),
        )
        .requires(caps::LIFECYCLE)
        .covers(&["trait.not_found"]),
        Scenario::new(
            "lifecycle.update_missing_is_not_found",
            "update of a deployment that does not exist is NotFound, and creates nothing",
            body!(update_missing),
        )
        .requires(caps::LIFECYCLE)
        .covers(&["update.missing", "trait.not_found"]),
        Scenario::new(
            "lifecycle.delete_missing_is_not_found",
            "delete of a deployment that does not exist is NotFound",
            body!(delete_missing),
        )
        .requires(caps::LIFECYCLE)
        .covers(&["delete.missing", "trait.not_found"]),
        Scenario::new(
            "lifecycle.delete_removes",
            "after delete, get is NotFound, list omits the deployment, and a second delete is NotFound",
            body!(delete_removes),
        )
        .requires(caps::LIFECYCLE)
        .covers(&["delete.removes", "delete.missing"]),
        Scenario::new(
            "lifecycle.namespace_is_part_of_the_id",
            "the same name in two namespaces is two deployments with their own values; deleting one leaves the other",
            body!(same_name_two_namespaces),
        )
        .requires(caps::LIFECYCLE)
        .covers(&["create.namespace_in_id"]),
        Scenario::new(
            "lifecycle.labels_round_trip",
            "labels given at create are returned by get and list",
            body!(labels_round_trip),
        )
        .requires(caps::LABELS)
        .covers(&["meta.labels"]),
        Scenario::new(
            "lifecycle.chart_with_hook_installs",
            "a package with a pre-install hook Job installs and ends Deployed at revision 1",
            body!(hook_installs),
        )
        .requires(caps::LIFECYCLE)
        .covers(&["create.ready"]),
    ]
}

async fn create_then_get(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let values = vals(r#"{"replicaCount":1,"conformance":{"greeting":"hello","n":7}}"#);
    let d = cx.deploy(a, "app", Fixture::Web, values.clone()).await?;
    let web = cx.package(Fixture::Web)?;
    ensure_eq("create: id", &cx.id("app"), &d.id)?;
    ensure_eq("create: revision", &1, &d.revision)?;
    ensure_eq("create: status", &DeploymentStatus::Deployed, &d.status)?;
    ensure_eq("create: package", &web, &d.package)?;
    let g = get(a, &cx.id("app")).await?;
    ensure_eq("get: id", &cx.id("app"), &g.id)?;
    ensure_eq("get: package", &web, &g.package)?;
    ensure_eq("get: revision", &1, &g.revision)?;
    ensure_eq("get: status", &DeploymentStatus::Deployed, &g.status)?;
    ensure_eq("get: values", &values, &g.values)
}

async fn create_existing(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let first = vals(r#"{"conformance":{"v":"first"}}"#);
    cx.deploy(a, "app", Fixture::Web, first.clone()).await?;
    let again = CreateDeployment::new(cx.id("app"), cx.package(Fixture::Web)?)
        .values(vals(r#"{"conformance":{"v":"second"}}"#));
    cx.create(a, again).await.expect_kind(
        ErrorKind::AlreadyExists,
        "second create_deployment of the same id",
    )?;
    let g = get(a, &cx.id("app")).await?;
    ensure_eq("revision after the refused create", &1, &g.revision)?;
    ensure_eq("values after the refused create", &first, &g.values)
}

async fn get_missing(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    a.get_deployment(&cx.id("missing")).await.expect_kind(
        ErrorKind::NotFound,
        "get_deployment of a missing deployment",
    )?;
    Ok(())
}

async fn update_missing(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    cx.track_deployment(&cx.id("missing"));
    let req = UpdateDeployment::new().values(vals(r#"{"conformance":{"v":1}}"#));
    a.update_deployment(&cx.id("missing"), req)
        .await
        .expect_kind(
            ErrorKind::NotFound,
            "update_deployment of a missing deployment",
        )?;
    a.get_deployment(&cx.id("missing")).await.expect_kind(
        ErrorKind::NotFound,
        "get_deployment after the refused update",
    )?;
    Ok(())
}

async fn delete_missing(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    a.delete_deployment(&cx.id("missing")).await.expect_kind(
        ErrorKind::NotFound,
        "delete_deployment of a missing deployment",
    )?;
    Ok(())
}

async fn delete_removes(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    cx.deploy(a, "app", Fixture::Web, vals("{}")).await?;
    cx.deploy(a, "keep", Fixture::Web, vals("{}")).await?;
    a.delete_deployment(&cx.id("app"))
        .await
        .step("delete_deployment")?;
    a.get_deployment(&cx.id("app"))
        .await
        .expect_kind(ErrorKind::NotFound, "get_deployment after delete")?;
    let names = names_in(a, cx.namespace()).await?;
    ensure_eq(
        "names listed after deleting `app`",
        &vec!["keep".to_owned()],
        &names,
    )?;
    a.delete_deployment(&cx.id("app"))
        .await
        .expect_kind(ErrorKind::NotFound, "second delete_deployment")?;
    Ok(())
}

async fn same_name_two_namespaces(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let other = cx.other_namespace(1)?;
    let web = cx.package(Fixture::Web)?;
    let (va, vb) = (
        vals(r#"{"conformance":{"ns":"a"}}"#),
        vals(r#"{"conformance":{"ns":"b"}}"#),
    );
    cx.create(
        a,
        CreateDeployment::new(cx.id("app"), web.clone()).values(va.clone()),
    )
    .await
    .step("create_deployment in the first namespace")?;
    cx.create(
        a,
        CreateDeployment::new(cx.id_in(&other, "app"), web).values(vb.clone()),
    )
    .await
    .step("create_deployment of the same name in a second namespace")?;
    ensure_eq(
        "values in the first namespace",
        &va,
        &get(a, &cx.id("app")).await?.values,
    )?;
    ensure_eq(
        "values in the second namespace",
        &vb,
        &get(a, &cx.id_in(&other, "app")).await?.values,
    )?;
    a.delete_deployment(&cx.id("app"))
        .await
        .step("delete_deployment in the first namespace")?;
    let kept = get(a, &cx.id_in(&other, "app")).await?;
    ensure_eq(
        "the second namespace's deployment after deleting the first",
        &vb,
        &kept.values,
    )?;
    a.get_deployment(&cx.id("app"))
        .await
        .expect_kind(ErrorKind::NotFound, "get of the deleted one")?;
    Ok(())
}

async fn labels_round_trip(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let req = CreateDeployment::new(cx.id("app"), cx.package(Fixture::Web)?)
        .label("app.kubernetes.io/part-of", "conformance")
        .label("tier", "front");
    let want = req.labels.clone();
    cx.create(a, req)
        .await
        .step("create_deployment with labels")?;
    ensure_eq("get: labels", &want, &get(a, &cx.id("app")).await?.labels)?;
    let listed = super::list_all(
        a,
        o2dms_core::DeploymentFilter::in_namespace(cx.namespace()),
    )
    .await?;
    let d = listed.iter().find(|d| d.id == cx.id("app"));
    ensure(d.is_some(), "list to include `app`", || {
        format!("{listed:?}")
    })?;
    ensure_eq(
        "list: labels",
        &want,
        &d.map(|d| d.labels.clone()).unwrap_or_default(),
    )
}

async fn hook_installs(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let d = cx.deploy(a, "hooked", Fixture::Hook, vals("{}")).await?;
    ensure_eq("revision", &1, &d.revision)?;
    ensure_eq("status", &DeploymentStatus::Deployed, &d.status)?;
    ensure_eq(
        "package",
        &cx.package(Fixture::Hook)?,
        &get(a, &cx.id("hooked")).await?.package,
    )
}
