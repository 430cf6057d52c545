//! Request bodies: unknown members and malformed values are refused, naming the member.

use o2dms_api::{json, wire, Problem};

fn refused<T: serde::de::DeserializeOwned + std::fmt::Debug>(body: &str) -> Problem {
    json::decode::<T>(body.as_bytes()).unwrap_err()
}

#[test]
fn unknown_members_are_named() {
    let p = refused::<wire::CreateDeploymentRequest>(
        r#"{"namespace":"ran","name":"du-1","package":"du@1.0.0","timeout":30}"#,
    );
    assert_eq!(p.status, 400);
    assert_eq!(p.kind.as_deref(), Some("invalid_argument"));
    assert_eq!(p.field.as_deref(), Some("timeout"));
    assert!(
        p.reason
            .as_deref()
            .unwrap()
            .contains("unknown field `timeout`"),
        "{p:?}"
    );
    let p = refused::<wire::RollbackDeploymentRequest>(r#"{"targetRevision":2}"#);
    assert_eq!(p.field.as_deref(), Some("targetRevision"));
    let p = refused::<wire::UpdateDeploymentRequest>(
        r#"{"mode":"merge","values":{"a":1},"replace":true}"#,
    );
    assert_eq!(p.field.as_deref(), Some("replace"));
}

#[test]
fn malformed_values_name_their_path() {
    let p = refused::<wire::ScaleDeploymentRequest>(r#"{"replicas":"three"}"#);
    assert_eq!(p.field.as_deref(), Some("replicas"));
    let p = refused::<wire::UpdateDeploymentRequest>(r#"{"mode":"overwrite"}"#);
    assert_eq!(p.field.as_deref(), Some("mode"));
    let p = refused::<wire::CreateDeploymentRequest>(
        r#"{"namespace":"ran","name":"du-1","package":"du@1.0.0","labels":{"tier":1}}"#,
    );
    assert_eq!(p.field.as_deref(), Some("labels.tier"));
    let p = refused::<wire::CreateDeploymentRequest>(
        r#"{"namespace":"ran","name":"du-1","package":"du@1.0.0","values":[1]}"#,
    );
    assert_eq!(p.field.as_deref(), Some("values"));
    let p = refused::<wire::CreateDeploymentRequest>(r#"{"namespace":"ran","name":"du-1"}"#);
    assert!(
        p.reason
            .as_deref()
            .unwrap()
            .contains("missing field `package`"),
        "{p:?}"
    );
    for body in ["", "{", "{} {}", "null", "1"] {
        let p = refused::<wire::RollbackDeploymentRequest>(body);
        assert_eq!(
            (p.status, p.field.as_deref()),
            (400, Some("body")),
            "{body}: {p:?}"
        );
    }
    assert!(json::decode::<wire::RollbackDeploymentRequest>(b" {} ").is_ok());
}

#[test]
fn conversions_name_the_wire_member() {
    use o2dms_core::{CreateDeployment, Error, ScaleRequest};
    let r: wire::CreateDeploymentRequest =
        json::decode(br#"{"namespace":"ran","name":"du-1","package":"du 1","timeoutSeconds":5}"#)
            .unwrap();
    let e = CreateDeployment::try_from(r).unwrap_err();
    assert!(
        matches!(e, Error::InvalidArgument { ref field, .. } if field == "package"),
        "{e:?}"
    );
    let r: wire::ScaleDeploymentRequest =
        json::decode(br#"{"replicas":1,"timeoutSeconds":-1}"#).unwrap();
    let e = ScaleRequest::try_from(r).unwrap_err();
    assert!(matches!(e, Error::InvalidArgument { ref field, .. } if field == "timeoutSeconds"));
    // rules the adapter checks are left to it: a zero timeout converts
    let r: wire::ScaleDeploymentRequest =
        json::decode(br#"{"replicas":1,"timeoutSeconds":0}"#).unwrap();
    assert!(ScaleRequest::try_from(r).is_ok());
    let page: wire::Page<wire::Package> = serde_json::from_value(serde_json::json!({
        "items": [{"id": "bad id", "name": "du", "version": "1", "description": "", "source": "oci",
                   "digest": "sha256:00", "createdAt": "2026-01-12T10:00:00Z"}]
    }))
    .unwrap();
    let e = page.into_core::<o2dms_core::Package>().unwrap_err();
    assert!(
        matches!(e, Error::InvalidArgument { ref field, .. } if field == "items[0].id"),
        "{e:?}"
    );
}

#[test]
fn transport_problems_are_invalid_arguments() {
    use o2dms_core::Error;
    let cases = [
        (
            Problem::unsupported_media_type(Some("text/plain"), &[o2dms_api::media::JSON]),
            415,
            "Content-Type",
        ),
        (Problem::body_too_large(1024), 413, "body"),
        (
            Problem::bad_path(&o2dms_api::segment::deployment_manager("Edge").unwrap_err()),
            400,
            "dm",
        ),
        (
            Problem::bad_query(&wire::HistoryQuery::from_query("limit=x").unwrap_err()),
            400,
            "limit",
        ),
        (
            Problem::malformed_body("values.a", "expected a map"),
            400,
            "values.a",
        ),
    ];
    for (p, status, field) in cases {
        assert_eq!(p.status, status);
        assert!(p.problem_type.starts_with(o2dms_api::problem::TYPE_PREFIX));
        assert!(matches!(p.into_error(), Error::InvalidArgument { field: f, .. } if f == field));
    }
}

#[test]
fn foreign_problems_become_the_closest_error() {
    use o2dms_core::Error;
    let p: Problem =
        serde_json::from_str(r#"{"status":503,"title":"down","detail":"proxy down"}"#).unwrap();
    assert_eq!(p.problem_type, "about:blank");
    assert_eq!(p.into_error(), Error::unavailable("proxy down"));
    let p: Problem = serde_json::from_str(r#"{"status":404,"title":"Not Found"}"#).unwrap();
    assert_eq!(p.into_error(), Error::backend("Not Found"));
    let p: Problem =
        serde_json::from_str(r#"{"status":418,"kind":"teapot","detail":"short and stout"}"#)
            .unwrap();
    assert_eq!(p.into_error(), Error::backend("short and stout"));
}
