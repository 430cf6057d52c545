//! The package resource.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use o2dms_core::{Error, PackageId, PackageSource, Timestamp, Value};

/// An installable package (for Helm, a chart at a version).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Package {
    /// The id create accepts (`du@1.2.0`); in a path, one percent-encoded segment.
    pub id: String,
    /// Package (chart) name.
    pub name: String,
    /// Package version.
    pub version: String,
    /// Version of the application it packages, if declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
    /// Human description.
    pub description: String,
    /// Where it came from.
    #[schema(schema_with = super::schema::package_source)]
    pub source: PackageSource,
    /// `sha256:<hex>` of the archive.
    pub digest: String,
    /// When it was stored (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Backend-specific details.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub extensions: BTreeMap<String, Value>,
}

impl From<o2dms_core::Package> for Package {
    fn from(p: o2dms_core::Package) -> Self {
        Package {
            id: p.id.to_string(),
            name: p.name,
            version: p.version,
            app_version: p.app_version,
            description: p.description,
            source: p.source,
            digest: p.digest,
            created_at: p.created_at,
            extensions: p.extensions,
        }
    }
}

impl TryFrom<Package> for o2dms_core::Package {
    type Error = Error;

    fn try_from(p: Package) -> Result<Self, Error> {
        Ok(o2dms_core::Package {
            id: PackageId::new(p.id).map_err(|e| rename(e, "id"))?,
            name: p.name,
            version: p.version,
            app_version: p.app_version,
            description: p.description,
            source: p.source,
            digest: p.digest,
            created_at: p.created_at,
            extensions: p.extensions,
        })
    }
}

/// `err` naming `field` instead of the core's name.
pub(crate) fn rename(err: Error, field: &str) -> Error {
    match err {
        Error::InvalidArgument { reason, .. } => Error::invalid(field, reason),
        other => other,
    }
}
