//! `cargo xtask`: the project's commands (conformance, out-of-tree, cluster, bench,
//! bench-api).

mod bench;
mod bench_api;
mod cluster;

mod conformance;
mod least_privilege;
mod out_of_tree;
mod served;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "o2dms project commands")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the conformance suite against an adapter and write its reports.
    Conformance(conformance::ConformanceArgs),
    /// Package the published crates and run the suite from them in a crate outside the
    /// workspace (fixtures embedded, no repository files).
    OutOfTree(out_of_tree::OutOfTreeArgs),
    /// A local Kubernetes cluster: up, status, down, provision.
    Cluster(cluster::ClusterArgs),
    /// The Helm adapter side by side with the helm CLI on one cluster.
    Bench(bench::BenchArgs),
    /// The REST API (`o2dms serve`) against the in-process adapters: get latency,
    /// throughput under wrk, memory, and what it adds to a Helm create.
    BenchApi(bench_api::BenchApiArgs),
    /// (Run by `bench`.) One fresh adapter process reading at scale, for its memory.
    #[command(hide = true)]
    BenchMemory(bench::memory::MemoryArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Conformance(args) => conformance::run(args),
        Command::OutOfTree(args) => out_of_tree::run(args),
        Command::Cluster(args) => cluster::run(args),
        Command::Bench(args) => bench::run(args),
        Command::BenchApi(args) => bench_api::run(args),
        Command::BenchMemory(args) => bench::memory::run_child(args),
    }
}
