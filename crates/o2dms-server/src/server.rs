//! [`Server`] and [`ServerBuilder`]: named adapters, limits, the router, and serving
//! with graceful shutdown.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use o2dms_api::segment;
use o2dms_api::wire::OperationOccurrence;
use o2dms_core::{DmsAdapter, Error};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::auth::Auth;
use crate::context::{AppState, Dm, Shared};
use crate::limits::Limits;
use crate::operations::Operations;
use crate::{middleware, routes};

/// Why a [`ServerBuilder`] could not build a server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A deployment manager name is not a DNS-1123 label (it is a path segment).
    #[error("deployment manager name `{name}`: {reason}")]
    InvalidName {
        /// The name.
        name: String,
        /// The rule it breaks.
        reason: String,
    },
    /// Two deployment managers have the same name.
    #[error("deployment manager `{0}` is added twice")]
    Duplicate(String),
    /// The access control policy cannot be used (a duplicate name or token, a token
    /// that cannot be sent); the reason never quotes a token.
    #[error("access control: {0}")]
    Auth(String),
}

/// Builds a [`Server`]: [`Server::builder`].
#[derive(Default)]
pub struct ServerBuilder {
    dms: Vec<(String, Option<String>, Arc<dyn DmsAdapter>)>,
    limits: Limits,
    auth: Option<Auth>,
}

impl std::fmt::Debug for ServerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.dms.iter().map(|(n, ..)| n.as_str()).collect();
        f.debug_struct("ServerBuilder")
            .field("deployment_managers", &names)
            .field("limits", &self.limits)
            .field("auth", &self.auth)
            .finish()
    }
}

impl ServerBuilder {
    /// Access control: every request must carry credentials `auth` accepts, with the
    /// scope and deployment manager it needs ([`crate::auth`]). Without it (the
    /// default), every request is let in.
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = Some(auth);
        self
    }

    /// Hosts `adapter` as deployment manager `name` (the `{dm}` of its paths); its type
    /// is the adapter's [`info`](DmsAdapter::info) name.
    pub fn adapter(self, name: impl Into<String>, adapter: impl DmsAdapter + 'static) -> Self {
        self.shared_adapter(name, Arc::new(adapter))
    }

    /// Hosts a shared adapter as deployment manager `name`.
    pub fn shared_adapter(mut self, name: impl Into<String>, adapter: Arc<dyn DmsAdapter>) -> Self {
        self.dms.push((name.into(), None, adapter));
        self
    }

    /// Hosts a shared adapter as deployment manager `name` of plugin type `dm_type`
    /// (the spec's `plugins.dms[].type`: `helm`, `mock`).
    pub fn deployment_manager(
        mut self,
        name: impl Into<String>,
        dm_type: impl Into<String>,
        adapter: Arc<dyn DmsAdapter>,
    ) -> Self {
        self.dms.push((name.into(), Some(dm_type.into()), adapter));
        self
    }

    /// Every limit at once.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The largest JSON body, in bytes.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.limits.body_bytes = bytes;
        self
    }

    /// The largest upload, in bytes.
    pub fn upload_limit(mut self, bytes: usize) -> Self {
        self.limits.upload_bytes = bytes;
        self
    }

    /// The longest `Prefer: wait` honoured.
    pub fn wait_cap(mut self, cap: Duration) -> Self {
        self.limits.wait_cap = cap;
        self
    }

    /// How long a request may take besides its wait.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.limits.request_timeout = timeout;
        self
    }

    /// How many finished operations are kept.
    pub fn operation_retention(mut self, n: usize) -> Self {
        self.limits.operation_retention = n;
        self
    }

    /// How long shutdown waits for connections, then for running operations.
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.limits.shutdown_grace = grace;
        self
    }

    /// The server.
    ///
    /// # Errors
    /// A name that is not a DNS-1123 label, or a name added twice; an access control
    /// policy that cannot be used ([`BuildError::Auth`]).
    pub fn build(self) -> Result<Server, BuildError> {
        if let Some(problem) = self.auth.as_ref().and_then(Auth::problem) {
            return Err(BuildError::Auth(problem));
        }
        let mut dms = BTreeMap::new();
        for (name, dm_type, adapter) in self.dms {
            segment::deployment_manager(&segment::encode(&name)).map_err(|e| {
                let reason = match e {
                    Error::InvalidArgument { reason, .. } => reason,
                    other => other.to_string(),
                };
                BuildError::InvalidName {
                    name: name.clone(),
                    reason,
                }
            })?;
            if dms.contains_key(&name) {
                return Err(BuildError::Duplicate(name));
            }
            let dm_type = dm_type.unwrap_or_else(|| adapter.info().name);
            dms.insert(
                name.clone(),
                Arc::new(Dm {
                    name,
                    dm_type,
                    adapter,
                }),
            );
        }
        let (stop, stopping) = watch::channel(false);
        let state: AppState = Arc::new(Shared {
            dms,
            auth: self.auth.map(Arc::new),
            ops: Arc::new(Operations::new(self.limits.operation_retention)),
            limits: self.limits,
            stopping,
        });
        Ok(Server { state, stop })
    }
}

/// What [`Server::serve`] left behind when it stopped.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ShutdownReport {
    /// Whether every connection closed within the grace period.
    pub connections_closed: bool,
    /// The operations still running when the grace period ended (empty when all ended).
    pub unfinished: Vec<OperationOccurrence>,
}

/// The O2-DMS REST server: `/o2dms/v1` over named deployment managers.
///
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// use o2dms_server::Server;
/// let server = Server::builder()
///     .adapter("edge", o2dms_mock::MockAdapter::new())
///     .build()
///     .expect("valid names");
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
/// let report = server.serve(listener, async { let _ = tokio::signal::ctrl_c().await; }).await?;
/// assert!(report.unfinished.is_empty());
/// # Ok(())
/// # }
/// ```
pub struct Server {
    state: AppState,
    stop: watch::Sender<bool>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field(
                "deployment_managers",
                &self.state.dms.keys().collect::<Vec<_>>(),
            )
            .field("limits", &self.state.limits)
            .field("auth", &self.state.auth)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// A builder.
    pub fn builder() -> ServerBuilder {
        ServerBuilder::default()
    }

    /// The router with every route and layer, to serve or to nest in another router.
    pub fn router(&self) -> Router {
        middleware::layered(routes::routes(self.state.clone()), self.state.clone())
    }

    /// The operations registry.
    pub fn operations(&self) -> &Arc<Operations> {
        &self.state.ops
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.state.limits
    }

    /// Serves on `listener` until `shutdown` completes, then shuts down gracefully: no
    /// new connections, requests waiting for an operation answer 202 at once, open
    /// requests finish; then running operations get to finish. Each phase waits at most
    /// [`Limits::shutdown_grace`]; the report names what did not end.
    ///
    /// [`Server::serve_with`] does the same over any stream listener (TLS, Unix).
    ///
    /// # Errors
    /// The listener failing.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<ShutdownReport> {
        self.serve_with(listener, shutdown).await
    }

    /// The stop signal and the state, for [`Server::serve_with`].
    pub(crate) fn parts(&self) -> (&AppState, &watch::Sender<bool>) {
        (&self.state, &self.stop)
    }
}
