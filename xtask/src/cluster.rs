//! `cargo xtask cluster up | status | down | provision`: a local Kubernetes cluster that
//! needs no container engine, kept running in the background between commands.
//!
//! ```text
//! eval "$(cargo xtask cluster up)"        # prints `export KUBECONFIG=...`
//! cargo xtask cluster status
//! cargo xtask cluster down
//! cargo xtask cluster provision           # CI: build/download every tool into the cache
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use k8s_openapi::api::core::v1::Node;
use kube::api::Api;
use o2dms_cluster::serve::{self, ServeState};
use o2dms_cluster::tools::{default_cache_dir, ProvisionOptions, Provisioner};
use o2dms_cluster::{process_alive, HelmMajor};

/// `cargo xtask cluster ...`
#[derive(Debug, Args)]
pub struct ClusterArgs {
    #[command(subcommand)]
    command: ClusterCommand,
}

#[derive(Debug, Subcommand)]
enum ClusterCommand {
    /// Start a local cluster in the background and print `export KUBECONFIG=...`.
    Up {
        /// The cluster's name (several can run at once).
        #[arg(long, default_value = "o2dms")]
        name: String,
        /// Also put `helm` (4), `helm3`, `helm4` and `kubectl` links into DIR and print
        /// `export PATH=DIR:$PATH`.
        #[arg(long, value_name = "DIR")]
        helm_dir: Option<PathBuf>,
        /// How long to wait for a Ready node, in seconds.
        #[arg(long, default_value_t = 180)]
        timeout: u64,
    },
    /// Print the server version, nodes and component health.
    Status {
        /// The cluster's name.
        #[arg(long, default_value = "o2dms")]
        name: String,
    },
    /// Stop the cluster and remove its files.
    Down {
        /// The cluster's name.
        #[arg(long, default_value = "o2dms")]
        name: String,
    },
    /// Provision every tool (control plane, etcd, Helm 3, Helm 4, kubectl) into the cache.
    Provision {
        /// The cache directory (default `$XDG_CACHE_HOME/o2dms` or `~/.cache/o2dms`).
        #[arg(long)]
        cache_dir: Option<PathBuf>,
        /// Ignore PATH, KUBEBUILDER_ASSETS and O2DMS_* variables: build and download
        /// everything into the cache (a cold run).
        #[arg(long, requires = "cache_dir")]
        isolated: bool,
    },
    /// Run a cluster in the foreground until SIGTERM/SIGINT (what `up` starts).
    #[command(hide = true)]
    Serve {
        /// The cluster's state directory.
        #[arg(long)]
        dir: PathBuf,
    },
}

/// Runs a `cargo xtask cluster` command.
pub fn run(args: ClusterArgs) -> anyhow::Result<()> {
    match args.command {
        ClusterCommand::Up {
            name,
            helm_dir,
            timeout,
        } => up(&name, helm_dir.as_deref(), Duration::from_secs(timeout)),
        ClusterCommand::Status { name } => status(&name),
        ClusterCommand::Down { name } => down(&name),
        ClusterCommand::Provision {
            cache_dir,
            isolated,
        } => provision(cache_dir, isolated),
        ClusterCommand::Serve { dir } => {
            serve::serve_blocking(&dir).context("serving the local cluster")
        }
    }
}

fn cluster_dir(name: &str) -> anyhow::Result<PathBuf> {
    if name.is_empty()
        || name.len() > 40
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        bail!("invalid cluster name {name:?}: use 1-40 characters a-z, 0-9 and -");
    }
    Ok(default_cache_dir().join("clusters").join(name))
}

fn up(name: &str, helm_dir: Option<&Path>, timeout: Duration) -> anyhow::Result<()> {
    let dir = cluster_dir(name)?;
    if let Some(state) = serve::read_state(&dir)? {
        if serve::is_running(&state) {
            eprintln!("cluster {name} already runs (pid {})", state.pid);
            print_exports(&state, helm_dir);
            return Ok(());
        }
    }
    let started = std::time::Instant::now();
    // Provision in the foreground, so progress shows here.
    let provisioner = Provisioner::new(ProvisionOptions::default());
    let cp = provisioner
        .control_plane()
        .context("provisioning the control plane")?;
    eprintln!(
        "starting cluster {name} (Kubernetes {}) from {}",
        cp.kubernetes_version,
        dir.display()
    );
    let exe = std::env::current_exe().context("locating the xtask binary")?;
    let args = [
        "cluster".into(),
        "serve".into(),
        "--dir".into(),
        dir.clone().into_os_string(),
    ];
    let state = serve::spawn_detached(&exe, &args, &dir, timeout)
        .with_context(|| format!("starting cluster {name}"))?;
    if let Some(h) = helm_dir {
        link_tools(&provisioner, h)?;
    }
    eprintln!(
        "cluster {name} is up in {:.1} s: {} at {} (pid {}; log {}, with the time of each start step)",
        started.elapsed().as_secs_f64(),
        state.server_version,
        state.server,
        state.pid,
        serve::log_path(&dir).display()
    );
    print_exports(&state, helm_dir);
    Ok(())
}

fn print_exports(state: &ServeState, helm_dir: Option<&Path>) {
    println!("export KUBECONFIG={}", state.kubeconfig.display());
    if let Some(h) = helm_dir {
        println!("export PATH={}:$PATH", h.display());
    }
}

fn link_tools(p: &Provisioner, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let helm3 = p.helm(HelmMajor::V3)?;
    let helm4 = p.helm(HelmMajor::V4)?;
    let kubectl = p.kubectl()?;
    for (link, target) in [
        ("helm", &helm4),
        ("helm4", &helm4),
        ("helm3", &helm3),
        ("kubectl", &kubectl),
    ] {
        let path = dir.join(link);
        if path.symlink_metadata().is_ok() {
            std::fs::remove_file(&path).with_context(|| format!("replacing {}", path.display()))?;
        }
        std::os::unix::fs::symlink(target, &path)
            .with_context(|| format!("linking {}", path.display()))?;
    }
    eprintln!(
        "linked helm (4), helm3, helm4, kubectl into {}",
        dir.display()
    );
    Ok(())
}

fn down(name: &str) -> anyhow::Result<()> {
    let dir = cluster_dir(name)?;
    let stopped = serve::stop(&dir, Duration::from_secs(60))
        .with_context(|| format!("stopping cluster {name}"))?;
    if stopped {
        eprintln!("cluster {name} stopped");
    } else {
        eprintln!("cluster {name} was not running");
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn provision(cache_dir: Option<PathBuf>, isolated: bool) -> anyhow::Result<()> {
    let options = match cache_dir {
        Some(d) if isolated => ProvisionOptions::isolated(d),
        Some(d) => ProvisionOptions {
            cache_dir: Some(d),
            ..ProvisionOptions::default()
        },
        None => ProvisionOptions::default(),
    };
    let started = std::time::Instant::now();
    let p = Provisioner::new(options);
    let t = p.all().context("provisioning tools")?;
    let cp = &t.control_plane;
    println!(
        "kubernetes              {}{}",
        cp.kubernetes_version,
        match &cp.source_patch_level {
            Some(level) => format!(" (start-up patches {level})"),
            None => " (as built elsewhere: no start-up patches)".to_string(),
        }
    );
    println!("etcd                    {}", cp.etcd.display());
    println!("kube-apiserver          {}", cp.kube_apiserver.display());
    println!(
        "kube-controller-manager {}",
        cp.kube_controller_manager.display()
    );
    println!("kube-scheduler          {}", cp.kube_scheduler.display());
    println!("helm3                   {}", t.helm3.display());
    println!("helm4                   {}", t.helm4.display());
    println!("kubectl                 {}", t.kubectl.display());
    eprintln!(
        "provisioned in {:.1}s (cache {})",
        started.elapsed().as_secs_f64(),
        p.cache_dir().display()
    );
    Ok(())
}

fn status(name: &str) -> anyhow::Result<()> {
    let dir = cluster_dir(name)?;
    let Some(state) = serve::read_state(&dir)? else {
        bail!(
            "cluster {name} is not running (no {})",
            serve::state_path(&dir).display()
        );
    };
    if !serve::is_running(&state) {
        bail!(
            "cluster {name} is not running (pid {} is gone; log {})",
            state.pid,
            serve::log_path(&dir).display()
        );
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(30), status_async(name, &state))
            .await
            .context("status did not finish within 30s")?
    })
}

async fn status_async(name: &str, state: &ServeState) -> anyhow::Result<()> {
    let client = o2dms_cluster::local::client_from_kubeconfig(&state.kubeconfig, None).await?;
    let version = client.apiserver_version().await?;
    println!("cluster:    {name} (local, pid {})", state.pid);
    println!("server:     {}", state.server);
    println!(
        "version:    {} ({}, platform {})",
        version.git_version, version.go_version, version.platform
    );
    println!("kubeconfig: {}", state.kubeconfig.display());
    println!("nodes:");
    let nodes: Api<Node> = Api::all(client.clone());
    for n in nodes.list(&Default::default()).await? {
        let ready = n
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .and_then(|c| c.iter().find(|c| c.type_ == "Ready"))
            .map(|c| c.status.clone())
            .unwrap_or_else(|| "Unknown".into());
        let kubelet = n
            .status
            .as_ref()
            .and_then(|s| s.node_info.as_ref())
            .map(|i| i.kubelet_version.clone())
            .unwrap_or_default();
        println!(
            "  {:<24} Ready={ready:<7} kubelet {kubelet}",
            n.metadata.name.unwrap_or_default()
        );
    }
    println!("components:");
    for (component, pid) in &state.components {
        let alive = if process_alive(*pid) {
            "running"
        } else {
            "GONE"
        };
        let health = match component.as_str() {
            "kube-apiserver" => get_text(&client, "/readyz").await,
            "etcd" => get_text(&client, "/readyz/etcd").await,
            "kube-controller-manager" => component_healthz(state.ports.controller_manager).await,
            "kube-scheduler" => component_healthz(state.ports.scheduler).await,
            _ => "n/a".into(),
        };
        println!("  {component:<24} pid {pid:<8} {alive:<8} health: {health}");
    }
    if state.ports.kubelet_log != 0 {
        println!(
            "  {:<24} in-process        log endpoint https://127.0.0.1:{}",
            "kubelet-simulator", state.ports.kubelet_log
        );
    }
    Ok(())
}

async fn get_text(client: &kube::Client, path: &str) -> String {
    let req = match http::Request::get(path).body(Vec::new()) {
        Ok(r) => r,
        Err(e) => return format!("error: {e}"),
    };
    match client.request_text(req).await {
        Ok(body) => body.trim().to_string(),
        Err(e) => format!("error: {e}"),
    }
}

/// `/healthz` of a component's own self-signed HTTPS endpoint (anonymous; the path is
/// always allowed).
async fn component_healthz(port: u16) -> String {
    let url = format!("https://127.0.0.1:{port}");
    let mut config = match url.parse() {
        Ok(uri) => kube::Config::new(uri),
        Err(e) => return format!("error: {e}"),
    };
    config.accept_invalid_certs = true;
    match kube::Client::try_from(config) {
        Ok(c) => get_text(&c, "/healthz").await,
        Err(e) => format!("error: {e}"),
    }
}
