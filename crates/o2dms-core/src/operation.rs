//! [`Operation`]: the one name of every trait method, for events, time limits, fault
//! injection, metrics and reports.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// One operation of the [`DmsAdapter`](crate::DmsAdapter) trait, reads included.
///
/// Serialized (and printed) as the trait method's name, `scale_deployment`. New
/// operations may be added, so matches need a wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Operation {
    /// `health`.
    Health,
    /// `list_packages`.
    ListPackages,
    /// `get_package`.
    GetPackage,
    /// `upload_package`.
    UploadPackage,
    /// `delete_package`.
    DeletePackage,
    /// `list_deployments`.
    ListDeployments,
    /// `get_deployment`.
    GetDeployment,
    /// `create_deployment`.
    CreateDeployment,
    /// `update_deployment`.
    UpdateDeployment,
    /// `delete_deployment`.
    DeleteDeployment,
    /// `scale_deployment`.
    ScaleDeployment,
    /// `rollback_deployment`.
    RollbackDeployment,
    /// `deployment_status`.
    DeploymentStatus,
    /// `deployment_history`.
    DeploymentHistory,
    /// `deployment_logs`.
    DeploymentLogs,
}

impl Operation {
    /// Every operation, in trait order.
    pub const ALL: [Operation; 15] = [
        Operation::Health,
        Operation::ListPackages,
        Operation::GetPackage,
        Operation::UploadPackage,
        Operation::DeletePackage,
        Operation::ListDeployments,
        Operation::GetDeployment,
        Operation::CreateDeployment,
        Operation::UpdateDeployment,
        Operation::DeleteDeployment,
        Operation::ScaleDeployment,
        Operation::RollbackDeployment,
        Operation::DeploymentStatus,
        Operation::DeploymentHistory,
        Operation::DeploymentLogs,
    ];

    /// The trait method's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Health => "health",
            Operation::ListPackages => "list_packages",
            Operation::GetPackage => "get_package",
            Operation::UploadPackage => "upload_package",
            Operation::DeletePackage => "delete_package",
            Operation::ListDeployments => "list_deployments",
            Operation::GetDeployment => "get_deployment",
            Operation::CreateDeployment => "create_deployment",
            Operation::UpdateDeployment => "update_deployment",
            Operation::DeleteDeployment => "delete_deployment",
            Operation::ScaleDeployment => "scale_deployment",
            Operation::RollbackDeployment => "rollback_deployment",
            Operation::DeploymentStatus => "deployment_status",
            Operation::DeploymentHistory => "deployment_history",
            Operation::DeploymentLogs => "deployment_logs",
        }
    }

    /// Whether the operation changes anything (and so emits operation events).
    pub fn is_mutating(self) -> bool {
        matches!(
            self,
            Operation::UploadPackage
                | Operation::DeletePackage
                | Operation::CreateDeployment
                | Operation::UpdateDeployment
                | Operation::DeleteDeployment
                | Operation::ScaleDeployment
                | Operation::RollbackDeployment
        )
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Operation {
    type Err = Error;

    /// Parses a trait method's name (`scale_deployment`).
    fn from_str(s: &str) -> Result<Self, Error> {
        Operation::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| Error::invalid("operation", format!("`{s}` is not an operation")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_text_and_serde() {
        for op in Operation::ALL {
            assert_eq!(op.as_str().parse::<Operation>().unwrap(), op);
            assert_eq!(
                serde_json::to_string(&op).unwrap(),
                format!("\"{}\"", op.as_str())
            );
        }
        assert!("scale".parse::<Operation>().is_err());
        let writes: Vec<_> = Operation::ALL
            .into_iter()
            .filter(|o| o.is_mutating())
            .collect();
        assert_eq!(writes.len(), 7);
        assert!(!Operation::GetDeployment.is_mutating());
    }
}
