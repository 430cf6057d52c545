//! Why a workload is not ready, from its pods: containers waiting for a reason
//! (ImagePullBackOff, CrashLoopBackOff, CreateContainerConfigError, ...), pods the
//! scheduler could not place. Read only for workloads that are not ready, so a healthy
//! status costs nothing more.

use k8s_openapi::api::core::v1::{Pod, PodStatus};
use kube::api::ListParams;
use kube::{Api, Client};
use o2dms_core::{Condition, ConditionStatus, Result};

use super::LiveWorkload;
use crate::kube_error::kube_error;

/// Pods looked at per workload: enough to say why, bounded for a large workload.
const PODS_PER_WORKLOAD: usize = 5;

/// Waiting reasons that are a step on the way, not a problem.
const ON_THE_WAY: [&str; 2] = ["ContainerCreating", "PodInitializing"];

/// Adds to each workload that exists but is not ready the conditions of its pods that
/// say why (`Pod/<name>: <container>` with the waiting reason and message).
pub(crate) async fn explain_not_ready(client: &Client, live: &mut [LiveWorkload]) -> Result<()> {
    for w in live.iter_mut().filter(|w| w.exists && !w.ready) {
        let Some(selector) = &w.selector else {
            continue;
        };
        let api: Api<Pod> = Api::namespaced(client.clone(), &w.reference.namespace);
        let pods = api
            .list(
                &ListParams::default()
                    .labels(selector)
                    .limit(PODS_PER_WORKLOAD as u32),
            )
            .await
            .map_err(kube_error)?;
        for pod in pods.items.iter().take(PODS_PER_WORKLOAD) {
            let name = pod.metadata.name.as_deref().unwrap_or("?");
            if let Some(status) = &pod.status {
                w.conditions.extend(reasons(name, status));
            }
        }
    }
    Ok(())
}

/// What in one pod's status says why it is not ready.
fn reasons(pod: &str, status: &PodStatus) -> Vec<Condition> {
    let mut out = Vec::new();
    for c in status.conditions.iter().flatten() {
        if c.type_ == "PodScheduled" && c.status == "False" {
            out.push(Condition {
                kind: format!("Pod/{pod}: PodScheduled"),
                status: ConditionStatus::False,
                reason: c.reason.clone().unwrap_or_default(),
                message: c.message.clone().unwrap_or_default(),
                last_transition: None,
            });
        }
    }
    let containers = status
        .init_container_statuses
        .iter()
        .flatten()
        .chain(status.container_statuses.iter().flatten());
    for c in containers {
        let Some(waiting) = c.state.as_ref().and_then(|s| s.waiting.as_ref()) else {
            continue;
        };
        let reason = waiting.reason.clone().unwrap_or_default();
        if reason.is_empty() || ON_THE_WAY.contains(&reason.as_str()) {
            continue;
        }
        out.push(Condition {
            kind: format!("Pod/{pod}: {}", c.name),
            status: ConditionStatus::False,
            reason,
            message: waiting.message.clone().unwrap_or_default(),
            last_transition: None,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_containers_and_unschedulable_pods_say_why() {
        let status: PodStatus = serde_json::from_value(serde_json::json!({
            "phase": "Pending",
            "conditions": [
                {"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                 "message": "0/1 nodes are available: insufficient cpu"}
            ],
            "containerStatuses": [
                {"name": "app", "ready": false, "restartCount": 0, "image": "x", "imageID": "",
                 "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image"}}},
                {"name": "sidecar", "ready": false, "restartCount": 0, "image": "y", "imageID": "",
                 "state": {"waiting": {"reason": "ContainerCreating"}}}
            ]
        }))
        .unwrap();
        let r = reasons("web-1", &status);
        let kinds: Vec<(&str, &str)> = r
            .iter()
            .map(|c| (c.kind.as_str(), c.reason.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                ("Pod/web-1: PodScheduled", "Unschedulable"),
                ("Pod/web-1: app", "ImagePullBackOff")
            ]
        );
        assert!(r.iter().all(|c| c.status == ConditionStatus::False));
    }
}
