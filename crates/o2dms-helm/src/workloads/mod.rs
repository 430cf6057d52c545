//! Live state of the workloads a release declares: replica counts, readiness,
//! conditions and pod selectors ([`read_all`]); the status detail they add up to
//! ([`detail`]); the logs of their pods ([`logs`]).

mod detail;
mod logs;
mod pods;

pub(crate) use detail::detail;
pub(crate) use logs::logs;
pub(crate) use pods::explain_not_ready;

use futures::future::try_join_all;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, Time};
use kube::core::Selector;
use kube::{Api, Client};
use o2dms_core::{Condition, ConditionStatus, ReplicaCounts, Result, Timestamp};

use crate::kube_error::kube_error;
use crate::manifest::{WorkloadKind, WorkloadRef};

/// A workload as read from the cluster.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LiveWorkload {
    /// What the manifest named.
    pub(crate) reference: WorkloadRef,
    /// Whether it exists.
    pub(crate) exists: bool,
    /// `spec.replicas` (Deployments and StatefulSets).
    pub(crate) spec_replicas: Option<i32>,
    /// Counts.
    pub(crate) replicas: ReplicaCounts,
    /// Ready as a whole.
    pub(crate) ready: bool,
    /// Its conditions, prefixed `Kind/name: `.
    pub(crate) conditions: Vec<Condition>,
    /// Its pod selector, as a label selector string.
    pub(crate) selector: Option<String>,
}

fn u(x: Option<i32>) -> u32 {
    x.and_then(|v| u32::try_from(v).ok()).unwrap_or(0)
}

fn time(t: Option<&Time>) -> Option<Timestamp> {
    t.map(|t| Timestamp::from(t.0))
}

fn condition(
    prefix: &str,
    kind: &str,
    status: &str,
    reason: Option<&String>,
    message: Option<&String>,
    at: Option<&Time>,
) -> Condition {
    Condition {
        kind: format!("{prefix}: {kind}"),
        status: match status {
            "True" => ConditionStatus::True,
            "False" => ConditionStatus::False,
            _ => ConditionStatus::Unknown,
        },
        reason: reason.cloned().unwrap_or_default(),
        message: message.cloned().unwrap_or_default(),
        last_transition: time(at),
    }
}

/// The conditions of a workload's status, prefixed `Kind/name: ` (the condition types
/// of Deployments, StatefulSets, DaemonSets and Jobs have the same fields).
macro_rules! conditions {
    ($prefix:expr, $status:expr) => {
        $status
            .conditions
            .iter()
            .flatten()
            .map(|c| {
                condition(
                    $prefix,
                    &c.type_,
                    &c.status,
                    c.reason.as_ref(),
                    c.message.as_ref(),
                    c.last_transition_time.as_ref(),
                )
            })
            .collect()
    };
}

/// A label selector as the API's `labelSelector` string (kube's [`Selector`]); `None`
/// for one that selects everything or cannot be expressed.
fn selector_string(sel: &LabelSelector) -> Option<String> {
    Selector::try_from(sel.clone())
        .ok()
        .filter(|s| !s.selects_all())
        .map(|s| s.to_string())
}

/// Reads one workload.
pub(crate) async fn read(client: &Client, w: &WorkloadRef) -> Result<LiveWorkload> {
    let prefix = w.label();
    let mut live = LiveWorkload {
        reference: w.clone(),
        exists: false,
        spec_replicas: None,
        replicas: ReplicaCounts::default(),
        ready: false,
        conditions: Vec::new(),
        selector: None,
    };
    let ns = w.namespace.as_str();
    match w.kind {
        WorkloadKind::Deployment => {
            let api: Api<Deployment> = Api::namespaced(client.clone(), ns);
            if let Some(d) = api.get_opt(&w.name).await.map_err(kube_error)? {
                let spec = d.spec.unwrap_or_default();
                let st = d.status.unwrap_or_default();
                let desired = spec.replicas.unwrap_or(1);
                live.exists = true;
                live.spec_replicas = Some(desired);
                live.selector = selector_string(&spec.selector);
                live.replicas = ReplicaCounts {
                    desired: u(Some(desired)),
                    updated: u(st.updated_replicas),
                    ready: u(st.ready_replicas),
                    available: u(st.available_replicas),
                };
                let observed =
                    st.observed_generation.unwrap_or(0) >= d.metadata.generation.unwrap_or(0);
                let r = live.replicas;
                live.ready = observed
                    && r.updated >= r.desired
                    && r.available >= r.desired
                    && u(st.replicas) <= r.desired;
                live.conditions = conditions!(&prefix, st);
            }
        }
        WorkloadKind::StatefulSet => {
            let api: Api<StatefulSet> = Api::namespaced(client.clone(), ns);
            if let Some(s) = api.get_opt(&w.name).await.map_err(kube_error)? {
                let spec = s.spec.unwrap_or_default();
                let st = s.status.unwrap_or_default();
                let desired = spec.replicas.unwrap_or(1);
                live.exists = true;
                live.spec_replicas = Some(desired);
                live.selector = selector_string(&spec.selector);
                let ready = u(st.ready_replicas);
                live.replicas = ReplicaCounts {
                    desired: u(Some(desired)),
                    updated: u(st.updated_replicas),
                    ready,
                    available: st.available_replicas.map_or(ready, |a| u(Some(a))),
                };
                let observed =
                    st.observed_generation.unwrap_or(0) >= s.metadata.generation.unwrap_or(0);
                let r = live.replicas;
                live.ready = observed && r.ready >= r.desired && r.updated >= r.desired;
                live.conditions = conditions!(&prefix, st);
            }
        }
        WorkloadKind::DaemonSet => {
            let api: Api<DaemonSet> = Api::namespaced(client.clone(), ns);
            if let Some(d) = api.get_opt(&w.name).await.map_err(kube_error)? {
                let spec = d.spec.unwrap_or_default();
                let st = d.status.unwrap_or_default();
                live.exists = true;
                live.selector = selector_string(&spec.selector);
                live.replicas = ReplicaCounts {
                    desired: u(Some(st.desired_number_scheduled)),
                    updated: u(st.updated_number_scheduled),
                    ready: u(Some(st.number_ready)),
                    available: u(st.number_available),
                };
                let r = live.replicas;
                live.ready = r.ready >= r.desired && r.updated >= r.desired;
                live.conditions = conditions!(&prefix, st);
            }
        }
        WorkloadKind::Job => {
            let api: Api<Job> = Api::namespaced(client.clone(), ns);
            if let Some(j) = api.get_opt(&w.name).await.map_err(kube_error)? {
                let spec = j.spec.unwrap_or_default();
                let st = j.status.unwrap_or_default();
                let desired = spec.completions.unwrap_or(1);
                let succeeded = u(st.succeeded);
                live.exists = true;
                live.selector = spec.selector.as_ref().and_then(selector_string);
                live.replicas = ReplicaCounts {
                    desired: u(Some(desired)),
                    updated: u(Some(desired)),
                    ready: succeeded,
                    available: succeeded,
                };
                live.conditions = conditions!(&prefix, st);
                live.ready = live
                    .conditions
                    .iter()
                    .any(|c| c.kind.ends_with(": Complete") && c.status == ConditionStatus::True);
            }
        }
        WorkloadKind::LoadBalancer => {
            let api: Api<Service> = Api::namespaced(client.clone(), ns);
            if let Some(svc) = api.get_opt(&w.name).await.map_err(kube_error)? {
                live.exists = true;
                live.ready = svc
                    .status
                    .and_then(|s| s.load_balancer)
                    .and_then(|lb| lb.ingress)
                    .is_some_and(|i| !i.is_empty());
                if !live.ready {
                    live.conditions.push(Condition {
                        kind: format!("{prefix}: LoadBalancer"),
                        status: ConditionStatus::False,
                        reason: "Pending".to_owned(),
                        message: "no load balancer address assigned yet (the cluster may have \
                                  no load balancer controller)"
                            .to_owned(),
                        last_transition: None,
                    });
                }
            }
        }
    }
    if !live.exists {
        live.conditions.push(Condition {
            kind: format!("{prefix}: Exists"),
            status: ConditionStatus::False,
            reason: "NotFound".to_owned(),
            message: format!("{prefix} is in the release manifest but not in the cluster"),
            last_transition: None,
        });
    }
    Ok(live)
}

/// Reads every workload.
pub(crate) async fn read_all(client: &Client, refs: &[WorkloadRef]) -> Result<Vec<LiveWorkload>> {
    try_join_all(refs.iter().map(|w| read(client, w))).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    #[test]
    fn selectors_render() {
        let sel = LabelSelector {
            match_labels: Some(
                [("app".to_string(), "web".to_string())]
                    .into_iter()
                    .collect(),
            ),
            match_expressions: Some(vec![
                LabelSelectorRequirement {
                    key: "tier".into(),
                    operator: "In".into(),
                    values: Some(vec!["a".into(), "b".into()]),
                },
                LabelSelectorRequirement {
                    key: "canary".into(),
                    operator: "DoesNotExist".into(),
                    values: None,
                },
            ]),
        };
        assert_eq!(
            selector_string(&sel).unwrap(),
            "app=web,tier in (a,b),!canary"
        );
        assert_eq!(selector_string(&LabelSelector::default()), None);
    }
}
