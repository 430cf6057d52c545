//! The status detail of a deployment: its release status plus what its live workloads say.

use o2dms_core::{DeploymentStatus, ReplicaCounts, StatusDetail, WorkloadStatus};

use super::LiveWorkload;

/// Builds the status detail from the release status and its live workloads.
pub(crate) fn detail(
    status: DeploymentStatus,
    description: &str,
    live: &[LiveWorkload],
) -> StatusDetail {
    let mut total = ReplicaCounts::default();
    for w in live {
        total.desired += w.replicas.desired;
        total.updated += w.replicas.updated;
        total.ready += w.replicas.ready;
        total.available += w.replicas.available;
    }
    let not_ready: Vec<String> = live
        .iter()
        .filter(|w| !w.ready)
        .map(|w| {
            format!(
                "{} {}/{} ready",
                w.reference.label(),
                w.replicas.ready,
                w.replicas.desired
            )
        })
        .collect();
    let mut message = description.to_owned();
    if !not_ready.is_empty() {
        if !message.is_empty() {
            message.push_str("; ");
        }
        message.push_str("not ready: ");
        message.push_str(&not_ready.join(", "));
    }
    let progress = if live.iter().any(|w| !w.exists) {
        total.progress().min(99)
    } else {
        total.progress()
    };
    StatusDetail {
        status,
        message,
        progress,
        replicas: total,
        conditions: live.iter().flat_map(|w| w.conditions.clone()).collect(),
        workloads: live
            .iter()
            .map(|w| WorkloadStatus {
                kind: w.reference.kind.as_str().to_owned(),
                name: w.reference.name.clone(),
                replicas: w.replicas,
                ready: w.ready,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{WorkloadKind, WorkloadRef};

    fn lw(name: &str, exists: bool, r: (u32, u32, u32, u32), ready: bool) -> LiveWorkload {
        LiveWorkload {
            reference: WorkloadRef {
                kind: WorkloadKind::Deployment,
                namespace: "ns".into(),
                name: name.into(),
                replicas: None,
            },
            exists,
            spec_replicas: Some(r.0 as i32),
            replicas: ReplicaCounts {
                desired: r.0,
                updated: r.1,
                ready: r.2,
                available: r.3,
            },
            ready,
            conditions: vec![],
            selector: None,
        }
    }

    #[test]
    fn detail_sums_and_explains() {
        let d = detail(
            DeploymentStatus::Deploying,
            "Preparing upgrade",
            &[
                lw("a", true, (2, 2, 2, 2), true),
                lw("b", true, (2, 2, 0, 0), false),
            ],
        );
        assert_eq!(d.replicas.desired, 4);
        assert_eq!(d.progress, 50);
        assert_eq!(
            d.message,
            "Preparing upgrade; not ready: Deployment/b 0/2 ready"
        );
        assert_eq!(d.workloads.len(), 2);
        let none = detail(DeploymentStatus::Deployed, "Install complete", &[]);
        assert_eq!(none.progress, 100);
        assert_eq!(none.message, "Install complete");
        let missing = detail(
            DeploymentStatus::Deployed,
            "",
            &[lw("gone", false, (0, 0, 0, 0), false)],
        );
        assert_eq!(missing.progress, 99);
    }
}
