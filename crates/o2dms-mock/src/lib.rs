//! # o2dms-mock
//!
//! An in-memory [`DmsAdapter`](o2dms_core::DmsAdapter) with Helm's semantics (revisions,
//! superseded history, `--history-max` pruning, rollback as a new revision, the
//! `pending-*` lock) and fault injection, for the tests of anything built on the trait:
//! REST servers, SMO clients, wrappers, and the conformance suite itself.
//!
//! - [`MockAdapter::builder`] sets packages, the scale key, the history limit, the
//!   default timeout and the [`Clock`].
//! - [`MockAdapter::from_settings`] makes a mock from [`MockSettings`], its packages
//!   and misbehaving packages as data (the `config` block of a `type: mock` plugin).
//! - [`MockAdapter::faults`] injects failures and latency per [`Operation`](o2dms_core::Operation), leaves
//!   deployments stuck `pending-*`, and makes packages misbehave by name
//!   ([`Faults::package_never_ready`], [`Faults::package_ignores_scale`]).
//! - Every timestamp comes from the [`Clock`]; with a [`ManualClock`] the tests own time,
//!   and a create that times out advances it instead of sleeping.
//!
//! ## Semantics in brief
//! - Deployments are keyed by namespace + name. Create makes revision 1 (`Install
//!   complete`); update, scale and rollback each make exactly one new revision
//!   (`Upgrade complete`, `Rollback to N`) and mark the previous one `Superseded`. At most
//!   `max_history` revisions are kept (oldest pruned first; a pruned revision cannot be
//!   rolled back to). Delete removes the deployment and its history.
//! - Each deployment runs one simulated `Deployment` workload with pods `<name>-0..N-1`,
//!   each with one container `app`. N is the integer at the scale key in the package's
//!   default values merged with the user's values (1 if there is none). Log lines are
//!   deterministic (4 per pod), written when the current revision rolled out (`LogOptions::since`
//!   keeps them only while they are that recent).
//! - A write whose package is marked never-ready waits its whole timeout (request's, else
//!   the builder's default, 5 minutes) on the clock, writes the revision as `Failed`, and
//!   returns [`Error::Timeout`](o2dms_core::Error::Timeout). A scale on a package marked
//!   as ignoring the scale key writes the revision as `Failed` and returns
//!   [`Error::Backend`](o2dms_core::Error::Backend).
//! - Lists are ordered by (namespace, name), packages by name then version (simple
//!   SemVer numerically, pre-releases first; other versions after those, as text). Continue
//!   tokens are opaque; `total` counts every match across pages.
//! - Writes take one store-wide write lock, so writes are serialized: two writes to one
//!   deployment never apply to the same base revision. Injected latency is slept before
//!   the lock is taken.
//!
//! ```
//! use o2dms_core::{CreateDeployment, DeploymentId, DeploymentStatus, DmsAdapter, ScaleRequest,
//!     Value, Values};
//! use o2dms_mock::{MockAdapter, PackageSpec};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> o2dms_core::Result<()> {
//! let mock = MockAdapter::builder()
//!     .package(PackageSpec::new("du", "1.2.0").values(Values::from_pairs([
//!         ("replicaCount", Value::from(1)),
//!         ("image", Value::from("du:1.2.0")),
//!     ])))
//!     .build();
//!
//! let id = DeploymentId::new("ran", "du-1")?;
//! let created = mock
//!     .create_deployment(CreateDeployment::new(id.clone(), "du@1.2.0".parse()?))
//!     .await?;
//! assert_eq!((created.revision, created.status), (1, DeploymentStatus::Deployed));
//!
//! let scaled = mock.scale_deployment(&id, ScaleRequest::to(3)).await?;
//! assert_eq!(scaled.revision, 2);
//! assert_eq!(scaled.values.get("replicaCount"), Some(&Value::from(3)));
//!
//! let status = mock.deployment_status(&id).await?;
//! assert_eq!((status.replicas.desired, status.replicas.ready, status.progress), (3, 3, 100));
//! # Ok(())
//! # }
//! ```

/// The repository README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;

mod adapter;
mod builder;
mod clock;
mod faults;
mod settings;
mod state;
mod upload;
mod workload;

use std::fmt;
use std::sync::Arc;

pub use builder::{
    MockBuilder, PackageSpec, DEFAULT_MAX_HISTORY, DEFAULT_SCALE_KEY, DEFAULT_TIMEOUT,
};
pub use clock::{Clock, ManualClock, SystemClock};
pub use faults::Faults;
pub use settings::{MockFaults, MockPackage, MockSettings};

use state::Shared;

/// The in-memory adapter. A cheap, cloneable handle: clones share one store, one set
/// of faults and one clock. `Send + Sync` and safe under concurrent calls; every write
/// is applied atomically, so two writes to one deployment never apply to the same base
/// revision (they are serialized).
#[derive(Clone)]
pub struct MockAdapter {
    shared: Arc<Shared>,
}

impl MockAdapter {
    /// A builder with no packages, [`SystemClock`], scale key `replicaCount`, history
    /// limit 10 and a 5-minute default timeout.
    pub fn builder() -> MockBuilder {
        MockBuilder::default()
    }

    /// A mock with the defaults of [`MockAdapter::builder`].
    pub fn new() -> Self {
        MockBuilder::default().build()
    }

    /// The fault-injection handle.
    pub fn faults(&self) -> Faults {
        Faults {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Adds (or replaces) a package directly, as the builder's
    /// [`MockBuilder::package`] does; returns it as `get_package` will.
    pub fn add_package(&self, spec: PackageSpec) -> o2dms_core::Result<o2dms_core::Package> {
        let now = self.shared.clock.now();
        let (key, stored) = spec.into_stored(now)?;
        let package = stored.package.clone();
        self.shared.write().packages.insert(key, stored);
        Ok(package)
    }

    /// The number of deployments stored.
    pub fn deployment_count(&self) -> usize {
        self.shared.read().deployments.len()
    }
}

impl Default for MockAdapter {
    fn default() -> Self {
        MockAdapter::new()
    }
}

impl fmt::Debug for MockAdapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.shared.read();
        f.debug_struct("MockAdapter")
            .field("deployments", &st.deployments.len())
            .field("packages", &st.packages.len())
            .field("config", &self.shared.config)
            .finish()
    }
}
