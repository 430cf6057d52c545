//! A local cluster that outlives the command that started it: one process runs the
//! control plane and the kubelet simulator in the foreground ([`serve_blocking`]), writes
//! a state file, starts a component again when it dies (up to
//! [`MAX_RESTARTS`](crate::local::MAX_RESTARTS) times each; the data stays), and stops
//! everything on SIGTERM or SIGINT. [`spawn_detached`] starts such
//! a process and waits for it to be ready; [`stop`] ends it by process id.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::{ClusterError, Result};
use crate::local::{LocalCluster, LocalClusterOptions, LocalPorts};
use crate::process::{process_alive, process_start_time, sigkill, sigterm, ManagedProcess};

/// What a serving process records in `DIR/state.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServeState {
    /// The serving process.
    pub pid: u32,
    /// Its start time (field 22 of /proc/PID/stat), to recognise it.
    pub start_time: Option<u64>,
    /// The admin kubeconfig.
    pub kubeconfig: PathBuf,
    /// The apiserver URL.
    pub server: String,
    /// The apiserver's version, for example `v1.20.2`.
    pub server_version: String,
    /// The ports in use.
    pub ports: LocalPorts,
    /// Component names and process ids (etcd, kube-apiserver, ...).
    pub components: Vec<(String, u32)>,
    /// The simulated node.
    pub node_name: String,
}

/// How long a serving process that never became ready gets to stop its components after
/// SIGTERM before it is killed.
const SERVE_STOP_GRACE: Duration = Duration::from_secs(30);

/// `DIR/state.json`.
pub fn state_path(dir: &Path) -> PathBuf {
    dir.join("state.json")
}

/// `DIR/serve.log`: output of the serving process.
pub fn log_path(dir: &Path) -> PathBuf {
    dir.join("serve.log")
}

/// Writes `state` to `DIR/state.json` (whole, through a rename).
fn write_state(dir: &Path, state: &ServeState) -> Result<()> {
    let path = state_path(dir);
    let tmp = dir.join("state.json.tmp");
    let text = serde_json::to_vec_pretty(state).unwrap_or_default();
    std::fs::write(&tmp, text)
        .and_then(|_| std::fs::rename(&tmp, &path))
        .map_err(|e| ClusterError::io(format!("writing {}", path.display()), e))
}

/// The state of a serving process, if its file exists.
pub fn read_state(dir: &Path) -> Result<Option<ServeState>> {
    let path = state_path(dir);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| ClusterError::Config(format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ClusterError::io(format!("reading {}", path.display()), e)),
    }
}

/// Whether the process in `state` still runs and is the one that wrote it (same start
/// time, and its command line names `serve`).
pub fn is_running(state: &ServeState) -> bool {
    if !process_alive(state.pid) {
        return false;
    }
    if state.start_time.is_some() && process_start_time(state.pid) != state.start_time {
        return false;
    }
    std::fs::read(format!("/proc/{}/cmdline", state.pid))
        .map(|c| c.split(|b| *b == 0).any(|a| a == b"serve"))
        .unwrap_or(false)
}

/// Runs a local cluster in `dir` in the foreground until SIGTERM or SIGINT, then stops
/// it and removes `dir/cluster` and the state file. A component that keeps dying ends it
/// with an error, keeping `dir/cluster` (etcd's data) and the state file for [`stop`] to
/// remove.
pub fn serve_blocking(dir: &Path) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| ClusterError::io("starting the tokio runtime", e))?;
    rt.block_on(serve(dir))
}

async fn serve(dir: &Path) -> Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())
        .map_err(|e| ClusterError::io("installing a SIGTERM handler", e))?;
    let mut int = signal(SignalKind::interrupt())
        .map_err(|e| ClusterError::io("installing a SIGINT handler", e))?;
    std::fs::create_dir_all(dir)
        .map_err(|e| ClusterError::io(format!("creating {}", dir.display()), e))?;
    let cluster_dir = dir.join("cluster");
    let _ = std::fs::remove_dir_all(&cluster_dir);
    let options = LocalClusterOptions {
        dir: Some(cluster_dir),
        ..LocalClusterOptions::default()
    };
    let mut cluster = tokio::select! {
        c = LocalCluster::start(options) => c?,
        _ = term.recv() => return Ok(()),
        _ = int.recv() => return Ok(()),
    };
    let pid = std::process::id();
    let state = ServeState {
        pid,
        start_time: process_start_time(pid),
        kubeconfig: cluster.kubeconfig_path().to_path_buf(),
        server: cluster.server_url(),
        server_version: cluster.server_version().git_version.clone(),
        ports: cluster.ports(),
        components: cluster.pids(),
        node_name: cluster.node_name().to_string(),
    };
    let path = state_path(dir);
    write_state(dir, &state)?;
    eprintln!(
        "o2dms-local-cluster: ready, {} at {}; kubeconfig {}",
        state.server_version,
        state.server,
        state.kubeconfig.display()
    );
    for phase in cluster.start_phases() {
        eprintln!(
            "o2dms-local-cluster: {:7.3} s  {}",
            phase.at.as_secs_f64(),
            phase.name
        );
    }
    let mut watchdog = tokio::time::interval(Duration::from_secs(1));
    let mut state = state;
    let failure = loop {
        tokio::select! {
            _ = term.recv() => break None,
            _ = int.recv() => break None,
            _ = watchdog.tick() => match cluster.restart_exited() {
                Ok(restarted) if restarted.is_empty() => {}
                Ok(restarted) => {
                    eprintln!("o2dms-local-cluster: started again: {}", restarted.join(", "));
                    state.components = cluster.pids();
                    write_state(dir, &state)?;
                }
                Err(e) => {
                    eprintln!("o2dms-local-cluster: giving up: {e}");
                    break Some(e);
                }
            },
        }
    };
    eprintln!("o2dms-local-cluster: stopping");
    if failure.is_some() {
        // Keep the data, and the state file that names the directory, for `cluster down`.
        cluster.keep_data();
    }
    cluster.stop().await;
    if failure.is_none() {
        let _ = std::fs::remove_file(&path);
    }
    eprintln!("o2dms-local-cluster: stopped");
    match failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Starts `program args...` (which must end up in [`serve_blocking`] for `dir`) in its own
/// process group, output to `dir/serve.log`, and waits up to `timeout` for its state file.
/// Once ready it runs on after this returns; if it does not get ready, it is stopped by
/// its pid (SIGTERM, SIGKILL after 30 s) and reaped.
pub fn spawn_detached(
    program: &Path,
    args: &[OsString],
    dir: &Path,
    timeout: Duration,
) -> Result<ServeState> {
    use std::os::unix::process::CommandExt;
    if let Some(state) = read_state(dir)? {
        if is_running(&state) {
            return Err(ClusterError::Config(format!(
                "a cluster already runs from {} (pid {}); stop it first",
                dir.display(),
                state.pid
            )));
        }
        let _ = std::fs::remove_file(state_path(dir));
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| ClusterError::io(format!("creating {}", dir.display()), e))?;
    let log = log_path(dir);
    let mut command = Command::new(program);
    command.args(args).process_group(0);
    // Stopped (by pid) only if it fails to come up; once ready it is detached.
    let mut server = ManagedProcess::spawn("o2dms-local-cluster serve", &mut command, Some(&log))?
        .with_stop_grace(SERVE_STOP_GRACE);
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = server.exited() {
            return Err(server.failure(format!("exited before the cluster was ready ({status})")));
        }
        if let Some(state) = read_state(dir)? {
            if state.pid == server.pid() {
                server.detach();
                return Ok(state);
            }
        }
        if Instant::now() > deadline {
            server.stop();
            return Err(ClusterError::Timeout {
                what: format!("the local cluster to be ready (log: {})", log.display()),
                seconds: timeout.as_secs_f64(),
            });
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// Stops the cluster served from `dir`: SIGTERM to the serving process (after checking it
/// is still that process), then waits up to `timeout`. If it does not end, it and every
/// component it recorded are killed by process id. Returns false if nothing ran.
pub fn stop(dir: &Path, timeout: Duration) -> Result<bool> {
    let Some(state) = read_state(dir)? else {
        return Ok(false);
    };
    if !is_running(&state) {
        // A crashed server may have left components behind: end them by pid if alive.
        for (_, pid) in &state.components {
            if process_alive(*pid) {
                sigkill(*pid);
            }
        }
        let _ = std::fs::remove_file(state_path(dir));
        let _ = std::fs::remove_dir_all(dir.join("cluster"));
        return Ok(false);
    }
    sigterm(state.pid)?;
    let deadline = Instant::now() + timeout;
    while process_alive(state.pid) {
        if Instant::now() > deadline {
            sigkill(state.pid);
            for (_, pid) in &state.components {
                if process_alive(*pid) {
                    sigkill(*pid);
                }
            }
            let _ = std::fs::remove_file(state_path(dir));
            let _ = std::fs::remove_dir_all(dir.join("cluster"));
            return Err(ClusterError::Timeout {
                what: format!("process {} to stop (killed it)", state.pid),
                seconds: timeout.as_secs_f64(),
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(true)
}
