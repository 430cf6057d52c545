//! The operation resource: one write, accepted with 202 and followed at its `Location`,
//! shaped after ETSI NFV-SOL 003's LCM operation occurrences.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use o2dms_core::{Error, Operation, Timestamp};

use super::{Deployment, Package};
use crate::problem::Problem;

/// The state of an operation (SOL 003 `LcmOperationStateType`).
///
/// A server uses five: `STARTING` (accepted, waiting for its turn: writes to one
/// deployment run one at a time), `PROCESSING` (the adapter call is running),
/// `COMPLETED` (it returned a result), `FAILED` (it returned an error, in `error`; final),
/// `FAILED_TEMP` (interrupted, by a server restart for one: the outcome is unknown until
/// it is retried, rolled back or failed). `ROLLING_BACK` and `ROLLED_BACK` are SOL 003's
/// states for the rollback of a `FAILED_TEMP` operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OperationState {
    /// Accepted, not begun.
    Starting,
    /// Running.
    Processing,
    /// Finished with a result.
    Completed,
    /// Interrupted; can be retried, rolled back or failed.
    FailedTemp,
    /// Finished with an error.
    Failed,
    /// Being rolled back.
    RollingBack,
    /// Rolled back.
    RolledBack,
}

impl OperationState {
    /// Whether the operation is over (`COMPLETED`, `FAILED`, `ROLLED_BACK`).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            OperationState::Completed | OperationState::Failed | OperationState::RolledBack
        )
    }
}

/// What an operation acts on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum OperationTarget {
    /// A deployment.
    Deployment {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
    },
    /// A package; an upload has no id until it completes.
    Package {
        /// The package id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
}

/// One write and how it went: `GET operations/{operationId}`, the `Location` of every
/// 202.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OperationOccurrence {
    /// The operation id, the `{operationId}` of its path.
    pub id: String,
    /// The trait operation (`create_deployment`, `upload_package`, ...).
    #[schema(schema_with = super::schema::operation)]
    pub operation: Operation,
    /// What it acts on.
    pub target: OperationTarget,
    /// The deployment manager it runs on.
    pub deployment_manager: String,
    /// Its state.
    pub state: OperationState,
    /// When it was accepted (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub start_time: Timestamp,
    /// When it entered its current state (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub state_entered_time: Timestamp,
    /// When it finished, once final (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub end_time: Option<Timestamp>,
    /// The deployment's revision it made, once completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<u32>,
    /// The deployment, once completed (create, update, scale, rollback).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Deployment>,
    /// The package, once an upload completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<Package>,
    /// The error, once failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Problem>,
}

impl OperationOccurrence {
    /// The outcome of a final operation: its error, or `Ok(self)` to read the result.
    /// `None` while it is not over (or interrupted, `FAILED_TEMP`, without an error).
    pub fn outcome(self) -> Option<Result<Self, Error>> {
        match (self.state, self.error.clone()) {
            (OperationState::Failed | OperationState::FailedTemp, Some(p)) => {
                Some(Err(p.into_error()))
            }
            (s, _) if s.is_final() => Some(Ok(self)),
            _ => None,
        }
    }

    /// The deployment of a completed operation, converted to the core type.
    pub fn into_deployment(self) -> Result<o2dms_core::Deployment, Error> {
        let d = self.result.ok_or_else(|| {
            Error::backend(format!(
                "operation {} completed without a deployment",
                self.id
            ))
        })?;
        d.try_into().map_err(|e| super::at("result", e))
    }

    /// The package of a completed upload, converted to the core type.
    pub fn into_package(self) -> Result<o2dms_core::Package, Error> {
        let p = self.package.ok_or_else(|| {
            Error::backend(format!("operation {} completed without a package", self.id))
        })?;
        p.try_into().map_err(|e| super::at("package", e))
    }
}
