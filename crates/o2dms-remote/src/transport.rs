//! One HTTP exchange: send, read the body within its limit, and turn the answer into a
//! value or the error it carries.

use std::time::Duration;

use o2dms_api::{media, prefer, Problem};
use o2dms_core::Error;
use reqwest::header::{HeaderValue, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;

use crate::builder::Limits;
use crate::endpoint::Endpoint;

/// The HTTP client of one server, with the limits of every exchange.
#[derive(Debug, Clone)]
pub(crate) struct Transport {
    endpoint: Endpoint,
    http: reqwest::Client,
    pub(crate) limits: Limits,
}

/// A request body.
pub(crate) enum Body {
    /// No body.
    Empty,
    /// JSON.
    Json(Vec<u8>),
    /// A package archive.
    Archive(Vec<u8>),
}

/// A successful answer: its status and body.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    body: Vec<u8>,
    what: String,
}

impl Answer {
    /// The body as `T`; a body that is not one is [`Error::Backend`] naming the member.
    pub(crate) fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        decode(&self.what, &self.body)
    }
}

impl Transport {
    pub(crate) fn new(endpoint: Endpoint, http: reqwest::Client, limits: Limits) -> Self {
        Transport {
            endpoint,
            http,
            limits,
        }
    }

    /// `GET path` (with its query), decoded.
    pub(crate) async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, Error> {
        self.send(Method::GET, path, Body::Empty, None)
            .await?
            .json()
    }

    /// A write, asking the server to wait up to the configured wait for the final
    /// answer.
    pub(crate) async fn write(
        &self,
        method: Method,
        path: &str,
        body: Body,
    ) -> Result<Answer, Error> {
        let wait = self.limits.wait;
        self.send(method, path, body, Some(wait)).await
    }

    /// Sends one request; an error status is the error its problem carries.
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        body: Body,
        wait: Option<Duration>,
    ) -> Result<Answer, Error> {
        let url = self.endpoint.url(path);
        let what = format!("{method} {}", strip_query(path));
        let mut timeout = self.limits.request_timeout;
        let mut req = self.http.request(method, &url);
        if let Some(w) = wait.filter(|w| w.as_secs() > 0) {
            req = req.header(media::PREFER_HEADER, prefer::wait_applied(w));
            timeout = timeout.saturating_add(w);
        }
        req = match body {
            Body::Empty => req,
            Body::Json(bytes) => req
                .header(CONTENT_TYPE, HeaderValue::from_static(media::JSON))
                .body(bytes),
            Body::Archive(bytes) => req
                .header(CONTENT_TYPE, HeaderValue::from_static(media::GZIP))
                .body(bytes),
        };
        let mut res = req
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| transport_error(&what, e))?;
        let status = res.status();
        let content_type = res
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = read_body(&mut res, self.limits.max_response_bytes, &what).await?;
        if status.is_success() {
            return Ok(Answer { status, body, what });
        }
        Err(error_of(&what, status, content_type.as_deref(), &body))
    }
}

/// The body, refused past `limit` bytes.
async fn read_body(
    res: &mut reqwest::Response,
    limit: usize,
    what: &str,
) -> Result<Vec<u8>, Error> {
    let mut body = Vec::new();
    while let Some(chunk) = res.chunk().await.map_err(|e| transport_error(what, e))? {
        if body.len() + chunk.len() > limit {
            return Err(Error::backend(format!(
                "{what}: the server's answer is larger than {limit} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The error an unsuccessful answer carries: its problem's, or one made from the status
/// when the server (or a proxy before it) sent no problem.
fn error_of(what: &str, status: StatusCode, content_type: Option<&str>, body: &[u8]) -> Error {
    let is_problem =
        media::is(content_type, media::PROBLEM_JSON) || media::is(content_type, media::JSON);
    if is_problem {
        if let Ok(problem) = serde_json::from_slice::<Problem>(body) {
            if problem.is_unauthenticated() {
                let why = problem
                    .message
                    .or(problem.detail)
                    .unwrap_or_else(|| "no credentials".to_owned());
                return unauthenticated(what, &why);
            }
            return problem.into_error();
        }
    }
    let text = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
    let message = format!("{what}: HTTP {status} without a problem: {}", text.trim());
    match status {
        StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT | StatusCode::BAD_GATEWAY => {
            Error::unavailable(message)
        }
        StatusCode::UNAUTHORIZED => unauthenticated(what, &message),
        StatusCode::FORBIDDEN => Error::permission_denied(what.to_owned(), message),
        _ => Error::backend(message),
    }
}

/// The error of a 401: the server wants credentials it did not get (or does not know).
fn unauthenticated(what: &str, why: &str) -> Error {
    Error::permission_denied(
        what.to_owned(),
        format!(
            "the server did not authenticate the request (401: {why}); give the adapter a bearer \
             token (`bearer_token`) or a client certificate (`client_identity_pem`) it accepts"
        ),
    )
}

/// A request that got no answer: the server is unreachable or too slow.
fn transport_error(what: &str, e: reqwest::Error) -> Error {
    if e.is_timeout() {
        Error::unavailable(format!("{what}: no answer in time"))
    } else if e.is_connect() {
        Error::unavailable(format!("{what}: cannot connect: {}", chain(&e)))
    } else {
        Error::unavailable(format!("{what}: {}", chain(&e)))
    }
}

/// An error and its causes, `a: b: c`.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    text
}

/// A body as `T`, or [`Error::Backend`] naming the member that did not fit.
pub(crate) fn decode<T: DeserializeOwned>(what: &str, body: &[u8]) -> Result<T, Error> {
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        Error::backend(format!(
            "{what}: the server's answer is not what the API says (at `{path}`): {}",
            e.into_inner()
        ))
    })
}

fn strip_query(path: &str) -> &str {
    path.split_once('?').map_or(path, |(p, _)| p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use o2dms_core::{DeploymentId, ErrorKind, Resource};

    #[test]
    fn problems_carry_their_error() {
        let err = Error::not_found(
            Resource::Deployment,
            DeploymentId::new("ran", "du").unwrap(),
        );
        let body = serde_json::to_vec(&Problem::from_error(&err, None)).unwrap();
        let got = error_of(
            "GET /x",
            StatusCode::NOT_FOUND,
            Some("application/problem+json"),
            &body,
        );
        assert_eq!(got, err);
    }

    #[test]
    fn answers_without_a_problem_get_a_kind_from_their_status() {
        let kind = |s: StatusCode| error_of("GET /x", s, Some("text/html"), b"<h1>x</h1>").kind();
        assert_eq!(kind(StatusCode::BAD_GATEWAY), ErrorKind::Unavailable);
        assert_eq!(
            kind(StatusCode::SERVICE_UNAVAILABLE),
            ErrorKind::Unavailable
        );
        assert_eq!(kind(StatusCode::FORBIDDEN), ErrorKind::PermissionDenied);
        assert_eq!(kind(StatusCode::NOT_FOUND), ErrorKind::Backend);
        let broken = error_of(
            "GET /x",
            StatusCode::NOT_FOUND,
            Some("application/problem+json"),
            b"{",
        );
        assert_eq!(broken.kind(), ErrorKind::Backend);
    }

    #[test]
    fn a_401_is_permission_denied_saying_what_to_give() {
        let p = Problem::unauthenticated("GET /x", "no credentials: send a token");
        let body = serde_json::to_vec(&p).unwrap();
        let err = error_of(
            "GET /x",
            StatusCode::UNAUTHORIZED,
            Some("application/problem+json"),
            &body,
        );
        match &err {
            Error::PermissionDenied { action, message } => {
                assert_eq!(action, "GET /x");
                assert!(
                    message.contains("no credentials: send a token"),
                    "{message}"
                );
                assert!(message.contains("bearer_token"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        let bare = error_of(
            "GET /x",
            StatusCode::UNAUTHORIZED,
            Some("text/plain"),
            b"nope",
        );
        assert_eq!(bare.kind(), ErrorKind::PermissionDenied);
        assert!(bare.to_string().contains("401"), "{bare}");
    }

    #[test]
    fn decode_names_the_member() {
        let err = decode::<o2dms_api::wire::Health>("GET /h", br#"{"status": 3, "message": ""}"#)
            .unwrap_err();
        assert!(err.to_string().contains("`status`"), "{err}");
    }
}
