//! Logs of a deployment: the lines of the pods its workloads select.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{ListParams, LogParams};
use kube::{Api, Client};
use o2dms_core::{Error, LogLine, LogOptions, Logs, Resource, Result};

use super::LiveWorkload;
use crate::kube_error::kube_error;

/// Log lines of the pods the workloads select, grouped by pod then container (name order).
pub(crate) async fn logs(
    client: &Client,
    live: &[LiveWorkload],
    options: &LogOptions,
) -> Result<Logs> {
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
