//! What a deployment is doing: status detail, revisions, logs.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use o2dms_core::{ConditionStatus, DeploymentStatus, Error, PackageId, Timestamp, Values};

/// Replica counts summed over a deployment's workloads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplicaCounts {
    /// Replicas asked for.
    pub desired: u32,
    /// Replicas running the current template.
    pub updated: u32,
    /// Replicas ready.
    pub ready: u32,
    /// Replicas available.
    pub available: u32,
}

impl From<o2dms_core::ReplicaCounts> for ReplicaCounts {
    fn from(r: o2dms_core::ReplicaCounts) -> Self {
        ReplicaCounts {
            desired: r.desired,
            updated: r.updated,
            ready: r.ready,
            available: r.available,
        }
    }
}

impl From<ReplicaCounts> for o2dms_core::ReplicaCounts {
    fn from(r: ReplicaCounts) -> Self {
        o2dms_core::ReplicaCounts {
            desired: r.desired,
            updated: r.updated,
            ready: r.ready,
            available: r.available,
        }
    }
}

/// One condition (`Available`, `Progressing`, ...), as in Kubernetes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// Condition type, prefixed by the workload when there are several.
    pub kind: String,
    /// Whether it holds.
    #[schema(schema_with = super::schema::condition_status)]
    pub status: ConditionStatus,
    /// Machine-readable reason.
    pub reason: String,
    /// Human message.
    pub message: String,
    /// When it last changed (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_transition: Option<Timestamp>,
}

impl From<o2dms_core::Condition> for Condition {
    fn from(c: o2dms_core::Condition) -> Self {
        Condition {
            kind: c.kind,
            status: c.status,
            reason: c.reason,
            message: c.message,
            last_transition: c.last_transition,
        }
    }
}

impl From<Condition> for o2dms_core::Condition {
    fn from(c: Condition) -> Self {
        o2dms_core::Condition {
            kind: c.kind,
            status: c.status,
            reason: c.reason,
            message: c.message,
            last_transition: c.last_transition,
        }
    }
}

/// One workload a deployment runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadStatus {
    /// `Deployment`, `StatefulSet`, `DaemonSet` or `Job`.
    pub kind: String,
    /// Its name.
    pub name: String,
    /// Its replica counts.
    pub replicas: ReplicaCounts,
    /// Whether it is ready.
    pub ready: bool,
}

impl From<o2dms_core::WorkloadStatus> for WorkloadStatus {
    fn from(w: o2dms_core::WorkloadStatus) -> Self {
        WorkloadStatus {
            kind: w.kind,
            name: w.name,
            replicas: w.replicas.into(),
            ready: w.ready,
        }
    }
}

impl From<WorkloadStatus> for o2dms_core::WorkloadStatus {
    fn from(w: WorkloadStatus) -> Self {
        o2dms_core::WorkloadStatus {
            kind: w.kind,
            name: w.name,
            replicas: w.replicas.into(),
            ready: w.ready,
        }
    }
}

/// A deployment's status with the detail from its live workloads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusDetail {
    /// The one status.
    #[schema(schema_with = super::schema::deployment_status)]
    pub status: DeploymentStatus,
    /// What a person should know.
    pub message: String,
    /// 0-100.
    pub progress: u8,
    /// Sums over all workloads.
    pub replicas: ReplicaCounts,
    /// Conditions of the deployment and its workloads.
    #[serde(default)]
    pub conditions: Vec<Condition>,
    /// Each workload.
    #[serde(default)]
    pub workloads: Vec<WorkloadStatus>,
}

impl From<o2dms_core::StatusDetail> for StatusDetail {
    fn from(s: o2dms_core::StatusDetail) -> Self {
        StatusDetail {
            status: s.status,
            message: s.message,
            progress: s.progress,
            replicas: s.replicas.into(),
            conditions: s.conditions.into_iter().map(Into::into).collect(),
            workloads: s.workloads.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<StatusDetail> for o2dms_core::StatusDetail {
    fn from(s: StatusDetail) -> Self {
        o2dms_core::StatusDetail {
            status: s.status,
            message: s.message,
            progress: s.progress,
            replicas: s.replicas.into(),
            conditions: s.conditions.into_iter().map(Into::into).collect(),
            workloads: s.workloads.into_iter().map(Into::into).collect(),
        }
    }
}

/// One revision of a deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Revision {
    /// Revision number, from 1.
    pub revision: u32,
    /// The package id it ran.
    pub package: String,
    /// Its status.
    #[schema(schema_with = super::schema::deployment_status)]
    pub status: DeploymentStatus,
    /// What made it.
    pub description: String,
    /// Its user-supplied values.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub values: Values,
    /// When it was made (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<o2dms_core::Revision> for Revision {
    fn from(r: o2dms_core::Revision) -> Self {
        Revision {
            revision: r.revision,
            package: r.package.to_string(),
            status: r.status,
            description: r.description,
            values: r.values,
            updated_at: r.updated_at,
        }
    }
}

impl TryFrom<Revision> for o2dms_core::Revision {
    type Error = Error;

    fn try_from(r: Revision) -> Result<Self, Error> {
        Ok(o2dms_core::Revision {
            revision: r.revision,
            package: PackageId::new(r.package)?,
            status: r.status,
            description: r.description,
            values: r.values,
            updated_at: r.updated_at,
        })
    }
}

/// A deployment's revisions, ascending.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Revisions {
    /// The revisions, oldest first.
    pub items: Vec<Revision>,
}

impl From<Vec<o2dms_core::Revision>> for Revisions {
    fn from(r: Vec<o2dms_core::Revision>) -> Self {
        Revisions {
            items: r.into_iter().map(Into::into).collect(),
        }
    }
}

impl TryFrom<Revisions> for Vec<o2dms_core::Revision> {
    type Error = Error;

    fn try_from(r: Revisions) -> Result<Self, Error> {
        r.items
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                r.try_into()
                    .map_err(|e| super::at(&format!("items[{i}]"), e))
            })
            .collect()
    }
}

/// One log line and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogLine {
    /// Pod name.
    pub pod: String,
    /// Container name.
    pub container: String,
    /// The line, without its newline.
    pub line: String,
}

/// The log lines read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Logs {
    /// Lines, grouped by pod and container in name order.
    pub lines: Vec<LogLine>,
    /// Whether `limitBytes` cut the output short.
    pub truncated: bool,
}

impl From<o2dms_core::Logs> for Logs {
    fn from(l: o2dms_core::Logs) -> Self {
        Logs {
            lines: l
                .lines
                .into_iter()
                .map(|l| LogLine {
                    pod: l.pod,
                    container: l.container,
                    line: l.line,
                })
                .collect(),
            truncated: l.truncated,
        }
    }
}

impl From<Logs> for o2dms_core::Logs {
    fn from(l: Logs) -> Self {
        o2dms_core::Logs {
            lines: l
                .lines
                .into_iter()
                .map(|l| o2dms_core::LogLine {
                    pod: l.pod,
                    container: l.container,
                    line: l.line,
                })
                .collect(),
            truncated: l.truncated,
        }
    }
}
