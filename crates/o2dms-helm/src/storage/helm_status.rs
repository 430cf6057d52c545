//! Helm's release statuses, and the one [`DeploymentStatus`] each maps to.

use std::fmt;

use o2dms_core::DeploymentStatus;
use serde::{Deserialize, Deserializer};

/// A Helm release status, as Helm writes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub(crate) enum HelmStatus {
    /// `unknown`
    #[default]
    Unknown,
    /// `deployed`
    Deployed,
    /// `uninstalled`
    Uninstalled,
    /// `superseded`
    Superseded,
    /// `failed`
    Failed,
    /// `uninstalling`
    Uninstalling,
    /// `pending-install`
    PendingInstall,
    /// `pending-upgrade`
    PendingUpgrade,
    /// `pending-rollback`
    PendingRollback,
    /// Anything a future Helm might write; kept verbatim.
    Other(String),
}

impl HelmStatus {
    /// Every status Helm 3 and 4 know.
    #[cfg(test)]
    pub(crate) const KNOWN: [HelmStatus; 9] = [
        HelmStatus::Unknown,
        HelmStatus::Deployed,
        HelmStatus::Uninstalled,
        HelmStatus::Superseded,
        HelmStatus::Failed,
        HelmStatus::Uninstalling,
        HelmStatus::PendingInstall,
        HelmStatus::PendingUpgrade,
        HelmStatus::PendingRollback,
    ];

    /// Parses Helm's text.
    pub(crate) fn parse(s: &str) -> HelmStatus {
        match s {
            "unknown" => HelmStatus::Unknown,
            "deployed" => HelmStatus::Deployed,
            "uninstalled" => HelmStatus::Uninstalled,
            "superseded" => HelmStatus::Superseded,
            "failed" => HelmStatus::Failed,
            "uninstalling" => HelmStatus::Uninstalling,
            "pending-install" => HelmStatus::PendingInstall,
            "pending-upgrade" => HelmStatus::PendingUpgrade,
            "pending-rollback" => HelmStatus::PendingRollback,
            other => HelmStatus::Other(other.to_owned()),
        }
    }

    /// Helm's text.
    pub(crate) fn as_str(&self) -> &str {
        match self {
            HelmStatus::Unknown => "unknown",
            HelmStatus::Deployed => "deployed",
            HelmStatus::Uninstalled => "uninstalled",
            HelmStatus::Superseded => "superseded",
            HelmStatus::Failed => "failed",
            HelmStatus::Uninstalling => "uninstalling",
            HelmStatus::PendingInstall => "pending-install",
            HelmStatus::PendingUpgrade => "pending-upgrade",
            HelmStatus::PendingRollback => "pending-rollback",
            HelmStatus::Other(s) => s,
        }
    }

    /// Whether a writer holds (or held, and crashed holding) the release.
    pub(crate) fn is_pending(&self) -> bool {
        matches!(
            self,
            HelmStatus::PendingInstall | HelmStatus::PendingUpgrade | HelmStatus::PendingRollback
        )
    }

    /// The status of one revision, as history shows it: each Helm status maps to
    /// exactly one [`DeploymentStatus`]. Unrecognised text counts as `unknown`.
    pub(crate) fn revision_status(&self) -> DeploymentStatus {
        match self {
            HelmStatus::Unknown | HelmStatus::Other(_) => DeploymentStatus::Pending,
            HelmStatus::Deployed => DeploymentStatus::Deployed,
            HelmStatus::Uninstalled => DeploymentStatus::Deleted,
            HelmStatus::Superseded => DeploymentStatus::Superseded,
            HelmStatus::Failed => DeploymentStatus::Failed,
            HelmStatus::Uninstalling => DeploymentStatus::Deleting,
            HelmStatus::PendingInstall => DeploymentStatus::Deploying,
            HelmStatus::PendingUpgrade => DeploymentStatus::Upgrading,
            HelmStatus::PendingRollback => DeploymentStatus::RollingBack,
        }
    }

    /// The status of a live deployment whose newest revision has this status.
    ///
    /// Same as [`revision_status`](Self::revision_status) except that a newest revision
    /// left `superseded` (its successor's record was removed by hand) is reported as
    /// Failed: Helm itself refuses to upgrade such a release ("has no deployed releases").
    pub(crate) fn live_status(&self) -> DeploymentStatus {
        match self {
            HelmStatus::Superseded => DeploymentStatus::Failed,
            other => other.revision_status(),
        }
    }
}

impl fmt::Display for HelmStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for HelmStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Option::<String>::deserialize(d)?.unwrap_or_default();
        Ok(if s.is_empty() {
            HelmStatus::Unknown
        } else {
            HelmStatus::parse(&s)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_helm_status_maps_to_exactly_one_status() {
        use std::collections::HashSet;
        let mut seen = HashSet::new();
        for s in HelmStatus::KNOWN {
            assert_eq!(HelmStatus::parse(s.as_str()), s, "round trip");
            assert!(
                seen.insert(s.revision_status()),
                "{s} maps to a fresh status"
            );
            assert_ne!(
                s.live_status(),
                DeploymentStatus::Superseded,
                "superseded is never live"
            );
        }
        assert_eq!(seen.len(), 9);
        assert_eq!(
            HelmStatus::Superseded.revision_status(),
            DeploymentStatus::Superseded
        );
        let pending: Vec<_> = HelmStatus::KNOWN
            .iter()
            .filter(|s| s.is_pending())
            .collect();
        assert_eq!(pending.len(), 3);
        assert!(pending.iter().all(|s| s.live_status().is_in_progress()));
        assert_eq!(
            HelmStatus::parse("something-new").revision_status(),
            DeploymentStatus::Pending
        );
    }
}
