//! Operation events: Started, then Succeeded or Failed, for every mutating operation.

use std::time::Instant;

use o2dms_core::{
    DmsAdapter, ErrorKind, EventPhase, Operation, OperationEvent, PackageUpload, RollbackRequest,
    ScaleRequest, UpdateDeployment, ValuesMode,
};
use tokio::sync::broadcast::{self, error::TryRecvError};

use super::{caps, update, vals};
use crate::body;
use crate::check::{ensure, Failure, ResultExt};
use crate::context::Context;
use crate::fixtures::{tiny_chart, Fixture};
use crate::scenario::{Flag, Profile, Scenario, ScenarioResult};

pub(super) fn scenarios() -> Vec<Scenario> {
    let ev = |id, description, body, requires| {
        Scenario::new(id, description, body)
            .requires(requires)
            .profile(Profile::Extended)
            .flags(&[Flag::NeedsEvents])
    };
    vec![
        ev(
            "events.create",
            "create emits Started then Succeeded at revision 1, with one operation id, for the deployment",
            body!(create),
            caps::LIFECYCLE,
        ),
        ev(
            "events.update",
            "update emits Started then Succeeded at revision 2",
            body!(update_events),
            caps::LIFECYCLE,
        ),
        ev(
            "events.scale",
            "scale emits Started then Succeeded at revision 2",
            body!(scale),
            caps::SCALING,
        ),
        ev(
            "events.rollback",
            "rollback emits Started then Succeeded at revision 3",
            body!(rollback),
            caps::ROLLBACK,
        ),
        ev(
            "events.delete",
            "delete emits Started then Succeeded",
            body!(delete),
            caps::LIFECYCLE,
        ),
        ev(
            "events.failed_operation",
            "a failing operation (update of a missing deployment) emits Started then Failed with kind NotFound",
            body!(failed),
            caps::LIFECYCLE,
        ),
        ev(
            "events.packages",
            "upload and delete of a package each emit Started then Succeeded",
            body!(packages),
            caps::UPLOAD,
        ),
    ]
}

/// Waits for Started and the end of `operation` on `target`; returns the end phase.
async fn expect_op(
    rx: &mut broadcast::Receiver<OperationEvent>,
    cx: &Context,
    operation: Operation,
    target: &str,
) -> Result<EventPhase, Failure> {
    expect_op_on(rx, cx, operation, &[target]).await
}

/// As [`expect_op`], accepting any of `targets` (an upload may be named by chart name or id).
async fn expect_op_on(
    rx: &mut broadcast::Receiver<OperationEvent>,
    cx: &Context,
    operation: Operation,
    targets: &[&str],
) -> Result<EventPhase, Failure> {
    let target = targets.join(" or ");
    let deadline = Instant::now() + cx.settings().event_wait;
    let mut started: Option<u64> = None;
    let mut seen = Vec::new();
    loop {
        match rx.try_recv() {
            Ok(e) => {
                if e.operation != operation || !targets.contains(&e.target.as_str()) {
                    continue;
                }
                seen.push(format!("{:?}#{}", e.phase, e.operation_id));
                match (&e.phase, started) {
                    (EventPhase::Started, None) => started = Some(e.operation_id),
                    (EventPhase::Started, Some(_)) => {
                        return Err(Failure::mismatch(
                            format!("one Started for {operation} on {target}"),
                            seen.join(", "),
                        ))
                    }
                    (_, None) => {
                        return Err(Failure::mismatch(
                            format!("Started before the end of {operation} on {target}"),
                            seen.join(", "),
                        ))
                    }
                    (phase, Some(op_id)) => {
                        ensure(
                            op_id == e.operation_id,
                            "the end to share Started's operation id",
                            || seen.join(", "),
                        )?;
                        return Ok(phase.clone());
                    }
                }
            }
            Err(TryRecvError::Empty) => {
                if Instant::now() > deadline {
                    return Err(Failure::mismatch(
                        format!(
                            "Started then Succeeded/Failed for {operation} on {target} within {:?}",
                            cx.settings().event_wait
                        ),
                        if seen.is_empty() {
                            "no event".to_owned()
                        } else {
                            seen.join(", ")
                        },
                    ));
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            Err(TryRecvError::Lagged(n)) => {
                return Err(Failure::mismatch(
                    "no lost events",
                    format!("the subscriber lagged by {n}"),
                ))
            }
            Err(TryRecvError::Closed) => {
                return Err(Failure::mismatch(
                    "an open event source",
                    "the channel closed",
                ))
            }
        }
    }
}

fn succeeded(phase: EventPhase, revision: Option<u32>, what: &str) -> ScenarioResult {
    let want = EventPhase::Succeeded { revision };
    ensure(phase == want, format!("{what}: {want:?}"), || {
        format!("{phase:?}")
    })
}

async fn create(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let mut rx = cx.subscribe()?;
    cx.deploy(a, "app", Fixture::Web, vals("{}")).await?;
    let end = expect_op(
        &mut rx,
        cx,
        Operation::CreateDeployment,
        &cx.id("app").to_string(),
    )
    .await?;
    succeeded(end, Some(1), "create")
}

async fn update_events(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    cx.deploy(a, "app", Fixture::Web, vals("{}")).await?;
    let mut rx = cx.subscribe()?;
    update(
        a,
        cx,
        &cx.id("app"),
        vals(r#"{"conformance":{"v":2}}"#),
        ValuesMode::Merge,
    )
    .await?;
    let end = expect_op(
        &mut rx,
        cx,
        Operation::UpdateDeployment,
        &cx.id("app").to_string(),
    )
    .await?;
    succeeded(end, Some(2), "update")
}

async fn scale(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    cx.deploy(a, "app", Fixture::Web, vals(r#"{"replicaCount":1}"#))
        .await?;
    let mut rx = cx.subscribe()?;
    a.scale_deployment(&cx.id("app"), ScaleRequest::to(2))
        .await
        .step("scale_deployment")?;
    let end = expect_op(
        &mut rx,
        cx,
        Operation::ScaleDeployment,
        &cx.id("app").to_string(),
    )
    .await?;
    succeeded(end, Some(2), "scale")
}

async fn rollback(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    cx.deploy(a, "app", Fixture::Web, vals("{}")).await?;
    update(
        a,
        cx,
        &cx.id("app"),
        vals(r#"{"conformance":{"v":2}}"#),
        ValuesMode::Merge,
    )
    .await?;
    let mut rx = cx.subscribe()?;
    a.rollback_deployment(
        &cx.id("app"),
        RollbackRequest::to_revision(1).timeout(cx.operation_timeout()),
    )
    .await
    .step("rollback_deployment")?;
    let end = expect_op(
        &mut rx,
        cx,
        Operation::RollbackDeployment,
        &cx.id("app").to_string(),
    )
    .await?;
    succeeded(end, Some(3), "rollback")
}

async fn delete(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    cx.deploy(a, "app", Fixture::Web, vals("{}")).await?;
    let mut rx = cx.subscribe()?;
    a.delete_deployment(&cx.id("app"))
        .await
        .step("delete_deployment")?;
    let end = expect_op(
        &mut rx,
        cx,
        Operation::DeleteDeployment,
        &cx.id("app").to_string(),
    )
    .await?;
    ensure(
        matches!(end, EventPhase::Succeeded { .. }),
        "delete: Succeeded",
        || format!("{end:?}"),
    )
}

async fn failed(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let mut rx = cx.subscribe()?;
    let id = cx.id("missing");
    cx.track_deployment(&id);
    let req = UpdateDeployment::new().values(vals(r#"{"conformance":{"v":1}}"#));
    a.update_deployment(&id, req).await.expect_kind(
        ErrorKind::NotFound,
        "update_deployment of a missing deployment",
    )?;
    let end = expect_op(&mut rx, cx, Operation::UpdateDeployment, &id.to_string()).await?;
    ensure(
        matches!(
            end,
            EventPhase::Failed {
                kind: ErrorKind::NotFound,
                ..
            }
        ),
        "Failed with kind NotFound",
        || format!("{end:?}"),
    )
}

async fn packages(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let name = cx.unique_name("pkg");
    let mut rx = cx.subscribe()?;
    let mut up = PackageUpload::new(tiny_chart(&name, "0.1.0"));
    up.expected_name = Some(name.clone());
    let p = cx.upload(a, up).await.step("upload_package")?;
    let end = expect_op_on(
        &mut rx,
        cx,
        Operation::UploadPackage,
        &[&name, p.id.as_str()],
    )
    .await?;
    ensure(
        matches!(end, EventPhase::Succeeded { .. }),
        "upload: Succeeded",
        || format!("{end:?}"),
    )?;
    a.delete_package(&p.id, Default::default())
        .await
        .step("delete_package")?;
    let end = expect_op(&mut rx, cx, Operation::DeletePackage, p.id.as_str()).await?;
    ensure(
        matches!(end, EventPhase::Succeeded { .. }),
        "delete: Succeeded",
        || format!("{end:?}"),
    )
}
