//! The deployment resource.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use o2dms_core::{DeploymentId, DeploymentStatus, Error, PackageId, Timestamp, Value, Values};

/// A deployment: a package running in a namespace under a name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    /// The namespace it lives in.
    pub namespace: String,
    /// Its name, unique in the namespace.
    pub name: String,
    /// The package id the current revision runs.
    pub package: String,
    /// The current revision (1 after create, +1 for every change).
    pub revision: u32,
    /// The one status.
    #[schema(schema_with = super::schema::deployment_status)]
    pub status: DeploymentStatus,
    /// What the last operation said.
    pub description: String,
    /// User labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// The user-supplied values of the current revision.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub values: Values,
    /// When revision 1 was created (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// When the current revision was made (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// Backend details (`helm.releaseName`, `helm.revision`, ...).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub extensions: BTreeMap<String, Value>,
}

impl From<o2dms_core::Deployment> for Deployment {
    fn from(d: o2dms_core::Deployment) -> Self {
        Deployment {
            namespace: d.id.namespace,
            name: d.id.name,
            package: d.package.to_string(),
            revision: d.revision,
            status: d.status,
            description: d.description,
            labels: d.labels,
            values: d.values,
            created_at: d.created_at,
            updated_at: d.updated_at,
            extensions: d.extensions,
        }
    }
}

impl TryFrom<Deployment> for o2dms_core::Deployment {
    type Error = Error;

    fn try_from(d: Deployment) -> Result<Self, Error> {
        Ok(o2dms_core::Deployment {
            id: DeploymentId::new(d.namespace, d.name)?,
            package: PackageId::new(d.package)?,
            revision: d.revision,
            status: d.status,
            description: d.description,
            labels: d.labels,
            values: d.values,
            created_at: d.created_at,
            updated_at: d.updated_at,
            extensions: d.extensions,
        })
    }
}
