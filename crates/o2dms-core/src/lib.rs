//! # o2dms-core
//!
//! The O2-DMS data model, the [`DmsAdapter`] trait, the one [`Error`] enum, and the
//! validation every adapter shares. No async runtime and no Kubernetes client: REST
//! servers and SMO clients can depend on the types alone.
//!
//! ```
//! use o2dms_core::{CreateDeployment, DeploymentId, PackageId, Values, Error};
//!
//! let id = DeploymentId::new("ran", "du-1")?;
//! let mut values = Values::new();
//! values.insert("replicaCount", 3);
//! let request = CreateDeployment::new(id, PackageId::new("du@1.2.0")?).values(values);
//! request.validate()?;
//!
//! let bad = DeploymentId::new("ran", "DU_1").unwrap_err();
//! assert!(matches!(bad, Error::InvalidArgument { ref field, .. } if field == "name"));
//! # Ok::<(), Error>(())
//! ```

mod adapter;
mod capabilities;
mod deployment;
mod error;
mod events;
mod history;
mod ids;
mod info;
mod logs;
mod operation;
mod package;
mod page;
mod status;
mod time;
pub mod validate;
mod values;
mod wrapper;

pub use adapter::DmsAdapter;
pub use async_trait::async_trait;
pub use capabilities::Capabilities;
pub use deployment::{
    CreateDeployment, Deployment, DeploymentStatus, RollbackRequest, ScaleRequest,
    UpdateDeployment, ValuesMode,
};
pub use error::{Error, ErrorKind, Resource, Result};
pub use events::{EventPhase, OperationEvent};
pub use history::{HistoryOptions, Revision};
pub use ids::{DeploymentId, PackageId};
pub use info::{AdapterInfo, Health, HealthStatus};
pub use logs::{LogLine, LogOptions, Logs};
pub use operation::Operation;
pub use package::{DeletePackageOptions, Package, PackageFilter, PackageSource, PackageUpload};
pub use page::{DeploymentFilter, Page, PageRequest, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
pub use status::{Condition, ConditionStatus, ReplicaCounts, StatusDetail, WorkloadStatus};
pub use time::Timestamp;
pub use values::{Value, Values};
pub use wrapper::{Call, CallFuture, CallOutput, Target, Wrapper};
