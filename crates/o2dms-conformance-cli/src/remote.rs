//! The suite over the wire: a DMS server's API (`--endpoint URL[/dm]`) through
//! [`o2dms_remote::RemoteAdapter`], for a server in any language.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use o2dms_conformance::{ClusterInfo, NamespaceCleanup, Report, Settings, Suite};

/// How to reach a DMS server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointOptions {
    /// `URL[/deployment-manager]`, e.g. `http://127.0.0.1:8080/edge`.
    pub endpoint: String,
    /// A PEM file of CA certificates to trust besides the system's.
    pub ca_cert: Option<PathBuf>,
    /// Turn TLS verification off (never by default).
    pub insecure_skip_tls_verify: bool,
    /// A file holding a bearer token (read at start, never printed).
    pub token_file: Option<PathBuf>,
}

/// Connects to the server `options` names.
///
/// # Errors
/// An unreadable CA or token file, a bad endpoint, or a server that does not answer.
pub async fn connect(options: &EndpointOptions) -> anyhow::Result<o2dms_remote::RemoteAdapter> {
    let mut builder = o2dms_remote::RemoteAdapter::builder(options.endpoint.clone())
        .danger_accept_invalid_certs(options.insecure_skip_tls_verify);
    if let Some(ca) = &options.ca_cert {
        let pem = std::fs::read(ca).with_context(|| format!("reading {}", ca.display()))?;
        builder = builder.root_certificate_pem(pem);
    }
    if let Some(path) = &options.token_file {
        let token = std::fs::read_to_string(path)
            .with_context(|| format!("reading the token file {}", path.display()))?;
        builder = builder.bearer_token(token.trim());
    }
    builder
        .connect()
        .await
        .map_err(|e| anyhow::anyhow!("connecting to {}: {e}", options.endpoint))
}

/// Runs the suite against `remote`. Operation events are observed on the client side
/// (each write and its answer), the server's own notifications not yet. Namespaces are
/// the server's to create and remove; a harness that knows the server's cluster passes
/// `cleanup` to remove what the run left (e.g. [`KubeNamespaces`](crate::KubeNamespaces)).
pub async fn run_remote(
    remote: o2dms_remote::RemoteAdapter,
    mut settings: Settings,
    interrupt: impl std::future::Future<Output = ()> + Send + 'static,
    cleanup: Option<Arc<dyn NamespaceCleanup>>,
) -> Report {
    settings.cluster = ClusterInfo {
        kind: "remote".to_owned(),
        kubernetes_version: None,
    };
    let adapter = Arc::new(o2dms_layers::Events::new(remote));
    let mut suite = Suite::new(settings)
        .events(adapter.clone())
        .interrupt_on(interrupt);
    if let Some(c) = cleanup {
        suite = suite.namespace_cleanup(c);
    }
    suite.run(&*adapter).await
}
