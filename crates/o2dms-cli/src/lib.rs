//! # o2dms-cli
//!
//! `o2dms`, the O2-DMS command line. One subcommand today:
//!
//! - `o2dms serve --config dms.yaml`: hosts every enabled plugin of the configuration
//!   file's `plugins.dms[]` (Helm, mock) as the `/o2dms/v1` REST server
//!   ([`o2dms_server`]), over HTTP or TLS, with access control from the file's
//!   `server.auth` (bearer tokens, client certificates; loopback only without it),
//!   structured logs and graceful shutdown on SIGINT/SIGTERM ([`serve`]).
//!
//! The program is [`Cli`] run by [`run`]; `src/main.rs` only parses the command line.
//! Exit statuses are in [`exit`].

pub mod exit;
pub mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The command line of `o2dms`.
#[derive(Debug, Parser)]
#[command(
    name = "o2dms",
    version,
    about = "The O2-DMS command line: serve deployment managers over the O2-DMS REST API"
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands of `o2dms`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve every enabled plugin of a configuration file over the O2-DMS REST API
    /// (/o2dms/v1), each as the deployment manager of its name.
    #[command(after_long_help = exit::SERVE_EXIT_STATUS)]
    Serve(serve::ServeArgs),
}

/// Runs `cli` to the end and gives the process exit status ([`exit`]); errors are
/// printed to stderr.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Serve(args) => serve::run(args),
    }
}
