//! The simulated Node: registration, status, taints and the Ready heartbeat.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    DaemonEndpoint, Node, NodeAddress, NodeCondition, NodeDaemonEndpoints, NodeStatus,
    NodeSystemInfo,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;

use super::status::HOST_IP;
use crate::ClusterError;

/// Taints that a real node loses once its kubelet reports Ready (the node-lifecycle
/// controller, which would remove them, does not run in the local cluster).
const STARTUP_TAINTS: &[&str] = &[
    "node.kubernetes.io/not-ready",
    "node.kubernetes.io/unreachable",
];

/// Everything needed to describe the node.
#[derive(Debug, Clone)]
pub(crate) struct NodeInfo {
    pub(crate) name: String,
    pub(crate) log_port: u16,
    pub(crate) kubelet_version: String,
    /// When the node became Ready (the conditions' transition time).
    pub(crate) ready_since: Timestamp,
}

/// The node's architecture in Kubernetes' spelling.
fn arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

fn quantities(pairs: &[(&str, &str)]) -> BTreeMap<String, Quantity> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Quantity((*v).to_owned())))
        .collect()
}

fn conditions(info: &NodeInfo, now: Timestamp) -> Vec<NodeCondition> {
    let cond = |type_: &str, status: &str, reason: &str, message: &str| NodeCondition {
        type_: type_.to_owned(),
        status: status.to_owned(),
        reason: Some(reason.to_owned()),
        message: Some(message.to_owned()),
        last_heartbeat_time: Some(Time(now)),
        last_transition_time: Some(Time(info.ready_since)),
    };
    vec![
        cond(
            "MemoryPressure",
            "False",
            "KubeletHasSufficientMemory",
            "kubelet has sufficient memory available",
        ),
        cond(
            "DiskPressure",
            "False",
            "KubeletHasNoDiskPressure",
            "kubelet has no disk pressure",
        ),
        cond(
            "PIDPressure",
            "False",
            "KubeletHasSufficientPID",
            "kubelet has sufficient PID available",
        ),
        cond(
            "Ready",
            "True",
            "KubeletReady",
            "o2dms kubelet simulator is posting ready status",
        ),
    ]
}

/// The node's full status at `now`.
pub(crate) fn node_status(info: &NodeInfo, now: Timestamp) -> NodeStatus {
    let resources = quantities(&[
        ("cpu", "64"),
        ("memory", "256Gi"),
        ("pods", "500"),
        ("ephemeral-storage", "1Ti"),
    ]);
    NodeStatus {
        capacity: Some(resources.clone()),
        allocatable: Some(resources),
        conditions: Some(conditions(info, now)),
        addresses: Some(vec![
            NodeAddress {
                type_: "InternalIP".to_owned(),
                address: HOST_IP.to_owned(),
            },
            // The apiserver prefers Hostname over InternalIP when it dials the kubelet
            // (`--kubelet-preferred-address-types`), so it must resolve to the endpoint:
            // the node's name would not.
            NodeAddress {
                type_: "Hostname".to_owned(),
                address: "localhost".to_owned(),
            },
        ]),
        daemon_endpoints: Some(NodeDaemonEndpoints {
            kubelet_endpoint: Some(DaemonEndpoint {
                port: i32::from(info.log_port),
            }),
        }),
        node_info: Some(NodeSystemInfo {
            architecture: arch().to_owned(),
            operating_system: std::env::consts::OS.to_owned(),
            os_image: "o2dms kubelet simulator".to_owned(),
            kernel_version: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_owned())
                .unwrap_or_default(),
            kubelet_version: info.kubelet_version.clone(),
            kube_proxy_version: String::new(),
            container_runtime_version: format!("o2dms-sim://{}", env!("CARGO_PKG_VERSION")),
            machine_id: info.name.clone(),
            system_uuid: info.name.clone(),
            boot_id: info.ready_since.to_string(),
            ..NodeSystemInfo::default()
        }),
        ..NodeStatus::default()
    }
}

/// Creates the node (or adopts an existing one of that name), reports it Ready and
/// removes the start-up taints.
pub(crate) async fn register(api: &Api<Node>, info: &NodeInfo) -> Result<(), ClusterError> {
    let labels: BTreeMap<String, String> = [
        ("kubernetes.io/hostname", info.name.as_str()),
        ("kubernetes.io/os", std::env::consts::OS),
        ("kubernetes.io/arch", arch()),
        ("o2dms.io/kubelet-simulator", "true"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let node = Node {
        metadata: ObjectMeta {
            name: Some(info.name.clone()),
            labels: Some(labels),
            ..ObjectMeta::default()
        },
        ..Node::default()
    };
    match api.create(&PostParams::default(), &node).await {
        Ok(_) => {}
        Err(kube::Error::Api(e)) if e.code == 409 => {
            tracing::info!(node = %info.name, "adopting the existing node");
        }
        Err(e) => return Err(e.into()),
    }
    report_status(api, info).await?;

    remove_startup_taints(api, &info.name).await
}

/// Removes [`STARTUP_TAINTS`], guarded by resourceVersion so that nobody else's taints are
/// dropped; other writers (the TTL controller annotates new nodes) cause a retry.
async fn remove_startup_taints(api: &Api<Node>, name: &str) -> Result<(), ClusterError> {
    const ATTEMPTS: u32 = 10;
    for attempt in 1..=ATTEMPTS {
        let current = api.get(name).await?;
        let taints = current
            .spec
            .as_ref()
            .and_then(|s| s.taints.clone())
            .unwrap_or_default();
        let kept: Vec<_> = taints
            .iter()
            .filter(|t| !STARTUP_TAINTS.contains(&t.key.as_str()))
            .cloned()
            .collect();
        if kept.len() == taints.len() {
            return Ok(());
        }
        let patch = json!({
            "metadata": { "resourceVersion": current.metadata.resource_version },
            "spec": { "taints": if kept.is_empty() { serde_json::Value::Null } else { json!(kept) } },
        });
        match api
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(_) => return Ok(()),
            Err(kube::Error::Api(e)) if e.code == 409 && attempt < ATTEMPTS => {
                tracing::debug!(node = %name, attempt, "node changed meanwhile; retrying the taint removal");
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Sends the node's full status, with fresh heartbeat times.
pub(crate) async fn report_status(api: &Api<Node>, info: &NodeInfo) -> Result<(), ClusterError> {
    let patch = json!({ "status": node_status(info, Timestamp::now()) });
    api.patch_status(&info.name, &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_advertises_the_log_port_and_readiness() {
        let info = NodeInfo {
            name: "sim".into(),
            log_port: 10250,
            kubelet_version: "v1.20.2-o2dms-sim".into(),
            ready_since: "2026-01-01T00:00:00Z".parse().unwrap(),
        };
        let s = node_status(&info, "2026-01-01T00:01:00Z".parse().unwrap());
        assert_eq!(
            s.daemon_endpoints.unwrap().kubelet_endpoint.unwrap().port,
            10250
        );
        let ready = s
            .conditions
            .unwrap()
            .into_iter()
            .find(|c| c.type_ == "Ready")
            .unwrap();
        assert_eq!(ready.status, "True");
        assert_eq!(s.capacity.unwrap()["pods"].0, "500");
        let addrs = s.addresses.unwrap();
        assert!(addrs
            .iter()
            .any(|a| a.type_ == "InternalIP" && a.address == "127.0.0.1"));
        assert!(addrs
            .iter()
            .any(|a| a.type_ == "Hostname" && a.address == "localhost"));
        assert_eq!(s.node_info.unwrap().kubelet_version, "v1.20.2-o2dms-sim");
    }
}
