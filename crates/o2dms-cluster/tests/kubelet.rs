//! The kubelet simulator on a real local control plane (etcd, kube-apiserver,
//! kube-controller-manager, kube-scheduler): Deployments become Available and scale,
//! deletions finish, Jobs complete, `.invalid` images never become ready, start delays
//! hold pods back, and `pods/log` returns the simulator's lines.
//!
//! One cluster serves every scenario (starting one costs seconds and two cores); each
//! scenario uses its own namespace. Scenarios report failures instead of panicking so
//! that the cluster is always stopped, then the test fails listing every failure.
//! Binaries come from the provisioner (`O2DMS_KUBE_BIN_DIR`, `KUBEBUILDER_ASSETS` or the
//! cache that `cargo xtask cluster` fills).

use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Namespace, Node, Pod, ServiceAccount};
use kube::api::{Api, DeleteParams, LogParams, Patch, PatchParams, PostParams};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Client, ResourceExt};
use o2dms_cluster::kubelet::{
    KubeletConfig, KubeletHandle, KubeletSimulator, LOG_LINES_ANNOTATION, START_DELAY_ANNOTATION,
};
use o2dms_cluster::{LocalCluster, LocalClusterOptions};
use serde_json::json;

type Outcome = Result<(), String>;

macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

fn err(context: &str) -> impl FnOnce(kube::Error) -> String + '_ {
    move |e| format!("{context}: {e}")
}

/// Waits until `pred` holds for the objects a watch sees (bounded by `limit`); returns
/// the elapsed time.
async fn wait_until<K, F>(
    api: Api<K>,
    config: watcher::Config,
    limit: Duration,
    what: &str,
    pred: F,
) -> Result<Duration, String>
where
    K: kube::Resource<DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + Sync
        + 'static,
    F: Fn(&[std::sync::Arc<K>]) -> bool,
{
    let start = Instant::now();
    let (store, writer) = kube::runtime::reflector::store::<K>();
    let stream = kube::runtime::reflector(writer, watcher(api, config)).default_backoff();
    let mut stream = std::pin::pin!(stream);
    let waited = tokio::time::timeout(limit, async {
        let mut ready = false;
        while let Some(event) = stream.next().await {
            match event {
                Ok(watcher::Event::Init | watcher::Event::InitApply(_)) => continue,
                Ok(watcher::Event::InitDone) => ready = true,
                Ok(_) => {}
                Err(_) => continue,
            }
            if ready && pred(&store.state()) {
                return true;
            }
        }
        false
    })
    .await;
    match waited {
        Ok(true) => Ok(start.elapsed()),
        Ok(false) => Err(format!("the watch ended while waiting for {what}")),
        Err(_) => Err(format!(
            "timed out after {limit:?} waiting for {what}; last seen: {:#?}",
            store
                .state()
                .iter()
                .map(|o| summary(&**o))
                .collect::<Vec<_>>()
        )),
    }
}

fn summary<K: kube::Resource>(obj: &K) -> String {
    format!(
        "{}/{}",
        obj.meta().namespace.clone().unwrap_or_default(),
        obj.meta().name.clone().unwrap_or_default()
    )
}

fn pod_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

fn waiting_reasons(pod: &Pod) -> Vec<String> {
    pod.status
        .iter()
        .flat_map(|s| s.container_statuses.iter().flatten())
        .filter_map(|c| c.state.as_ref()?.waiting.as_ref()?.reason.clone())
        .collect()
}

fn deployment(name: &str, replicas: i32, annotations: serde_json::Value) -> Deployment {
    serde_json::from_value(json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": { "name": name },
        "spec": {
            "replicas": replicas,
            "selector": { "matchLabels": { "app": name } },
            "template": {
                "metadata": { "labels": { "app": name }, "annotations": annotations },
                "spec": { "containers": [{ "name": "web", "image": "nginx:1.25" }] }
            }
        }
    }))
    .expect("a valid Deployment")
}

fn pod(name: &str, image: &str, annotations: serde_json::Value) -> Pod {
    serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": { "name": name, "annotations": annotations },
        "spec": { "containers": [{ "name": "main", "image": image }] }
    }))
    .expect("a valid Pod")
}

fn available(replicas: i32) -> impl Fn(&[std::sync::Arc<Deployment>]) -> bool {
    move |ds| {
        ds.iter().any(|d| {
            let Some(s) = d.status.as_ref() else {
                return false;
            };
            s.observed_generation == d.metadata.generation
                && s.ready_replicas.unwrap_or(0) == replicas
                && s.available_replicas.unwrap_or(0) == replicas
                && s.replicas.unwrap_or(0) == replicas
                && s.conditions
                    .iter()
                    .flatten()
                    .any(|c| c.type_ == "Available" && c.status == "True")
        })
    }
}

/// Creates a namespace for one scenario.
async fn namespace(client: &Client, name: &str) -> Result<Api<Pod>, String> {
    let ns: Namespace =
        serde_json::from_value(json!({ "metadata": { "name": name } })).expect("namespace");
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .map_err(err("creating the namespace"))?;
    // Pod admission (Kubernetes 1.20) refuses pods until the namespace's default service
    // account has its token; controllers retry, a test creating bare pods must wait.
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), name);
    wait_until(
        accounts,
        watcher::Config::default().fields("metadata.name=default"),
        Duration::from_secs(20),
        "the default service account's token",
        |sa| {
            sa.iter()
                .any(|a| a.secrets.as_ref().is_some_and(|s| !s.is_empty()))
        },
    )
    .await?;
    Ok(Api::namespaced(client.clone(), name))
}

async fn node_is_ready(client: &Client, kubelet: &KubeletHandle) -> Outcome {
    let node = Api::<Node>::all(client.clone())
        .get(kubelet.node_name())
        .await
        .map_err(err("reading the node"))?;
    let status = node.status.clone().unwrap_or_default();
    let ready = status
        .conditions
        .iter()
        .flatten()
        .any(|c| c.type_ == "Ready" && c.status == "True");
    ensure!(ready, "the node is not Ready: {:?}", status.conditions);
    let taints = node
        .spec
        .as_ref()
        .and_then(|s| s.taints.clone())
        .unwrap_or_default();
    ensure!(
        !taints
            .iter()
            .any(|t| t.key == "node.kubernetes.io/not-ready"),
        "the not-ready taint is still there: {taints:?}"
    );
    let port = status
        .daemon_endpoints
        .and_then(|d| d.kubelet_endpoint)
        .map(|e| e.port);
    ensure!(
        port == Some(i32::from(kubelet.log_port())),
        "kubeletEndpoint port {port:?} is not the log port {}",
        kubelet.log_port()
    );
    ensure!(
        status
            .node_info
            .is_some_and(|i| i.kubelet_version.ends_with("-o2dms-sim")),
        "the node does not say it is simulated"
    );
    Ok(())
}

/// Deployment: Available, scale up, scale down, delete.
async fn deployment_lifecycle(
    client: &Client,
    timings: &mut BTreeMap<&'static str, Duration>,
) -> Outcome {
    let ns = "kubelet-deploy";
    let pods = namespace(client, ns).await?;
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), ns);
    let start = Instant::now();
    deploys
        .create(&PostParams::default(), &deployment("web", 3, json!({})))
        .await
        .map_err(err("creating the deployment"))?;
    wait_until(
        deploys.clone(),
        watcher::Config::default(),
        Duration::from_secs(20),
        "3 replicas Available",
        available(3),
    )
    .await?;
    timings.insert(
        "3-replica Deployment Available after create",
        start.elapsed(),
    );

    let list = pods
        .list(&Default::default())
        .await
        .map_err(err("listing pods"))?;
    ensure!(
        list.items.len() == 3,
        "expected 3 pods, got {}",
        list.items.len()
    );
    let ips: HashSet<String> = list
        .items
        .iter()
        .filter_map(|p| p.status.as_ref()?.pod_ip.clone())
        .collect();
    ensure!(ips.len() == 3, "pods must have distinct IPs, got {ips:?}");
    for p in &list.items {
        let s = p.status.clone().unwrap_or_default();
        ensure!(
            s.phase.as_deref() == Some("Running"),
            "{} is {:?}",
            p.name_any(),
            s.phase
        );
        ensure!(
            s.host_ip.as_deref() == Some("127.0.0.1"),
            "{} hostIP {:?}",
            p.name_any(),
            s.host_ip
        );
        ensure!(s.start_time.is_some(), "{} has no startTime", p.name_any());
        let cs = s.container_statuses.unwrap_or_default();
        ensure!(
            cs.len() == 1
                && cs[0].ready
                && cs[0].started == Some(true)
                && cs[0].container_id.is_some(),
            "{} container status {cs:?}",
            p.name_any()
        );
        ensure!(
            cs[0].state.as_ref().is_some_and(|s| s.running.is_some()),
            "{} container not running",
            p.name_any()
        );
    }

    for replicas in [5, 1, 0, 2] {
        deploys
            .patch(
                "web",
                &PatchParams::default(),
                &Patch::Merge(json!({ "spec": { "replicas": replicas } })),
            )
            .await
            .map_err(err("scaling"))?;
        wait_until(
            deploys.clone(),
            watcher::Config::default(),
            Duration::from_secs(20),
            &format!("{replicas} replicas"),
            move |ds| {
                ds.iter().any(|d| {
                    let s = d.status.clone().unwrap_or_default();
                    s.observed_generation == d.metadata.generation
                        && s.replicas.unwrap_or(0) == replicas
                        && s.ready_replicas.unwrap_or(0) == replicas
                })
            },
        )
        .await?;
        // Scale-down is finished only when the pods are gone, not just Terminating.
        wait_until(
            pods.clone(),
            watcher::Config::default(),
            Duration::from_secs(20),
            &format!("{replicas} ready pods"),
            move |ps| ps.len() == replicas as usize && ps.iter().all(|p| pod_ready(p)),
        )
        .await?;
    }

    deploys
        .delete("web", &DeleteParams::foreground())
        .await
        .map_err(err("deleting the deployment"))?;
    wait_until(
        pods.clone(),
        watcher::Config::default(),
        Duration::from_secs(30),
        "no pods left",
        |ps| ps.is_empty(),
    )
    .await?;
    wait_until(
        deploys,
        watcher::Config::default(),
        Duration::from_secs(30),
        "the deployment gone",
        |ds| ds.is_empty(),
    )
    .await?;
    Ok(())
}

/// A Job completes: its pod ends Succeeded with exit code 0.
async fn job_completes(client: &Client) -> Outcome {
    let ns = "kubelet-job";
    let pods = namespace(client, ns).await?;
    let jobs: Api<Job> = Api::namespaced(client.clone(), ns);
    let job: Job = serde_json::from_value(json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": { "name": "once" },
        "spec": {
            "completions": 2,
            "template": { "spec": { "restartPolicy": "Never", "containers": [{ "name": "run", "image": "busybox:1.36" }] } }
        }
    }))
    .expect("a valid Job");
    jobs.create(&PostParams::default(), &job)
        .await
        .map_err(err("creating the job"))?;
    wait_until(
        jobs,
        watcher::Config::default(),
        Duration::from_secs(20),
        "the job Complete",
        |js| {
            js.iter().any(|j| {
                let s = j.status.clone().unwrap_or_default();
                s.succeeded == Some(2)
                    && s.conditions
                        .iter()
                        .flatten()
                        .any(|c| c.type_ == "Complete" && c.status == "True")
            })
        },
    )
    .await?;
    let list = pods
        .list(&Default::default())
        .await
        .map_err(err("listing pods"))?;
    ensure!(!list.items.is_empty(), "the job left no pods");
    for p in list.items {
        let s = p.status.clone().unwrap_or_default();
        ensure!(
            s.phase.as_deref() == Some("Succeeded"),
            "{} is {:?}",
            p.name_any(),
            s.phase
        );
        let exit = s
            .container_statuses
            .iter()
            .flatten()
            .map(|c| {
                c.state
                    .as_ref()
                    .and_then(|s| s.terminated.as_ref())
                    .map(|t| t.exit_code)
            })
            .collect::<Vec<_>>();
        ensure!(
            exit == vec![Some(0)],
            "{} exit codes {exit:?}",
            p.name_any()
        );
    }
    Ok(())
}

/// An image under `.invalid` stays Pending, ErrImagePull then ImagePullBackOff, never Ready.
async fn invalid_image_never_ready(client: &Client) -> Outcome {
    let ns = "kubelet-invalid";
    let pods = namespace(client, ns).await?;
    pods.create(
        &PostParams::default(),
        &pod("broken", "nothing.invalid/app:1", json!({})),
    )
    .await
    .map_err(err("creating the pod"))?;
    let one = |reason: &'static str| {
        move |ps: &[std::sync::Arc<Pod>]| {
            ps.iter()
                .any(|p| waiting_reasons(p).iter().any(|r| r == reason))
        }
    };
    wait_until(
        pods.clone(),
        watcher::Config::default(),
        Duration::from_secs(10),
        "ErrImagePull",
        one("ErrImagePull"),
    )
    .await?;
    wait_until(
        pods.clone(),
        watcher::Config::default(),
        Duration::from_secs(10),
        "ImagePullBackOff",
        one("ImagePullBackOff"),
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let p = pods.get("broken").await.map_err(err("reading the pod"))?;
    ensure!(!pod_ready(&p), "a pod with an .invalid image became Ready");
    let phase = p.status.as_ref().and_then(|s| s.phase.clone());
    ensure!(
        phase.as_deref() == Some("Pending"),
        "phase {phase:?}, expected Pending"
    );
    ensure!(
        waiting_reasons(&p) == ["ImagePullBackOff"],
        "waiting reasons {:?}",
        waiting_reasons(&p)
    );
    // Deleting it still finishes.
    pods.delete("broken", &DeleteParams::default())
        .await
        .map_err(err("deleting the pod"))?;
    wait_until(
        pods,
        watcher::Config::default(),
        Duration::from_secs(10),
        "the pod gone",
        |ps| ps.is_empty(),
    )
    .await?;
    Ok(())
}

/// `o2dms.io/start-delay-ms` holds the pod in ContainerCreating for that long.
async fn start_delay(client: &Client) -> Outcome {
    let ns = "kubelet-delay";
    let pods = namespace(client, ns).await?;
    let start = Instant::now();
    pods.create(
        &PostParams::default(),
        &pod(
            "slow",
            "nginx:1.25",
            json!({ START_DELAY_ANNOTATION: "1500" }),
        ),
    )
    .await
    .map_err(err("creating the pod"))?;
    wait_until(
        pods.clone(),
        watcher::Config::default(),
        Duration::from_secs(5),
        "ContainerCreating",
        |ps| {
            ps.iter()
                .any(|p| waiting_reasons(p) == ["ContainerCreating"])
        },
    )
    .await?;
    let p = pods.get("slow").await.map_err(err("reading the pod"))?;
    ensure!(
        !pod_ready(&p) || start.elapsed() >= Duration::from_millis(1500),
        "ready before its delay"
    );
    wait_until(
        pods,
        watcher::Config::default(),
        Duration::from_secs(10),
        "the delayed pod Ready",
        |ps| ps.iter().any(|p| pod_ready(p)),
    )
    .await?;
    let elapsed = start.elapsed();
    ensure!(
        elapsed >= Duration::from_millis(1500),
        "ready after {elapsed:?}, before the 1.5 s delay"
    );
    Ok(())
}

/// `pods/log` reaches the simulator's HTTPS endpoint.
async fn logs(client: &Client) -> Outcome {
    let ns = "kubelet-logs";
    let pods = namespace(client, ns).await?;
    pods.create(
        &PostParams::default(),
        &pod(
            "talker",
            "nginx:1.25",
            json!({ LOG_LINES_ANNOTATION: "alpha\nbeta\ngamma" }),
        ),
    )
    .await
    .map_err(err("creating the pod"))?;
    wait_until(
        pods.clone(),
        watcher::Config::default(),
        Duration::from_secs(10),
        "the pod Ready",
        |ps| ps.iter().any(|p| pod_ready(p)),
    )
    .await?;

    let all = pods
        .logs("talker", &LogParams::default())
        .await
        .map_err(err("reading all logs"))?;
    let lines: Vec<&str> = all.lines().collect();
    ensure!(lines.len() == 4, "expected 4 lines, got {all:?}");
    ensure!(
        lines[0].contains("started container \"main\""),
        "startup line {:?}",
        lines[0]
    );
    ensure!(
        lines[1..] == ["alpha", "beta", "gamma"],
        "annotation lines {:?}",
        &lines[1..]
    );

    let tail = pods
        .logs(
            "talker",
            &LogParams {
                tail_lines: Some(2),
                ..LogParams::default()
            },
        )
        .await
        .map_err(err("reading the tail"))?;
    ensure!(tail == "beta\ngamma\n", "tailLines=2 gave {tail:?}");

    let stamped = pods
        .logs(
            "talker",
            &LogParams {
                tail_lines: Some(1),
                timestamps: true,
                container: Some("main".into()),
                ..LogParams::default()
            },
        )
        .await
        .map_err(err("reading with timestamps"))?;
    let (ts, text) = stamped
        .trim_end()
        .split_once(' ')
        .ok_or_else(|| format!("no timestamp in {stamped:?}"))?;
    ensure!(
        text == "gamma" && ts.parse::<k8s_openapi::jiff::Timestamp>().is_ok(),
        "timestamped line {stamped:?}"
    );

    let limited = pods
        .logs(
            "talker",
            &LogParams {
                limit_bytes: Some(5),
                tail_lines: Some(1),
                ..LogParams::default()
            },
        )
        .await
        .map_err(err("reading with limitBytes"))?;
    ensure!(limited == "gamma", "limitBytes=5 gave {limited:?}");

    let recent = pods
        .logs(
            "talker",
            &LogParams {
                since_seconds: Some(3600),
                ..LogParams::default()
            },
        )
        .await
        .map_err(err("reading with sinceSeconds"))?;
    ensure!(recent == all, "sinceSeconds=3600 gave {recent:?}");

    // The apiserver itself rejects unknown containers; the simulator's 404 for unknown pods
    // and containers is covered by the crate's unit tests.
    let unknown = pods
        .logs(
            "talker",
            &LogParams {
                container: Some("nope".into()),
                ..LogParams::default()
            },
        )
        .await;
    ensure!(
        unknown.is_err(),
        "logs of an unknown container: {unknown:?}"
    );
    Ok(())
}

/// Time from bind (first event with spec.nodeName) to Ready, for a few pods, as a client sees it.
async fn ready_after_bind(
    client: &Client,
    timings: &mut BTreeMap<&'static str, Duration>,
) -> Outcome {
    let ns = "kubelet-latency";
    let pods = namespace(client, ns).await?;
    let mut worst = Duration::ZERO;
    let mut total = Duration::ZERO;
    let n = 5u32;
    for i in 0..n {
        let name = format!("quick-{i}");
        let stream = watcher(
            pods.clone(),
            watcher::Config::default().fields(&format!("metadata.name={name}")),
        )
        .default_backoff();
        let mut stream = std::pin::pin!(stream);
        // Be sure the watch is established before the pod exists.
        while let Some(e) = stream.next().await {
            if matches!(e, Ok(watcher::Event::InitDone)) {
                break;
            }
        }
        pods.create(&PostParams::default(), &pod(&name, "nginx:1.25", json!({})))
            .await
            .map_err(err("creating the pod"))?;
        let measured = tokio::time::timeout(Duration::from_secs(10), async {
            let mut bound: Option<Instant> = None;
            while let Some(event) = stream.next().await {
                let Ok(watcher::Event::Apply(p)) = event else {
                    continue;
                };
                if bound.is_none() && p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_some() {
                    bound = Some(Instant::now());
                }
                if pod_ready(&p) {
                    return bound.map(|b| b.elapsed());
                }
            }
            None
        })
        .await
        .map_err(|_| format!("{name} not Ready within 10 s"))?
        .ok_or_else(|| format!("{name}: no bind seen before Ready"))?;
        worst = worst.max(measured);
        total += measured;
    }
    timings.insert("pod Ready after bind (mean of 5)", total / n);
    timings.insert("pod Ready after bind (worst of 5)", worst);
    // The target is 100 ms; CI machines are noisy, so only an order of magnitude is asserted.
    ensure!(
        worst < Duration::from_secs(1),
        "a pod took {worst:?} from bind to Ready"
    );
    Ok(())
}

/// Deleting a namespace finishes (its pods are finalised by the simulator).
async fn namespace_deletion(client: &Client) -> Outcome {
    let ns = "kubelet-nsdel";
    let pods = namespace(client, ns).await?;
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), ns);
    deploys
        .create(&PostParams::default(), &deployment("web", 2, json!({})))
        .await
        .map_err(err("creating the deployment"))?;
    wait_until(
        deploys,
        watcher::Config::default(),
        Duration::from_secs(20),
        "2 replicas Available",
        available(2),
    )
    .await?;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .delete(ns, &DeleteParams::default())
        .await
        .map_err(err("deleting the namespace"))?;
    wait_until(
        pods,
        watcher::Config::default(),
        Duration::from_secs(30),
        "the namespace's pods gone",
        |ps| ps.is_empty(),
    )
    .await?;
    wait_until(
        namespaces,
        watcher::Config::default().fields(&format!("metadata.name={ns}")),
        Duration::from_secs(60),
        "the namespace gone",
        |n| n.is_empty(),
    )
    .await?;
    Ok(())
}

async fn run<F: Future<Output = Outcome>>(name: &str, failures: &mut Vec<String>, scenario: F) {
    let start = Instant::now();
    let outcome = tokio::time::timeout(Duration::from_secs(120), scenario)
        .await
        .unwrap_or_else(|_| Err("scenario timed out after 120 s".to_owned()));
    match outcome {
        Ok(()) => eprintln!("ok   {name} ({:?})", start.elapsed()),
        Err(e) => {
            eprintln!("FAIL {name}: {e}");
            failures.push(format!("{name}: {e}"));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubelet_simulator_on_a_local_cluster() {
    let cluster = LocalCluster::start(LocalClusterOptions {
        kubelet: false,
        ..LocalClusterOptions::default()
    })
    .await
    .expect("a local control plane (provision the binaries first, e.g. cargo xtask cluster up)");
    let client = cluster.client();
    let kubelet = KubeletSimulator::start(
        client.clone(),
        KubeletConfig {
            node_name: "kubelet-test-node".to_owned(),
            log_port: 0,
        },
    )
    .await;
    let kubelet = match kubelet {
        Ok(k) => k,
        Err(e) => {
            cluster.stop().await;
            panic!("the kubelet simulator did not start: {e}");
        }
    };

    let mut failures = Vec::new();
    let mut timings = BTreeMap::new();
    run(
        "node is Ready",
        &mut failures,
        node_is_ready(&client, &kubelet),
    )
    .await;
    run(
        "pod Ready after bind",
        &mut failures,
        ready_after_bind(&client, &mut timings),
    )
    .await;
    run(
        "deployment lifecycle",
        &mut failures,
        deployment_lifecycle(&client, &mut timings),
    )
    .await;
    run("job completes", &mut failures, job_completes(&client)).await;
    run(
        "invalid image never ready",
        &mut failures,
        invalid_image_never_ready(&client),
    )
    .await;
    run("start delay", &mut failures, start_delay(&client)).await;
    run("logs", &mut failures, logs(&client)).await;
    run(
        "namespace deletion",
        &mut failures,
        namespace_deletion(&client),
    )
    .await;

    let port = kubelet.log_port();
    kubelet.shutdown().await;
    let still_listening = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_ok();
    cluster.stop().await;

    for (what, t) in &timings {
        eprintln!("timing: {what}: {:.1} ms", t.as_secs_f64() * 1000.0);
    }
    if still_listening {
        failures.push(format!(
            "the log endpoint still listens on port {port} after shutdown"
        ));
    }
    assert!(
        failures.is_empty(),
        "failed scenarios:\n{}",
        failures.join("\n")
    );
}
