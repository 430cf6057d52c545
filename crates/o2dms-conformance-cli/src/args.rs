//! The command line: the options of `cargo xtask conformance`, for any cluster.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

/// Which adapter to test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AdapterKind {
    /// The in-memory mock (no cluster).
    Mock,
    /// The Helm adapter on a cluster.
    Helm,
}

/// A report to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportTarget {
    /// `json=PATH`: the JSON report (docs/report.schema.json).
    Json(PathBuf),
    /// `junit=PATH`: JUnit XML for CI systems.
    Junit(PathBuf),
    /// `yaml=PATH`: the conformance report to publish.
    Yaml(PathBuf),
}

impl std::str::FromStr for ReportTarget {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.split_once('=') {
            Some(("json", p)) if !p.is_empty() => Ok(ReportTarget::Json(p.into())),
            Some(("junit", p)) if !p.is_empty() => Ok(ReportTarget::Junit(p.into())),
            Some(("yaml", p)) if !p.is_empty() => Ok(ReportTarget::Yaml(p.into())),
            _ => Err(format!(
                "expected json=PATH, junit=PATH or yaml=PATH, got `{s}`"
            )),
        }
    }
}

/// `o2dms-conformance`: run the o2dms conformance suite against an adapter.
///
/// Everything the run creates (deployments, packages, and the namespaces made for them)
/// is removed at its end, also after a failure or Ctrl-C.
#[derive(Debug, Clone, Parser)]
#[command(name = "o2dms-conformance", version)]
pub struct Cli {
    /// The adapter under test (ignored with `--endpoint`).
    #[arg(long, value_enum, default_value = "helm")]
    pub adapter: AdapterKind,
    /// Test a DMS server over its REST API instead: `URL[/deployment-manager]`, e.g.
    /// `http://127.0.0.1:8080/edge` (without a name, the server's only one).
    #[arg(long, conflicts_with_all = ["kubeconfig", "context", "local_cluster", "helm", "config"])]
    pub endpoint: Option<String>,
    /// A PEM file of CA certificates to trust for `--endpoint` (besides the system's).
    #[arg(long, requires = "endpoint")]
    pub ca_cert: Option<PathBuf>,
    /// Skip TLS certificate verification for `--endpoint` (tests only).
    #[arg(long, requires = "endpoint")]
    pub insecure_skip_tls_verify: bool,
    /// A file holding the bearer token for `--endpoint` (never given on the command line).
    #[arg(long, requires = "endpoint")]
    pub token_file: Option<PathBuf>,
    /// Kubeconfig of the cluster (Helm). Default: $KUBECONFIG, else ~/.kube/config.
    #[arg(long, conflicts_with = "local_cluster")]
    pub kubeconfig: Option<PathBuf>,
    /// Context in the kubeconfig (Helm). Default: the current context.
    #[arg(long)]
    pub context: Option<String>,
    /// Use the local cluster started by `cargo xtask cluster up` (Helm).
    #[arg(long)]
    pub local_cluster: bool,
    /// The helm binary (Helm). Default: `helm` on the PATH.
    #[arg(long)]
    pub helm: Option<PathBuf>,
    /// The spec's configuration file (`plugins.dms[]`): the Helm adapter's settings come
    /// from its Helm plugin; flags given here override kubeconfig, context and helm.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Which plugin of `--config` (default: the default one).
    #[arg(long, requires = "config")]
    pub dms: Option<String>,
    /// Suite settings from a YAML file (timeouts, concurrency, only/skip, ...; see the
    /// README). Flags override it.
    #[arg(long)]
    pub settings: Option<PathBuf>,
    /// Write a report: `json=PATH`, `junit=PATH` or `yaml=PATH` (repeatable).
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
    /// Timeout passed to every write, in seconds (default: the adapter's).
    #[arg(long)]
    pub operation_timeout: Option<u64>,
    /// Namespace prefix of the run (default `o2c-<random>-`).
    #[arg(long)]
    pub namespace_prefix: Option<String>,
    /// Fixture chart directories (default: the charts built into the suite, or
    /// $O2DMS_FIXTURES).
    #[arg(long)]
    pub fixtures: Option<PathBuf>,
    /// Print the catalogue (id, profile, requirements) and exit.
    #[arg(long)]
    pub list: bool,
    /// No progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_targets_parse() {
        assert_eq!(
            "json=out.json".parse(),
            Ok(ReportTarget::Json("out.json".into()))
        );
        assert_eq!(
            "junit=a/b.xml".parse(),
            Ok(ReportTarget::Junit("a/b.xml".into()))
        );
        assert_eq!(
            "yaml=r.yaml".parse(),
            Ok(ReportTarget::Yaml("r.yaml".into()))
        );
        assert!("xml=x".parse::<ReportTarget>().is_err());
        assert!("json=".parse::<ReportTarget>().is_err());
    }

    #[test]
    fn options_parse_and_conflict() {
        let cli = Cli::try_parse_from([
            "o2dms-conformance",
            "--adapter",
            "mock",
            "--only",
            "lifecycle.*",
            "--report",
            "yaml=r.yaml",
        ])
        .unwrap();
        assert_eq!(cli.adapter, AdapterKind::Mock);
        assert_eq!(cli.only, ["lifecycle.*"]);
        assert!(
            Cli::try_parse_from(["o2dms-conformance", "--kubeconfig", "k", "--local-cluster"])
                .is_err()
        );
        assert!(Cli::try_parse_from(["o2dms-conformance", "--dms", "x"]).is_err());
    }
}
