//! SIGINT and SIGTERM: the first shuts the server down gracefully, a second ends the
//! process at once.

use tokio::signal::unix::{signal, Signal, SignalKind};

use crate::exit::{Failure, UNFINISHED};

/// The shutdown signals, listened to from creation on (a signal before the server
/// starts is not lost).
pub(crate) struct Signals {
    interrupt: Signal,
    terminate: Signal,
}

impl Signals {
    /// Installs the handlers (needs the Tokio runtime).
    ///
    /// # Errors
    /// A handler that cannot be installed (status 3).
    pub(crate) fn install() -> Result<Self, Failure> {
        let install = |kind: SignalKind, name: &str| {
            signal(kind).map_err(|e| Failure::unavailable(format!("handling {name}: {e}")))
        };
        Ok(Signals {
            interrupt: install(SignalKind::interrupt(), "SIGINT")?,
            terminate: install(SignalKind::terminate(), "SIGTERM")?,
        })
    }

    /// The next signal's name; never, if neither can be received any more.
    async fn next(&mut self) -> &'static str {
        tokio::select! {
            Some(()) = self.interrupt.recv() => "SIGINT",
            Some(()) = self.terminate.recv() => "SIGTERM",
            else => std::future::pending().await,
        }
    }

    /// Completes at the first signal, for the server's graceful shutdown; from then on
    /// a second signal ends the process with status 1 without waiting.
    pub(crate) async fn shutdown(mut self) {
        let first = self.next().await;
        tracing::info!(
            signal = first,
            "signal received: shutting down gracefully (a second signal exits at once)"
        );
        tokio::spawn(async move {
            let second = self.next().await;
            tracing::warn!(
                signal = second,
                "second signal: exiting without waiting for requests and operations"
            );
            std::process::exit(i32::from(UNFINISHED));
        });
    }
}
