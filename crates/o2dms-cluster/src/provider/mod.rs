//! Providers behind one interface: [`ClusterProvider::start`] gives a running [`Cluster`]
//! with a kubeconfig, a client, its kind, the server's version and an async stop.
//!
//! | provider | needs | what it runs |
//! | --- | --- | --- |
//! | [`LocalProvider`] | nothing but provisioned binaries | etcd + control plane + kubelet simulator |
//! | [`KindProvider`] | `kind` on PATH and a Docker daemon | a kind cluster, deleted on stop |
//! | [`K3sProvider`] | a Docker daemon | k3s in a container (testcontainers) |
//! | [`KubeconfigProvider`] | a reachable cluster | an existing cluster; stop leaves it alone |

mod docker;
mod k3s;
mod kind;
mod kubeconfig;

use std::path::{Path, PathBuf};
use std::str::FromStr;

use async_trait::async_trait;
use k8s_openapi::apimachinery::pkg::version::Info;
use kube::Client;

use crate::error::{ClusterError, Result};
use crate::local::{LocalCluster, LocalClusterOptions};

pub use docker::docker_daemon_available;
pub use k3s::{K3sProvider, DEFAULT_K3S_IMAGE, DEFAULT_K3S_TAG};
pub use kind::KindProvider;
pub use kubeconfig::KubeconfigProvider;

/// Which provider a cluster came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClusterKind {
    /// A local control plane with a kubelet simulator.
    Local,
    /// A kind cluster.
    Kind,
    /// k3s in a container.
    K3s,
    /// An existing cluster reached through a kubeconfig.
    Kubeconfig,
}

impl std::fmt::Display for ClusterKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ClusterKind::Local => "local",
            ClusterKind::Kind => "kind",
            ClusterKind::K3s => "k3s",
            ClusterKind::Kubeconfig => "kubeconfig",
        })
    }
}

/// Something that can start (or attach to) a cluster.
#[async_trait]
pub trait ClusterProvider: Send + Sync {
    /// The kind of cluster it gives.
    fn kind(&self) -> ClusterKind;
    /// Starts the cluster (or checks an existing one) and returns a handle to it. A
    /// provider that cannot work here returns [`ClusterError::ProviderUnavailable`]
    /// saying why and what to use instead.
    async fn start(&self) -> Result<Cluster>;
}

pub(crate) enum Backend {
    Local(Box<LocalCluster>),
    Kind(kind::KindCluster),
    K3s(Box<k3s::K3sCluster>),
    External,
}

/// A running cluster from any provider.
pub struct Cluster {
    kind: ClusterKind,
    kubeconfig_path: PathBuf,
    client: Client,
    version: Info,
    backend: Backend,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("kind", &self.kind)
            .field("kubeconfig_path", &self.kubeconfig_path)
            .field("version", &self.version.git_version)
            .finish_non_exhaustive()
    }
}

impl Cluster {
    pub(crate) fn new(
        kind: ClusterKind,
        kubeconfig_path: PathBuf,
        client: Client,
        version: Info,
        backend: Backend,
    ) -> Self {
        Cluster {
            kind,
            kubeconfig_path,
            client,
            version,
            backend,
        }
    }

    /// A kubeconfig for `helm`, `kubectl` and other tools.
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig_path
    }

    /// A client for the cluster.
    pub fn client(&self) -> Client {
        self.client.clone()
    }

    /// Which provider it came from.
    pub fn kind(&self) -> ClusterKind {
        self.kind
    }

    /// The server's version as it reports it (`v1.20.2` for the local provider with
    /// binaries built from Debian's source).
    pub fn server_version(&self) -> &Info {
        &self.version
    }

    /// The local cluster behind this handle, if it is one.
    pub fn as_local(&self) -> Option<&LocalCluster> {
        match &self.backend {
            Backend::Local(l) => Some(l),
            _ => None,
        }
    }

    /// Stops what the provider started: ends a local cluster, deletes a kind cluster,
    /// removes a k3s container; leaves an existing (kubeconfig) cluster alone.
    pub async fn stop(self) -> Result<()> {
        match self.backend {
            Backend::Local(l) => {
                l.stop().await;
                Ok(())
            }
            Backend::Kind(k) => k.delete().await,
            Backend::K3s(k) => k.stop().await,
            Backend::External => Ok(()),
        }
    }
}

/// The local provider: [`LocalCluster`] behind the common interface.
#[derive(Debug, Clone, Default)]
pub struct LocalProvider {
    /// How to start it.
    pub options: LocalClusterOptions,
}

#[async_trait]
impl ClusterProvider for LocalProvider {
    fn kind(&self) -> ClusterKind {
        ClusterKind::Local
    }

    async fn start(&self) -> Result<Cluster> {
        let local = LocalCluster::start(self.options.clone()).await?;
        Ok(Cluster::new(
            ClusterKind::Local,
            local.kubeconfig_path().to_path_buf(),
            local.client(),
            local.server_version().clone(),
            Backend::Local(Box::new(local)),
        ))
    }
}

/// A provider chosen by name, as on a command line: `local`, `kind`, `k3s`,
/// `kubeconfig` (the `KUBECONFIG` or `~/.kube/config`), or `kubeconfig:PATH[#CONTEXT]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderSpec {
    /// [`LocalProvider`] with default options.
    Local,
    /// [`KindProvider`] with default options.
    Kind,
    /// [`K3sProvider`] with the default image.
    K3s,
    /// [`KubeconfigProvider`].
    Kubeconfig {
        /// The file (`None`: `KUBECONFIG`, else `~/.kube/config`).
        path: Option<PathBuf>,
        /// The context (`None`: the current one).
        context: Option<String>,
    },
}

impl FromStr for ProviderSpec {
    type Err = ClusterError;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "local" => Ok(ProviderSpec::Local),
            "kind" => Ok(ProviderSpec::Kind),
            "k3s" => Ok(ProviderSpec::K3s),
            "kubeconfig" => Ok(ProviderSpec::Kubeconfig {
                path: None,
                context: None,
            }),
            other => match other.strip_prefix("kubeconfig:") {
                Some(rest) => {
                    let (path, context) = match rest.split_once('#') {
                        Some((p, c)) => (p, Some(c.to_string())),
                        None => (rest, None),
                    };
                    Ok(ProviderSpec::Kubeconfig {
                        path: (!path.is_empty()).then(|| PathBuf::from(path)),
                        context,
                    })
                }
                None => Err(ClusterError::Config(format!(
                    "unknown cluster provider {other:?}: expected local, kind, k3s, kubeconfig or \
                     kubeconfig:PATH[#CONTEXT]"
                ))),
            },
        }
    }
}

impl ProviderSpec {
    /// The provider this names.
    pub fn provider(&self) -> Box<dyn ClusterProvider> {
        match self {
            ProviderSpec::Local => Box::new(LocalProvider::default()),
            ProviderSpec::Kind => Box::new(KindProvider::default()),
            ProviderSpec::K3s => Box::new(K3sProvider::default()),
            ProviderSpec::Kubeconfig { path, context } => Box::new(KubeconfigProvider {
                path: path.clone(),
                context: context.clone(),
                ..KubeconfigProvider::default()
            }),
        }
    }

    /// Starts the cluster this names.
    pub async fn start(&self) -> Result<Cluster> {
        self.provider().start().await
    }
}

/// The version the server reports, bounded in time; an unreachable server is
/// [`ClusterError::ProviderUnavailable`] for `provider`.
pub(crate) async fn checked_version(
    client: &Client,
    provider: &'static str,
    server: &str,
    bound: std::time::Duration,
) -> Result<Info> {
    match tokio::time::timeout(bound, client.apiserver_version()).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(ClusterError::ProviderUnavailable {
            provider,
            reason: format!("the API server {server} is not reachable: {e}"),
        }),
        Err(_) => Err(ClusterError::ProviderUnavailable {
            provider,
            reason: format!(
                "the API server {server} did not answer within {}s",
                bound.as_secs()
            ),
        }),
    }
}
