//! Request bodies: JSON decoding whose failures are [`Problem`]s naming the bad member.

use serde::de::DeserializeOwned;

use crate::problem::Problem;

/// Decodes a JSON request body. On failure, a 400 [`Problem::malformed_body`] whose
/// `field` is the path of the bad member (`values.image`, `labels.tier`; an unknown member
/// is named itself, `spec.replicas`), or `body` for the body as a whole (empty, not
/// JSON, trailing data).
///
/// ```
/// use o2dms_api::{json, wire::ScaleDeploymentRequest};
/// let p = json::decode::<ScaleDeploymentRequest>(br#"{"replicas": 2, "replica": 3}"#).unwrap_err();
/// assert_eq!(p.field.as_deref(), Some("replica"));
/// let p = json::decode::<ScaleDeploymentRequest>(br#"{"replicas": -1}"#).unwrap_err();
/// assert_eq!(p.field.as_deref(), Some("replicas"));
/// ```
#[allow(
    clippy::result_large_err,
    reason = "the problem is the response body of a failed request, built once and sent"
)]
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, Problem> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let reason = reason_of(&inner);
        Problem::malformed_body(field_of(&path, &inner.to_string()), reason)
    })?;
    de.end()
        .map_err(|e| Problem::malformed_body("body", reason_of(&e)))?;
    Ok(value)
}

/// serde_json's message without its ` at line L column C` suffix.
fn reason_of(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// The member path of an error: the path serde_path_to_error saw, with the unknown
/// member appended when serde names one the path does not end with yet.
fn field_of(path: &str, message: &str) -> String {
    let unknown = message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(name, _)| name);
    // serde_path_to_error writes `.` for the root and `?` for a segment it did not see.
    let base = path.trim_end_matches(['?', '.']);
    let base = base.strip_suffix(".?").unwrap_or(base);
    match unknown {
        Some(name) if base == name || base.ends_with(&format!(".{name}")) => base.to_owned(),
        Some(name) if base.is_empty() => name.to_owned(),
        Some(name) => format!("{base}.{name}"),
        None if base.is_empty() => "body".to_owned(),
        None => base.to_owned(),
    }
}
