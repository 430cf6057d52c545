//! Real servers on loopback for tests and for `cargo xtask conformance --store repo|oci`:
//! a static HTTP server ([`StaticServer`], `python3 -m http.server`) over a chart
//! repository directory, and Debian's `docker-registry` ([`Registry`], CNCF distribution).
//! Each binds 127.0.0.1 only, on a [`free_port`], waits a bounded time for its first HTTP
//! answer, and is stopped by its own pid (SIGKILL, then reaped) when its value drops, also
//! when the caller fails or panics.
//!
//! Everything here is blocking (`std::process`, short sleeps while a server comes up):
//! call it before starting a runtime, or from `spawn_blocking`.
//!
//! ```no_run
//! use o2dms_cluster::servers::{Registry, StaticServer};
//!
//! let registry = Registry::start()?;
//! println!("push to oci://{}/charts", registry.addr());
//!
//! let repo = StaticServer::start(std::path::Path::new("/srv/charts"))?;
//! println!("helm repo add local {}", repo.url());
//! # Ok::<(), o2dms_cluster::ClusterError>(())
//! ```

mod registry;
mod start;
mod static_files;

pub use crate::ports::free_port;
pub use registry::{Registry, RegistryOptions};
pub use static_files::StaticServer;
