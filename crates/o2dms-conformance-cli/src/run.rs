//! One run: build the adapter the options name, run the suite with Ctrl-C handling and
//! namespace cleanup, print the summary, write the reports, and say how it ended.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _};
use o2dms_conformance::{catalogue, command_line, ClusterInfo, Report, Settings, Suite};

use crate::args::{AdapterKind, Cli};
use crate::namespaces::KubeNamespaces;
use crate::reports::write_reports;
use crate::settings_file::SettingsFile;

/// How a run ended.
#[derive(Debug)]
pub enum Exit {
    /// Nothing failed and the core profile is conformant (or partial because of
    /// `--only` / `--skip`), or only the catalogue was listed.
    Passed,
    /// At least one scenario failed.
    Failed(Vec<String>),
    /// Nothing failed, but the core profile is a failure (a core capability missing).
    NotConformant(String),
    /// The run was interrupted (Ctrl-C).
    Interrupted,
    /// Bad options or a set-up that did not work.
    Error(anyhow::Error),
}

/// The process exit status of `exit`: 0 passed, 1 failed, 3 error, 4 not conformant,
/// 130 interrupted (2 is a usage error, from the argument parser).
pub fn exit_code(exit: &Exit) -> u8 {
    match exit {
        Exit::Passed => 0,
        Exit::Failed(_) => 1,
        Exit::Error(_) => 3,
        Exit::NotConformant(_) => 4,
        Exit::Interrupted => 130,
    }
}

/// Runs the command line `cli` (printing to stdout/stderr), in a runtime of its own.
pub fn run(cli: Cli) -> Exit {
    if cli.list {
        for s in catalogue() {
            println!("{:<48} {:<8} {}", s.id, s.profile, s.requires.join(","));
        }
        return Exit::Passed;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return Exit::Error(anyhow::Error::new(e).context("starting the async runtime")),
    };
    let exit = match runtime.block_on(run_async(&cli)) {
        Ok(exit) => exit,
        Err(e) => Exit::Error(e),
    };
    match &exit {
        Exit::Passed => {}
        Exit::Failed(ids) => eprintln!(
            "error: {} scenario(s) failed: {}",
            ids.len(),
            ids.join(", ")
        ),
        Exit::NotConformant(why) => eprintln!("error: not conformant for the core profile: {why}"),
        Exit::Interrupted => eprintln!("interrupted: what the run created was removed"),
        Exit::Error(e) => eprintln!("error: {e:#}"),
    }
    exit
}

/// The suite settings: defaults for the adapter, then the settings file, then flags.
fn settings(cli: &Cli) -> anyhow::Result<Settings> {
    let mut s = match (&cli.endpoint, cli.adapter) {
        (None, AdapterKind::Mock) => o2dms_conformance::mock::mock_settings(),
        _ => Settings::default(),
    };
    if let Some(path) = &cli.settings {
        s = SettingsFile::read(path)?.apply(s);
    }
    if !cli.only.is_empty() {
        s.only.clone_from(&cli.only);
    }
    if !cli.skip.is_empty() {
        s.skip.clone_from(&cli.skip);
    }
    if let Some(c) = cli.concurrency {
        s.concurrency = c;
    }
    if let Some(t) = cli.scenario_timeout {
        s.scenario_timeout = Duration::from_secs(t);
    }
    if let Some(t) = cli.operation_timeout {
        s.operation_timeout = Some(Duration::from_secs(t));
    }
    if let Some(p) = &cli.namespace_prefix {
        s.namespace_prefix = Some(p.clone());
    }
    if let Some(f) = &cli.fixtures {
        s.fixtures_dir = Some(f.clone());
    }
    if cli.no_progress {
        s.progress = false;
    }
    s.validate()
        .map_err(|e| anyhow::anyhow!("invalid option: {e}"))?;
    Ok(s)
}

/// The kubeconfig of the local cluster `cargo xtask cluster up` starts.
fn local_cluster_kubeconfig() -> anyhow::Result<PathBuf> {
    let path = dirs::cache_dir()
        .context("no cache directory for the local cluster")?
        .join("o2dms/clusters/o2dms/cluster/kubeconfig");
    if !path.is_file() {
        bail!(
            "no local cluster: {} does not exist; start one with `cargo xtask cluster up`",
            path.display()
        );
    }
    Ok(path)
}

async fn run_async(cli: &Cli) -> anyhow::Result<Exit> {
    let settings = settings(cli)?;
    // Listen for Ctrl-C from the start (a lazily registered handler would leave the
    // default action, ending the process, until the first scenario runs).
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\ninterrupted: stopping scenarios and removing what they created ...");
            let _ = tx.send(());
        }
    });
    let interrupt = async move {
        // A dropped sender (no handler) never interrupts.
        if rx.await.is_err() {
            futures::future::pending::<()>().await;
        }
    };
    let report = match (&cli.endpoint, cli.adapter) {
        (Some(endpoint), _) => {
            let options = crate::remote::EndpointOptions {
                endpoint: endpoint.clone(),
                ca_cert: cli.ca_cert.clone(),
                insecure_skip_tls_verify: cli.insecure_skip_tls_verify,
                token_file: cli.token_file.clone(),
            };
            let remote = crate::remote::connect(&options).await?;
            eprintln!(
                "endpoint: {endpoint} (deployment manager `{}`)",
                remote.deployment_manager()
            );
            crate::remote::run_remote(remote, settings, interrupt, None).await
        }
        (None, AdapterKind::Mock) => {
            if cli.kubeconfig.is_some()
                || cli.local_cluster
                || cli.helm.is_some()
                || cli.config.is_some()
            {
                bail!("--kubeconfig, --local-cluster, --helm and --config apply to --adapter helm only");
            }
            let mut settings = settings;
            settings.cluster = ClusterInfo::default();
            let mock = o2dms_conformance::mock::fixture_mock(settings.fixtures_dir.as_deref())
                .map_err(|e| anyhow::anyhow!("preparing the mock: {e}"))?;
            let adapter = Arc::new(o2dms_layers::Events::new(mock));
            Suite::new(settings)
                .events(adapter.clone())
                .interrupt_on(interrupt)
                .run(&*adapter)
                .await
        }
        (None, AdapterKind::Helm) => run_helm(cli, settings, interrupt).await?,
    };
    print!("{}", report.summary());
    let reproduce = command_line(std::env::args());
    write_reports(&report, &cli.reports, &reproduce)?;
    Ok(judge(&report))
}

/// How the report ends the process.
fn judge(report: &Report) -> Exit {
    if report
        .warnings
        .iter()
        .any(|w| w.starts_with("the run was interrupted"))
    {
        return Exit::Interrupted;
    }
    if !report.passed() {
        return Exit::Failed(
            report
                .failed_ids()
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
        );
    }
    match report.profile(o2dms_conformance::Profile::Core) {
        Some(core) if core.verdict == o2dms_conformance::Verdict::Failure => {
            Exit::NotConformant(core.reason.clone())
        }
        _ => Exit::Passed,
    }
}

async fn run_helm(
    cli: &Cli,
    mut settings: Settings,
    interrupt: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<Report> {
    let mut config = match &cli.config {
        Some(path) => o2dms_helm::HelmConfig::from_config_file(path, cli.dms.as_deref())
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
        None => o2dms_helm::HelmConfig::builder()
            .build()
            .map_err(|e| anyhow::anyhow!("helm adapter configuration: {e}"))?,
    };
    if cli.local_cluster {
        config.kubeconfig = Some(local_cluster_kubeconfig()?);
    } else if let Some(k) = &cli.kubeconfig {
        config.kubeconfig = Some(k.clone());
    }
    if let Some(c) = &cli.context {
        config.context = Some(c.clone());
    }
    if let Some(h) = &cli.helm {
        config.helm_binary = h.clone();
    }
    // Each scenario deploys into namespaces of its own: the adapter makes them and
    // removes them with their last deployment; what is left is removed at the end.
    config.create_namespace = true;
    config.delete_created_namespaces = true;
    // The packages the suite uploads (and deletes) live as long as this run, unless the
    // configuration file names a data or package directory.
    let _data = match (&config.data_dir, &config.package_dir) {
        (None, None) => {
            let d = tempfile::Builder::new()
                .prefix("o2dms-conformance-data-")
                .tempdir()
                .context("creating the adapter's data directory")?;
            config.data_dir = Some(d.path().to_path_buf());
            Some(d)
        }
        _ => None,
    };
    let adapter = o2dms_helm::HelmAdapter::connect(config.clone())
        .await
        .map_err(|e| anyhow::anyhow!("connecting the helm adapter: {e}"))?;
    let client = kube_client(&config).await?;
    let version = client
        .apiserver_version()
        .await
        .context("reading the Kubernetes version")?;
    settings.cluster = ClusterInfo {
        kind: if cli.local_cluster {
            "local"
        } else {
            "kubeconfig"
        }
        .to_owned(),
        kubernetes_version: Some(version.git_version),
    };
    let adapter = Arc::new(o2dms_layers::Events::new(adapter));
    Ok(Suite::new(settings)
        .events(adapter.clone())
        .namespace_cleanup(Arc::new(KubeNamespaces::new(client)))
        .interrupt_on(interrupt)
        .run(&*adapter)
        .await)
}

/// A client for the cluster of `config` (its kubeconfig and context, else the default).
async fn kube_client(config: &o2dms_helm::HelmConfig) -> anyhow::Result<kube::Client> {
    let options = kube::config::KubeConfigOptions {
        context: config.context.clone(),
        ..Default::default()
    };
    let kube_config = match &config.kubeconfig {
        Some(path) => {
            let kc = kube::config::Kubeconfig::read_from(path)
                .with_context(|| format!("reading {}", path.display()))?;
            kube::Config::from_custom_kubeconfig(kc, &options).await
        }
        None => kube::Config::from_kubeconfig(&options).await,
    }
    .context("loading the kubeconfig")?;
    kube::Client::try_from(kube_config).context("building the Kubernetes client")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn flags_override_the_settings_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.yaml");
        std::fs::write(&path, "concurrency: 3\nskip: [\"logs.*\"]\n").unwrap();
        let cli = Cli::try_parse_from([
            "o2dms-conformance",
            "--settings",
            path.to_str().unwrap(),
            "--concurrency",
            "5",
        ])
        .unwrap();
        let s = settings(&cli).unwrap();
        assert_eq!(s.concurrency, 5);
        assert_eq!(s.skip, ["logs.*"]);
    }

    #[test]
    fn bad_settings_name_the_problem() {
        let cli =
            Cli::try_parse_from(["o2dms-conformance", "--namespace-prefix", "Bad_Prefix"]).unwrap();
        let e = settings(&cli).unwrap_err().to_string();
        assert!(e.contains("namespace prefix"), "{e}");
    }
}
