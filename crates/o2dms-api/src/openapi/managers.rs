//! The deployment managers: the list, one, and each one's info, capabilities, health.

use utoipa::openapi::path::{HttpMethod, PathItemBuilder};

use super::responses::{errors, ok, responses, schema_of, ADAPTER, ROUTE};
use super::{item, op, Tag};
use crate::paths;
use crate::wire::{AdapterInfo, Capabilities, DeploymentManager, DeploymentManagerList, Health};

/// The path items of the deployment managers.
pub(super) fn items() -> Vec<(&'static str, PathItemBuilder)> {
    let read = |id: &str, summary: &str, answer| {
        op(id, Tag::DeploymentManagers, summary)
            .responses(responses([answer], errors(&[ROUTE])))
            .build()
    };
    vec![
        (
            paths::DEPLOYMENT_MANAGERS,
            item(Vec::new()).operation(
                HttpMethod::Get,
                op(
                    "listDeploymentManagers",
                    Tag::DeploymentManagers,
                    "List the deployment managers this server hosts",
                )
                .responses(responses(
                    [ok(
                        "The deployment managers, in name order; for credentials limited to \
                         some deployment managers, only those.",
                        schema_of::<DeploymentManagerList>(),
                    )],
                    errors(&[&[400, 401, 500, 504]]),
                ))
                .build(),
            ),
        ),
        (
            paths::DEPLOYMENT_MANAGER,
            item(super::params::under_dm()).operation(
                HttpMethod::Get,
                read(
                    "getDeploymentManager",
                    "Read a deployment manager",
                    ok("The deployment manager.", schema_of::<DeploymentManager>()),
                ),
            ),
        ),
        (
            paths::INFO,
            item(super::params::under_dm()).operation(
                HttpMethod::Get,
                read(
                    "getAdapterInfo",
                    "Read the adapter's info",
                    ok("Who the adapter is.", schema_of::<AdapterInfo>()),
                ),
            ),
        ),
        (
            paths::CAPABILITIES,
            item(super::params::under_dm()).operation(
                HttpMethod::Get,
                read(
                    "getCapabilities",
                    "Read the adapter's capabilities",
                    ok("What the adapter can do.", schema_of::<Capabilities>()),
                ),
            ),
        ),
        (
            paths::HEALTH,
            item(super::params::under_dm()).operation(
                HttpMethod::Get,
                op(
                    "getHealth",
                    Tag::DeploymentManagers,
                    "Check the backend's health",
                )
                .responses(responses(
                    [ok("The result of the check.", schema_of::<Health>())],
                    errors(&[ROUTE, ADAPTER]),
                ))
                .build(),
            ),
        ),
    ]
}
