//! `helm install --wait` and `helm uninstall --wait` with Helm 3 and Helm 4 on a real
//! local cluster, binaries from the crate's provisioning.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Pod, Service};
use kube::api::{Api, ListParams};
use o2dms_cluster::{tools, HelmMajor, LocalCluster, LocalClusterOptions};

fn chart_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conformance/fixtures/charts/web")
}

/// Runs helm with argv (never a shell), bounded by helm's own `--timeout` plus a margin.
async fn helm(helm: &Path, kubeconfig: &Path, home: &Path, args: &[&str]) -> String {
    let mut cmd = Command::new(helm);
    cmd.args(args)
        .env("KUBECONFIG", kubeconfig)
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_DATA_HOME", home.join("data"));
    let shown = format!("helm {}", args.join(" "));
    let out = tokio::time::timeout(
        Duration::from_secs(150),
        tokio::task::spawn_blocking(move || cmd.output()),
    )
    .await
    .unwrap_or_else(|_| panic!("{shown} did not finish in 150s"))
    .expect("join")
    .expect("run helm");
    assert!(
        out.status.success(),
        "{} failed: {}\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn install_and_uninstall(major: HelmMajor) {
    let t = tokio::task::spawn_blocking(tools)
        .await
        .expect("join")
        .expect("provision tools (run `cargo xtask cluster provision` first)");
    let helm_bin = t.helm(major).to_path_buf();
    let version = o2dms_cluster::tools::helm_version(&helm_bin).expect("helm version");
    let want = match major {
        HelmMajor::V3 => "v3.",
        HelmMajor::V4 => "v4.",
    };
    assert!(
        version.starts_with(want),
        "{} is {version}",
        helm_bin.display()
    );

    let cluster = LocalCluster::start(LocalClusterOptions {
        binaries: Some(t.control_plane.clone()),
        ..LocalClusterOptions::default()
    })
    .await
    .expect("start a local cluster");
    let home = tempfile::tempdir().expect("helm home");
    let kc = cluster.kubeconfig_path().to_path_buf();
    let chart = chart_dir();
    let chart = chart.to_str().expect("utf-8 path");
    let ns = "helm-test";

    helm(
        &helm_bin,
        &kc,
        home.path(),
        &[
            "install",
            "web1",
            chart,
            "--namespace",
            ns,
            "--create-namespace",
            "--wait",
            "--timeout",
            "120s",
        ],
    )
    .await;
    let deployments: Api<Deployment> = Api::namespaced(cluster.client(), ns);
    let d = deployments
        .get("web1-web")
        .await
        .expect("deployment exists");
    let status = d.status.unwrap_or_default();
    assert_eq!(status.ready_replicas, Some(2), "{status:?}");
    let services: Api<Service> = Api::namespaced(cluster.client(), ns);
    assert!(services.get_opt("web1-web").await.unwrap().is_some());
    let status = helm(
        &helm_bin,
        &kc,
        home.path(),
        &["status", "web1", "--namespace", ns, "-o", "json"],
    )
    .await;
    let status: serde_json::Value = serde_json::from_str(&status).expect("json status");
    assert_eq!(status["info"]["status"], "deployed");

    helm(
        &helm_bin,
        &kc,
        home.path(),
        &[
            "uninstall",
            "web1",
            "--namespace",
            ns,
            "--wait",
            "--timeout",
            "120s",
        ],
    )
    .await;
    assert!(deployments.get_opt("web1-web").await.unwrap().is_none());
    // The Deployment is gone; its pods follow through garbage collection and the
    // simulated kubelet finishing their deletion.
    let pods: Api<Pod> = Api::namespaced(cluster.client(), ns);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let left = pods.list(&ListParams::default()).await.unwrap();
        if left.items.is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} pods left 30s after uninstall",
            left.items.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helm3_install_and_uninstall_wait() {
    install_and_uninstall(HelmMajor::V3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helm4_install_and_uninstall_wait() {
    install_and_uninstall(HelmMajor::V4).await;
}
