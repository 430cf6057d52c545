//! List: filters, pagination, totals, nothing hidden.

use std::collections::BTreeSet;

use o2dms_core::{
    CreateDeployment, DeploymentFilter, DeploymentStatus, DmsAdapter, ErrorKind, PageRequest,
};

use super::{caps, list_all, names_in, vals};
use crate::body;
use crate::check::{ensure, ensure_eq, Failure, ResultExt};
use crate::context::Context;
use crate::fixtures::Fixture;
use crate::scenario::{Flag, Scenario, ScenarioResult};

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario::new(
            "list.namespace_filter",
            "a namespace filter lists exactly that namespace's deployments, in name order",
            body!(namespace_filter),
        )
        .requires(caps::LIFECYCLE),
        Scenario::new(
            "list.status_filter",
            "a status filter lists exactly the deployments in those statuses (Failed vs Deployed)",
            body!(status_filter),
        )
        .requires(caps::TIMEOUTS)
        .flags(&[Flag::Slow, Flag::Destructive]),
        Scenario::new(
            "list.label_filter",
            "a label filter lists exactly the deployments carrying all the given labels",
            body!(label_filter),
        )
        .requires(caps::LABELS),
        Scenario::new(
            "list.package_name_filter",
            "a package-name filter lists exactly the deployments of that package",
            body!(package_name_filter),
        )
        .requires(caps::LIFECYCLE),
        Scenario::new(
            "list.pagination_no_gaps_or_repeats",
            "paging with a limit smaller than the result returns every deployment exactly once, in a stable order, with no page over the limit",
            body!(pagination),
        )
        .requires(caps::LIFECYCLE)
        .flags(&[Flag::Slow]),
        Scenario::new(
            "list.total_is_not_page_size",
            "`total` on a partial page counts every match (or is absent), never the page size",
            body!(total),
        )
        .requires(caps::LIFECYCLE)
        .flags(&[Flag::Slow]),
        Scenario::new(
            "list.failed_is_listed",
            "a Failed deployment is listed without any filter, in its namespace and across all namespaces",
            body!(failed_is_listed),
        )
        .requires(caps::TIMEOUTS)
        .flags(&[Flag::Slow, Flag::Destructive]),
    ]
}

async fn names(a: &dyn DmsAdapter, filter: DeploymentFilter) -> Result<Vec<String>, Failure> {
    Ok(list_all(a, filter)
        .await?
        .into_iter()
        .map(|d| d.id.name)
        .collect())
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

async fn namespace_filter(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let other = cx.other_namespace(1);
    let web = cx.package(Fixture::Web)?;
    for name in ["b", "a"] {
        cx.deploy(a, name, Fixture::Web, vals("{}")).await?;
    }
    cx.create(a, CreateDeployment::new(cx.id_in(&other, "c"), web))
        .await
        .step("create_deployment in a second namespace")?;
    ensure_eq(
        "names in the first namespace",
        &strings(&["a", "b"]),
        &names_in(a, cx.namespace()).await?,
    )?;
    ensure_eq(
        "names in the second namespace",
        &strings(&["c"]),
        &names_in(a, &other).await?,
    )
}

async fn never_ready(a: &dyn DmsAdapter, cx: &Context, name: &str) -> ScenarioResult {
    let req = CreateDeployment::new(cx.id(name), cx.package(Fixture::NeverReady)?)
        .timeout(cx.settings().never_ready_timeout);
    cx.create(a, req).await.expect_kind(
        ErrorKind::Timeout,
        "create_deployment of a never-ready package",
    )?;
    Ok(())
}

async fn status_filter(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    cx.deploy(a, "good", Fixture::Web, vals("{}")).await?;
    never_ready(a, cx, "bad").await?;
    let filter = |statuses: Vec<DeploymentStatus>| {
        DeploymentFilter::in_namespace(cx.namespace()).statuses(statuses)
    };
    ensure_eq(
        "names with status failed",
        &strings(&["bad"]),
        &names(a, filter(vec![DeploymentStatus::Failed])).await?,
    )?;
    ensure_eq(
        "names with status deployed",
        &strings(&["good"]),
        &names(a, filter(vec![DeploymentStatus::Deployed])).await?,
    )?;
    ensure_eq(
        "names with status deployed or failed",
        &strings(&["bad", "good"]),
        &names(
            a,
            filter(vec![DeploymentStatus::Deployed, DeploymentStatus::Failed]),
        )
        .await?,
    )
}

async fn label_filter(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let web = cx.package(Fixture::Web)?;
    for (name, labels) in [
        ("a", vec![("tier", "front")]),
        ("b", vec![("tier", "back")]),
        ("c", vec![("tier", "front"), ("extra", "x")]),
    ] {
        let mut req = CreateDeployment::new(cx.id(name), web.clone());
        for (k, v) in labels {
            req = req.label(k, v);
        }
        cx.create(a, req)
            .await
            .step("create_deployment with labels")?;
    }
    let filter = |pairs: &[(&str, &str)]| {
        DeploymentFilter::in_namespace(cx.namespace()).labels(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    };
    ensure_eq(
        "names with tier=front",
        &strings(&["a", "c"]),
        &names(a, filter(&[("tier", "front")])).await?,
    )?;
    ensure_eq(
        "names with tier=front,extra=x",
        &strings(&["c"]),
        &names(a, filter(&[("tier", "front"), ("extra", "x")])).await?,
    )?;
    ensure_eq(
        "names with tier=none",
        &Vec::<String>::new(),
        &names(a, filter(&[("tier", "none")])).await?,
    )
}

async fn package_name_filter(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    cx.deploy(a, "w", Fixture::Web, vals("{}")).await?;
    cx.deploy(a, "k", Fixture::CustomKey, vals("{}")).await?;
    let web = cx.package(Fixture::Web)?;
    let name = match web.name_version() {
        Some((n, _)) => n.to_owned(),
        None => {
            a.get_package(&web)
                .await
                .step("get_package of the web fixture")?
                .name
        }
    };
    let filter = DeploymentFilter::in_namespace(cx.namespace()).package_name(name.clone());
    ensure_eq(
        &format!("names with package {name}"),
        &strings(&["w"]),
        &names(a, filter).await?,
    )
}

async fn make_items(a: &dyn DmsAdapter, cx: &Context) -> Result<Vec<String>, Failure> {
    let n = cx.settings().pagination_items;
    let mut want = Vec::new();
    for i in 0..n {
        let name = format!("item-{i:03}");
        cx.deploy(a, &name, Fixture::Web, vals("{}")).await?;
        want.push(name);
    }
    Ok(want)
}

async fn pagination(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let want = make_items(a, cx).await?;
    let size = cx.settings().page_size;
    let mut filter = DeploymentFilter::in_namespace(cx.namespace()).page(PageRequest::first(size));
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = a
            .list_deployments(&filter)
            .await
            .step("list_deployments page")?;
        pages += 1;
        ensure(
            page.items.len() <= size as usize,
            format!("at most {size} items per page"),
            || format!("{} items on page {pages}", page.items.len()),
        )?;
        seen.extend(page.items.into_iter().map(|d| d.id.name));
        match page.continue_token {
            Some(t) if pages < 1000 => filter.page.continue_token = Some(t),
            Some(_) => {
                return Err(Failure::mismatch(
                    "the pages to end",
                    "more than 1000 pages",
                ))
            }
            None => break,
        }
    }
    let unique: BTreeSet<&String> = seen.iter().collect();
    ensure_eq(
        "number of distinct names over all pages",
        &want.len(),
        &unique.len(),
    )?;
    ensure_eq("names over all pages, in order", &want, &seen)?;
    let expected_pages = want.len().div_ceil(size as usize);
    ensure(
        pages >= expected_pages,
        format!("at least {expected_pages} pages"),
        || format!("{pages} pages"),
    )
}

async fn total(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let want = make_items(a, cx).await?;
    let size = cx.settings().page_size;
    let filter = DeploymentFilter::in_namespace(cx.namespace()).page(PageRequest::first(size));
    let page = a
        .list_deployments(&filter)
        .await
        .step("list_deployments first page")?;
    ensure_eq(
        "items on the first page",
        &(size as usize),
        &page.items.len(),
    )?;
    ensure(
        page.continue_token.is_some(),
        "a continue token on a partial page",
        || "none".into(),
    )?;
    match page.total {
        None => Ok(()),
        Some(t) => ensure_eq("total", &(want.len() as u64), &t),
    }
}

async fn failed_is_listed(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    never_ready(a, cx, "bad").await?;
    let id = cx.id("bad");
    let here = list_all(a, DeploymentFilter::in_namespace(cx.namespace())).await?;
    ensure_eq(
        "status of `bad` listed in its namespace",
        &Some(DeploymentStatus::Failed),
        &here.iter().find(|d| d.id == id).map(|d| d.status),
    )?;
    let everywhere = list_all(a, DeploymentFilter::default()).await?;
    ensure(
        everywhere.iter().any(|d| d.id == id),
        format!("{id} listed across all namespaces"),
        || format!("{} deployments, none of them {id}", everywhere.len()),
    )
}
