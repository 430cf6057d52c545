//! kind clusters, created and deleted through the `kind` binary. Needs `kind` on PATH
//! (or given) and a running Docker daemon.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use async_trait::async_trait;

use super::docker::docker_daemon_available;
use super::{checked_version, Backend, Cluster, ClusterKind, ClusterProvider};
use crate::error::{ClusterError, Result};
use crate::local::client_from_kubeconfig;
use crate::process::tail;

const INSTEAD: &str = "use the local provider instead (`cargo xtask cluster up`, needs no \
                       container engine), or an existing cluster through the kubeconfig provider";

/// A kind cluster.
#[derive(Debug, Clone)]
pub struct KindProvider {
    /// The cluster name (default `o2dms-<pid>`).
    pub name: Option<String>,
    /// The `kind` binary (default: from PATH).
    pub kind_binary: Option<PathBuf>,
    /// The node image (`--image`), default kind's own.
    pub node_image: Option<String>,
    /// The bound on `kind create cluster --wait`.
    pub timeout: Duration,
}

impl Default for KindProvider {
    fn default() -> Self {
        KindProvider {
            name: None,
            kind_binary: None,
            node_image: None,
            timeout: Duration::from_secs(300),
        }
    }
}

impl KindProvider {
    /// Checks that `kind` and a Docker daemon are present; returns the `kind` binary.
    pub fn check(&self) -> Result<PathBuf> {
        let binary = match &self.kind_binary {
            Some(b) if b.is_file() => b.clone(),
            Some(b) => {
                return Err(ClusterError::ProviderUnavailable {
                    provider: "kind",
                    reason: format!("{} does not exist; {INSTEAD}", b.display()),
                })
            }
            None => which::which("kind").map_err(|_| ClusterError::ProviderUnavailable {
                provider: "kind",
                reason: format!("the `kind` binary is not on PATH; {INSTEAD}"),
            })?,
        };
        docker_daemon_available().map_err(|why| ClusterError::ProviderUnavailable {
            provider: "kind",
            reason: format!("{why}; {INSTEAD}"),
        })?;
        Ok(binary)
    }
}

/// A kind cluster this crate created.
pub(crate) struct KindCluster {
    binary: PathBuf,
    name: String,
    dir: tempfile::TempDir,
}

async fn run_kind(
    binary: &PathBuf,
    args: &[&str],
    log: &std::path::Path,
    what: &str,
) -> Result<()> {
    let out = std::fs::File::create(log)
        .map_err(|e| ClusterError::io(format!("creating {}", log.display()), e))?;
    let err = out
        .try_clone()
        .map_err(|e| ClusterError::io("duplicating a file handle", e))?;
    let status = tokio::process::Command::new(binary)
        .args(args)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .kill_on_drop(true)
        .status()
        .await
        .map_err(|e| ClusterError::io(format!("running {}", binary.display()), e))?;
    if !status.success() {
        return Err(ClusterError::Process {
            component: "kind".into(),
            message: format!("`kind {}` failed ({status}) while {what}", args.join(" ")),
            log_path: Some(log.to_path_buf()),
            log_tail: Some(tail(log, 20)),
        });
    }
    Ok(())
}

impl KindCluster {
    pub(crate) async fn delete(self) -> Result<()> {
        let kc = self.dir.path().join("kubeconfig");
        let log = self.dir.path().join("kind-delete.log");
        let kc_s = kc.display().to_string();
        run_kind(
            &self.binary,
            &[
                "delete",
                "cluster",
                "--name",
                &self.name,
                "--kubeconfig",
                &kc_s,
            ],
            &log,
            "deleting the cluster",
        )
        .await
    }
}

#[async_trait]
impl ClusterProvider for KindProvider {
    fn kind(&self) -> ClusterKind {
        ClusterKind::Kind
    }

    async fn start(&self) -> Result<Cluster> {
        let binary = self.check()?;
        let name = self
            .name
            .clone()
            .unwrap_or_else(|| format!("o2dms-{}", std::process::id()));
        let dir = tempfile::Builder::new()
            .prefix("o2dms-kind-")
            .tempdir()
            .map_err(|e| ClusterError::io("creating a temporary directory", e))?;
        let kc = dir.path().join("kubeconfig");
        let kc_s = kc.display().to_string();
        let wait = format!("{}s", self.timeout.as_secs());
        let mut args = vec![
            "create",
            "cluster",
            "--name",
            &name,
            "--kubeconfig",
            &kc_s,
            "--wait",
            &wait,
        ];
        if let Some(img) = &self.node_image {
            args.push("--image");
            args.push(img);
        }
        run_kind(
            &binary,
            &args,
            &dir.path().join("kind-create.log"),
            "creating the cluster",
        )
        .await?;
        let handle = KindCluster { binary, name, dir };
        let ready = async {
            let client = client_from_kubeconfig(&kc, None).await?;
            let version = checked_version(
                &client,
                "kind",
                "of the kind cluster",
                Duration::from_secs(30),
            )
            .await?;
            Ok::<_, ClusterError>((client, version))
        }
        .await;
        match ready {
            Ok((client, version)) => Ok(Cluster::new(
                ClusterKind::Kind,
                kc,
                client,
                version,
                Backend::Kind(handle),
            )),
            Err(e) => {
                let _ = handle.delete().await;
                Err(e)
            }
        }
    }
}
