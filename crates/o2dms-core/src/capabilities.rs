//! What an adapter can do; the conformance suite runs only what it declares.

use serde::{Deserialize, Serialize};

/// Named capabilities. Unknown names are an error when deserializing.
///
/// Capabilities may be added, so build them from [`Capabilities::all`] or
/// [`Capabilities::none`] and set fields:
///
/// ```
/// use o2dms_core::Capabilities;
/// let mut caps = Capabilities::all();
/// caps.package_upload = false; // a read-only package store
/// assert_eq!(caps.get("package_upload"), Some(false));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
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
    /// Status detail from live workloads (progress, replicas, conditions).
    pub status_detail: bool,
    /// Logs of the workloads.
    pub logs: bool,
    /// Labels on deployments and label filters.
    pub labels: bool,
    /// Create honours its timeout and leaves a Failed deployment behind.
    pub timeouts: bool,
}

impl Capabilities {
    /// No capability.
    pub fn none() -> Self {
        Capabilities::default()
    }

    /// Every capability.
    pub fn all() -> Self {
        Capabilities {
            package_management: true,
            package_upload: true,
            deployment_lifecycle: true,
            rollback: true,
            scaling: true,
            history: true,
            status_detail: true,
            logs: true,
            labels: true,
            timeouts: true,
        }
    }

    /// Pairs of (name, value) in declaration order, with serde's names.
    pub fn named(&self) -> [(&'static str, bool); 10] {
        [
            ("package_management", self.package_management),
            ("package_upload", self.package_upload),
            ("deployment_lifecycle", self.deployment_lifecycle),
            ("rollback", self.rollback),
            ("scaling", self.scaling),
            ("history", self.history),
            ("status_detail", self.status_detail),
            ("logs", self.logs),
            ("labels", self.labels),
            ("timeouts", self.timeouts),
        ]
    }

    /// Whether the named capability is set; `None` for an unknown name.
    pub fn get(&self, name: &str) -> Option<bool> {
        self.named()
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
    }
}
