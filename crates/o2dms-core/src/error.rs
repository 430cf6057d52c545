//! The one error type every adapter returns.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What kind of thing an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Resource {
    /// A deployment (namespace + name).
    Deployment,
    /// A package (chart at a version).
    Package,
    /// A revision of a deployment.
    Revision,
    /// A pod or container, for logs.
    Workload,
    /// A namespace a deployment would live in.
    Namespace,
    /// A deployment manager of a DMS that hosts several (a server's `{dm}`).
    DeploymentManager,
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Resource::Deployment => "deployment",
            Resource::Package => "package",
            Resource::Revision => "revision",
            Resource::Workload => "workload",
            Resource::Namespace => "namespace",
            Resource::DeploymentManager => "deployment manager",
        })
    }
}

/// Errors returned by every [`DmsAdapter`](crate::DmsAdapter) operation.
///
/// Each variant is a kind a caller can act on; [`Error::kind`] gives the kind alone, for
/// events, reports and matching. Kinds may be added, so matches need a wildcard arm;
/// build errors with the constructors ([`Error::not_found`], [`Error::invalid`], ...).
///
/// Two errors are equal when their kind and fields are; the source a
/// [`Error::Backend`] may carry is not compared.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
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
    /// The backend refused the operation to the adapter's identity: the credentials it
    /// runs with lack a right (Kubernetes RBAC answering 403 Forbidden). Nothing was
    /// changed by the refused request; retrying will not help until the rights change, so
    /// say which right is missing to whoever grants them.
    #[error("permission denied: cannot {action}: {message}")]
    PermissionDenied {
        /// What was refused, as the backend names it: the verb and the resource, and where,
        /// e.g. `create secrets in namespace ran` or `list namespaces at the cluster scope`
        /// (for Kubernetes: the verb, the resource with its API group when not the core
        /// group, then the namespace). When the backend does not say, the adapter's own
        /// operation and target, e.g. `create_deployment ran/du-1`.
        action: String,
        /// The backend's message as it was given (for Kubernetes, it names the identity:
        /// `User "system:serviceaccount:o2dms:dms" cannot ...`).
        message: String,
    },
    /// The backend cannot be reached.
    #[error("backend unavailable: {message}")]
    Unavailable {
        /// What failed.
        message: String,
    },
    /// Anything else, with the backend's own message.
    #[error("backend error: {message}{}", cause(.source.as_deref()))]
    Backend {
        /// The backend's message.
        message: String,
        /// The error that caused it, when there is one (see [`Error::backend_from`]);
        /// [`std::error::Error::source`] returns it, and the message ends with it.
        #[source]
        source: Option<Arc<dyn std::error::Error + Send + Sync + 'static>>,
    },
}

/// `: <cause>` for a backend error with a source, so that the one line a caller prints
/// (an event, a problem detail, a log) still says what went wrong underneath.
fn cause(source: Option<&(dyn std::error::Error + Send + Sync + 'static)>) -> String {
    source.map(|s| format!(": {s}")).unwrap_or_default()
}

impl PartialEq for Error {
    fn eq(&self, other: &Self) -> bool {
        use Error::*;
        match (self, other) {
            (
                NotFound { resource, id },
                NotFound {
                    resource: r2,
                    id: i2,
                },
            )
            | (
                AlreadyExists { resource, id },
                AlreadyExists {
                    resource: r2,
                    id: i2,
                },
            ) => resource == r2 && id == i2,
            (
                Conflict {
                    resource,
                    id,
                    reason,
                },
                Conflict {
                    resource: r2,
                    id: i2,
                    reason: w2,
                },
            ) => resource == r2 && id == i2 && reason == w2,
            (
                InvalidArgument { field, reason },
                InvalidArgument {
                    field: f2,
                    reason: w2,
                },
            ) => field == f2 && reason == w2,
            (
                Unsupported { operation, reason },
                Unsupported {
                    operation: o2,
                    reason: w2,
                },
            ) => operation == o2 && reason == w2,
            (
                Timeout {
                    operation,
                    limit,
                    state,
                },
                Timeout {
                    operation: o2,
                    limit: l2,
                    state: s2,
                },
            ) => operation == o2 && limit == l2 && state == s2,
            (
                PermissionDenied { action, message },
                PermissionDenied {
                    action: a2,
                    message: m2,
                },
            ) => action == a2 && message == m2,
            (Unavailable { message }, Unavailable { message: m2 })
            | (Backend { message, .. }, Backend { message: m2, .. }) => message == m2,
            _ => false,
        }
    }
}

impl Eq for Error {}

/// The kind of an [`Error`], without its details.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
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
    /// See [`Error::PermissionDenied`].
    PermissionDenied,
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
            ErrorKind::PermissionDenied => "PermissionDenied",
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
            Error::PermissionDenied { .. } => ErrorKind::PermissionDenied,
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

    /// An [`Error::Timeout`]: `operation` did not finish within `limit`, leaving `state`.
    pub fn timeout(
        operation: impl Into<String>,
        limit: Duration,
        state: impl Into<String>,
    ) -> Self {
        Error::Timeout {
            operation: operation.into(),
            limit,
            state: state.into(),
        }
    }

    /// An [`Error::PermissionDenied`]: the backend refused `action` (the verb and resource
    /// as the backend names them, e.g. `create secrets in namespace ran`) with `message`.
    ///
    /// ```
    /// use o2dms_core::{Error, ErrorKind};
    /// let e = Error::permission_denied(
    ///     "create secrets in namespace ran",
    ///     r#"secrets is forbidden: User "system:serviceaccount:o2dms:dms" cannot create resource "secrets" in API group "" in the namespace "ran""#,
    /// );
    /// assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    /// assert!(e.to_string().starts_with("permission denied: cannot create secrets in namespace ran: "));
    /// ```
    pub fn permission_denied(action: impl Into<String>, message: impl Into<String>) -> Self {
        Error::PermissionDenied {
            action: action.into(),
            message: message.into(),
        }
    }

    /// An [`Error::Unavailable`]: the backend cannot be reached.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Error::Unavailable {
            message: message.into(),
        }
    }

    /// An [`Error::Backend`] with the backend's message.
    pub fn backend(message: impl Into<String>) -> Self {
        Error::Backend {
            message: message.into(),
            source: None,
        }
    }

    /// An [`Error::Backend`] with the backend's message and the error that caused it,
    /// kept as the [`source`](std::error::Error::source) for callers that walk the chain.
    ///
    /// ```
    /// use std::error::Error as _;
    /// let io = std::io::Error::new(std::io::ErrorKind::Other, "disk full");
    /// let e = o2dms_core::Error::backend_from("writing the values file", io);
    /// assert_eq!(e.to_string(), "backend error: writing the values file: disk full");
    /// assert_eq!(e.source().unwrap().to_string(), "disk full");
    /// ```
    pub fn backend_from(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error::Backend {
            message: message.into(),
            source: Some(Arc::new(source)),
        }
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_errors_keep_their_source_and_compare_by_message() {
        use std::error::Error as _;
        let io = std::io::Error::other("disk full");
        let e = Error::backend_from("writing values", io);
        assert_eq!(e.kind(), ErrorKind::Backend);
        assert_eq!(e.source().unwrap().to_string(), "disk full");
        assert_eq!(e, Error::backend("writing values"));
        assert_ne!(e, Error::backend("reading values"));
        assert!(Error::backend("x").source().is_none());
        let cloned = e.clone();
        assert_eq!(
            cloned.to_string(),
            "backend error: writing values: disk full"
        );
    }

    #[test]
    fn equality_is_per_kind_and_fields() {
        assert_eq!(
            Error::not_found(Resource::Deployment, "ns/a"),
            Error::not_found(Resource::Deployment, "ns/a")
        );
        assert_ne!(
            Error::not_found(Resource::Deployment, "ns/a"),
            Error::already_exists(Resource::Deployment, "ns/a")
        );
        assert_ne!(
            Error::timeout("create_deployment", Duration::from_secs(1), "failed"),
            Error::timeout("create_deployment", Duration::from_secs(2), "failed")
        );
        assert_eq!(Error::unavailable("down").kind(), ErrorKind::Unavailable);
    }

    #[test]
    fn permission_denied_names_the_refused_action() {
        let e = Error::permission_denied("list secrets in namespace ran", "secrets is forbidden");
        assert_eq!(e.kind(), ErrorKind::PermissionDenied);
        assert_eq!(ErrorKind::PermissionDenied.to_string(), "PermissionDenied");
        assert_eq!(
            e.to_string(),
            "permission denied: cannot list secrets in namespace ran: secrets is forbidden"
        );
        assert_eq!(
            e,
            Error::permission_denied("list secrets in namespace ran", "secrets is forbidden")
        );
        assert_ne!(
            e,
            Error::permission_denied("get secrets in namespace ran", "secrets is forbidden")
        );
        assert_ne!(
            e,
            Error::permission_denied("list secrets in namespace ran", "other message")
        );
        assert_ne!(e, Error::backend("secrets is forbidden"));
        assert_eq!(
            serde_json::to_string(&ErrorKind::PermissionDenied).unwrap(),
            "\"permission_denied\""
        );
    }
}
