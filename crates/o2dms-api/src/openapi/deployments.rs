//! Deployments: list, create, read, update, delete, scale, roll back, status, history,
//! logs.

use utoipa::openapi::path::{HttpMethod, PathItemBuilder};

use super::params;
use super::responses::{
    errors, json_body, ok, page_of, responses, schema_of, waited, ADAPTER, BODY, ROUTE,
};
use super::{item, op, Tag};
use crate::paths;
use crate::wire::{
    CreateDeploymentRequest, Deployment, Logs, Revisions, RollbackDeploymentRequest,
    ScaleDeploymentRequest, StatusDetail, UpdateDeploymentRequest,
};

/// The path items of the deployments.
pub(super) fn items() -> Vec<(&'static str, PathItemBuilder)> {
    let read = |id: &str, summary: &str, answer| {
        op(id, Tag::Deployments, summary).responses(responses([answer], errors(&[ROUTE, ADAPTER])))
    };
    let write = |id: &str, summary: &str, answers| {
        op(id, Tag::Deployments, summary)
            .parameter(params::prefer())
            .responses(responses(answers, errors(&[ROUTE, ADAPTER, BODY])))
    };
    let changed = || {
        waited(
            200,
            "The deployment's new revision (`Prefer: wait=N`, ended in time).",
            Some(schema_of::<Deployment>()),
        )
    };
    vec![
        (
            paths::DEPLOYMENTS,
            item(params::under_dm())
                .operation(
                    HttpMethod::Get,
                    read(
                        "listDeployments",
                        "List deployments",
                        ok("One page of deployments.", page_of::<Deployment>()),
                    )
                    .parameters(Some(params::list_deployments()))
                    .build(),
                )
                .operation(
                    HttpMethod::Post,
                    write(
                        "createDeployment",
                        "Create a deployment",
                        waited(
                            201,
                            "The deployment, revision 1 (`Prefer: wait=N`, ended in time).",
                            Some(schema_of::<Deployment>()),
                        ),
                    )
                    .description(Some("Installs a package as a new deployment."))
                    .request_body(Some(json_body(
                        "The deployment to create.",
                        schema_of::<CreateDeploymentRequest>(),
                        true,
                    )))
                    .build(),
                ),
        ),
        (
            paths::DEPLOYMENT,
            item(params::under_deployment())
                .operation(
                    HttpMethod::Get,
                    read(
                        "getDeployment",
                        "Read a deployment",
                        ok("The deployment.", schema_of::<Deployment>()),
                    )
                    .build(),
                )
                .operation(
                    HttpMethod::Patch,
                    write("updateDeployment", "Update a deployment", changed())
                        .description(Some("New values and/or package: one new revision."))
                        .request_body(Some(json_body(
                            "What changes.",
                            schema_of::<UpdateDeploymentRequest>(),
                            true,
                        )))
                        .build(),
                )
                .operation(
                    HttpMethod::Delete,
                    op("deleteDeployment", Tag::Deployments, "Delete a deployment")
                        .parameter(params::prefer())
                        .responses(responses(
                            waited(204, "Deleted (`Prefer: wait=N`, ended in time).", None),
                            errors(&[ROUTE, ADAPTER]),
                        ))
                        .build(),
                ),
        ),
        (
            paths::SCALE,
            item(params::under_deployment()).operation(
                HttpMethod::Post,
                write("scaleDeployment", "Scale a deployment", changed())
                    .description(Some(
                        "Sets the replica count through the deployment's values key.",
                    ))
                    .request_body(Some(json_body(
                        "The replica count.",
                        schema_of::<ScaleDeploymentRequest>(),
                        true,
                    )))
                    .build(),
            ),
        ),
        (
            paths::ROLLBACK,
            item(params::under_deployment()).operation(
                HttpMethod::Post,
                write("rollbackDeployment", "Roll a deployment back", changed())
                    .description(Some(
                        "A new revision with the package and values of an earlier one.",
                    ))
                    .request_body(Some(json_body(
                        "The revision to return to; the body may be left out (no body, no \
                         `Content-Type`) for the previous one.",
                        schema_of::<RollbackDeploymentRequest>(),
                        false,
                    )))
                    .build(),
            ),
        ),
        (
            paths::STATUS,
            item(params::under_deployment()).operation(
                HttpMethod::Get,
                read(
                    "getDeploymentStatus",
                    "Read a deployment's status detail",
                    ok(
                        "The status with the detail of the live workloads.",
                        schema_of::<StatusDetail>(),
                    ),
                )
                .build(),
            ),
        ),
        (
            paths::HISTORY,
            item(params::under_deployment()).operation(
                HttpMethod::Get,
                read(
                    "getDeploymentHistory",
                    "List a deployment's revisions",
                    ok("The revisions, oldest first.", schema_of::<Revisions>()),
                )
                .parameters(Some(params::history()))
                .build(),
            ),
        ),
        (
            paths::LOGS,
            item(params::under_deployment()).operation(
                HttpMethod::Get,
                read(
                    "getDeploymentLogs",
                    "Read a deployment's logs",
                    ok("The log lines of its workloads.", schema_of::<Logs>()),
                )
                .parameters(Some(params::logs()))
                .build(),
            ),
        ),
    ]
}
