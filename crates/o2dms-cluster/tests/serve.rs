//! A cluster that outlives its starter: `o2dms-local-cluster serve` started detached,
//! used, then stopped by process id from its state file.

use std::path::Path;
use std::time::Duration;

use o2dms_cluster::serve;
use o2dms_cluster::{process_alive, tools};

/// Stops the served cluster of a directory when dropped (also when a test fails).
struct StopOnDrop(std::path::PathBuf);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        let _ = serve::stop(&self.0, Duration::from_secs(30));
    }
}

/// Provisions, then serves a cluster from `dir` (detached); its state and the guard that
/// stops it.
async fn serve_from(dir: &Path) -> (serve::ServeState, StopOnDrop) {
    tokio::task::spawn_blocking(tools)
        .await
        .expect("join")
        .expect("provision tools (run `cargo xtask cluster provision` first)");
    let bin = Path::new(env!("CARGO_BIN_EXE_o2dms-local-cluster")).to_path_buf();
    let d = dir.to_path_buf();
    let state = tokio::task::spawn_blocking(move || {
        serve::spawn_detached(
            &bin,
            &["serve".into(), "--dir".into(), d.clone().into_os_string()],
            &d,
            Duration::from_secs(120),
        )
    })
    .await
    .expect("join")
    .unwrap_or_else(|e| panic!("serve did not start: {e}"));
    (state, StopOnDrop(dir.to_path_buf()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn served_cluster_starts_detached_and_stops_by_pid() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (state, guard) = serve_from(dir.path()).await;

    assert!(serve::is_running(&state));
    assert_eq!(state.components.len(), 4);
    let client = o2dms_cluster::local::client_from_kubeconfig(&state.kubeconfig, None)
        .await
        .expect("client");
    let v = client.apiserver_version().await.expect("version");
    assert_eq!(v.git_version, state.server_version);

    // A second server for the same directory is refused.
    let bin = Path::new(env!("CARGO_BIN_EXE_o2dms-local-cluster")).to_path_buf();
    let again = serve::spawn_detached(
        &bin,
        &["serve".into(), "--dir".into(), dir.path().into()],
        dir.path(),
        Duration::from_secs(5),
    );
    assert!(again.is_err());

    let d = dir.path().to_path_buf();
    let stopped = tokio::task::spawn_blocking(move || serve::stop(&d, Duration::from_secs(60)))
        .await
        .expect("join")
        .expect("stop");
    assert!(stopped);
    assert!(!process_alive(state.pid));
    for (name, pid) in &state.components {
        assert!(!process_alive(*pid), "{name} (pid {pid}) still runs");
    }
    assert!(serve::read_state(dir.path()).unwrap().is_none());
    assert!(!dir.path().join("cluster").exists());
    drop(guard);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_component_that_dies_is_started_again_and_the_data_stays() {
    use k8s_openapi::api::core::v1::ConfigMap;
    use kube::api::{Api, ObjectMeta, PostParams};

    let dir = tempfile::tempdir().expect("temp dir");
    let (state, _guard) = serve_from(dir.path()).await;

    let client = o2dms_cluster::local::client_from_kubeconfig(&state.kubeconfig, None)
        .await
        .expect("client");
    let maps: Api<ConfigMap> = Api::namespaced(client, "default");
    let kept = ConfigMap {
        metadata: ObjectMeta {
            name: Some("kept".into()),
            ..ObjectMeta::default()
        },
        ..ConfigMap::default()
    };
    maps.create(&PostParams::default(), &kept)
        .await
        .expect("create");

    // The API server dies (SIGKILL, by the pid the state file names).
    let old = state
        .components
        .iter()
        .find(|(n, _)| n == "kube-apiserver")
        .expect("apiserver pid")
        .1;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(old).unwrap()),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("SIGKILL the API server");

    // It is started again, the state file names the new pid, and etcd's data is there.
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        let now = serve::read_state(dir.path()).unwrap().expect("state kept");
        let new = now
            .components
            .iter()
            .find(|(n, _)| n == "kube-apiserver")
            .unwrap()
            .1;
        if new != old && process_alive(new) {
            if let Ok(Some(_)) = maps.get_opt("kept").await {
                break;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the API server was not started again with its data"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(serve::is_running(&state), "the serving process carried on");
}
