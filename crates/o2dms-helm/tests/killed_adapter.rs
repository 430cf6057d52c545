//! An adapter process killed (SIGKILL) in the middle of an upgrade takes its helm with it:
//! no helm process survives; helm, told by the parent-death signal, marks the release
//! failed when it gets to, else the release is pending with nobody behind it, the next
//! write is Conflict saying so and recovery is safe; either way history is left whole.
//!
//! The adapter runs in a child process: this test program again (it has no libtest
//! harness: `main` runs the test, or, with the child's settings in the environment, the
//! child), so that nothing here is an ignored test and CI runs it like any other.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use o2dms_cluster::{process_alive, HelmMajor};
use o2dms_core::{
    CreateDeployment, DeploymentId, DeploymentStatus, DmsAdapter, Error, HistoryOptions,
    PackageUpload, UpdateDeployment,
};
use o2dms_helm::{HelmAdapter, HelmConfig, Recovery};

const CHILD: &str = "O2DMS_TEST_CHILD_CONFIG";
/// How long the child's write Lease holds: once it is killed, its Lease blocks other
/// adapters' writes (Conflict naming it) for at most this long.
const CHILD_LEASE: Duration = Duration::from_secs(3);

/// The test, or the child when its settings are in the environment.
fn main() {
    match std::env::var_os(CHILD) {
        Some(spec) => child_upgrade(spec.to_str().expect("UTF-8 settings")),
        None => {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap()
                .block_on(a_killed_adapter_takes_its_helm_with_it());
            println!("test a_killed_adapter_takes_its_helm_with_it ... ok");
        }
    }
}

/// The child: an adapter that upgrades to an image that never pulls and waits for it.
fn child_upgrade(spec: &str) {
    let spec: serde_json::Value = serde_json::from_str(spec).unwrap();
    let text = |k: &str| spec[k].as_str().unwrap().to_owned();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let config = HelmConfig::builder()
            .kubeconfig(text("kubeconfig"))
            .helm_binary(text("helm"))
            .work_dir(text("work"))
            .package_dir(text("packages"))
            .lease_duration(CHILD_LEASE)
            .build()
            .unwrap();
        let a = HelmAdapter::connect(config).await.unwrap();
        let id = DeploymentId::new(text("namespace"), text("name")).unwrap();
        let never = serde_json::json!({"image": {"repository": "nothing.invalid/never"}});
        let _ = a
            .update_deployment(
                &id,
                UpdateDeployment::new()
                    .values(serde_json::from_value(never).unwrap())
                    .timeout(Duration::from_secs(300)),
            )
            .await;
    });
}

/// Processes whose parent is `parent`, with their command names.
fn children_of(parent: u32) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid ...: comm may hold spaces, so read after its `)`.
        let Some((head, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let comm = head.split_once('(').map_or("", |(_, c)| c).to_owned();
        let ppid = rest
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(parent) {
            out.push((pid, comm));
        }
    }
    out
}

/// SIGKILL a child adapter mid-upgrade; see the module docs.
async fn a_killed_adapter_takes_its_helm_with_it() {
    let env = common::Env::start(HelmMajor::V4).await;
    let a = &env.adapter;
    a.upload_package(PackageUpload::new(env.package("web")))
        .await
        .expect("upload web");
    let id = DeploymentId::new("o2-killed", "web").unwrap();
    a.create_deployment(CreateDeployment::new(
        id.clone(),
        "web@0.1.0".parse().unwrap(),
    ))
    .await
    .expect("create");

    let work = tempfile::tempdir().unwrap();
    let spec = serde_json::json!({
        "kubeconfig": env.cluster.kubeconfig_path(),
        "helm": env.helm,
        "work": work.path(),
        "packages": a.config().package_location().unwrap(),
        "namespace": id.namespace,
        "name": id.name,
    });
    let mut child = Command::new(std::env::current_exe().unwrap())
        .env(CHILD, spec.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the child adapter");
    // Kill it (SIGKILL, by the pid started) once its helm is waiting on the upgrade.
    struct KillOnDrop(std::process::Child);
    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let child_pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(60);
    let helm = loop {
        let d = a.get_deployment(&id).await.unwrap();
        let helms: Vec<u32> = children_of(child_pid)
            .into_iter()
            .filter(|(_, comm)| comm.starts_with("helm"))
            .map(|(pid, _)| pid)
            .collect();
        if d.revision == 2 && d.status == DeploymentStatus::Upgrading && !helms.is_empty() {
            break helms;
        }
        assert!(
            Instant::now() < deadline,
            "never saw the child's helm upgrading: {d:?}"
        );
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the child adapter exited early: {status}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let child = KillOnDrop(child);
    kill(
        Pid::from_raw(i32::try_from(child_pid).unwrap()),
        Signal::SIGKILL,
    )
    .expect("SIGKILL");
    drop(child);
    // The killed adapter's Lease expires, as a crashed replica's does.
    tokio::time::sleep(CHILD_LEASE + Duration::from_millis(500)).await;

    // No helm survives it, and the release is not left pending with nobody behind it.
    let deadline = Instant::now() + Duration::from_secs(30);
    while helm.iter().any(|&p| process_alive(p)) {
        assert!(
            Instant::now() < deadline,
            "helm {helm:?} outlived the killed adapter"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // helm, told to stop, marks the upgrade failed when it gets to; if it did not (the
    // signal came before it could), the release is pending with nobody behind it: the
    // next write says so, and recovery is safe.
    let deadline = Instant::now() + Duration::from_secs(10);
    let d = loop {
        let d = a.get_deployment(&id).await.unwrap();
        if !d.status.is_in_progress() || Instant::now() > deadline {
            break d;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(d.revision, 2, "{d:?}");
    let repair = UpdateDeployment::new().values(
        serde_json::from_str(r#"{"image":{"repository":"registry.k8s.io/pause"}}"#).unwrap(),
    );
    match d.status {
        DeploymentStatus::Failed => {}
        DeploymentStatus::Upgrading => {
            let e = a.update_deployment(&id, repair.clone()).await.unwrap_err();
            assert!(
                matches!(&e, Error::Conflict { reason, .. } if reason.contains("recover_pending")),
                "{e}"
            );
            match a.recover_pending(&id).await.expect("recover") {
                Recovery::RolledBack {
                    stuck_revision,
                    to_revision,
                    ..
                } => assert_eq!((stuck_revision, to_revision), (2, 1)),
                other => panic!("{other:?}"),
            }
        }
        other => panic!("after the kill the release is {other}: {d:?}"),
    }

    // What follows is an ordinary write; history stays whole.
    let fixed = a
        .update_deployment(&id, repair)
        .await
        .expect("update after the kill");
    assert_eq!(fixed.status, DeploymentStatus::Deployed);
    let h = a
        .deployment_history(&id, HistoryOptions::all())
        .await
        .unwrap();
    assert!(h.iter().all(|r| !r.status.is_in_progress()), "{h:?}");
    env.stop().await;
}
