//! Several stores behind one: uploads go to the first, every other operation to the
//! store whose id shape it is, and list merges all of them in the one stable order.

use std::sync::Arc;

use async_trait::async_trait;
use o2dms_core::{
    Error, Package, PackageFilter, PackageId, PackageUpload, Page, PageRequest, Resource, Result,
    MAX_PAGE_SIZE,
};

use crate::{order, InstallSource, PackageStore};

/// Stores combined: `put` goes to the first store (the writable one, typically the
/// [`LocalDirStore`](crate::LocalDirStore)); `get`, `delete`, `archive` and
/// `install_source` go to the first store that [owns](PackageStore::owns) the id (none:
/// NotFound); `list` merges every store's packages, ordered by name, version, then id.
///
/// Ids keep their store's shape (`name@version`, `repo:name@version`,
/// `oci:name@version`), so each store should be of a different kind.
#[derive(Debug, Clone)]
pub struct MultiStore {
    stores: Vec<Arc<dyn PackageStore>>,
}

impl MultiStore {
    /// Combines `stores`; the first receives uploads. At least one store is required.
    pub fn new(stores: Vec<Arc<dyn PackageStore>>) -> Result<Self> {
        if stores.is_empty() {
            return Err(Error::invalid("stores", "at least one store is required"));
        }
        Ok(MultiStore { stores })
    }

    /// The combined stores, the upload target first.
    pub fn stores(&self) -> &[Arc<dyn PackageStore>] {
        &self.stores
    }

    fn route(&self, id: &PackageId) -> Result<&Arc<dyn PackageStore>> {
        self.stores
            .iter()
            .find(|s| s.owns(id))
            .ok_or_else(|| Error::not_found(Resource::Package, id))
    }
}

#[async_trait]
impl PackageStore for MultiStore {
    fn kind(&self) -> &'static str {
        "multi"
    }

    fn owns(&self, id: &PackageId) -> bool {
        self.stores.iter().any(|s| s.owns(id))
    }

    fn accepts_uploads(&self) -> bool {
        self.stores[0].accepts_uploads()
    }

    async fn put(&self, upload: PackageUpload) -> Result<Package> {
        self.stores[0].put(upload).await
    }

    async fn get(&self, id: &PackageId) -> Result<Package> {
        self.route(id)?.get(id).await
    }

    async fn list(&self, filter: &PackageFilter) -> Result<Page<Package>> {
        filter.page.effective_limit()?;
        let mut all = Vec::new();
        for store in &self.stores {
            let mut inner = PackageFilter::all().page(PageRequest::first(MAX_PAGE_SIZE));
            inner.name = filter.name.clone();
            loop {
                let page = store.list(&inner).await?;
                all.extend(page.items);
                match page.continue_token {
                    Some(t) => inner.page.continue_token = Some(t),
                    None => break,
                }
            }
        }
        order::paginate(all, filter)
    }

    async fn delete(&self, id: &PackageId) -> Result<()> {
        self.route(id)?.delete(id).await
    }

    async fn archive(&self, id: &PackageId) -> Result<Vec<u8>> {
        self.route(id)?.archive(id).await
    }

    async fn install_source(&self, id: &PackageId) -> Result<InstallSource> {
        self.route(id)?.install_source(id).await
    }
}
