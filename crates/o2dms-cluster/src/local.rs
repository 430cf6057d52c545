//! The local cluster: etcd, kube-apiserver, kube-controller-manager and kube-scheduler
//! on free loopback ports, plus the kubelet simulator. No container engine needed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Node, ServiceAccount};
use k8s_openapi::apimachinery::pkg::version::Info;
use kube::api::Api;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::Client;

use crate::certs;
use crate::error::{ClusterError, Result};
use crate::kubelet::{KubeletConfig, KubeletHandle, KubeletSimulator};
use crate::ports::free_port;
use crate::process::ManagedProcess;
use crate::tools::{ControlPlaneBinaries, ProvisionOptions, Provisioner};

/// How to start a [`LocalCluster`].
#[derive(Debug, Clone)]
pub struct LocalClusterOptions {
    /// The binaries; `None` provisions them with [`ProvisionOptions::default`].
    pub binaries: Option<ControlPlaneBinaries>,
    /// The cluster's own directory. `None` creates a fresh one under [`Self::base_dir`]
    /// (removed on stop). An explicit directory must be empty or absent.
    pub dir: Option<PathBuf>,
    /// Where fresh cluster directories go (default: the system temp directory).
    pub base_dir: Option<PathBuf>,
    /// Keep the directory after stop (for post-mortems).
    pub keep_dir: bool,
    /// The name of the simulated node.
    pub node_name: String,
    /// The bound on reaching a Ready node.
    pub start_timeout: Duration,
    /// Whether to run the kubelet simulator (default true). Without it, no node exists
    /// and pods stay Pending.
    pub kubelet: bool,
}

impl Default for LocalClusterOptions {
    fn default() -> Self {
        LocalClusterOptions {
            binaries: None,
            dir: None,
            base_dir: None,
            keep_dir: false,
            node_name: "o2dms-node".to_string(),
            start_timeout: Duration::from_secs(90),
            kubelet: true,
        }
    }
}

/// Loopback ports of one local cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LocalPorts {
    /// etcd client port.
    pub etcd_client: u16,
    /// etcd peer port.
    pub etcd_peer: u16,
    /// kube-apiserver secure port.
    pub apiserver: u16,
    /// kube-controller-manager secure port.
    pub controller_manager: u16,
    /// kube-scheduler secure port.
    pub scheduler: u16,
    /// The kubelet simulator's log port (0 when it does not run).
    pub kubelet_log: u16,
}

/// A running local cluster. [`LocalCluster::stop`] ends it; dropping it does the same
/// synchronously (so a panicking test leaves no process behind).
pub struct LocalCluster {
    dir: PathBuf,
    keep_dir: bool,
    kubeconfig_path: PathBuf,
    client: Client,
    version: Info,
    ports: LocalPorts,
    token: String,
    node_name: String,
    binaries: ControlPlaneBinaries,
    /// In start order: etcd, kube-apiserver, kube-scheduler, kube-controller-manager.
    processes: Vec<ManagedProcess>,
    /// How each process was started (binary, arguments), to start it again.
    commands: Vec<(PathBuf, Vec<String>)>,
    /// Restarts so far, by component name.
    restarts: std::collections::HashMap<String, u32>,
    kubelet: Option<KubeletHandle>,
    stopped: bool,
    phases: Vec<StartPhase>,
}

/// Times a component is started again after it exits ([`LocalCluster::restart_exited`])
/// before the cluster gives up on it.
pub const MAX_RESTARTS: u32 = 5;

/// One step of [`LocalCluster::start`] and when it finished, measured from the start
/// (see [`LocalCluster::start_phases`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartPhase {
    /// What was done or reached, such as `kube-apiserver /readyz ok`.
    pub name: String,
    /// Time from the start of the attempt that succeeded to the end of this step.
    pub at: Duration,
}

impl std::fmt::Debug for LocalCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalCluster")
            .field("dir", &self.dir)
            .field("ports", &self.ports)
            .field("version", &self.version.git_version)
            .finish_non_exhaustive()
    }
}

fn write_file(path: &Path, contents: &str) -> Result<()> {
    std::fs::write(path, contents)
        .map_err(|e| ClusterError::io(format!("writing {}", path.display()), e))
}

pub(crate) fn write_private(path: &Path, contents: &str) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    write_file(path, contents)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| ClusterError::io(format!("chmod {}", path.display()), e))
}

/// The admin kubeconfig: token auth, TLS verified against the cluster's own CA.
pub(crate) fn admin_kubeconfig(server: &str, ca_pem: &str, token: &str, name: &str) -> String {
    use base64::Engine;
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem);
    let doc = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": server, "certificate-authority-data": ca}}],
        "users": [{"name": "admin", "user": {"token": token}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": "admin", "namespace": "default"}}],
        "current-context": name,
        "preferences": {}
    });
    // JSON is YAML; every kubeconfig reader accepts it.
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

impl LocalCluster {
    /// Starts a cluster and waits until it is usable (bounded by
    /// [`LocalClusterOptions::start_timeout`]): the apiserver ready, its node Ready (with
    /// the kubelet simulator), the `default` service account in `default` able to run
    /// pods, and the controller-manager and scheduler answering `/healthz`.
    /// [`LocalCluster::start_phases`] tells how long each step took.
    pub async fn start(options: LocalClusterOptions) -> Result<LocalCluster> {
        let binaries = match options.binaries.clone() {
            Some(b) => b,
            None => tokio::task::spawn_blocking(|| {
                Provisioner::new(ProvisionOptions::default()).control_plane()
            })
            .await
            .map_err(|e| ClusterError::Config(format!("provisioning task failed: {e}")))??,
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            match Self::start_once(&options, binaries.clone()).await {
                Err(e) if attempt < 3 && is_port_conflict(&e) => {
                    tracing::warn!("port conflict while starting a local cluster, retrying: {e}");
                }
                other => return other,
            }
        }
    }

    async fn start_once(
        options: &LocalClusterOptions,
        binaries: ControlPlaneBinaries,
    ) -> Result<LocalCluster> {
        let dir = match &options.dir {
            Some(d) => {
                std::fs::create_dir_all(d)
                    .map_err(|e| ClusterError::io(format!("creating {}", d.display()), e))?;
                d.clone()
            }
            None => {
                let base = options.base_dir.clone().unwrap_or_else(std::env::temp_dir);
                std::fs::create_dir_all(&base)
                    .map_err(|e| ClusterError::io(format!("creating {}", base.display()), e))?;
                tempfile::Builder::new()
                    .prefix("o2dms-cluster-")
                    .tempdir_in(&base)
                    .map_err(|e| {
                        ClusterError::io(format!("creating a directory in {}", base.display()), e)
                    })?
                    .keep()
            }
        };
        let ports = LocalPorts {
            etcd_client: free_port()?,
            etcd_peer: free_port()?,
            apiserver: free_port()?,
            controller_manager: free_port()?,
            scheduler: free_port()?,
            kubelet_log: 0,
        };
        let token = certs::random_token()?;
        let mut cluster = LocalCluster {
            kubeconfig_path: dir.join("kubeconfig"),
            dir,
            keep_dir: options.keep_dir,
            // Replaced below once the kubeconfig exists.
            client: placeholder_client()?,
            version: Info::default(),
            ports,
            token,
            node_name: options.node_name.clone(),
            binaries,
            processes: Vec::new(),
            commands: Vec::new(),
            restarts: std::collections::HashMap::new(),
            kubelet: None,
            stopped: false,
            phases: Vec::new(),
        };
        // On any error below, dropping `cluster` stops what was started.
        cluster.boot(options).await?;
        Ok(cluster)
    }

    async fn boot(&mut self, options: &LocalClusterOptions) -> Result<()> {
        let t0 = Instant::now();
        let deadline = t0 + options.start_timeout;
        let d = self.dir.clone();
        let p = self.ports;
        for sub in ["etcd", "certs", "logs"] {
            std::fs::create_dir_all(d.join(sub))
                .map_err(|e| ClusterError::io(format!("creating {}", d.join(sub).display()), e))?;
        }
        let legacy = self.binaries.minor_version().is_some_and(|m| m < 24);
        let b = self.binaries.clone();
        let ds = |rel: &str| d.join(rel).display().to_string();

        // etcd needs nothing else: start it first, so it is up by the time the apiserver
        // dials it (the apiserver retries anyway).
        let etcd_args = vec![
            format!("--data-dir={}", ds("etcd")),
            format!("--name=o2dms"),
            format!("--listen-client-urls=http://127.0.0.1:{}", p.etcd_client),
            format!("--advertise-client-urls=http://127.0.0.1:{}", p.etcd_client),
            format!("--listen-peer-urls=http://127.0.0.1:{}", p.etcd_peer),
            format!(
                "--initial-advertise-peer-urls=http://127.0.0.1:{}",
                p.etcd_peer
            ),
            format!("--initial-cluster=o2dms=http://127.0.0.1:{}", p.etcd_peer),
            // The cluster is thrown away after use: nothing needs to survive a power cut.
            "--unsafe-no-fsync=true".to_string(),
        ];
        self.spawn(t0, "etcd", &b.etcd, &etcd_args)?;

        let c = certs::generate()?;
        let ca = d.join("certs/ca.crt");
        let serving_crt = d.join("certs/apiserver.crt");
        let serving_key = d.join("certs/apiserver.key");
        let sa_key = d.join("certs/sa.key");
        let sa_pub = d.join("certs/sa.pub");
        let cm_crt = d.join("certs/controller-manager.crt");
        let cm_key = d.join("certs/controller-manager.key");
        let sched_crt = d.join("certs/scheduler.crt");
        let sched_key = d.join("certs/scheduler.key");
        write_file(&ca, &c.ca_cert_pem)?;
        write_file(&serving_crt, &(c.serving_cert_pem.clone() + &c.ca_cert_pem))?;
        write_private(&serving_key, &c.serving_key_pem)?;
        write_private(&sa_key, &c.sa_private_pem)?;
        write_file(&sa_pub, &c.sa_public_pem)?;
        write_file(&cm_crt, &(c.controller_manager.0.clone() + &c.ca_cert_pem))?;
        write_private(&cm_key, &c.controller_manager.1)?;
        write_file(&sched_crt, &(c.scheduler.0.clone() + &c.ca_cert_pem))?;
        write_private(&sched_key, &c.scheduler.1)?;
        let tokens = d.join("tokens.csv");
        write_private(
            &tokens,
            &format!("{},admin,admin,system:masters\n", self.token),
        )?;
        let server = format!("https://127.0.0.1:{}", p.apiserver);
        let name = d
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "o2dms-local".into());
        let kubeconfig_text = admin_kubeconfig(&server, &c.ca_cert_pem, &self.token, &name);
        write_private(&self.kubeconfig_path, &kubeconfig_text)?;
        let kc = self.kubeconfig_path.display().to_string();
        self.mark(t0, "certificates and kubeconfig written");

        let mut api_args = vec![
            format!("--etcd-servers=http://127.0.0.1:{}", p.etcd_client),
            "--bind-address=127.0.0.1".to_string(),
            "--advertise-address=127.0.0.1".to_string(),
            format!("--secure-port={}", p.apiserver),
            format!("--cert-dir={}", ds("certs")),
            format!("--tls-cert-file={}", serving_crt.display()),
            format!("--tls-private-key-file={}", serving_key.display()),
            format!("--token-auth-file={}", tokens.display()),
            "--authorization-mode=RBAC".to_string(),
            "--service-account-issuer=https://kubernetes.default.svc".to_string(),
            format!("--service-account-key-file={}", sa_pub.display()),
            format!("--service-account-signing-key-file={}", sa_key.display()),
            "--service-cluster-ip-range=10.96.0.0/16".to_string(),
            "--allow-privileged=true".to_string(),
        ];
        if legacy {
            // Before 1.24 the apiserver also serves plain HTTP on 8080 unless told not to.
            api_args.push("--insecure-port=0".to_string());
        }
        if let Some(config) = self.binaries.minor_version().and_then(retired_api_versions) {
            api_args.push(format!("--runtime-config={config}"));
        }
        self.spawn(t0, "kube-apiserver", &b.kube_apiserver, &api_args)?;

        // Both use the admin kubeconfig and serve /healthz over TLS with a certificate
        // from the cluster's CA (instead of generating a self-signed RSA one at start;
        // the RSA keys of their loopback certificate are not configurable). Their client
        // rate limits are raised from 20 QPS / burst 30: at start-up the
        // controller-manager's discovery (one request per API group version, several
        // times) would otherwise queue behind the limiter for about a second.
        let mut cm_args = vec![
            format!("--kubeconfig={kc}"),
            format!("--authentication-kubeconfig={kc}"),
            format!("--authorization-kubeconfig={kc}"),
            "--bind-address=127.0.0.1".to_string(),
            format!("--secure-port={}", p.controller_manager),
            format!("--tls-cert-file={}", cm_crt.display()),
            format!("--tls-private-key-file={}", cm_key.display()),
            format!("--kube-api-qps={COMPONENT_QPS}"),
            format!("--kube-api-burst={COMPONENT_BURST}"),
            format!("--service-account-private-key-file={}", sa_key.display()),
            format!("--root-ca-file={}", ca.display()),
            "--use-service-account-credentials=false".to_string(),
            "--leader-elect=false".to_string(),
            "--controllers=*,-nodeipam,-nodelifecycle,-cloud-node-lifecycle,-attachdetach"
                .to_string(),
        ];
        let mut sched_args = vec![
            format!("--kubeconfig={kc}"),
            format!("--authentication-kubeconfig={kc}"),
            format!("--authorization-kubeconfig={kc}"),
            "--bind-address=127.0.0.1".to_string(),
            format!("--secure-port={}", p.scheduler),
            format!("--tls-cert-file={}", sched_crt.display()),
            format!("--tls-private-key-file={}", sched_key.display()),
            format!("--kube-api-qps={COMPONENT_QPS}"),
            format!("--kube-api-burst={COMPONENT_BURST}"),
            "--leader-elect=false".to_string(),
        ];
        if legacy {
            // Before 1.24 both also serve plain HTTP on fixed ports (10252, 10251).
            cm_args.push("--port=0".to_string());
            sched_args.push("--port=0".to_string());
        }

        // With this crate's builds the controller-manager starts now: it checks the
        // apiserver's /healthz every 100 ms for up to five minutes, and its own start-up
        // (≈ 0.4 s of CPU) runs beside the apiserver's, which keeps only one core busy.
        // Stock binaries check once a second and give up after ten seconds, so they start
        // it once the apiserver is ready (below).
        let early_controller_manager = self.binaries.has_start_patches();
        if early_controller_manager {
            self.spawn(
                t0,
                "kube-controller-manager",
                &b.kube_controller_manager,
                &cm_args,
            )?;
        }

        // The client: same kubeconfig as every other user.
        self.client = client_from_kubeconfig(&self.kubeconfig_path, None).await?;

        // The apiserver answers requests (with /readyz still failing) before its
        // bootstrap hooks have made the RBAC roles and priority classes: ≈ 0.3 s with the
        // binaries this crate builds, over a second with unpatched ones (see
        // `tools/source_patches.rs`). The scheduler only needs to list and watch, so it
        // starts now and has its caches filled well before the cluster is handed out.
        self.wait_apiserver(deadline, false).await?;
        self.mark(t0, "kube-apiserver serving");
        self.spawn(t0, "kube-scheduler", &b.kube_scheduler, &sched_args)?;

        // Stock controller-managers check the apiserver's /healthz once a second (exiting
        // after ten failed seconds), after generating their loopback RSA keys. Started
        // while the apiserver is not ready yet, their check lands on a one-second grid
        // and, measured, gained nothing on average while sometimes losing a second; so
        // they start once the apiserver is ready.
        self.wait_apiserver(deadline, true).await?;
        self.mark(t0, "kube-apiserver /readyz ok");
        if !early_controller_manager {
            self.spawn(
                t0,
                "kube-controller-manager",
                &b.kube_controller_manager,
                &cm_args,
            )?;
        }
        self.version = self.client.apiserver_version().await?;

        if options.kubelet {
            let handle = KubeletSimulator::start(
                self.client.clone(),
                KubeletConfig {
                    node_name: options.node_name.clone(),
                    ..KubeletConfig::default()
                },
            )
            .await?;
            self.ports.kubelet_log = handle.log_port();
            self.kubelet = Some(handle);
            self.mark(t0, "kubelet simulator started");
        }
        self.wait_components(t0, deadline, options.kubelet, &c.ca_cert_pem)
            .await?;
        Ok(())
    }

    fn mark(&mut self, t0: Instant, name: &str) {
        let at = t0.elapsed();
        tracing::debug!(
            phase = name,
            ms = at.as_millis() as u64,
            "local cluster start"
        );
        self.phases.push(StartPhase {
            name: name.to_string(),
            at,
        });
    }

    /// The steps of the start that succeeded, in order, each with the time from the
    /// beginning of that attempt (after provisioning) to its end.
    pub fn start_phases(&self) -> &[StartPhase] {
        &self.phases
    }

    /// Starts a component (logging to `logs/NAME.log`) and marks the phase `NAME spawned`.
    fn spawn(&mut self, t0: Instant, name: &str, binary: &Path, args: &[String]) -> Result<()> {
        let log = self.dir.join("logs").join(format!("{name}.log"));
        let proc = ManagedProcess::spawn(name, Command::new(binary).args(args), Some(&log))?;
        self.processes.push(proc);
        self.commands.push((binary.to_path_buf(), args.to_vec()));
        self.mark(t0, &format!("{name} spawned"));
        Ok(())
    }

    /// An error if any component has exited.
    fn check_processes(&mut self) -> Result<()> {
        for p in &mut self.processes {
            if let Some(status) = p.exited() {
                return Err(p.exit_error(status));
            }
        }
        Ok(())
    }

    fn timeout(&self, what: &str, started: Instant) -> ClusterError {
        let _ = started;
        let logs: Vec<String> = self
            .processes
            .iter()
            .filter_map(|p| p.log_path().map(|l| l.display().to_string()))
            .collect();
        ClusterError::Timeout {
            what: format!("{what} (component logs: {})", logs.join(", ")),
            seconds: started.elapsed().as_secs_f64(),
        }
    }

    /// Waits until the apiserver answers `/readyz` at all (`ready == false`: any HTTP
    /// status, it is serving) or answers `ok` (`ready == true`).
    async fn wait_apiserver(&mut self, deadline: Instant, ready: bool) -> Result<()> {
        let started = Instant::now();
        loop {
            self.check_processes()?;
            let req = http::Request::get("/readyz")
                .body(Vec::new())
                .map_err(|e| ClusterError::Config(e.to_string()))?;
            let attempt =
                tokio::time::timeout(Duration::from_secs(2), self.client.request_text(req)).await;
            match attempt {
                Ok(Ok(body)) if !ready || body.trim() == "ok" => return Ok(()),
                Ok(Err(kube::Error::Api(_))) if !ready => return Ok(()),
                _ => {}
            }
            if Instant::now() > deadline {
                let what = if ready {
                    "kube-apiserver /readyz"
                } else {
                    "kube-apiserver serving"
                };
                return Err(self.timeout(what, started));
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Waits, all at once, for what makes the cluster usable: the node Ready (when the
    /// kubelet simulator runs), the `default` service account in `default` (pods are
    /// admitted only once it exists and, before 1.24, has its token secret), and
    /// `/healthz` of the controller-manager and the scheduler (verified TLS).
    async fn wait_components(
        &mut self,
        t0: Instant,
        deadline: Instant,
        node: bool,
        ca_pem: &str,
    ) -> Result<()> {
        let started = Instant::now();
        let nodes: Api<Node> = Api::all(self.client.clone());
        let sas: Api<ServiceAccount> = Api::namespaced(self.client.clone(), "default");
        let legacy = self.binaries.minor_version().is_some_and(|m| m < 24);
        let cm = component_client(self.ports.controller_manager, ca_pem)?;
        let sched = component_client(self.ports.scheduler, ca_pem)?;
        let mut node_ready = !node;
        let mut sa_ready = false;
        let mut cm_healthy = false;
        let mut sched_healthy = false;
        loop {
            self.check_processes()?;
            let (n, sa, c, s) = tokio::join!(
                async { node_ready || node_is_ready(&nodes, &self.node_name).await },
                async { sa_ready || default_sa_ready(&sas, legacy).await },
                async { cm_healthy || healthz_ok(&cm).await },
                async { sched_healthy || healthz_ok(&sched).await },
            );
            for (was, now, name) in [
                (&mut node_ready, n, "node Ready"),
                (&mut sa_ready, sa, "service account default/default ready"),
                (&mut cm_healthy, c, "kube-controller-manager /healthz ok"),
                (&mut sched_healthy, s, "kube-scheduler /healthz ok"),
            ] {
                if now && !*was {
                    *was = true;
                    self.mark(t0, name);
                }
            }
            if node_ready && sa_ready && cm_healthy && sched_healthy {
                return Ok(());
            }
            if Instant::now() > deadline {
                let missing: Vec<&str> = [
                    (node_ready, "node Ready"),
                    (sa_ready, "service account default/default"),
                    (cm_healthy, "kube-controller-manager /healthz"),
                    (sched_healthy, "kube-scheduler /healthz"),
                ]
                .into_iter()
                .filter(|(ok, _)| !ok)
                .map(|(_, what)| what)
                .collect();
                return Err(self.timeout(&missing.join(", "), started));
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// The first component found to have exited, as an error with its log tail; `None`
    /// while all run. A long-running server polls this.
    pub fn exited_component(&mut self) -> Option<ClusterError> {
        self.check_processes().err()
    }

    /// Starts again, with the same arguments and ports, every component that has exited
    /// (its data, etcd's included, stays; its log moves to `logs/NAME.log.N`), at most
    /// [`MAX_RESTARTS`] times per component; the names restarted. An error (the exit, with
    /// its log tail) when a component exited once more than that or cannot be started.
    pub fn restart_exited(&mut self) -> Result<Vec<String>> {
        let mut restarted = Vec::new();
        for i in 0..self.processes.len() {
            let Some(status) = self.processes[i].exited() else {
                continue;
            };
            let name = self.processes[i].name().to_owned();
            let count = self.restarts.entry(name.clone()).or_insert(0);
            if *count >= MAX_RESTARTS {
                return Err(self.processes[i].exit_error(status));
            }
            *count += 1;
            let n = *count;
            let log = self.dir.join("logs").join(format!("{name}.log"));
            let _ = std::fs::rename(&log, log.with_extension(format!("log.{n}")));
            let (binary, args) = &self.commands[i];
            let fresh = ManagedProcess::spawn(&name, Command::new(binary).args(args), Some(&log))?;
            tracing::warn!(component = %name, %status, restart = n, "component exited; started again");
            self.processes[i] = fresh;
            restarted.push(name);
        }
        Ok(restarted)
    }

    /// Keeps the cluster's directory (etcd data included) when the cluster stops, for a
    /// later `cluster down` to remove.
    pub fn keep_data(&mut self) {
        self.keep_dir = true;
    }

    /// The admin kubeconfig (token auth, TLS verified against the cluster's CA).
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig_path
    }

    /// A client with admin rights.
    pub fn client(&self) -> Client {
        self.client.clone()
    }

    /// What the apiserver reports (`v1.20.2` for binaries built from Debian's source).
    pub fn server_version(&self) -> &Info {
        &self.version
    }

    /// The apiserver URL, `https://127.0.0.1:PORT`.
    pub fn server_url(&self) -> String {
        format!("https://127.0.0.1:{}", self.ports.apiserver)
    }

    /// The admin bearer token (group `system:masters`).
    pub fn admin_token(&self) -> &str {
        &self.token
    }

    /// The PEM of the CA that signed the apiserver's serving certificate.
    pub fn ca_path(&self) -> PathBuf {
        self.dir.join("certs/ca.crt")
    }

    /// The cluster's directory (certificates, etcd data, kubeconfig, logs/).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The ports it listens on.
    pub fn ports(&self) -> LocalPorts {
        self.ports
    }

    /// The simulated node's name.
    pub fn node_name(&self) -> &str {
        &self.node_name
    }

    /// The binaries it runs.
    pub fn binaries(&self) -> &ControlPlaneBinaries {
        &self.binaries
    }

    /// Process ids of the components, in start order (etcd, kube-apiserver,
    /// kube-scheduler, kube-controller-manager).
    pub fn pids(&self) -> Vec<(String, u32)> {
        self.processes
            .iter()
            .map(|p| (p.name().to_string(), p.pid()))
            .collect()
    }

    /// Stops the kubelet simulator, then the scheduler, controller-manager, apiserver and
    /// etcd (by process id, SIGTERM then SIGKILL after a grace period), and removes the
    /// directory unless asked to keep it.
    pub async fn stop(mut self) {
        if let Some(k) = self.kubelet.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), k.shutdown()).await;
        }
        let _ = tokio::task::spawn_blocking(move || self.stop_sync()).await;
    }

    fn stop_sync(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        drop(self.kubelet.take());
        while let Some(mut p) = self.processes.pop() {
            p.stop();
        }
        if !self.keep_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        self.stop_sync();
    }
}

/// The beta API versions that later Kubernetes releases removed (1.22: those with a v1 since
/// 1.19 or earlier; 1.25: `events.k8s.io`, `node.k8s.io` and `autoscaling/v2beta1`), each
/// with a GA version in 1.20 beside it. A 1.20 or 1.21 apiserver still serves them unless
/// told not to: switched off, the local cluster offers charts what a current cluster does
/// (where 1.20 has it at all), and the apiserver starts ≈ 0.5 s faster (fewer storages and
/// a smaller OpenAPI document to build). The betas with no GA version in 1.20 stay:
/// `batch/v1beta1` (CronJob), `policy/v1beta1` (PodDisruptionBudget),
/// `discovery.k8s.io/v1beta1` (EndpointSlice), `autoscaling/v2beta2`,
/// `flowcontrol.apiserver.k8s.io/v1beta1`. `None` for other minor versions (1.21 already
/// serves some of these only as beta, such as `CSIStorageCapacity`).
fn retired_api_versions(minor: u32) -> Option<String> {
    const RETIRED: [&str; 15] = [
        "admissionregistration.k8s.io/v1beta1",
        "apiextensions.k8s.io/v1beta1",
        "apiregistration.k8s.io/v1beta1",
        "authentication.k8s.io/v1beta1",
        "authorization.k8s.io/v1beta1",
        "autoscaling/v2beta1",
        "certificates.k8s.io/v1beta1",
        "coordination.k8s.io/v1beta1",
        "events.k8s.io/v1beta1",
        "extensions/v1beta1",
        "networking.k8s.io/v1beta1",
        "node.k8s.io/v1beta1",
        "rbac.authorization.k8s.io/v1beta1",
        "scheduling.k8s.io/v1beta1",
        "storage.k8s.io/v1beta1",
    ];
    (minor == 20).then(|| {
        RETIRED
            .iter()
            .map(|gv| format!("{gv}=false"))
            .collect::<Vec<_>>()
            .join(",")
    })
}

/// How often start-up conditions are checked (each check is one loopback request).
const POLL_INTERVAL: Duration = Duration::from_millis(25);

/// `--kube-api-qps` of the controller-manager and the scheduler (default 20).
const COMPONENT_QPS: u32 = 100;

/// `--kube-api-burst` of the controller-manager and the scheduler (default 30).
const COMPONENT_BURST: u32 = 200;

async fn node_is_ready(nodes: &Api<Node>, name: &str) -> bool {
    match nodes.get_opt(name).await {
        Ok(Some(node)) => node
            .status
            .and_then(|s| s.conditions)
            .unwrap_or_default()
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True"),
        _ => false,
    }
}

async fn default_sa_ready(sas: &Api<ServiceAccount>, legacy: bool) -> bool {
    match sas.get_opt("default").await {
        Ok(Some(sa)) => !legacy || sa.secrets.is_some_and(|s| !s.is_empty()),
        _ => false,
    }
}

/// An anonymous client for a component's own HTTPS endpoint on 127.0.0.1, verifying its
/// certificate against the cluster's CA.
fn component_client(port: u16, ca_pem: &str) -> Result<Client> {
    let uri = format!("https://127.0.0.1:{port}")
        .parse()
        .map_err(|e| ClusterError::Config(format!("{e}")))?;
    let mut config = kube::Config::new(uri);
    config.root_cert = Some(vec![certs::pem_to_der(ca_pem)?]);
    config.connect_timeout = Some(Duration::from_secs(1));
    config.read_timeout = Some(Duration::from_secs(1));
    Ok(Client::try_from(config)?)
}

/// Whether `/healthz` answers `ok` (the path is always allowed, no credentials needed).
async fn healthz_ok(client: &Client) -> bool {
    let Ok(req) = http::Request::get("/healthz").body(Vec::new()) else {
        return false;
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(1), client.request_text(req)).await,
        Ok(Ok(body)) if body.trim() == "ok"
    )
}

/// Whether a start failed because a port was taken between picking and binding it.
fn is_port_conflict(e: &ClusterError) -> bool {
    match e {
        ClusterError::Process { log_tail, .. } => log_tail
            .as_deref()
            .is_some_and(|t| t.contains("address already in use")),
        _ => false,
    }
}

/// A client that is never used: the field must hold something before the kubeconfig exists.
fn placeholder_client() -> Result<Client> {
    let config = kube::Config::new(
        "http://127.0.0.1:9"
            .parse()
            .map_err(|e| ClusterError::Config(format!("{e}")))?,
    );
    Ok(Client::try_from(config)?)
}

/// A client from a kubeconfig file and an optional context.
pub async fn client_from_kubeconfig(path: &Path, context: Option<&str>) -> Result<Client> {
    let kubeconfig = Kubeconfig::read_from(path)
        .map_err(|e| ClusterError::Kubeconfig(format!("reading {}: {e}", path.display())))?;
    let options = KubeConfigOptions {
        context: context.map(str::to_string),
        ..KubeConfigOptions::default()
    };
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|e| ClusterError::Kubeconfig(format!("{}: {e}", path.display())))?;
    Ok(Client::try_from(config)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retired_betas_are_switched_off_on_1_20_only() {
        let config = retired_api_versions(20).unwrap();
        let gvs: Vec<&str> = config.split(',').collect();
        assert_eq!(gvs.len(), 15);
        assert!(gvs
            .iter()
            .all(|gv| gv.ends_with("/v1beta1=false") || gv.ends_with("/v2beta1=false")));
        assert!(gvs.contains(&"extensions/v1beta1=false"));
        // Betas that are the only version of something in 1.20 stay.
        for kept in [
            "batch/",
            "policy/",
            "discovery.k8s.io/",
            "flowcontrol",
            "v2beta2",
        ] {
            assert!(!config.contains(kept), "{kept} must stay on: {config}");
        }
        for minor in [19, 21, 24, 30] {
            assert_eq!(retired_api_versions(minor), None, "1.{minor}");
        }
    }
}
