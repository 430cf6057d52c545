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
        .requires(caps::LIFECYCLE)
        .covers(&["list.filters", "list.order"]),
        Scenario::new(
            "list.status_filter",
            "a status filter lists exactly the deployments in those statuses (Failed vs Deployed)",
            body!(status_filter),
        )
        .requires(caps::TIMEOUTS)
        .flags(&[Flag::Slow, Flag::Destructive])
        .covers(&["list.filters", "list.failed_and_pending"]),
        Scenario::new(
            "list.label_filter",
            "a label filter lists exactly the deployments carrying all the given labels",
            body!(label_filter),
        )
        .requires(caps::LABELS)
        .covers(&["list.filters", "meta.labels"]),
        Scenario::new(
            "list.package_name_filter",
            "a package-name filter lists exactly the deployments of that package",
            body!(package_name_filter),
        )
        .requires(caps::LIFECYCLE)
        .covers(&["list.filters"]),
        Scenario::new(
            "list.pagination_no_gaps_or_repeats",
            "paging with a limit smaller than the result returns every deployment exactly once, in a stable order, with no page over the limit",
            body!(pagination),
        )
        .requires(caps::LIFECYCLE)
        .flags(&[Flag::Slow])
        .covers(&["list.pages", "list.order"]),
        Scenario::new(
            "list.total_is_not_page_size",
            "`total` on a partial page counts every match (or is absent), never the page size",
            body!(total),
        )
        .requires(caps::LIFECYCLE)
        .flags(&[Flag::Slow])
        .covers(&["list.total"]),
        Scenario::new(
            "list.failed_is_listed",
            "a Failed deployment is listed without any filter, in its namespace and across all namespaces",
            body!(failed_is_listed),
        )
        .requires(caps::TIMEOUTS)
        .flags(&[Flag::Slow, Flag::Destructive])
        .covers(&["list.failed_and_pending", "create.timeout_leaves_failed"]),
        Scenario::new(
            "list.order_across_namespaces",
            "deployments created out of order in two namespaces are listed by namespace, then name: across all namespaces, in pages of one, and per namespace",
            body!(order_across_namespaces),
        )
        .requires(caps::LIFECYCLE)
        .covers(&["list.order", "list.pages"]),
        Scenario::new(
            "list.filters_across_namespaces",
            "without a namespace, label, package-name and status filters (and their combinations) keep exactly the matching deployments of every namespace",
            body!(filters_across_namespaces),
        )
        .requires(caps::LABELS)
        .covers(&["list.filters"]),
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
    let other = cx.other_namespace(1)?;
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

/// `namespace/name` of each listed deployment in `namespaces`, in list order.
fn ids_in(items: &[o2dms_core::Deployment], namespaces: &[&str]) -> Vec<String> {
    items
        .iter()
        .filter(|d| namespaces.contains(&d.id.namespace.as_str()))
        .map(|d| d.id.to_string())
        .collect()
}

async fn order_across_namespaces(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let (first, second) = (cx.namespace().to_owned(), cx.other_namespace(1)?);
    let web = cx.package(Fixture::Web)?;
    // Made in an order that is neither sorted by name nor by namespace.
    let made = [
        (&second, "zeta"),
        (&first, "mu"),
        (&second, "alpha"),
        (&first, "beta"),
    ];
    for (ns, name) in made {
        cx.create(
            a,
            CreateDeployment::new(cx.id_in(ns, name), web.clone())
                .values(vals(r#"{"replicaCount":1}"#)),
        )
        .await
        .step(&format!("create_deployment {ns}/{name}"))?;
    }
    let mut want: Vec<(String, String)> = made
        .iter()
        .map(|(ns, n)| ((*ns).clone(), (*n).to_owned()))
        .collect();
    want.sort();
    let want: Vec<String> = want
        .iter()
        .map(|(ns, n)| cx.id_in(ns, n).to_string())
        .collect();
    let namespaces = [first.as_str(), second.as_str()];
    let all = list_all(a, DeploymentFilter::all()).await?;
    ensure_eq(
        "order across all namespaces",
        &want,
        &ids_in(&all, &namespaces),
    )?;
    let paged = list_all(a, DeploymentFilter::all().page(PageRequest::first(1))).await?;
    ensure_eq(
        "order across all namespaces, in pages of 1",
        &want,
        &ids_in(&paged, &namespaces),
    )?;
    ensure_eq(
        "names in the first namespace",
        &strings(&["beta", "mu"]),
        &names_in(a, &first).await?,
    )?;
    ensure_eq(
        "names in the second namespace",
        &strings(&["alpha", "zeta"]),
        &names_in(a, &second).await?,
    )
}

async fn filters_across_namespaces(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let (first, second) = (cx.namespace().to_owned(), cx.other_namespace(1)?);
    // A label value no other run uses, so every namespace can be searched.
    let run = cx.namespace().to_owned();
    for (ns, name, fixture, tier) in [
        (&first, "a", Fixture::Web, "front"),
        (&first, "b", Fixture::CustomKey, "back"),
        (&second, "c", Fixture::Web, "front"),
        (&second, "d", Fixture::Web, "back"),
    ] {
        let req = CreateDeployment::new(cx.id_in(ns, name), cx.package(fixture)?)
            .values(vals(r#"{"replicaCount":1}"#))
            .label("conformance-run", run.clone())
            .label("tier", tier);
        cx.create(a, req)
            .await
            .step(&format!("create_deployment {ns}/{name}"))?;
    }
    let web = cx.package(Fixture::Web)?;
    let web_name = match web.name_version() {
        Some((n, _)) => n.to_owned(),
        None => a.get_package(&web).await.step("get_package")?.name,
    };
    let mine = || DeploymentFilter::all().label("conformance-run", run.clone());
    let id = |ns: &str, n: &str| cx.id_in(ns, n).to_string();
    let cases = [
        (
            "label conformance-run",
            mine(),
            vec![
                id(&first, "a"),
                id(&first, "b"),
                id(&second, "c"),
                id(&second, "d"),
            ],
        ),
        (
            "labels conformance-run and tier=front",
            mine().label("tier", "front"),
            vec![id(&first, "a"), id(&second, "c")],
        ),
        (
            "label conformance-run and package name web",
            mine().package_name(web_name.clone()),
            vec![id(&first, "a"), id(&second, "c"), id(&second, "d")],
        ),
        (
            "label conformance-run, tier=back and package name web",
            mine().label("tier", "back").package_name(web_name),
            vec![id(&second, "d")],
        ),
        (
            "label conformance-run and status deployed",
            mine().status(DeploymentStatus::Deployed),
            vec![
                id(&first, "a"),
                id(&first, "b"),
                id(&second, "c"),
                id(&second, "d"),
            ],
        ),
        (
            "label conformance-run and status failed",
            mine().status(DeploymentStatus::Failed),
            vec![],
        ),
    ];
    for (what, filter, want) in cases {
        let seen: Vec<String> = list_all(a, filter)
            .await?
            .iter()
            .map(|d| d.id.to_string())
            .collect();
        ensure_eq(&format!("deployments with {what}"), &want, &seen)?;
    }
    Ok(())
}
