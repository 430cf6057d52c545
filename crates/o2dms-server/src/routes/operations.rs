//! Operation resources: the list (filtered) and one.

use axum::extract::State;
use axum::response::Response;
use http::StatusCode;
use o2dms_api::wire::{ListOperationsQuery, OperationOccurrence, Page};
use o2dms_api::Problem;

use crate::context::{json_response, AppState, Ctx};
use crate::problem_response::ApiError;

/// `GET operations`: `namespace`, `name`, `packageId`, `operations`, `states`,
/// `limit`, `continue`.
pub(crate) async fn list(State(s): State<AppState>, ctx: Ctx) -> Result<Response, ApiError> {
    let dm = ctx.dm()?;
    let q = ctx.query(ListOperationsQuery::from_query)?;
    let page = s.ops.list(&dm.name, &q).map_err(|e| ctx.fail(&e))?;
    Ok(json_response(
        StatusCode::OK,
        &Page::<OperationOccurrence>::from(page),
    ))
}

/// `GET operations/{operationId}`.
pub(crate) async fn get(State(s): State<AppState>, ctx: Ctx) -> Result<Response, ApiError> {
    let (dm, id) = (ctx.dm()?, ctx.operation()?);
    ctx.no_query()?;
    let occ = s
        .ops
        .get(&dm.name, &id)
        .ok_or_else(|| ApiError::at(Problem::operation_not_found(&id), &ctx.path))?;
    Ok(json_response(StatusCode::OK, &occ))
}
