//! The status detail of a deployment: its release status plus what its live workloads say.

use o2dms_core::{
    Condition, ConditionStatus, DeploymentStatus, ReplicaCounts, StatusDetail, WorkloadStatus,
};

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
            let why = first_reason(w)
                .map(|r| format!(" ({r})"))
                .unwrap_or_default();
            if w.reference.kind.has_replicas() || w.replicas.desired > 0 {
                format!(
                    "{} {}/{} ready{why}",
                    w.reference.label(),
                    w.replicas.ready,
                    w.replicas.desired
                )
            } else {
                format!("{}{why}", w.reference.label())
            }
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
    // Nothing is complete while any part is missing or not ready (a Service waiting for
    // a load balancer has no replicas to count).
    let progress = if live.iter().any(|w| !w.exists || !w.ready) {
        total.progress().min(99)
    } else {
        total.progress()
    };
    StatusDetail {
        status,
        message,
        progress,
        replicas: total,
        conditions: live.iter().flat_map(truthful_conditions).collect(),
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

/// The reason of the first condition that is not met, skipping the workload's own
/// `Available`/`Progressing` (which say that, not why).
fn first_reason(w: &LiveWorkload) -> Option<&str> {
    w.conditions
        .iter()
        .filter(|c| c.status == ConditionStatus::False && !c.reason.is_empty())
        .find(|c| c.kind.starts_with("Pod/") || c.kind.ends_with(": LoadBalancer"))
        .or_else(|| {
            w.conditions
                .iter()
                .find(|c| c.status == ConditionStatus::False && !c.reason.is_empty())
        })
        .map(|c| c.reason.as_str())
}

/// A workload's conditions, except that `Available=True` is not shown beside no ready
/// replica (Kubernetes reports it when `maxUnavailable` allows zero): it reads False,
/// saying so.
fn truthful_conditions(w: &LiveWorkload) -> Vec<Condition> {
    let none_ready = w.replicas.desired > 0 && w.replicas.ready == 0;
    w.conditions
        .iter()
        .cloned()
        .map(|mut c| {
            if none_ready && c.kind.ends_with(": Available") && c.status == ConditionStatus::True {
                c.status = ConditionStatus::False;
                c.reason = "NoReadyReplicas".to_owned();
                c.message = format!(
                    "none of {} replicas is ready (Kubernetes reports it available: {})",
                    w.replicas.desired, c.message
                );
            }
            c
        })
        .collect()
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

    #[test]
    fn reasons_are_shown_and_available_is_not_claimed_without_ready_replicas() {
        let cond = |kind: &str, status: ConditionStatus, reason: &str| Condition {
            kind: kind.into(),
            status,
            reason: reason.into(),
            message: "m".into(),
            last_transition: None,
        };
        let mut pulling = lw("web", true, (1, 1, 0, 0), false);
        pulling.conditions = vec![
            cond(
                "Deployment/web: Available",
                ConditionStatus::True,
                "MinimumReplicasAvailable",
            ),
            cond("Pod/web-1: app", ConditionStatus::False, "ImagePullBackOff"),
        ];
        let d = detail(DeploymentStatus::Failed, "Install failed", &[pulling]);
        assert_eq!(
            d.message,
            "Install failed; not ready: Deployment/web 0/1 ready (ImagePullBackOff)"
        );
        let available = &d.conditions[0];
        assert_eq!(
            (available.status, available.reason.as_str()),
            (ConditionStatus::False, "NoReadyReplicas")
        );
        assert_eq!(d.conditions[1].reason, "ImagePullBackOff");

        // every replica ready, but a LoadBalancer Service without an address: not 100 %
        let mut lb = lw("web", true, (0, 0, 0, 0), false);
        lb.reference.kind = WorkloadKind::LoadBalancer;
        lb.conditions = vec![cond(
            "Service/web: LoadBalancer",
            ConditionStatus::False,
            "Pending",
        )];
        let d = detail(
            DeploymentStatus::Failed,
            "",
            &[lw("app", true, (1, 1, 1, 1), true), lb],
        );
        assert_eq!(d.progress, 99);
        assert_eq!(d.message, "not ready: Service/web (Pending)");
    }
}
