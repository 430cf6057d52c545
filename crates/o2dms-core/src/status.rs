//! Status detail read from the live workloads.

use serde::{Deserialize, Serialize};

use crate::deployment::DeploymentStatus;
use crate::time::Timestamp;

/// Replica counts summed over a deployment's workloads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicaCounts {
    /// Replicas asked for.
    pub desired: u32,
    /// Replicas running the current template.
    pub updated: u32,
    /// Replicas ready.
    pub ready: u32,
    /// Replicas available (ready for at least minReadySeconds).
    pub available: u32,
}

impl ReplicaCounts {
    /// Progress 0-100: the share of desired replicas that are updated and available.
    /// With nothing desired the rollout is complete (100).
    pub fn progress(&self) -> u8 {
        if self.desired == 0 {
            return 100;
        }
        let done = u64::from(self.updated.min(self.available).min(self.desired));
        u8::try_from(done * 100 / u64::from(self.desired)).unwrap_or(100)
    }
}

/// True, False or Unknown, as in Kubernetes conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ConditionStatus {
    /// The condition holds.
    True,
    /// It does not.
    False,
    /// Not known.
    Unknown,
}

/// One condition, e.g. `Available` or `Progressing`, with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    /// Condition type (`Available`, `Progressing`, `Ready`, ...), prefixed by the
    /// workload (`Deployment/web: Available`) when the adapter has several.
    pub kind: String,
    /// Whether it holds.
    pub status: ConditionStatus,
    /// Machine-readable reason (`MinimumReplicasAvailable`, `ErrImagePull`).
    pub reason: String,
    /// Human message.
    pub message: String,
    /// When it last changed.
    pub last_transition: Option<Timestamp>,
}

/// One workload a deployment runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// A deployment's status with the detail from its live workloads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusDetail {
    /// The one status.
    pub status: DeploymentStatus,
    /// What a person should know, e.g. why it failed.
    pub message: String,
    /// 0-100, from the workloads' replica counts.
    pub progress: u8,
    /// Sums over all workloads.
    pub replicas: ReplicaCounts,
    /// Conditions of the deployment and its workloads.
    pub conditions: Vec<Condition>,
    /// Each workload.
    pub workloads: Vec<WorkloadStatus>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_counts_updated_and_available() {
        let r = |desired, updated, available| ReplicaCounts {
            desired,
            updated,
            ready: available,
            available,
        };
        assert_eq!(r(0, 0, 0).progress(), 100);
        assert_eq!(r(4, 4, 2).progress(), 50);
        assert_eq!(r(4, 1, 4).progress(), 25);
        assert_eq!(r(3, 3, 3).progress(), 100);
        assert_eq!(r(2, 5, 5).progress(), 100);
    }
}
