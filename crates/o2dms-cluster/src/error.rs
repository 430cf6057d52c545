//! The error type of this crate.

use std::path::PathBuf;

/// Everything that can go wrong while provisioning tools or running a cluster.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// A provider cannot work on this machine (for example no Docker daemon, no `kind`).
    /// The message says why and what to use instead.
    #[error("the {provider} provider is unavailable: {reason}")]
    ProviderUnavailable {
        /// The provider that cannot run (`local`, `kind`, `k3s`, `kubeconfig`).
        provider: &'static str,
        /// Why, and what to use instead.
        reason: String,
    },
    /// A tool provisioning step failed.
    #[error("provisioning step `{step}` failed: {message}{}", log_suffix(.command, .log_path, .log_tail))]
    Provision {
        /// The step (for example `build kubernetes`).
        step: String,
        /// What went wrong.
        message: String,
        /// The command that ran, as argv joined by spaces (for display only), if any.
        command: Option<String>,
        /// The log file of the step, if any.
        log_path: Option<PathBuf>,
        /// The last lines of the step's log, if any.
        log_tail: Option<String>,
    },
    /// A process this crate started (a cluster component or a loopback server) failed to
    /// start, exited early, or did not come up in time.
    #[error("process `{component}` failed: {message}{}", log_suffix(&None, .log_path, .log_tail))]
    Process {
        /// The component (`etcd`, `kube-apiserver`, `docker-registry`, ...).
        component: String,
        /// What went wrong.
        message: String,
        /// The component's log file, if any.
        log_path: Option<PathBuf>,
        /// The last lines of its log, if any.
        log_tail: Option<String>,
    },
    /// Something did not happen within its time bound.
    #[error("timed out after {seconds:.1}s waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// The bound, in seconds.
        seconds: f64,
    },
    /// The kubelet simulator failed.
    #[error("kubelet simulator: {0}")]
    Kubelet(String),
    /// A configuration or argument is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A kubeconfig could not be read or used.
    #[error("kubeconfig: {0}")]
    Kubeconfig(String),
    /// An error from the Kubernetes client.
    #[error("kubernetes client: {0}")]
    Kube(#[from] kube::Error),
    /// An I/O error, with what was being done.
    #[error("{context}: {source}")]
    Io {
        /// What was being done (for example `creating /tmp/x`).
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl ClusterError {
    /// Wraps an I/O error with a description of what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        ClusterError::Io {
            context: context.into(),
            source,
        }
    }
}

fn log_suffix(
    command: &Option<String>,
    log_path: &Option<PathBuf>,
    log_tail: &Option<String>,
) -> String {
    let mut s = String::new();
    if let Some(c) = command {
        s.push_str(&format!("\n  command: {c}"));
    }
    if let Some(p) = log_path {
        s.push_str(&format!("\n  log: {}", p.display()));
    }
    if let Some(t) = log_tail {
        if !t.trim().is_empty() {
            s.push_str("\n  last lines of the log:\n");
            for line in t.lines() {
                s.push_str("    ");
                s.push_str(line);
                s.push('\n');
            }
        }
    }
    s
}

/// Result alias of this crate.
pub type Result<T, E = ClusterError> = std::result::Result<T, E>;
