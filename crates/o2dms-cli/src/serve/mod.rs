//! `o2dms serve`: the configured plugins as the `/o2dms/v1` REST server.
//!
//! One concern per file: the command line ([`ServeArgs`], `args.rs`), the adapters built
//! from the configuration (`adapters.rs`), access control from `server.auth` (tokens
//! read from files and variables, the client CA, the loopback rule: `auth.rs`), TLS
//! ([`TlsListener`], `tls.rs`), logs (`logging.rs`), signals (`signals.rs`), and the run
//! that ties them together (`run.rs`).
//!
//! The run, in order: logs are set up (`--log-format`, `--log-level` or `RUST_LOG`);
//! the configuration is read and every enabled plugin's settings are checked (a
//! mistake exits 2 naming the key path and line, before anything connects); the tokens
//! and the client CA of `server.auth` are read (without `server.auth`, an address that
//! is not loopback needs `--allow-unauthenticated`); the TLS certificate and key are
//! read; each Helm plugin connects (a failure exits 3 naming
//! the plugin); SIGINT and SIGTERM handlers are installed; the address is bound and
//! `listening on http(s)://ADDR` is printed to stderr; requests are served until the
//! first signal, then the server shuts down gracefully (a second signal exits at once).

mod adapters;
mod args;
mod auth;
mod logging;
mod run;
mod signals;
mod tls;

pub use args::{LogFormat, ServeArgs};
pub use run::run;
pub use tls::TlsListener;
