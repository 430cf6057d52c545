//! Route templates (`{dm}`-style parameters, as in OpenAPI and axum 0.8) and the
//! functions that build concrete paths from them, segments percent-encoded
//! ([`crate::segment`]).
//!
//! | template | methods |
//! | --- | --- |
//! | [`DEPLOYMENT_MANAGERS`] | GET: the deployment managers this server hosts |
//! | [`DEPLOYMENT_MANAGER`] | GET: one of them |
//! | [`INFO`], [`CAPABILITIES`], [`HEALTH`] | GET |
//! | [`DEPLOYMENTS`] | GET list, POST create (202) |
//! | [`DEPLOYMENT`] | GET, PATCH update (202), DELETE (202) |
//! | [`SCALE`], [`ROLLBACK`] | POST (202) |
//! | [`STATUS`], [`HISTORY`], [`LOGS`] | GET |
//! | [`PACKAGES`] | GET list, POST upload (202; the body is the archive) |
//! | [`PACKAGE`] | GET, DELETE (202) |
//! | [`OPERATIONS`], [`OPERATION`] | GET: operation resources |

use o2dms_core::{DeploymentId, PackageId};

use crate::segment::encode;

/// The API's base path.
pub const BASE: &str = "/o2dms/v1";
/// The deployment managers this server hosts.
pub const DEPLOYMENT_MANAGERS: &str = "/o2dms/v1/deploymentManagers";
/// One deployment manager.
pub const DEPLOYMENT_MANAGER: &str = "/o2dms/v1/deploymentManagers/{dm}";
/// Its adapter's info.
pub const INFO: &str = "/o2dms/v1/deploymentManagers/{dm}/info";
/// Its adapter's capabilities.
pub const CAPABILITIES: &str = "/o2dms/v1/deploymentManagers/{dm}/capabilities";
/// Its backend's health.
pub const HEALTH: &str = "/o2dms/v1/deploymentManagers/{dm}/health";
/// Its deployments.
pub const DEPLOYMENTS: &str = "/o2dms/v1/deploymentManagers/{dm}/deployments";
/// One deployment.
pub const DEPLOYMENT: &str = "/o2dms/v1/deploymentManagers/{dm}/deployments/{namespace}/{name}";
/// Scale a deployment.
pub const SCALE: &str = "/o2dms/v1/deploymentManagers/{dm}/deployments/{namespace}/{name}/scale";
/// Roll a deployment back.
pub const ROLLBACK: &str =
    "/o2dms/v1/deploymentManagers/{dm}/deployments/{namespace}/{name}/rollback";
/// A deployment's status detail.
pub const STATUS: &str = "/o2dms/v1/deploymentManagers/{dm}/deployments/{namespace}/{name}/status";
/// A deployment's revisions.
pub const HISTORY: &str =
    "/o2dms/v1/deploymentManagers/{dm}/deployments/{namespace}/{name}/history";
/// A deployment's logs.
pub const LOGS: &str = "/o2dms/v1/deploymentManagers/{dm}/deployments/{namespace}/{name}/logs";
/// Its packages.
pub const PACKAGES: &str = "/o2dms/v1/deploymentManagers/{dm}/packages";
/// One package; the id is one percent-encoded segment.
pub const PACKAGE: &str = "/o2dms/v1/deploymentManagers/{dm}/packages/{packageId}";
/// Its operations (writes in progress and finished).
pub const OPERATIONS: &str = "/o2dms/v1/deploymentManagers/{dm}/operations";
/// One operation.
pub const OPERATION: &str = "/o2dms/v1/deploymentManagers/{dm}/operations/{operationId}";

/// The path of [`DEPLOYMENT_MANAGERS`].
pub fn deployment_managers() -> String {
    DEPLOYMENT_MANAGERS.to_owned()
}

/// The path of [`DEPLOYMENT_MANAGER`].
pub fn deployment_manager(dm: &str) -> String {
    format!("{DEPLOYMENT_MANAGERS}/{}", encode(dm))
}

/// The path of [`INFO`].
pub fn info(dm: &str) -> String {
    format!("{}/info", deployment_manager(dm))
}

/// The path of [`CAPABILITIES`].
pub fn capabilities(dm: &str) -> String {
    format!("{}/capabilities", deployment_manager(dm))
}

/// The path of [`HEALTH`].
pub fn health(dm: &str) -> String {
    format!("{}/health", deployment_manager(dm))
}

/// The path of [`DEPLOYMENTS`].
pub fn deployments(dm: &str) -> String {
    format!("{}/deployments", deployment_manager(dm))
}

/// The path of [`DEPLOYMENT`].
pub fn deployment(dm: &str, id: &DeploymentId) -> String {
    format!(
        "{}/{}/{}",
        deployments(dm),
        encode(&id.namespace),
        encode(&id.name)
    )
}

/// The path of [`SCALE`].
pub fn scale(dm: &str, id: &DeploymentId) -> String {
    format!("{}/scale", deployment(dm, id))
}

/// The path of [`ROLLBACK`].
pub fn rollback(dm: &str, id: &DeploymentId) -> String {
    format!("{}/rollback", deployment(dm, id))
}

/// The path of [`STATUS`].
pub fn status(dm: &str, id: &DeploymentId) -> String {
    format!("{}/status", deployment(dm, id))
}

/// The path of [`HISTORY`].
pub fn history(dm: &str, id: &DeploymentId) -> String {
    format!("{}/history", deployment(dm, id))
}

/// The path of [`LOGS`].
pub fn logs(dm: &str, id: &DeploymentId) -> String {
    format!("{}/logs", deployment(dm, id))
}

/// The path of [`PACKAGES`].
pub fn packages(dm: &str) -> String {
    format!("{}/packages", deployment_manager(dm))
}

/// The path of [`PACKAGE`], the id percent-encoded.
pub fn package(dm: &str, id: &PackageId) -> String {
    format!("{}/{}", packages(dm), encode(id.as_str()))
}

/// The path of [`OPERATIONS`].
pub fn operations(dm: &str) -> String {
    format!("{}/operations", deployment_manager(dm))
}

/// The path of [`OPERATION`].
pub fn operation(dm: &str, id: &str) -> String {
    format!("{}/{}", operations(dm), encode(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill(template: &str, vars: &[(&str, &str)]) -> String {
        vars.iter().fold(template.to_owned(), |t, (k, v)| {
            t.replace(&format!("{{{k}}}"), v)
        })
    }

    #[test]
    fn builders_follow_the_templates() {
        let id = DeploymentId::new("ran", "du-1").unwrap();
        let d = [("dm", "edge"), ("namespace", "ran"), ("name", "du-1")];
        assert_eq!(deployment_managers(), DEPLOYMENT_MANAGERS);
        assert_eq!(deployment_manager("edge"), fill(DEPLOYMENT_MANAGER, &d));
        assert_eq!(info("edge"), fill(INFO, &d));
        assert_eq!(capabilities("edge"), fill(CAPABILITIES, &d));
        assert_eq!(health("edge"), fill(HEALTH, &d));
        assert_eq!(deployments("edge"), fill(DEPLOYMENTS, &d));
        assert_eq!(deployment("edge", &id), fill(DEPLOYMENT, &d));
        assert_eq!(scale("edge", &id), fill(SCALE, &d));
        assert_eq!(rollback("edge", &id), fill(ROLLBACK, &d));
        assert_eq!(status("edge", &id), fill(STATUS, &d));
        assert_eq!(history("edge", &id), fill(HISTORY, &d));
        assert_eq!(logs("edge", &id), fill(LOGS, &d));
        assert_eq!(packages("edge"), fill(PACKAGES, &d));
        let pkg = PackageId::new("oci:reg/du@1.2.0").unwrap();
        assert_eq!(
            package("edge", &pkg),
            fill(
                PACKAGE,
                &[("dm", "edge"), ("packageId", "oci:reg%2Fdu@1.2.0")]
            )
        );
        assert_eq!(operations("edge"), fill(OPERATIONS, &d));
        assert_eq!(
            operation("edge", "op-1"),
            fill(OPERATION, &[("dm", "edge"), ("operationId", "op-1")])
        );
        assert!(DEPLOYMENT_MANAGERS.starts_with(BASE));
    }
}
