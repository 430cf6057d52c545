//! The shared state of the routes and the request context every handler starts from:
//! the path segments, validated before anything else, and the deployment manager.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, MatchedPath};
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{header, HeaderMap, HeaderValue, StatusCode};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use o2dms_api::{json, media, prefer, segment, Problem};
use o2dms_core::{DeploymentId, DmsAdapter, Error, PackageId};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::watch;

use crate::auth::Auth;
use crate::limits::Limits;
use crate::operations::Operations;
use crate::problem_response::ApiError;

/// One hosted deployment manager.
pub(crate) struct Dm {
    pub(crate) name: String,
    pub(crate) dm_type: String,
    pub(crate) adapter: Arc<dyn DmsAdapter>,
}

/// What every route shares.
pub(crate) struct Shared {
    pub(crate) dms: BTreeMap<String, Arc<Dm>>,
    /// Access control; `None`: every request is let in.
    pub(crate) auth: Option<Arc<Auth>>,
    pub(crate) ops: Arc<Operations>,
    pub(crate) limits: Limits,
    /// Turns true when the server shuts down: waits end at once.
    pub(crate) stopping: watch::Receiver<bool>,
}

/// The router state.
pub(crate) type AppState = Arc<Shared>;

/// A request's path segments (validated), query, headers and deployment manager.
pub(crate) struct Ctx {
    pub(crate) path: String,
    pub(crate) query: String,
    pub(crate) headers: HeaderMap,
    dm: Option<Arc<Dm>>,
    deployment: Option<DeploymentId>,
    package: Option<PackageId>,
    operation: Option<String>,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let path = parts.uri.path().to_owned();
        let template = parts
            .extensions
            .get::<MatchedPath>()
            .map(|m| m.as_str().to_owned())
            .unwrap_or_default();
        // the raw (still percent-encoded) segment of every `{param}` of the route
        let mut raw: BTreeMap<&str, &str> = BTreeMap::new();
        for (t, s) in template.split('/').zip(path.split('/')) {
            if let Some(name) = t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                raw.insert(name, s);
            }
        }
        let bad = |e: Error| ApiError::at(Problem::bad_path(&e), &path);
        let dm_name = raw
            .get("dm")
            .map(|s| segment::deployment_manager(s))
            .transpose()
            .map_err(bad)?;
        let deployment = match (raw.get("namespace"), raw.get("name")) {
            (Some(ns), Some(name)) => Some(segment::deployment_id(ns, name).map_err(bad)?),
            _ => None,
        };
        let package = raw
            .get("packageId")
            .map(|s| segment::package_id(s))
            .transpose()
            .map_err(bad)?;
        let operation = raw
            .get("operationId")
            .map(|s| segment::operation_id(s))
            .transpose()
            .map_err(bad)?;
        let dm = match dm_name {
            None => None,
            Some(name) => Some(state.dms.get(&name).cloned().ok_or_else(|| {
                ApiError::at(Problem::deployment_manager_not_found(&name), &path)
            })?),
        };
        Ok(Ctx {
            query: parts.uri.query().unwrap_or_default().to_owned(),
            headers: parts.headers.clone(),
            path,
            dm,
            deployment,
            package,
            operation,
        })
    }
}

impl Ctx {
    /// The deployment manager of the path.
    pub(crate) fn dm(&self) -> Result<Arc<Dm>, ApiError> {
        self.dm
            .clone()
            .ok_or_else(|| self.internal("route without {dm}"))
    }

    /// The deployment of the path.
    pub(crate) fn deployment(&self) -> Result<DeploymentId, ApiError> {
        self.deployment
            .clone()
            .ok_or_else(|| self.internal("route without {namespace}/{name}"))
    }

    /// The package of the path.
    pub(crate) fn package(&self) -> Result<PackageId, ApiError> {
        self.package
            .clone()
            .ok_or_else(|| self.internal("route without {packageId}"))
    }

    /// The operation id of the path.
    pub(crate) fn operation(&self) -> Result<String, ApiError> {
        self.operation
            .clone()
            .ok_or_else(|| self.internal("route without {operationId}"))
    }

    fn internal(&self, what: &str) -> ApiError {
        ApiError::at(Problem::internal(what), &self.path)
    }

    /// The problem of `err` (an adapter's or a validator's) at this request's path.
    pub(crate) fn fail(&self, err: &Error) -> ApiError {
        ApiError::of(err, &self.path)
    }

    /// The query parsed by `parse` (a `from_query` of `o2dms_api::wire`); a bad
    /// parameter is a 400 problem naming it.
    pub(crate) fn query<T>(&self, parse: fn(&str) -> Result<T, Error>) -> Result<T, ApiError> {
        parse(&self.query).map_err(|e| ApiError::at(Problem::bad_query(&e), &self.path))
    }

    /// Refuses any query parameter (routes that have none).
    pub(crate) fn no_query(&self) -> Result<(), ApiError> {
        self.query(|q| match form_pairs(q).next() {
            Some(name) => Err(Error::invalid(
                name,
                "is not a parameter of this request (it has none)",
            )),
            None => Ok(()),
        })
    }

    /// The `Content-Type` of the request.
    pub(crate) fn content_type(&self) -> Option<&str> {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
    }

    /// The wait the request asked for (`Prefer: wait=N`), capped; `None` for none.
    pub(crate) fn wait(&self, limits: &Limits) -> Option<std::time::Duration> {
        wait_of(&self.headers, limits)
    }

    /// The request body, at most `limit` bytes (413 beyond), after checking that its
    /// content type is one of `media_types` (415 otherwise).
    pub(crate) async fn body(
        &self,
        body: Body,
        limit: usize,
        media_types: &[&str],
    ) -> Result<Bytes, ApiError> {
        let ct = self.content_type();
        if !media_types.iter().any(|m| media::is(ct, m)) {
            return Err(ApiError::at(
                Problem::unsupported_media_type(ct, media_types),
                &self.path,
            ));
        }
        let too_large = || ApiError::at(Problem::body_too_large(limit as u64), &self.path);
        let declared = self
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(too_large());
        }
        match Limited::new(body, limit).collect().await {
            Ok(collected) => Ok(collected.to_bytes()),
            Err(e) if is_length_limit(e.as_ref()) => Err(too_large()),
            Err(_) => Err(ApiError::at(
                Problem::malformed_body("body", "could not be read"),
                &self.path,
            )),
        }
    }

    /// A JSON body decoded as `T`; a problem naming the bad member otherwise.
    pub(crate) async fn json<T: DeserializeOwned>(
        &self,
        body: Body,
        limits: &Limits,
    ) -> Result<T, ApiError> {
        let bytes = self.body(body, limits.body_bytes, &[media::JSON]).await?;
        json::decode(&bytes).map_err(|p| ApiError::at(p, &self.path))
    }

    /// A JSON body that may be left out entirely (no body, no content type): then `{}`.
    pub(crate) async fn optional_json<T: DeserializeOwned>(
        &self,
        body: Body,
        limits: &Limits,
    ) -> Result<T, ApiError> {
        let empty = self.content_type().is_none()
            && self
                .headers
                .get(header::CONTENT_LENGTH)
                .is_none_or(|v| v.as_bytes() == b"0");
        if empty {
            let bytes = Limited::new(body, 1).collect().await;
            if bytes.is_ok_and(|b| b.to_bytes().is_empty()) {
                return json::decode(b"{}").map_err(|p| ApiError::at(p, &self.path));
            }
            return Err(ApiError::at(
                Problem::unsupported_media_type(None, &[media::JSON]),
                &self.path,
            ));
        }
        self.json(body, limits).await
    }
}

/// The names of the parameters of a query string.
fn form_pairs(q: &str) -> impl Iterator<Item = String> + '_ {
    form_urlencoded::parse(q.as_bytes()).map(|(k, _)| k.into_owned())
}

fn is_length_limit(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if err.is::<LengthLimitError>() {
            return true;
        }
        cur = err.source();
    }
    false
}

/// The capped wait a request asks for.
pub(crate) fn wait_of(headers: &HeaderMap, limits: &Limits) -> Option<std::time::Duration> {
    let prefs = prefer::parse(
        headers
            .get_all(media::PREFER_HEADER)
            .iter()
            .filter_map(|v| v.to_str().ok()),
    );
    limits.wait_for(prefs.wait)
}

/// A JSON response.
pub(crate) fn json_response<T: Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => {
            let mut res = (status, bytes).into_response();
            res.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(media::JSON));
            res
        }
        Err(e) => ApiError(Box::new(Problem::internal(format!(
            "the answer could not be written: {e}"
        ))))
        .into_response(),
    }
}
