//! kube-apiserver, kube-controller-manager and kube-scheduler built from Debian's
//! `kubernetes` source package, and etcd from Debian's `etcd-server`.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::apt::{apt_get, apt_install, need_root};
use super::source_patches;
use super::Provisioner;
use crate::error::{ClusterError, Result};

/// The Kubernetes version Debian 12's source package builds.
pub const DEBIAN_KUBERNETES_VERSION: &str = "v1.20.2";
/// The three control-plane binaries.
pub(crate) const CONTROL_PLANE_BINARIES: [&str; 3] = [
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
];
const GO_BIN_DIR: &str = "/usr/lib/go-1.19/bin";

/// What to do instead when provisioning the control plane needs root and does not have it.
const WITHOUT_ROOT: &str = "run `cargo xtask cluster provision` as root once, or provide the \
     binaries: O2DMS_KUBE_BIN_DIR=<dir with kube-apiserver, kube-controller-manager, \
     kube-scheduler>, KUBEBUILDER_ASSETS, or etcd on PATH";

/// etcd from Debian's `etcd-server` package.
pub(crate) fn install_etcd(p: &Provisioner) -> Result<PathBuf> {
    apt_install(
        p,
        "install etcd (apt-get install etcd-server)",
        &["etcd-server"],
        WITHOUT_ROOT,
    )?;
    which::which("etcd").map_err(|_| ClusterError::Provision {
        step: "install etcd".into(),
        message: "etcd-server is installed but `etcd` is not on PATH".into(),
        command: None,
        log_path: None,
        log_tail: None,
    })
}

fn has_deb_src() -> bool {
    let mut texts = Vec::new();
    if let Ok(t) = std::fs::read_to_string("/etc/apt/sources.list") {
        texts.push(t);
    }
    if let Ok(rd) = std::fs::read_dir("/etc/apt/sources.list.d") {
        for e in rd.flatten() {
            if let Ok(t) = std::fs::read_to_string(e.path()) {
                texts.push(t);
            }
        }
    }
    texts.iter().any(|t| {
        t.lines().any(|l| {
            let l = l.trim();
            l.starts_with("deb-src ") || (l.starts_with("Types:") && l.contains("deb-src"))
        })
    })
}

/// Adds a deb-src entry (a copy of debian.sources with `Types: deb-src`) and updates.
fn ensure_deb_src(p: &Provisioner) -> Result<()> {
    if has_deb_src() {
        return Ok(());
    }
    let step = p.step("configure apt deb-src")?;
    need_root(&step, "adding a deb-src entry", WITHOUT_ROOT)?;
    let source = Path::new("/etc/apt/sources.list.d/debian.sources");
    let text = std::fs::read_to_string(source).map_err(|e| {
        step.fail_with(
            &format!(
                "cannot read {} ({e}); add a deb-src line for Debian 12 (bookworm) by hand",
                source.display()
            ),
            None,
        )
    })?;
    let converted: String = text
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("Types:") {
                "Types: deb-src".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let target = Path::new("/etc/apt/sources.list.d/o2dms-debian-src.sources");
    std::fs::write(target, converted + "\n")
        .map_err(|e| step.fail_with(&format!("writing {}: {e}", target.display()), None))?;
    step.log(&format!("wrote {}", target.display()));
    step.run(apt_get().args(["update", "-q"]))?;
    step.done("");
    Ok(())
}

/// The cache directory's name for the binaries this build makes.
pub(crate) fn cache_dir_name() -> String {
    format!(
        "kubernetes-{DEBIAN_KUBERNETES_VERSION}-{}",
        source_patches::PATCH_LEVEL
    )
}

/// Where a build is assembled before it is renamed into `bin_dir` in one step.
fn staging_dir(bin_dir: &Path) -> PathBuf {
    let mut name = bin_dir.file_name().unwrap_or_default().to_os_string();
    name.push(".staging");
    bin_dir.with_file_name(name)
}

/// Removes the other builds of this cache (older patch levels, or none) beside `bin_dir`:
/// they are never used again and take ≈ 360 MB each. Running clusters keep working: their
/// processes hold the files open.
fn remove_superseded_builds(bin_dir: &Path) {
    let (Some(parent), Some(current)) = (bin_dir.parent(), bin_dir.file_name()) else {
        return;
    };
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let is_build = name.to_string_lossy().starts_with("kubernetes-");
        if is_build && name != current && entry.path().is_dir() {
            tracing::info!(dir = %entry.path().display(), "removing a superseded control-plane build");
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Builds the control plane into `bin_dir` (which must not hold it yet).
pub(crate) fn build_control_plane(p: &Provisioner, bin_dir: &Path) -> Result<()> {
    ensure_deb_src(p)?;
    apt_install(
        p,
        "install build tools (golang-1.19-go rsync jq make)",
        &["golang-1.19-go", "rsync", "jq", "make"],
        WITHOUT_ROOT,
    )?;

    let src_dir = p.cache_dir().join("src");
    let step = p.step("download kubernetes source (apt-get source)")?;
    std::fs::create_dir_all(&src_dir)
        .map_err(|e| step.fail_with(&format!("creating {}: {e}", src_dir.display()), None))?;
    let find_orig = || -> Option<PathBuf> {
        std::fs::read_dir(&src_dir)
            .ok()?
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                p.file_name()
                    .map(|n| {
                        let n = n.to_string_lossy();
                        n.starts_with("kubernetes_") && n.ends_with(".orig.tar.gz")
                    })
                    .unwrap_or(false)
            })
    };
    if find_orig().is_none() {
        step.run(
            apt_get()
                .args(["source", "--download-only", "kubernetes"])
                .current_dir(&src_dir),
        )?;
    }
    let orig = find_orig().ok_or_else(|| {
        step.fail_with(
            "apt-get source finished but no kubernetes_*.orig.tar.gz is there",
            None,
        )
    })?;
    step.done(&orig.file_name().unwrap_or_default().to_string_lossy());

    let step = p.step("extract kubernetes source")?;
    let build_root = src_dir.join("build");
    if build_root.exists() {
        std::fs::remove_dir_all(&build_root).map_err(|e| {
            step.fail_with(&format!("removing {}: {e}", build_root.display()), None)
        })?;
    }
    std::fs::create_dir_all(&build_root)
        .map_err(|e| step.fail_with(&format!("creating {}: {e}", build_root.display()), None))?;
    let f = std::fs::File::open(&orig)
        .map_err(|e| step.fail_with(&format!("opening {}: {e}", orig.display()), None))?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(f));
    archive.set_preserve_permissions(true);
    archive
        .unpack(&build_root)
        .map_err(|e| step.fail_with(&format!("extracting {}: {e}", orig.display()), None))?;
    let tree = std::fs::read_dir(&build_root)
        .ok()
        .and_then(|rd| rd.flatten().map(|e| e.path()).find(|p| p.is_dir()))
        .ok_or_else(|| step.fail_with("the source tarball holds no directory", None))?;
    step.done(&tree.display().to_string());

    let step = p.step("patch kubernetes source (shorter start-up waits)")?;
    source_patches::apply(&tree, &source_patches::PATCHES).map_err(|e| step.fail_with(&e, None))?;
    step.done(&format!("{} changes", source_patches::PATCHES.len()));

    let step =
        p.step("build kube-apiserver, kube-controller-manager, kube-scheduler (make, ~4 min)")?;
    let gopath_link_dir = tree.join(".go/src/k8s.io");
    std::fs::create_dir_all(&gopath_link_dir).map_err(|e| {
        step.fail_with(
            &format!("creating {}: {e}", gopath_link_dir.display()),
            None,
        )
    })?;
    let link = gopath_link_dir.join("kubernetes");
    if !link.exists() {
        std::os::unix::fs::symlink("../../..", &link)
            .map_err(|e| step.fail_with(&format!("linking {}: {e}", link.display()), None))?;
    }
    let home = src_dir.join("gohome");
    std::fs::create_dir_all(&home)
        .map_err(|e| step.fail_with(&format!("creating {}: {e}", home.display()), None))?;
    let path = format!(
        "{GO_BIN_DIR}:{}",
        std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into())
    );
    step.run(
        Command::new("make")
            .arg("WHAT=cmd/kube-apiserver cmd/kube-controller-manager cmd/kube-scheduler")
            .current_dir(&tree)
            .env("PATH", path)
            .env("GOPATH", tree.join(".go"))
            .env("CGO_ENABLED", "0")
            .env("HOME", &home)
            .env_remove("GOROOT"),
    )?;
    let out = tree.join("_output/local/bin/linux/amd64");
    step.done("");

    let step = p.step("install control-plane binaries into the cache")?;
    let staging = staging_dir(bin_dir);
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging)
        .map_err(|e| step.fail_with(&format!("creating {}: {e}", staging.display()), None))?;
    for name in CONTROL_PLANE_BINARIES {
        let from = out.join(name);
        let data = std::fs::read(&from)
            .map_err(|e| step.fail_with(&format!("reading {}: {e}", from.display()), None))?;
        super::wheel::write_executable(&staging.join(name), &data)
            .map_err(|e| step.fail_with(&format!("writing {name}: {e}"), None))?;
    }
    let patches = staging.join(source_patches::PATCHES_FILE);
    std::fs::write(&patches, source_patches::describe(&source_patches::PATCHES))
        .map_err(|e| step.fail_with(&format!("writing {}: {e}", patches.display()), None))?;
    let version = super::binary_version(&staging.join("kube-apiserver"))
        .map_err(|e| step.fail_with(&e, None))?;
    if version != DEBIAN_KUBERNETES_VERSION {
        return Err(step.fail_with(
            &format!(
                "built kube-apiserver reports {version}, expected {DEBIAN_KUBERNETES_VERSION}"
            ),
            None,
        ));
    }
    let _ = std::fs::remove_dir_all(bin_dir);
    std::fs::rename(&staging, bin_dir)
        .map_err(|e| step.fail_with(&format!("moving into {}: {e}", bin_dir.display()), None))?;
    // The tree and Go's caches take gigabytes; the tarball stays for a rebuild.
    let _ = std::fs::remove_dir_all(&build_root);
    let _ = std::fs::remove_dir_all(&home);
    remove_superseded_builds(bin_dir);
    step.done(&format!("{version} in {}", bin_dir.display()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_directory_names_version_and_patch_level() {
        assert_eq!(cache_dir_name(), "kubernetes-v1.20.2-o2dms1");
    }

    #[test]
    fn staging_sits_beside_the_build() {
        let bin = Path::new("/c/bin/kubernetes-v1.20.2-o2dms1");
        assert_eq!(
            staging_dir(bin),
            Path::new("/c/bin/kubernetes-v1.20.2-o2dms1.staging")
        );
    }

    #[test]
    fn only_other_builds_are_removed() {
        let cache = tempfile::tempdir().unwrap();
        let bin = cache.path().join("bin");
        for d in [
            "kubernetes-v1.20.2",
            "kubernetes-v1.20.2-o2dms1",
            "helm-v4.1.4",
        ] {
            std::fs::create_dir_all(bin.join(d)).unwrap();
            std::fs::write(bin.join(d).join("x"), "x").unwrap();
        }
        remove_superseded_builds(&bin.join("kubernetes-v1.20.2-o2dms1"));
        let mut left: Vec<String> = std::fs::read_dir(&bin)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["helm-v4.1.4", "kubernetes-v1.20.2-o2dms1"]);
    }
}
