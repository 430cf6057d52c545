//! Deployments: list, get, the writes (operations), status, history, logs.

use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use futures::FutureExt;
use http::StatusCode;
use o2dms_api::wire::{
    self, CreateDeploymentRequest, HistoryQuery, ListDeploymentsQuery, LogsQuery, Revisions,
    RollbackDeploymentRequest, ScaleDeploymentRequest, UpdateDeploymentRequest,
};
use o2dms_core::{
    CreateDeployment, DeploymentFilter, LogOptions, Operation, RollbackRequest, ScaleRequest,
    UpdateDeployment,
};

use crate::context::{json_response, AppState, Ctx};
use crate::operations::Outcome;
use crate::problem_response::ApiError;
use crate::routes::write::{on_deployment, submit};

/// `GET deployments`: `namespace` (or all), `statuses`, `labels`, `packageName`,
/// `limit`, `continue`.
pub(crate) async fn list(ctx: Ctx) -> Result<Response, ApiError> {
    let dm = ctx.dm()?;
    let filter = DeploymentFilter::from(ctx.query(ListDeploymentsQuery::from_query)?);
    let page = dm
        .adapter
        .list_deployments(&filter)
        .await
        .map_err(|e| ctx.fail(&e))?;
    Ok(json_response(
        StatusCode::OK,
        &wire::Page::<wire::Deployment>::from(page),
    ))
}

/// `GET deployments/{namespace}/{name}`.
pub(crate) async fn get(ctx: Ctx) -> Result<Response, ApiError> {
    let (dm, id) = (ctx.dm()?, ctx.deployment()?);
    ctx.no_query()?;
    let d = dm
        .adapter
        .get_deployment(&id)
        .await
        .map_err(|e| ctx.fail(&e))?;
    Ok(json_response(StatusCode::OK, &wire::Deployment::from(d)))
}

/// `POST deployments`: create, an operation.
pub(crate) async fn create(
    State(s): State<AppState>,
    ctx: Ctx,
    body: Body,
) -> Result<Response, ApiError> {
    let dm = ctx.dm()?;
    ctx.no_query()?;
    let req: CreateDeploymentRequest = ctx.json(body, &s.limits).await?;
    let req = CreateDeployment::try_from(req).map_err(|e| ctx.fail(&e))?;
    let target = on_deployment(&req.id);
    let adapter = dm.adapter.clone();
    let work = async move {
        adapter
            .create_deployment(req)
            .await
            .map(Outcome::Deployment)
    };
    Ok(submit(
        &s,
        &ctx,
        &dm,
        Operation::CreateDeployment,
        target,
        work.boxed(),
    )
    .await)
}

/// `PATCH deployments/{namespace}/{name}`: update, an operation.
pub(crate) async fn update(
    State(s): State<AppState>,
    ctx: Ctx,
    body: Body,
) -> Result<Response, ApiError> {
    let (dm, id) = (ctx.dm()?, ctx.deployment()?);
    ctx.no_query()?;
    let req: UpdateDeploymentRequest = ctx.json(body, &s.limits).await?;
    let req = UpdateDeployment::try_from(req).map_err(|e| ctx.fail(&e))?;
    let target = on_deployment(&id);
    let adapter = dm.adapter.clone();
    let work = async move {
        adapter
            .update_deployment(&id, req)
            .await
            .map(Outcome::Deployment)
    };
    Ok(submit(
        &s,
        &ctx,
        &dm,
        Operation::UpdateDeployment,
        target,
        work.boxed(),
    )
    .await)
}

/// `DELETE deployments/{namespace}/{name}`: delete, an operation.
pub(crate) async fn delete(State(s): State<AppState>, ctx: Ctx) -> Result<Response, ApiError> {
    let (dm, id) = (ctx.dm()?, ctx.deployment()?);
    ctx.no_query()?;
    let target = on_deployment(&id);
    let adapter = dm.adapter.clone();
    let work = async move {
        adapter
            .delete_deployment(&id)
            .await
            .map(|()| Outcome::Deleted)
    };
    Ok(submit(
        &s,
        &ctx,
        &dm,
        Operation::DeleteDeployment,
        target,
        work.boxed(),
    )
    .await)
}

/// `POST .../scale`: scale, an operation.
pub(crate) async fn scale(
    State(s): State<AppState>,
    ctx: Ctx,
    body: Body,
) -> Result<Response, ApiError> {
    let (dm, id) = (ctx.dm()?, ctx.deployment()?);
    ctx.no_query()?;
    let req: ScaleDeploymentRequest = ctx.json(body, &s.limits).await?;
    let req = ScaleRequest::try_from(req).map_err(|e| ctx.fail(&e))?;
    let target = on_deployment(&id);
    let adapter = dm.adapter.clone();
    let work = async move {
        adapter
            .scale_deployment(&id, req)
            .await
            .map(Outcome::Deployment)
    };
    Ok(submit(
        &s,
        &ctx,
        &dm,
        Operation::ScaleDeployment,
        target,
        work.boxed(),
    )
    .await)
}

/// `POST .../rollback`: rollback, an operation; the body may be left out (the
/// previous revision).
pub(crate) async fn rollback(
    State(s): State<AppState>,
    ctx: Ctx,
    body: Body,
) -> Result<Response, ApiError> {
    let (dm, id) = (ctx.dm()?, ctx.deployment()?);
    ctx.no_query()?;
    let req: RollbackDeploymentRequest = ctx.optional_json(body, &s.limits).await?;
    let req = RollbackRequest::try_from(req).map_err(|e| ctx.fail(&e))?;
    let target = on_deployment(&id);
    let adapter = dm.adapter.clone();
    let work = async move {
        adapter
            .rollback_deployment(&id, req)
            .await
            .map(Outcome::Deployment)
    };
    Ok(submit(
        &s,
        &ctx,
        &dm,
        Operation::RollbackDeployment,
        target,
        work.boxed(),
    )
    .await)
}

/// `GET .../status`.
pub(crate) async fn status(ctx: Ctx) -> Result<Response, ApiError> {
    let (dm, id) = (ctx.dm()?, ctx.deployment()?);
    ctx.no_query()?;
    let s = dm
        .adapter
        .deployment_status(&id)
        .await
        .map_err(|e| ctx.fail(&e))?;
    Ok(json_response(StatusCode::OK, &wire::StatusDetail::from(s)))
}

/// `GET .../history`: `limit`.
pub(crate) async fn history(ctx: Ctx) -> Result<Response, ApiError> {
    let (dm, id) = (ctx.dm()?, ctx.deployment()?);
    let q = ctx.query(HistoryQuery::from_query)?;
    let revs = dm
        .adapter
        .deployment_history(&id, q.into())
        .await
        .map_err(|e| ctx.fail(&e))?;
    Ok(json_response(StatusCode::OK, &Revisions::from(revs)))
}

/// `GET .../logs`: `container`, `tailLines`, `sinceSeconds`, `limitBytes`.
pub(crate) async fn logs(ctx: Ctx) -> Result<Response, ApiError> {
    let (dm, id) = (ctx.dm()?, ctx.deployment()?);
    let options = LogOptions::from(ctx.query(LogsQuery::from_query)?);
    let logs = dm
        .adapter
        .deployment_logs(&id, &options)
        .await
        .map_err(|e| ctx.fail(&e))?;
    Ok(json_response(StatusCode::OK, &wire::Logs::from(logs)))
}
