//! The server program under test: `o2dms` of crate `o2dms-cli`, built by cargo for the
//! run (release, or debug with `--debug-build`), its path read from cargo's own report.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{bail, Context};

/// How long building `o2dms` may take (a cold release build on 2 busy cores).
const BUILD_BOUND: Duration = Duration::from_secs(60 * 60);

/// Builds `o2dms` (`cargo build [--release] -p o2dms-cli --bin o2dms`) and gives the path
/// of the executable cargo wrote. cargo's progress goes to this program's stderr.
pub async fn build_o2dms(release: bool) -> anyhow::Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = tokio::process::Command::new(cargo);
    cmd.arg("build");
    if release {
        cmd.arg("--release");
    }
    cmd.args([
        "--package",
        "o2dms-cli",
        "--bin",
        "o2dms",
        "--message-format=json-render-diagnostics",
    ])
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit())
    .kill_on_drop(true);
    eprintln!(
        "building o2dms ({}) ...",
        if release { "release" } else { "debug" }
    );
    let out = tokio::time::timeout(BUILD_BOUND, cmd.output())
        .await
        .context("building o2dms took over an hour")?
        .context("running cargo build")?;
    if !out.status.success() {
        bail!("cargo build of o2dms failed ({})", out.status);
    }
    executable(&String::from_utf8_lossy(&out.stdout), "o2dms")
        .context("cargo reported no o2dms executable")
}

/// The `executable` of the `compiler-artifact` message for binary `name` in cargo's JSON
/// messages (one per line).
fn executable(messages: &str, name: &str) -> Option<PathBuf> {
    messages
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == name)
        .filter_map(|m| m["executable"].as_str().map(PathBuf::from))
        .next_back()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_executable_comes_from_cargos_artifact_message() {
        let messages = r#"{"reason":"compiler-artifact","target":{"name":"o2dms_core","kind":["lib"]},"executable":null}
{"reason":"compiler-artifact","target":{"name":"o2dms","kind":["bin"]},"executable":"/w/target/release/o2dms"}
{"reason":"build-finished","success":true}"#;
        assert_eq!(
            executable(messages, "o2dms"),
            Some(PathBuf::from("/w/target/release/o2dms"))
        );
        assert_eq!(executable(messages, "other"), None);
        assert_eq!(executable("not json\n", "o2dms"), None);
    }
}
