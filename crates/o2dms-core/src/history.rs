//! Revisions: the history of a deployment.

use serde::{Deserialize, Serialize};

use crate::deployment::DeploymentStatus;
use crate::ids::PackageId;
use crate::time::Timestamp;
use crate::values::Values;

/// One revision of a deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Revision {
    /// Revision number, from 1.
    pub revision: u32,
    /// The package it ran.
    pub package: PackageId,
    /// Its status (old revisions are usually [`DeploymentStatus::Superseded`]).
    pub status: DeploymentStatus,
    /// What made it (`Install complete`, `Rollback to 2`, ...).
    pub description: String,
    /// Its user-supplied values.
    pub values: Values,
    /// When it was made.
    pub updated_at: Timestamp,
}

/// Options for reading history.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct HistoryOptions {
    /// Return at most the newest `limit` revisions (still ascending); all if unset.
    pub limit: Option<u32>,
}

impl HistoryOptions {
    /// Every revision kept.
    pub fn all() -> Self {
        HistoryOptions::default()
    }

    /// The newest `limit` revisions (still ascending).
    pub fn last(limit: u32) -> Self {
        HistoryOptions { limit: Some(limit) }
    }
}
