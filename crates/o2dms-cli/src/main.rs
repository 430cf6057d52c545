//! `o2dms`, the O2-DMS command line; everything is in the library, [`o2dms_cli`].

use clap::Parser as _;

fn main() -> std::process::ExitCode {
    o2dms_cli::run(o2dms_cli::Cli::parse())
}
