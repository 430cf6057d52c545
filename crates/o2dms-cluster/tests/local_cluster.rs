//! A real local cluster (no mocks): workloads become available, clusters run side by
//! side, and stopping leaves no process behind.

use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, PostParams};
use o2dms_cluster::{
    process_alive, tools, ControlPlaneBinaries, LocalCluster, LocalClusterOptions,
};

async fn start() -> LocalCluster {
    let binaries = tokio::task::spawn_blocking(|| tools().map(|t| t.control_plane.clone()))
        .await
        .expect("provisioning task")
        .expect("provision tools (run `cargo xtask cluster provision` first)");
    LocalCluster::start(LocalClusterOptions {
        binaries: Some(binaries),
        ..LocalClusterOptions::default()
    })
    .await
    .expect("start a local cluster")
}

fn deployment(name: &str, replicas: i32) -> Deployment {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "main", "image": "registry.k8s.io/pause:3.9"}]}
            }
        }
    }))
    .expect("valid deployment")
}

async fn wait_available(client: kube::Client, name: &str, replicas: i32, bound: Duration) {
    let api: Api<Deployment> = Api::namespaced(client, "default");
    let deadline = Instant::now() + bound;
    loop {
        let d = api.get(name).await.expect("get deployment");
        let status = d.status.unwrap_or_default();
        let available = status
            .conditions
            .unwrap_or_default()
            .iter()
            .any(|c| c.type_ == "Available" && c.status == "True");
        if available && status.available_replicas == Some(replicas) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "deployment {name} not available within {bound:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployment_becomes_available() {
    let cluster = start().await;
    // Usable the moment start returns: a pod using the default service account is
    // admitted at once (no retry), and is scheduled and runs.
    let pods: Api<Pod> = Api::namespaced(cluster.client(), "default");
    let pod: Pod = serde_json::from_value(serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "first"},
        "spec": {"containers": [{"name": "main", "image": "registry.k8s.io/pause:3.9"}]}
    }))
    .expect("valid pod");
    let created = pods
        .create(&PostParams::default(), &pod)
        .await
        .expect("a pod is admitted as soon as start returns");
    assert_eq!(
        created.spec.and_then(|s| s.service_account_name).as_deref(),
        Some("default")
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let p = pods.get("first").await.expect("get pod");
        if p.status.and_then(|s| s.phase).as_deref() == Some("Running") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "pod first not Running within 30s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let phases = cluster.start_phases();
    assert!(phases.windows(2).all(|w| w[0].at <= w[1].at), "{phases:?}");
    for step in [
        "kube-apiserver /readyz ok",
        "node Ready",
        "service account default/default ready",
    ] {
        assert!(
            phases.iter().any(|p| p.name == step),
            "{step} missing: {phases:?}"
        );
    }
    if cluster.binaries().has_start_patches() {
        // Built here: the controller-manager starts with the apiserver and waits for it.
        let at = |name: &str| {
            phases
                .iter()
                .position(|p| p.name == name)
                .unwrap_or_else(|| panic!("no phase {name}: {phases:?}"))
        };
        assert!(
            at("kube-controller-manager spawned") < at("kube-apiserver serving"),
            "{phases:?}"
        );
    }
    let version = cluster.server_version().clone();
    assert!(version.git_version.starts_with('v'), "{version:?}");
    bootstrap_done_and_current_apis_served(&cluster).await;
    let nodes: Api<Node> = Api::all(cluster.client());
    assert_eq!(
        nodes.list(&Default::default()).await.unwrap().items.len(),
        1
    );
    let api: Api<Deployment> = Api::namespaced(cluster.client(), "default");
    api.create(&PostParams::default(), &deployment("web", 2))
        .await
        .expect("create deployment");
    wait_available(cluster.client(), "web", 2, Duration::from_secs(60)).await;
    cluster.stop().await;
}

/// What the apiserver's bootstrap makes exists when start returns, and the API versions are
/// those a current cluster offers where 1.20 has them (the betas later releases removed
/// are off; the betas that are 1.20's only version of a kind stay).
async fn bootstrap_done_and_current_apis_served(cluster: &LocalCluster) {
    use k8s_openapi::api::rbac::v1::ClusterRole;
    use k8s_openapi::api::scheduling::v1::PriorityClass;
    let roles: Api<ClusterRole> = Api::all(cluster.client());
    for name in [
        "admin",
        "system:kube-controller-manager",
        "system:public-info-viewer",
    ] {
        roles
            .get(name)
            .await
            .unwrap_or_else(|e| panic!("cluster role {name}: {e}"));
    }
    let classes: Api<PriorityClass> = Api::all(cluster.client());
    classes
        .get("system-node-critical")
        .await
        .expect("system priority classes exist");

    let groups = cluster
        .client()
        .list_api_groups()
        .await
        .expect("discovery of API groups");
    let served: Vec<String> = groups
        .groups
        .iter()
        .flat_map(|g| g.versions.iter().map(|v| v.group_version.clone()))
        .collect();
    for gv in [
        "apps/v1",
        "batch/v1",
        "networking.k8s.io/v1",
        "rbac.authorization.k8s.io/v1",
    ] {
        assert!(
            served.iter().any(|s| s == gv),
            "{gv} not served: {served:?}"
        );
    }
    if cluster.server_version().minor == "20" {
        for gv in [
            "batch/v1beta1",
            "policy/v1beta1",
            "discovery.k8s.io/v1beta1",
        ] {
            assert!(
                served.iter().any(|s| s == gv),
                "{gv} not served: {served:?}"
            );
        }
        for gv in [
            "extensions/v1beta1",
            "networking.k8s.io/v1beta1",
            "rbac.authorization.k8s.io/v1beta1",
        ] {
            assert!(
                !served.iter().any(|s| s == gv),
                "{gv} still served: {served:?}"
            );
        }
    }
}

/// Binaries without this crate's start-up changes (as from `KUBEBUILDER_ASSETS`): the
/// controller-manager is started only once the apiserver is ready, and the cluster works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_binaries_start_the_controller_manager_after_readyz() {
    let built = tokio::task::spawn_blocking(|| tools().map(|t| t.control_plane.clone()))
        .await
        .expect("provisioning task")
        .expect("provision tools (run `cargo xtask cluster provision` first)");
    // The same binaries, linked from a directory without o2dms-source-patches.txt.
    let stock = tempfile::tempdir().expect("temp dir");
    for bin in [
        &built.kube_apiserver,
        &built.kube_controller_manager,
        &built.kube_scheduler,
    ] {
        std::os::unix::fs::symlink(bin, stock.path().join(bin.file_name().unwrap()))
            .expect("link a binary");
    }
    let binaries = ControlPlaneBinaries::from_dir(stock.path()).expect("stock binaries");
    assert_eq!(binaries.source_patch_level, None);
    assert!(!binaries.has_start_patches());

    let cluster = LocalCluster::start(LocalClusterOptions {
        binaries: Some(binaries),
        ..LocalClusterOptions::default()
    })
    .await
    .expect("start with stock binaries");
    let at = |name: &str| {
        cluster
            .start_phases()
            .iter()
            .position(|p| p.name == name)
            .unwrap_or_else(|| panic!("no phase {name}: {:?}", cluster.start_phases()))
    };
    assert!(
        at("kube-apiserver /readyz ok") < at("kube-controller-manager spawned"),
        "{:?}",
        cluster.start_phases()
    );
    let api: Api<Deployment> = Api::namespaced(cluster.client(), "default");
    api.create(&PostParams::default(), &deployment("stock", 1))
        .await
        .expect("create deployment");
    wait_available(cluster.client(), "stock", 1, Duration::from_secs(60)).await;
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clusters_side_by_side_and_nothing_remains_after_stop() {
    let (a, b) = tokio::join!(start(), start());
    assert_ne!(a.ports().apiserver, b.ports().apiserver);
    assert_ne!(a.dir(), b.dir());
    let api_a: Api<Deployment> = Api::namespaced(a.client(), "default");
    let api_b: Api<Deployment> = Api::namespaced(b.client(), "default");
    api_a
        .create(&PostParams::default(), &deployment("only-in-a", 1))
        .await
        .unwrap();
    api_b
        .create(&PostParams::default(), &deployment("only-in-b", 1))
        .await
        .unwrap();
    wait_available(a.client(), "only-in-a", 1, Duration::from_secs(60)).await;
    wait_available(b.client(), "only-in-b", 1, Duration::from_secs(60)).await;
    assert!(api_a.get_opt("only-in-b").await.unwrap().is_none());
    assert!(api_b.get_opt("only-in-a").await.unwrap().is_none());

    let pids: Vec<u32> = a
        .pids()
        .into_iter()
        .chain(b.pids())
        .map(|(_, p)| p)
        .collect();
    assert_eq!(pids.len(), 8);
    assert!(pids.iter().all(|p| process_alive(*p)));
    let dirs = [a.dir().to_path_buf(), b.dir().to_path_buf()];
    a.stop().await;
    b.stop().await;
    for pid in pids {
        assert!(!process_alive(pid), "process {pid} still runs after stop");
        assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    }
    for d in dirs {
        assert!(!d.exists(), "{} still exists", d.display());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_cluster_stops_it() {
    let cluster = start().await;
    let pids: Vec<u32> = cluster.pids().into_iter().map(|(_, p)| p).collect();
    let dir = cluster.dir().to_path_buf();
    // As in a test that panics: no explicit stop.
    let outcome = std::panic::AssertUnwindSafe(async move {
        let _owned = cluster;
        panic!("simulated test failure");
    });
    let joined = tokio::spawn(futures::FutureExt::catch_unwind(outcome)).await;
    assert!(matches!(joined, Ok(Err(_))));
    for pid in pids {
        assert!(!process_alive(pid), "process {pid} still runs after drop");
    }
    assert!(!dir.exists());
}
