//! Debian packages through `apt-get`: installing what is missing (as root), and the
//! `docker-registry` that the OCI test registry runs.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::step::Step;
use super::Provisioner;
use crate::error::{ClusterError, Result};

/// Where Debian installs `docker-registry`, for a `PATH` without `/usr/bin`.
const DEBIAN_DOCKER_REGISTRY: &str = "/usr/bin/docker-registry";

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Fails `step` unless running as root; the error says that `what` needs root and what
/// to do `instead`.
pub(super) fn need_root(step: &Step, what: &str, instead: &str) -> Result<()> {
    if is_root() {
        Ok(())
    } else {
        Err(step.fail_with(&format!("{what} needs root (apt-get); {instead}"), None))
    }
}

/// `apt-get` without questions.
pub(super) fn apt_get() -> Command {
    let mut c = Command::new("apt-get");
    c.env("DEBIAN_FRONTEND", "noninteractive");
    c
}

/// Whether `dpkg` reports `package` installed.
fn installed(package: &str) -> bool {
    let out = Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output();
    matches!(out, Ok(o) if String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
}

/// Installs the Debian `packages` that are missing, as the step `step_name` (after an
/// `apt-get update` if the first attempt fails). Without root it fails, saying what to do
/// `instead`.
pub(super) fn apt_install(
    p: &Provisioner,
    step_name: &str,
    packages: &[&str],
    instead: &str,
) -> Result<()> {
    let missing: Vec<&str> = packages.iter().copied().filter(|p| !installed(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let step = p.step(step_name)?;
    need_root(&step, step_name, instead)?;
    let mut install = apt_get();
    install.args(["install", "-y", "-q", "--no-install-recommends"]);
    install.args(&missing);
    if step.run(&mut install).is_err() {
        // Package lists may be missing on a fresh machine: update once and retry.
        step.run(apt_get().args(["update", "-q"]))?;
        step.run(&mut install)?;
    }
    step.done(&missing.join(" "));
    Ok(())
}

/// Debian's `docker-registry` (CNCF distribution), installed from its package if missing.
pub(super) fn install_docker_registry(p: &Provisioner) -> Result<PathBuf> {
    apt_install(
        p,
        "install docker-registry (apt-get install docker-registry)",
        &["docker-registry"],
        "install it with `sudo apt-get install -y docker-registry`, or put a \
         `docker-registry` binary on PATH",
    )?;
    let debian = Path::new(DEBIAN_DOCKER_REGISTRY);
    which::which("docker-registry")
        .ok()
        .or_else(|| debian.is_file().then(|| debian.to_path_buf()))
        .ok_or_else(|| ClusterError::Provision {
            step: "install docker-registry".into(),
            message: "the docker-registry package is installed but `docker-registry` is \
                      neither on PATH nor in /usr/bin"
                .into(),
            command: None,
            log_path: None,
            log_tail: None,
        })
}
