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
#[non_exhaustive]
pub struct PageRequest {
    /// Items per page, 1..=[`MAX_PAGE_SIZE`]; [`DEFAULT_PAGE_SIZE`] if unset.
    pub limit: Option<u32>,
    /// The token from the previous page's [`Page::continue_token`].
    pub continue_token: Option<String>,
}

impl PageRequest {
    /// A page of `limit` items (the default size if `None`), after the page that returned
    /// `continue_token` (the first page if `None`).
    pub fn new(limit: Option<u32>, continue_token: Option<String>) -> Self {
        PageRequest {
            limit,
            continue_token,
        }
    }

    /// The first page of `limit` items.
    pub fn first(limit: u32) -> Self {
        PageRequest {
            limit: Some(limit),
            continue_token: None,
        }
    }

    /// The page after the one that returned `token`, of `limit` items.
    pub fn next(limit: Option<u32>, token: impl Into<String>) -> Self {
        PageRequest {
            limit,
            continue_token: Some(token.into()),
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

impl<T> Page<T> {
    /// A page with nothing in it, and nothing after it.
    pub fn empty() -> Self {
        Page {
            items: Vec::new(),
            continue_token: None,
            total: Some(0),
        }
    }
}

/// Which deployments to list. Nothing is hidden by default: pending, failed and
/// deleting deployments are listed unless a status filter excludes them.
///
/// ```
/// use o2dms_core::{DeploymentFilter, DeploymentStatus, PageRequest};
/// let f = DeploymentFilter::in_namespace("ran")
///     .status(DeploymentStatus::Failed)
///     .label("tier", "edge")
///     .page(PageRequest::first(50));
/// assert_eq!(f.page.limit, Some(50));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
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
    /// Every deployment in every namespace.
    pub fn all() -> Self {
        DeploymentFilter::default()
    }

    /// All deployments in `namespace`.
    pub fn in_namespace(namespace: impl Into<String>) -> Self {
        DeploymentFilter {
            namespace: Some(namespace.into()),
            ..Default::default()
        }
    }

    /// Only this namespace.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// Also this status (the filter keeps deployments with any of the statuses given).
    pub fn status(mut self, status: DeploymentStatus) -> Self {
        self.statuses.push(status);
        self
    }

    /// Only these statuses (replacing any given before).
    pub fn statuses(mut self, statuses: impl IntoIterator<Item = DeploymentStatus>) -> Self {
        self.statuses = statuses.into_iter().collect();
        self
    }

    /// Only deployments with this label too.
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// Only deployments with all these labels (replacing any given before).
    pub fn labels(mut self, labels: BTreeMap<String, String>) -> Self {
        self.labels = labels;
        self
    }

    /// Only deployments of this package name.
    pub fn package_name(mut self, name: impl Into<String>) -> Self {
        self.package_name = Some(name.into());
        self
    }

    /// This page.
    pub fn page(mut self, page: PageRequest) -> Self {
        self.page = page;
        self
    }
}
