//! Bad input: every validator path is InvalidArgument naming the field, and nothing is written.

use std::time::Duration;

use o2dms_core::{
    CreateDeployment, DeploymentFilter, DmsAdapter, ErrorKind, LogOptions, PackageFilter,
    PageRequest, RollbackRequest, ScaleRequest, UpdateDeployment, Value, Values,
};

use super::{caps, get, list_all, names_in, vals};
use crate::body;
use crate::check::{ensure, ensure_eq, ResultExt};
use crate::context::Context;
use crate::fixtures::Fixture;
use crate::scenario::{Profile, Scenario, ScenarioResult};

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario::new(
            "bad_input.bad_name",
            "create with an invalid name (uppercase, underscore) is InvalidArgument naming `name`; nothing is listed",
            body!(bad_name),
        )
        .requires(caps::LIFECYCLE)
        .covers(&["input.invalid_field"]),
        Scenario::new(
            "bad_input.name_too_long",
            "create with a 54-character name is InvalidArgument naming `name`; nothing is listed",
            body!(name_too_long),
        )
        .requires(caps::LIFECYCLE)
        .covers(&["input.invalid_field"]),
        Scenario::new(
            "bad_input.bad_namespace",
            "create in an invalid namespace is InvalidArgument naming `namespace`; nothing is listed anywhere",
            body!(bad_namespace),
        )
        .requires(caps::LIFECYCLE)
        .covers(&["input.invalid_field"]),
        Scenario::new(
            "bad_input.bad_label_key",
            "create with an invalid label key is InvalidArgument naming `labels`; get is NotFound",
            body!(bad_label_key),
        )
        .requires(caps::LABELS)
        .covers(&["input.invalid_field"]),
        Scenario::new(
            "bad_input.reserved_label_key",
            "create with a label key Helm reserves (`owner`) is InvalidArgument naming `labels`; get is NotFound",
            body!(reserved_label_key),
        )
        .requires(caps::LABELS)
        .covers(&["input.invalid_field"]),
        Scenario::new(
            "bad_input.bad_label_value",
            "create with an invalid label value is InvalidArgument naming `labels`; get is NotFound",
            body!(bad_label_value),
        )
        .requires(caps::LABELS)
        .covers(&["input.invalid_field"]),
        Scenario::new(
            "bad_input.non_finite_value",
            "create with a NaN in values is InvalidArgument naming `values`; get is NotFound",
            body!(non_finite_value),
        )
        .requires(caps::LIFECYCLE)
        .covers(&["input.invalid_field"]),
        Scenario::new(
            "bad_input.values_too_deep",
            "create with values nested 70 deep is InvalidArgument naming `values`; get is NotFound",
            body!(values_too_deep),
        )
        .requires(caps::LIFECYCLE)
        .covers(&["input.invalid_field"]),
        Scenario::new(
            "bad_input.bad_scale_key",
            "create with scale key `a..b` is InvalidArgument naming `scale_key`; get is NotFound",
            body!(bad_scale_key),
        )
        .requires(caps::LIFECYCLE)
        .covers(&["input.invalid_field"]),
        Scenario::new(
            "bad_input.zero_timeout",
            "create with a zero timeout is InvalidArgument naming `timeout`; get is NotFound",
            body!(zero_timeout),
        )
        .requires(caps::LIFECYCLE)
        .covers(&["input.invalid_field"]),
        Scenario::new(
            "bad_input.update_bad_values",
            "update with a NaN in values is InvalidArgument naming `values`; revision and values are unchanged",
            body!(update_bad_values),
        )
        .requires(caps::LIFECYCLE)
        .covers(&["input.invalid_field", "reads.after_refused_write"]),
        Scenario::new(
            "bad_input.revision_zero",
            "rollback to revision 0 is InvalidArgument naming `revision`; the revision is unchanged",
            body!(revision_zero),
        )
        .requires(caps::ROLLBACK)
        .covers(&["input.invalid_field", "reads.after_refused_write"]),
        Scenario::new(
            "bad_input.replicas_over_bound",
            "scale to 10001 replicas is InvalidArgument naming `replicas`; revision and values are unchanged",
            body!(replicas_over_bound),
        )
        .requires(caps::SCALING)
        .covers(&["input.invalid_field", "reads.after_refused_write"]),
        Scenario::new(
            "bad_input.page_limit_zero",
            "list with page limit 0 (deployments and packages) is InvalidArgument naming `limit`",
            body!(page_limit_zero),
        )
        .requires(caps::LIFECYCLE)
        .covers(&["input.invalid_field"]),
        Scenario::new(
            "bad_input.page_limit_over_max",
            "list with a page limit above the maximum is InvalidArgument naming `limit`",
            body!(page_limit_over_max),
        )
        .requires(caps::LIFECYCLE)
        .covers(&["input.invalid_field"]),
        Scenario::new(
            "bad_input.bad_continue_token",
            "list with a continue token the adapter never issued is InvalidArgument naming `continue`",
            body!(bad_continue_token),
        )
        .requires(caps::LIFECYCLE)
        .covers(&["input.invalid_field"]),
        Scenario::new(
            "bad_input.bad_filter_namespace",
            "list with an invalid namespace filter is InvalidArgument naming `namespace`",
            body!(bad_filter_namespace),
        )
        .requires(caps::LIFECYCLE)
        .covers(&["input.invalid_field"]),
        Scenario::new(
            "bad_input.logs_tail_zero",
            "logs with tail_lines 0 is InvalidArgument naming `tail_lines`",
            body!(logs_tail_zero),
        )
        .requires(caps::LOGS)
        .profile(Profile::Extended)
        .covers(&["input.invalid_field"]),
    ]
}

/// A create of `request` must be InvalidArgument naming `field`, and write nothing.
async fn refused_create(
    a: &dyn DmsAdapter,
    cx: &Context,
    request: CreateDeployment,
    field: &str,
) -> ScenarioResult {
    let id = request.id.clone();
    cx.track_deployment(&id);
    a.create_deployment(request)
        .await
        .expect_invalid(field, &format!("create_deployment with a bad `{field}`"))?;
    if id.validate().is_ok() {
        a.get_deployment(&id).await.expect_kind(
            ErrorKind::NotFound,
            "get_deployment after the refused create",
        )?;
        ensure_eq(
            "names listed after the refused create",
            &Vec::<String>::new(),
            &names_in(a, &id.namespace).await?,
        )?;
    }
    Ok(())
}

fn web_request(cx: &Context, name: &str) -> Result<CreateDeployment, crate::Failure> {
    Ok(CreateDeployment::new(
        cx.id(name),
        cx.package(Fixture::Web)?,
    ))
}

async fn bad_name(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    refused_create(a, cx, web_request(cx, "Bad_Name")?, "name").await?;
    ensure_eq(
        "names listed",
        &Vec::<String>::new(),
        &names_in(a, cx.namespace()).await?,
    )
}

async fn name_too_long(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    refused_create(a, cx, web_request(cx, &"n".repeat(54))?, "name").await?;
    ensure_eq(
        "names listed",
        &Vec::<String>::new(),
        &names_in(a, cx.namespace()).await?,
    )
}

async fn bad_namespace(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let name = cx.unique_name("badns");
    let req = CreateDeployment::new(cx.id_in("Bad_Namespace", &name), cx.package(Fixture::Web)?);
    refused_create(a, cx, req, "namespace").await?;
    let all = list_all(a, DeploymentFilter::default()).await?;
    ensure(
        !all.iter().any(|d| d.id.name == name),
        format!("no deployment named {name} anywhere"),
        || {
            format!(
                "{:?}",
                all.iter().filter(|d| d.id.name == name).collect::<Vec<_>>()
            )
        },
    )
}

async fn bad_label_key(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    refused_create(a, cx, web_request(cx, "app")?.label("-bad-", "x"), "labels").await
}

async fn reserved_label_key(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    refused_create(
        a,
        cx,
        web_request(cx, "app")?.label("owner", "me"),
        "labels",
    )
    .await
}

async fn bad_label_value(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    refused_create(
        a,
        cx,
        web_request(cx, "app")?.label("tier", "not valid!"),
        "labels",
    )
    .await
}

fn nan_values() -> Values {
    Values::from_pairs([(
        "conformance",
        Value::Map([("x".to_owned(), Value::Float(f64::NAN))].into()),
    )])
}

async fn non_finite_value(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    refused_create(
        a,
        cx,
        web_request(cx, "app")?.values(nan_values()),
        "values",
    )
    .await
}

async fn values_too_deep(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let mut v = Value::from("deep");
    for _ in 0..70 {
        v = Value::Map([("d".to_owned(), v)].into());
    }
    let values = Values::from_pairs([("conformance", v)]);
    refused_create(a, cx, web_request(cx, "app")?.values(values), "values").await
}

async fn bad_scale_key(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    refused_create(
        a,
        cx,
        web_request(cx, "app")?.scale_key("a..b"),
        "scale_key",
    )
    .await
}

async fn zero_timeout(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    refused_create(
        a,
        cx,
        web_request(cx, "app")?.timeout(Duration::ZERO),
        "timeout",
    )
    .await
}

async fn update_bad_values(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let v1 = vals(r#"{"conformance":{"v":1}}"#);
    cx.deploy(a, "app", Fixture::Web, v1.clone()).await?;
    let req = UpdateDeployment::new().values(nan_values());
    a.update_deployment(&cx.id("app"), req)
        .await
        .expect_invalid("values", "update_deployment with a NaN")?;
    let g = get(a, &cx.id("app")).await?;
    ensure_eq(
        "(revision, values) after the refused update",
        &(1, v1),
        &(g.revision, g.values),
    )
}

async fn revision_zero(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    cx.deploy(a, "app", Fixture::Web, vals("{}")).await?;
    let req = RollbackRequest::to_revision(0);
    a.rollback_deployment(&cx.id("app"), req)
        .await
        .expect_invalid("revision", "rollback_deployment to revision 0")?;
    ensure_eq(
        "revision after the refused rollback",
        &1,
        &get(a, &cx.id("app")).await?.revision,
    )
}

async fn replicas_over_bound(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let v1 = vals(r#"{"replicaCount":1}"#);
    cx.deploy(a, "app", Fixture::Web, v1.clone()).await?;
    a.scale_deployment(
        &cx.id("app"),
        ScaleRequest::to(o2dms_core::validate::MAX_REPLICAS + 1),
    )
    .await
    .expect_invalid("replicas", "scale_deployment over the bound")?;
    let g = get(a, &cx.id("app")).await?;
    ensure_eq(
        "(revision, values) after the refused scale",
        &(1, v1),
        &(g.revision, g.values),
    )
}

async fn page_limit_zero(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let filter = DeploymentFilter::in_namespace(cx.namespace()).page(PageRequest::first(0));
    a.list_deployments(&filter)
        .await
        .expect_invalid("limit", "list_deployments with limit 0")?;
    if a.capabilities().package_management {
        let filter = PackageFilter::all().page(PageRequest::first(0));
        a.list_packages(&filter)
            .await
            .expect_invalid("limit", "list_packages with limit 0")?;
    }
    Ok(())
}

async fn page_limit_over_max(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let filter = DeploymentFilter::in_namespace(cx.namespace())
        .page(PageRequest::first(o2dms_core::MAX_PAGE_SIZE + 1));
    a.list_deployments(&filter)
        .await
        .expect_invalid("limit", "list_deployments with a limit over the maximum")?;
    Ok(())
}

async fn bad_continue_token(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let filter = DeploymentFilter::in_namespace(cx.namespace())
        .page(PageRequest::next(Some(2), "not a token".to_owned()));
    a.list_deployments(&filter)
        .await
        .expect_invalid("continue", "list_deployments with a forged continue token")?;
    Ok(())
}

async fn bad_filter_namespace(a: &dyn DmsAdapter, _cx: &Context) -> ScenarioResult {
    a.list_deployments(&DeploymentFilter::in_namespace("Bad_Namespace"))
        .await
        .expect_invalid("namespace", "list_deployments with an invalid namespace")?;
    Ok(())
}

async fn logs_tail_zero(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    cx.deploy(a, "app", Fixture::Web, vals("{}")).await?;
    let options = LogOptions::new().tail_lines(0);
    a.deployment_logs(&cx.id("app"), &options)
        .await
        .expect_invalid("tail_lines", "deployment_logs with tail_lines 0")?;
    Ok(())
}
