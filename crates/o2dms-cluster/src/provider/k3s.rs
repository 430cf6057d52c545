//! k3s in a container through testcontainers. Needs a running Docker daemon.

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use testcontainers::core::{ExecCommand, IntoContainerPort, WaitFor};
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage, ImageExt};

use super::docker::docker_daemon_available;
use super::{checked_version, Backend, Cluster, ClusterKind, ClusterProvider};
use crate::error::{ClusterError, Result};
use crate::local::client_from_kubeconfig;

/// The k3s image.
pub const DEFAULT_K3S_IMAGE: &str = "rancher/k3s";
/// The default k3s tag: Kubernetes 1.33, which Helm 3.17+ and Helm 4 support.
pub const DEFAULT_K3S_TAG: &str = "v1.33.4-k3s1";

const API_PORT: u16 = 6443;

/// k3s in a privileged container.
#[derive(Debug, Clone)]
pub struct K3sProvider {
    /// The image (default [`DEFAULT_K3S_IMAGE`]).
    pub image: String,
    /// The tag (default [`DEFAULT_K3S_TAG`]).
    pub tag: String,
    /// The bound on the server becoming ready.
    pub timeout: Duration,
}

impl Default for K3sProvider {
    fn default() -> Self {
        K3sProvider {
            image: DEFAULT_K3S_IMAGE.to_string(),
            tag: DEFAULT_K3S_TAG.to_string(),
            timeout: Duration::from_secs(180),
        }
    }
}

impl K3sProvider {
    /// Checks that a Docker daemon answers.
    pub fn check(&self) -> Result<()> {
        docker_daemon_available().map_err(|why| ClusterError::ProviderUnavailable {
            provider: "k3s",
            reason: format!(
                "{why}; k3s runs in a container. Use the local provider instead (`cargo xtask \
                 cluster up`, needs no container engine), or an existing cluster through the \
                 kubeconfig provider"
            ),
        })
    }
}

/// A k3s container this crate started.
pub(crate) struct K3sCluster {
    container: ContainerAsync<GenericImage>,
    _dir: tempfile::TempDir,
}

impl K3sCluster {
    pub(crate) async fn stop(self) -> Result<()> {
        self.container
            .rm()
            .await
            .map_err(|e| ClusterError::Config(format!("removing the k3s container: {e}")))
    }
}

fn tc_err(what: &str, e: impl std::fmt::Display) -> ClusterError {
    ClusterError::ProviderUnavailable {
        provider: "k3s",
        reason: format!("{what}: {e}"),
    }
}

#[async_trait]
impl ClusterProvider for K3sProvider {
    fn kind(&self) -> ClusterKind {
        ClusterKind::K3s
    }

    async fn start(&self) -> Result<Cluster> {
        self.check()?;
        let image = GenericImage::new(self.image.clone(), self.tag.clone())
            .with_exposed_port(API_PORT.tcp())
            .with_wait_for(WaitFor::message_on_either_std(
                "Node controller sync successful",
            ));
        let request = image
            .with_privileged(true)
            .with_cmd([
                "server",
                "--disable=traefik,metrics-server",
                "--tls-san=127.0.0.1",
                "--write-kubeconfig-mode=644",
            ])
            .with_startup_timeout(self.timeout);
        let container = request
            .start()
            .await
            .map_err(|e| tc_err("starting the k3s container", e))?;
        let port = container
            .get_host_port_ipv4(API_PORT)
            .await
            .map_err(|e| tc_err("reading the mapped API port", e))?;
        let mut exec = container
            .exec(ExecCommand::new(["cat", "/etc/rancher/k3s/k3s.yaml"]))
            .await
            .map_err(|e| tc_err("reading the k3s kubeconfig", e))?;
        let raw = exec
            .stdout_to_vec()
            .await
            .map_err(|e| tc_err("reading the k3s kubeconfig", e))?;
        let text = String::from_utf8_lossy(&raw).replace(
            "https://127.0.0.1:6443",
            &format!("https://127.0.0.1:{port}"),
        );
        let dir = tempfile::Builder::new()
            .prefix("o2dms-k3s-")
            .tempdir()
            .map_err(|e| ClusterError::io("creating a temporary directory", e))?;
        let kc: PathBuf = dir.path().join("kubeconfig");
        std::fs::write(&kc, text)
            .map_err(|e| ClusterError::io(format!("writing {}", kc.display()), e))?;
        let client = client_from_kubeconfig(&kc, None).await?;
        let version = checked_version(
            &client,
            "k3s",
            &format!("https://127.0.0.1:{port}"),
            Duration::from_secs(30),
        )
        .await?;
        Ok(Cluster::new(
            ClusterKind::K3s,
            kc,
            client,
            version,
            Backend::K3s(Box::new(K3sCluster {
                container,
                _dir: dir,
            })),
        ))
    }
}
