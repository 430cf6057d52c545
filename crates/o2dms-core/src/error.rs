//! The one error type every adapter returns.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What kind of thing an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resource {
    /// A deployment (namespace + name).
    Deployment,
    /// A package (chart at a version).
    Package,
    /// A revision of a deployment.
    Revision,
    /// A pod or container, for logs.
    Workload,
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Resource::Deployment => "deployment",
            Resource::Package => "package",
            Resource::Revision => "revision",
            Resource::Workload => "workload",
        })
    }
}

/// Errors returned by every [`DmsAdapter`](crate::DmsAdapter) operation.
///
/// Each variant is a kind a caller can act on; [`Error::kind`] gives the kind alone, for
/// events, reports and matching.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The thing asked for does not exist.
    #[error("{resource} `{id}` not found")]
    NotFound {
        /// What kind of thing.
        resource: Resource,
        /// Which one.
        id: String,
    },
    /// The thing to create exists already; nothing was changed.
    #[error("{resource} `{id}` already exists")]
    AlreadyExists {
        /// What kind of thing.
        resource: Resource,
        /// Which one.
        id: String,
    },
    /// A concurrent change, an operation in progress, or a thing still in use.
    #[error("conflict on {resource} `{id}`: {reason}")]
    Conflict {
        /// What kind of thing.
        resource: Resource,
        /// Which one.
        id: String,
        /// Why the change cannot be applied now.
        reason: String,
    },
    /// Bad input; nothing was written.
    #[error("invalid argument `{field}`: {reason}")]
    InvalidArgument {
        /// The field (or dotted path) that is wrong.
        field: String,
        /// The rule it breaks.
        reason: String,
    },
    /// The adapter does not support this operation.
    #[error("operation `{operation}` is not supported: {reason}")]
    Unsupported {
        /// The operation, e.g. `scale_deployment`.
        operation: String,
        /// Why (what is missing).
        reason: String,
    },
    /// The operation did not finish within its time limit.
    #[error("operation `{operation}` timed out after {limit:?}; {state}")]
    Timeout {
        /// The operation, e.g. `create_deployment`.
        operation: String,
        /// The limit that passed.
        limit: Duration,
        /// The state it left behind (for example "deployment is Failed").
        state: String,
    },
    /// The backend cannot be reached.
    #[error("backend unavailable: {message}")]
    Unavailable {
        /// What failed.
        message: String,
    },
    /// Anything else, with the backend's own message.
    #[error("backend error: {message}")]
    Backend {
        /// The backend's message.
        message: String,
    },
}

/// The kind of an [`Error`], without its details.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// See [`Error::NotFound`].
    NotFound,
    /// See [`Error::AlreadyExists`].
    AlreadyExists,
    /// See [`Error::Conflict`].
    Conflict,
    /// See [`Error::InvalidArgument`].
    InvalidArgument,
    /// See [`Error::Unsupported`].
    Unsupported,
    /// See [`Error::Timeout`].
    Timeout,
    /// See [`Error::Unavailable`].
    Unavailable,
    /// See [`Error::Backend`].
    Backend,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::NotFound => "NotFound",
            ErrorKind::AlreadyExists => "AlreadyExists",
            ErrorKind::Conflict => "Conflict",
            ErrorKind::InvalidArgument => "InvalidArgument",
            ErrorKind::Unsupported => "Unsupported",
            ErrorKind::Timeout => "Timeout",
            ErrorKind::Unavailable => "Unavailable",
            ErrorKind::Backend => "Backend",
        })
    }
}

impl Error {
    /// The kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::AlreadyExists { .. } => ErrorKind::AlreadyExists,
            Error::Conflict { .. } => ErrorKind::Conflict,
            Error::InvalidArgument { .. } => ErrorKind::InvalidArgument,
            Error::Unsupported { .. } => ErrorKind::Unsupported,
            Error::Timeout { .. } => ErrorKind::Timeout,
            Error::Unavailable { .. } => ErrorKind::Unavailable,
            Error::Backend { .. } => ErrorKind::Backend,
        }
    }

    /// A [`Error::NotFound`] for `resource` `id`.
    pub fn not_found(resource: Resource, id: impl fmt::Display) -> Self {
        Error::NotFound {
            resource,
            id: id.to_string(),
        }
    }

    /// An [`Error::AlreadyExists`] for `resource` `id`.
    pub fn already_exists(resource: Resource, id: impl fmt::Display) -> Self {
        Error::AlreadyExists {
            resource,
            id: id.to_string(),
        }
    }

    /// A [`Error::Conflict`] on `resource` `id`.
    pub fn conflict(resource: Resource, id: impl fmt::Display, reason: impl Into<String>) -> Self {
        Error::Conflict {
            resource,
            id: id.to_string(),
            reason: reason.into(),
        }
    }

    /// An [`Error::InvalidArgument`] naming `field` and the rule it breaks.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidArgument {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// An [`Error::Unsupported`] for `operation`.
    pub fn unsupported(operation: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Unsupported {
            operation: operation.into(),
            reason: reason.into(),
        }
    }

    /// An [`Error::Backend`] with the backend's message.
    pub fn backend(message: impl Into<String>) -> Self {
        Error::Backend {
            message: message.into(),
        }
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
