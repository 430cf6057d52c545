//! Operation events: Started, then Succeeded or Failed, for every mutating operation.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::ErrorKind;
use crate::time::Timestamp;

/// A mutating operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// `upload_package`.
    UploadPackage,
    /// `delete_package`.
    DeletePackage,
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
}

impl Operation {
    /// The trait method's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::UploadPackage => "upload_package",
            Operation::DeletePackage => "delete_package",
            Operation::CreateDeployment => "create_deployment",
            Operation::UpdateDeployment => "update_deployment",
            Operation::DeleteDeployment => "delete_deployment",
            Operation::ScaleDeployment => "scale_deployment",
            Operation::RollbackDeployment => "rollback_deployment",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an operation is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "phase")]
pub enum EventPhase {
    /// It started.
    Started,
    /// It finished; for deployments, at this revision.
    Succeeded {
        /// The deployment's revision afterwards, if it has one.
        revision: Option<u32>,
    },
    /// It failed.
    Failed {
        /// The error's kind.
        kind: ErrorKind,
        /// The error's message.
        message: String,
    },
}

/// One event of one operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationEvent {
    /// Unique per operation within one event source; Started and its end share it.
    pub operation_id: u64,
    /// Which operation.
    pub operation: Operation,
    /// What it acts on: the deployment id (`namespace/name`) or the package id.
    pub target: String,
    /// Where it is.
    #[serde(flatten)]
    pub phase: EventPhase,
    /// When.
    pub at: Timestamp,
}
