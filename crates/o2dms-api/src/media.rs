//! Media types, header names and the API version.

/// Bodies of requests and responses.
pub const JSON: &str = "application/json";
/// Error responses (RFC 9457).
pub const PROBLEM_JSON: &str = "application/problem+json";
/// A package archive, the raw body of an upload (a Helm chart `.tgz`).
pub const GZIP: &str = "application/gzip";
/// Every media type a server accepts for an upload body: [`GZIP`], its legacy
/// `application/x-gzip`, and `application/octet-stream`.
pub const UPLOAD_MEDIA_TYPES: [&str; 3] = [GZIP, "application/x-gzip", "application/octet-stream"];

/// The header carrying the API version on every request and response (ETSI SOL 013).
pub const VERSION_HEADER: &str = "Version";
/// The version of this API, the value of [`VERSION_HEADER`].
pub const API_VERSION: &str = "1.0.0";
/// The request header asking for a wait (RFC 7240), see [`crate::prefer`].
pub const PREFER_HEADER: &str = "Prefer";
/// The response header saying which preferences were honoured (RFC 7240).
pub const PREFERENCE_APPLIED_HEADER: &str = "Preference-Applied";

/// The response header of a 401 (RFC 9110): how to authenticate.
pub const WWW_AUTHENTICATE: &str = "WWW-Authenticate";
/// The challenge of a 401 without credentials: a bearer token (RFC 6750) in realm
/// `o2dms` (a client certificate, where the server accepts them, is the alternative).
pub const BEARER_CHALLENGE: &str = "Bearer realm=\"o2dms\"";
/// The challenge of a 401 whose bearer token (or client certificate) is not accepted.
pub const BEARER_INVALID_TOKEN: &str = "Bearer realm=\"o2dms\", error=\"invalid_token\"";

/// Whether a `Content-Type` value is `media_type`, ignoring case, parameters
/// (`; charset=utf-8`) and surrounding whitespace.
///
/// ```
/// assert!(o2dms_api::media::is(Some("Application/JSON; charset=utf-8"), o2dms_api::media::JSON));
/// assert!(!o2dms_api::media::is(None, o2dms_api::media::JSON));
/// ```
pub fn is(content_type: Option<&str>, media_type: &str) -> bool {
    content_type
        .and_then(|c| c.split(';').next())
        .is_some_and(|c| c.trim().eq_ignore_ascii_case(media_type))
}
