//! # o2dms-server
//!
//! The O2-DMS REST server library: an axum router serving `/o2dms/v1` over one or
//! more named deployment managers, each any [`DmsAdapter`](o2dms_core::DmsAdapter).
//! Every path, body, query, problem and header is `o2dms-api`'s.
//!
//! - Reads answer at once (200, or a problem).
//! - Writes (create, update, delete, scale, rollback; upload and delete of packages) are
//!   operations: 202 Accepted, `Location` of the operation and the operation in the
//!   body; the write runs in a spawned task, `STARTING` -> `PROCESSING` ->
//!   `COMPLETED` | `FAILED` ([`operations`]). With `Prefer: wait=N` the request waits
//!   (capped) for the end and answers as the in-process call would: 201/200/204 or the
//!   problem, with `Preference-Applied`.
//! - Every error is `application/problem+json` with the status of `o2dms-api`'s mapping;
//!   bad input (paths, queries, bodies, content types, sizes) is a 4xx naming what is
//!   wrong, and a panic is a 500 problem, never a dropped connection.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! let server = o2dms_server::Server::builder()
//!     .adapter("edge", o2dms_mock::MockAdapter::new())
//!     .build()
//!     .expect("valid names");
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let report = server.serve(listener, async { let _ = tokio::signal::ctrl_c().await; }).await?;
//! println!("left running: {}", report.unfinished.len());
//! # Ok(())
//! # }
//! ```
//!
//! [`Server::serve_with`] serves over any [`Listener`] (a TLS listener, a Unix socket)
//! with the same graceful shutdown.
//!
//! Access control ([`auth`]): without a policy every request is let in (for loopback,
//! or behind something that authenticates); with [`ServerBuilder::auth`], bearer tokens
//! and client certificates (verified by a TLS listener, see [`Peer`]) each have a scope
//! (`read`, `write`) and optionally a set of deployment managers; no or unknown
//! credentials are 401, too little access 403.

pub mod auth;
mod context;
mod limits;
mod listener;
mod middleware;
pub mod operations;
mod problem_response;
mod routes;
mod server;

pub use auth::{Access, Auth, Principal, Scope};
pub use limits::Limits;
pub use listener::{Listener, Peer, PeerInfo};
pub use operations::Operations;
pub use server::{BuildError, Server, ServerBuilder, ShutdownReport};
