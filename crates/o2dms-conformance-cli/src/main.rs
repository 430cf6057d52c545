//! `o2dms-conformance`: runs the o2dms conformance suite against an adapter.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = o2dms_conformance_cli::Cli::parse();
    let exit = o2dms_conformance_cli::run(cli);
    std::process::ExitCode::from(o2dms_conformance_cli::exit_code(&exit))
}
