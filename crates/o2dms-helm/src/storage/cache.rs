//! Decoded release records by Secret and resource version, so a list decodes each record
//! once, within a budget of bytes: only the slim form of a record is kept (no chart
//! content, no manifest: see [`StoredRelease::slim`]), and the least useful records are
//! evicted first (quick_cache's S3-FIFO, weighted by [`StoredRelease::weight`]).

use std::sync::Arc;

use k8s_openapi::api::core::v1::Secret;
use kube::{Api, Client};
use quick_cache::sync::Cache;
use quick_cache::Weighter;

use super::index::IndexedRevision;
use super::record::secret_name;
use super::stored::{stored, StoredRelease};
use crate::kube_error::kube_error;

/// Namespace, release name, revision.
type RecordKey = (String, String, u32);

/// A cached record and the resource version it was read at.
type Entry = (String, Arc<StoredRelease>);

/// Weighs an entry by the bytes its record holds.
#[derive(Debug, Clone, Copy)]
struct ByBytes;

impl Weighter<RecordKey, Entry> for ByBytes {
    fn weight(&self, key: &RecordKey, entry: &Entry) -> u64 {
        (key.0.len() + key.1.len() + entry.0.len()) as u64 + entry.1.weight()
    }
}

/// Records by Secret, at most `budget` bytes of them.
pub(crate) struct RecordCache {
    records: Cache<RecordKey, Entry, ByBytes>,
}

/// The typical slim record, for sizing the cache's table.
const TYPICAL_RECORD_BYTES: u64 = 4 * 1024;

impl RecordCache {
    /// An empty cache holding at most about `budget` bytes of records.
    pub(crate) fn new(budget: u64) -> Self {
        let items = usize::try_from((budget / TYPICAL_RECORD_BYTES).max(16)).unwrap_or(usize::MAX);
        RecordCache {
            records: Cache::with_weighter(items, budget, ByBytes),
        }
    }

    /// The decoded (slim) record of `rev`, if cached at its current resource version.
    pub(crate) fn get(&self, rev: &IndexedRevision) -> Option<Arc<StoredRelease>> {
        let rv = rev.resource_version.as_deref()?;
        let m = &rev.meta;
        let (cached_rv, record) =
            self.records
                .get(&(m.namespace.clone(), m.name.clone(), m.revision))?;
        (cached_rv == rv).then_some(record)
    }

    /// The decoded record of `rev` for a read (slim): from the cache when it holds the
    /// resource version the index saw, else read from the API server (and cached).
    /// `None` if the Secret is gone.
    pub(crate) async fn read(
        &self,
        client: &Client,
        rev: &IndexedRevision,
    ) -> o2dms_core::Result<Option<Arc<StoredRelease>>> {
        if let Some(hit) = self.get(rev) {
            return Ok(Some(hit));
        }
        Ok(self
            .fetch(client, rev)
            .await?
            .map(|(_, whole)| Arc::new(whole.slim())))
    }

    /// The whole record of `rev` read from the API server now (its slim form cached),
    /// with the resource version read; `None` if the Secret is gone.
    pub(crate) async fn fetch(
        &self,
        client: &Client,
        rev: &IndexedRevision,
    ) -> o2dms_core::Result<Option<(Option<String>, StoredRelease)>> {
        let m = &rev.meta;
        let api: Api<Secret> = Api::namespaced(client.clone(), &m.namespace);
        let Some(secret) = api
            .get_opt(&secret_name(&m.name, m.revision))
            .await
            .map_err(kube_error)?
        else {
            return Ok(None);
        };
        let record = stored(&secret)?;
        let rv = secret.metadata.resource_version;
        self.put(rv.as_deref(), Arc::new(record.slim()));
        Ok(Some((rv, record)))
    }

    /// Remembers `record`, read at resource version `rv`.
    fn put(&self, rv: Option<&str>, record: Arc<StoredRelease>) {
        let Some(rv) = rv else { return };
        let r = &record.release;
        self.records.insert(
            (r.namespace.clone(), r.name.clone(), r.version),
            (rv.to_owned(), record),
        );
    }

    /// Bytes held now (by the records' weights).
    #[cfg(test)]
    pub(crate) fn weight(&self) -> u64 {
        self.records.weight()
    }
}

impl std::fmt::Debug for RecordCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordCache")
            .field("records", &self.records.len())
            .field("bytes", &self.records.weight())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::ByteString;
    use kube::api::ObjectMeta;

    /// A whole record of revision `rev` of `name` with `template_bytes` of templates and a
    /// manifest of the same size.
    fn record(name: &str, rev: u32, template_bytes: usize) -> StoredRelease {
        let big = "x".repeat(template_bytes);
        let json = serde_json::json!({
            "name": name, "namespace": "ns", "version": rev,
            "info": {"status": "deployed", "description": "Install complete"},
            "chart": {"metadata": {"name": "web", "version": "1.0.0"},
                      "templates": [{"name": "templates/a.yaml", "data": big}],
                      "values": {"replicaCount": 1}},
            "config": {"replicaCount": 2},
            "manifest": format!("---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  replicas: 2\n# {big}\n"),
        });
        let data = crate::storage::record::encode_release_json(json.to_string().as_bytes());
        let secret = Secret {
            metadata: ObjectMeta {
                name: Some(secret_name(name, rev)),
                namespace: Some("ns".into()),
                ..Default::default()
            },
            type_: Some("helm.sh/release.v1".into()),
            data: Some([("release".to_string(), ByteString(data.into_bytes()))].into()),
            ..Default::default()
        };
        stored(&secret).unwrap()
    }

    #[test]
    fn slim_records_keep_what_reads_need() {
        let whole = record("web", 1, 100_000);
        assert!(whole.is_whole() && whole.weight() > 200_000);
        let slim = whole.slim();
        assert!(!slim.is_whole());
        assert!(slim.weight() < 2_000, "{}", slim.weight());
        assert_eq!(slim.to_deployment(), whole.to_deployment());
        assert_eq!(slim.to_revision(), whole.to_revision());
        assert_eq!(slim.workloads, whole.workloads);
        assert_eq!(slim.workloads.len(), 1);
    }

    #[test]
    fn the_cache_stays_within_its_budget() {
        let budget = 1024 * 1024;
        let cache = RecordCache::new(budget);
        for i in 0..2_000 {
            let r = record(&format!("r{i}"), 1, 10);
            cache.put(Some("1"), Arc::new(r));
        }
        assert!(cache.weight() <= budget, "{} > {budget}", cache.weight());
        // a whole record bigger than the budget is not kept at all
        cache.put(Some("1"), Arc::new(record("huge", 1, 2 * 1024 * 1024)));
        assert!(cache.weight() <= budget);
    }
}
