//! Serving over any stream listener: [`Server::serve_with`] and the [`Listener`] trait
//! (axum's) it takes.

use std::fmt::Debug;
use std::future::{Future, IntoFuture};

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

impl Server {
    /// Serves on any stream `listener` until `shutdown` completes, then shuts down as
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
        L::Addr: Debug,
    {
        let (state, stop) = self.parts();
        let (state, stop) = (state.clone(), stop.clone());
        let grace = state.limits.shutdown_grace;
        let app = self.router();
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
