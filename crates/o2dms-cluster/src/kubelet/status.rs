//! What the simulator does with a pod, and the pod statuses it reports. Pure functions.

use std::time::Duration;

use k8s_openapi::api::core::v1::{
    Container, ContainerState, ContainerStateRunning, ContainerStateTerminated,
    ContainerStateWaiting, ContainerStatus, Pod, PodCondition, PodIP, PodStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use sha2::{Digest, Sha256};

use super::annotations::{parse_start_delay, START_DELAY_ANNOTATION};
use super::image::is_unpullable;

/// The host IP every simulated pod reports (the node's InternalIP).
pub(crate) const HOST_IP: &str = "127.0.0.1";

/// What the simulator does with a pod bound to its node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// Finish a deletion: delete with grace period 0.
    Delete,
    /// An image cannot be pulled: Pending, `ErrImagePull` then `ImagePullBackOff`.
    PullError,
    /// Run the containers: Running and Ready.
    Run,
    /// Run the containers to completion: Succeeded, exit code 0.
    Complete,
}

/// The decision for one pod: what to do and after which delay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    /// What to do.
    pub(crate) target: Target,
    /// How long to show the containers as `ContainerCreating` first.
    pub(crate) delay: Option<Duration>,
    /// A problem with the pod's annotations worth logging.
    pub(crate) warning: Option<String>,
}

/// Decides what to do with a pod bound to the simulated node; `None` if nothing (it has
/// finished already).
pub(crate) fn plan(pod: &Pod) -> Option<Plan> {
    let plan = |target| Plan {
        target,
        delay: None,
        warning: None,
    };
    if pod.metadata.deletion_timestamp.is_some() {
        return Some(plan(Target::Delete));
    }
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    if matches!(phase, Some("Succeeded" | "Failed")) {
        return None;
    }
    if all_containers(pod).any(|c| c.image.as_deref().is_some_and(is_unpullable)) {
        return Some(plan(Target::PullError));
    }
    let (delay, warning) = match parse_start_delay(annotation(pod, START_DELAY_ANNOTATION)) {
        Ok(delay) => (delay, None),
        Err(warning) => (None, Some(warning)),
    };
    let target = if runs_to_completion(pod) {
        Target::Complete
    } else {
        Target::Run
    };
    Some(Plan {
        target,
        delay,
        warning,
    })
}

/// Whether the pod's status already shows the outcome of `target` (so a restarted
/// simulator leaves it alone).
pub(crate) fn is_done(pod: &Pod, target: Target) -> bool {
    let Some(status) = pod.status.as_ref() else {
        return false;
    };
    let spec_containers = pod.spec.as_ref().map_or(0, |s| s.containers.len());
    let statuses = status.container_statuses.as_deref().unwrap_or_default();
    match target {
        Target::Delete => false,
        Target::Complete => status.phase.as_deref() == Some("Succeeded"),
        Target::Run => {
            status.phase.as_deref() == Some("Running")
                && status.pod_ip.is_some()
                && statuses.len() == spec_containers
                && statuses.iter().all(|c| c.ready)
                && condition_true(status, "Ready")
        }
        Target::PullError => {
            status.phase.as_deref() == Some("Pending")
                && status
                    .container_statuses
                    .iter()
                    .chain(status.init_container_statuses.iter())
                    .flatten()
                    .any(|c| waiting_reason(c) == Some("ImagePullBackOff"))
        }
    }
}

/// Pods that run to completion: owned by a Job, or Helm hooks (including chart tests,
/// which are bare pods that Helm waits on until they succeed).
pub(crate) fn runs_to_completion(pod: &Pod) -> bool {
    let owned_by_job = pod
        .metadata
        .owner_references
        .iter()
        .flatten()
        .any(|o| o.kind == "Job" && o.api_version.starts_with("batch/"));
    owned_by_job || annotation(pod, "helm.sh/hook").is_some()
}

/// The value of an annotation of the pod.
pub(crate) fn annotation<'a>(pod: &'a Pod, key: &str) -> Option<&'a str> {
    pod.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(key))
        .map(String::as_str)
}

fn all_containers(pod: &Pod) -> impl Iterator<Item = &Container> {
    pod.spec.iter().flat_map(|s| {
        s.init_containers
            .iter()
            .flatten()
            .chain(s.containers.iter())
    })
}

fn condition_true(status: &PodStatus, type_: &str) -> bool {
    status
        .conditions
        .iter()
        .flatten()
        .any(|c| c.type_ == type_ && c.status == "True")
}

fn waiting_reason(c: &ContainerStatus) -> Option<&str> {
    c.state.as_ref()?.waiting.as_ref()?.reason.as_deref()
}

/// Inputs of a status: the moment, the pod IP, and when the pod started.
#[derive(Debug, Clone)]
pub(crate) struct StatusInput {
    /// Now.
    pub(crate) now: Timestamp,
    /// The pod's IP.
    pub(crate) pod_ip: String,
}

impl StatusInput {
    fn start_time(&self, pod: &Pod) -> Time {
        pod.status
            .as_ref()
            .and_then(|s| s.start_time.clone())
            .unwrap_or(Time(self.now))
    }
}

/// Which phase of its life a pod's status describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// Containers are being created (during a start delay).
    Creating,
    /// An image pull failed (first report).
    ErrImagePull,
    /// An image pull keeps failing (later reports).
    ImagePullBackOff,
    /// All containers run and are ready.
    Running,
    /// All containers ran and exited 0.
    Succeeded,
}

/// The full status of a pod at a stage, ready to be sent as a merge patch of `status`.
pub(crate) fn pod_status(pod: &Pod, stage: Stage, input: &StatusInput) -> PodStatus {
    let now = Time(input.now);
    let start = input.start_time(pod);
    let uid = pod.metadata.uid.as_deref().unwrap_or_default();
    let spec = pod.spec.clone().unwrap_or_default();

    let init_statuses: Vec<ContainerStatus> = spec
        .init_containers
        .iter()
        .flatten()
        .map(|c| {
            let image = c.image.clone().unwrap_or_default();
            if matches!(stage, Stage::ErrImagePull | Stage::ImagePullBackOff)
                && is_unpullable(&image)
            {
                waiting_status(c, pull_waiting(stage, &image))
            } else if stage == Stage::Creating {
                waiting_status(c, waiting("PodInitializing", None))
            } else {
                terminated_status(c, uid, &start, &start)
            }
        })
        .collect();
    let init_blocked = init_statuses.iter().any(|s| !is_terminated(s));

    let statuses: Vec<ContainerStatus> = spec
        .containers
        .iter()
        .map(|c| {
            let image = c.image.clone().unwrap_or_default();
            match stage {
                Stage::Creating => waiting_status(c, waiting("ContainerCreating", None)),
                Stage::ErrImagePull | Stage::ImagePullBackOff if init_blocked => {
                    waiting_status(c, waiting("PodInitializing", None))
                }
                Stage::ErrImagePull | Stage::ImagePullBackOff if is_unpullable(&image) => {
                    waiting_status(c, pull_waiting(stage, &image))
                }
                Stage::Succeeded => terminated_status(c, uid, &start, &now),
                Stage::ErrImagePull | Stage::ImagePullBackOff | Stage::Running => {
                    running_status(c, uid, &start)
                }
            }
        })
        .collect();

    let unready: Vec<&str> = statuses
        .iter()
        .filter(|s| !s.ready)
        .map(|s| s.name.as_str())
        .collect();
    let uninitialized: Vec<&str> = init_statuses
        .iter()
        .filter(|s| !is_terminated(s))
        .map(|s| s.name.as_str())
        .collect();

    let mut conditions = Vec::new();
    conditions.push(if uninitialized.is_empty() {
        condition("Initialized", true, None, None, &now)
    } else {
        condition(
            "Initialized",
            false,
            Some("ContainersNotInitialized"),
            Some(format!(
                "containers with incomplete status: [{}]",
                uninitialized.join(" ")
            )),
            &now,
        )
    });
    let (ready, reason, message) = match stage {
        Stage::Running => (true, None, None),
        Stage::Succeeded => (false, Some("PodCompleted"), None),
        _ => (
            false,
            Some("ContainersNotReady"),
            Some(format!(
                "containers with unready status: [{}]",
                unready.join(" ")
            )),
        ),
    };
    conditions.push(condition("Ready", ready, reason, message.clone(), &now));
    conditions.push(condition("ContainersReady", ready, reason, message, &now));
    conditions.push(condition("PodScheduled", true, None, None, &now));

    let phase = match stage {
        Stage::Creating | Stage::ErrImagePull | Stage::ImagePullBackOff => "Pending",
        Stage::Running => "Running",
        Stage::Succeeded => "Succeeded",
    };
    PodStatus {
        phase: Some(phase.to_owned()),
        conditions: Some(conditions),
        container_statuses: Some(statuses),
        init_container_statuses: (!init_statuses.is_empty()).then_some(init_statuses),
        host_ip: Some(HOST_IP.to_owned()),
        pod_ip: Some(input.pod_ip.clone()),
        pod_ips: Some(vec![PodIP {
            ip: input.pod_ip.clone(),
        }]),
        start_time: Some(start),
        ..PodStatus::default()
    }
}

fn is_terminated(s: &ContainerStatus) -> bool {
    s.state.as_ref().is_some_and(|st| st.terminated.is_some())
}

fn condition(
    type_: &str,
    status: bool,
    reason: Option<&str>,
    message: Option<String>,
    now: &Time,
) -> PodCondition {
    PodCondition {
        type_: type_.to_owned(),
        status: if status { "True" } else { "False" }.to_owned(),
        reason: reason.map(str::to_owned),
        message,
        last_transition_time: Some(now.clone()),
        ..PodCondition::default()
    }
}

fn waiting(reason: &str, message: Option<String>) -> ContainerState {
    ContainerState {
        waiting: Some(ContainerStateWaiting {
            reason: Some(reason.to_owned()),
            message,
        }),
        ..ContainerState::default()
    }
}

fn pull_waiting(stage: Stage, image: &str) -> ContainerState {
    if stage == Stage::ErrImagePull {
        waiting(
            "ErrImagePull",
            Some(format!(
                "failed to pull image {image:?}: the registry host is under the reserved .invalid domain (o2dms kubelet simulator)"
            )),
        )
    } else {
        waiting(
            "ImagePullBackOff",
            Some(format!("Back-off pulling image {image:?}")),
        )
    }
}

fn base_status(c: &Container, uid: &str) -> ContainerStatus {
    let image = c.image.clone().unwrap_or_default();
    ContainerStatus {
        name: c.name.clone(),
        image_id: image_id(&image),
        image,
        container_id: Some(container_id(uid, &c.name)),
        ..ContainerStatus::default()
    }
}

fn waiting_status(c: &Container, state: ContainerState) -> ContainerStatus {
    ContainerStatus {
        name: c.name.clone(),
        image: c.image.clone().unwrap_or_default(),
        started: Some(false),
        state: Some(state),
        ..ContainerStatus::default()
    }
}

fn running_status(c: &Container, uid: &str, start: &Time) -> ContainerStatus {
    ContainerStatus {
        ready: true,
        started: Some(true),
        state: Some(ContainerState {
            running: Some(ContainerStateRunning {
                started_at: Some(start.clone()),
            }),
            ..ContainerState::default()
        }),
        ..base_status(c, uid)
    }
}

fn terminated_status(c: &Container, uid: &str, start: &Time, end: &Time) -> ContainerStatus {
    let base = base_status(c, uid);
    ContainerStatus {
        ready: false,
        started: Some(false),
        state: Some(ContainerState {
            terminated: Some(ContainerStateTerminated {
                exit_code: 0,
                reason: Some("Completed".to_owned()),
                started_at: Some(start.clone()),
                finished_at: Some(end.clone()),
                container_id: base.container_id.clone(),
                ..ContainerStateTerminated::default()
            }),
            ..ContainerState::default()
        }),
        ..base
    }
}

fn sha256_hex(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// A deterministic container id in the form a CRI runtime reports.
pub(crate) fn container_id(pod_uid: &str, container: &str) -> String {
    format!("o2dms-sim://{}", sha256_hex(&[pod_uid, container]))
}

/// A deterministic image id (`repository@sha256:...`) for an image reference.
pub(crate) fn image_id(image: &str) -> String {
    let name = image.split('@').next().unwrap_or(image);
    let repo = match name.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => repo,
        _ => name,
    };
    format!("{repo}@sha256:{}", sha256_hex(&[image]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::PodSpec;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

    fn pod(images: &[&str]) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some("p".into()),
                namespace: Some("ns".into()),
                uid: Some("uid-1".into()),
                ..ObjectMeta::default()
            },
            spec: Some(PodSpec {
                containers: images
                    .iter()
                    .enumerate()
                    .map(|(i, image)| Container {
                        name: format!("c{i}"),
                        image: Some((*image).to_owned()),
                        ..Container::default()
                    })
                    .collect(),
                node_name: Some("n".into()),
                ..PodSpec::default()
            }),
            status: None,
        }
    }

    fn input() -> StatusInput {
        StatusInput {
            now: "2026-01-01T00:00:00Z".parse().unwrap(),
            pod_ip: "10.244.0.2".into(),
        }
    }

    #[test]
    fn plans() {
        assert_eq!(plan(&pod(&["nginx"])).unwrap().target, Target::Run);
        assert_eq!(
            plan(&pod(&["nginx", "nothing.invalid/app:1"]))
                .unwrap()
                .target,
            Target::PullError
        );
        let mut job = pod(&["busybox"]);
        job.metadata.owner_references = Some(vec![OwnerReference {
            api_version: "batch/v1".into(),
            kind: "Job".into(),
            name: "j".into(),
            uid: "u".into(),
            ..OwnerReference::default()
        }]);
        assert_eq!(plan(&job).unwrap().target, Target::Complete);
        let mut hook = pod(&["busybox"]);
        hook.metadata.annotations = Some([("helm.sh/hook".to_owned(), "test".to_owned())].into());
        assert_eq!(plan(&hook).unwrap().target, Target::Complete);

        let mut delayed = pod(&["nginx"]);
        delayed.metadata.annotations =
            Some([(START_DELAY_ANNOTATION.to_owned(), "1500".to_owned())].into());
        let p = plan(&delayed).unwrap();
        assert_eq!(p.delay, Some(Duration::from_millis(1500)));
        delayed.metadata.annotations =
            Some([(START_DELAY_ANNOTATION.to_owned(), "soon".to_owned())].into());
        let p = plan(&delayed).unwrap();
        assert_eq!((p.target, p.delay), (Target::Run, None));
        assert!(p.warning.is_some());

        let mut deleting = pod(&["nginx"]);
        deleting.metadata.deletion_timestamp = Some(Time(input().now));
        assert_eq!(plan(&deleting).unwrap().target, Target::Delete);

        let mut done = pod(&["nginx"]);
        done.status = Some(PodStatus {
            phase: Some("Succeeded".into()),
            ..PodStatus::default()
        });
        assert_eq!(plan(&done), None);
    }

    #[test]
    fn running_status_is_ready_and_done() {
        let mut p = pod(&["nginx:1", "ghcr.io/o/sidecar:2"]);
        let s = pod_status(&p, Stage::Running, &input());
        assert_eq!(s.phase.as_deref(), Some("Running"));
        let cs = s.container_statuses.as_ref().unwrap();
        assert_eq!(cs.len(), 2);
        assert!(cs.iter().all(|c| c.ready && c.started == Some(true)));
        assert!(cs[0]
            .container_id
            .as_ref()
            .unwrap()
            .starts_with("o2dms-sim://"));
        assert!(cs[1].image_id.starts_with("ghcr.io/o/sidecar@sha256:"));
        assert!(cs[0].state.as_ref().unwrap().running.is_some());
        assert_eq!(s.pod_ip.as_deref(), Some("10.244.0.2"));
        assert_eq!(s.host_ip.as_deref(), Some(HOST_IP));
        assert!(s.start_time.is_some());
        for t in ["Initialized", "Ready", "ContainersReady", "PodScheduled"] {
            assert!(condition_true(&s, t), "{t}");
        }
        assert!(!is_done(&p, Target::Run));
        p.status = Some(s);
        assert!(is_done(&p, Target::Run));
    }

    #[test]
    fn pull_error_status_is_not_ready() {
        let mut p = pod(&["nginx", "nothing.invalid/app:1"]);
        let s = pod_status(&p, Stage::ErrImagePull, &input());
        assert_eq!(s.phase.as_deref(), Some("Pending"));
        assert!(!condition_true(&s, "Ready"));
        let cs = s.container_statuses.clone().unwrap();
        assert!(cs[0].ready);
        assert!(!cs[1].ready);
        assert_eq!(waiting_reason(&cs[1]), Some("ErrImagePull"));
        p.status = Some(s);
        assert!(!is_done(&p, Target::PullError));
        let s = pod_status(&p, Stage::ImagePullBackOff, &input());
        assert_eq!(
            waiting_reason(&s.container_statuses.clone().unwrap()[1]),
            Some("ImagePullBackOff")
        );
        p.status = Some(s);
        assert!(is_done(&p, Target::PullError));
    }

    #[test]
    fn init_containers_complete_first() {
        let mut p = pod(&["nginx"]);
        p.spec.as_mut().unwrap().init_containers = Some(vec![Container {
            name: "init".into(),
            image: Some("busybox".into()),
            ..Container::default()
        }]);
        let s = pod_status(&p, Stage::Running, &input());
        let init = &s.init_container_statuses.unwrap()[0];
        let term = init.state.as_ref().unwrap().terminated.as_ref().unwrap();
        assert_eq!(
            (term.exit_code, term.reason.as_deref()),
            (0, Some("Completed"))
        );

        // An unpullable init image blocks the main containers.
        p.spec.as_mut().unwrap().init_containers.as_mut().unwrap()[0].image =
            Some("x.invalid/init".into());
        let s = pod_status(&p, Stage::ErrImagePull, &input());
        assert!(!condition_true(&s, "Initialized"));
        assert_eq!(
            waiting_reason(&s.container_statuses.unwrap()[0]),
            Some("PodInitializing")
        );
    }

    #[test]
    fn succeeded_status_terminates_everything() {
        let mut p = pod(&["busybox"]);
        let s = pod_status(&p, Stage::Succeeded, &input());
        assert_eq!(s.phase.as_deref(), Some("Succeeded"));
        let c = &s.container_statuses.as_ref().unwrap()[0];
        assert_eq!(
            c.state
                .as_ref()
                .unwrap()
                .terminated
                .as_ref()
                .unwrap()
                .exit_code,
            0
        );
        assert!(!c.ready);
        p.status = Some(s);
        assert!(is_done(&p, Target::Complete));
    }

    #[test]
    fn creating_status() {
        let s = pod_status(&pod(&["nginx"]), Stage::Creating, &input());
        assert_eq!(s.phase.as_deref(), Some("Pending"));
        assert_eq!(
            waiting_reason(&s.container_statuses.unwrap()[0]),
            Some("ContainerCreating")
        );
    }

    #[test]
    fn ids_are_deterministic() {
        assert_eq!(container_id("u", "c"), container_id("u", "c"));
        assert_ne!(container_id("u", "c"), container_id("u", "d"));
        assert!(image_id("nginx:1.25").starts_with("nginx@sha256:"));
        assert!(image_id("localhost:5000/app").starts_with("localhost:5000/app@sha256:"));
        assert!(image_id("app@sha256:00").starts_with("app@sha256:"));
    }
}
