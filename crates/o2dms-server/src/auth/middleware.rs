//! The access control layer: every request is authenticated and authorised before it
//! reaches a route (or the 404 and 405 fallbacks); a refusal is a problem (401 with
//! `WWW-Authenticate`, or 403), an allowed request carries its [`Principal`].
//!
//! Logs: the principal's configured name is recorded in the request's span (field
//! `principal`); a refusal is logged at info with its reason. Never a token, an
//! `Authorization` header or a certificate's names.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::HeaderValue;
use o2dms_api::{media, Problem};
use o2dms_core::Error;

use super::{Principal, Refusal, Unauthenticated};
use crate::context::AppState;
use crate::listener::Peer;
use crate::problem_response::ApiError;

/// Middleware: lets the request through with its [`Principal`] (as an extension), or
/// answers the problem of its refusal. Without an [`Auth`](super::Auth) policy every
/// request goes through, without a principal.
pub(crate) async fn check(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let Some(auth) = state.auth.as_deref() else {
        return next.run(req).await;
    };
    let client = req
        .extensions()
        .get::<Peer>()
        .and_then(Peer::client_identity_shared);
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    match auth.decide(&method, &path, req.headers(), client.as_deref()) {
        Ok(principal) => {
            tracing::Span::current().record("principal", principal.name());
            tracing::debug!(principal = %principal.name(), "request authenticated");
            req.extensions_mut().insert::<Principal>(principal);
            next.run(req).await
        }
        Err(Refusal::Unauthenticated(why)) => {
            let (message, challenge) = match why {
                Unauthenticated::Missing if auth.has_clients() => (
                    "no credentials: send `Authorization: Bearer <token>`, or connect with a client certificate",
                    media::BEARER_CHALLENGE,
                ),
                Unauthenticated::Missing => (
                    "no credentials: send `Authorization: Bearer <token>`",
                    media::BEARER_CHALLENGE,
                ),
                Unauthenticated::Malformed => (
                    "the `Authorization` header is not one bearer token (`Bearer <token>`)",
                    media::BEARER_INVALID_TOKEN,
                ),
                Unauthenticated::UnknownToken => (
                    "the bearer token is not one this server accepts",
                    media::BEARER_INVALID_TOKEN,
                ),
                Unauthenticated::UnknownCertificate => (
                    "the client certificate matches no client this server knows",
                    media::BEARER_INVALID_TOKEN,
                ),
            };
            tracing::info!(reason = ?why, "request refused: not authenticated");
            let action = format!("{method} {path}");
            let mut res =
                ApiError::at(Problem::unauthenticated(action, message), &path).into_response();
            res.headers_mut().insert(
                http::header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
            res
        }
        Err(Refusal::Forbidden { principal, reason }) => {
            tracing::Span::current().record("principal", principal.as_str());
            tracing::info!(principal = %principal, "request refused: not allowed");
            let action = format!("{method} {path}");
            ApiError::of(&Error::permission_denied(action, reason), &path).into_response()
        }
    }
}
