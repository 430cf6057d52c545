//! What an adapter is and whether its backend is healthy.

use serde::{Deserialize, Serialize};

/// Who the adapter is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdapterInfo {
    /// Adapter name, e.g. `helm` or `mock`.
    pub name: String,
    /// Adapter version.
    pub version: String,
    /// Backend name, e.g. `helm`.
    pub backend: String,
    /// Backend version when known, e.g. `v4.1.4`.
    pub backend_version: Option<String>,
}

impl AdapterInfo {
    /// `name` at `version`, on `backend` of unknown version.
    pub fn new(
        name: impl Into<String>,
        version: impl Into<String>,
        backend: impl Into<String>,
    ) -> Self {
        AdapterInfo {
            name: name.into(),
            version: version.into(),
            backend: backend.into(),
            backend_version: None,
        }
    }

    /// With the backend's version.
    pub fn backend_version(mut self, version: impl Into<String>) -> Self {
        self.backend_version = Some(version.into());
        self
    }
}

/// Overall health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    /// Everything works.
    Healthy,
    /// Works, with problems.
    Degraded,
    /// Does not work.
    Unhealthy,
}

/// The result of a health check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// Overall health.
    pub status: HealthStatus,
    /// What was checked and what was seen.
    pub message: String,
}

impl Health {
    /// Healthy, with what was checked.
    pub fn healthy(message: impl Into<String>) -> Self {
        Health {
            status: HealthStatus::Healthy,
            message: message.into(),
        }
    }

    /// Unhealthy, with what was seen.
    pub fn unhealthy(message: impl Into<String>) -> Self {
        Health {
            status: HealthStatus::Unhealthy,
            message: message.into(),
        }
    }
}
