//! Operation events: Started, then Succeeded or Failed, for every mutating operation.

use serde::{Deserialize, Serialize};

use crate::error::ErrorKind;
use crate::operation::Operation;
use crate::time::Timestamp;

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
    /// Which operation (always a mutating one).
    pub operation: Operation,
    /// What it acts on: the deployment id (`namespace/name`) or the package id.
    pub target: String,
    /// Where it is.
    #[serde(flatten)]
    pub phase: EventPhase,
    /// When.
    pub at: Timestamp,
}
