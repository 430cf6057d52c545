//! The routes of `/o2dms/v1`, one module per resource, every template from
//! `o2dms_api::paths`.

pub(crate) mod deployments;
pub(crate) mod managers;
pub(crate) mod operations;
pub(crate) mod packages;
pub(crate) mod write;

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use o2dms_api::{paths, Problem};

use crate::context::AppState;
use crate::problem_response::ApiError;

/// Every route, with the 404 and 405 problems.
pub(crate) fn routes(state: AppState) -> Router {
    Router::new()
        .route(paths::DEPLOYMENT_MANAGERS, get(managers::list))
        .route(paths::DEPLOYMENT_MANAGER, get(managers::get))
        .route(paths::INFO, get(managers::info))
        .route(paths::CAPABILITIES, get(managers::capabilities))
        .route(paths::HEALTH, get(managers::health))
        .route(
            paths::DEPLOYMENTS,
            get(deployments::list).post(deployments::create),
        )
        .route(
            paths::DEPLOYMENT,
            get(deployments::get)
                .patch(deployments::update)
                .delete(deployments::delete),
        )
        .route(paths::SCALE, axum::routing::post(deployments::scale))
        .route(paths::ROLLBACK, axum::routing::post(deployments::rollback))
        .route(paths::STATUS, get(deployments::status))
        .route(paths::HISTORY, get(deployments::history))
        .route(paths::LOGS, get(deployments::logs))
        .route(paths::PACKAGES, get(packages::list).post(packages::upload))
        .route(paths::PACKAGE, get(packages::get).delete(packages::delete))
        .route(paths::OPERATIONS, get(operations::list))
        .route(paths::OPERATION, get(operations::get))
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

async fn no_route(req: Request) -> Response {
    let path = req.uri().path();
    ApiError::at(Problem::no_route(path), path).into_response()
}

async fn method_not_allowed(req: Request) -> Response {
    let path = req.uri().path();
    ApiError::at(Problem::method_not_allowed(req.method().as_str()), path).into_response()
}
