//! `cargo xtask bench`: the Helm adapter side by side with the `helm` CLI, on one cluster,
//! in one run.
//!
//! 1. **Writes**: create, update, rollback and delete through the adapter and the
//!    equivalent raw `helm install|upgrade|rollback|uninstall --wait` (same chart archive,
//!    same values, same flags), interleaved and alternating which goes first.
//! 2. **Reads at 100 releases × 2 revisions** (made by `helm install` and `helm upgrade`):
//!    get, status and history against `helm status|history -o json`, list against
//!    `helm list -o json`.
//! 3. **List at 1,000 releases × 10 revisions**: release records cloned from a real one
//!    (see [`seed`]), listed by the adapter and by `helm list -o json`.
//!
//! Results print as a Markdown table; `--json FILE` writes them as JSON and
//! `--write-docs` puts the table into `docs/performance.md`. Unmet targets are reported,
//! not failed: timings never decide pass or fail.

mod helm_cli;
mod measure;
pub mod memory;
mod report;
mod seed;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Args;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{DeleteParams, ObjectMeta, PostParams};
use kube::{Api, Client};
use o2dms_core::{
    CreateDeployment, DeploymentFilter, DeploymentId, DmsAdapter, HistoryOptions, PackageId,
    PackageUpload, PageRequest, RollbackRequest, UpdateDeployment, Values,
};
use o2dms_helm::HelmAdapter;

use helm_cli::{flag_path, json_array_len, HelmCli};
use measure::{load_average, paired_median_ratio, sample, timed, Stats};
use report::{Results, Row, Target};

/// `cargo xtask bench`
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Helm version: `3`, `4` (default) or the path of a helm binary.
    #[arg(long)]
    helm: Option<String>,
    /// Use the cluster of this kubeconfig instead of starting a local one. The bench
    /// creates its own namespaces (`o2dms-bench-*`) and deletes them afterwards.
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
    /// Releases of the read set.
    #[arg(long, default_value_t = 100)]
    releases: usize,
    /// Revisions per release of the read set.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=50))]
    revisions: u32,
    /// Releases of the large list set.
    #[arg(long, default_value_t = 1000)]
    large_releases: usize,
    /// Revisions per release of the large list set.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=50))]
    large_revisions: u32,
    /// Timed samples per adapter read.
    #[arg(long, default_value_t = 50)]
    samples: usize,
    /// Timed samples per helm CLI read.
    #[arg(long, default_value_t = 10)]
    cli_samples: usize,
    /// Create/update/rollback/delete cycles per side.
    #[arg(long, default_value_t = 5)]
    write_cycles: usize,
    /// Skip the write comparison.
    #[arg(long)]
    skip_writes: bool,
    /// Skip the large list set (and the memory run, which lists it).
    #[arg(long)]
    skip_large: bool,
    /// Releases whose history the memory run reads.
    #[arg(long, default_value_t = 100)]
    memory_releases: usize,
    /// Revisions of each (large records: dashboards in the chart).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=50))]
    memory_revisions: u32,
    /// Size of the dashboards in each of those records, in KiB.
    #[arg(long, default_value_t = 300)]
    memory_record_kib: usize,
    /// Rounds of reads in the memory run.
    #[arg(long, default_value_t = 5)]
    memory_rounds: usize,
    /// Skip the memory run.
    #[arg(long)]
    skip_memory: bool,
    /// Also write the results as JSON to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Put the results table into docs/performance.md.
    #[arg(long)]
    write_docs: bool,
    /// Measure this (debug) build as it is instead of re-running in a release build;
    /// the figures then say little (for smoke runs).
    #[arg(long)]
    debug_build: bool,
}

/// A debug build of the adapter decodes records several times slower than a release
/// build, so a debug xtask re-runs itself as a release build (`cargo run --release`).
fn rerun_as_release() -> anyhow::Result<()> {
    eprintln!(
        "bench: running a release build of xtask (cargo run --release; --debug-build skips this)"
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
            "bench",
        ])
        .args(std::env::args_os().skip(2))
        .status()
        .context("running cargo")?;
    if !status.success() {
        bail!("the release build of the bench failed ({status})");
    }
    Ok(())
}

/// Runs `cargo xtask bench`.
pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    if cfg!(debug_assertions) && !args.debug_build {
        return rerun_as_release();
    }
    if args.releases == 0 || args.releases > 1000 || args.large_releases > 10_000 {
        bail!("--releases must be 1..=1000 and --large-releases at most 10000");
    }
    if args.samples == 0 || args.cli_samples == 0 {
        bail!("--samples and --cli-samples must be at least 1");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let results = runtime.block_on(run_on_cluster(&args))?;
    let md = results.markdown();
    println!("{md}");
    if let Some(p) = &args.json {
        let json = serde_json::to_vec_pretty(&results).context("encoding the results")?;
        std::fs::write(p, json).with_context(|| format!("writing {}", p.display()))?;
        eprintln!("wrote {}", p.display());
    }
    if args.write_docs {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/performance.md");
        let major = if results.helm.starts_with("v3") { 3 } else { 4 };
        report::write_docs(&path, major, &results)?;
        eprintln!("wrote {}", path.display());
    }
    if !results.all_met() {
        eprintln!("note: some targets were not met (see the `met` column)");
    }
    Ok(())
}

async fn run_on_cluster(args: &BenchArgs) -> anyhow::Result<Results> {
    use o2dms_cluster::ProviderSpec;
    let bin = crate::conformance::helm_binary(args.helm.as_deref()).await?;
    let spec = match &args.kubeconfig {
        Some(path) => ProviderSpec::Kubeconfig {
            path: Some(path.clone()),
            context: None,
        },
        None => ProviderSpec::Local,
    };
    eprintln!("starting the cluster ...");
    let cluster = spec.start().await.context("starting the cluster")?;
    let load_before = load_average();
    let namespaces = Namespaces::new();
    let client = cluster.client();
    let outcome = async {
        // The bench's packages live as long as this run, not in the user's data directory.
        let data = tempfile::Builder::new()
            .prefix("o2dms-bench-data-")
            .tempdir()
            .context("creating the adapter's data directory")?;
        let config = o2dms_helm::HelmConfig::builder()
            .kubeconfig(cluster.kubeconfig_path())
            .helm_binary(&bin)
            .data_dir(data.path())
            .build()
            .map_err(|e| anyhow::anyhow!("helm adapter configuration: {e}"))?;
        let adapter = HelmAdapter::connect(config)
            .await
            .map_err(|e| anyhow::anyhow!("connecting the helm adapter: {e}"))?;
        let version = adapter.helm_version().clone();
        let cli = HelmCli::new(bin.clone(), version.major, cluster.kubeconfig_path())?;
        let bench = Bench::prepare(&client, adapter, cli, &namespaces).await?;
        let mut rows = Vec::new();
        if !args.skip_writes {
            rows.extend(bench.writes(args.write_cycles).await?);
        }
        rows.extend(bench.reads(args).await?);
        let mut memory = None;
        if !args.skip_large && args.large_releases > 0 {
            rows.extend(bench.large_list(args).await?);
            if !args.skip_memory && args.memory_releases > 0 {
                let (row, figures) = bench.memory(args, cluster.kubeconfig_path(), &bin).await?;
                rows.push(row);
                memory = Some(figures);
            }
        }
        Ok::<_, anyhow::Error>(Results {
            helm: version.raw.clone(),
            cluster: format!(
                "{} cluster, Kubernetes {}",
                cluster.kind(),
                cluster.server_version().git_version
            ),
            load: (load_before, load_average()),
            rows,
            memory,
        })
    }
    .await;
    namespaces.delete(&client).await;
    if let Err(e) = cluster.stop().await {
        eprintln!("warning: stopping the cluster: {e}");
    }
    outcome
}

/// The namespaces this run creates (and deletes again), unique per run.
struct Namespaces {
    writes: String,
    reads: String,
    large: String,
    memory: String,
}

impl Namespaces {
    fn new() -> Namespaces {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let tag = format!("{:x}", (std::process::id() << 8) ^ nanos);
        Namespaces {
            writes: format!("o2dms-bench-{tag}-w"),
            reads: format!("o2dms-bench-{tag}-r"),
            large: format!("o2dms-bench-{tag}-l"),
            memory: format!("o2dms-bench-{tag}-m"),
        }
    }

    fn all(&self) -> [&str; 4] {
        [&self.writes, &self.reads, &self.large, &self.memory]
    }

    async fn create(&self, client: &Client) -> anyhow::Result<()> {
        let api: Api<Namespace> = Api::all(client.clone());
        for ns in self.all() {
            let obj = Namespace {
                metadata: ObjectMeta {
                    name: Some(ns.to_owned()),
                    labels: Some(BTreeMap::from([(
                        "app.kubernetes.io/created-by".to_owned(),
                        "o2dms-xtask-bench".to_owned(),
                    )])),
                    ..ObjectMeta::default()
                },
                ..Namespace::default()
            };
            api.create(&PostParams::default(), &obj)
                .await
                .with_context(|| format!("creating namespace {ns}"))?;
        }
        Ok(())
    }

    /// Deletes the run's namespaces; failures are warnings (a local cluster goes anyway).
    async fn delete(&self, client: &Client) {
        let api: Api<Namespace> = Api::all(client.clone());
        for ns in self.all() {
            match api.delete(ns, &DeleteParams::background()).await {
                Ok(_) => {}
                Err(kube::Error::Api(e)) if e.code == 404 => {}
                Err(e) => eprintln!("warning: deleting namespace {ns}: {e}"),
            }
        }
    }
}

/// Everything one run works with.
struct Bench<'a> {
    client: Client,
    adapter: Arc<HelmAdapter>,
    cli: HelmCli,
    ns: &'a Namespaces,
    package: PackageId,
    chart: PathBuf,
    values: Values,
    values_file: PathBuf,
    update: Values,
    updated_file: PathBuf,
    history_max: u32,
}

/// Writes `text` to a new file with mode 0600.
fn private_file(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

fn values(json: serde_json::Value) -> Values {
    serde_json::from_value(json).expect("bench values are a JSON object")
}

impl<'a> Bench<'a> {
    async fn prepare(
        client: &Client,
        adapter: HelmAdapter,
        cli: HelmCli,
        ns: &'a Namespaces,
    ) -> anyhow::Result<Bench<'a>> {
        ns.create(client).await?;
        // The conformance suite's `web` chart, as embedded in o2dms-conformance.
        let chart = o2dms_conformance::Fixture::Web.embedded_chart();
        let chart_path = cli.scratch().join("web.tgz");
        std::fs::write(&chart_path, &chart.archive)
            .with_context(|| format!("writing {}", chart_path.display()))?;
        let package = adapter
            .upload_package(PackageUpload::new(chart.archive))
            .await
            .map_err(|e| anyhow::anyhow!("uploading the web chart to the adapter: {e}"))?
            .id;
        // the update changes the pod template, so it rolls out new pods
        let values_file = cli.scratch().join("values.yaml");
        private_file(&values_file, "replicaCount: 2\n")?;
        let updated_file = cli.scratch().join("updated.yaml");
        private_file(&updated_file, "replicaCount: 2\nimage:\n  tag: \"3.10\"\n")?;
        let history_max = adapter.config().max_history;
        Ok(Bench {
            client: client.clone(),
            adapter: Arc::new(adapter),
            cli,
            ns,
            package,
            chart: chart_path,
            values: values(serde_json::json!({"replicaCount": 2})),
            values_file,
            update: values(serde_json::json!({"image": {"tag": "3.10"}})),
            updated_file,
            history_max,
        })
    }

    fn dms_err(what: &str) -> impl Fn(o2dms_core::Error) -> anyhow::Error + '_ {
        move |e| anyhow::anyhow!("adapter {what}: {e}")
    }

    /// Create, update, rollback and delete, adapter against raw helm, `cycles` times.
    async fn writes(&self, cycles: usize) -> anyhow::Result<Vec<Row>> {
        const STEPS: [&str; 4] = ["create", "update", "rollback", "delete"];
        let mut dms: BTreeMap<&str, Vec<Duration>> = BTreeMap::new();
        let mut raw: BTreeMap<&str, Vec<Duration>> = BTreeMap::new();
        let ns = &self.ns.writes;
        for i in 0..cycles {
            eprintln!("writes: cycle {}/{cycles}", i + 1);
            let name = format!("raw-{i}");
            let id = DeploymentId::new(ns.clone(), format!("dms-{i}"))
                .map_err(Self::dms_err("deployment id"))?;
            for step in STEPS {
                let adapter_op = async {
                    let a = &self.adapter;
                    let r = match step {
                        "create" => a
                            .create_deployment(
                                CreateDeployment::new(id.clone(), self.package.clone())
                                    .values(self.values.clone()),
                            )
                            .await
                            .map(drop),
                        "update" => a
                            .update_deployment(
                                &id,
                                UpdateDeployment::new().values(self.update.clone()),
                            )
                            .await
                            .map(drop),
                        "rollback" => a
                            .rollback_deployment(&id, RollbackRequest::to_revision(1))
                            .await
                            .map(drop),
                        _ => a.delete_deployment(&id).await,
                    };
                    r.map_err(Self::dms_err(step))
                };
                let args = match step {
                    "create" => self.cli.install_args(&name, &self.chart, &self.values_file),
                    "update" => self.cli.upgrade_args(
                        &name,
                        &self.chart,
                        &self.updated_file,
                        self.history_max,
                    ),
                    "rollback" => self.cli.rollback_args(&name, 1, self.history_max),
                    _ => self.cli.uninstall_args(&name),
                };
                let cli_op = self.cli.run(ns, &args);
                // alternate which side goes first, so neither always meets a busier cluster
                let (a, c) = if i % 2 == 0 {
                    let c = timed(cli_op).await;
                    (timed(adapter_op).await, c)
                } else {
                    let a = timed(adapter_op).await;
                    (a, timed(cli_op).await)
                };
                a.0?;
                c.0?;
                dms.entry(step).or_default().push(a.1);
                raw.entry(step).or_default().push(c.1);
            }
        }
        let set = "write cycles (web chart, 2 replicas)".to_owned();
        Ok(STEPS
            .iter()
            .filter_map(|step| {
                let cmd = match *step {
                    "create" => "helm install --wait",
                    "update" => "helm upgrade --wait",
                    "rollback" => "helm rollback --wait",
                    _ => "helm uninstall --wait",
                };
                Some(Row {
                    set: set.clone(),
                    operation: (*step).to_owned(),
                    adapter: Stats::of(dms.get(step)?)?,
                    cli_command: Some(cmd.to_owned()),
                    cli: Stats::of(raw.get(step)?),
                    target: if *step == "delete" {
                        Target::None
                    } else {
                        Target::SlowerAtMost(0.05)
                    },
                    paired_ratio: paired_median_ratio(dms.get(step)?, raw.get(step)?),
                })
            })
            .collect())
    }

    /// Releases `r000..` with `revisions` revisions each, made by the helm CLI.
    async fn make_read_set(&self, releases: usize, revisions: u32) -> anyhow::Result<()> {
        let ns = &self.ns.reads;
        let done = std::sync::atomic::AtomicUsize::new(0);
        futures::stream::iter(0..releases)
            .map(|i| {
                let name = format!("r{i:03}");
                let done = &done;
                async move {
                    let install: Vec<std::ffi::OsString> = vec![
                        "install".into(),
                        name.clone().into(),
                        self.chart.clone().into(),
                        flag_path("--values=", &self.values_file),
                    ];
                    self.cli.run(ns, &install).await?;
                    for _ in 1..revisions {
                        let upgrade: Vec<std::ffi::OsString> = vec![
                            "upgrade".into(),
                            name.clone().into(),
                            self.chart.clone().into(),
                            flag_path("--values=", &self.updated_file),
                            format!("--history-max={}", self.history_max).into(),
                        ];
                        self.cli.run(ns, &upgrade).await?;
                    }
                    let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                    if n.is_multiple_of(10) || n == releases {
                        eprintln!("read set: {n}/{releases} releases made by helm");
                    }
                    Ok::<_, anyhow::Error>(())
                }
            })
            .buffer_unordered(2)
            .try_collect::<()>()
            .await
    }

    /// get, status, history and list at `releases` × `revisions`.
    async fn reads(&self, args: &BenchArgs) -> anyhow::Result<Vec<Row>> {
        let (n, revs) = (args.releases, args.revisions);
        self.make_read_set(n, revs).await?;
        let ns = &self.ns.reads;
        let ids: Vec<DeploymentId> = (0..n)
            .map(|i| DeploymentId::new(ns.clone(), format!("r{i:03}")))
            .collect::<Result<_, _>>()
            .map_err(Self::dms_err("deployment id"))?;
        let names: Vec<String> = (0..n).map(|i| format!("r{i:03}")).collect();
        let set = format!("{n} releases × {revs} revisions");
        let (s, cs) = (args.samples, args.cli_samples);
        let a = &self.adapter;
        let mut rows = Vec::new();

        eprintln!("reads: get, status, history, list ...");
        let get = sample(5, s, |i| a.get_deployment(&ids[i % n]))
            .await
            .map_err(Self::dms_err("get"))?;
        let status = sample(5, s, |i| a.deployment_status(&ids[i % n]))
            .await
            .map_err(Self::dms_err("status"))?;
        let history = sample(5, s, |i| {
            a.deployment_history(&ids[i % n], HistoryOptions::default())
        })
        .await
        .map_err(Self::dms_err("history"))?;
        let filter =
            DeploymentFilter::in_namespace(ns.clone()).page(PageRequest::first(n.min(1000) as u32));
        let listed = a
            .list_deployments(&filter)
            .await
            .map_err(Self::dms_err("list"))?;
        if listed.items.len() != n {
            bail!("the adapter listed {} of {n} releases", listed.items.len());
        }
        let list = sample(3, s, |_| a.list_deployments(&filter))
            .await
            .map_err(Self::dms_err("list"))?;

        let status_args: Vec<_> = names
            .iter()
            .map(|r| strings(&["status", r, "-o", "json"]))
            .collect();
        let cli_status = sample(1, cs, |i| self.cli.run(ns, &status_args[i % n])).await?;
        let history_args: Vec<_> = names
            .iter()
            .map(|r| strings(&["history", r, "-o", "json"]))
            .collect();
        let cli_history = sample(1, cs, |i| self.cli.run(ns, &history_args[i % n])).await?;
        let list_args = strings(&["list", "-o", "json", &format!("--max={n}")]);
        let counted = json_array_len(&self.cli.run(ns, &list_args).await?)?;
        if counted != n {
            bail!("helm listed {counted} of {n} releases");
        }
        let cli_list = sample(1, cs, |_| self.cli.run(ns, &list_args)).await?;

        let stats = |v: &[Duration]| Stats::of(v).expect("at least one sample");
        for (op, adapter, cmd, cli) in [
            ("get", &get, "helm status -o json", &cli_status),
            (
                "status (with live workloads)",
                &status,
                "helm status -o json",
                &cli_status,
            ),
            ("history", &history, "helm history -o json", &cli_history),
            (
                "list (all in one page)",
                &list,
                "helm list -o json",
                &cli_list,
            ),
        ] {
            rows.push(Row {
                set: set.clone(),
                operation: op.to_owned(),
                adapter: stats(adapter),
                cli_command: Some(cmd.to_owned()),
                cli: Some(stats(cli)),
                target: Target::FasterBy(20.0),
                paired_ratio: None,
            });
        }
        Ok(rows)
    }

    /// List at `large_releases` × `large_revisions`, records cloned from the read set.
    async fn large_list(&self, args: &BenchArgs) -> anyhow::Result<Vec<Row>> {
        let (n, revs) = (args.large_releases, args.large_revisions);
        let ns = &self.ns.large;
        let template =
            seed::Template::read(&self.client, &self.ns.reads, "r000", args.revisions).await?;
        let total = n * revs as usize;
        eprintln!(
            "large set: storing {total} release records ({n} releases × {revs} revisions) ..."
        );
        seed::seed(
            &self.client,
            &template,
            &seed::Plan {
                namespace: ns,
                prefix: "l",
                releases: n,
                revisions: revs,
                concurrency: 16,
            },
            |done| {
                if done.is_multiple_of(1000) || done == total {
                    eprintln!("large set: {done}/{total} records");
                }
            },
        )
        .await?;
        let set = format!("{n} releases × {revs} revisions");
        let a = &self.adapter;
        let (s, cs) = (args.samples.div_ceil(2), args.cli_samples.div_ceil(3));
        let mut rows = Vec::new();
        for limit in [100usize, n.min(1000)] {
            let filter =
                DeploymentFilter::in_namespace(ns.clone()).page(PageRequest::first(limit as u32));
            let page = a
                .list_deployments(&filter)
                .await
                .map_err(Self::dms_err("list"))?;
            if page.items.len() != limit.min(n) || page.total != Some(n as u64) {
                bail!(
                    "the adapter listed {} (total {:?}) of {n} releases with limit {limit}",
                    page.items.len(),
                    page.total
                );
            }
            let dms = sample(2, s, |_| a.list_deployments(&filter))
                .await
                .map_err(Self::dms_err("list"))?;
            let list_args = strings(&["list", "-o", "json", &format!("--max={limit}")]);
            let counted = json_array_len(&self.cli.run(ns, &list_args).await?)?;
            if counted != limit.min(n) {
                bail!("helm listed {counted} releases with --max={limit}, not {limit}");
            }
            let cli = sample(0, cs, |_| self.cli.run(ns, &list_args)).await?;
            rows.push(Row {
                set: set.clone(),
                operation: format!("list, first page of {limit}"),
                adapter: Stats::of(&dms).expect("samples"),
                cli_command: Some(format!("helm list -o json --max={limit}")),
                cli: Stats::of(&cli),
                target: Target::UnderMs(100.0),
                paired_ratio: None,
            });
        }
        Ok(rows)
    }
}

impl Bench<'_> {
    /// The memory run: large records seeded, then a fresh adapter process reads their
    /// history and lists the large set, round after round ([`memory`]). Also a row: its
    /// first list (cold: no index yet) against `helm list` of the same set.
    async fn memory(
        &self,
        args: &BenchArgs,
        kubeconfig: &Path,
        helm: &Path,
    ) -> anyhow::Result<(Row, memory::Memory)> {
        let (n, revs) = (args.memory_releases, args.memory_revisions);
        let template = seed::Template::read(&self.client, &self.ns.reads, "r000", args.revisions)
            .await?
            .enlarged(args.memory_record_kib * 1024);
        eprintln!(
            "memory: storing {} large records ({n} releases × {revs} revisions, {} KiB of \
             dashboards each) ...",
            n * revs as usize,
            args.memory_record_kib
        );
        seed::seed(
            &self.client,
            &template,
            &seed::Plan {
                namespace: &self.ns.memory,
                prefix: "m",
                releases: n,
                revisions: revs,
                concurrency: 8,
            },
            |_| {},
        )
        .await?;
        eprintln!(
            "memory: a fresh adapter process reads ({} rounds) ...",
            args.memory_rounds
        );
        let figures = memory::measure(
            kubeconfig,
            helm,
            (&self.ns.memory, n),
            (&self.ns.large, args.large_releases),
            args.memory_rounds,
        )
        .await?;
        let list_args = strings(&["list", "-o", "json", "--max=0"]);
        let cli = sample(0, args.cli_samples.div_ceil(3), |_| {
            self.cli.run(&self.ns.large, &list_args)
        })
        .await?;
        let row = Row {
            set: format!(
                "{} releases × {} revisions",
                args.large_releases, args.large_revisions
            ),
            operation: "first list of all, fresh process (no index yet)".to_owned(),
            adapter: Stats::of(&[Duration::from_secs_f64(figures.first_list_ms / 1000.0)])
                .expect("one sample"),
            cli_command: Some("helm list -o json --max=0".to_owned()),
            cli: Stats::of(&cli),
            target: Target::SlowerAtMost(0.0),
            paired_ratio: None,
        };
        Ok((row, figures))
    }
}

fn strings(args: &[&str]) -> Vec<std::ffi::OsString> {
    args.iter().map(std::ffi::OsString::from).collect()
}
