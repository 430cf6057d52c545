//! The pod side of the simulator: a watch on the pods bound to the node, reporting their
//! statuses and finishing their deletions.

use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DeleteParams, Patch, PatchParams, Preconditions};
use kube::runtime::reflector::{self, store::Writer};
use kube::runtime::{watcher, WatchStreamExt};
use kube::ResourceExt;
use serde_json::json;
use tokio::sync::watch;
use tokio::task::{AbortHandle, JoinSet};

use super::status::{is_done, plan, pod_status, Stage, StatusInput, Target};

/// How long a pod shows `ErrImagePull` before it turns into `ImagePullBackOff`.
const BACKOFF_AFTER: Duration = Duration::from_secs(1);

/// Hands out distinct pod IPs from 10.244.0.0/16.
#[derive(Debug, Default)]
pub(crate) struct IpPool {
    next: u32,
    in_use: HashSet<Ipv4Addr>,
}

impl IpPool {
    const BASE: u32 = u32::from_be_bytes([10, 244, 0, 0]);
    const SIZE: u32 = 1 << 16;

    /// A free address (never .0 or .255 of a /24 block), or `None` if all are taken.
    pub(crate) fn allocate(&mut self) -> Option<Ipv4Addr> {
        for _ in 0..Self::SIZE {
            let offset = self.next % Self::SIZE;
            self.next = self.next.wrapping_add(1);
            let ip = Ipv4Addr::from(Self::BASE + offset);
            let last = ip.octets()[3];
            if last == 0 || last == 255 || last == 1 {
                continue;
            }
            if self.in_use.insert(ip) {
                return Some(ip);
            }
        }
        None
    }

    /// Marks an address as used (one a pod already reports).
    pub(crate) fn claim(&mut self, ip: Ipv4Addr) {
        self.in_use.insert(ip);
    }

    /// Returns an address to the pool.
    pub(crate) fn release(&mut self, ip: Ipv4Addr) {
        self.in_use.remove(&ip);
    }
}

struct Tracked {
    target: Target,
    task: Option<AbortHandle>,
    ip: Option<Ipv4Addr>,
}

/// The state of the pod loop.
struct PodLoop {
    api: Api<Pod>,
    tracked: HashMap<String, Tracked>,
    ips: IpPool,
    tasks: JoinSet<(String, bool)>,
    /// Uids seen during a watch (re)initialisation.
    relisted: Option<HashSet<String>>,
}

/// Runs until `shutdown` turns true: watches the pods bound to `node`, feeds `writer`
/// (the store the log server reads) and drives each pod's status.
pub(crate) async fn run(
    api: Api<Pod>,
    node: String,
    writer: Writer<Pod>,
    mut shutdown: watch::Receiver<bool>,
) {
    let config = watcher::Config::default().fields(&format!("spec.nodeName={node}"));
    let stream = reflector::reflector(writer, watcher(api.clone(), config)).default_backoff();
    let mut stream = std::pin::pin!(stream);
    let mut state = PodLoop {
        api,
        tracked: HashMap::new(),
        ips: IpPool::default(),
        tasks: JoinSet::new(),
        relisted: None,
    };
    loop {
        tokio::select! {
            biased;
            _ = super::stopped(&mut shutdown) => break,
            Some(done) = state.tasks.join_next(), if !state.tasks.is_empty() => {
                if let Ok((uid, ok)) = done {
                    state.task_finished(&uid, ok);
                }
            }
            event = stream.next() => match event {
                Some(Ok(event)) => state.handle(event),
                Some(Err(e)) => tracing::warn!(error = %e, "kubelet simulator: pod watch failed; retrying"),
                None => break,
            },
        }
    }
    state.tasks.shutdown().await;
}

impl PodLoop {
    fn handle(&mut self, event: watcher::Event<Pod>) {
        match event {
            watcher::Event::Init => self.relisted = Some(HashSet::new()),
            watcher::Event::InitApply(pod) => {
                if let (Some(seen), Some(uid)) = (self.relisted.as_mut(), pod.uid()) {
                    seen.insert(uid);
                }
                self.apply(pod);
            }
            watcher::Event::InitDone => {
                if let Some(seen) = self.relisted.take() {
                    let gone: Vec<String> = self
                        .tracked
                        .keys()
                        .filter(|uid| !seen.contains(*uid))
                        .cloned()
                        .collect();
                    for uid in gone {
                        self.forget(&uid);
                    }
                }
            }
            watcher::Event::Apply(pod) => self.apply(pod),
            watcher::Event::Delete(pod) => {
                if let Some(uid) = pod.uid() {
                    self.forget(&uid);
                }
            }
        }
    }

    fn forget(&mut self, uid: &str) {
        if let Some(t) = self.tracked.remove(uid) {
            if let Some(task) = t.task {
                task.abort();
            }
            if let Some(ip) = t.ip {
                self.ips.release(ip);
            }
        }
    }

    fn task_finished(&mut self, uid: &str, ok: bool) {
        if let Some(t) = self.tracked.get_mut(uid) {
            t.task = None;
            if !ok {
                // Let the next event of this pod try again.
                self.forget(uid);
            }
        }
    }

    fn apply(&mut self, pod: Pod) {
        let Some(uid) = pod.uid() else { return };
        let Some(plan) = plan(&pod) else { return };
        if let Some(t) = self.tracked.get(&uid) {
            if t.target == plan.target {
                return; // Already handled, or under way.
            }
        }
        if is_done(&pod, plan.target) {
            let ip = self.claim_reported_ip(&pod);
            self.tracked.insert(
                uid,
                Tracked {
                    target: plan.target,
                    task: None,
                    ip,
                },
            );
            return;
        }
        if let Some(w) = &plan.warning {
            tracing::warn!(pod = %pod.name_any(), namespace = ?pod.namespace(), "{w}");
        }
        // A change of plan (for example a deletion) replaces the task under way.
        let previous_ip = self.tracked.remove(&uid).and_then(|t| {
            if let Some(task) = t.task {
                task.abort();
            }
            t.ip
        });
        let ip = previous_ip
            .or_else(|| self.claim_reported_ip(&pod))
            .or_else(|| self.ips.allocate());
        let api = self.api.clone();
        let task_uid = uid.clone();
        let task = match plan.target {
            Target::Delete => self
                .tasks
                .spawn(async move { (task_uid, finish_deletion(&api, &pod).await) }),
            target => {
                let Some(pod_ip) = ip else {
                    tracing::error!(pod = %pod.name_any(), "kubelet simulator: no pod IP left");
                    return;
                };
                let delay = plan.delay;
                self.tasks.spawn(async move {
                    let ok = drive(&api, &pod, target, delay, pod_ip.to_string()).await;
                    (task_uid, ok)
                })
            }
        };
        self.tracked.insert(
            uid,
            Tracked {
                target: plan.target,
                task: Some(task),
                ip,
            },
        );
    }

    fn claim_reported_ip(&mut self, pod: &Pod) -> Option<Ipv4Addr> {
        let ip: Ipv4Addr = pod.status.as_ref()?.pod_ip.as_ref()?.parse().ok()?;
        self.ips.claim(ip);
        Some(ip)
    }
}

/// Walks a pod through its stages for `target`.
async fn drive(
    api: &Api<Pod>,
    pod: &Pod,
    target: Target,
    delay: Option<Duration>,
    pod_ip: String,
) -> bool {
    let stages: &[Stage] = match target {
        Target::PullError => &[Stage::ErrImagePull, Stage::ImagePullBackOff],
        Target::Run => &[Stage::Running],
        Target::Complete => &[Stage::Succeeded],
        Target::Delete => &[],
    };
    if let Some(delay) = delay {
        if !report(api, pod, Stage::Creating, &pod_ip).await {
            return false;
        }
        tokio::time::sleep(delay).await;
    }
    for (i, stage) in stages.iter().enumerate() {
        if i > 0 {
            tokio::time::sleep(BACKOFF_AFTER).await;
        }
        if !report(api, pod, *stage, &pod_ip).await {
            return false;
        }
    }
    true
}

/// Patches the pod's status to `stage`, retrying transient failures a few times.
async fn report(api: &Api<Pod>, pod: &Pod, stage: Stage, pod_ip: &str) -> bool {
    let name = pod.name_any();
    let input = StatusInput {
        now: Timestamp::now(),
        pod_ip: pod_ip.to_owned(),
    };
    let patch = json!({ "status": pod_status(pod, stage, &input) });
    let api = match pod.namespace() {
        Some(ns) => Api::namespaced(api.clone().into_client(), &ns),
        None => api.clone(),
    };
    for attempt in 0..5u32 {
        match api
            .patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(_) => return true,
            Err(kube::Error::Api(e)) if e.code == 404 => return true, // gone meanwhile
            Err(e) => {
                tracing::warn!(pod = %name, ?stage, attempt, error = %e, "kubelet simulator: status update failed");
                tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
            }
        }
    }
    false
}

/// Deletes a terminating pod with grace period 0, as a kubelet does once its containers
/// have stopped.
async fn finish_deletion(api: &Api<Pod>, pod: &Pod) -> bool {
    let name = pod.name_any();
    let Some(ns) = pod.namespace() else {
        return false;
    };
    let api: Api<Pod> = Api::namespaced(api.clone().into_client(), &ns);
    let params = DeleteParams {
        grace_period_seconds: Some(0),
        preconditions: Some(Preconditions {
            uid: pod.uid(),
            resource_version: None,
        }),
        ..DeleteParams::default()
    };
    for attempt in 0..5u32 {
        match api.delete(&name, &params).await {
            Ok(_) => return true,
            Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 => return true,
            Err(e) => {
                tracing::warn!(pod = %name, attempt, error = %e, "kubelet simulator: finishing a deletion failed");
                tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_pool_hands_out_distinct_addresses() {
        let mut pool = IpPool::default();
        let a = pool.allocate().unwrap();
        let b = pool.allocate().unwrap();
        assert_ne!(a, b);
        assert_eq!(a, Ipv4Addr::new(10, 244, 0, 2));
        assert_eq!(b, Ipv4Addr::new(10, 244, 0, 3));
        pool.claim(Ipv4Addr::new(10, 244, 0, 4));
        assert_eq!(pool.allocate().unwrap(), Ipv4Addr::new(10, 244, 0, 5));
        let mut seen = HashSet::new();
        for _ in 0..600 {
            let ip = pool.allocate().unwrap();
            assert!(![0, 1, 255].contains(&ip.octets()[3]));
            assert!(seen.insert(ip));
        }
        pool.release(a);
    }
}
