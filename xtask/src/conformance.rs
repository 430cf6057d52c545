//! `cargo xtask conformance`: run the conformance suite and write its reports.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _};
use clap::{Args, ValueEnum};
use o2dms_conformance::{
    catalogue, catalogue_markdown, default_fixtures_dir, ClusterInfo, Settings, Suite,
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

/// A report to write: `json=PATH` or `junit=PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportTarget {
    /// The JSON report.
    Json(PathBuf),
    /// The JUnit XML report.
    Junit(PathBuf),
}

fn parse_report(s: &str) -> Result<ReportTarget, String> {
    match s.split_once('=') {
        Some(("json", p)) if !p.is_empty() => Ok(ReportTarget::Json(p.into())),
        Some(("junit", p)) if !p.is_empty() => Ok(ReportTarget::Junit(p.into())),
        _ => Err(format!("expected json=PATH or junit=PATH, got `{s}`")),
    }
}

/// Options of `cargo xtask conformance`.
#[derive(Debug, Args)]
pub struct ConformanceArgs {
    /// The adapter under test. Default: helm on the local cluster.
    #[arg(long, value_enum)]
    pub adapter: Option<AdapterKind>,
    /// The cluster for the Helm adapter.
    #[arg(long, value_enum, default_value = "local")]
    pub cluster: ClusterKind,
    /// Kubeconfig for `--cluster kubeconfig`.
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// Helm to use: `3`, `4` or a path to a helm binary.
    #[arg(long)]
    pub helm: Option<String>,
    /// Write a report: `json=PATH` or `junit=PATH` (repeatable).
    #[arg(long = "report", value_parser = parse_report)]
    pub reports: Vec<ReportTarget>,
    /// Run only scenarios matching this glob (repeatable), e.g. `rollback.*`.
    #[arg(long)]
    pub only: Vec<String>,
    /// Skip scenarios matching this glob (repeatable).
    #[arg(long)]
    pub skip: Vec<String>,
    /// Scenarios run at once (default 4; 8 for the mock).
    #[arg(long)]
    pub concurrency: Option<usize>,
    /// Time limit of one scenario in seconds (default 120; slow scenarios 600).
    #[arg(long)]
    pub scenario_timeout: Option<u64>,
    /// Fixture charts directory (default: fixtures/charts, or $O2DMS_FIXTURES).
    #[arg(long)]
    pub fixtures: Option<PathBuf>,
    /// Print the catalogue (id, profile, requirements) and exit.
    #[arg(long)]
    pub list: bool,
    /// Regenerate docs/conformance.md from the scenario data and exit.
    #[arg(long)]
    pub write_docs: bool,
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
    let mut settings = match adapter {
        AdapterKind::Mock => o2dms_conformance::mock::mock_settings(),
        AdapterKind::Helm => Settings::default(),
    };
    settings.only = args.only.clone();
    settings.skip = args.skip.clone();
    if let Some(c) = args.concurrency {
        settings.concurrency = c;
    }
    if let Some(t) = args.scenario_timeout {
        settings.scenario_timeout = Duration::from_secs(t);
    }
    if let Some(f) = &args.fixtures {
        settings.fixtures_dir = f.clone();
    } else {
        settings.fixtures_dir = default_fixtures_dir();
    }
    settings
        .validate()
        .map_err(|e| anyhow::anyhow!("invalid option: {e}"))?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let report = match adapter {
        AdapterKind::Mock => {
            if args.kubeconfig.is_some() || args.helm.is_some() {
                bail!("--kubeconfig and --helm apply to --adapter helm only");
            }
            settings.cluster = ClusterInfo::default();
            let mock = o2dms_conformance::mock::fixture_mock(&settings.fixtures_dir)
                .map_err(|e| anyhow::anyhow!("preparing the mock: {e}"))?;
            let adapter = Arc::new(o2dms_layers::Events::new(mock));
            runtime.block_on(Suite::new(settings).events(adapter.clone()).run(&*adapter))
        }
        AdapterKind::Helm => runtime.block_on(run_helm(&args, settings))?,
    };

    print!("{}", report.summary());
    for target in &args.reports {
        match target {
            ReportTarget::Json(p) => report
                .write_json(p)
                .with_context(|| format!("writing {}", p.display()))?,
            ReportTarget::Junit(p) => report
                .write_junit(p)
                .with_context(|| format!("writing {}", p.display()))?,
        }
    }
    if !report.passed() {
        bail!(
            "{} conformance scenario(s) failed: {}",
            report.totals.all.failed,
            report.failed_ids().join(", ")
        );
    }
    Ok(())
}

/// Which helm binary `--helm` names: `3`, `4` (the default) or a path. Versions are
/// provisioned (and cached) when missing.
async fn helm_binary(helm: Option<&str>) -> anyhow::Result<PathBuf> {
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
        let config = o2dms_helm::HelmConfig::builder()
            .kubeconfig(cluster.kubeconfig_path())
            .helm_binary(helm)
            .build()
            .map_err(|e| anyhow::anyhow!("helm adapter configuration: {e}"))?;
        let adapter = o2dms_helm::HelmAdapter::connect(config)
            .await
            .map_err(|e| anyhow::anyhow!("connecting the helm adapter: {e}"))?;
        let adapter = Arc::new(o2dms_layers::Events::new(adapter));
        Ok(Suite::new(settings)
            .events(adapter.clone())
            .run(&*adapter)
            .await)
    }
    .await;
    if let Err(e) = cluster.stop().await {
        eprintln!("warning: stopping the cluster: {e}");
    }
    run
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_targets_parse() {
        assert_eq!(
            parse_report("json=out.json"),
            Ok(ReportTarget::Json("out.json".into()))
        );
        assert_eq!(
            parse_report("junit=a/b.xml"),
            Ok(ReportTarget::Junit("a/b.xml".into()))
        );
        assert!(parse_report("xml=x").is_err());
        assert!(parse_report("json=").is_err());
    }
}
