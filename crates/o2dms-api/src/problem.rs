//! RFC 9457 problems (`application/problem+json`): every [`Error`] field travels as an
//! extension member, so that `Error -> Problem -> Error` gives back the same error.
//!
//! | kind (`kind` member) | status | members besides `kind` |
//! | --- | --- | --- |
//! | `not_found` | 404 | `resource`, `id` |
//! | `already_exists` | 409 | `resource`, `id` |
//! | `conflict` | 409 | `resource`, `id`, `reason` |
//! | `invalid_argument` | 422 (400 for a malformed request, see below) | `field`, `reason` |
//! | `permission_denied` | 403 | `action`, `message` |
//! | `unsupported` | 501 | `operation`, `reason` |
//! | `timeout` | 504 | `operation`, `limitSeconds`, `state` |
//! | `unavailable` | 503 | `message` |
//! | `backend` | 502 | `message` |
//!
//! `type` is `urn:o2dms:problem:<kind>` (an identifier, not a link); `detail` is the
//! error's one-line text. The one thing that does not travel is the `source` of a
//! [`Error::Backend`]: its text is already at the end of `detail`, and `message` keeps the
//! backend's message, so the error that comes back is equal (errors compare without
//! their source) but has no source to walk.
//!
//! Transport faults (malformed JSON, an unknown member, a wrong content type, a body
//! too large, a bad path segment or query parameter) are `invalid_argument` problems
//! naming the field, with their own `type` and a 4xx status ([`Problem::malformed_body`],
//! [`Problem::unsupported_media_type`], [`Problem::body_too_large`], [`Problem::bad_path`],
//! [`Problem::bad_query`]). Kinds this crate does not know yet travel by name with status
//! 500, and come back as [`Error::Backend`] carrying the detail.
//!
//! A request without credentials, or with credentials the server does not know, is
//! [`Problem::unauthenticated`]: status 401, type `urn:o2dms:problem:unauthenticated`,
//! kind `permission_denied` (so that it comes back as [`Error::PermissionDenied`]), sent
//! with `WWW-Authenticate: Bearer`. Credentials that lack the scope or the deployment
//! manager of a request are an ordinary `permission_denied` problem, 403.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use o2dms_core::{Error, ErrorKind, Resource};

use crate::duration;

/// The prefix of every problem `type` this API sends.
pub const TYPE_PREFIX: &str = "urn:o2dms:problem:";

/// The suffix of the type of [`Problem::unauthenticated`] (`urn:o2dms:problem:unauthenticated`).
pub const UNAUTHENTICATED: &str = "unauthenticated";

/// The HTTP status of an error kind: NotFound 404, AlreadyExists and Conflict 409,
/// InvalidArgument 422, PermissionDenied 403, Unsupported 501, Timeout 504,
/// Unavailable 503, Backend 502; a kind added later, 500.
pub fn status_for(kind: ErrorKind) -> u16 {
    match kind {
        ErrorKind::NotFound => 404,
        ErrorKind::AlreadyExists | ErrorKind::Conflict => 409,
        ErrorKind::InvalidArgument => 422,
        ErrorKind::Unsupported => 501,
        ErrorKind::Timeout => 504,
        ErrorKind::Unavailable => 503,
        ErrorKind::Backend => 502,
        ErrorKind::PermissionDenied => 403,
        _ => 500,
    }
}

/// The wire name of an error kind (`not_found`): the core's serde name.
pub fn kind_name(kind: ErrorKind) -> String {
    serde_name(&kind)
}

fn serde_name<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

fn title_for(kind: &str) -> &'static str {
    match kind {
        "not_found" => "Not found",
        "already_exists" => "Already exists",
        "conflict" => "Conflict",
        "invalid_argument" => "Invalid argument",
        "permission_denied" => "Permission denied",
        "unsupported" => "Not supported",
        "timeout" => "Timed out",
        "unavailable" => "Backend unavailable",
        "backend" => "Backend error",
        _ => "Error",
    }
}

/// An RFC 9457 problem with the members that carry an [`Error`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// `urn:o2dms:problem:<kind>` or a transport fault's type (`about:blank` if absent).
    #[serde(rename = "type", default = "about_blank")]
    pub problem_type: String,
    /// A short summary of the kind.
    #[serde(default)]
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// The error's one-line text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The request path, or the operation's path for a failed operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// The error kind (`not_found`, `invalid_argument`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// InvalidArgument: the field, query parameter or path segment that is wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// InvalidArgument, Conflict, Unsupported: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// NotFound, AlreadyExists, Conflict: the kind of thing (`deployment`, `package`,
    /// `revision`, `workload`, `namespace`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// NotFound, AlreadyExists, Conflict: which one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Unsupported, Timeout: the operation (`scale_deployment`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// Timeout: the limit that passed, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_seconds: Option<f64>,
    /// Timeout: the state it left behind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// PermissionDenied: what was refused (`create secrets in namespace ran`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// Unavailable, Backend, PermissionDenied: the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

fn about_blank() -> String {
    "about:blank".to_owned()
}

impl Problem {
    /// A problem of `kind` with `status`, no members yet.
    fn of_kind(kind: &str, status: u16, detail: String, instance: Option<&str>) -> Self {
        Problem {
            problem_type: format!("{TYPE_PREFIX}{kind}"),
            title: title_for(kind).to_owned(),
            status,
            detail: Some(detail),
            instance: instance.map(str::to_owned),
            kind: Some(kind.to_owned()),
            field: None,
            reason: None,
            resource: None,
            id: None,
            operation: None,
            limit_seconds: None,
            state: None,
            action: None,
            message: None,
        }
    }

    /// The problem of an error, at `instance` (usually the request path).
    pub fn from_error(err: &Error, instance: Option<&str>) -> Self {
        let kind = err.kind();
        let mut p = Problem::of_kind(
            &kind_name(kind),
            status_for(kind),
            err.to_string(),
            instance,
        );
        match err {
            Error::NotFound { resource, id } | Error::AlreadyExists { resource, id } => {
                p.resource = Some(serde_name(resource));
                p.id = Some(id.clone());
            }
            Error::Conflict {
                resource,
                id,
                reason,
            } => {
                p.resource = Some(serde_name(resource));
                p.id = Some(id.clone());
                p.reason = Some(reason.clone());
            }
            Error::InvalidArgument { field, reason } => {
                p.field = Some(field.clone());
                p.reason = Some(reason.clone());
            }
            Error::Unsupported { operation, reason } => {
                p.operation = Some(operation.clone());
                p.reason = Some(reason.clone());
            }
            Error::Timeout {
                operation,
                limit,
                state,
            } => {
                p.operation = Some(operation.clone());
                p.limit_seconds = Some(duration::to_seconds(*limit));
                p.state = Some(state.clone());
            }
            Error::PermissionDenied { action, message } => {
                p.action = Some(action.clone());
                p.message = Some(message.clone());
            }
            Error::Unavailable { message } | Error::Backend { message, .. } => {
                p.message = Some(message.clone());
            }
            other => {
                p.message = Some(message_of(other));
            }
        }
        p
    }

    /// The error this problem carries. A problem without the members of its kind (one
    /// from another server, say) becomes the closest error: the kind from `kind` or else
    /// from the status, missing texts from `detail`, and [`Error::Backend`] with the
    /// detail when nothing fits.
    pub fn into_error(self) -> Error {
        let kind = self
            .kind
            .clone()
            .unwrap_or_else(|| kind_of_status(self.status).to_owned());
        let text = self.detail.clone().unwrap_or_else(|| self.title.clone());
        let resource = self.resource.as_deref().and_then(parse_resource);
        match (kind.as_str(), resource, self.id.clone()) {
            ("not_found", Some(resource), Some(id)) => Error::NotFound { resource, id },
            ("already_exists", Some(resource), Some(id)) => Error::AlreadyExists { resource, id },
            ("conflict", Some(resource), Some(id)) => Error::Conflict {
                resource,
                id,
                reason: self.reason.unwrap_or(text),
            },
            ("invalid_argument", ..) => Error::InvalidArgument {
                field: self.field.unwrap_or_default(),
                reason: self.reason.unwrap_or(text),
            },
            ("unsupported", ..) => Error::Unsupported {
                operation: self.operation.unwrap_or_default(),
                reason: self.reason.unwrap_or(text),
            },
            ("timeout", ..) => Error::Timeout {
                operation: self.operation.unwrap_or_default(),
                limit: self
                    .limit_seconds
                    .and_then(|s| duration::from_seconds("limitSeconds", s).ok())
                    .unwrap_or_default(),
                state: self.state.unwrap_or(text),
            },
            ("unavailable", ..) => Error::Unavailable {
                message: self.message.unwrap_or(text),
            },
            ("permission_denied", ..) => Error::PermissionDenied {
                action: self.action.unwrap_or_default(),
                message: self.message.unwrap_or(text),
            },
            ("backend", ..) => Error::backend(self.message.unwrap_or(text)),
            // a kind added after this crate: its text, as a backend error
            _ => Error::backend(self.message.unwrap_or(text)),
        }
    }

    /// The HTTP status as an [`http::StatusCode`] (500 if out of range).
    pub fn status_code(&self) -> http::StatusCode {
        http::StatusCode::from_u16(self.status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// An invalid-argument problem for a transport fault.
    fn transport(
        fault: &str,
        status: u16,
        field: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        let (field, reason) = (field.into(), reason.into());
        let detail = Error::invalid(field.clone(), reason.clone()).to_string();
        let mut p = Problem::of_kind("invalid_argument", status, detail, None);
        p.problem_type = format!("{TYPE_PREFIX}{fault}");
        p.title = "Malformed request".to_owned();
        p.field = Some(field);
        p.reason = Some(reason);
        p
    }

    /// 400: the body is not the JSON expected; `field` is the path of the bad member
    /// (`values.image`, `labels`), or `body` for the whole body.
    pub fn malformed_body(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Problem::transport("malformed_body", 400, field, reason)
    }

    /// 415: the body's `Content-Type` is not one of `expected` (field `Content-Type`).
    pub fn unsupported_media_type(got: Option<&str>, expected: &[&str]) -> Self {
        let got = got.map_or("none".to_owned(), |g| format!("`{g}`"));
        Problem::transport(
            "unsupported_media_type",
            415,
            "Content-Type",
            format!("must be one of {} (got {got})", expected.join(", ")),
        )
    }

    /// 413: the body is larger than `limit_bytes` (field `body`).
    pub fn body_too_large(limit_bytes: u64) -> Self {
        Problem::transport(
            "body_too_large",
            413,
            "body",
            format!("must be at most {limit_bytes} bytes"),
        )
    }

    /// 400: a path segment is invalid; `err` is the segment validator's error
    /// ([`crate::segment`]).
    pub fn bad_path(err: &Error) -> Self {
        let (field, reason) = field_reason(err, "path");
        Problem::transport("bad_path", 400, field, reason)
    }

    /// 400: a query parameter is invalid or unknown; `err` names it.
    pub fn bad_query(err: &Error) -> Self {
        let (field, reason) = field_reason(err, "query");
        Problem::transport("bad_query", 400, field, reason)
    }
}

/// Problems of the server itself, not of an adapter: an unknown deployment manager or
/// route, a method a route does not have, a fault of the server (a panic).
impl Problem {
    /// 404: no deployment manager of this name is hosted (kind `not_found`, resource
    /// `deployment_manager`): [`Error::NotFound`] of `Resource::DeploymentManager`.
    pub fn deployment_manager_not_found(name: &str) -> Self {
        Problem::from_error(
            &Error::not_found(o2dms_core::Resource::DeploymentManager, name),
            None,
        )
    }

    /// 404: the server keeps no operation of this id (finished long ago, or never
    /// accepted) (kind `not_found`, resource `operation`).
    pub fn operation_not_found(id: &str) -> Self {
        let mut p = Problem::of_kind(
            "not_found",
            404,
            format!("operation `{id}` not found"),
            None,
        );
        p.resource = Some("operation".to_owned());
        p.id = Some(id.to_owned());
        p
    }

    /// 404: no route has this path (type `urn:o2dms:problem:no_route`, kind `not_found`,
    /// resource `route`).
    pub fn no_route(path: &str) -> Self {
        let mut p = Problem::of_kind("not_found", 404, format!("no route `{path}`"), None);
        p.problem_type = format!("{TYPE_PREFIX}no_route");
        p.resource = Some("route".to_owned());
        p.id = Some(path.to_owned());
        p
    }

    /// 405: the route has no such method (type `urn:o2dms:problem:method_not_allowed`,
    /// kind `invalid_argument`, field `method`).
    pub fn method_not_allowed(method: &str) -> Self {
        Problem::transport(
            "method_not_allowed",
            405,
            "method",
            format!("`{method}` is not a method of this route"),
        )
    }

    /// 401: the request has no credentials, or credentials the server does not accept
    /// (type `urn:o2dms:problem:unauthenticated`, kind `permission_denied`, `action` the
    /// request (`GET /o2dms/v1/...`), `message` why). It never quotes the credentials.
    /// The server sends it with [`WWW_AUTHENTICATE`](crate::media::WWW_AUTHENTICATE).
    pub fn unauthenticated(action: impl Into<String>, message: impl Into<String>) -> Self {
        let (action, message) = (action.into(), message.into());
        let detail = format!("not authenticated for {action}: {message}");
        let mut p = Problem::of_kind("permission_denied", 401, detail, None);
        p.problem_type = format!("{TYPE_PREFIX}{UNAUTHENTICATED}");
        p.title = "Unauthenticated".to_owned();
        p.action = Some(action);
        p.message = Some(message);
        p
    }

    /// Whether this is the problem of [`Problem::unauthenticated`] (its type, or status
    /// 401 from a server that sent another type).
    pub fn is_unauthenticated(&self) -> bool {
        self.status == 401 || self.problem_type == format!("{TYPE_PREFIX}{UNAUTHENTICATED}")
    }

    /// 500: the server failed (a bug, a panic); the request may not be repeated with
    /// better luck (type `urn:o2dms:problem:internal`, kind `backend`).
    pub fn internal(message: impl Into<String>) -> Self {
        let message = message.into();
        let mut p = Problem::of_kind("backend", 500, format!("internal error: {message}"), None);
        p.problem_type = format!("{TYPE_PREFIX}internal");
        p.title = "Internal error".to_owned();
        p.message = Some(message);
        p
    }
}

fn field_reason(err: &Error, default_field: &str) -> (String, String) {
    match err {
        Error::InvalidArgument { field, reason } => (field.clone(), reason.clone()),
        other => (default_field.to_owned(), other.to_string()),
    }
}

fn parse_resource(name: &str) -> Option<Resource> {
    serde_json::from_value(serde_json::Value::String(name.to_owned())).ok()
}

/// The kind a status stands for, for problems without a `kind` member.
fn kind_of_status(status: u16) -> &'static str {
    match status {
        400 | 413 | 415 | 422 => "invalid_argument",
        401 | 403 => "permission_denied",
        404 => "not_found",
        409 => "conflict",
        501 => "unsupported",
        503 => "unavailable",
        504 => "timeout",
        _ => "backend",
    }
}

/// The message of an error kind this crate does not match on by name.
fn message_of(err: &Error) -> String {
    err.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unauthenticated_is_401_and_comes_back_as_permission_denied() {
        let p = Problem::unauthenticated("GET /o2dms/v1/deploymentManagers", "no credentials");
        assert_eq!(p.status, 401);
        assert_eq!(p.problem_type, "urn:o2dms:problem:unauthenticated");
        assert_eq!(p.kind.as_deref(), Some("permission_denied"));
        assert!(p.is_unauthenticated());
        assert!(
            !Problem::from_error(&Error::permission_denied("a", "b"), None).is_unauthenticated()
        );
        let json = serde_json::to_string(&p).unwrap();
        let back: Problem = serde_json::from_str(&json).unwrap();
        assert_eq!(
            back.into_error(),
            Error::permission_denied("GET /o2dms/v1/deploymentManagers", "no credentials")
        );
        // a 401 from another server, without a kind: permission denied too
        let bare = Problem {
            kind: None,
            ..Problem::internal("x")
        };
        let bare = Problem {
            status: 401,
            ..bare
        };
        assert_eq!(bare.into_error().kind(), ErrorKind::PermissionDenied);
    }
}
