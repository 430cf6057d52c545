//! Live state of the workloads a release declares: replica counts, readiness,
//! conditions, and the pods (for logs).

use std::collections::BTreeMap;

use futures::future::try_join_all;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, Time};
use kube::api::{ListParams, LogParams};
use kube::{Api, Client};
use o2dms_core::{
    Condition, ConditionStatus, DeploymentStatus, Error, LogLine, LogOptions, Logs, ReplicaCounts,
    Resource, Result, StatusDetail, Timestamp, WorkloadStatus,
};

use crate::manifest::{WorkloadKind, WorkloadRef};
use crate::reader::kube_error;

/// A workload as read from the cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveWorkload {
    /// What the manifest named.
    pub reference: WorkloadRef,
    /// Whether it exists.
    pub exists: bool,
    /// `spec.replicas` (Deployments and StatefulSets).
    pub spec_replicas: Option<i32>,
    /// Counts.
    pub replicas: ReplicaCounts,
    /// Ready as a whole.
    pub ready: bool,
    /// Its conditions, prefixed `Kind/name: `.
    pub conditions: Vec<Condition>,
    /// Its pod selector, as a label selector string.
    pub selector: Option<String>,
}

fn u(x: Option<i32>) -> u32 {
    x.and_then(|v| u32::try_from(v).ok()).unwrap_or(0)
}

fn time(t: Option<&Time>) -> Option<Timestamp> {
    t.map(|t| Timestamp::from_unix(t.0.as_second(), t.0.subsec_nanosecond().max(0) as u32))
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

/// A label selector as the API's `labelSelector` string.
pub fn selector_string(sel: &LabelSelector) -> Option<String> {
    let mut parts: Vec<String> = sel
        .match_labels
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    for e in sel.match_expressions.iter().flatten() {
        let values = e.values.clone().unwrap_or_default().join(",");
        parts.push(match e.operator.as_str() {
            "In" => format!("{} in ({values})", e.key),
            "NotIn" => format!("{} notin ({values})", e.key),
            "Exists" => e.key.clone(),
            "DoesNotExist" => format!("!{}", e.key),
            _ => continue,
        });
    }
    if parts.is_empty() {
        None
    } else {
        Some(parts.join(","))
    }
}

/// Reads one workload.
pub async fn read(client: &Client, w: &WorkloadRef) -> Result<LiveWorkload> {
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
                live.conditions = st
                    .conditions
                    .iter()
                    .flatten()
                    .map(|c| {
                        condition(
                            &prefix,
                            &c.type_,
                            &c.status,
                            c.reason.as_ref(),
                            c.message.as_ref(),
                            c.last_transition_time.as_ref(),
                        )
                    })
                    .collect();
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
                live.conditions = st
                    .conditions
                    .iter()
                    .flatten()
                    .map(|c| {
                        condition(
                            &prefix,
                            &c.type_,
                            &c.status,
                            c.reason.as_ref(),
                            c.message.as_ref(),
                            c.last_transition_time.as_ref(),
                        )
                    })
                    .collect();
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
                live.conditions = st
                    .conditions
                    .iter()
                    .flatten()
                    .map(|c| {
                        condition(
                            &prefix,
                            &c.type_,
                            &c.status,
                            c.reason.as_ref(),
                            c.message.as_ref(),
                            c.last_transition_time.as_ref(),
                        )
                    })
                    .collect();
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
                live.conditions = st
                    .conditions
                    .iter()
                    .flatten()
                    .map(|c| {
                        condition(
                            &prefix,
                            &c.type_,
                            &c.status,
                            c.reason.as_ref(),
                            c.message.as_ref(),
                            c.last_transition_time.as_ref(),
                        )
                    })
                    .collect();
                live.ready = live
                    .conditions
                    .iter()
                    .any(|c| c.kind.ends_with(": Complete") && c.status == ConditionStatus::True);
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
pub async fn read_all(client: &Client, refs: &[WorkloadRef]) -> Result<Vec<LiveWorkload>> {
    try_join_all(refs.iter().map(|w| read(client, w))).await
}

/// Builds the status detail from the release status and its live workloads.
pub fn detail(status: DeploymentStatus, description: &str, live: &[LiveWorkload]) -> StatusDetail {
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

/// Log lines of the pods the workloads select, grouped by pod then container (name order).
pub async fn logs(client: &Client, live: &[LiveWorkload], options: &LogOptions) -> Result<Logs> {
    let mut pods: BTreeMap<(String, String), Pod> = BTreeMap::new();
    for w in live.iter().filter(|w| w.exists) {
        let Some(sel) = &w.selector else { continue };
        let api: Api<Pod> = Api::namespaced(client.clone(), &w.reference.namespace);
        let list = api
            .list(&ListParams::default().labels(sel))
            .await
            .map_err(kube_error)?;
        for p in list.items {
            let name = p.metadata.name.clone().unwrap_or_default();
            pods.insert((w.reference.namespace.clone(), name), p);
        }
    }
    let mut out = Logs::default();
    let mut remaining = options.limit_bytes;
    let mut container_seen = options.container.is_none();
    for ((ns, pod), p) in &pods {
        let mut containers: Vec<String> = p
            .spec
            .iter()
            .flat_map(|s| s.containers.iter().map(|c| c.name.clone()))
            .collect();
        containers.sort();
        if let Some(want) = &options.container {
            containers.retain(|c| c == want);
            container_seen |= !containers.is_empty();
        }
        let api: Api<Pod> = Api::namespaced(client.clone(), ns);
        for c in containers {
            if remaining == Some(0) {
                out.truncated = true;
                return Ok(out);
            }
            let lp = LogParams {
                container: Some(c.clone()),
                tail_lines: options.tail_lines.map(i64::from),
                since_seconds: options
                    .since
                    .map(|d| i64::try_from(d.as_secs().max(1)).unwrap_or(i64::MAX)),
                limit_bytes: remaining.map(|r| i64::try_from(r).unwrap_or(i64::MAX)),
                ..Default::default()
            };
            let text = match api.logs(pod, &lp).await {
                Ok(t) => t,
                // A pod that is not running yet has no logs: skip it, as `kubectl logs -l` does.
                Err(kube::Error::Api(s)) if s.code == 400 || s.code == 404 => continue,
                Err(e) => return Err(kube_error(e)),
            };
            if let Some(r) = remaining.as_mut() {
                let used = text.len() as u64;
                if used >= *r {
                    out.truncated = true;
                }
                *r = r.saturating_sub(used);
            }
            out.lines.extend(text.lines().map(|l| LogLine {
                pod: pod.clone(),
                container: c.clone(),
                line: l.to_owned(),
            }));
        }
    }
    if !container_seen && !pods.is_empty() {
        return Err(Error::not_found(
            Resource::Workload,
            format!(
                "container {}",
                options.container.as_deref().unwrap_or_default()
            ),
        ));
    }
    Ok(out)
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
