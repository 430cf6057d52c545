//! Reads of deleted, refused and failed deployments; live state.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use o2dms_core::{
    CreateDeployment, Deployment, DeploymentFilter, DeploymentId, DeploymentStatus, DmsAdapter,
    ErrorKind, HistoryOptions, LogOptions, PackageId, Revision, RollbackRequest, ScaleRequest,
    StatusDetail, UpdateDeployment, ValuesMode,
};

use super::{caps, get, history, list_all, names_in, numbers, update, vals};
use crate::body;
use crate::check::{ensure, ensure_eq, short_debug, Failure, ResultExt};
use crate::context::Context;
use crate::fixtures::Fixture;
use crate::scenario::{Flag, Scenario, ScenarioResult};

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario::new(
            "reads.deleted_is_not_found_everywhere",
            "after delete, get, status, history and logs (each the adapter declares) are NotFound, and list omits the deployment",
            body!(deleted_everywhere),
        )
        .requires(caps::LIFECYCLE)
        .covers(&["delete.every_read", "delete.removes", "trait.not_found"]),
        Scenario::new(
            "reads.recreate_starts_fresh",
            "a deleted name created again starts at revision 1 with only the new values, and its history holds only that revision",
            body!(recreate_starts_fresh),
        )
        .requires(caps::LIFECYCLE)
        .covers(&["delete.recreate"]),
        Scenario::new(
            "reads.refused_create_changes_nothing",
            "a create of an existing name with another package, values, labels and description is AlreadyExists, and get, status and history are exactly as before",
            body!(refused_create_changes_nothing),
        )
        .requires(caps::LIFECYCLE)
        .covers(&["reads.after_refused_write", "create.existing"]),
        Scenario::new(
            "reads.refused_update_and_rollback_change_nothing",
            "an update with bad input (InvalidArgument), an update to a missing package and a rollback to a missing revision (NotFound) leave get, status and history exactly as before",
            body!(refused_update_and_rollback),
        )
        .requires(caps::ROLLBACK)
        .covers(&[
            "reads.after_refused_write",
            "rollback.missing_revision",
            "input.invalid_field",
        ]),
        Scenario::new(
            "reads.failed_create_says_why",
            "after a never-ready create times out, get says Failed with a description, status says Failed with a message that is more than the status name, history has revision 1 Failed, and list shows it Failed",
            body!(failed_create_says_why),
        )
        .requires(caps::TIMEOUTS)
        .flags(&[Flag::Slow, Flag::Destructive])
        .covers(&[
            "reads.after_failed_write",
            "create.timeout_leaves_failed",
            "status.agrees_with_get",
        ]),
        Scenario::new(
            "reads.pending_visible_during_install",
            "while a create is still waiting for its workload, get, list, status and history show the deployment with a pending status (Deploying); nothing is hidden",
            body!(pending_visible),
        )
        .requires(caps::TIMEOUTS)
        .flags(&[Flag::Slow, Flag::Destructive])
        .covers(&["reads.live_state", "list.failed_and_pending"]),
        Scenario::new(
            "reads.superseded_never_live",
            "after create, update, scale and rollback, get, list and status never say Superseded; in history only older revisions are superseded and the newest is the deployment's",
            body!(superseded_never_live),
        )
        .requires(caps::ROLLBACK_SCALING_HISTORY)
        .covers(&["reads.superseded_never_live", "history.one_current"]),
        Scenario::new(
            "reads.same_name_other_namespace",
            "two deployments of one name in two namespaces have their own history, status, logs and list entries",
            body!(same_name_other_namespace),
        )
        .requires(caps::LIFECYCLE)
        .covers(&["create.namespace_in_id"]),
        Scenario::new(
            "reads.create_from_missing_package",
            "a create from a package that does not exist is NotFound, and get, list and a second try show no deployment left behind",
            body!(create_from_missing_package),
        )
        .requires(caps::LIFECYCLE)
        .covers(&["create.package_missing", "trait.not_found"]),
    ]
}

/// A status the deployment has while a write is still waiting (or not yet applied).
pub(crate) fn is_pending(s: DeploymentStatus) -> bool {
    s == DeploymentStatus::Pending || s.is_in_progress()
}

/// Status, message, progress and replica counts (desired, updated, ready, available).
type StatusSummary = (DeploymentStatus, String, u8, (u32, u32, u32, u32));

/// What a refused write must leave untouched: get, and status and history when declared.
#[derive(Debug, PartialEq)]
struct Snapshot {
    deployment: Deployment,
    status: Option<StatusSummary>,
    history: Option<Vec<Revision>>,
}

async fn snapshot(a: &dyn DmsAdapter, id: &DeploymentId) -> Result<Snapshot, Failure> {
    let caps = a.capabilities();
    let status = if caps.status_detail {
        let s: StatusDetail = a.deployment_status(id).await.step("deployment_status")?;
        let r = s.replicas;
        Some((
            s.status,
            s.message,
            s.progress,
            (r.desired, r.updated, r.ready, r.available),
        ))
    } else {
        None
    };
    let history = if caps.history {
        Some(history(a, id).await?)
    } else {
        None
    };
    Ok(Snapshot {
        deployment: get(a, id).await?,
        status,
        history,
    })
}

async fn unchanged(
    a: &dyn DmsAdapter,
    id: &DeploymentId,
    before: &Snapshot,
    after_what: &str,
) -> ScenarioResult {
    let now = snapshot(a, id).await?;
    ensure_eq(
        &format!("get after {after_what}"),
        &before.deployment,
        &now.deployment,
    )?;
    ensure_eq(
        &format!("status (status, message, progress, replicas) after {after_what}"),
        &before.status,
        &now.status,
    )?;
    ensure_eq(
        &format!("history after {after_what}"),
        &before.history,
        &now.history,
    )
}

async fn deleted_everywhere(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("app");
    cx.deploy(a, "app", Fixture::Web, vals(r#"{"replicaCount":1}"#))
        .await?;
    update(
        a,
        cx,
        &id,
        vals(r#"{"conformance":{"v":2}}"#),
        ValuesMode::Merge,
    )
    .await?;
    a.delete_deployment(&id).await.step("delete_deployment")?;
    a.get_deployment(&id)
        .await
        .expect_kind(ErrorKind::NotFound, "get_deployment after delete")?;
    let caps = a.capabilities();
    if caps.status_detail {
        a.deployment_status(&id)
            .await
            .expect_kind(ErrorKind::NotFound, "deployment_status after delete")?;
    }
    if caps.history {
        a.deployment_history(&id, HistoryOptions::all())
            .await
            .expect_kind(ErrorKind::NotFound, "deployment_history after delete")?;
    }
    if caps.logs {
        a.deployment_logs(&id, &LogOptions::new())
            .await
            .expect_kind(ErrorKind::NotFound, "deployment_logs after delete")?;
    }
    let here = names_in(a, cx.namespace()).await?;
    ensure(
        !here.iter().any(|n| n == "app"),
        "list of the namespace to omit the deleted deployment",
        || format!("{here:?}"),
    )?;
    let everywhere = list_all(a, DeploymentFilter::all()).await?;
    ensure(
        !everywhere.iter().any(|d| d.id == id),
        "list of every namespace to omit the deleted deployment",
        || format!("{id} listed"),
    )
}

async fn recreate_starts_fresh(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("app");
    cx.deploy(
        a,
        "app",
        Fixture::Web,
        vals(r#"{"replicaCount":1,"conformance":{"life":"first"}}"#),
    )
    .await?;
    update(
        a,
        cx,
        &id,
        vals(r#"{"conformance":{"v":2}}"#),
        ValuesMode::Merge,
    )
    .await?;
    a.delete_deployment(&id).await.step("delete_deployment")?;
    let fresh = vals(r#"{"replicaCount":1,"conformance":{"life":"second"}}"#);
    let d = cx
        .create(
            a,
            CreateDeployment::new(id.clone(), cx.package(Fixture::Web)?).values(fresh.clone()),
        )
        .await
        .step("create_deployment of the deleted name")?;
    ensure_eq("create again: revision", &1, &d.revision)?;
    ensure_eq(
        "create again: status",
        &DeploymentStatus::Deployed,
        &d.status,
    )?;
    let g = get(a, &id).await?;
    ensure_eq("get: revision", &1, &g.revision)?;
    ensure_eq("get: values (only the new ones)", &fresh, &g.values)?;
    if a.capabilities().history {
        let h = history(a, &id).await?;
        ensure_eq("history revisions", &vec![1], &numbers(&h))?;
        ensure_eq("values of revision 1", &fresh, &h[0].values)?;
    }
    Ok(())
}

async fn refused_create_changes_nothing(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("app");
    let first = CreateDeployment::new(id.clone(), cx.package(Fixture::Web)?)
        .values(vals(r#"{"replicaCount":1,"conformance":{"v":1}}"#))
        .label("tier", "front")
        .description("conformance: the first install");
    cx.create(a, first).await.step("create_deployment")?;
    update(
        a,
        cx,
        &id,
        vals(r#"{"conformance":{"v":2}}"#),
        ValuesMode::Merge,
    )
    .await?;
    let before = snapshot(a, &id).await?;
    let again = CreateDeployment::new(id.clone(), cx.package(Fixture::WebV2)?)
        .values(vals(r#"{"replicaCount":3,"conformance":{"v":"other"}}"#))
        .label("tier", "back")
        .label("extra", "x")
        .description("conformance: must not apply");
    cx.create(a, again).await.expect_kind(
        ErrorKind::AlreadyExists,
        "create_deployment of an existing name",
    )?;
    unchanged(a, &id, &before, "the refused create").await
}

async fn refused_update_and_rollback(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("app");
    cx.deploy(
        a,
        "app",
        Fixture::Web,
        vals(r#"{"replicaCount":1,"conformance":{"v":1}}"#),
    )
    .await?;
    update(
        a,
        cx,
        &id,
        vals(r#"{"conformance":{"v":2}}"#),
        ValuesMode::Merge,
    )
    .await?;
    let before = snapshot(a, &id).await?;

    let bad = UpdateDeployment::new()
        .values(vals(r#"{"conformance":{"v":"bad"}}"#))
        .description("x".repeat(o2dms_core::validate::MAX_DESCRIPTION_LEN + 1))
        .timeout(cx.operation_timeout());
    a.update_deployment(&id, bad).await.expect_invalid(
        "description",
        "update_deployment with a too long description",
    )?;
    unchanged(a, &id, &before, "the update refused for bad input").await?;

    let missing = missing_package(cx)?;
    let to_missing = UpdateDeployment::new()
        .package(missing)
        .timeout(cx.operation_timeout());
    a.update_deployment(&id, to_missing).await.expect_kind(
        ErrorKind::NotFound,
        "update_deployment to a package that does not exist",
    )?;
    unchanged(a, &id, &before, "the update to a missing package").await?;

    a.rollback_deployment(
        &id,
        RollbackRequest::to_revision(99).timeout(cx.operation_timeout()),
    )
    .await
    .expect_kind(
        ErrorKind::NotFound,
        "rollback_deployment to revision 99, which does not exist",
    )?;
    unchanged(a, &id, &before, "the rollback to a missing revision").await
}

/// A package id like the web fixture's (same store, same shape) whose name no package has.
fn missing_package(cx: &Context) -> Result<PackageId, Failure> {
    let web = cx.package(Fixture::Web)?;
    let prefix = match web.as_str().rsplit_once(':') {
        Some((p, rest)) if rest.contains('@') => format!("{p}:"),
        _ => String::new(),
    };
    PackageId::new(format!("{prefix}{}@9.9.9", cx.unique_name("missing")))
        .map_err(|e| Failure::mismatch("a valid missing package id", e))
}

async fn never_ready_create(a: &dyn DmsAdapter, cx: &Context, name: &str) -> ScenarioResult {
    let req = CreateDeployment::new(cx.id(name), cx.package(Fixture::NeverReady)?)
        .timeout(cx.settings().never_ready_timeout);
    cx.create(a, req).await.expect_kind(
        ErrorKind::Timeout,
        "create_deployment of a never-ready package",
    )?;
    Ok(())
}

/// A message that says something: not empty, and more than the status's name.
fn says_something(message: &str) -> bool {
    let m = message.trim();
    !m.is_empty()
        && !DeploymentStatus::ALL
            .iter()
            .any(|s| m.eq_ignore_ascii_case(s.as_str()))
}

async fn failed_create_says_why(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("stuck");
    never_ready_create(a, cx, "stuck").await?;
    let g = get(a, &id).await?;
    ensure_eq(
        "get: status after the timeout",
        &DeploymentStatus::Failed,
        &g.status,
    )?;
    ensure_eq("get: revision after the timeout", &1, &g.revision)?;
    ensure(
        says_something(&g.description),
        "get: a description of what happened",
        || format!("description {:?}", g.description),
    )?;
    let caps = a.capabilities();
    if caps.status_detail {
        let s = a.deployment_status(&id).await.step("deployment_status")?;
        ensure_eq("status: status", &DeploymentStatus::Failed, &s.status)?;
        ensure(
            says_something(&s.message),
            "status: a message saying what happened (more than the status name)",
            || format!("message {:?}", s.message),
        )?;
    }
    if caps.history {
        let h = history(a, &id).await?;
        let seen: Vec<(u32, DeploymentStatus)> = h.iter().map(|r| (r.revision, r.status)).collect();
        ensure_eq(
            "history (revision, status)",
            &vec![(1, DeploymentStatus::Failed)],
            &seen,
        )?;
    }
    let listed = list_all(a, DeploymentFilter::in_namespace(cx.namespace())).await?;
    ensure_eq(
        "list: status of the failed deployment",
        &Some(DeploymentStatus::Failed),
        &listed.iter().find(|d| d.id == id).map(|d| d.status),
    )
}

/// What the poller saw while the create was waiting.
async fn poll_pending(
    a: &dyn DmsAdapter,
    cx: &Context,
    id: &DeploymentId,
    done: &AtomicBool,
) -> Result<Option<DeploymentStatus>, Failure> {
    let bound = cx.settings().never_ready_timeout + Duration::from_secs(30);
    // poll often enough to see a pending state that lasts the never-ready timeout,
    // also when each read is a round trip (an adapter over the wire)
    let pause = (cx.settings().never_ready_timeout / 20)
        .clamp(Duration::from_millis(5), Duration::from_millis(200));
    let start = Instant::now();
    let caps = a.capabilities();
    while !done.load(Ordering::Acquire) && start.elapsed() < bound {
        let g = match a.get_deployment(id).await {
            Ok(g) => g,
            // Not written yet: the adapter may not have started the install.
            Err(e) if e.kind() == ErrorKind::NotFound => {
                tokio::time::sleep(pause).await;
                continue;
            }
            Err(e) => return Err(Failure::from(e)),
        };
        if !is_pending(g.status) {
            tokio::time::sleep(pause).await;
            continue;
        }
        // Caught pending: every other read must show it too (Failed only once the create
        // has ended).
        let ok = |s: DeploymentStatus| {
            is_pending(s) || (s == DeploymentStatus::Failed && done.load(Ordering::Acquire))
        };
        let listed = list_all(a, DeploymentFilter::in_namespace(cx.namespace())).await?;
        let l = listed.iter().find(|d| d.id == *id).map(|d| d.status);
        ensure(
            l.is_some_and(ok),
            format!("list (no filter) to show {id} while get says {}", g.status),
            || format!("{l:?} in {} listed", listed.len()),
        )?;
        let everywhere = list_all(a, DeploymentFilter::all()).await?;
        ensure(
            everywhere.iter().any(|d| d.id == *id),
            format!("list of every namespace to show {id} while it is pending"),
            || "not listed".into(),
        )?;
        if caps.status_detail {
            let s = a
                .deployment_status(id)
                .await
                .step("deployment_status while pending")?;
            ensure(
                ok(s.status),
                format!("status to say pending like get ({})", g.status),
                || format!("status {}", s.status),
            )?;
        }
        if caps.history {
            let h = a
                .deployment_history(id, HistoryOptions::all())
                .await
                .step("deployment_history while pending")?;
            let last = h.last().map(|r| (r.revision, r.status));
            ensure(
                last.is_some_and(|(n, s)| n == g.revision && ok(s)),
                format!("history's newest revision to be {} and pending", g.revision),
                || short_debug(&h),
            )?;
        }
        return Ok(Some(g.status));
    }
    Ok(None)
}

async fn pending_visible(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("slow");
    let req = CreateDeployment::new(id.clone(), cx.package(Fixture::NeverReady)?)
        .timeout(cx.settings().never_ready_timeout);
    let done = AtomicBool::new(false);
    let create = async {
        let r = cx.create(a, req).await;
        done.store(true, Ordering::Release);
        r
    };
    let (created, seen) = futures::join!(create, poll_pending(a, cx, &id, &done));
    let seen = seen?;
    created.expect_kind(
        ErrorKind::Timeout,
        "create_deployment of a never-ready package",
    )?;
    ensure(
        seen.is_some(),
        "get to show a pending status (deploying) while the create was waiting",
        || "never pending: not found, or already ended, at every poll".into(),
    )
}

async fn check_live(
    a: &dyn DmsAdapter,
    cx: &Context,
    id: &DeploymentId,
    after: &str,
) -> ScenarioResult {
    let g = get(a, id).await?;
    ensure_eq(
        &format!("get: status after {after}"),
        &DeploymentStatus::Deployed,
        &g.status,
    )?;
    let listed = list_all(a, DeploymentFilter::in_namespace(cx.namespace())).await?;
    ensure_eq(
        &format!("list: status after {after}"),
        &Some(DeploymentStatus::Deployed),
        &listed.iter().find(|d| d.id == *id).map(|d| d.status),
    )?;
    if a.capabilities().status_detail {
        let s = a.deployment_status(id).await.step("deployment_status")?;
        ensure_eq(
            &format!("status: status after {after}"),
            &DeploymentStatus::Deployed,
            &s.status,
        )?;
    }
    let h = history(a, id).await?;
    let Some((newest, older)) = h.split_last() else {
        return Err(Failure::mismatch("a history", "an empty history"));
    };
    ensure_eq(
        &format!("history's newest revision after {after}"),
        &(g.revision, DeploymentStatus::Deployed),
        &(newest.revision, newest.status),
    )?;
    ensure(
        older.iter().all(|r| {
            matches!(
                r.status,
                DeploymentStatus::Superseded | DeploymentStatus::Failed
            )
        }),
        format!("every older revision superseded (or failed) after {after}"),
        || {
            format!(
                "{:?}",
                h.iter().map(|r| (r.revision, r.status)).collect::<Vec<_>>()
            )
        },
    )
}

async fn superseded_never_live(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("app");
    cx.deploy(a, "app", Fixture::Web, vals(r#"{"replicaCount":1}"#))
        .await?;
    check_live(a, cx, &id, "create").await?;
    update(
        a,
        cx,
        &id,
        vals(r#"{"conformance":{"v":2}}"#),
        ValuesMode::Merge,
    )
    .await?;
    check_live(a, cx, &id, "update").await?;
    a.scale_deployment(&id, ScaleRequest::to(2).timeout(cx.operation_timeout()))
        .await
        .step("scale_deployment to 2")?;
    check_live(a, cx, &id, "scale").await?;
    a.rollback_deployment(
        &id,
        RollbackRequest::to_revision(1).timeout(cx.operation_timeout()),
    )
    .await
    .step("rollback_deployment to 1")?;
    check_live(a, cx, &id, "rollback").await
}

async fn same_name_other_namespace(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let other = cx.other_namespace(1)?;
    let (here, there) = (cx.id("app"), cx.id_in(&other, "app"));
    let web = cx.package(Fixture::Web)?;
    cx.create(
        a,
        CreateDeployment::new(here.clone(), web.clone()).values(vals(r#"{"replicaCount":1}"#)),
    )
    .await
    .step("create_deployment in the first namespace")?;
    update(
        a,
        cx,
        &here,
        vals(r#"{"conformance":{"v":2}}"#),
        ValuesMode::Merge,
    )
    .await?;
    cx.create(
        a,
        CreateDeployment::new(there.clone(), web).values(vals(r#"{"replicaCount":2}"#)),
    )
    .await
    .step("create_deployment of the same name in a second namespace")?;
    ensure_eq(
        "get: revision in the first namespace",
        &2,
        &get(a, &here).await?.revision,
    )?;
    ensure_eq(
        "get: revision in the second namespace",
        &1,
        &get(a, &there).await?.revision,
    )?;
    let caps = a.capabilities();
    if caps.history {
        ensure_eq(
            "history revisions in the first namespace",
            &vec![1, 2],
            &numbers(&history(a, &here).await?),
        )?;
        ensure_eq(
            "history revisions in the second namespace",
            &vec![1],
            &numbers(&history(a, &there).await?),
        )?;
    }
    if caps.status_detail {
        let desired = |s: StatusDetail| s.replicas.desired;
        let h = a.deployment_status(&here).await.step("deployment_status")?;
        let t = a
            .deployment_status(&there)
            .await
            .step("deployment_status")?;
        ensure_eq(
            "desired replicas (first namespace, second namespace)",
            &(1, 2),
            &(desired(h), desired(t)),
        )?;
    }
    if caps.logs {
        let pods = |l: o2dms_core::Logs| -> Vec<String> {
            let mut p: Vec<String> = l.lines.into_iter().map(|l| l.pod).collect();
            p.dedup();
            p
        };
        let h = pods(
            a.deployment_logs(&here, &LogOptions::new())
                .await
                .step("deployment_logs")?,
        );
        let t = pods(
            a.deployment_logs(&there, &LogOptions::new())
                .await
                .step("deployment_logs")?,
        );
        // Pod names may repeat across namespaces; the counts follow each one's replicas.
        ensure(
            h.len() <= 1 && t.len() <= 2,
            "logs of each from its own pods only (at most 1 and 2 pods)",
            || format!("pods {h:?} and {t:?}"),
        )?;
    }
    for (ns, want) in [(cx.namespace(), 2), (other.as_str(), 1)] {
        let listed = list_all(a, DeploymentFilter::in_namespace(ns)).await?;
        let seen: Vec<(String, u32)> = listed
            .iter()
            .map(|d| (d.id.name.clone(), d.revision))
            .collect();
        ensure_eq(
            &format!("(name, revision) listed in {ns}"),
            &vec![("app".to_owned(), want)],
            &seen,
        )?;
    }
    Ok(())
}

async fn create_from_missing_package(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("app");
    let missing = missing_package(cx)?;
    let req = CreateDeployment::new(id.clone(), missing.clone()).values(vals("{}"));
    cx.create(a, req.clone()).await.expect_kind(
        ErrorKind::NotFound,
        &format!("create_deployment from package {missing}, which does not exist"),
    )?;
    a.get_deployment(&id).await.expect_kind(
        ErrorKind::NotFound,
        "get_deployment after the refused create",
    )?;
    let names = names_in(a, cx.namespace()).await?;
    ensure(
        names.is_empty(),
        "nothing listed after the refused create",
        || format!("{names:?}"),
    )?;
    cx.create(a, req).await.expect_kind(
        ErrorKind::NotFound,
        "a second create_deployment from the missing package",
    )?;
    Ok(())
}
