//! Scale: `scale_deployment` as a `helm upgrade` that sets the replica key and keeps
//! every other value, checked before (a render must show the count) and after (the live
//! workloads must have it).

use std::collections::BTreeMap;

use o2dms_core::{DeploymentId, Error, Operation, Result, ScaleRequest};

use super::upgrade::{apply, HelmUpgrade};
use super::Context;
use crate::chart;
use crate::manifest::{workloads, WorkloadRef};
use crate::storage::record::Release;
use crate::workloads;

/// A scale, as asked for (validated by the caller).
pub(crate) struct Scale<'a> {
    /// The deployment.
    pub(crate) id: &'a DeploymentId,
    /// The request.
    pub(crate) request: ScaleRequest,
}

impl Scale<'_> {
    /// Sets the key (the request's, else the deployment's, else the adapter's) to the
    /// replica count: renders first (`--dry-run=client`) and refuses a chart that
    /// ignores the key before anything is written, upgrades, then verifies the live
    /// workloads.
    pub(crate) async fn run(self, cx: &Context) -> Result<()> {
        let (id, r) = (self.id, &self.request);
        let _held = cx.locks.hold(id)?;
        let current = cx.writable(id).await?;
        let key = r
            .key
            .clone()
            .or_else(|| current.scale_key().map(str::to_owned))
            .unwrap_or_else(|| cx.config.scale_key.clone());
        let mut values = current.release.config.clone();
        values.set_path(&key, r.replicas);
        let scratch = cx.helm.scratch_dir()?;
        let chart = chart::of_current(&*cx.store, &current, scratch.path()).await?;
        let no_labels = BTreeMap::new();
        let description = format!("Scale to {} replicas ({key})", r.replicas);
        let mut upgrade = HelmUpgrade {
            operation: Operation::ScaleDeployment.as_str(),
            id,
            chart: &chart,
            values: &values,
            labels: &no_labels,
            description: None,
            timeout: r.timeout,
            dry_run: true,
            before: current.release.version,
        };
        let rendered = release_from_stdout(&apply(cx, &upgrade).await?)?;
        let targets = scale_check(&workloads(&rendered.manifest, &id.namespace), r.replicas)
            .map_err(|seen| {
                Error::invalid(
                    "key",
                    format!(
                        "chart {} ignores values key `{key}`: after setting it to {}, {seen}",
                        current.release.chart_ref(),
                        r.replicas
                    ),
                )
            })?;
        upgrade.dry_run = false;
        upgrade.description = Some(&description);
        apply(cx, &upgrade).await?;
        // Verify against the live workloads, not just what helm said.
        let live = workloads::read_all(&cx.client, &targets).await?;
        let wrong: Vec<String> = live
            .iter()
            .filter(|w| w.spec_replicas != i32::try_from(r.replicas).ok())
            .map(|w| match w.spec_replicas {
                Some(n) => format!("{} has {n}", w.reference.label()),
                None => format!("{} is missing", w.reference.label()),
            })
            .collect();
        if !wrong.is_empty() {
            return Err(Error::backend(format!(
                "scaled {id} to {} through `{key}`, but the live workloads disagree: {}",
                r.replicas,
                wrong.join(", ")
            )));
        }
        Ok(())
    }
}

/// The rendered workloads that carry `replicas`; otherwise what was rendered instead.
fn scale_check(
    refs: &[WorkloadRef],
    replicas: u32,
) -> std::result::Result<Vec<WorkloadRef>, String> {
    let scalable: Vec<&WorkloadRef> = refs.iter().filter(|w| w.kind.has_replicas()).collect();
    let hits: Vec<WorkloadRef> = scalable
        .iter()
        .filter(|w| w.replicas == Some(i64::from(replicas)))
        .map(|w| (*w).clone())
        .collect();
    if !hits.is_empty() {
        return Ok(hits);
    }
    let seen: Vec<String> = scalable
        .iter()
        .map(|w| match w.replicas {
            Some(r) => format!("{}={r}", w.label()),
            None => format!("{} (replicas not set)", w.label()),
        })
        .collect();
    Err(if seen.is_empty() {
        "the chart renders no Deployment or StatefulSet".to_owned()
    } else {
        format!("rendered workloads have {}", seen.join(", "))
    })
}

/// The release in a dry run's `-o json` output (after anything helm printed before it).
fn release_from_stdout(stdout: &str) -> Result<Release> {
    let start = stdout.find('{').unwrap_or(0);
    serde_json::from_str(&stdout[start..])
        .map_err(|e| Error::backend_from("cannot read helm's dry-run output", e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::WorkloadKind;

    fn wr(kind: WorkloadKind, name: &str, replicas: Option<i64>) -> WorkloadRef {
        WorkloadRef {
            kind,
            namespace: "ns".into(),
            name: name.into(),
            replicas,
        }
    }

    #[test]
    fn scale_check_needs_a_workload_with_the_count() {
        let refs = [
            wr(WorkloadKind::Deployment, "web", Some(3)),
            wr(WorkloadKind::Job, "migrate", None),
        ];
        assert_eq!(scale_check(&refs, 3).unwrap().len(), 1);
        let e = scale_check(&refs, 5).unwrap_err();
        assert_eq!(e, "rendered workloads have Deployment/web=3");
        assert!(scale_check(&[wr(WorkloadKind::Job, "j", None)], 1)
            .unwrap_err()
            .contains("no Deployment"));
    }

    #[test]
    fn dry_run_output_is_read_after_any_preamble() {
        let r = release_from_stdout("WARNING: x\n{\"name\":\"web\",\"version\":3}").unwrap();
        assert_eq!((r.name.as_str(), r.version), ("web", 3));
        assert!(release_from_stdout("no json").is_err());
    }
}
