//! Operation events: Started, then Succeeded or Failed, for every mutating operation.

use std::time::{Duration, Instant};

use o2dms_core::validate::MAX_REPLICAS;
use o2dms_core::{
    DmsAdapter, ErrorKind, EventPhase, Operation, OperationEvent, PackageUpload, RollbackRequest,
    ScaleRequest, UpdateDeployment, ValuesMode,
};
use tokio::sync::broadcast::{self, error::TryRecvError};

use super::timeouts::create_never_ready;
use super::{caps, update, vals};
use crate::body;
use crate::check::{ensure, Failure, ResultExt};
use crate::context::Context;
use crate::fixtures::{tiny_chart, Fixture};
use crate::scenario::{Flag, Profile, Scenario, ScenarioResult};

pub(super) fn scenarios() -> Vec<Scenario> {
    let ev = |id, description, body, requires, covers| {
        Scenario::new(id, description, body)
            .requires(requires)
            .profile(Profile::Extended)
            .flags(&[Flag::NeedsEvents])
            .covers(covers)
    };
    vec![
        ev(
            "events.create",
            "create emits Started then Succeeded at revision 1, with one operation id, for the deployment",
            body!(create),
            caps::LIFECYCLE,
            &["events.started_then_end", "events.revision"],
        ),
        ev(
            "events.update",
            "update emits Started then Succeeded at revision 2",
            body!(update_events),
            caps::LIFECYCLE,
            &["events.started_then_end", "events.revision"],
        ),
        ev(
            "events.scale",
            "scale emits Started then Succeeded at revision 2",
            body!(scale),
            caps::SCALING,
            &["events.started_then_end", "events.revision"],
        ),
        ev(
            "events.rollback",
            "rollback emits Started then Succeeded at revision 3",
            body!(rollback),
            caps::ROLLBACK,
            &["events.started_then_end", "events.revision"],
        ),
        ev(
            "events.delete",
            "delete emits Started then Succeeded",
            body!(delete),
            caps::LIFECYCLE,
            &["events.started_then_end"],
        ),
        ev(
            "events.failed_operation",
            "a failing operation (update of a missing deployment) emits Started then Failed with kind NotFound",
            body!(failed),
            caps::LIFECYCLE,
            &["events.started_then_end", "events.failure_kind"],
        ),
        ev(
            "events.packages",
            "upload and delete of a package each emit Started then Succeeded",
            body!(packages),
            caps::UPLOAD,
            &["events.started_then_end"],
        ),
        ev(
            "events.one_end_per_operation",
            "create, update, scale, rollback and delete of one deployment each emit Started then exactly one Succeeded sharing its operation id (no second end), carrying the revision the call returned",
            body!(one_end_per_operation),
            caps::ROLLBACK_SCALING,
            &["events.started_then_end", "events.revision"],
        ),
        ev(
            "events.timed_out_create_fails_with_timeout",
            "a create that times out after it started (never-ready package) emits Started then exactly one Failed with kind Timeout",
            body!(timed_out_create),
            caps::TIMEOUTS,
            &["events.failure_kind", "events.started_then_end"],
        )
        .flags(&[Flag::NeedsEvents, Flag::Slow, Flag::Destructive]),
        ev(
            "events.refused_write_fails_with_invalid_argument",
            "a write refused for bad input (scale of an existing deployment past the replica bound) emits Started then exactly one Failed with kind InvalidArgument",
            body!(refused_write),
            caps::SCALING,
            &["events.failure_kind", "events.started_then_end"],
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

/// How long to keep reading after the last end expected, to see a second end.
const GRACE: Duration = Duration::from_millis(200);

/// The events on `target`: read until `ends` end events arrived (or the event wait
/// passed), then for [`GRACE`] more.
async fn events_on(
    rx: &mut broadcast::Receiver<OperationEvent>,
    cx: &Context,
    target: &str,
    ends: usize,
) -> Result<Vec<OperationEvent>, Failure> {
    let deadline = Instant::now() + cx.settings().event_wait;
    let mut grace: Option<Instant> = None;
    let mut out: Vec<OperationEvent> = Vec::new();
    loop {
        match rx.try_recv() {
            Ok(e) if e.target == target => out.push(e),
            Ok(_) => {}
            Err(TryRecvError::Empty) => {
                let now = Instant::now();
                let seen = out
                    .iter()
                    .filter(|e| e.phase != EventPhase::Started)
                    .count();
                if seen >= ends && grace.is_none() {
                    grace = Some(now + GRACE);
                }
                match grace {
                    Some(g) if now > g => return Ok(out),
                    None if now > deadline => return Ok(out),
                    _ => tokio::time::sleep(Duration::from_millis(10)).await,
                }
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

/// One operation's events: its id, its kind and its phases in the order they came.
type OperationEvents = (u64, Operation, Vec<EventPhase>);

/// `events` grouped by operation id, in the order each operation's first event came.
fn by_operation(events: &[OperationEvent]) -> Vec<OperationEvents> {
    let mut out: Vec<OperationEvents> = Vec::new();
    for e in events {
        match out.iter_mut().find(|(id, _, _)| *id == e.operation_id) {
            Some((_, _, phases)) => phases.push(e.phase.clone()),
            None => out.push((e.operation_id, e.operation, vec![e.phase.clone()])),
        }
    }
    out
}

/// The end of one operation: its events must be exactly Started, then one end.
fn one_end(op: &OperationEvents) -> Result<EventPhase, Failure> {
    let (id, operation, phases) = op;
    match phases.as_slice() {
        [EventPhase::Started, end] if *end != EventPhase::Started => Ok(end.clone()),
        _ => Err(Failure::mismatch(
            format!("{operation} #{id}: Started, then exactly one Succeeded or Failed"),
            format!("{phases:?}"),
        )),
    }
}

/// The end of the one `operation` in `events`.
fn single(operation: Operation, events: &[OperationEvent]) -> Result<EventPhase, Failure> {
    let ops: Vec<OperationEvents> = by_operation(events)
        .into_iter()
        .filter(|(_, o, _)| *o == operation)
        .collect();
    match ops.as_slice() {
        [op] => one_end(op),
        _ => Err(Failure::mismatch(
            format!("the events of one {operation}, sharing one operation id"),
            if ops.is_empty() {
                "no event".to_owned()
            } else {
                format!("{ops:?}")
            },
        )),
    }
}

async fn one_end_per_operation(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("app");
    let mut rx = cx.subscribe()?;
    let mut made: Vec<(Operation, Option<u32>)> = Vec::new();
    let d = cx
        .deploy(a, "app", Fixture::Web, vals(r#"{"replicaCount":1}"#))
        .await?;
    made.push((Operation::CreateDeployment, Some(d.revision)));
    let d = update(
        a,
        cx,
        &id,
        vals(r#"{"conformance":{"v":2}}"#),
        ValuesMode::Merge,
    )
    .await?;
    made.push((Operation::UpdateDeployment, Some(d.revision)));
    let d = a
        .scale_deployment(&id, ScaleRequest::to(2).timeout(cx.operation_timeout()))
        .await
        .step("scale_deployment to 2")?;
    made.push((Operation::ScaleDeployment, Some(d.revision)));
    let d = a
        .rollback_deployment(
            &id,
            RollbackRequest::to_revision(1).timeout(cx.operation_timeout()),
        )
        .await
        .step("rollback_deployment to 1")?;
    made.push((Operation::RollbackDeployment, Some(d.revision)));
    a.delete_deployment(&id).await.step("delete_deployment")?;
    made.push((Operation::DeleteDeployment, None));

    let events = events_on(&mut rx, cx, &id.to_string(), made.len()).await?;
    let ops = by_operation(&events);
    let want: Vec<Operation> = made.iter().map(|(o, _)| *o).collect();
    let seen: Vec<String> = ops
        .iter()
        .map(|(i, o, p)| format!("{o} #{i} {p:?}"))
        .collect();
    ensure(
        ops.iter().map(|(_, o, _)| *o).collect::<Vec<_>>() == want,
        format!("one operation id for each of {want:?}, in that order"),
        || seen.join("; "),
    )?;
    for ((operation, revision), op) in made.iter().zip(&ops) {
        let end = one_end(op)?;
        match revision {
            Some(r) => succeeded(end, Some(*r), operation.as_str())?,
            None => ensure(
                matches!(end, EventPhase::Succeeded { .. }),
                format!("{operation}: Succeeded"),
                || format!("{end:?}"),
            )?,
        }
    }
    Ok(())
}

async fn timed_out_create(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("stuck");
    let mut rx = cx.subscribe()?;
    create_never_ready(a, cx, "stuck").await?;
    let events = events_on(&mut rx, cx, &id.to_string(), 1).await?;
    let end = single(Operation::CreateDeployment, &events)?;
    ensure(
        matches!(
            end,
            EventPhase::Failed {
                kind: ErrorKind::Timeout,
                ..
            }
        ),
        "the timed-out create to end with Failed, kind Timeout",
        || format!("{end:?}"),
    )
}

async fn refused_write(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("app");
    cx.deploy(a, "app", Fixture::Web, vals(r#"{"replicaCount":1}"#))
        .await?;
    let mut rx = cx.subscribe()?;
    a.scale_deployment(&id, ScaleRequest::to(MAX_REPLICAS + 1))
        .await
        .expect_invalid("replicas", "scale_deployment past the replica bound")?;
    let events = events_on(&mut rx, cx, &id.to_string(), 1).await?;
    let end = single(Operation::ScaleDeployment, &events)?;
    ensure(
        matches!(
            end,
            EventPhase::Failed {
                kind: ErrorKind::InvalidArgument,
                ..
            }
        ),
        "the refused scale to end with Failed, kind InvalidArgument",
        || format!("{end:?}"),
    )
}
