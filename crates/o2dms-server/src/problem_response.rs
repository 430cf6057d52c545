//! Problems as responses: every error the server answers is `application/problem+json`
//! built by `o2dms_api::Problem`, whatever produced it (a handler, a layer, a panic).

use std::any::Any;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{header, HeaderValue, StatusCode};
use o2dms_api::{media, Problem};
use o2dms_core::Error;

/// An error answer of a handler: a problem, its `instance` set to the request path.
#[derive(Debug)]
pub(crate) struct ApiError(pub(crate) Box<Problem>);

impl ApiError {
    /// The problem of an adapter error (or a validation error) at `path`.
    pub(crate) fn of(err: &Error, path: &str) -> Self {
        ApiError(Box::new(Problem::from_error(err, Some(path))))
    }

    /// A problem built elsewhere, placed at `path` unless it has an instance already.
    pub(crate) fn at(mut problem: Problem, path: &str) -> Self {
        if problem.instance.is_none() {
            problem.instance = Some(path.to_owned());
        }
        ApiError(Box::new(problem))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        response(&self.0)
    }
}

/// The response carrying `problem`, with its status.
pub(crate) fn response(problem: &Problem) -> Response {
    let body = serde_json::to_vec(problem).unwrap_or_else(|_| {
        br#"{"type":"urn:o2dms:problem:internal","title":"Internal error","status":500}"#.to_vec()
    });
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = problem.status_code();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media::PROBLEM_JSON),
    );
    res
}

/// The problem of a handler that panicked (tower-http's `CatchPanic`): 500, the panic's
/// message kept out of the answer (it may hold data), logged instead.
pub(crate) fn panic_response(panic: Box<dyn Any + Send + 'static>) -> http::Response<Body> {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(panic = %message, "a request handler panicked");
    response(&Problem::internal("the request handler failed"))
}

/// Middleware: an error response that is not a problem yet (axum's own rejections,
/// tower-http's 413 for a body over the server-wide limit) becomes one, by its status.
pub(crate) async fn ensure_problem(
    State(body_limit): State<usize>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    let res = next.run(req).await;
    let status = res.status();
    let is_problem = media::is(
        res.headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        media::PROBLEM_JSON,
    );
    if status.as_u16() < 400 || is_problem {
        return res;
    }
    let mut problem = match status {
        StatusCode::PAYLOAD_TOO_LARGE => Problem::body_too_large(body_limit as u64),
        StatusCode::NOT_FOUND => Problem::no_route(&path),
        StatusCode::METHOD_NOT_ALLOWED => Problem::method_not_allowed(method.as_str()),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Problem::unsupported_media_type(None, &[media::JSON]),
        s if s.is_client_error() => Problem::malformed_body(
            "request",
            s.canonical_reason().unwrap_or("bad request").to_owned(),
        ),
        s => {
            let mut p = Problem::internal(s.canonical_reason().unwrap_or("server error"));
            p.status = s.as_u16();
            p
        }
    };
    problem.instance = Some(path);
    let mut out = response(&problem);
    // keep the headers layers set (request id, Allow), not the old body's
    for (name, value) in res.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}
