//! Warm start of a [`LocalCluster`]: binaries already provisioned, from nothing to a
//! Ready node (and the `default` service account that pods need). Each iteration also
//! stops the cluster, outside the measured time.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use o2dms_cluster::{tools, LocalCluster, LocalClusterOptions};

fn warm_start(c: &mut Criterion) {
    let binaries = tools()
        .expect("provision tools (run `cargo xtask cluster provision` first)")
        .control_plane
        .clone();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut group = c.benchmark_group("local_cluster");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(60));
    group.warm_up_time(Duration::from_secs(1));
    group.bench_function("warm_start_to_ready_node", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let options = LocalClusterOptions {
                    binaries: Some(binaries.clone()),
                    ..LocalClusterOptions::default()
                };
                let started = Instant::now();
                let cluster = rt
                    .block_on(LocalCluster::start(options))
                    .expect("start a local cluster");
                total += started.elapsed();
                rt.block_on(cluster.stop());
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, warm_start);
criterion_main!(benches);
