//! The layers around the routes: request ids, tracing spans, the `Version` header,
//! problems for every error, panics caught, access control, body size and request time
//! limits.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use http::{HeaderName, HeaderValue};
use o2dms_api::media;
use o2dms_core::Error;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnFailure, TraceLayer};

use crate::auth;
use crate::context::{wait_of, AppState};
use crate::problem_response::{self, ensure_problem, ApiError};

/// Request ids for requests that come without one: the server's start time and a
/// counter (`x-request-id` a client sends is kept).
#[derive(Clone)]
struct RequestIds {
    prefix: Arc<str>,
    next: Arc<AtomicU64>,
}

impl RequestIds {
    fn new() -> Self {
        let now = o2dms_core::Timestamp::now();
        RequestIds {
            prefix: format!("{:x}", now.unix_seconds()).into(),
            next: Arc::new(AtomicU64::new(1)),
        }
    }
}

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _: &http::Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        HeaderValue::from_str(&format!("{}-{n}", self.prefix))
            .ok()
            .map(RequestId::new)
    }
}

/// The span of a request: method, path (never the query: it may carry `continue`
/// tokens), request id, and the principal (the configured name of the token or client,
/// recorded by access control). Bodies and other headers are never logged.
fn span<B>(req: &http::Request<B>) -> tracing::Span {
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        method = %req.method(),
        path = %req.uri().path(),
        request_id = %id,
        principal = tracing::field::Empty,
    )
}

/// Middleware: a request may take the server's request timeout plus the wait it asked
/// for; then 504 (kind `timeout`). A write accepted before goes on in its operation.
async fn timeout(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let limit = s.limits.request_timeout + wait_of(req.headers(), &s.limits).unwrap_or_default();
    let path = req.uri().path().to_owned();
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => ApiError::of(
            &Error::timeout(
                "request",
                limit,
                "the server stopped waiting for the answer; a write it accepted goes on in its operation",
            ),
            &path,
        )
        .into_response(),
    }
}

/// `routes` inside every layer.
pub(crate) fn layered(routes: Router, state: AppState) -> Router {
    let limits = state.limits;
    let max_body = limits.body_bytes.max(limits.upload_bytes);
    let layers = ServiceBuilder::new()
        .layer(SetRequestIdLayer::x_request_id(RequestIds::new()))
        // A 5xx here is mostly the adapter's answer (Backend 502, Unavailable 503, Timeout
        // 504), which the operation logs with its kind; a panic is logged where it is
        // caught. So failures are debug lines, not errors.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(span)
                .on_failure(DefaultOnFailure::new().level(tracing::Level::DEBUG)),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("version"),
            HeaderValue::from_static(media::API_VERSION),
        ))
        .layer(from_fn_with_state(max_body, ensure_problem))
        .layer(CatchPanicLayer::custom(problem_response::panic_response))
        // access control before anything else a route does (unknown routes included)
        .layer(from_fn_with_state(state.clone(), auth::middleware::check))
        .layer(from_fn_with_state(state, timeout))
        // innermost: the routes take any body, the middleware above only axum's
        .layer(RequestBodyLimitLayer::new(max_body));
    routes.layer(layers)
}
