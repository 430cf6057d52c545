//! Responses: the headers every answer carries, the answers of reads and writes, and
//! one reusable problem response per error status (`#/components/responses/...`).

use std::collections::BTreeSet;

use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::request_body::{RequestBody, RequestBodyBuilder};
use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::{Content, Ref, RefOr, Required, Response, ResponseBuilder, Responses};
use utoipa::ToSchema;

use crate::media;
use crate::problem::Problem;
use crate::wire::{OperationOccurrence, Page};

/// Every error status the server answers, with the name of its reusable response and
/// what it means. The statuses of error kinds are [`crate::status_for`]'s.
pub(super) const PROBLEMS: [(u16, &str, &str); 14] = [
    (
        400,
        "BadRequest",
        "Malformed request: a bad path segment, query parameter or body (`field` names it).",
    ),
    (
        401,
        "Unauthenticated",
        "No credentials, or credentials the server does not accept (a bearer token it does \
         not know, a client certificate no configured client matches): type \
         `urn:o2dms:problem:unauthenticated`, kind `permission_denied`, with \
         `WWW-Authenticate: Bearer`. Only from a server with access control; it is checked \
         before anything else, unknown routes included.",
    ),
    (
        403,
        "Forbidden",
        "The credentials lack the scope (`read`, `write`) or the deployment manager of the \
         request, or the backend refused the action (`permission_denied`, `action` names \
         what was refused).",
    ),
    (
        404,
        "NotFound",
        "No such deployment manager, deployment, package, revision, operation or route (`not_found`).",
    ),
    (405, "MethodNotAllowed", "The route has no such method."),
    (
        409,
        "Conflict",
        "It exists already, or its state forbids the change (`already_exists`, `conflict`).",
    ),
    (
        413,
        "ContentTooLarge",
        "The body is larger than the server's limit.",
    ),
    (
        415,
        "UnsupportedMediaType",
        "The body's `Content-Type` is not one the operation accepts.",
    ),
    (
        422,
        "UnprocessableContent",
        "The request breaks a rule of the adapter (`invalid_argument`, `field` names it).",
    ),
    (
        500,
        "InternalError",
        "The server failed, or the error is of a kind this version does not know.",
    ),
    (
        501,
        "NotImplemented",
        "The adapter does not support the operation (`unsupported`).",
    ),
    (502, "BadGateway", "The backend failed (`backend`)."),
    (
        503,
        "ServiceUnavailable",
        "The backend cannot be reached (`unavailable`).",
    ),
    (
        504,
        "GatewayTimeout",
        "The operation or the request ran out of time (`timeout`).",
    ),
];

/// The errors of every route under a deployment manager: a bad path segment or query
/// (400), no or unknown credentials (401), credentials without the scope or the
/// deployment manager (403), an unknown deployment manager (404), a server fault (500),
/// the request timeout (504).
pub(super) const ROUTE: &[u16] = &[400, 401, 403, 404, 500, 504];
/// The errors an adapter call can end with, one status per error kind.
pub(super) const ADAPTER: &[u16] = &[403, 404, 409, 422, 500, 501, 502, 503, 504];
/// The errors of reading a request body: too large (413), wrong media type (415).
pub(super) const BODY: &[u16] = &[413, 415];

/// The `Version` header: on every response.
fn version() -> Header {
    HeaderBuilder::new()
        .schema(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some([media::API_VERSION])),
        )
        .description(Some("The API version (ETSI SOL 013); on every response."))
        .build()
}

/// The `X-Request-Id` header: on every response.
fn request_id() -> Header {
    HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(Type::String))
        .description(Some(
            "The request's id: the client's `X-Request-Id`, or one the server made; on every response.",
        ))
        .build()
}

/// The `Preference-Applied` header: on the answer of a write that asked for a wait.
fn preference_applied() -> Header {
    HeaderBuilder::new()
        .schema(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some("^wait=[0-9]+$")),
        )
        .description(Some(
            "`wait=N`, the wait honoured, when a write asked for one with `Prefer: wait=N`.",
        ))
        .build()
}

/// The `WWW-Authenticate` header: on every 401.
fn www_authenticate() -> Header {
    HeaderBuilder::new()
        .schema(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some("^Bearer( |$)")),
        )
        .description(Some(
            "The challenge (RFC 6750): `Bearer realm=\"o2dms\"`, with \
             `error=\"invalid_token\"` when the credentials sent are not accepted; on every 401.",
        ))
        .build()
}

/// A `Location` header.
fn location(description: &str) -> Header {
    HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(Type::String).format(Some(
            utoipa::openapi::SchemaFormat::Custom("uri-reference".to_owned()),
        )))
        .description(Some(description))
        .build()
}

/// A response with the headers of every response.
fn base(description: &str) -> ResponseBuilder {
    ResponseBuilder::new()
        .description(description)
        .header(media::VERSION_HEADER, version())
        .header("X-Request-Id", request_id())
}

fn json(schema: impl Into<RefOr<Schema>>) -> Content {
    Content::new(Some(schema))
}

/// The reference to the component schema of `T`.
pub(super) fn schema_of<T: ToSchema>() -> Ref {
    Ref::from_schema_name(T::name())
}

/// The reference to the component schema of a page of `T` (utoipa names the
/// instances of a generic type `Page_T`).
pub(super) fn page_of<T: ToSchema>() -> Ref {
    Ref::from_schema_name(format!("{}_{}", Page::<T>::name(), T::name()))
}

/// 200 with a JSON body, the answer of a read.
pub(super) fn ok(description: &str, schema: Ref) -> (String, RefOr<Response>) {
    let r = base(description).content(media::JSON, json(schema)).build();
    ("200".to_owned(), r.into())
}

/// 202: the write is accepted; the operation is at `Location` and in the body.
fn accepted() -> (String, RefOr<Response>) {
    let r = base(
        "Accepted: the write runs as an operation, at `Location` and in the body. \
         Also the answer to `Prefer: wait=N` when the wait runs out.",
    )
    .header(
        "Location",
        location("The operation: `.../operations/{operationId}`."),
    )
    .header(media::PREFERENCE_APPLIED_HEADER, preference_applied())
    .content(media::JSON, json(schema_of::<OperationOccurrence>()))
    .build();
    ("202".to_owned(), r.into())
}

/// The final answer of a write that waited (`Prefer: wait=N`) and ended in time:
/// `status` with the JSON body `schema` (none for 204), and `Location` for a 201.
pub(super) fn waited(
    status: u16,
    description: &str,
    schema: Option<Ref>,
) -> Vec<(String, RefOr<Response>)> {
    let mut r = base(description).header(media::PREFERENCE_APPLIED_HEADER, preference_applied());
    if status == 201 {
        r = r.header(
            "Location",
            location("The resource made (the deployment or the package)."),
        );
    }
    if let Some(schema) = schema {
        r = r.content(media::JSON, json(schema));
    }
    vec![accepted(), (status.to_string(), r.build().into())]
}

/// The problem responses of `groups` (status sets), by reference.
pub(super) fn errors(groups: &[&[u16]]) -> Vec<(String, RefOr<Response>)> {
    let statuses: BTreeSet<u16> = groups.iter().flat_map(|g| g.iter().copied()).collect();
    PROBLEMS
        .iter()
        .filter(|(status, ..)| statuses.contains(status))
        .map(|(status, name, _)| {
            (
                status.to_string(),
                RefOr::Ref(Ref::from_response_name(*name)),
            )
        })
        .collect()
}

/// The responses of an operation.
pub(super) fn responses(
    answers: impl IntoIterator<Item = (String, RefOr<Response>)>,
    errors: Vec<(String, RefOr<Response>)>,
) -> Responses {
    let mut r = Responses::new();
    r.responses.extend(answers);
    r.responses.extend(errors);
    r
}

/// The reusable problem responses, one per status of [`PROBLEMS`]: the Problem schema
/// with `status` equal to the HTTP status.
pub(super) fn problem_components() -> Vec<(String, Response)> {
    PROBLEMS
        .iter()
        .map(|(status, name, description)| {
            let schema = AllOfBuilder::new().item(schema_of::<Problem>()).item(
                ObjectBuilder::new().property(
                    "status",
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .enum_values(Some([*status])),
                ),
            );
            let mut r =
                base(description).header(media::PREFERENCE_APPLIED_HEADER, preference_applied());
            if *status == 401 {
                r = r.header(media::WWW_AUTHENTICATE, www_authenticate());
            }
            let r = r
                .content(media::PROBLEM_JSON, Content::new(Some(schema)))
                .build();
            ((*name).to_owned(), r)
        })
        .collect()
}

/// A required JSON request body of the component schema `schema`.
pub(super) fn json_body(description: &str, schema: Ref, required: bool) -> RequestBody {
    RequestBodyBuilder::new()
        .description(Some(description))
        .required(Some(if required {
            Required::True
        } else {
            Required::False
        }))
        .content(media::JSON, json(schema))
        .build()
}

/// The body of an upload: the archive, in one of [`media::UPLOAD_MEDIA_TYPES`].
pub(super) fn archive_body() -> RequestBody {
    let mut b = RequestBodyBuilder::new()
        .description(Some(
            "The package archive (a Helm chart `.tgz`), at most the server's upload limit \
             (20 MiB by default).",
        ))
        .required(Some(Required::True));
    for media_type in media::UPLOAD_MEDIA_TYPES {
        b = b.content(
            media_type,
            Content::new(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .content_media_type(media::GZIP),
            )),
        );
    }
    b.build()
}
