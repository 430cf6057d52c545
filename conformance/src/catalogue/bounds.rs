//! Every bounded field at and past its bound: accepted at the bound (for real: the
//! write succeeds and reads back), refused just past it with InvalidArgument naming the
//! field, and nothing written.
//!
//! Left out on purpose: values of [`MAX_VALUES_BYTES`] are only refused just past the
//! bound (`bounds.values_size_past_bound`): 1 MiB of values cannot be stored by a real
//! backend (a Helm release Secret holds at most 1 MiB, chart and manifest included, and
//! the Helm adapter's `maxValuesBytes` defaults to 512 KiB, as the bound allows).

use std::time::Duration;

use o2dms_core::validate::{
    MAX_DESCRIPTION_LEN, MAX_NAMESPACE_LEN, MAX_NAME_LEN, MAX_REPLICAS, MAX_TIMEOUT,
    MAX_VALUES_BYTES, MAX_VALUES_DEPTH,
};
use o2dms_core::{
    CreateDeployment, DeploymentFilter, DeploymentId, DmsAdapter, Error, ErrorKind, PackageFilter,
    PageRequest, ScaleRequest, UpdateDeployment, Value, Values, MAX_PAGE_SIZE,
};

use super::{caps, get, names_in, vals};
use crate::body;
use crate::check::{describe_error, ensure_eq, Failure, ResultExt};
use crate::context::Context;
use crate::fixtures::Fixture;
use crate::scenario::{Scenario, ScenarioResult};

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario::new(
            "bounds.name_length",
            "a 53-character deployment name (Helm's release-name limit) is created, read back and listed; a 54-character one is InvalidArgument naming `name` and nothing else is listed",
            body!(name_length),
        )
        .requires(caps::LIFECYCLE)
        .covers(&["input.bounds", "input.invalid_field"]),
        Scenario::new(
            "bounds.namespace_length",
            "a deployment in a 63-character namespace is created and listed there; a 64-character namespace is InvalidArgument naming `namespace`, for create and for the list filter",
            body!(namespace_length),
        )
        .requires(caps::LIFECYCLE)
        .covers(&["input.bounds", "input.invalid_field"]),
        Scenario::new(
            "bounds.label_length",
            "a label whose key name and value are 63 characters each is kept as given; a 64-character value, or key name, is InvalidArgument naming `labels` and nothing is written",
            body!(label_length),
        )
        .requires(caps::LABELS)
        .covers(&["input.bounds", "input.invalid_field", "meta.labels"]),
        Scenario::new(
            "bounds.description_length",
            "a description of 1024 bytes is the description of the revision made; 1025 bytes is InvalidArgument naming `description`, for create and for update, and nothing is written",
            body!(description_length),
        )
        .requires(caps::LIFECYCLE)
        .covers(&["input.bounds", "input.invalid_field", "meta.description"]),
        Scenario::new(
            "bounds.timeout",
            "create and update with a timeout of 24 h (the maximum) succeed; a timeout 1 s longer is InvalidArgument naming `timeout`, for create and for update, and nothing is written",
            body!(timeout),
        )
        .requires(caps::LIFECYCLE)
        .covers(&["input.bounds", "input.invalid_field"]),
        Scenario::new(
            "bounds.values_depth",
            "values nested 64 deep (the maximum) are created and read back unchanged; 65 deep is InvalidArgument naming `values`, for create and for update, and nothing is written",
            body!(values_depth),
        )
        .requires(caps::LIFECYCLE)
        .covers(&["input.bounds", "input.invalid_field"]),
        Scenario::new(
            "bounds.values_size_past_bound",
            "values one byte over 1 MiB as JSON are InvalidArgument naming `values`, for create and for update, and nothing is written (the accepted side is left out: no real backend stores 1 MiB of values)",
            body!(values_size_past_bound),
        )
        .requires(caps::LIFECYCLE)
        .covers(&["input.bounds", "input.invalid_field"]),
        Scenario::new(
            "bounds.page_limit",
            "list_deployments (and list_packages, when declared) with a page limit of 1000 answer; 1001 is InvalidArgument naming `limit`",
            body!(page_limit),
        )
        .requires(caps::LIFECYCLE)
        .covers(&["input.bounds", "input.invalid_field"]),
        Scenario::new(
            "bounds.replicas",
            "scale to 10001 replicas is InvalidArgument naming `replicas` and changes nothing; scale to 10000 is not refused for its replica count (tried on the ignores-scale fixture, so that no backend starts 10 000 pods: it may fail only because the chart ignores the key)",
            body!(replicas),
        )
        .requires(caps::SCALING)
        .covers(&["input.bounds", "input.invalid_field", "reads.after_refused_write"]),
    ]
}

/// `len` characters: `stem` padded with `fill`.
fn padded(stem: &str, fill: char, len: usize) -> String {
    let mut s: String = stem.chars().take(len).collect();
    while s.len() < len {
        s.push(fill);
    }
    s
}

fn web(cx: &Context, id: DeploymentId) -> Result<CreateDeployment, Failure> {
    Ok(CreateDeployment::new(id, cx.package(Fixture::Web)?))
}

/// A create that must succeed and leave the deployment Deployed at revision 1.
async fn accepted(
    a: &dyn DmsAdapter,
    cx: &Context,
    request: CreateDeployment,
    what: &str,
) -> Result<o2dms_core::Deployment, Failure> {
    let id = request.id.clone();
    let d = cx
        .create(a, request)
        .await
        .step(&format!("create_deployment with {what}"))?;
    ensure_eq(
        &format!("(id, revision, status) after the create with {what}"),
        &(&id, 1, o2dms_core::DeploymentStatus::Deployed),
        &(&d.id, d.revision, d.status),
    )?;
    Ok(d)
}

/// A create that must be InvalidArgument naming `field`, and write nothing.
async fn refused(
    a: &dyn DmsAdapter,
    cx: &Context,
    request: CreateDeployment,
    field: &str,
    what: &str,
) -> ScenarioResult {
    let id = request.id.clone();
    cx.track_deployment(&id);
    a.create_deployment(request)
        .await
        .expect_invalid(field, &format!("create_deployment with {what}"))?;
    if id.validate().is_ok() {
        a.get_deployment(&id).await.expect_kind(
            ErrorKind::NotFound,
            "get_deployment after the refused create",
        )?;
    }
    Ok(())
}

/// An update that must be InvalidArgument naming `field`, leaving revision and values.
async fn refused_update(
    a: &dyn DmsAdapter,
    id: &DeploymentId,
    request: UpdateDeployment,
    field: &str,
    what: &str,
) -> ScenarioResult {
    let before = get(a, id).await?;
    a.update_deployment(id, request)
        .await
        .expect_invalid(field, &format!("update_deployment with {what}"))?;
    let after = get(a, id).await?;
    ensure_eq(
        &format!("(revision, values) after the refused update with {what}"),
        &(before.revision, before.values),
        &(after.revision, after.values),
    )
}

async fn name_length(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let at = padded("bound-", 'n', MAX_NAME_LEN);
    let past = padded("bound-", 'n', MAX_NAME_LEN + 1);
    let d = accepted(a, cx, web(cx, cx.id(&at))?, "a 53-character name").await?;
    ensure_eq("name read back", &at, &get(a, &d.id).await?.id.name)?;
    refused(a, cx, web(cx, cx.id(&past))?, "name", "a 54-character name").await?;
    ensure_eq(
        "names listed",
        &vec![at],
        &names_in(a, cx.namespace()).await?,
    )
}

async fn namespace_length(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let at = cx.longest_namespace();
    let past = padded(&at, 'n', MAX_NAMESPACE_LEN + 1);
    let id = cx.id_in(&at, "app");
    accepted(a, cx, web(cx, id.clone())?, "a 63-character namespace").await?;
    ensure_eq(
        "names listed in the 63-character namespace",
        &vec!["app".to_owned()],
        &names_in(a, &at).await?,
    )?;
    ensure_eq("id read back", &id, &get(a, &id).await?.id)?;
    refused(
        a,
        cx,
        web(cx, cx.id_in(&past, "app"))?,
        "namespace",
        "a 64-character namespace",
    )
    .await?;
    a.list_deployments(&DeploymentFilter::in_namespace(&past))
        .await
        .expect_invalid("namespace", "list_deployments in a 64-character namespace")?;
    Ok(())
}

async fn label_length(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let key = padded("conformance-key-", 'k', 63);
    let value = padded("conformance-value-", 'v', 63);
    let d = accepted(
        a,
        cx,
        web(cx, cx.id("app"))?.label(&key, &value),
        "a label of a 63-character key name and value",
    )
    .await?;
    let want = [(key.clone(), value.clone())].into();
    ensure_eq("labels returned by create", &want, &d.labels)?;
    ensure_eq("labels read back", &want, &get(a, &d.id).await?.labels)?;
    let long_value = padded(&value, 'v', 64);
    refused(
        a,
        cx,
        web(cx, cx.id("long-value"))?.label("tier", &long_value),
        "labels",
        "a 64-character label value",
    )
    .await?;
    let long_key = padded(&key, 'k', 64);
    refused(
        a,
        cx,
        web(cx, cx.id("long-key"))?.label(&long_key, "x"),
        "labels",
        "a 64-character label key name",
    )
    .await?;
    ensure_eq(
        "names listed",
        &vec!["app".to_owned()],
        &names_in(a, cx.namespace()).await?,
    )
}

async fn description_length(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let at = padded(
        "conformance description at its bound ",
        'd',
        MAX_DESCRIPTION_LEN,
    );
    let past = padded(&at, 'd', MAX_DESCRIPTION_LEN + 1);
    let d = accepted(
        a,
        cx,
        web(cx, cx.id("app"))?.description(&at),
        "a 1024-byte description",
    )
    .await?;
    ensure_eq("description returned by create", &at, &d.description)?;
    ensure_eq(
        "description read back",
        &at,
        &get(a, &d.id).await?.description,
    )?;
    refused(
        a,
        cx,
        web(cx, cx.id("past"))?.description(&past),
        "description",
        "a 1025-byte description",
    )
    .await?;
    let update = UpdateDeployment::new()
        .values(vals(r#"{"conformance":{"v":2}}"#))
        .description(&past)
        .timeout(cx.operation_timeout());
    refused_update(a, &d.id, update, "description", "a 1025-byte description").await
}

async fn timeout(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let past = MAX_TIMEOUT + Duration::from_secs(1);
    let d = accepted(
        a,
        cx,
        web(cx, cx.id("app"))?.timeout(MAX_TIMEOUT),
        "a 24 h timeout",
    )
    .await?;
    refused(
        a,
        cx,
        web(cx, cx.id("past"))?.timeout(past),
        "timeout",
        "a timeout of 24 h + 1 s",
    )
    .await?;
    let update = |v: u32, t: Duration| {
        UpdateDeployment::new()
            .values(vals(&format!(r#"{{"conformance":{{"v":{v}}}}}"#)))
            .timeout(t)
    };
    refused_update(
        a,
        &d.id,
        update(2, past),
        "timeout",
        "a timeout of 24 h + 1 s",
    )
    .await?;
    let u = a
        .update_deployment(&d.id, update(3, MAX_TIMEOUT))
        .await
        .step("update_deployment with a 24 h timeout")?;
    ensure_eq(
        "(revision, values) after the update with a 24 h timeout",
        &(2, vals(r#"{"conformance":{"v":3}}"#)),
        &(u.revision, u.values),
    )
}

/// `{"conformance": {"d": {"d": ... "deep"}}}`, `depth` deep as [`Values::depth`] counts.
fn nested(depth: usize) -> Values {
    let mut v = Value::from("deep");
    for _ in 1..depth {
        v = Value::Map([("d".to_owned(), v)].into());
    }
    Values::from_pairs([("conformance", v)])
}

async fn values_depth(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let at = nested(MAX_VALUES_DEPTH);
    let past = nested(MAX_VALUES_DEPTH + 1);
    ensure_eq(
        "(depth of the values at the bound, past it) as the scenario built them",
        &(MAX_VALUES_DEPTH, MAX_VALUES_DEPTH + 1),
        &(at.depth(), past.depth()),
    )?;
    let d = accepted(
        a,
        cx,
        web(cx, cx.id("app"))?.values(at.clone()),
        "values nested 64 deep",
    )
    .await?;
    ensure_eq("values read back", &at, &get(a, &d.id).await?.values)?;
    refused(
        a,
        cx,
        web(cx, cx.id("past"))?.values(past.clone()),
        "values",
        "values nested 65 deep",
    )
    .await?;
    let update = UpdateDeployment::new()
        .values(past)
        .timeout(cx.operation_timeout());
    refused_update(a, &d.id, update, "values", "values nested 65 deep").await
}

/// Values exactly `bytes` long as compact JSON.
fn sized(bytes: usize) -> Values {
    let with = |n: usize| {
        Values::from_pairs([(
            "conformance",
            Value::Map([("blob".to_owned(), Value::from("x".repeat(n)))].into()),
        )])
    };
    let overhead = with(0).json_len();
    with(bytes.saturating_sub(overhead))
}

async fn values_size_past_bound(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let past = sized(MAX_VALUES_BYTES + 1);
    ensure_eq(
        "size of the values past the bound as the scenario built them",
        &(MAX_VALUES_BYTES + 1),
        &past.json_len(),
    )?;
    refused(
        a,
        cx,
        web(cx, cx.id("past"))?.values(past.clone()),
        "values",
        "values of 1 MiB + 1 byte",
    )
    .await?;
    let d = cx.deploy(a, "app", Fixture::Web, vals("{}")).await?;
    let update = UpdateDeployment::new()
        .values(past)
        .timeout(cx.operation_timeout());
    refused_update(a, &d.id, update, "values", "values of 1 MiB + 1 byte").await
}

async fn page_limit(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let at = DeploymentFilter::in_namespace(cx.namespace()).page(PageRequest::first(MAX_PAGE_SIZE));
    a.list_deployments(&at)
        .await
        .step("list_deployments with a page limit of 1000")?;
    let past =
        DeploymentFilter::in_namespace(cx.namespace()).page(PageRequest::first(MAX_PAGE_SIZE + 1));
    a.list_deployments(&past)
        .await
        .expect_invalid("limit", "list_deployments with a page limit of 1001")?;
    if a.capabilities().package_management {
        a.list_packages(&PackageFilter::all().page(PageRequest::first(MAX_PAGE_SIZE)))
            .await
            .step("list_packages with a page limit of 1000")?;
        a.list_packages(&PackageFilter::all().page(PageRequest::first(MAX_PAGE_SIZE + 1)))
            .await
            .expect_invalid("limit", "list_packages with a page limit of 1001")?;
    }
    Ok(())
}

async fn replicas(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let d = cx
        .deploy(a, "app", Fixture::IgnoresScale, vals("{}"))
        .await?;
    let scale = |n: u32| ScaleRequest::to(n).timeout(cx.operation_timeout());
    a.scale_deployment(&d.id, scale(MAX_REPLICAS + 1))
        .await
        .expect_invalid("replicas", "scale_deployment to 10001 replicas")?;
    let after = get(a, &d.id).await?;
    ensure_eq(
        "(revision, values) after the refused scale",
        &(d.revision, &d.values),
        &(after.revision, &after.values),
    )?;
    // Any outcome but a refusal of the count: the chart ignores the key, so the scale
    // may fail for that (before or after writing), never for the number asked.
    match a.scale_deployment(&d.id, scale(MAX_REPLICAS)).await {
        Err(e)
            if matches!(&e, Error::InvalidArgument { field, .. } if field.contains("replicas")) =>
        {
            Err(Failure::mismatch(
                "scale_deployment to 10000 replicas (the maximum) not refused for its replica count",
                describe_error(&e),
            ))
        }
        _ => Ok(()),
    }
}
