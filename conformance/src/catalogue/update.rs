//! Update: merge, replace, package change, one revision each.

use o2dms_core::{DmsAdapter, ErrorKind, UpdateDeployment, ValuesMode};

use super::{caps, get, history, names_in, numbers, update, vals};
use crate::body;
use crate::check::{ensure, ensure_eq, ResultExt};
use crate::context::Context;
use crate::fixtures::Fixture;
use crate::scenario::{Scenario, ScenarioResult};

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario::new(
            "update.merge_keeps_earlier_values",
            "an update merges its values into the current ones (deeply): earlier keys stay; the result is revision 2",
            body!(merge_keeps),
        )
        .requires(caps::LIFECYCLE)
        .covers(&["update.merge"]),
        Scenario::new(
            "update.replace_drops_earlier_values",
            "an update in replace mode leaves exactly the new values",
            body!(replace_drops),
        )
        .requires(caps::LIFECYCLE)
        .covers(&["update.replace"]),
        Scenario::new(
            "update.null_removes_a_key",
            "a null in merged values removes that key and keeps the others",
            body!(null_removes),
        )
        .requires(caps::LIFECYCLE)
        .covers(&["update.merge"]),
        Scenario::new(
            "update.package_version_change",
            "an update to another version of the package (web 0.1.0 -> 2.0.0) runs the new package and keeps the values",
            body!(package_change),
        )
        .requires(caps::LIFECYCLE)
        .covers(&["update.package"]),
        Scenario::new(
            "update.one_revision_each",
            "each update makes exactly one new revision: three updates give revisions 2, 3, 4 and a history of 1..4",
            body!(one_revision_each),
        )
        .requires(caps::HISTORY)
        .covers(&["update.one_revision"]),
        Scenario::new(
            "update.missing_creates_nothing",
            "an update (with a package and values) of a deployment that does not exist is NotFound and creates nothing: get is NotFound and list omits it",
            body!(missing_creates_nothing),
        )
        .requires(caps::LIFECYCLE)
        .covers(&["update.missing", "trait.not_found"]),
    ]
}

async fn merge_keeps(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("app");
    cx.deploy(
        a,
        "app",
        Fixture::Web,
        vals(r#"{"replicaCount":1,"conformance":{"a":"1","nested":{"x":1}}}"#),
    )
    .await?;
    let d = update(
        a,
        cx,
        &id,
        vals(r#"{"conformance":{"b":"2","nested":{"y":2}}}"#),
        ValuesMode::Merge,
    )
    .await?;
    let want = vals(r#"{"replicaCount":1,"conformance":{"a":"1","b":"2","nested":{"x":1,"y":2}}}"#);
    ensure_eq("update: revision", &2, &d.revision)?;
    ensure_eq("update: values", &want, &d.values)?;
    ensure_eq("get after merge: values", &want, &get(a, &id).await?.values)
}

async fn replace_drops(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("app");
    cx.deploy(
        a,
        "app",
        Fixture::Web,
        vals(r#"{"replicaCount":1,"conformance":{"a":"1"}}"#),
    )
    .await?;
    let want = vals(r#"{"replicaCount":1,"conformance":{"b":"2"}}"#);
    let d = update(a, cx, &id, want.clone(), ValuesMode::Replace).await?;
    ensure_eq("update: revision", &2, &d.revision)?;
    ensure_eq("update: values", &want, &d.values)?;
    ensure_eq(
        "get after replace: values",
        &want,
        &get(a, &id).await?.values,
    )
}

async fn null_removes(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("app");
    cx.deploy(
        a,
        "app",
        Fixture::Web,
        vals(r#"{"conformance":{"a":1,"b":2}}"#),
    )
    .await?;
    update(
        a,
        cx,
        &id,
        vals(r#"{"conformance":{"a":null}}"#),
        ValuesMode::Merge,
    )
    .await?;
    ensure_eq(
        "values after merging a null",
        &vals(r#"{"conformance":{"b":2}}"#),
        &get(a, &id).await?.values,
    )
}

async fn package_change(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("app");
    let values = vals(r#"{"replicaCount":1,"conformance":{"kept":true}}"#);
    cx.deploy(a, "app", Fixture::Web, values.clone()).await?;
    let v2 = cx.package(Fixture::WebV2)?;
    let req = UpdateDeployment::new()
        .package(v2.clone())
        .timeout(cx.operation_timeout());
    let d = a
        .update_deployment(&id, req)
        .await
        .step("update_deployment to web 2.0.0")?;
    ensure_eq("update: revision", &2, &d.revision)?;
    ensure_eq("update: package", &v2, &d.package)?;
    let g = get(a, &id).await?;
    ensure_eq("get: package", &v2, &g.package)?;
    ensure_eq("get: values", &values, &g.values)
}

async fn one_revision_each(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("app");
    cx.deploy(a, "app", Fixture::Web, vals("{}")).await?;
    for n in 2..=4u32 {
        let d = update(
            a,
            cx,
            &id,
            vals(&format!(r#"{{"conformance":{{"n":{n}}}}}"#)),
            ValuesMode::Merge,
        )
        .await?;
        ensure_eq(&format!("revision after update {}", n - 1), &n, &d.revision)?;
    }
    ensure_eq("get: revision", &4, &get(a, &id).await?.revision)?;
    ensure_eq(
        "history revisions",
        &vec![1, 2, 3, 4],
        &numbers(&history(a, &id).await?),
    )
}

async fn missing_creates_nothing(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("missing");
    // Tracked in case the adapter wrongly creates it.
    cx.track_deployment(&id);
    let req = UpdateDeployment::new()
        .package(cx.package(Fixture::Web)?)
        .values(vals(r#"{"replicaCount":1}"#))
        .timeout(cx.operation_timeout());
    a.update_deployment(&id, req).await.expect_kind(
        ErrorKind::NotFound,
        "update_deployment of a missing deployment",
    )?;
    a.get_deployment(&id).await.expect_kind(
        ErrorKind::NotFound,
        "get_deployment after the refused update",
    )?;
    let names = names_in(a, cx.namespace()).await?;
    ensure(
        !names.iter().any(|n| n == "missing"),
        "list to omit the deployment the refused update named",
        || format!("listed {names:?}"),
    )
}
