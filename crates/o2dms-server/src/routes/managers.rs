//! The deployment managers: the list, one, and each one's info, capabilities, health.

use axum::extract::State;
use axum::response::Response;
use axum::Extension;
use http::StatusCode;
use o2dms_api::wire::{
    AdapterInfo, Capabilities, DeploymentManager, DeploymentManagerList, Health,
};

use crate::auth::Principal;
use crate::context::{json_response, AppState, Ctx, Dm};
use crate::problem_response::ApiError;

fn describe(dm: &Dm) -> DeploymentManager {
    DeploymentManager {
        name: dm.name.clone(),
        dm_type: dm.dm_type.clone(),
        info: AdapterInfo::from(dm.adapter.info()),
    }
}

/// `GET deploymentManagers`: for a principal limited to some deployment managers, only
/// those.
pub(crate) async fn list(
    State(s): State<AppState>,
    principal: Option<Extension<Principal>>,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    ctx.no_query()?;
    let visible = |dm: &Dm| {
        principal
            .as_ref()
            .is_none_or(|Extension(p)| p.access().allows_deployment_manager(&dm.name))
    };
    let list = DeploymentManagerList {
        items: s
            .dms
            .values()
            .filter(|dm| visible(dm))
            .map(|dm| describe(dm))
            .collect(),
    };
    Ok(json_response(StatusCode::OK, &list))
}

/// `GET deploymentManagers/{dm}`.
pub(crate) async fn get(ctx: Ctx) -> Result<Response, ApiError> {
    ctx.no_query()?;
    let dm = ctx.dm()?;
    Ok(json_response(StatusCode::OK, &describe(&dm)))
}

/// `GET .../info`.
pub(crate) async fn info(ctx: Ctx) -> Result<Response, ApiError> {
    ctx.no_query()?;
    let info = AdapterInfo::from(ctx.dm()?.adapter.info());
    Ok(json_response(StatusCode::OK, &info))
}

/// `GET .../capabilities`.
pub(crate) async fn capabilities(ctx: Ctx) -> Result<Response, ApiError> {
    ctx.no_query()?;
    let caps = Capabilities::from(ctx.dm()?.adapter.capabilities());
    Ok(json_response(StatusCode::OK, &caps))
}

/// `GET .../health`.
pub(crate) async fn health(ctx: Ctx) -> Result<Response, ApiError> {
    ctx.no_query()?;
    let health = ctx.dm()?.adapter.health().await.map_err(|e| ctx.fail(&e))?;
    Ok(json_response(StatusCode::OK, &Health::from(health)))
}
