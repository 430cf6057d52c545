//! The Kubernetes API server stops answering (SIGSTOP: the process is there, its socket
//! accepts, nothing comes back): every read ends within the read timeout as Unavailable
//! naming the server, a write that needs a read first ends the same way, and once the
//! server resumes nothing was lost.

mod common;

use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use o2dms_cluster::HelmMajor;
use o2dms_core::{
    CreateDeployment, DeploymentFilter, DmsAdapter, Error, ErrorKind, HealthStatus, HistoryOptions,
    PackageUpload, UpdateDeployment,
};
use o2dms_helm::HelmAdapter;

const READ_TIMEOUT: Duration = Duration::from_secs(3);
/// The bound each call is held to: the read timeout, plus room for a slow machine.
const BOUND: Duration = Duration::from_secs(10);

/// Stops a process for as long as it lives; continues it when dropped (also on panic).
struct Stopped(Pid);

impl Stopped {
    fn new(pid: u32) -> Stopped {
        let pid = Pid::from_raw(i32::try_from(pid).unwrap());
        kill(pid, Signal::SIGSTOP).expect("SIGSTOP the API server");
        Stopped(pid)
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = kill(self.0, Signal::SIGCONT);
    }
}

/// Runs `call`, asserting that it ends within [`BOUND`]; its result.
async fn bounded<T>(what: &str, call: impl std::future::Future<Output = T>) -> T {
    let started = Instant::now();
    let out = call.await;
    let took = started.elapsed();
    assert!(took < BOUND, "{what} took {took:?}");
    out
}

fn unavailable<T: std::fmt::Debug>(what: &str, r: Result<T, Error>) {
    match r {
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::Unavailable, "{what}: {e}");
            assert!(e.to_string().contains("API server"), "{what}: {e}");
        }
        Ok(v) => panic!("{what}: answered while the API server was stopped: {v:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_and_writes_end_within_their_bounds_while_the_api_server_is_stopped() {
    let env = common::Env::start(HelmMajor::V4).await;
    env.adapter
        .upload_package(PackageUpload::new(env.package("web")))
        .await
        .expect("upload web");
    let work = tempfile::tempdir().unwrap();
    let mut config = env.adapter.config().clone();
    config.read_timeout = READ_TIMEOUT;
    config.package_dir = Some(config.package_location().unwrap());
    config.work_dir = Some(work.path().to_path_buf());
    let a = HelmAdapter::connect(config).await.expect("connect");
    let id = o2dms_core::DeploymentId::new("o2-outage", "web").unwrap();
    a.create_deployment(CreateDeployment::new(
        id.clone(),
        "web@0.1.0".parse().unwrap(),
    ))
    .await
    .expect("create");
    // the index is running: reads go through it
    assert_eq!(
        a.list_deployments(&DeploymentFilter::in_namespace("o2-outage"))
            .await
            .unwrap()
            .items
            .len(),
        1
    );

    let apiserver = env
        .cluster
        .pids()
        .into_iter()
        .find(|(name, _)| name == "kube-apiserver")
        .expect("the API server's pid")
        .1;
    {
        let _stopped = Stopped::new(apiserver);
        // A list is served from the release index (a watch, with records cached), so it may
        // answer from memory; either way it ends in time.
        match bounded("list", a.list_deployments(&DeploymentFilter::all())).await {
            Ok(page) => assert!(page.items.iter().any(|d| d.id == id)),
            Err(e) => unavailable("list", Err::<(), _>(e)),
        }
        unavailable("get", bounded("get", a.get_deployment(&id)).await);
        unavailable("status", bounded("status", a.deployment_status(&id)).await);
        unavailable(
            "history",
            bounded("history", a.deployment_history(&id, HistoryOptions::all())).await,
        );
        let h = bounded("health", a.health()).await.expect("health answers");
        assert_eq!(h.status, HealthStatus::Unhealthy, "{h:?}");
        let update = UpdateDeployment::new()
            .values(serde_json::from_str(r#"{"during":"outage"}"#).unwrap())
            .timeout(Duration::from_secs(5));
        unavailable(
            "update",
            bounded("update", a.update_deployment(&id, update)).await,
        );
    }

    // Resumed: the deployment is as it was, and writes work again.
    let deadline = Instant::now() + Duration::from_secs(30);
    let d = loop {
        match a.get_deployment(&id).await {
            Ok(d) => break d,
            Err(e) if Instant::now() < deadline => {
                eprintln!("waiting for the API server: {e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("the API server did not come back: {e}"),
        }
    };
    assert_eq!(d.revision, 1, "nothing written during the outage");
    let d = a
        .update_deployment(
            &id,
            UpdateDeployment::new().values(serde_json::from_str(r#"{"after":"outage"}"#).unwrap()),
        )
        .await
        .expect("update after the outage");
    assert_eq!(d.revision, 2);
    drop(a);
    env.stop().await;
}
