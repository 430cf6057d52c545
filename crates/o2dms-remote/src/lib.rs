//! # o2dms-remote
//!
//! A [`DmsAdapter`](o2dms_core::DmsAdapter) over the O2-DMS REST API (`/o2dms/v1`, the
//! contract of [`o2dms_api`]): any DMS server, `o2dms serve` or an implementation in
//! another language, seen as an adapter. SMO clients in Rust use it, and so does the
//! conformance suite to check a server over the wire.
//!
//! - Reads are one `GET` each; errors come back as the exact [`o2dms_core::Error`] the
//!   server's problem carries (kind, resource, id, field, reason, limit).
//! - Writes ask the server to wait for their final answer (`Prefer: wait`); when it
//!   answers 202 instead, the write follows its operation resource to the end (polling,
//!   backing off to 1 s) and returns what the operation ended with.
//! - `info` and `capabilities` are read once, when connecting.
//! - Transport: keep-alive connections, TLS with rustls and verification on (private
//!   CAs with [`RemoteBuilder::root_certificate_pem`]), an optional bearer token
//!   ([`RemoteBuilder::bearer_token`]) and client certificate for mutual TLS
//!   ([`RemoteBuilder::client_identity_pem`]), never logged, bounded response sizes and
//!   time limits. A 401 is [`o2dms_core::Error::PermissionDenied`] saying which
//!   credentials to give.
//!
//! ```no_run
//! # async fn run() -> o2dms_core::Result<()> {
//! use o2dms_core::{CreateDeployment, DeploymentId, DmsAdapter, PackageId};
//!
//! let dms = o2dms_remote::RemoteAdapter::builder("http://127.0.0.1:8080/edge")
//!     .connect()
//!     .await?;
//! let id = DeploymentId::new("ran", "du-1")?;
//! let created = dms
//!     .create_deployment(CreateDeployment::new(id.clone(), PackageId::new("du@1.0.0")?))
//!     .await?;
//! assert_eq!(created.revision, 1);
//! dms.delete_deployment(&id).await?;
//! # Ok(()) }
//! ```

mod adapter;
mod builder;
mod endpoint;
mod follow;
mod transport;

pub use adapter::RemoteAdapter;
pub use builder::RemoteBuilder;
pub use endpoint::Endpoint;
