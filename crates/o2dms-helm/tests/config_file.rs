//! The documented configuration file drives a real Helm adapter: `docs/config.example.yaml`
//! is read with `HelmConfig::from_config_file`, only what must differ on this machine is
//! overridden (the kubeconfig of a local cluster and the provisioned helm binary), and
//! the adapter connects and reports itself healthy.

use std::path::Path;
use std::time::Duration;

use o2dms_cluster::{tools, HelmMajor, LocalCluster, LocalClusterOptions};
use o2dms_core::{DmsAdapter, HealthStatus};
use o2dms_helm::{HelmAdapter, HelmConfig};

fn example_file() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/config.example.yaml")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_file_connects_a_healthy_adapter() {
    let mut config = HelmConfig::from_config_file(example_file(), None)
        .unwrap_or_else(|e| panic!("docs/config.example.yaml: {e}"));
    // what the example sets
    assert_eq!(
        config.kubeconfig.as_deref(),
        Some(Path::new("/etc/kubernetes/admin.conf"))
    );
    assert_eq!(
        config.chart_repository.as_deref(),
        Some("https://charts.example.com")
    );
    assert_eq!(config.namespace, "deployments");
    assert_eq!(config.timeout, Duration::from_secs(10 * 60));
    assert_eq!(config.max_history, 10);
    // and what it leaves to the defaults
    assert_eq!(config.scale_key, HelmConfig::DEFAULT_SCALE_KEY);
    assert_eq!(config.context, None);
    assert_eq!(config.data_dir, None);
    assert!(!config.rebuild_from_release);
    // the same plugin by name
    assert_eq!(
        HelmConfig::from_config_file(example_file(), Some("helm-deployer")).unwrap(),
        config
    );

    // This machine: a local cluster (no kubelet: health needs only the API server) and the
    // provisioned helm. Missing tools are provisioned, or the test fails saying why.
    let t = tokio::task::spawn_blocking(tools)
        .await
        .expect("join")
        .unwrap_or_else(|e| {
            panic!("provision the cluster binaries and helm (`cargo xtask cluster provision`): {e}")
        });
    let cluster = LocalCluster::start(LocalClusterOptions {
        binaries: Some(t.control_plane.clone()),
        kubelet: false,
        ..LocalClusterOptions::default()
    })
    .await
    .unwrap_or_else(|e| panic!("start a local cluster: {e}"));
    config.kubeconfig = Some(cluster.kubeconfig_path().to_path_buf());
    config.helm_binary = t.helm(HelmMajor::V3).to_path_buf();
    // and packages in a directory of this test, not the user's data directory
    let data = tempfile::tempdir().expect("data dir");
    config.data_dir = Some(data.path().to_path_buf());

    // Connecting builds the chart repository store but does not fetch from it
    // (charts.example.com is not a real repository).
    let adapter = HelmAdapter::connect(config)
        .await
        .unwrap_or_else(|e| panic!("connect with the example's settings: {e}"));
    assert_eq!(adapter.config().namespace, "deployments");
    let health = adapter.health().await.expect("health");
    assert_eq!(health.status, HealthStatus::Healthy, "{}", health.message);

    drop(adapter);
    cluster.stop().await;
}
