//! The OpenAPI 3.1 document: the committed `docs/openapi.json` is `document()`; every
//! route of `paths` is in it with exactly its methods; every operation has an id, a
//! summary, a tag and the statuses it can answer; every reference resolves; the wire
//! types' schemas list the core enums' values.

use std::collections::{BTreeMap, BTreeSet};

use o2dms_api::{media, openapi, paths, status_for, Problem};
use o2dms_core::{Error, ErrorKind};
use serde_json::Value;

const DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");

fn doc() -> Value {
    serde_json::to_value(openapi::document()).unwrap()
}

/// The document as committed: pretty JSON with a trailing newline.
fn rendered() -> String {
    let mut text = openapi::document().to_pretty_json().unwrap();
    text.push('\n');
    text
}

#[test]
fn committed_document_is_up_to_date() {
    let want = rendered();
    if std::env::var_os("O2DMS_WRITE_DOCS").is_some() {
        std::fs::write(DOC, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(DOC).unwrap_or_default();
    assert!(
        have == want,
        "docs/openapi.json is out of date with o2dms_api::openapi::document(); regenerate it with \
         `O2DMS_WRITE_DOCS=1 cargo test -p o2dms-api --test openapi`"
    );
}

/// The routes the server has (crates/o2dms-server/src/routes/mod.rs), as the table of
/// `paths` lists them.
fn routes() -> BTreeMap<&'static str, Vec<&'static str>> {
    BTreeMap::from([
        (paths::DEPLOYMENT_MANAGERS, vec!["get"]),
        (paths::DEPLOYMENT_MANAGER, vec!["get"]),
        (paths::INFO, vec!["get"]),
        (paths::CAPABILITIES, vec!["get"]),
        (paths::HEALTH, vec!["get"]),
        (paths::DEPLOYMENTS, vec!["get", "post"]),
        (paths::DEPLOYMENT, vec!["delete", "get", "patch"]),
        (paths::SCALE, vec!["post"]),
        (paths::ROLLBACK, vec!["post"]),
        (paths::STATUS, vec!["get"]),
        (paths::HISTORY, vec!["get"]),
        (paths::LOGS, vec!["get"]),
        (paths::PACKAGES, vec!["get", "post"]),
        (paths::PACKAGE, vec!["delete", "get"]),
        (paths::OPERATIONS, vec!["get"]),
        (paths::OPERATION, vec!["get"]),
    ])
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Every (template, method, operation) of the document.
fn operations(doc: &Value) -> Vec<(String, &'static str, &Value)> {
    let mut out = Vec::new();
    for (template, item) in doc["paths"].as_object().unwrap() {
        for m in METHODS {
            if let Some(op) = item.get(m) {
                out.push((template.clone(), m, op));
            }
        }
    }
    out
}

#[test]
fn every_route_is_documented_with_exactly_its_methods() {
    let doc = doc();
    let documented: BTreeMap<String, BTreeSet<&str>> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(t, item)| {
            let methods = METHODS.into_iter().filter(|m| item.get(m).is_some());
            (t.clone(), methods.collect::<BTreeSet<_>>())
        })
        .collect();
    let want: BTreeMap<String, BTreeSet<&str>> = routes()
        .into_iter()
        .map(|(t, m)| (t.to_owned(), m.into_iter().collect()))
        .collect();
    assert_eq!(documented, want);
    for template in want.keys() {
        assert!(template.starts_with(paths::BASE), "{template}");
    }
}

#[test]
fn path_parameters_are_the_templates() {
    let doc = doc();
    for (template, item) in doc["paths"].as_object().unwrap() {
        let want: BTreeSet<&str> = template
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .collect();
        let declared: BTreeSet<&str> = item["parameters"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .inspect(|p| {
                        assert_eq!(p["in"], "path", "{template}: {p}");
                        assert_eq!(p["required"], true, "{template}: {p}");
                        assert!(p["schema"]["type"] == "string", "{template}: {p}");
                    })
                    .map(|p| p["name"].as_str().unwrap())
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(declared, want, "{template}");
    }
    // the segment rules are in the document
    let text = doc.to_string();
    assert!(text.contains(&format!(
        "\"maxLength\":{}",
        o2dms_api::segment::MAX_OPERATION_ID_LEN
    )));
    assert!(text.contains(&format!(
        "\"maxLength\":{}",
        o2dms_api::segment::MAX_DM_NAME_LEN
    )));
}

#[test]
fn every_operation_has_an_id_a_summary_a_tag_and_its_answers() {
    let doc = doc();
    let tags: BTreeSet<&str> = doc["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    let mut ids = BTreeSet::new();
    let adapter_statuses: BTreeSet<String> = [
        ErrorKind::NotFound,
        ErrorKind::AlreadyExists,
        ErrorKind::Conflict,
        ErrorKind::InvalidArgument,
        ErrorKind::Unsupported,
        ErrorKind::Timeout,
        ErrorKind::PermissionDenied,
        ErrorKind::Unavailable,
        ErrorKind::Backend,
    ]
    .into_iter()
    .map(|k| status_for(k).to_string())
    .collect();
    for (template, method, op) in operations(&doc) {
        let at = format!("{method} {template}");
        let id = op["operationId"].as_str().unwrap_or_default();
        assert!(
            id.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                && id.chars().all(|c| c.is_ascii_alphanumeric()),
            "{at}: operationId `{id}` is not camelCase"
        );
        assert!(ids.insert(id.to_owned()), "{at}: operationId `{id}` twice");
        assert!(
            !op["summary"].as_str().unwrap_or_default().is_empty(),
            "{at}"
        );
        let op_tags = op["tags"].as_array().unwrap();
        assert_eq!(op_tags.len(), 1, "{at}");
        assert!(tags.contains(op_tags[0].as_str().unwrap()), "{at}");
        let responses = op["responses"].as_object().unwrap();
        for status in ["400", "401", "500", "504"] {
            assert!(responses.contains_key(status), "{at}: no {status}");
        }
        if template != paths::DEPLOYMENT_MANAGERS {
            // scopes and deployment managers; the list is filtered instead
            assert!(responses.contains_key("403"), "{at}: no 403");
        }
        if method == "get" {
            assert!(responses.contains_key("200"), "{at}");
            assert!(!responses.contains_key("202"), "{at}");
        } else {
            // a write: 202 with Location and the operation, or with a wait the final answer
            // or the problem of any error kind
            let accepted = &responses["202"];
            assert!(accepted["headers"]["Location"].is_object(), "{at}");
            assert!(
                accepted["headers"][media::PREFERENCE_APPLIED_HEADER].is_object(),
                "{at}"
            );
            assert!(
                accepted["content"][media::JSON]["schema"]["$ref"]
                    .as_str()
                    .is_some_and(|r| r.ends_with("/OperationOccurrence")),
                "{at}"
            );
            let final_status = match (method, template.as_str()) {
                ("post", paths::DEPLOYMENTS | paths::PACKAGES) => "201",
                ("delete", _) => "204",
                _ => "200",
            };
            assert!(responses.contains_key(final_status), "{at}");
            for s in &adapter_statuses {
                assert!(responses.contains_key(s), "{at}: no {s}");
            }
            let params = op["parameters"].as_array().unwrap();
            assert!(
                params
                    .iter()
                    .any(|p| p["name"] == media::PREFER_HEADER && p["in"] == "header"),
                "{at}: no Prefer"
            );
        }
        for (status, response) in responses {
            let response = resolve(&doc, response);
            assert!(
                response["headers"][media::VERSION_HEADER].is_object(),
                "{at} {status}: no Version header"
            );
            let problem = status.starts_with('4') || status.starts_with('5');
            if let Some(content) = response["content"].as_object() {
                let types: Vec<&str> = content.keys().map(String::as_str).collect();
                let want = if problem {
                    media::PROBLEM_JSON
                } else {
                    media::JSON
                };
                assert_eq!(types, [want], "{at} {status}");
            } else {
                assert_eq!(status, "204", "{at}: {status} without a body");
            }
        }
    }
    assert_eq!(ids.len(), 21);
    for id in ["createDeployment", "uploadPackage", "getOperation"] {
        assert!(ids.contains(id), "{id}");
    }
}

/// A response object, through its `$ref`.
fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v["$ref"].as_str() {
        Some(r) => doc
            .pointer(r.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("{r} does not resolve")),
        None => v,
    }
}

#[test]
fn every_reference_resolves() {
    fn walk(doc: &Value, v: &Value, refs: &mut usize) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    let pointer = r.strip_prefix('#').expect("a local reference");
                    assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
                    *refs += 1;
                }
                m.values().for_each(|v| walk(doc, v, refs));
            }
            Value::Array(a) => a.iter().for_each(|v| walk(doc, v, refs)),
            _ => {}
        }
    }
    let doc = doc();
    let mut refs = 0;
    walk(&doc, &doc, &mut refs);
    assert!(refs > 100, "{refs}");
}

#[test]
fn every_error_status_has_a_problem_response() {
    let doc = doc();
    let responses = doc["components"]["responses"].as_object().unwrap();
    let by_status: BTreeMap<u64, &Value> = responses
        .values()
        .map(|r| {
            let schema = &r["content"][media::PROBLEM_JSON]["schema"];
            let status = schema["allOf"][1]["properties"]["status"]["enum"][0]
                .as_u64()
                .unwrap();
            assert!(schema["allOf"][0]["$ref"]
                .as_str()
                .unwrap()
                .ends_with("/Problem"));
            (status, r)
        })
        .collect();
    let err = Error::invalid("x", "y");
    let problems = [
        Problem::from_error(
            &Error::not_found(o2dms_core::Resource::Deployment, "a"),
            None,
        ),
        Problem::from_error(
            &Error::conflict(o2dms_core::Resource::Deployment, "a", "b"),
            None,
        ),
        Problem::from_error(&err, None),
        Problem::from_error(&Error::permission_denied("a", "b"), None),
        Problem::from_error(&Error::unsupported("a", "b"), None),
        Problem::from_error(
            &Error::timeout("a", std::time::Duration::from_secs(1), "b"),
            None,
        ),
        Problem::from_error(&Error::unavailable("a"), None),
        Problem::from_error(&Error::backend("a"), None),
        Problem::malformed_body("body", "x"),
        Problem::unsupported_media_type(None, &[media::JSON]),
        Problem::body_too_large(1),
        Problem::bad_path(&err),
        Problem::bad_query(&err),
        Problem::deployment_manager_not_found("a"),
        Problem::operation_not_found("a"),
        Problem::no_route("/a"),
        Problem::method_not_allowed("PUT"),
        Problem::internal("a"),
        Problem::unauthenticated("GET /a", "no credentials"),
    ];
    for p in problems {
        assert!(
            by_status.contains_key(&u64::from(p.status)),
            "no problem response for {} ({:?})",
            p.status,
            p.kind
        );
    }
    assert_eq!(by_status.len(), responses.len(), "one response per status");
}

#[test]
fn security_schemes_are_bearer_and_mutual_tls_and_401_says_how() {
    let doc = doc();
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["type"], "http");
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["mutualTLS"]["type"], "mutualTLS");
    let security = doc["security"].as_array().unwrap();
    assert_eq!(
        security.len(),
        3,
        "bearer, mutualTLS, or none (no access control): {security:?}"
    );
    assert!(security.iter().any(|s| s.get("bearer").is_some()));
    assert!(security.iter().any(|s| s.get("mutualTLS").is_some()));
    assert!(security
        .iter()
        .any(|s| s.as_object().is_some_and(|o| o.is_empty())));
    let unauthenticated = &doc["components"]["responses"]["Unauthenticated"];
    assert!(
        unauthenticated["headers"][media::WWW_AUTHENTICATE].is_object(),
        "{unauthenticated}"
    );
    assert!(doc["components"]["responses"]["Forbidden"]["description"]
        .as_str()
        .unwrap()
        .contains("scope"));
}

#[test]
fn document_is_openapi_3_1_with_the_api_version() {
    let doc = doc();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["version"], media::API_VERSION);
    assert!(doc.get("servers").is_none());
    let upload = &doc["paths"][paths::PACKAGES]["post"]["requestBody"]["content"];
    let types: BTreeSet<&str> = upload
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(types, BTreeSet::from(media::UPLOAD_MEDIA_TYPES));
}

#[test]
fn schemas_list_the_enum_values() {
    let json = openapi::document().to_json().unwrap();
    assert!(json.starts_with("{\"openapi\":\"3.1"), "{}", &json[..40]);
    for needle in [
        "\"rolling_back\"",
        "\"FAILED_TEMP\"",
        "\"scale_deployment\"",
        "\"replace\"",
        "\"oci\"",
        "\"degraded\"",
        "\"timeoutSeconds\"",
        "\"limitSeconds\"",
        "\"continue\"",
    ] {
        assert!(json.contains(needle), "{needle} missing");
    }
}
