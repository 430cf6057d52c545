//! Scale: `scale_deployment` as a `helm upgrade` that sets the replica key and keeps
//! every other value, checked before (a render must show the count) and after (the live
//! workloads must have it).

use std::collections::BTreeMap;

use o2dms_core::validate::MAX_REPLICAS;
use o2dms_core::{DeploymentId, Error, Operation, Result, ScaleRequest};

use super::upgrade::{apply, HelmUpgrade};
use super::Context;
use crate::chart;
use crate::helm::Scrub;
use crate::manifest::{workloads, WorkloadKind, WorkloadRef};
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
        let held = cx.hold(id).await?;
        let current = cx.writable(id).await?;
        let key = r
            .key
            .clone()
            .or_else(|| current.scale_key().map(str::to_owned))
            .unwrap_or_else(|| cx.config.scale_key.clone());
        let mut values = current.release.config.clone();
        values.set_path(&key, r.replicas);
        // The scale changes one number: the strings in play are the current ones.
        let scrub = Scrub::of([&current.release.config]);
        let scratch = cx.helm.scratch_dir()?;
        let chart = chart::of_current(
            &*cx.store,
            &current,
            scratch.path(),
            cx.config.rebuild_from_release,
        )
        .await?;
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
            scrub: &scrub,
        };
        // Prove the key drives a workload before anything is written: render with the
        // count asked for and with another one; only workloads that follow the key count.
        let probe = if r.replicas < MAX_REPLICAS {
            r.replicas + 1
        } else {
            r.replicas - 1
        };
        let mut probe_values = current.release.config.clone();
        probe_values.set_path(&key, probe);
        let probe_upgrade = HelmUpgrade {
            values: &probe_values,
            ..upgrade.clone()
        };
        let (asked, other) = futures::try_join!(apply(cx, &upgrade), apply(cx, &probe_upgrade))?;
        let (asked, other) = (
            release_from_stdout(&asked, &scrub)?,
            release_from_stdout(&other, &scrub)?,
        );
        let targets = driven(
            &workloads(&asked.manifest, &id.namespace),
            &workloads(&other.manifest, &id.namespace),
            r.replicas,
            probe,
        )
        .map_err(|seen| {
            Error::invalid(
                "key",
                format!(
                    "chart {} does not scale through values key `{key}`: {seen}",
                    current.release.chart_ref(),
                ),
            )
        })?;
        upgrade.dry_run = false;
        upgrade.description = Some(&description);
        apply(cx, &upgrade).await?;
        // Verify against the live workloads, not just what helm said.
        let live = cx
            .storage
            .bounded(workloads::read_all(&cx.client, &targets))
            .await?;
        let wrong: Vec<String> = live
            .iter()
            .filter(|w| w.spec_replicas != i32::try_from(r.replicas).ok())
            .map(|w| match w.spec_replicas {
                Some(n) => format!("{} has {n}", w.reference.label()),
                None => format!("{} is missing", w.reference.label()),
            })
            .collect();
        held.release().await;
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

/// The workloads that follow the key: replica count `replicas` in the render `asked`
/// (key = `replicas`) and `probe` in the render `other` (key = `probe`). None is an error
/// saying what was rendered instead.
fn driven(
    asked: &[WorkloadRef],
    other: &[WorkloadRef],
    replicas: u32,
    probe: u32,
) -> std::result::Result<Vec<WorkloadRef>, String> {
    let scalable: Vec<&WorkloadRef> = asked.iter().filter(|w| w.kind.has_replicas()).collect();
    let same = |w: &WorkloadRef, o: &WorkloadRef| {
        (o.kind, &o.namespace, &o.name) == (w.kind, &w.namespace, &w.name)
    };
    let hits: Vec<WorkloadRef> = scalable
        .iter()
        .filter(|w| w.replicas == Some(i64::from(replicas)))
        .filter(|w| {
            other
                .iter()
                .any(|o| same(w, o) && o.replicas == Some(i64::from(probe)))
        })
        .map(|w| (*w).clone())
        .collect();
    if !hits.is_empty() {
        return Ok(hits);
    }
    if scalable.is_empty() {
        let daemonsets = asked.iter().any(|w| w.kind == WorkloadKind::DaemonSet);
        return Err(if daemonsets {
            "it renders no Deployment or StatefulSet, only DaemonSets, which run one pod per \
             node and have no replica count"
                .to_owned()
        } else {
            "it renders no Deployment or StatefulSet".to_owned()
        });
    }
    let seen: Vec<String> = scalable
        .iter()
        .map(|w| {
            let count = |r: Option<i64>| r.map_or("unset".to_owned(), |n| n.to_string());
            let then = other.iter().find(|o| same(w, o)).and_then(|o| o.replicas);
            format!(
                "{} has {} with the key at {replicas} and {} with it at {probe}",
                w.label(),
                count(w.replicas),
                count(then)
            )
        })
        .collect();
    Err(format!("no workload follows it ({})", seen.join("; ")))
}

/// The release in a dry run's `-o json` output (after anything helm printed before it).
/// A parse error can quote a string of the output (the values are in it): its text is
/// scrubbed, and it is not kept as the error's source.
fn release_from_stdout(stdout: &str, scrub: &Scrub) -> Result<Release> {
    let start = stdout.find('{').unwrap_or(0);
    serde_json::from_str(&stdout[start..]).map_err(|e| {
        Error::backend(format!(
            "cannot read helm's dry-run output: {}",
            scrub.apply(&e.to_string())
        ))
    })
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
    fn only_workloads_that_follow_the_key_count() {
        // ingress-nginx with its default backend: the backend has 1 replica whatever the
        // key says; the controller ignores the key too.
        let asked = [
            wr(WorkloadKind::Deployment, "backend", Some(1)),
            wr(WorkloadKind::Deployment, "controller", Some(2)),
        ];
        let other = asked.clone();
        let e = driven(&asked, &other, 1, 2).unwrap_err();
        assert!(e.contains("no workload follows it"), "{e}");
        assert!(
            e.contains("Deployment/backend has 1 with the key at 1 and 1 with it at 2"),
            "{e}"
        );
        // The controller follows the key; the backend does not.
        let asked = [
            wr(WorkloadKind::Deployment, "backend", Some(1)),
            wr(WorkloadKind::Deployment, "controller", Some(1)),
            wr(WorkloadKind::Job, "migrate", None),
        ];
        let other = [
            wr(WorkloadKind::Deployment, "backend", Some(1)),
            wr(WorkloadKind::Deployment, "controller", Some(2)),
            wr(WorkloadKind::Job, "migrate", None),
        ];
        let hits = driven(&asked, &other, 1, 2).unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].name, "controller");
        // A DaemonSet has no replica count.
        let ds = [wr(WorkloadKind::DaemonSet, "agent", None)];
        assert!(driven(&ds, &ds, 2, 3).unwrap_err().contains("DaemonSets"));
        let job = [wr(WorkloadKind::Job, "j", None)];
        assert!(driven(&job, &job, 1, 2)
            .unwrap_err()
            .contains("no Deployment or StatefulSet"));
    }

    #[test]
    fn dry_run_output_is_read_after_any_preamble() {
        let none = Scrub::default();
        let r = release_from_stdout("WARNING: x\n{\"name\":\"web\",\"version\":3}", &none).unwrap();
        assert_eq!((r.name.as_str(), r.version), ("web", 3));
        assert!(release_from_stdout("no json", &none).is_err());
        // serde_json quotes what it did not expect: a value, here.
        let values = o2dms_core::Values::from_pairs([(
            "password",
            o2dms_core::Value::from("hunter2-secret"),
        )]);
        let e = release_from_stdout(
            "{\"name\":\"web\",\"version\":\"hunter2-secret\"}",
            &Scrub::of([&values]),
        )
        .unwrap_err();
        assert!(!format!("{e} {e:?}").contains("hunter2"), "{e:?}");
    }
}
