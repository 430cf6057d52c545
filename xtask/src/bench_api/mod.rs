//! `cargo xtask bench-api`: the speed of the REST API (issue #15), measured against the
//! real server program, `o2dms serve` (crate `o2dms-cli`), built for the run.
//!
//! 1. **Get latency** ([`latency`]): the mock in process against `RemoteAdapter` over
//!    HTTP/1.1 keep-alive to `o2dms serve` hosting the same mock, the client on a
//!    current-thread runtime (and again on a 2-worker one, reported); target: the server
//!    adds under 100 µs at the median.
//! 2. **Throughput** ([`wrk`]): `wrk -t2 -c16` on loopback against one deployment's
//!    `GET`; target: at least 20,000 gets/s (wrk shares the 2 cores with the server).
//! 3. **Memory** ([`procfs`]): the server's resident set idle right after start, idle
//!    after the load, and its peak; target: idle under 30 MB.
//! 4. **Create with Helm** ([`helm`]): the Helm adapter in process against `o2dms serve`
//!    hosting a helm plugin, on one cluster; target: the server adds under 2 %.
//!    `--skip-helm` leaves it out (no cluster).
//!
//! Results print as a Markdown table; `--json FILE` writes them as JSON and
//! `--write-docs` puts the table into `docs/performance.md` ([`report`]). Targets are
//! reported, never enforced: timings never decide pass or fail.

mod binary;
mod config;
mod helm;
mod latency;
mod procfs;
mod report;
mod server;
mod wrk;

/// The timing helpers of `cargo xtask bench` (`bench/measure.rs`), compiled here as well
/// rather than copied: that module is private to `bench`. (Making it `pub(crate)` there
/// would let this be a `use`.)
#[path = "../bench/measure.rs"]
#[allow(
    dead_code,
    clippy::duplicate_mod,
    reason = "bench-api uses a part of the helpers of a module private to `bench`"
)]
mod measure;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Args;
use o2dms_remote::RemoteAdapter;

use config::DM;
use latency::ClientRuntime;
use measure::load_average;
use report::{Results, ServerMemory};
use server::ServerProcess;

/// How long the mock server may take to print its address.
const MOCK_START_BOUND: Duration = Duration::from_secs(30);
/// Pause before an idle reading of the server's memory.
const SETTLE: Duration = Duration::from_secs(1);

/// `cargo xtask bench-api`
#[derive(Debug, Args)]
pub struct BenchApiArgs {
    /// Timed gets per side (in process, through the server) for the latency.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    samples: u64,
    /// How long wrk loads the server, in seconds.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    duration: u64,
    /// Create+delete cycles per side with Helm.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=100))]
    write_cycles: u64,
    /// Skip the Helm create comparison (no cluster, no helm).
    #[arg(long)]
    skip_helm: bool,
    /// Helm version for the create comparison: `3`, `4` (default) or the path of a helm
    /// binary.
    #[arg(long)]
    helm: Option<String>,
    /// Use the cluster of this kubeconfig instead of starting a local one. The run's
    /// deployments go into namespaces of their own (`o2dms-bench-api-*`), deleted again.
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
    /// Also write the results as JSON to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Put the results table into docs/performance.md.
    #[arg(long)]
    write_docs: bool,
    /// Measure debug builds (of this bench and of `o2dms`) instead of release builds;
    /// the figures then say little (for smoke runs).
    #[arg(long)]
    debug_build: bool,
}

/// A debug build of xtask re-runs itself as a release build (`cargo run --release`), as
/// `cargo xtask bench` does: the in-process side of each comparison is measured in it.
fn rerun_as_release() -> anyhow::Result<()> {
    eprintln!(
        "bench-api: running a release build of xtask (cargo run --release; --debug-build skips this)"
    );
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = std::process::Command::new(cargo)
        .args([
            "run",
            "--release",
            "--quiet",
            "--package",
            "xtask",
            "--",
            "bench-api",
        ])
        .args(std::env::args_os().skip(2))
        .status()
        .context("running cargo")?;
    if !status.success() {
        bail!("the release build of bench-api failed ({status})");
    }
    Ok(())
}

/// Runs `cargo xtask bench-api`.
pub fn run(args: BenchApiArgs) -> anyhow::Result<()> {
    if cfg!(debug_assertions) && !args.debug_build {
        return rerun_as_release();
    }
    // Before any build: without wrk there is no throughput figure.
    let wrk = wrk::find_wrk()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let results = runtime.block_on(run_all(&args, &wrk))?;
    println!("{}", results.markdown());
    if let Some(p) = &args.json {
        let json = serde_json::to_vec_pretty(&results).context("encoding the results")?;
        std::fs::write(p, json).with_context(|| format!("writing {}", p.display()))?;
        eprintln!("wrote {}", p.display());
    }
    if args.write_docs {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/performance.md");
        report::write_docs(&path, &results)?;
        eprintln!("wrote {}", path.display());
    }
    if !results.all_met() {
        eprintln!("note: some targets were not met (see the `met` column)");
    }
    Ok(())
}

async fn run_all(args: &BenchApiArgs, wrk: &Path) -> anyhow::Result<Results> {
    let o2dms = binary::build_o2dms(!args.debug_build).await?;
    let started = o2dms_core::Timestamp::now().to_string();
    // to the second: `2026-12-01T23:00:00Z`
    let started = match started.split_once('.') {
        Some((seconds, _)) => format!("{seconds}Z"),
        None => started,
    };
    let load_before = load_average();
    let ([get, get_multi_thread], mock_create, throughput, server_cores_under_load, memory) =
        mock_parts(args, &o2dms, wrk).await?;
    let create = if args.skip_helm {
        None
    } else {
        Some(
            helm::measure(&helm::HelmSetup {
                o2dms: &o2dms,
                helm: args.helm.as_deref(),
                kubeconfig: args.kubeconfig.as_deref(),
                cycles: args.write_cycles as usize,
            })
            .await?,
        )
    };
    Ok(Results {
        started,
        build: if args.debug_build { "debug" } else { "release" }.to_owned(),
        load: (load_before, load_average()),
        get,
        get_multi_thread,
        mock_create,
        throughput,
        server_cores_under_load,
        memory,
        create,
    })
}

/// What parts 1 to 3 measured: the get latency on both client runtimes, the mock
/// create latency, wrk's report, the server's CPU under wrk (cores), its memory.
type MockFigures = (
    [latency::GetLatency; 2],
    latency::CreateLatency,
    wrk::WrkReport,
    f64,
    ServerMemory,
);

/// Parts 1 to 3 on one `o2dms serve` hosting the mock: memory right after start, the
/// get latency, wrk's load, memory again after it.
async fn mock_parts(args: &BenchApiArgs, o2dms: &Path, wrk: &Path) -> anyhow::Result<MockFigures> {
    let dir = tempfile::Builder::new()
        .prefix("o2dms-bench-api-")
        .tempdir()
        .context("creating the run's directory")?;
    let settings = config::mock_settings();
    let config_path = config::write(dir.path(), config::mock_plugin(&settings)?)?;
    eprintln!("starting o2dms serve with a mock plugin ...");
    let server = ServerProcess::start(o2dms, &config_path, MOCK_START_BOUND)?;
    tokio::time::sleep(SETTLE).await;
    let after_start = server.rss()?;

    let endpoint = format!("{}/{DM}", server.url());
    let remote = RemoteAdapter::builder(endpoint.clone())
        .connect()
        .await
        .map_err(|e| anyhow::anyhow!("connecting to o2dms serve: {e}"))?;
    latency::create_one(&remote, &settings).await?;
    let samples = args.samples as usize;
    let (get, create) = latency::measure_on_current_thread(&settings, endpoint, samples).await?;
    let get_multi_thread =
        latency::measure(&settings, &remote, samples, ClientRuntime::MultiThread).await?;
    drop(remote);

    let url = format!(
        "{}{}",
        server.url(),
        o2dms_api::paths::deployment(DM, &latency::deployment_id())
    );
    eprintln!("throughput: wrk for {} s ...", args.duration);
    let cpu_before = server.cpu_seconds()?;
    let wall = Instant::now();
    let report = wrk::run(wrk, &url, args.duration).await?;
    let cores = (server.cpu_seconds()? - cpu_before) / wall.elapsed().as_secs_f64();
    if report.non_2xx > 0 || report.socket_errors > 0 {
        bail!(
            "wrk met {} non-2xx responses and {} socket errors; the server's stderr:\n{}",
            report.non_2xx,
            report.socket_errors,
            server.log_tail()
        );
    }
    tokio::time::sleep(SETTLE).await;
    let after_load = server.rss()?;
    server.stop()?;
    Ok((
        [get, get_multi_thread],
        create,
        report,
        cores,
        ServerMemory {
            after_start,
            after_load,
        },
    ))
}
