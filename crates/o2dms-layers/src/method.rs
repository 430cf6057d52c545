//! Names for every trait method, for per-operation settings.

use std::fmt;

/// One method of the [`DmsAdapter`](o2dms_core::DmsAdapter) trait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
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

impl Method {
    /// The trait method's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Health => "health",
            Method::ListPackages => "list_packages",
            Method::GetPackage => "get_package",
            Method::UploadPackage => "upload_package",
            Method::DeletePackage => "delete_package",
            Method::ListDeployments => "list_deployments",
            Method::GetDeployment => "get_deployment",
            Method::CreateDeployment => "create_deployment",
            Method::UpdateDeployment => "update_deployment",
            Method::DeleteDeployment => "delete_deployment",
            Method::ScaleDeployment => "scale_deployment",
            Method::RollbackDeployment => "rollback_deployment",
            Method::DeploymentStatus => "deployment_status",
            Method::DeploymentHistory => "deployment_history",
            Method::DeploymentLogs => "deployment_logs",
        }
    }

    /// Whether the method changes anything.
    pub fn is_mutating(self) -> bool {
        matches!(
            self,
            Method::UploadPackage
                | Method::DeletePackage
                | Method::CreateDeployment
                | Method::UpdateDeployment
                | Method::DeleteDeployment
                | Method::ScaleDeployment
                | Method::RollbackDeployment
        )
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
