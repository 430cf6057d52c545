//! Part 4, what the server adds to a Helm create: the Helm adapter in process against
//! `o2dms serve` hosting a `type: helm` plugin with the same settings, on one cluster,
//! with one helm binary and the conformance suite's `web` chart (2 replicas, `--wait`).
//! Each cycle creates and deletes one deployment per side, each step on both sides back
//! to back, alternating which side goes first. Every create makes its own namespace and
//! every delete removes it (`createNamespace`, `deleteCreatedNamespaces`), on both sides.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::DeleteParams;
use kube::{Api, Client};
use o2dms_core::{CreateDeployment, DeploymentId, DmsAdapter, PackageUpload, Values};
use o2dms_helm::HelmAdapter;
use o2dms_remote::RemoteAdapter;
use serde::Serialize;

use super::config::{self, HelmDirs, DM};
use super::measure::{paired_median_ratio, timed, Stats};
use super::procfs::Rss;
use super::server::ServerProcess;

/// How long the Helm server may take to connect and listen.
const START_BOUND: Duration = Duration::from_secs(120);

/// Where part 4 runs.
pub struct HelmSetup<'a> {
    /// The `o2dms` binary.
    pub o2dms: &'a Path,
    /// `--helm`: `3`, `4` or a path.
    pub helm: Option<&'a str>,
    /// `--kubeconfig`, else a local cluster.
    pub kubeconfig: Option<&'a Path>,
    /// Create+delete cycles per side.
    pub cycles: usize,
}

/// What part 4 measured.
#[derive(Debug, Clone, Serialize)]
pub struct CreateOverhead {
    /// `helm version` of the binary both sides run.
    pub helm: String,
    /// The cluster's kind and Kubernetes version.
    pub cluster: String,
    /// Cycles per side.
    pub cycles: usize,
    /// Create through the Helm adapter in process.
    pub in_process_create: Stats,
    /// Create through `RemoteAdapter` and `o2dms serve`.
    pub server_create: Stats,
    /// Delete in process.
    pub in_process_delete: Stats,
    /// Delete through the server.
    pub server_delete: Stats,
    /// Every create in process, in milliseconds, cycle by cycle.
    pub in_process_creates_ms: Vec<f64>,
    /// Every create through the server, in milliseconds, cycle by cycle.
    pub server_creates_ms: Vec<f64>,
    /// Median over the cycles of server create / in-process create (the pair ran back
    /// to back: far less noisy than the ratio of medians).
    pub paired_create_ratio: Option<f64>,
    /// The Helm server's memory once connected and listening.
    pub server_rss_connected: Rss,
    /// The Helm server's memory after the cycles.
    pub server_rss_after: Rss,
}

impl CreateOverhead {
    /// What the server adds to a create, as a fraction (0.02 = 2 %): the paired ratio,
    /// else the ratio of medians.
    pub fn overhead(&self) -> f64 {
        self.paired_create_ratio
            .unwrap_or(self.server_create.median_ms / self.in_process_create.median_ms)
            - 1.0
    }
}

/// Starts the cluster (or uses `--kubeconfig`), measures, and stops it again; the
/// namespaces of the run are deleted whatever happens.
pub async fn measure(setup: &HelmSetup<'_>) -> anyhow::Result<CreateOverhead> {
    use o2dms_cluster::ProviderSpec;
    let helm = crate::conformance::helm_binary(setup.helm).await?;
    let spec = match setup.kubeconfig {
        Some(path) => ProviderSpec::Kubeconfig {
            path: Some(path.to_owned()),
            context: None,
        },
        None => ProviderSpec::Local,
    };
    eprintln!("helm: starting the cluster ...");
    let cluster = spec.start().await.context("starting the cluster")?;
    let namespaces = Namespaces::new(setup.cycles);
    let outcome = async {
        let mut figures = on_cluster(setup, &helm, cluster.kubeconfig_path(), &namespaces).await?;
        figures.cluster = format!(
            "{} cluster, Kubernetes {}",
            cluster.kind(),
            cluster.server_version().git_version
        );
        Ok::<_, anyhow::Error>(figures)
    }
    .await;
    namespaces.delete(&cluster.client()).await;
    if let Err(e) = cluster.stop().await {
        eprintln!("warning: stopping the cluster: {e}");
    }
    outcome
}

/// The namespaces of a run: one per create, per side, unique to the run.
struct Namespaces {
    in_process: Vec<String>,
    server: Vec<String>,
}

impl Namespaces {
    fn new(cycles: usize) -> Namespaces {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let tag = format!("{:x}", (std::process::id() << 8) ^ nanos);
        let names = |side: &str| {
            (0..cycles)
                .map(|i| format!("o2dms-bench-api-{tag}-{side}{i}"))
                .collect()
        };
        Namespaces {
            in_process: names("p"),
            server: names("s"),
        }
    }

    /// Deletes whatever is left of them; failures are warnings (normally every delete
    /// removed its namespace already).
    async fn delete(&self, client: &Client) {
        let api: Api<Namespace> = Api::all(client.clone());
        for ns in self.in_process.iter().chain(&self.server) {
            match api.delete(ns, &DeleteParams::background()).await {
                Ok(_) => {}
                Err(kube::Error::Api(e)) if e.code == 404 => {}
                Err(e) => eprintln!("warning: deleting namespace {ns}: {e}"),
            }
        }
    }
}

fn dms_err(what: &'static str) -> impl Fn(o2dms_core::Error) -> anyhow::Error {
    move |e| anyhow::anyhow!("{what}: {e}")
}

async fn on_cluster(
    setup: &HelmSetup<'_>,
    helm: &Path,
    kubeconfig: &Path,
    ns: &Namespaces,
) -> anyhow::Result<CreateOverhead> {
    let scratch = tempfile::Builder::new()
        .prefix("o2dms-bench-api-")
        .tempdir()
        .context("creating the run's directory")?;
    let dir = |name: &str| -> anyhow::Result<PathBuf> {
        let d = scratch.path().join(name);
        std::fs::create_dir(&d).with_context(|| format!("creating {}", d.display()))?;
        Ok(d)
    };
    let (data_p, work_p, data_s, work_s) = (
        dir("data-p")?,
        dir("work-p")?,
        dir("data-s")?,
        dir("work-s")?,
    );

    let in_process = config::helm_config(config::helm_plugin(
        kubeconfig,
        helm,
        &HelmDirs {
            data: &data_p,
            work: &work_p,
        },
    ))?;
    let adapter = HelmAdapter::connect(in_process)
        .await
        .map_err(dms_err("connecting the in-process helm adapter"))?;
    let helm_version = adapter.helm_version().raw.clone();

    let config_path = config::write(
        scratch.path(),
        config::helm_plugin(
            kubeconfig,
            helm,
            &HelmDirs {
                data: &data_s,
                work: &work_s,
            },
        ),
    )?;
    eprintln!("helm: starting o2dms serve with a helm plugin ...");
    let server = ServerProcess::start(setup.o2dms, &config_path, START_BOUND)?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let server_rss_connected = server.rss()?;
    let remote = RemoteAdapter::builder(format!("{}/{DM}", server.url()))
        .connect()
        .await
        .map_err(dms_err("connecting to o2dms serve"))?;

    let chart = o2dms_conformance::Fixture::Web.embedded_chart();
    let package = adapter
        .upload_package(PackageUpload::new(chart.archive.clone()))
        .await
        .map_err(dms_err("uploading the web chart in process"))?
        .id;
    let served = remote
        .upload_package(PackageUpload::new(chart.archive))
        .await
        .map_err(dms_err("uploading the web chart to the server"))?
        .id;
    anyhow::ensure!(
        package == served,
        "the two sides named the chart {package} and {served}"
    );
    let values: Values = serde_json::from_value(serde_json::json!({"replicaCount": 2}))
        .expect("a JSON object is values");

    let sides: [&dyn DmsAdapter; 2] = [&adapter, &remote];
    let mut create: [Vec<Duration>; 2] = Default::default();
    let mut delete: [Vec<Duration>; 2] = Default::default();
    for i in 0..setup.cycles {
        eprintln!("helm: cycle {}/{}", i + 1, setup.cycles);
        let id = |ns: &str| DeploymentId::new(ns, "web").map_err(dms_err("deployment id"));
        let ids = [id(&ns.in_process[i])?, id(&ns.server[i])?];
        // alternate which side goes first, so neither always meets a busier cluster
        let order = if i % 2 == 0 { [0, 1] } else { [1, 0] };
        for side in order {
            let request =
                CreateDeployment::new(ids[side].clone(), package.clone()).values(values.clone());
            let (r, t) = timed(sides[side].create_deployment(request)).await;
            r.map_err(dms_err(if side == 0 {
                "create in process"
            } else {
                "create through the server"
            }))?;
            create[side].push(t);
        }
        for side in order {
            let (r, t) = timed(sides[side].delete_deployment(&ids[side])).await;
            r.map_err(dms_err(if side == 0 {
                "delete in process"
            } else {
                "delete through the server"
            }))?;
            delete[side].push(t);
        }
    }
    let server_rss_after = server.rss()?;
    drop(remote);
    server.stop()?;
    let stats = |v: &[Duration]| Stats::of(v).context("no cycles");
    Ok(CreateOverhead {
        helm: helm_version,
        cluster: String::new(),
        cycles: setup.cycles,
        in_process_create: stats(&create[0])?,
        server_create: stats(&create[1])?,
        in_process_delete: stats(&delete[0])?,
        server_delete: stats(&delete[1])?,
        paired_create_ratio: paired_median_ratio(&create[1], &create[0]),
        in_process_creates_ms: create[0].iter().map(|d| d.as_secs_f64() * 1e3).collect(),
        server_creates_ms: create[1].iter().map(|d| d.as_secs_f64() * 1e3).collect(),
        server_rss_connected,
        server_rss_after,
    })
}
