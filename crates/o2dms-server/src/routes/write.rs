//! Writes as operations: accept (202 + `Location`), run in a spawned task, and with
//! `Prefer: wait=N` answer the final result as the in-process call would.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use futures::future::BoxFuture;
use futures::FutureExt;
use http::{header, HeaderName, HeaderValue, StatusCode};
use o2dms_api::wire::{OperationOccurrence, OperationState, OperationTarget};
use o2dms_api::{paths, prefer, Problem};
use o2dms_core::{DeploymentId, Error, Operation, PackageId};

use crate::context::{json_response, AppState, Ctx, Dm};
use crate::operations::{Operations, Outcome};
use crate::problem_response;

/// The adapter call of a write.
pub(crate) type Work = BoxFuture<'static, o2dms_core::Result<Outcome>>;

/// A write on one deployment.
pub(crate) fn on_deployment(id: &DeploymentId) -> (OperationTarget, Option<String>) {
    (
        OperationTarget::Deployment {
            namespace: id.namespace.clone(),
            name: id.name.clone(),
        },
        Some(format!("deployment/{}/{}", id.namespace, id.name)),
    )
}

/// A write on one package.
pub(crate) fn on_package(id: &PackageId) -> (OperationTarget, Option<String>) {
    (
        OperationTarget::Package {
            id: Some(id.to_string()),
        },
        Some(format!("package/{id}")),
    )
}

/// Accepts a write: records the operation, spawns `work`, and answers 202 with the
/// operation, or its final result when the request waits and it ends in time.
pub(crate) async fn submit(
    state: &AppState,
    ctx: &Ctx,
    dm: &Arc<Dm>,
    operation: Operation,
    (target, turn_key): (OperationTarget, Option<String>),
    work: Work,
) -> Response {
    let occ = state.ops.start(&dm.name, operation, target);
    let id = occ.id.clone();
    // the operation as accepted, for the 202 if the registry no longer keeps it (it
    // ended and was evicted before the answer was written)
    let initial = occ.clone();
    let ops = state.ops.clone();
    let span = tracing::info_span!("operation", id = %id, dm = %dm.name, operation = %operation);
    tokio::spawn(tracing::Instrument::instrument(
        async move {
            let _turn = match turn_key {
                Some(key) => Some(ops.turn(format!("{}/{key}", occ.deployment_manager)).await),
                None => None,
            };
            ops.processing(&occ.id);
            let result = match AssertUnwindSafe(work).catch_unwind().await {
                Ok(r) => r,
                Err(_) => {
                    tracing::error!("the adapter panicked");
                    Err(Error::backend(format!(
                        "the adapter panicked during `{operation}`"
                    )))
                }
            };
            match &result {
                Ok(_) => tracing::info!("operation completed"),
                Err(e) => tracing::info!(kind = %e.kind(), "operation failed"),
            }
            ops.finish(&occ.id, result);
        },
        span,
    ));

    let now = |ops: &Operations| ops.get(&dm.name, &id).unwrap_or_else(|| initial.clone());
    let Some(wait) = ctx.wait(&state.limits) else {
        return accepted(dm, &now(&state.ops), None);
    };
    let mut stopping = state.stopping.clone();
    let ended = tokio::select! {
        ended = state.ops.wait_final(&id, wait) => ended,
        _ = stopping.wait_for(|s| *s) => None,
    };
    let applied = prefer::wait_applied(wait);
    match ended {
        Some(occ) => with_applied(final_answer(&occ), &applied),
        None => accepted(dm, &now(&state.ops), Some(&applied)),
    }
}

/// 202 with the operation and its `Location`.
fn accepted(dm: &Dm, occ: &OperationOccurrence, applied: Option<&str>) -> Response {
    let mut res = json_response(StatusCode::ACCEPTED, occ);
    if let Ok(v) = HeaderValue::from_str(&paths::operation(&dm.name, &occ.id)) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    match applied {
        Some(a) => with_applied(res, a),
        None => res,
    }
}

fn with_applied(mut res: Response, applied: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(applied) {
        res.headers_mut()
            .insert(HeaderName::from_static("preference-applied"), v);
    }
    res
}

/// The answer the in-process call would give: 201 (create, upload) with the resource
/// and its `Location`, 200 with the deployment, 204 for a delete, or the problem.
fn final_answer(occ: &OperationOccurrence) -> Response {
    let op_path = paths::operation(&occ.deployment_manager, &occ.id);
    if occ.state != OperationState::Completed {
        let problem = occ.error.clone().unwrap_or_else(|| {
            let mut p = Problem::internal("the operation ended without an error");
            p.instance = Some(op_path.clone());
            p
        });
        return problem_response::response(&problem);
    }
    match (&occ.operation, &occ.result, &occ.package) {
        (Operation::DeleteDeployment | Operation::DeletePackage, ..) => {
            StatusCode::NO_CONTENT.into_response()
        }
        (Operation::CreateDeployment, Some(d), _) => {
            let mut res = json_response(StatusCode::CREATED, d);
            if let Ok(id) = DeploymentId::new(d.namespace.clone(), d.name.clone()) {
                location(&mut res, &paths::deployment(&occ.deployment_manager, &id));
            }
            res
        }
        (Operation::UploadPackage, _, Some(p)) => {
            let mut res = json_response(StatusCode::CREATED, p);
            if let Ok(id) = PackageId::new(p.id.clone()) {
                location(&mut res, &paths::package(&occ.deployment_manager, &id));
            }
            res
        }
        (_, Some(d), _) => json_response(StatusCode::OK, d),
        _ => json_response(StatusCode::OK, occ),
    }
}

fn location(res: &mut Response, path: &str) {
    if let Ok(v) = HeaderValue::from_str(path) {
        res.headers_mut().insert(header::LOCATION, v);
    }
}
