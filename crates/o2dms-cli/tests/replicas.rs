//! Two DMS replicas: two `o2dms serve` processes, each hosting the Helm plugin on one local
//! cluster, writing one deployment. The release's Lease (`coordination.k8s.io`) lets
//! exactly one write at a time: the other gets Conflict at once, and history has no gap
//! and no repeat. A Lease left by a crashed replica blocks writes while it is fresh and
//! not once it has expired.
//!
//! Every child is killed by its pid when its guard is dropped, also when the test panics.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::{ObjectMeta, PostParams};
use kube::Api;
use o2dms_cluster::{tools, HelmMajor, LocalCluster, LocalClusterOptions};
use o2dms_core::{
    CreateDeployment, DeploymentId, DmsAdapter, Error, ErrorKind, HistoryOptions, PackageUpload,
    UpdateDeployment, Values,
};
use o2dms_remote::RemoteAdapter;

/// Rounds of two updates at the same moment.
const ROUNDS: u32 = 20;
/// How long the server may take to print its address.
const START_BOUND: Duration = Duration::from_secs(60);
/// The loser of a round must hear Conflict within this (a helm upgrade with `--wait`
/// takes seconds; the Lease check is a few API requests).
const CONFLICT_BOUND: Duration = Duration::from_secs(3);

/// A running `o2dms serve`, killed by its pid when dropped.
struct Served {
    child: Child,
    stderr: Arc<Mutex<String>>,
    reader: Option<JoinHandle<()>>,
    base: String,
}

impl Served {
    /// Starts `o2dms serve --config <config> --listen 127.0.0.1:0` and waits (bounded) for
    /// its `listening on` line.
    fn start(config: &Path) -> Served {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_o2dms"));
        for var in ["RUST_LOG", "O2DMS_CONFIG", "O2DMS_LISTEN"] {
            cmd.env_remove(var);
        }
        let mut child = cmd
            .arg("serve")
            .arg("--config")
            .arg(config)
            .args(["--listen", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn o2dms");
        let pipe = child.stderr.take().expect("stderr");
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel::<String>();
        let sink = Arc::clone(&stderr);
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                if let Some(base) = line.strip_prefix("listening on ") {
                    let _ = tx.send(base.to_owned());
                }
                let mut all = sink.lock().unwrap_or_else(|e| e.into_inner());
                all.push_str(&line);
                all.push('\n');
            }
        });
        let mut served = Served {
            child,
            stderr,
            reader: Some(reader),
            base: String::new(),
        };
        match rx.recv_timeout(START_BOUND) {
            Ok(base) => served.base = base,
            Err(e) => panic!(
                "no `listening on` line within {START_BOUND:?} ({e}); stderr:\n{}",
                served.stderr_so_far()
            ),
        }
        served
    }

    fn stderr_so_far(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

/// One replica's configuration file: the Helm plugin `helm` on the cluster, with a data
/// and work directory of its own.
fn replica_config(dir: &Path, kubeconfig: &Path, helm: &Path) -> PathBuf {
    let path = dir.join("dms.yaml");
    let yaml = format!(
        "plugins:\n  dms:\n    - name: helm\n      type: helm\n      default: true\n      config:\n        \
         kubeconfig: {kubeconfig:?}\n        helmBinary: {helm:?}\n        dataDir: {data:?}\n        \
         workDir: {work:?}\n        createNamespace: true\n        timeout: 90s\n        \
         maxHistory: 0\n",
        kubeconfig = kubeconfig.display().to_string(),
        helm = helm.display().to_string(),
        data = dir.join("data").display().to_string(),
        work = dir.join("work").display().to_string(),
    );
    std::fs::write(&path, yaml).expect("write dms.yaml");
    path
}

/// `helm package` of the conformance suite's `web` chart.
fn web_chart(helm: &Path, dest: &Path) -> Vec<u8> {
    let chart = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conformance/fixtures/charts/web");
    let home = dest.join("helm-home");
    let out = Command::new(helm)
        .arg("package")
        .arg(&chart)
        .arg("--destination")
        .arg(dest)
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_DATA_HOME", home.join("data"))
        .output()
        .expect("run helm package");
    assert!(
        out.status.success(),
        "helm package: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(dest.join("web-0.1.0.tgz")).expect("the packaged chart")
}

fn values(json: serde_json::Value) -> Values {
    serde_json::from_value(json).expect("values")
}

/// A Lease of `holder` for `id`'s release, last renewed `age` ago, held for `seconds`.
fn lease_of(id: &DeploymentId, holder: &str, age: Duration, seconds: i32) -> Lease {
    let renewed = Timestamp::now()
        .checked_sub(SignedDuration::try_from(age).expect("age"))
        .expect("a time");
    Lease {
        metadata: ObjectMeta {
            name: Some(o2dms_helm::lease_name(id)),
            namespace: Some(id.namespace.clone()),
            ..ObjectMeta::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: Some(holder.to_owned()),
            lease_duration_seconds: Some(seconds),
            acquire_time: Some(MicroTime(renewed)),
            renew_time: Some(MicroTime(renewed)),
            ..LeaseSpec::default()
        }),
    }
}

/// The update through `adapter`, timed.
async fn timed(
    adapter: &RemoteAdapter,
    id: &DeploymentId,
    update: UpdateDeployment,
) -> (Result<o2dms_core::Deployment, Error>, Duration) {
    let started = Instant::now();
    let r = adapter.update_deployment(id, update).await;
    (r, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_write_one_release_one_at_a_time() {
    let t = tokio::task::spawn_blocking(tools)
        .await
        .expect("join")
        .expect("provision tools (run `cargo xtask cluster provision` first)");
    let helm = t.helm(HelmMajor::V4).to_path_buf();
    let cluster = LocalCluster::start(LocalClusterOptions {
        binaries: Some(t.control_plane.clone()),
        ..LocalClusterOptions::default()
    })
    .await
    .expect("start a local cluster");
    let dirs = [
        tempfile::tempdir().expect("dir a"),
        tempfile::tempdir().expect("dir b"),
    ];
    let chart = web_chart(&helm, dirs[0].path());
    let served: Vec<Served> = dirs
        .iter()
        .map(|d| Served::start(&replica_config(d.path(), cluster.kubeconfig_path(), &helm)))
        .collect();
    let mut replicas = Vec::new();
    for s in &served {
        let r = RemoteAdapter::builder(format!("{}/helm", s.base))
            .connect()
            .await
            .expect("the remote adapter connects");
        r.upload_package(PackageUpload::new(chart.clone()))
            .await
            .expect("upload web");
        replicas.push(r);
    }
    let (a, b) = (&replicas[0], &replicas[1]);

    let id = DeploymentId::new("o2-replicas", "web").expect("id");
    let created = a
        .create_deployment(
            CreateDeployment::new(id.clone(), "web@0.1.0".parse().expect("package"))
                .values(values(serde_json::json!({"replicaCount": 1}))),
        )
        .await
        .expect("create through the first replica");
    assert_eq!(created.revision, 1);

    let mut conflict_times = Vec::new();
    let mut win_times = Vec::new();
    let mut wins = [0u32; 2];
    for round in 0..ROUNDS {
        let update = |who: &str| {
            UpdateDeployment::new().values(values(serde_json::json!({ "race": { who: round } })))
        };
        let ((ra, ta), (rb, tb)) =
            tokio::join!(timed(a, &id, update("a")), timed(b, &id, update("b")));
        let (winner, loser, won, lost) = match (ra, rb) {
            (Ok(d), Err(e)) => {
                wins[0] += 1;
                (d, e, ta, tb)
            }
            (Err(e), Ok(d)) => {
                wins[1] += 1;
                (d, e, tb, ta)
            }
            (ra, rb) => panic!(
                "round {round}: exactly one write must win: a {ra:?}, b {rb:?}\nstderr a:\n{}\nstderr b:\n{}",
                served[0].stderr_so_far(),
                served[1].stderr_so_far()
            ),
        };
        assert_eq!(
            loser.kind(),
            ErrorKind::Conflict,
            "round {round}: the loser got {loser}"
        );
        let Error::Conflict { reason, .. } = &loser else {
            unreachable!()
        };
        assert!(
            reason.contains("another adapter") && reason.contains("Lease"),
            "round {round}: the Conflict names the Lease's holder: {reason}"
        );
        assert!(
            lost < CONFLICT_BOUND && lost < won,
            "round {round}: Conflict after {lost:?}, the winner took {won:?}"
        );
        eprintln!(
            "round {round}: revision {} won in {won:?}; Conflict in {lost:?}",
            winner.revision
        );
        conflict_times.push(lost);
        win_times.push(won);
    }
    let history = a
        .deployment_history(&id, HistoryOptions::all())
        .await
        .expect("history");
    let mut revisions: Vec<u32> = history.iter().map(|r| r.revision).collect();
    revisions.sort_unstable();
    assert_eq!(
        revisions,
        (1..=ROUNDS + 1).collect::<Vec<u32>>(),
        "history has no gap and no repeat"
    );
    conflict_times.sort_unstable();
    win_times.sort_unstable();
    eprintln!(
        "{ROUNDS} rounds, wins a/b {wins:?}: Conflict min {:?} median {:?} max {:?}; winning \
         update min {:?} median {:?} max {:?}",
        conflict_times[0],
        conflict_times[conflict_times.len() / 2],
        conflict_times[conflict_times.len() - 1],
        win_times[0],
        win_times[win_times.len() / 2],
        win_times[win_times.len() - 1],
    );

    // A replica that crashed mid-write left its Lease behind. Fresh, it blocks writes,
    // naming its holder ...
    let leases: Api<Lease> = Api::namespaced(cluster.client(), &id.namespace);
    let crashed = "crashed-replica/4242/0123456789abcdef";
    let stale = leases
        .create(
            &PostParams::default(),
            &lease_of(&id, crashed, Duration::from_secs(1), 30),
        )
        .await
        .expect("create the crashed replica's Lease");
    let started = Instant::now();
    let e = a
        .update_deployment(
            &id,
            UpdateDeployment::new().values(values(serde_json::json!({"after": "crash"}))),
        )
        .await
        .expect_err("a fresh Lease of another holder blocks the write");
    let blocked_in = started.elapsed();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    assert!(
        e.to_string().contains(crashed),
        "the Conflict names the holder: {e}"
    );
    assert!(blocked_in < CONFLICT_BOUND, "Conflict after {blocked_in:?}");
    eprintln!("a fresh Lease of a crashed replica: Conflict in {blocked_in:?}: {e}");

    // ... and once expired (renewed 60 s ago, held for 30 s) it does not.
    let mut expired = lease_of(&id, crashed, Duration::from_secs(60), 30);
    expired.metadata.resource_version = stale.metadata.resource_version.clone();
    leases
        .replace(
            &o2dms_helm::lease_name(&id),
            &PostParams::default(),
            &expired,
        )
        .await
        .expect("age the crashed replica's Lease");
    let after = b
        .update_deployment(
            &id,
            UpdateDeployment::new().values(values(serde_json::json!({"after": "crash"}))),
        )
        .await
        .expect("an expired Lease does not block the write");
    assert_eq!(after.revision, ROUNDS + 2);
    // The write released the Lease it took over.
    assert!(
        leases
            .get_opt(&o2dms_helm::lease_name(&id))
            .await
            .expect("read the Lease")
            .is_none(),
        "the write released its Lease"
    );

    drop(replicas);
    drop(served);
    cluster.stop().await;
}
