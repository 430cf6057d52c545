//! The simulated workload behind a deployment: replica counts, conditions and logs.
//!
//! Each deployment runs one `Deployment` workload named after it, with pods
//! `<name>-0` .. `<name>-(replicas-1)`, each with one container, `app`.

use o2dms_core::validate::MAX_REPLICAS;
use o2dms_core::{
    Condition, ConditionStatus, DeploymentStatus, Error, LogLine, LogOptions, Logs, ReplicaCounts,
    Resource, StatusDetail, Timestamp, Value, WorkloadStatus,
};

use crate::state::{Record, Rev, State};

/// The only container of every simulated pod.
pub(crate) const CONTAINER: &str = "app";

/// What the simulated workload of a revision looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Observed {
    /// Replicas the workload runs.
    pub desired: u32,
    /// Whether its pods become ready.
    pub healthy: bool,
}

fn replicas_of(v: Option<&Value>) -> u32 {
    match v.and_then(Value::as_i64) {
        Some(n) => u32::try_from(n.clamp(0, i64::from(MAX_REPLICAS))).unwrap_or(0),
        None => 1,
    }
}

/// The workload of `rev` with scale key `key`: the replica count is read at the key in
/// the chart's defaults merged with the user's values (only the defaults, for a chart
/// that ignores the key; 1 when the key holds no integer).
pub(crate) fn observe(st: &State, rev: &Rev, key: &str) -> Observed {
    let desired = if st.ignores_scale.contains(&rev.package_name) {
        replicas_of(rev.defaults.get_path(key))
    } else {
        replicas_of(rev.defaults.merged(&rev.values).get_path(key))
    };
    Observed {
        desired,
        healthy: !st.never_ready.contains(&rev.package_name),
    }
}

/// Status detail of a deployment, from its simulated workload.
pub(crate) fn status_detail(st: &State, rec: &Record) -> StatusDetail {
    let cur = rec.current();
    let o = observe(st, cur, &rec.scale_key);
    let ready = if o.healthy { o.desired } else { 0 };
    let replicas = ReplicaCounts {
        desired: o.desired,
        updated: o.desired,
        ready,
        available: ready,
    };
    let at = Some(cur.updated_at);
    let conditions = if o.healthy {
        vec![
            Condition {
                kind: "Available".into(),
                status: ConditionStatus::True,
                reason: "MinimumReplicasAvailable".into(),
                message: "Deployment has minimum availability.".into(),
                last_transition: at,
            },
            Condition {
                kind: "Progressing".into(),
                status: ConditionStatus::True,
                reason: "NewReplicaSetAvailable".into(),
                message: format!(
                    "ReplicaSet \"{}\" has successfully progressed.",
                    rec.view.id.name
                ),
                last_transition: at,
            },
        ]
    } else {
        vec![
            Condition {
                kind: "Available".into(),
                status: ConditionStatus::False,
                reason: "ErrImagePull".into(),
                message: format!(
                    "0/{} replicas available: container `{CONTAINER}` cannot pull the image of {}",
                    o.desired, cur.package
                ),
                last_transition: at,
            },
            Condition {
                kind: "Progressing".into(),
                status: ConditionStatus::False,
                reason: "ProgressDeadlineExceeded".into(),
                message: format!(
                    "ReplicaSet \"{}\" has timed out progressing.",
                    rec.view.id.name
                ),
                last_transition: at,
            },
        ]
    };
    let message = match cur.status {
        DeploymentStatus::Failed => cur.description.clone(),
        s if s.is_in_progress() => format!(
            "revision {} is {} (Helm `{}`): another operation is in progress; a writer may have crashed, roll back to recover",
            cur.revision,
            s,
            crate::state::helm_status(s)
        ),
        _ if o.healthy => format!("{ready}/{} replicas ready", o.desired),
        _ => format!(
            "0/{} replicas ready: the image of {} cannot be pulled (ErrImagePull)",
            o.desired, cur.package
        ),
    };
    StatusDetail {
        status: cur.status,
        message,
        progress: replicas.progress(),
        replicas,
        conditions,
        workloads: vec![WorkloadStatus {
            kind: "Deployment".into(),
            name: rec.view.id.name.clone(),
            replicas,
            ready: o.healthy,
        }],
    }
}

/// Log lines of every pod of a deployment, honouring `options`. The simulated lines are
/// written when the current revision rolled out, so `since` shorter than the time since
/// then (on the mock's clock, `now`) keeps none. Pods that never became ready have no lines.
pub(crate) fn logs(
    st: &State,
    rec: &Record,
    options: &LogOptions,
    now: Timestamp,
) -> Result<Logs, Error> {
    if let Some(c) = &options.container {
        if c != CONTAINER {
            return Err(Error::not_found(
                Resource::Workload,
                format!("{}/{c}", rec.view.id),
            ));
        }
    }
    let cur = rec.current();
    let o = observe(st, cur, &rec.scale_key);
    let mut out = Logs::default();
    let too_old = options
        .since
        .is_some_and(|since| cur.updated_at.saturating_add(since) < now);
    if !o.healthy || too_old {
        return Ok(out);
    }
    let mut pods: Vec<String> = (0..o.desired)
        .map(|i| format!("{}-{i}", rec.view.id.name))
        .collect();
    pods.sort();
    let texts = [
        format!("starting {} (revision {})", cur.package, cur.revision),
        format!("loaded {} user values", cur.values.as_map().len()),
        "listening on :8080".to_owned(),
        "ready".to_owned(),
    ];
    let skip = options
        .tail_lines
        .map_or(0, |t| texts.len().saturating_sub(t as usize));
    let mut budget = options.limit_bytes;
    'pods: for pod in pods {
        for text in &texts[skip..] {
            let cost = text.len() as u64 + 1;
            if let Some(b) = budget.as_mut() {
                if cost > *b {
                    out.truncated = true;
                    break 'pods;
                }
                *b -= cost;
            }
            out.lines.push(LogLine {
                pod: pod.clone(),
                container: CONTAINER.into(),
                line: text.clone(),
            });
        }
    }
    Ok(out)
}
