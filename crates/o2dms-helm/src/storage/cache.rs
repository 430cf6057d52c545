//! Decoded release records by Secret and resource version, so a list decodes each record
//! once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use k8s_openapi::api::core::v1::Secret;
use kube::{Api, Client};

use super::index::IndexedRevision;
use super::record::secret_name;
use super::stored::{stored, StoredRelease};
use crate::kube_error::kube_error;

/// Decoded records by Secret and resource version, so a list decodes each record once.
#[derive(Debug, Default)]
pub(crate) struct RecordCache {
    records: Mutex<HashMap<RecordKey, (String, Arc<StoredRelease>)>>,
}

/// Namespace, release name, revision.
type RecordKey = (String, String, u32);

/// Records kept at most; the cache starts over beyond this.
const MAX_CACHED: usize = 20_000;

impl RecordCache {
    /// The decoded record of `rev`, if cached at its current resource version.
    pub(crate) fn get(&self, rev: &IndexedRevision) -> Option<Arc<StoredRelease>> {
        let rv = rev.resource_version.as_deref()?;
        let m = &rev.meta;
        let records = self.records.lock().ok()?;
        let (cached_rv, record) =
            records.get(&(m.namespace.clone(), m.name.clone(), m.revision))?;
        (cached_rv == rv).then(|| record.clone())
    }

    /// The decoded record of `rev`: from the cache when it holds the resource version
    /// the index saw, else read from the API server (and cached). `None` if the Secret
    /// is gone.
    pub(crate) async fn read(
        &self,
        client: &Client,
        rev: &IndexedRevision,
    ) -> o2dms_core::Result<Option<Arc<StoredRelease>>> {
        if let Some(hit) = self.get(rev) {
            return Ok(Some(hit));
        }
        Ok(self.fetch(client, rev).await?.map(|(_, r)| r))
    }

    /// The record of `rev` read from the API server now (and cached), with the resource
    /// version read; `None` if the Secret is gone.
    pub(crate) async fn fetch(
        &self,
        client: &Client,
        rev: &IndexedRevision,
    ) -> o2dms_core::Result<Option<(Option<String>, Arc<StoredRelease>)>> {
        let m = &rev.meta;
        let api: Api<Secret> = Api::namespaced(client.clone(), &m.namespace);
        let Some(secret) = api
            .get_opt(&secret_name(&m.name, m.revision))
            .await
            .map_err(kube_error)?
        else {
            return Ok(None);
        };
        let record = Arc::new(stored(&secret)?);
        let rv = secret.metadata.resource_version;
        self.put(rv.as_deref(), record.clone());
        Ok(Some((rv, record)))
    }

    /// Remembers `record`, read at resource version `rv`.
    pub(crate) fn put(&self, rv: Option<&str>, record: Arc<StoredRelease>) {
        let Some(rv) = rv else { return };
        let Ok(mut records) = self.records.lock() else {
            return;
        };
        if records.len() >= MAX_CACHED {
            records.clear();
        }
        let r = &record.release;
        records.insert(
            (r.namespace.clone(), r.name.clone(), r.version),
            (rv.to_owned(), record),
        );
    }
}
