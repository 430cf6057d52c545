//! Capabilities, info and health: what the adapter says about itself, what it refuses,
//! how it names what is missing, and whether it is safe to call concurrently.

use futures::future::join_all;
use o2dms_core::{
    CreateDeployment, DeletePackageOptions, DeploymentFilter, DeploymentId, DmsAdapter, Error,
    ErrorKind, HealthStatus, HistoryOptions, LogOptions, Operation, PackageFilter, PackageId,
    PackageUpload, Resource, RollbackRequest, ScaleRequest, UpdateDeployment, Values,
};

use super::{caps, get, names_in, vals};
use crate::body;
use crate::check::{describe_error, ensure, ensure_eq, short_debug, Failure, ResultExt};
use crate::context::Context;
use crate::fixtures::{tiny_chart, Fixture};
use crate::scenario::{Scenario, ScenarioResult};

/// Deployments the concurrency scenario creates at once.
const CONCURRENT_CREATES: usize = 8;

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario::new(
            "capabilities.info_names_adapter",
            "info names the adapter, its version and its backend (none of them empty; a backend version, when given, is not empty either), and says the same on every call",
            body!(info_names_adapter),
        )
        .covers(&["trait.info"]),
        Scenario::new(
            "capabilities.health_is_healthy",
            "on a backend that just answered a list, health answers Healthy with a message",
            body!(health_is_healthy),
        )
        .covers(&["trait.health"]),
        Scenario::new(
            "capabilities.undeclared_refused",
            "every operation whose capability the adapter does not declare (package_management: list/get/delete_package; package_upload: upload_package; deployment_lifecycle: create_deployment; rollback, scaling, history, status_detail, logs: their operation on an existing deployment) is Unsupported naming the operation, and a refused write changes nothing; labels and timeouts modify other operations and have none of their own. Passes at once on an adapter declaring everything",
            body!(undeclared_refused),
        )
        .covers(&["trait.undeclared_refused"]),
        Scenario::new(
            "capabilities.not_found_names_what_and_which",
            "NotFound names the resource and the id: get, update and delete (and status and history when declared) of a missing deployment name the deployment with its namespace and name, get and delete of a missing package name the package id, a rollback to a missing revision names the revision",
            body!(not_found_names),
        )
        .requires(caps::LIFECYCLE)
        .covers(&["trait.not_found_names", "trait.not_found"]),
        Scenario::new(
            "capabilities.concurrent_creates",
            "8 creates of different names started at once all succeed, each deployment reads back its own values at revision 1, and list shows all 8 once",
            body!(concurrent_creates),
        )
        .requires(caps::LIFECYCLE)
        .covers(&["trait.concurrent_calls", "create.ready"]),
    ]
}

async fn info_names_adapter(a: &dyn DmsAdapter, _cx: &Context) -> ScenarioResult {
    let info = a.info();
    for (what, value) in [
        ("info.name", &info.name),
        ("info.version", &info.version),
        ("info.backend", &info.backend),
    ] {
        ensure(
            !value.trim().is_empty(),
            format!("{what} to be non-empty"),
            || format!("{what} = {value:?} in {info:?}"),
        )?;
    }
    if let Some(v) = &info.backend_version {
        ensure(
            !v.trim().is_empty(),
            "info.backend_version, when given, to be non-empty",
            || format!("{info:?}"),
        )?;
    }
    ensure_eq("info on a second call", &info, &a.info())
}

async fn health_is_healthy(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    // The backend works: it just answered a read.
    a.list_deployments(&DeploymentFilter::in_namespace(cx.namespace()))
        .await
        .step("list_deployments (to show the backend works)")?;
    let h = a.health().await.step("health")?;
    ensure_eq("health status", &HealthStatus::Healthy, &h.status)?;
    ensure(
        !h.message.trim().is_empty(),
        "a health message saying what was checked",
        || format!("{h:?}"),
    )
}

/// The error must be Unsupported naming `operation`.
fn unsupported<T: std::fmt::Debug>(
    result: Result<T, Error>,
    operation: Operation,
    capability: &str,
) -> ScenarioResult {
    let op = operation.as_str();
    let expected =
        format!("{op} without capability `{capability}`: Unsupported naming the operation `{op}`");
    match result {
        Err(Error::Unsupported { operation: o, .. }) if o == op => Ok(()),
        Err(e) => Err(Failure::mismatch(expected, describe_error(&e))),
        Ok(v) => Err(Failure::mismatch(
            expected,
            format!("success ({})", short_debug(&v)),
        )),
    }
}

async fn undeclared_refused(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let declared = a.capabilities();
    if declared.package_management {
        // Nothing to refuse.
    } else {
        let existing = cx.package(Fixture::Web).or_else(|_| {
            PackageId::from_name_version(&cx.unique_name("pkg"), "0.1.0").map_err(Failure::from)
        })?;
        let missing = PackageId::from_name_version(&cx.unique_name("missing"), "0.1.0")?;
        unsupported(
            a.list_packages(&PackageFilter::all()).await,
            Operation::ListPackages,
            "package_management",
        )?;
        unsupported(
            a.get_package(&existing).await,
            Operation::GetPackage,
            "package_management",
        )?;
        unsupported(
            a.delete_package(&missing, DeletePackageOptions::new())
                .await,
            Operation::DeletePackage,
            "package_management",
        )?;
    }
    if !declared.package_upload {
        let archive = tiny_chart(&cx.unique_name("pkg"), "0.1.0");
        unsupported(
            cx.upload(a, PackageUpload::new(archive)).await,
            Operation::UploadPackage,
            "package_upload",
        )?;
    }
    let id = cx.id("app");
    if !declared.deployment_lifecycle {
        let request = CreateDeployment::new(id.clone(), cx.package(Fixture::Web)?);
        unsupported(
            cx.create(a, request).await,
            Operation::CreateDeployment,
            "deployment_lifecycle",
        )?;
    }
    let every_deployment_operation = declared.rollback
        && declared.scaling
        && declared.history
        && declared.status_detail
        && declared.logs;
    if every_deployment_operation {
        return Ok(());
    }
    // Refuse on an existing deployment, so that NotFound cannot stand in for Unsupported.
    let v1 = vals(r#"{"replicaCount":1}"#);
    let before = if declared.deployment_lifecycle {
        Some(cx.deploy(a, "app", Fixture::Web, v1).await?)
    } else {
        None
    };
    if !declared.scaling {
        unsupported(
            a.scale_deployment(&id, ScaleRequest::to(2)).await,
            Operation::ScaleDeployment,
            "scaling",
        )?;
    }
    if !declared.rollback {
        unsupported(
            a.rollback_deployment(&id, RollbackRequest::to_revision(1))
                .await,
            Operation::RollbackDeployment,
            "rollback",
        )?;
    }
    if !declared.history {
        unsupported(
            a.deployment_history(&id, HistoryOptions::default()).await,
            Operation::DeploymentHistory,
            "history",
        )?;
    }
    if !declared.status_detail {
        unsupported(
            a.deployment_status(&id).await,
            Operation::DeploymentStatus,
            "status_detail",
        )?;
    }
    if !declared.logs {
        unsupported(
            a.deployment_logs(&id, &LogOptions::new()).await,
            Operation::DeploymentLogs,
            "logs",
        )?;
    }
    if let Some(before) = before {
        let after = get(a, &id).await?;
        ensure_eq(
            "(revision, values) after the refused operations",
            &(before.revision, before.values),
            &(after.revision, after.values),
        )?;
    }
    Ok(())
}

/// `e` must be NotFound of `resource` with an id containing each of `parts`.
fn names(e: &Error, resource: Resource, parts: &[&str], what: &str) -> ScenarioResult {
    match e {
        Error::NotFound { resource: r, id }
            if *r == resource && parts.iter().all(|p| id.contains(p)) =>
        {
            Ok(())
        }
        other => Err(Failure::mismatch(
            format!("{what}: NotFound of a {resource} whose id names {parts:?}"),
            match other {
                Error::NotFound { resource, id } => {
                    format!("NotFound {{ resource: {resource}, id: {id:?} }}")
                }
                e => describe_error(e),
            },
        )),
    }
}

async fn not_found_names(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let declared = a.capabilities();
    let name = "missing-app";
    let id = cx.id(name);
    let parts = [cx.namespace(), name];
    let e = a.get_deployment(&id).await.expect_kind(
        ErrorKind::NotFound,
        "get_deployment of a missing deployment",
    )?;
    names(&e, Resource::Deployment, &parts, "get_deployment")?;
    let update = UpdateDeployment::new()
        .values(vals(r#"{"conformance":{"v":1}}"#))
        .timeout(cx.operation_timeout());
    let e = a.update_deployment(&id, update).await.expect_kind(
        ErrorKind::NotFound,
        "update_deployment of a missing deployment",
    )?;
    names(&e, Resource::Deployment, &parts, "update_deployment")?;
    let e = a.delete_deployment(&id).await.expect_kind(
        ErrorKind::NotFound,
        "delete_deployment of a missing deployment",
    )?;
    names(&e, Resource::Deployment, &parts, "delete_deployment")?;
    if declared.status_detail {
        let e = a.deployment_status(&id).await.expect_kind(
            ErrorKind::NotFound,
            "deployment_status of a missing deployment",
        )?;
        names(&e, Resource::Deployment, &parts, "deployment_status")?;
    }
    if declared.history {
        let e = a
            .deployment_history(&id, HistoryOptions::default())
            .await
            .expect_kind(
                ErrorKind::NotFound,
                "deployment_history of a missing deployment",
            )?;
        names(&e, Resource::Deployment, &parts, "deployment_history")?;
    }
    if declared.package_management {
        let version = "9.9.9";
        let pname = cx.unique_name("missing");
        let pid = PackageId::from_name_version(&pname, version)?;
        let e = a
            .get_package(&pid)
            .await
            .expect_kind(ErrorKind::NotFound, "get_package of a missing package")?;
        names(&e, Resource::Package, &[&pname, version], "get_package")?;
        let e = a
            .delete_package(&pid, DeletePackageOptions::new())
            .await
            .expect_kind(ErrorKind::NotFound, "delete_package of a missing package")?;
        names(&e, Resource::Package, &[&pname, version], "delete_package")?;
    }
    if declared.rollback {
        let app = "app";
        cx.deploy(a, app, Fixture::Web, vals("{}")).await?;
        let e = a
            .rollback_deployment(
                &cx.id(app),
                RollbackRequest::to_revision(99).timeout(cx.operation_timeout()),
            )
            .await
            .expect_kind(ErrorKind::NotFound, "rollback_deployment to revision 99")?;
        names(
            &e,
            Resource::Revision,
            &[cx.namespace(), app, "99"],
            "rollback_deployment to a missing revision",
        )?;
    }
    Ok(())
}

fn own_values(i: usize) -> Values {
    vals(&format!(
        r#"{{"conformance":{{"who":"writer-{i}","n":{i}}}}}"#
    ))
}

async fn concurrent_creates(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let web = cx.package(Fixture::Web)?;
    let ids: Vec<DeploymentId> = (0..CONCURRENT_CREATES)
        .map(|i| cx.id(&format!("app-{i}")))
        .collect();
    let creates = ids.iter().enumerate().map(|(i, id)| {
        let request = CreateDeployment::new(id.clone(), web.clone()).values(own_values(i));
        cx.create(a, request)
    });
    let results = join_all(creates).await;
    for (i, r) in results.into_iter().enumerate() {
        let d = r.step(&format!(
            "create_deployment of {} (one of {CONCURRENT_CREATES} at once)",
            ids[i]
        ))?;
        ensure_eq(
            &format!(
                "(id, revision, values) returned by the create of {}",
                ids[i]
            ),
            &(&ids[i], 1, &own_values(i)),
            &(&d.id, d.revision, &d.values),
        )?;
    }
    for (i, id) in ids.iter().enumerate() {
        let d = get(a, id).await?;
        ensure_eq(
            &format!("(revision, values) of {id}"),
            &(1, own_values(i)),
            &(d.revision, d.values),
        )?;
    }
    let mut want: Vec<String> = ids.iter().map(|id| id.name.clone()).collect();
    want.sort();
    ensure_eq("names listed", &want, &names_in(a, cx.namespace()).await?)
}
