//! Memory of the adapter at scale: a fresh process reads the history of many releases
//! with large records (dashboards in their charts, as grafana's) and lists 1,000
//! releases, round after round; its resident set after each round and its peak tell
//! whether memory grows with what was read or stays with what is kept. The same fresh
//! process times its first list (no release index yet) for comparison with `helm list`.
//!
//! The parent (`cargo xtask bench`) seeds the records and runs this as a child process
//! (`cargo xtask bench-memory`, hidden), so that nothing of its own counts.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Args;
use o2dms_core::{DeploymentFilter, DeploymentId, DmsAdapter, HistoryOptions, PageRequest};
use o2dms_helm::{HelmAdapter, HelmConfig};
use serde::{Deserialize, Serialize};

/// `cargo xtask bench-memory` (run by `cargo xtask bench`).
#[derive(Debug, Args)]
pub struct MemoryArgs {
    /// The cluster.
    #[arg(long)]
    kubeconfig: PathBuf,
    /// The helm binary.
    #[arg(long)]
    helm: PathBuf,
    /// Namespace of the releases whose history is read; names `m0000`, `m0001`, ...
    #[arg(long)]
    history_namespace: String,
    /// How many of them.
    #[arg(long)]
    history_releases: usize,
    /// Namespace listed whole each round.
    #[arg(long)]
    list_namespace: String,
    /// How many releases it holds (checked).
    #[arg(long)]
    list_releases: usize,
    /// Rounds of reads.
    #[arg(long)]
    rounds: usize,
}

/// What the child measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Memory {
    /// The first list of every release of the list namespace, in a fresh process.
    pub first_list_ms: f64,
    /// Resident set (MiB) before the first read, after connecting.
    pub start_rss_mib: f64,
    /// Resident set (MiB) after each round.
    pub rss_mib: Vec<f64>,
    /// Peak resident set (MiB) over the whole run.
    pub peak_rss_mib: f64,
    /// Revisions read per round (history) and releases listed per round.
    pub per_round: (usize, usize),
}

/// `VmRSS` and `VmHWM` of this process, in MiB.
fn rss() -> anyhow::Result<(f64, f64)> {
    let status =
        std::fs::read_to_string("/proc/self/status").context("reading /proc/self/status")?;
    let field = |name: &str| -> anyhow::Result<f64> {
        let line = status
            .lines()
            .find(|l| l.starts_with(name))
            .with_context(|| format!("{name} missing in /proc/self/status"))?;
        let kib: f64 = line
            .split_whitespace()
            .nth(1)
            .and_then(|v| v.parse().ok())
            .with_context(|| format!("unreadable {line:?}"))?;
        Ok(kib / 1024.0)
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}

/// Lists every release of `namespace`, page by page; how many.
async fn list_all(a: &HelmAdapter, namespace: &str) -> anyhow::Result<usize> {
    let mut filter = DeploymentFilter::in_namespace(namespace).page(PageRequest::first(1000));
    let mut n = 0;
    loop {
        let page = a
            .list_deployments(&filter)
            .await
            .map_err(|e| anyhow::anyhow!("list: {e}"))?;
        n += page.items.len();
        match page.continue_token {
            Some(t) => filter.page = PageRequest::next(Some(1000), t),
            None => return Ok(n),
        }
    }
}

/// The child: connect, time the first list, then the rounds; prints [`Memory`] as JSON.
pub fn run_child(args: MemoryArgs) -> anyhow::Result<()> {
    let rt = tokio::runtime::Runtime::new()?;
    let memory = rt.block_on(async {
        // No packages are uploaded; still, nothing goes to the user's data directory.
        let data = tempfile::tempdir()?;
        let config = HelmConfig::builder()
            .kubeconfig(&args.kubeconfig)
            .helm_binary(&args.helm)
            .data_dir(data.path())
            .build()
            .map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
        let a = HelmAdapter::connect(config)
            .await
            .map_err(|e| anyhow::anyhow!("connect: {e}"))?;
        let start_rss_mib = rss()?.0;
        let started = Instant::now();
        let listed = list_all(&a, &args.list_namespace).await?;
        let first_list_ms = started.elapsed().as_secs_f64() * 1000.0;
        if listed != args.list_releases {
            bail!("listed {listed} releases, not {}", args.list_releases);
        }
        let mut rss_mib = Vec::new();
        let mut revisions = 0;
        for _ in 0..args.rounds {
            revisions = 0;
            for i in 0..args.history_releases {
                let id = DeploymentId::new(args.history_namespace.as_str(), format!("m{i:04}"))
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                revisions += a
                    .deployment_history(&id, HistoryOptions::all())
                    .await
                    .map_err(|e| anyhow::anyhow!("history of {id}: {e}"))?
                    .len();
            }
            list_all(&a, &args.list_namespace).await?;
            rss_mib.push(rss()?.0);
        }
        Ok::<_, anyhow::Error>(Memory {
            first_list_ms,
            start_rss_mib,
            rss_mib,
            peak_rss_mib: rss()?.1,
            per_round: (revisions, listed),
        })
    })?;
    println!("{}", serde_json::to_string(&memory)?);
    Ok(())
}

/// Runs the child (this same program, `bench-memory`) and reads what it measured.
pub async fn measure(
    kubeconfig: &Path,
    helm: &Path,
    history: (&str, usize),
    list: (&str, usize),
    rounds: usize,
) -> anyhow::Result<Memory> {
    let exe = std::env::current_exe().context("the xtask program")?;
    let out = tokio::time::timeout(
        Duration::from_secs(1800),
        tokio::process::Command::new(exe)
            .arg("bench-memory")
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .arg("--helm")
            .arg(helm)
            .args(["--history-namespace", history.0])
            .args(["--history-releases", &history.1.to_string()])
            .args(["--list-namespace", list.0])
            .args(["--list-releases", &list.1.to_string()])
            .args(["--rounds", &rounds.to_string()])
            .kill_on_drop(true)
            .output(),
    )
    .await
    .context("the memory child did not finish within 30 min")?
    .context("running the memory child")?;
    if !out.status.success() {
        bail!(
            "the memory child failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .last()
        .context("the memory child printed nothing")?;
    serde_json::from_str(line).with_context(|| format!("reading {line:?}"))
}
