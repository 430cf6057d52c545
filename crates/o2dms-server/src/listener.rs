//! Serving over any stream listener: [`Server::serve_with`], the [`Listener`] trait
//! (axum's) it takes, and what a listener says about each connection's peer ([`Peer`],
//! [`PeerInfo`]): its address and, over mutual TLS, the client certificate it verified.

use std::fmt::{self, Debug};
use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::sync::Arc;

use std::convert::Infallible;
use std::task::{Context, Poll};

use axum::middleware::AddExtension;
use axum::serve::IncomingStream;
use axum::{Extension, Router};
use tower::Layer as _;

use crate::auth::ClientIdentity;
use crate::server::{Server, ShutdownReport};

/// What [`Server::serve_with`] accepts connections from: axum's
/// [`axum::serve::Listener`], re-exported so that a listener can be written without
/// depending on axum. `tokio::net::TcpListener` and `tokio::net::UnixListener`
/// implement it; a TLS listener implements it by completing the handshake before
/// [`accept`](Listener::accept) returns a connection.
///
/// `accept` is called one connection at a time and must not fail: it handles (logs,
/// retries) its own errors, and a connection it cannot set up (a failed handshake) is
/// dropped and never returned. Slow per-connection work (a handshake) belongs in tasks
/// of the listener's own, so that one slow client does not hold up the others.
pub use axum::serve::Listener;

/// What the server knows about the peer of a connection: its address, and the names of
/// the client certificate the listener verified (mutual TLS), if any. Every request
/// served by [`Server::serve_with`] carries its connection's `Peer` as a request
/// extension; access control reads the client certificate from it ([`crate::auth`]).
///
/// A TLS listener that verifies client certificates makes its [`Listener::Addr`] a
/// `Peer` built with [`Peer::with_client_identity`]; plain TCP and Unix listeners give
/// peers without one. `Debug` shows the address and whether there is a client
/// certificate, never its names.
#[derive(Clone, Default)]
pub struct Peer {
    address: Option<SocketAddr>,
    client: Option<Arc<ClientIdentity>>,
}

impl Peer {
    /// A peer at `address`, without a client certificate.
    pub fn new(address: SocketAddr) -> Self {
        Peer {
            address: Some(address),
            client: None,
        }
    }

    /// A peer whose address is not an IP socket address (a Unix socket).
    pub fn unknown() -> Self {
        Peer::default()
    }

    /// With the names of the client certificate the listener verified against its
    /// client CA. Only a listener that did verify it may say so: access control trusts
    /// these names.
    pub fn with_client_identity(mut self, identity: ClientIdentity) -> Self {
        self.client = Some(Arc::new(identity));
        self
    }

    /// The peer's address, when it has an IP one.
    pub fn address(&self) -> Option<SocketAddr> {
        self.address
    }

    /// The names of its verified client certificate, if it presented one.
    pub fn client_identity(&self) -> Option<&ClientIdentity> {
        self.client.as_deref()
    }

    pub(crate) fn client_identity_shared(&self) -> Option<Arc<ClientIdentity>> {
        self.client.clone()
    }
}

impl Debug for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Peer")
            .field("address", &self.address)
            .field("client_certificate", &self.client.is_some())
            .finish()
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.address {
            Some(a) => write!(f, "{a}"),
            None => f.write_str("(unknown address)"),
        }
    }
}

/// The address type of a [`Listener`] that [`Server::serve_with`] can serve: it says
/// who the peer of a connection is. Implemented for `std::net::SocketAddr` (TCP), Tokio's
/// Unix socket address and [`Peer`] itself (what a TLS listener with client
/// certificates returns).
pub trait PeerInfo {
    /// The peer of the connection accepted at this address.
    fn peer(&self) -> Peer;
}

impl PeerInfo for SocketAddr {
    fn peer(&self) -> Peer {
        Peer::new(*self)
    }
}

impl PeerInfo for Peer {
    fn peer(&self) -> Peer {
        self.clone()
    }
}

#[cfg(unix)]
impl PeerInfo for tokio::net::unix::SocketAddr {
    fn peer(&self) -> Peer {
        Peer::unknown()
    }
}

/// The service that makes each connection's service: the router with the connection's
/// [`Peer`] as a request extension.
#[derive(Clone)]
struct WithPeer(Router);

impl<L> tower::Service<IncomingStream<'_, L>> for WithPeer
where
    L: Listener,
    L::Addr: PeerInfo,
{
    type Response = AddExtension<Router, Peer>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, stream: IncomingStream<'_, L>) -> Self::Future {
        let peer = stream.remote_addr().peer();
        std::future::ready(Ok(Extension(peer).layer(self.0.clone())))
    }
}

impl Server {
    /// Serves on any stream `listener` whose addresses say who the peer is
    /// ([`PeerInfo`]) until `shutdown` completes, then shuts down as
    /// [`Server::serve`] does (which is this over a `TcpListener`): no new connections,
    /// requests waiting for an operation answer 202 at once, open requests finish, then
    /// running operations get to finish; each phase waits at most
    /// [`Limits::shutdown_grace`](crate::Limits::shutdown_grace). The listener is
    /// dropped once the server stops accepting.
    ///
    /// ```no_run
    /// # async fn run() -> std::io::Result<()> {
    /// let server = o2dms_server::Server::builder()
    ///     .adapter("edge", o2dms_mock::MockAdapter::new())
    ///     .build()
    ///     .expect("valid names");
    /// let listener = tokio::net::UnixListener::bind("/run/o2dms.sock")?;
    /// let report = server
    ///     .serve_with(listener, async { let _ = tokio::signal::ctrl_c().await; })
    ///     .await?;
    /// assert!(report.unfinished.is_empty());
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// The listener failing.
    pub async fn serve_with<L>(
        self,
        listener: L,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<ShutdownReport>
    where
        L: Listener,
        L::Addr: PeerInfo + Debug,
    {
        let (state, stop) = self.parts();
        let (state, stop) = (state.clone(), stop.clone());
        let grace = state.limits.shutdown_grace;
        // Each request carries its connection's `Peer` (access control reads the client
        // certificate from it).
        let app = WithPeer(self.router());
        let mut stopped = stop.subscribe();
        let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = stopped.wait_for(|s| *s).await;
        });
        let signal_stop = stop.clone();
        let mut stopped = stop.subscribe();
        let signal = async move {
            shutdown.await;
            tracing::info!("shutting down");
            signal_stop.send_replace(true);
        };
        tokio::spawn(signal);
        let drain_deadline = async move {
            let _ = stopped.wait_for(|s| *s).await;
            tokio::time::sleep(grace).await;
        };
        let connections_closed = tokio::select! {
            served = serve.into_future() => { served?; true }
            () = drain_deadline => false,
        };
        stop.send_replace(true);
        let ops = state.ops.clone();
        let unfinished = if ops.wait_idle(grace).await {
            Vec::new()
        } else {
            ops.running()
        };
        for o in &unfinished {
            tracing::warn!(id = %o.id, operation = %o.operation, "operation still running at shutdown");
        }
        Ok(ShutdownReport {
            connections_closed,
            unfinished,
        })
    }
}
