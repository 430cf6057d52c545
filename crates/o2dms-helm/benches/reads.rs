//! Reads through the adapter (release Secrets decoded via kube) against the helm CLI
//! (`helm status|history|list -o json`) on the same real local cluster.
//!
//! `cargo bench -p o2dms-helm --bench reads` (needs the tools `o2dms-cluster` provisions).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use criterion::Criterion;
use o2dms_cluster::{tools, HelmMajor, LocalCluster, LocalClusterOptions};
use o2dms_core::{DeploymentFilter, DeploymentId, DmsAdapter, HistoryOptions, PageRequest};
use o2dms_helm::{HelmAdapter, HelmConfig};

const RELEASES: usize = 20;
const NS: &str = "bench";

fn helm(bin: &Path, kubeconfig: &Path, home: &Path, args: &[&str]) {
    let out = Command::new(bin)
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_DATA_HOME", home.join("data"))
        .output()
        .expect("run helm");
    assert!(
        out.status.success(),
        "helm {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn main() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let t = tools().expect("provision tools");
    let bin = t.helm(HelmMajor::V4).to_path_buf();
    let cluster = rt
        .block_on(LocalCluster::start(LocalClusterOptions {
            binaries: Some(t.control_plane.clone()),
            ..LocalClusterOptions::default()
        }))
        .expect("local cluster");
    let kc = cluster.kubeconfig_path().to_path_buf();
    let home = tempfile::tempdir().expect("helm home");
    let chart = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conformance/fixtures/charts/web");
    let chart = chart.to_str().expect("utf-8");
    helm(
        &bin,
        &kc,
        home.path(),
        &["install", "r0", chart, "-n", NS, "--create-namespace"],
    );
    for i in 0..RELEASES {
        let name = format!("r{i}");
        if i > 0 {
            helm(&bin, &kc, home.path(), &["install", &name, chart, "-n", NS]);
        }
        helm(
            &bin,
            &kc,
            home.path(),
            &["upgrade", &name, chart, "-n", NS, "--set", "replicaCount=1"],
        );
    }
    let work = tempfile::tempdir().expect("work dir");
    let adapter = rt
        .block_on(HelmAdapter::connect(
            HelmConfig::builder()
                .kubeconfig(&kc)
                .helm_binary(&bin)
                .work_dir(work.path())
                .build()
                .expect("config"),
        ))
        .expect("adapter");
    let id = DeploymentId::new(NS, "r7").expect("id");
    let all = DeploymentFilter::all().page(PageRequest::first(1000));

    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    let cli = |args: &'static [&'static str]| {
        let (bin, kc, home) = (bin.clone(), kc.clone(), home.path().to_path_buf());
        move || helm(&bin, &kc, &home, args)
    };
    {
        let mut g = c.benchmark_group("get");
        g.bench_function("adapter", |b| {
            b.to_async(&rt).iter(|| adapter.get_deployment(&id))
        });
        g.bench_function("helm status -o json", |b| {
            b.iter(cli(&["status", "r7", "-n", NS, "-o", "json"]))
        });
        g.finish();
    }
    {
        let mut g = c.benchmark_group("status");
        g.bench_function("adapter (with live workloads)", |b| {
            b.to_async(&rt).iter(|| adapter.deployment_status(&id))
        });
        g.finish();
    }
    {
        let mut g = c.benchmark_group("history");
        g.bench_function("adapter", |b| {
            b.to_async(&rt)
                .iter(|| adapter.deployment_history(&id, HistoryOptions::default()))
        });
        g.bench_function("helm history -o json", |b| {
            b.iter(cli(&["history", "r7", "-n", NS, "-o", "json"]))
        });
        g.finish();
    }
    {
        let mut g = c.benchmark_group(format!("list {RELEASES} releases x 2 revisions"));
        g.bench_function("adapter", |b| {
            b.to_async(&rt).iter(|| adapter.list_deployments(&all))
        });
        g.bench_function("helm list -A -o json", |b| {
            b.iter(cli(&["list", "-A", "-o", "json"]))
        });
        g.finish();
    }
    c.final_summary();
    drop(adapter);
    rt.block_on(cluster.stop());
}
