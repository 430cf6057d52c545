//! `cargo xtask`: the project's commands (conformance, cluster, bench).

mod cluster;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "o2dms project commands")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// A local Kubernetes cluster: up, status, down, provision.
    Cluster(cluster::ClusterArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Cluster(args) => cluster::run(args),
    }
}
