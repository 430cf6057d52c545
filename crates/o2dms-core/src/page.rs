//! Filters and pages: a limit, an opaque continue token, and a stable order.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::deployment::DeploymentStatus;

/// The page size used when a request sets none.
pub const DEFAULT_PAGE_SIZE: u32 = 100;
/// The largest page size accepted.
pub const MAX_PAGE_SIZE: u32 = 1000;

/// Page size and where to continue.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRequest {
    /// Items per page, 1..=[`MAX_PAGE_SIZE`]; [`DEFAULT_PAGE_SIZE`] if unset.
    pub limit: Option<u32>,
    /// The token from the previous page's [`Page::continue_token`].
    pub continue_token: Option<String>,
}

impl PageRequest {
    /// The first page of `limit` items.
    pub fn first(limit: u32) -> Self {
        PageRequest {
            limit: Some(limit),
            continue_token: None,
        }
    }

    /// The limit to apply, validated.
    pub fn effective_limit(&self) -> Result<usize, crate::Error> {
        let l = self.limit.unwrap_or(DEFAULT_PAGE_SIZE);
        crate::validate::page_limit("limit", l)?;
        Ok(l as usize)
    }
}

/// One page of results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items, in the adapter's stable order.
    pub items: Vec<T>,
    /// Pass this back to get the next page; `None` on the last page.
    pub continue_token: Option<String>,
    /// How many items match the filter across all pages, when the adapter knows it.
    /// Never the size of this page.
    pub total: Option<u64>,
}

/// Which deployments to list. Nothing is hidden by default: pending, failed and
/// deleting deployments are listed unless a status filter excludes them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentFilter {
    /// Only this namespace (all if unset).
    pub namespace: Option<String>,
    /// Only these statuses (all if empty).
    #[serde(default)]
    pub statuses: Vec<DeploymentStatus>,
    /// Only deployments with all these labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Only deployments of this package name.
    pub package_name: Option<String>,
    /// Page size and continue token.
    #[serde(default)]
    pub page: PageRequest,
}

impl DeploymentFilter {
    /// All deployments in `namespace`.
    pub fn in_namespace(namespace: impl Into<String>) -> Self {
        DeploymentFilter {
            namespace: Some(namespace.into()),
            ..Default::default()
        }
    }
}
