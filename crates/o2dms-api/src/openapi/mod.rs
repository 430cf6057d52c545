//! The OpenAPI 3.1 document of the REST API, built from the code so that it cannot
//! drift from it: the route templates of [`crate::paths`], the schemas of the
//! [`crate::wire`] types and of [`Problem`](crate::Problem) (their `ToSchema` derives),
//! the statuses of [`crate::status_for`], the media types and headers of
//! [`crate::media`].
//!
//! | file | concern |
//! | --- | --- |
//! | `params` | path segments, query parameters, the `Prefer` header |
//! | `responses` | headers, read and write answers, one problem response per status |
//! | `schemas` | the component schemas |
//! | `managers`, `deployments`, `packages`, `operations` | the path items of each resource |
//!
//! The committed copy is `docs/openapi.json`; a test keeps it equal to [`document`].
//!
//! ```
//! let doc = o2dms_api::openapi::document();
//! assert_eq!(doc.info.version, o2dms_api::media::API_VERSION);
//! assert!(doc.paths.get_path_item(o2dms_api::paths::SCALE).is_some());
//! ```

mod deployments;
mod managers;
mod operations;
mod packages;
mod params;
mod responses;
mod schemas;

use utoipa::openapi::info::{InfoBuilder, LicenseBuilder};
use utoipa::openapi::path::{OperationBuilder, Parameter, PathItemBuilder};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{OpenApi, OpenApiBuilder, PathsBuilder};

use crate::media;

/// The tags: one per resource.
#[derive(Debug, Clone, Copy)]
enum Tag {
    DeploymentManagers,
    Deployments,
    Packages,
    Operations,
}

impl Tag {
    const ALL: [Tag; 4] = [
        Tag::DeploymentManagers,
        Tag::Deployments,
        Tag::Packages,
        Tag::Operations,
    ];

    fn name(self) -> &'static str {
        match self {
            Tag::DeploymentManagers => "deploymentManagers",
            Tag::Deployments => "deployments",
            Tag::Packages => "packages",
            Tag::Operations => "operations",
        }
    }

    fn description(self) -> &'static str {
        match self {
            Tag::DeploymentManagers => {
                "The deployment managers a server hosts, each over one adapter."
            }
            Tag::Deployments => "Packages running in a namespace under a name.",
            Tag::Packages => "Installable packages (for Helm, a chart at a version).",
            Tag::Operations => "Writes: accepted with 202, then followed here.",
        }
    }
}

const DESCRIPTION: &str = "The O2-DMS REST API: deployment managers, each over one adapter \
(Helm, mock), with their deployments, packages and operations.\n\n\
Access control, when the server has it: a bearer token (`Authorization: Bearer <token>`) or a \
client certificate (mutual TLS), each with a scope, `read` (GET) or `write` (every method), and \
optionally limited to some deployment managers. No or unknown credentials answer 401 \
(`urn:o2dms:problem:unauthenticated`, with `WWW-Authenticate: Bearer`), before anything else, \
unknown routes included; credentials without the scope or the deployment manager of a request \
answer 403 (`permission_denied`); the list of deployment managers shows only those the \
credentials may use. A server without access control (`o2dms serve` on loopback) needs no \
credentials: the empty security requirement.\n\n\
Reads answer 200. Writes answer 202 Accepted with `Location` of an operation; with \
`Prefer: wait=N` they answer the final result instead when it comes in time (201, 200, 204 \
or a problem). Errors are RFC 9457 `application/problem+json` with the error's members; an \
unknown route answers 404 and a method a route does not have 405. JSON member names are \
camelCase, durations are numbers of seconds, timestamps RFC 3339 text in UTC. Requests refuse \
unknown members; responses may add members.";

/// The name of the bearer token security scheme.
const BEARER: &str = "bearer";
/// The name of the client certificate security scheme.
const MUTUAL_TLS: &str = "mutualTLS";

/// An operation of `tag` with its id and summary.
fn op(id: &str, tag: Tag, summary: &str) -> OperationBuilder {
    OperationBuilder::new()
        .operation_id(Some(id))
        .tag(tag.name())
        .summary(Some(summary))
}

/// A path item with the path parameters of its template.
fn item(parameters: Vec<Parameter>) -> PathItemBuilder {
    let parameters = (!parameters.is_empty()).then_some(parameters);
    PathItemBuilder::new().parameters(parameters)
}

/// The OpenAPI 3.1 document of every route of [`crate::paths`].
pub fn document() -> OpenApi {
    let mut components = schemas::components();
    for (name, response) in responses::problem_components() {
        components.responses.insert(name, response.into());
    }
    components.add_security_scheme(
        BEARER,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "A token from the server's configuration, with scope `read` or `write`, \
                     optionally limited to some deployment managers.",
                ))
                .build(),
        ),
    );
    components.add_security_scheme(
        MUTUAL_TLS,
        SecurityScheme::MutualTls {
            description: Some(
                "A client certificate from the server's client CA, mapped by its subject \
                 (common name, DNS or URI name) to a configured client with a scope."
                    .to_owned(),
            ),
            extensions: None,
        },
    );
    let mut paths = PathsBuilder::new();
    for (template, item) in managers::items()
        .into_iter()
        .chain(deployments::items())
        .chain(packages::items())
        .chain(operations::items())
    {
        paths = paths.path(template, item.build());
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("O2-DMS REST API")
                .version(media::API_VERSION)
                .description(Some(DESCRIPTION))
                .license(Some(
                    LicenseBuilder::new()
                        .name("Apache-2.0")
                        .identifier(Some("Apache-2.0"))
                        .build(),
                )),
        )
        .paths(paths)
        .components(Some(components))
        .security(Some(vec![
            SecurityRequirement::new(BEARER, Vec::<String>::new()),
            SecurityRequirement::new(MUTUAL_TLS, Vec::<String>::new()),
            // a server without access control
            SecurityRequirement::default(),
        ]))
        .tags(Some(Tag::ALL.map(|t| {
            TagBuilder::new()
                .name(t.name())
                .description(Some(t.description()))
                .build()
        })))
        .build()
}
