//! Starts local clusters one after another and prints how long each start phase took.
//!
//! ```text
//! cargo run --release -p o2dms-cluster --example start_phases -- [RUNS] [--keep]
//! ```
//!
//! With `--keep`, the directories (component logs) of every run are kept and printed.

use std::time::Instant;

use o2dms_cluster::{tools, LocalCluster, LocalClusterOptions};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runs: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(5);
    let keep = args.iter().any(|a| a == "--keep");
    let binaries = tools()
        .expect("provision tools (run `cargo xtask cluster provision` first)")
        .control_plane
        .clone();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut totals = Vec::new();
    for run in 1..=runs {
        let options = LocalClusterOptions {
            binaries: Some(binaries.clone()),
            keep_dir: keep,
            ..LocalClusterOptions::default()
        };
        let started = Instant::now();
        let cluster = rt
            .block_on(LocalCluster::start(options))
            .expect("start a local cluster");
        let total = started.elapsed();
        totals.push(total.as_secs_f64());
        println!(
            "run {run}: {:.3} s  {}",
            total.as_secs_f64(),
            cluster.dir().display()
        );
        let mut prev = 0.0;
        for p in cluster.start_phases() {
            let at = p.at.as_secs_f64();
            println!("  {at:7.3} s  (+{:.3})  {}", at - prev, p.name);
            prev = at;
        }
        rt.block_on(cluster.stop());
    }
    totals.sort_by(f64::total_cmp);
    println!(
        "median {:.3} s, min {:.3} s, max {:.3} s over {runs} runs",
        totals[totals.len() / 2],
        totals[0],
        totals[totals.len() - 1]
    );
}
