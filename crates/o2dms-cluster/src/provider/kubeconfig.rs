//! An existing cluster, reached through a kubeconfig file and context.

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use kube::config::{KubeConfigOptions, Kubeconfig};

use super::{checked_version, Backend, Cluster, ClusterKind, ClusterProvider};
use crate::error::{ClusterError, Result};

/// An existing cluster. `start` checks that the file and context exist and that the
/// server answers (its version is read); `stop` leaves the cluster alone.
#[derive(Debug, Clone)]
pub struct KubeconfigProvider {
    /// The kubeconfig file (`None`: the first file of `KUBECONFIG`, else `~/.kube/config`).
    pub path: Option<PathBuf>,
    /// The context (`None`: the file's current context).
    pub context: Option<String>,
    /// How long the server may take to answer.
    pub timeout: Duration,
}

impl Default for KubeconfigProvider {
    fn default() -> Self {
        KubeconfigProvider {
            path: None,
            context: None,
            timeout: Duration::from_secs(10),
        }
    }
}

impl KubeconfigProvider {
    fn resolve_path(&self) -> Result<PathBuf> {
        if let Some(p) = &self.path {
            return Ok(p.clone());
        }
        if let Some(v) = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
            if let Some(first) = std::env::split_paths(&v).next() {
                return Ok(first);
            }
        }
        dirs::home_dir()
            .map(|h| h.join(".kube").join("config"))
            .ok_or_else(|| {
                ClusterError::Kubeconfig(
                    "no path given, KUBECONFIG unset and no home directory".into(),
                )
            })
    }
}

#[async_trait]
impl ClusterProvider for KubeconfigProvider {
    fn kind(&self) -> ClusterKind {
        ClusterKind::Kubeconfig
    }

    async fn start(&self) -> Result<Cluster> {
        let path = self.resolve_path()?;
        if !path.is_file() {
            return Err(ClusterError::ProviderUnavailable {
                provider: "kubeconfig",
                reason: format!(
                    "{} does not exist; pass the kubeconfig of an existing cluster, or use the \
                     local provider (`cargo xtask cluster up`)",
                    path.display()
                ),
            });
        }
        let kubeconfig = Kubeconfig::read_from(&path)
            .map_err(|e| ClusterError::Kubeconfig(format!("reading {}: {e}", path.display())))?;
        if let Some(ctx) = &self.context {
            if !kubeconfig.contexts.iter().any(|c| &c.name == ctx) {
                let known: Vec<&str> = kubeconfig
                    .contexts
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect();
                return Err(ClusterError::Kubeconfig(format!(
                    "{} has no context {ctx:?} (it has: {})",
                    path.display(),
                    known.join(", ")
                )));
            }
        }
        let options = KubeConfigOptions {
            context: self.context.clone(),
            ..KubeConfigOptions::default()
        };
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|e| ClusterError::Kubeconfig(format!("{}: {e}", path.display())))?;
        let server = config.cluster_url.to_string();
        let client = kube::Client::try_from(config)?;
        let version = checked_version(&client, "kubeconfig", &server, self.timeout).await?;
        Ok(Cluster::new(
            ClusterKind::Kubeconfig,
            path,
            client,
            version,
            Backend::External,
        ))
    }
}
