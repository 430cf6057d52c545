//! JSON bodies and query strings of every request and response, with OpenAPI schemas
//! ([`utoipa::ToSchema`]) and conversions to and from the `o2dms-core` types.
//!
//! Requests refuse unknown members (decode them with [`crate::json::decode`] to get a
//! problem naming the member); responses tolerate them. A conversion from the wire
//! that can fail returns [`Error::InvalidArgument`] naming the wire member path
//! (`items[2].package`); it checks only what a core type cannot hold (ids, durations),
//! leaving every other rule to the adapter.

mod deployment;
mod info;
mod operation;
mod package;
mod page;
mod query;
mod requests;
mod schema;
mod status;

pub use deployment::Deployment;
pub use info::{AdapterInfo, Capabilities, DeploymentManager, DeploymentManagerList, Health};
pub use operation::{OperationOccurrence, OperationState, OperationTarget};
pub use package::Package;
pub use page::Page;
pub use query::{
    DeletePackageQuery, HistoryQuery, ListDeploymentsQuery, ListOperationsQuery, ListPackagesQuery,
    LogsQuery, UploadPackageQuery,
};
pub use requests::{
    CreateDeploymentRequest, RollbackDeploymentRequest, ScaleDeploymentRequest,
    UpdateDeploymentRequest,
};
pub use status::{
    Condition, LogLine, Logs, ReplicaCounts, Revision, Revisions, StatusDetail, WorkloadStatus,
};

use o2dms_core::Error;

/// `err` with its field put under `prefix` (`items[2]` + `package` = `items[2].package`).
pub(crate) fn at(prefix: &str, err: Error) -> Error {
    match err {
        Error::InvalidArgument { field, reason } => Error::InvalidArgument {
            field: format!("{prefix}.{field}"),
            reason,
        },
        other => other,
    }
}
