//! Who a deployment manager is, what it can do, whether it is healthy.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use o2dms_core::HealthStatus;

/// Who the adapter is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdapterInfo {
    /// Adapter name (`helm`, `mock`).
    pub name: String,
    /// Adapter version.
    pub version: String,
    /// Backend name.
    pub backend: String,
    /// Backend version, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_version: Option<String>,
}

impl From<o2dms_core::AdapterInfo> for AdapterInfo {
    fn from(i: o2dms_core::AdapterInfo) -> Self {
        AdapterInfo {
            name: i.name,
            version: i.version,
            backend: i.backend,
            backend_version: i.backend_version,
        }
    }
}

impl From<AdapterInfo> for o2dms_core::AdapterInfo {
    fn from(i: AdapterInfo) -> Self {
        o2dms_core::AdapterInfo {
            name: i.name,
            version: i.version,
            backend: i.backend,
            backend_version: i.backend_version,
        }
    }
}

/// What the adapter can do; a missing member is `false` (a capability an older server
/// does not know), an unknown one is ignored (one a newer server knows).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct Capabilities {
    /// Packages can be listed, read and deleted.
    pub package_management: bool,
    /// Packages can be uploaded.
    pub package_upload: bool,
    /// Deployments can be created, read, updated and deleted.
    pub deployment_lifecycle: bool,
    /// Rollback to an earlier revision.
    pub rollback: bool,
    /// Scaling through a values key.
    pub scaling: bool,
    /// Revision history.
    pub history: bool,
    /// Status detail from live workloads.
    pub status_detail: bool,
    /// Logs of the workloads.
    pub logs: bool,
    /// Labels on deployments and label filters.
    pub labels: bool,
    /// Create honours its timeout and leaves a Failed deployment behind.
    pub timeouts: bool,
}

impl From<o2dms_core::Capabilities> for Capabilities {
    fn from(c: o2dms_core::Capabilities) -> Self {
        Capabilities {
            package_management: c.package_management,
            package_upload: c.package_upload,
            deployment_lifecycle: c.deployment_lifecycle,
            rollback: c.rollback,
            scaling: c.scaling,
            history: c.history,
            status_detail: c.status_detail,
            logs: c.logs,
            labels: c.labels,
            timeouts: c.timeouts,
        }
    }
}

impl From<Capabilities> for o2dms_core::Capabilities {
    fn from(c: Capabilities) -> Self {
        let mut out = o2dms_core::Capabilities::none();
        out.package_management = c.package_management;
        out.package_upload = c.package_upload;
        out.deployment_lifecycle = c.deployment_lifecycle;
        out.rollback = c.rollback;
        out.scaling = c.scaling;
        out.history = c.history;
        out.status_detail = c.status_detail;
        out.logs = c.logs;
        out.labels = c.labels;
        out.timeouts = c.timeouts;
        out
    }
}

/// The result of a health check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    /// Overall health.
    #[schema(schema_with = super::schema::health_status)]
    pub status: HealthStatus,
    /// What was checked and what was seen.
    pub message: String,
}

impl From<o2dms_core::Health> for Health {
    fn from(h: o2dms_core::Health) -> Self {
        Health {
            status: h.status,
            message: h.message,
        }
    }
}

impl From<Health> for o2dms_core::Health {
    fn from(h: Health) -> Self {
        o2dms_core::Health {
            status: h.status,
            message: h.message,
        }
    }
}

/// One deployment manager a server hosts (one of the spec's `plugins.dms[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentManager {
    /// Its name, the `{dm}` of its paths.
    pub name: String,
    /// Its plugin type (`helm`, `mock`).
    #[serde(rename = "type")]
    pub dm_type: String,
    /// Its adapter's info.
    pub info: AdapterInfo,
}

/// The deployment managers a server hosts, in name order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentManagerList {
    /// The deployment managers.
    pub items: Vec<DeploymentManager>,
}
