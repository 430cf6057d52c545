//! `cargo xtask conformance`: run the conformance suite and write its reports.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _};
use clap::{Args, ValueEnum};
use o2dms_conformance::{
    catalogue, catalogue_markdown, package_chart_dir, ClusterInfo, Fixture, FixtureSource,
    Settings, Suite,
};
use o2dms_conformance_cli::{write_reports, KubeNamespaces, ReportTarget};
use o2dms_core::PackageUpload;
use o2dms_store::{
    HttpRepoOptions, HttpRepoStore, LocalDirStore, MultiStore, OciOptions, OciStore, PackageStore,
};

/// Which adapter to test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AdapterKind {
    /// The in-memory mock (no cluster).
    Mock,
    /// The Helm adapter on a cluster.
    Helm,
}

/// Which cluster the Helm adapter uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClusterKind {
    /// A local control plane started for the run (no Docker).
    Local,
    /// A kind cluster.
    Kind,
    /// An existing cluster through a kubeconfig.
    Kubeconfig,
}

/// Where the Helm adapter's packages live for the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StoreKind {
    /// The adapter's default local directory store (uploads land there).
    Local,
    /// A read-only HTTP chart repository served on 127.0.0.1 for the run, holding the
    /// fixture charts (uploads are Unsupported; the suite finds fixtures by listing).
    Repo,
    /// An OCI registry (Debian's `docker-registry`) on 127.0.0.1 for the run: uploads
    /// push to it; installs fetch the chart layer by digest, validate it and give helm
    /// that file.
    Oci,
}

/// Options of `cargo xtask conformance`.
#[derive(Debug, Args)]
pub struct ConformanceArgs {
    /// The adapter under test. Default: helm on the local cluster.
    #[arg(long, value_enum)]
    pub adapter: Option<AdapterKind>,
    /// Test a DMS server over its REST API instead of an adapter in process:
    /// `URL[/deployment-manager]`, e.g. `http://127.0.0.1:8080/edge`.
    #[arg(long, conflicts_with_all = ["adapter", "kubeconfig", "helm", "store"])]
    pub endpoint: Option<String>,
    /// A PEM file of CA certificates to trust for `--endpoint`.
    #[arg(long, requires = "endpoint")]
    pub ca_cert: Option<PathBuf>,
    /// Skip TLS certificate verification for `--endpoint` (tests only).
    #[arg(long, requires = "endpoint")]
    pub insecure_skip_tls_verify: bool,
    /// A file holding the bearer token for `--endpoint`.
    #[arg(long, requires = "endpoint")]
    pub token_file: Option<PathBuf>,
    /// Run the adapter (mock, or Helm on the cluster) behind `o2dms serve`, built from
    /// this workspace and started for the run, and the suite over its REST API.
    #[arg(long, conflicts_with_all = ["endpoint", "store"])]
    pub via_server: bool,
    /// The cluster for the Helm adapter.
    #[arg(long, value_enum, default_value = "local")]
    pub cluster: ClusterKind,
    /// Kubeconfig for `--cluster kubeconfig`.
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// Helm to use: `3`, `4` or a path to a helm binary.
    #[arg(long)]
    pub helm: Option<String>,
    /// The Helm adapter's package store. Default: local.
    #[arg(long, value_enum)]
    pub store: Option<StoreKind>,
    /// Write a report: `json=PATH`, `junit=PATH` or `yaml=PATH` (the conformance report
    /// to publish) (repeatable).
    #[arg(long = "report")]
    pub reports: Vec<ReportTarget>,
    /// Run only scenarios matching this glob (repeatable), e.g. `rollback.*`.
    #[arg(long)]
    pub only: Vec<String>,
    /// Skip scenarios matching this glob (repeatable).
    #[arg(long)]
    pub skip: Vec<String>,
    /// Scenarios run at once (default 8).
    #[arg(long)]
    pub concurrency: Option<usize>,
    /// Time limit of one scenario in seconds (default 120; slow scenarios 600).
    #[arg(long)]
    pub scenario_timeout: Option<u64>,
    /// Fixture charts directory, one chart directory per fixture (default: $O2DMS_FIXTURES
    /// if set, else the charts embedded in o2dms-conformance).
    #[arg(long)]
    pub fixtures: Option<PathBuf>,
    /// Print the catalogue (id, profile, requirements) and exit.
    #[arg(long)]
    pub list: bool,
    /// Regenerate docs/conformance.md from the scenario data and exit.
    #[arg(long)]
    pub write_docs: bool,
    /// Run the Helm adapter as a ServiceAccount bound only to the namespaced Role of
    /// `deploy/rbac/namespaced.yaml`, in exactly the namespaces the run can use (made
    /// beforehand and removed afterwards), with its namespace allow-list set to them.
    #[arg(long, conflicts_with_all = ["endpoint", "via_server"])]
    pub least_privilege: bool,
}

/// Where docs/conformance.md is.
fn docs_path() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/conformance.md"
    ))
}

/// Runs the command; an error (or any failed scenario) makes the exit status non-zero.
pub fn run(args: ConformanceArgs) -> anyhow::Result<()> {
    if args.write_docs {
        let path = docs_path();
        std::fs::write(&path, catalogue_markdown(&catalogue()))
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {}", path.display());
        return Ok(());
    }
    if args.list {
        for s in catalogue() {
            println!("{:<48} {:<8} {}", s.id, s.profile, s.requires.join(","));
        }
        return Ok(());
    }
    // The default is the real thing: the Helm adapter on the local cluster.
    let adapter = args.adapter.unwrap_or(AdapterKind::Helm);
    let mut settings = match (&args.endpoint, adapter) {
        (None, AdapterKind::Mock) => o2dms_conformance::mock::mock_settings(),
        _ => Settings::default(),
    };
    settings.only = args.only.clone();
    settings.skip = args.skip.clone();
    if let Some(c) = args.concurrency {
        settings.concurrency = c;
    }
    if let Some(t) = args.scenario_timeout {
        settings.scenario_timeout = Duration::from_secs(t);
    }
    settings.fixtures_dir = args.fixtures.clone();
    settings
        .validate()
        .map_err(|e| anyhow::anyhow!("invalid option: {e}"))?;

    eprintln!("fixtures: {}", settings.fixture_source());

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let report = match (&args.endpoint, adapter) {
        (Some(endpoint), _) => {
            let options = o2dms_conformance_cli::EndpointOptions {
                endpoint: endpoint.clone(),
                ca_cert: args.ca_cert.clone(),
                insecure_skip_tls_verify: args.insecure_skip_tls_verify,
                token_file: args.token_file.clone(),
            };
            runtime.block_on(async {
                let remote = o2dms_conformance_cli::connect(&options).await?;
                eprintln!(
                    "endpoint: {endpoint} (deployment manager `{}`)",
                    remote.deployment_manager()
                );
                anyhow::Ok(
                    o2dms_conformance_cli::run_remote(remote, settings, ctrl_c(), None).await,
                )
            })?
        }
        (None, AdapterKind::Mock) => {
            if args.kubeconfig.is_some()
                || args.helm.is_some()
                || args.store.is_some()
                || args.least_privilege
            {
                bail!(
                    "--kubeconfig, --helm, --store and --least-privilege apply to --adapter helm only"
                );
            }
            settings.cluster = ClusterInfo::default();
            if args.via_server {
                let mock =
                    o2dms_conformance::mock::fixture_mock_settings(settings.fixture_source())
                        .map_err(|e| anyhow::anyhow!("preparing the mock: {e}"))?;
                let binary = crate::served::build_binary(false)?;
                let config = crate::served::one_plugin("mock", "mock", serde_json::to_value(mock)?);
                let served = crate::served::Served::start(&binary, &config, "warn")?;
                let endpoint = format!("{}/mock", served.url());
                let report = runtime.block_on(over_the_wire(&endpoint, settings, None))?;
                stopped(served)?;
                report
            } else {
                let mock = o2dms_conformance::mock::fixture_mock(settings.fixture_source())
                    .map_err(|e| anyhow::anyhow!("preparing the mock: {e}"))?;
                let adapter = Arc::new(o2dms_layers::Events::new(mock));
                runtime.block_on(async {
                    Suite::new(settings)
                        .events(adapter.clone())
                        .interrupt_on(ctrl_c())
                        .run(&*adapter)
                        .await
                })
            }
        }
        (None, AdapterKind::Helm) => runtime.block_on(run_helm(&args, settings))?,
    };

    print!("{}", report.summary());
    let reproduce = o2dms_conformance::command_line(
        ["cargo".to_owned(), "xtask".to_owned()]
            .into_iter()
            .chain(std::env::args().skip(1)),
    );
    write_reports(&report, &args.reports, &reproduce)?;
    if report
        .warnings
        .iter()
        .any(|w| w.starts_with("the run was interrupted"))
    {
        bail!("interrupted: what the run created was removed");
    }
    if !report.passed() {
        bail!(
            "{} conformance scenario(s) failed: {}",
            report.totals.all.failed,
            report.failed_ids().join(", ")
        );
    }
    if let Some(core) = report.profile(o2dms_conformance::Profile::Core) {
        if core.verdict == o2dms_conformance::Verdict::Failure {
            bail!("not conformant for the core profile: {}", core.reason);
        }
    }
    Ok(())
}

/// The suite through `endpoint`'s REST API, removing what the run left on the cluster
/// with `cleanup`.
async fn over_the_wire(
    endpoint: &str,
    settings: Settings,
    cleanup: Option<Arc<dyn o2dms_conformance::NamespaceCleanup>>,
) -> anyhow::Result<o2dms_conformance::Report> {
    let options = o2dms_conformance_cli::EndpointOptions {
        endpoint: endpoint.to_owned(),
        ..Default::default()
    };
    let remote = o2dms_conformance_cli::connect(&options).await?;
    eprintln!("endpoint: {endpoint} (the suite over the REST API)");
    Ok(o2dms_conformance_cli::run_remote(remote, settings, ctrl_c(), cleanup).await)
}

/// Stops a server the run started; an unclean exit (operations left running) fails the
/// run.
fn stopped(served: crate::served::Served) -> anyhow::Result<()> {
    let status = served.stop()?;
    if !status.success() {
        bail!("o2dms serve exited {status} (operations left unfinished?)");
    }
    Ok(())
}

/// Completes on Ctrl-C (the handler is installed at once, so an early Ctrl-C is caught
/// too); never when no handler can be installed.
fn ctrl_c() -> impl std::future::Future<Output = ()> + Send + 'static {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\ninterrupted: stopping scenarios and removing what they created ...");
            let _ = tx.send(());
        }
    });
    async move {
        if rx.await.is_err() {
            futures::future::pending::<()>().await;
        }
    }
}

/// Which helm binary `--helm` names: `3`, `4` (the default) or a path. Versions are
/// provisioned (and cached) when missing.
pub(crate) async fn helm_binary(helm: Option<&str>) -> anyhow::Result<PathBuf> {
    use o2dms_cluster::{HelmMajor, ProvisionOptions, Provisioner};
    let major = match helm {
        None | Some("4") => HelmMajor::V4,
        Some("3") => HelmMajor::V3,
        Some(path) => return Ok(PathBuf::from(path)),
    };
    tokio::task::spawn_blocking(move || Provisioner::new(ProvisionOptions::default()).helm(major))
        .await
        .context("provisioning helm")?
        .context("provisioning helm")
}

/// The package store of a run and the servers behind it. Dropping it stops every process
/// it started, by pid (also when the run fails or panics), and removes its files.
struct RunStore {
    /// `None`: the adapter's default store.
    store: Option<Arc<dyn PackageStore>>,
    _server: Option<o2dms_cluster::servers::StaticServer>,
    _registry: Option<o2dms_cluster::servers::Registry>,
    _dirs: Vec<tempfile::TempDir>,
}

/// The fixture charts of `source`, packaged: every chart directory (each subdirectory
/// with a `Chart.yaml`) of a directory, or the embedded charts.
fn fixture_archives(
    source: &FixtureSource,
) -> anyhow::Result<Vec<o2dms_conformance::FixtureChart>> {
    let dir = match source {
        FixtureSource::Embedded => {
            return Ok(Fixture::ALL.map(Fixture::embedded_chart).into());
        }
        FixtureSource::Dir(dir) => dir,
    };
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("Chart.yaml").is_file())
        .collect();
    dirs.sort();
    dirs.iter()
        .map(|d| package_chart_dir(d).with_context(|| format!("packaging {}", d.display())))
        .collect()
}

/// Prepares the store `kind` for a run with the fixture charts of `fixtures`.
async fn run_store(kind: StoreKind, fixtures: &FixtureSource) -> anyhow::Result<RunStore> {
    match kind {
        StoreKind::Local => Ok(RunStore {
            store: None,
            _server: None,
            _registry: None,
            _dirs: Vec::new(),
        }),
        StoreKind::Repo => {
            // The repository: the fixture charts and the index.yaml the local store writes
            // (a Helm-compatible chart repository directory), served read-only.
            let dir = tempfile::Builder::new()
                .prefix("o2dms-conformance-repo-")
                .tempdir()
                .context("creating the repository directory")?;
            let local = LocalDirStore::open(dir.path())
                .map_err(|e| anyhow::anyhow!("preparing the repository directory: {e}"))?;
            for chart in fixture_archives(fixtures)? {
                local
                    .put(PackageUpload::new(chart.archive))
                    .await
                    .map_err(|e| {
                        anyhow::anyhow!(
                            "adding {}@{} to the repository: {e}",
                            chart.name,
                            chart.version
                        )
                    })?;
            }
            let path = dir.path().to_path_buf();
            let server = tokio::task::spawn_blocking(move || {
                o2dms_cluster::servers::StaticServer::start(&path)
            })
            .await
            .context("starting the repository server")?
            .map_err(|e| anyhow::anyhow!("starting the repository server: {e}"))?;
            eprintln!(
                "package store: read-only chart repository {} (python3 http.server, pid {})",
                server.url(),
                server.pid()
            );
            let repo = HttpRepoStore::new(&server.url(), HttpRepoOptions::default())
                .map_err(|e| anyhow::anyhow!("chart repository store: {e}"))?;
            Ok(RunStore {
                store: Some(Arc::new(repo)),
                _server: Some(server),
                _registry: None,
                _dirs: vec![dir],
            })
        }
        StoreKind::Oci => {
            let registry = tokio::task::spawn_blocking(o2dms_cluster::servers::Registry::start)
                .await
                .context("starting the OCI registry")?
                .map_err(|e| anyhow::anyhow!("starting the OCI registry: {e}"))?;
            eprintln!(
                "package store: OCI registry oci://{}/charts (docker-registry, pid {}), then a local directory",
                registry.addr(),
                registry.pid()
            );
            let oci = OciStore::new(
                &format!("http://{}", registry.addr()),
                "charts",
                OciOptions::default(),
            )
            .map_err(|e| anyhow::anyhow!("OCI store: {e}"))?;
            let dir = tempfile::Builder::new()
                .prefix("o2dms-conformance-local-")
                .tempdir()
                .context("creating the local store directory")?;
            let local =
                LocalDirStore::open(dir.path()).map_err(|e| anyhow::anyhow!("local store: {e}"))?;
            // Uploads go to the first store: the registry.
            let multi = MultiStore::new(vec![Arc::new(oci), Arc::new(local)])
                .map_err(|e| anyhow::anyhow!("combining the stores: {e}"))?;
            Ok(RunStore {
                store: Some(Arc::new(multi)),
                _server: None,
                _registry: Some(registry),
                _dirs: vec![dir],
            })
        }
    }
}

/// Starts (or attaches to) the cluster, runs the suite against the Helm adapter wrapped
/// in operation events, and stops the cluster again, also when the run fails.
async fn run_helm(
    args: &ConformanceArgs,
    mut settings: Settings,
) -> anyhow::Result<o2dms_conformance::Report> {
    use o2dms_cluster::ProviderSpec;
    let spec = match args.cluster {
        ClusterKind::Local => ProviderSpec::Local,
        ClusterKind::Kind => ProviderSpec::Kind,
        ClusterKind::Kubeconfig => ProviderSpec::Kubeconfig {
            path: args.kubeconfig.clone(),
            context: None,
        },
    };
    if args.kubeconfig.is_some() && args.cluster != ClusterKind::Kubeconfig {
        bail!("--kubeconfig applies to --cluster kubeconfig only");
    }
    let helm = helm_binary(args.helm.as_deref()).await?;
    // Servers behind the store are stopped when `store` drops, at the end of this
    // function, whatever happens.
    let store = run_store(
        args.store.unwrap_or(StoreKind::Local),
        &settings.fixture_source(),
    )
    .await?;
    eprintln!("starting the {:?} cluster ...", args.cluster);
    let cluster = spec
        .start()
        .await
        .with_context(|| format!("starting the {:?} cluster", args.cluster))?;
    settings.cluster = ClusterInfo {
        kind: cluster.kind().to_string(),
        kubernetes_version: Some(cluster.server_version().git_version.clone()),
    };
    let run = async {
        if args.least_privilege {
            return crate::least_privilege::run(&cluster, &helm, store.store.clone(), settings)
                .await;
        }
        // Packages the suite uploads live as long as this run (the suite deletes them
        // anyway), never in the user's data directory.
        let data = tempfile::Builder::new()
            .prefix("o2dms-conformance-data-")
            .tempdir()
            .context("creating the adapter's data directory")?;
        let config = o2dms_helm::HelmConfig::builder()
            .kubeconfig(cluster.kubeconfig_path())
            .helm_binary(helm)
            .data_dir(data.path())
            // Each scenario deploys into namespaces of its own: the adapter makes them, and
            // removes them with their last deployment, so a run leaves none behind.
            .create_namespace(true)
            .delete_created_namespaces(true)
            .build()
            .map_err(|e| anyhow::anyhow!("helm adapter configuration: {e}"))?;
        if args.via_server {
            let helm = serde_json::json!({
                "kubeconfig": cluster.kubeconfig_path(),
                "helmBinary": config.helm_binary,
                "dataDir": data.path(),
                "createNamespace": true,
                "deleteCreatedNamespaces": true,
            });
            let binary = crate::served::build_binary(false)?;
            let served = crate::served::Served::start(
                &binary,
                &crate::served::one_plugin("helm", "helm", helm),
                "warn",
            )?;
            let endpoint = format!("{}/helm", served.url());
            let cleanup = Arc::new(KubeNamespaces::new(cluster.client()));
            let report = over_the_wire(&endpoint, settings, Some(cleanup)).await?;
            stopped(served)?;
            return Ok(report);
        }
        let adapter = match &store.store {
            None => o2dms_helm::HelmAdapter::connect(config).await,
            Some(s) => o2dms_helm::HelmAdapter::connect_with_store(config, s.clone()).await,
        }
        .map_err(|e| anyhow::anyhow!("connecting the helm adapter: {e}"))?;
        let adapter = Arc::new(o2dms_layers::Events::new(adapter));
        Ok(Suite::new(settings)
            .events(adapter.clone())
            .namespace_cleanup(Arc::new(KubeNamespaces::new(cluster.client())))
            .interrupt_on(ctrl_c())
            .run(&*adapter)
            .await)
    }
    .await;
    if let Err(e) = cluster.stop().await {
        eprintln!("warning: stopping the cluster: {e}");
    }
    drop(store);
    run
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_flag_parses() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            args: ConformanceArgs,
        }
        let cli = Cli::try_parse_from(["x", "--adapter", "helm", "--store", "oci"]).unwrap();
        assert_eq!(cli.args.store, Some(StoreKind::Oci));
        let cli = Cli::try_parse_from(["x", "--store", "repo"]).unwrap();
        assert_eq!(cli.args.store, Some(StoreKind::Repo));
        assert_eq!(Cli::try_parse_from(["x"]).unwrap().args.store, None);
        assert!(Cli::try_parse_from(["x", "--store", "s3"]).is_err());
    }
}
