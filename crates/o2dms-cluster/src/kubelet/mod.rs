//! A kubelet simulator: makes pods "run" on a cluster that has no container runtime.
//!
//! The local cluster runs the real control plane (apiserver, controller-manager,
//! scheduler), so Deployments, ReplicaSets and Jobs create pods and the scheduler binds
//! them, but nothing runs them. [`KubeletSimulator`] plays the kubelet of one node, driven
//! by watches (no polling), and reacts within milliseconds:
//!
//! - it registers a [`Node`](k8s_openapi::api::core::v1::Node) that reports Ready, with
//!   generous capacity, and removes the `node.kubernetes.io/not-ready` taint that
//!   admission puts on new nodes (the node-lifecycle controller is not running);
//! - pods bound to the node become Running and Ready (init containers complete first),
//!   each with its own IP from 10.244.0.0/16;
//! - pods owned by a Job, and Helm hooks (`helm.sh/hook`, which includes chart tests),
//!   run to completion: phase Succeeded, exit code 0;
//! - pods being deleted are removed with grace period 0, as a kubelet does once their
//!   containers stopped;
//! - images whose registry host is under `.invalid` (`nothing.invalid/app:1`) cannot be
//!   pulled: the pod stays Pending, `ErrImagePull` then `ImagePullBackOff`, forever;
//! - the annotation [`START_DELAY_ANNOTATION`] (`o2dms.io/start-delay-ms`) delays a pod's
//!   start (containers show `ContainerCreating` meanwhile), so progress can be observed;
//! - container logs are served over HTTPS like the kubelet's `/containerLogs`, so
//!   `kubectl logs` and [`Api::logs`](kube::Api::logs) work: a startup line per container
//!   plus the lines of [`LOG_LINES_ANNOTATION`] (`o2dms.io/log-lines`), with the kubelet's
//!   `tailLines`, `sinceSeconds`, `sinceTime`, `limitBytes` and `timestamps`.
//!
//! Limits, on purpose: no process runs, so probes, volumes, resources and exit codes
//! other than 0 are not simulated; `follow=true` returns the current log and ends; a pull
//! failure stays in `ImagePullBackOff` (a real kubelet alternates with `ErrImagePull`); no
//! node Lease is kept (the node-lifecycle controller is off); the Node stays registered
//! after shutdown. The node's Hostname address is `localhost`, because the apiserver
//! prefers Hostname over InternalIP when it dials the kubelet.
//!
//! ```no_run
//! # async fn example(client: kube::Client) -> Result<(), o2dms_cluster::ClusterError> {
//! use o2dms_cluster::kubelet::{KubeletConfig, KubeletSimulator};
//!
//! let kubelet = KubeletSimulator::start(client, KubeletConfig::default()).await?;
//! // ... create Deployments, Jobs, Helm releases ...
//! kubelet.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod annotations;
mod image;
mod logs;
mod node;
mod pods;
mod server;
mod status;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::jiff::Timestamp;
use kube::api::Api;
use kube::runtime::reflector;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use annotations::{LOG_LINES_ANNOTATION, MAX_START_DELAY, START_DELAY_ANNOTATION};

use crate::ClusterError;

/// How often the node's Ready condition gets a fresh heartbeat.
const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(10);

/// How long [`KubeletSimulator::start`] waits for the first list of the node's pods.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// How long [`KubeletHandle::shutdown`] waits for each task before aborting it.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// Settings of a [`KubeletSimulator`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeletConfig {
    /// The name of the simulated Node (created if missing, adopted if present).
    pub node_name: String,
    /// The port of the HTTPS log endpoint on 127.0.0.1; 0 picks a free port.
    pub log_port: u16,
}

impl Default for KubeletConfig {
    fn default() -> Self {
        KubeletConfig {
            node_name: "o2dms-sim-node".to_owned(),
            log_port: 0,
        }
    }
}

/// Plays the kubelet of one node; see the [module documentation](self).
#[derive(Debug)]
pub struct KubeletSimulator;

impl KubeletSimulator {
    /// Registers the node, starts the pod watch and the log endpoint, and returns once
    /// the node is Ready and the pods already bound to it are known.
    ///
    /// The client needs cluster-wide rights on nodes (create, get, patch, including
    /// `nodes/status`) and pods (list, watch, get, delete, patch `pods/status`).
    pub async fn start(
        client: kube::Client,
        config: KubeletConfig,
    ) -> Result<KubeletHandle, ClusterError> {
        validate_node_name(&config.node_name)?;

        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, config.log_port));
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| ClusterError::io(format!("binding the kubelet log endpoint {addr}"), e))?;
        let log_port = listener
            .local_addr()
            .map_err(|e| ClusterError::io("reading the kubelet log endpoint address", e))?
            .port();
        let acceptor = server::tls_acceptor()?;

        let kubelet_version = match client.apiserver_version().await {
            Ok(v) => format!("{}-o2dms-sim", v.git_version),
            Err(e) => {
                tracing::warn!(error = %e, "kubelet simulator: cannot read the server version");
                "v0.0.0-o2dms-sim".to_owned()
            }
        };
        let info = node::NodeInfo {
            name: config.node_name.clone(),
            log_port,
            kubelet_version,
            ready_since: Timestamp::now(),
        };
        let nodes: Api<Node> = Api::all(client.clone());
        node::register(&nodes, &info).await?;

        let (stop_tx, stop_rx) = watch::channel(false);
        let (store, writer) = reflector::store::<Pod>();
        let tasks = vec![
            tokio::spawn(pods::run(
                Api::all(client.clone()),
                info.name.clone(),
                writer,
                stop_rx.clone(),
            )),
            tokio::spawn(server::serve(
                listener,
                acceptor,
                server::LogSource {
                    store: store.clone(),
                    client: client.clone(),
                },
                stop_rx.clone(),
            )),
            tokio::spawn(heartbeat(nodes, info, stop_rx)),
        ];
        let handle = KubeletHandle {
            log_port,
            node_name: config.node_name,
            stop: stop_tx,
            tasks,
        };

        match tokio::time::timeout(START_TIMEOUT, store.wait_until_ready()).await {
            Ok(Ok(())) => Ok(handle),
            Ok(Err(_)) => {
                handle.shutdown().await;
                Err(ClusterError::Kubelet(
                    "the pod watch stopped before its first list".to_owned(),
                ))
            }
            Err(_) => {
                handle.shutdown().await;
                Err(ClusterError::Kubelet(format!(
                    "the pods of the node could not be listed within {}s (is the client allowed to list and watch pods?)",
                    START_TIMEOUT.as_secs()
                )))
            }
        }
    }
}

/// A running [`KubeletSimulator`]. Dropping it aborts its tasks; [`shutdown`](Self::shutdown)
/// stops them in order. The Node object stays registered either way.
#[derive(Debug)]
pub struct KubeletHandle {
    log_port: u16,
    node_name: String,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl KubeletHandle {
    /// The port of the HTTPS log endpoint on 127.0.0.1 (the node's kubelet endpoint).
    pub fn log_port(&self) -> u16 {
        self.log_port
    }

    /// The name of the simulated node.
    pub fn node_name(&self) -> &str {
        &self.node_name
    }

    /// Stops the pod watch, every per-pod task, the heartbeat and the HTTPS server, and
    /// waits until they have ended.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for task in std::mem::take(&mut self.tasks) {
            let abort = task.abort_handle();
            if tokio::time::timeout(STOP_TIMEOUT, task).await.is_err() {
                abort.abort();
            }
        }
    }
}

impl Drop for KubeletHandle {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Keeps the node's Ready condition fresh.
async fn heartbeat(nodes: Api<Node>, info: node::NodeInfo, mut stop: watch::Receiver<bool>) {
    let mut interval = tokio::time::interval(HEARTBEAT_INTERVAL);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    interval.tick().await; // The first tick is immediate; the status was just sent.
    loop {
        tokio::select! {
            _ = stopped(&mut stop) => break,
            _ = interval.tick() => {
                if let Err(e) = node::report_status(&nodes, &info).await {
                    tracing::warn!(node = %info.name, error = %e, "kubelet simulator: heartbeat failed");
                }
            }
        }
    }
}

/// Resolves once the stop signal is set (or its sender is gone).
pub(crate) async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// A node name must be a DNS-1123 subdomain.
fn validate_node_name(name: &str) -> Result<(), ClusterError> {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if name.is_empty() || name.len() > 253 || !name.split('.').all(label_ok) {
        return Err(ClusterError::Config(format!(
            "kubelet node name {name:?} is not a DNS-1123 subdomain (lowercase letters, digits, '-' and '.')"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_names() {
        assert!(validate_node_name("o2dms-sim-node").is_ok());
        assert!(validate_node_name("node.example").is_ok());
        for bad in ["", "Node", "-a", "a-", "a..b", "a_b"] {
            assert!(validate_node_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn default_config_picks_a_free_port() {
        let c = KubeletConfig::default();
        assert_eq!(c.log_port, 0);
        assert!(validate_node_name(&c.node_name).is_ok());
    }
}
