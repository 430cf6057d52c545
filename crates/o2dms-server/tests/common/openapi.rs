//! Every response the tests receive, checked against the OpenAPI document
//! (`o2dms_api::openapi::document()`, committed as docs/openapi.json): the operation is
//! found by method and path (matched against the templates), the response by status;
//! the content type must be one the document declares for that status, a JSON body must
//! validate against its schema (JSON Schema 2020-12, formats asserted), and the headers
//! the document declares must hold their schemas.
//!
//! The whole document is registered as one JSON Schema resource; each response schema
//! is compiled (once) as a `$ref` into it, so that `#/components/schemas/...` resolve.
//! A path no template matches must answer the `NotFound` problem, a method its template
//! does not have the `MethodNotAllowed` one; either may be refused by access control
//! first (`Unauthenticated`, and `Forbidden` for a method, whose scope is `write`).
//!
//! OpenAPI 3.1 can mark a response header `required`, but utoipa 5's `Header` cannot
//! say it: the rule lives here instead. `Version` and `X-Request-Id` are on every
//! response, `Location` on every 201 and 202, as the document's descriptions say.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::{Draft, Registry, Validator};
use serde_json::{json, Value};

/// The URI the document is registered at (never fetched).
const BASE_URI: &str = "https://o2dms.invalid/openapi.json";

/// The headers a response must carry when the document declares them for it.
fn required_header(name: &str, status: u16) -> bool {
    name.eq_ignore_ascii_case("version")
        || name.eq_ignore_ascii_case("x-request-id")
        || (name.eq_ignore_ascii_case("location") && matches!(status, 201 | 202))
}

/// One response as received.
#[derive(Debug, Clone, Copy)]
pub struct Answer<'a> {
    /// The request method (`GET`).
    pub method: &'a str,
    /// The request path as sent, with its query if any.
    pub path: &'a str,
    /// The status.
    pub status: u16,
    /// The response headers, names in any case.
    pub headers: &'a [(String, String)],
    /// The body.
    pub body: &'a [u8],
}

/// The document, its schema resource, and the validators compiled so far.
pub struct Document {
    doc: Value,
    registry: Registry<'static>,
    validators: Mutex<HashMap<String, Arc<Validator>>>,
}

impl Document {
    /// The document of `o2dms_api::openapi::document()`, made once per test binary.
    pub fn shared() -> &'static Document {
        static DOC: OnceLock<Document> = OnceLock::new();
        DOC.get_or_init(|| {
            let doc =
                serde_json::to_value(o2dms_api::openapi::document()).expect("the document is JSON");
            Document::new(doc).expect("the document is a JSON Schema resource")
        })
    }

    /// A checker of `doc`, an OpenAPI 3.1 document as JSON.
    pub fn new(doc: Value) -> Result<Self, String> {
        let registry = Registry::new()
            .draft(Draft::Draft202012)
            .add(BASE_URI, Draft::Draft202012.create_resource(doc.clone()))
            .and_then(|b| b.prepare())
            .map_err(|e| format!("the document as a schema resource: {e}"))?;
        Ok(Document {
            doc,
            registry,
            validators: Mutex::default(),
        })
    }

    /// Checks one response against the document; the error says what does not match.
    pub fn check(&self, a: &Answer<'_>) -> Result<(), String> {
        let path = a.path.split(['?', '#']).next().unwrap_or_default();
        let method = a.method.to_ascii_lowercase();
        let paths = self.doc["paths"]
            .as_object()
            .ok_or("the document has no paths")?;
        let template = paths.keys().find(|t| matches_template(t, path));
        let response_at = match template {
            // Access control comes first, unknown routes and methods included.
            None if a.status == 401 => "/components/responses/Unauthenticated".to_owned(),
            // credentials limited to other deployment managers than the path's
            None if a.status == 403 => "/components/responses/Forbidden".to_owned(),
            None => {
                if a.status != 404 {
                    return Err("no template matches the path, yet the status is not 404 \
                                (documented: #/components/responses/NotFound)"
                        .to_owned());
                }
                "/components/responses/NotFound".to_owned()
            }
            Some(t) if paths[t].get(&method).is_none() => match a.status {
                405 => "/components/responses/MethodNotAllowed".to_owned(),
                401 => "/components/responses/Unauthenticated".to_owned(),
                403 => "/components/responses/Forbidden".to_owned(),
                _ => {
                    return Err(format!(
                        "{t} has no {method}, yet the status is not 405 (documented: \
                         #/components/responses/MethodNotAllowed), nor 401 or 403 (access control)"
                    ))
                }
            },
            Some(t) => {
                let responses = &paths[t][&method]["responses"];
                let status = a.status.to_string();
                let key = if responses.get(&status).is_some() {
                    status
                } else if responses.get("default").is_some() {
                    "default".to_owned()
                } else {
                    let documented: Vec<&String> = responses
                        .as_object()
                        .map(|r| r.keys().collect())
                        .unwrap_or_default();
                    return Err(format!(
                        "status {} is not documented for {method} {t} (documented: {documented:?})",
                        a.status
                    ));
                };
                pointer(&["paths", t, &method, "responses", &key])
            }
        };
        let (response_at, response) = self.resolve(&response_at)?;
        self.check_headers(a, &response_at, response)?;
        self.check_content(a, &response_at, response)
    }

    /// The response object at `at`, through its `$ref`, and where it is.
    fn resolve(&self, at: &str) -> Result<(String, &Value), String> {
        let mut at = at.to_owned();
        for _ in 0..8 {
            let v = self
                .doc
                .pointer(&at)
                .ok_or_else(|| format!("#{at} is not in the document"))?;
            match v.get("$ref").and_then(Value::as_str) {
                Some(r) => {
                    at = r
                        .strip_prefix('#')
                        .ok_or_else(|| format!("{r} is not a local reference"))?
                        .to_owned();
                }
                None => return Ok((at, v)),
            }
        }
        Err(format!("#{at}: references loop"))
    }

    fn check_headers(&self, a: &Answer<'_>, at: &str, response: &Value) -> Result<(), String> {
        let Some(declared) = response.get("headers").and_then(Value::as_object) else {
            return Ok(());
        };
        for name in declared.keys() {
            let values: Vec<&str> = a
                .headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
                .collect();
            if values.is_empty() && required_header(name, a.status) {
                return Err(format!("header {name} is missing"));
            }
            let schema_at = format!("{at}/headers/{}/schema", escape(name));
            for v in values {
                self.validate(&schema_at, &Value::String(v.to_owned()))
                    .map_err(|e| format!("header {name}: {e}"))?;
            }
        }
        Ok(())
    }

    fn check_content(&self, a: &Answer<'_>, at: &str, response: &Value) -> Result<(), String> {
        let content_type = a
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
            .map(|(_, v)| v.as_str());
        let Some(content) = response.get("content").and_then(Value::as_object) else {
            if !a.body.is_empty() {
                return Err(format!(
                    "the document declares no body, yet there is one of {} bytes ({content_type:?})",
                    a.body.len()
                ));
            }
            return Ok(());
        };
        let media_type = content_type
            .and_then(|c| c.split(';').next())
            .map(|c| c.trim().to_ascii_lowercase())
            .ok_or_else(|| {
                format!(
                    "no Content-Type (documented: {:?})",
                    content.keys().collect::<Vec<_>>()
                )
            })?;
        let Some(declared) = content.get(&media_type) else {
            return Err(format!(
                "Content-Type {media_type} is not documented (documented: {:?})",
                content.keys().collect::<Vec<_>>()
            ));
        };
        let json_media = media_type == "application/json" || media_type.ends_with("+json");
        if !json_media || declared.get("schema").is_none() {
            return Ok(());
        }
        let body: Value = serde_json::from_slice(a.body).map_err(|e| {
            format!(
                "the {media_type} body is not JSON ({e}): {}",
                String::from_utf8_lossy(a.body)
            )
        })?;
        let schema_at = format!("{at}/content/{}/schema", escape(&media_type));
        self.validate(&schema_at, &body)
            .map_err(|e| format!("the body does not match #{schema_at}: {e}; body: {body}"))
    }

    /// Validates `instance` against the schema at `at` (a JSON pointer into the
    /// document); every error, with where it is.
    fn validate(&self, at: &str, instance: &Value) -> Result<(), String> {
        let validator = self.validator(at)?;
        let errors: Vec<String> = validator
            .iter_errors(instance)
            .map(|e| format!("at `{}`: {e}", e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }

    fn validator(&self, at: &str) -> Result<Arc<Validator>, String> {
        let mut cache = self.validators.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(v) = cache.get(at) {
            return Ok(v.clone());
        }
        let schema = json!({ "$ref": format!("{BASE_URI}#{}", fragment(at)) });
        let v = jsonschema::options()
            .with_draft(Draft::Draft202012)
            .with_registry(&self.registry)
            .should_validate_formats(true)
            .build(&schema)
            .map_err(|e| format!("the schema at #{at} does not compile: {e}"))?;
        let v = Arc::new(v);
        cache.insert(at.to_owned(), v.clone());
        Ok(v)
    }
}

/// Whether `path` (as sent, percent-encoded) matches `template`: as the router matches,
/// segment by segment, each `{param}` one segment, an empty one too (`dm//deployments`
/// reaches the route, which refuses the empty segment with 400).
fn matches_template(template: &str, path: &str) -> bool {
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| (t.starts_with('{') && t.ends_with('}')) || t == p)
}

/// One JSON pointer token (RFC 6901).
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// The JSON pointer of `tokens`.
fn pointer(tokens: &[&str]) -> String {
    tokens.iter().map(|t| format!("/{}", escape(t))).collect()
}

/// A JSON pointer as a URI fragment (`{` and `}` are not allowed raw).
fn fragment(pointer: &str) -> String {
    let mut out = String::with_capacity(pointer.len());
    for b in pointer.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Checks `a` against the document; a response that does not match fails the test,
/// naming the method, path, status and what is wrong.
pub fn assert_conforms(a: &Answer<'_>) {
    if let Err(e) = Document::shared().check(a) {
        panic!(
            "{} {} answered {}, which does not match docs/openapi.json: {e}",
            a.method, a.path, a.status
        );
    }
}
