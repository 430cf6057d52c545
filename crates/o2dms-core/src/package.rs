//! Packages: installable artifacts (for Helm, a chart at a version).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::PackageId;
use crate::page::PageRequest;
use crate::time::Timestamp;
use crate::values::Value;

/// Where a package came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PackageSource {
    /// Uploaded through [`DmsAdapter::upload_package`](crate::DmsAdapter::upload_package).
    Uploaded,
    /// From a chart repository.
    Repository,
    /// From an OCI registry.
    Oci,
}

/// An installable package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Package {
    /// The id create accepts.
    pub id: PackageId,
    /// Package (chart) name.
    pub name: String,
    /// Package version (SemVer for Helm charts).
    pub version: String,
    /// Version of the application it packages, if declared.
    pub app_version: Option<String>,
    /// Human description.
    pub description: String,
    /// Where it came from.
    pub source: PackageSource,
    /// `sha256:<hex>` of the archive.
    pub digest: String,
    /// When it was stored.
    pub created_at: Timestamp,
    /// Backend-specific details.
    #[serde(default)]
    pub extensions: BTreeMap<String, Value>,
}

/// An upload: the archive bytes and optional expectations about them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PackageUpload {
    /// The archive (for Helm, a chart `.tgz`). Untrusted.
    pub content: Vec<u8>,
    /// If set, the archive's package name must equal this.
    pub expected_name: Option<String>,
    /// If set, the archive's version must equal this.
    pub expected_version: Option<String>,
}

impl PackageUpload {
    /// An upload of `content` with no expectations.
    pub fn new(content: Vec<u8>) -> Self {
        PackageUpload {
            content,
            ..Default::default()
        }
    }

    /// The archive's package name must be `name`.
    pub fn expected_name(mut self, name: impl Into<String>) -> Self {
        self.expected_name = Some(name.into());
        self
    }

    /// The archive's version must be `version`.
    pub fn expected_version(mut self, version: impl Into<String>) -> Self {
        self.expected_version = Some(version.into());
        self
    }
}

/// Which packages to list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PackageFilter {
    /// Only packages with this name (all its versions).
    pub name: Option<String>,
    /// Page size and continue token.
    #[serde(default)]
    pub page: PageRequest,
}

impl PackageFilter {
    /// Every package.
    pub fn all() -> Self {
        PackageFilter::default()
    }

    /// Every version of the package called `name`.
    pub fn named(name: impl Into<String>) -> Self {
        PackageFilter {
            name: Some(name.into()),
            page: PageRequest::default(),
        }
    }

    /// This page.
    pub fn page(mut self, page: PageRequest) -> Self {
        self.page = page;
        self
    }
}

/// Options for deleting a package.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeletePackageOptions {
    /// Delete even while a deployment uses it (otherwise that is a Conflict).
    pub force: bool,
}

impl DeletePackageOptions {
    /// Delete only when no deployment uses the package.
    pub fn new() -> Self {
        DeletePackageOptions::default()
    }

    /// Delete even while a deployment uses it.
    pub fn forced() -> Self {
        DeletePackageOptions { force: true }
    }
}
