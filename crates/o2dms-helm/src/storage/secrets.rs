//! Release records read straight from the API server: consistent lists of their
//! metadata and point reads of one revision, with no helm process and no cache.
//!
//! The labels Helm puts on every release Secret (`owner=helm`, `name`, `version`, `status`)
//! are enough to find the newest revision of every release, so listing fetches metadata
//! only and decodes just the records asked for.

use k8s_openapi::api::core::v1::Secret;
use kube::api::ListParams;
use kube::core::Selector;
use kube::{Api, Client};
use o2dms_core::{DeploymentId, Error, Resource, Result};

use super::record::secret_name;
use super::stored::{latest_revisions, stored, RevisionMeta, StoredRelease};
use crate::kube_error::kube_error;

/// Reads release records through the Kubernetes API.
#[derive(Clone)]
pub(crate) struct ReleaseSecrets {
    client: Client,
}

const PAGE: u32 = 500;

/// Helm's release Secrets (`owner=helm`), of one release when `name` is given.
fn selector(name: Option<&str>) -> Selector {
    let mut labels = vec![("owner".to_owned(), "helm".to_owned())];
    labels.extend(name.map(|n| ("name".to_owned(), n.to_owned())));
    labels.into_iter().collect()
}

impl ReleaseSecrets {
    /// A reader using `client`.
    pub(crate) fn new(client: Client) -> Self {
        ReleaseSecrets { client }
    }

    fn api(&self, namespace: Option<&str>) -> Api<Secret> {
        match namespace {
            Some(ns) => Api::namespaced(self.client.clone(), ns),
            None => Api::all(self.client.clone()),
        }
    }

    /// Metadata of every release Secret in `namespace` (all if `None`), optionally of one
    /// release. Follows the API server's own continue tokens.
    pub(crate) async fn list_meta(
        &self,
        namespace: Option<&str>,
        name: Option<&str>,
    ) -> Result<Vec<RevisionMeta>> {
        let api = self.api(namespace);
        let mut lp = ListParams::default()
            .labels_from(&selector(name))
            .limit(PAGE);
        let mut out = Vec::new();
        loop {
            let list = api.list_metadata(&lp).await.map_err(kube_error)?;
            out.extend(
                list.items
                    .iter()
                    .filter_map(|o| RevisionMeta::from_meta(&o.metadata)),
            );
            match list.metadata.continue_.filter(|c| !c.is_empty()) {
                Some(c) => lp = lp.continue_token(&c),
                None => break,
            }
        }
        Ok(out)
    }

    /// The newest revision's metadata of one release, `None` if it has no records.
    pub(crate) async fn latest_meta(&self, id: &DeploymentId) -> Result<Option<RevisionMeta>> {
        let metas = self.list_meta(Some(&id.namespace), Some(&id.name)).await?;
        Ok(latest_revisions(metas).into_values().next())
    }

    /// One revision, decoded; `None` if its Secret does not exist.
    pub(crate) async fn revision(
        &self,
        namespace: &str,
        name: &str,
        revision: u32,
    ) -> Result<Option<StoredRelease>> {
        let secret = self
            .api(Some(namespace))
            .get_opt(&secret_name(name, revision))
            .await
            .map_err(kube_error)?;
        secret.map(|s| stored(&s)).transpose()
    }

    /// The newest revision, decoded.
    pub(crate) async fn latest(&self, id: &DeploymentId) -> Result<Option<StoredRelease>> {
        // Two tries: the newest Secret can vanish between list and get (history pruning
        // or an uninstall racing us).
        for _ in 0..2 {
            let Some(meta) = self.latest_meta(id).await? else {
                return Ok(None);
            };
            if let Some(r) = self
                .revision(&id.namespace, &id.name, meta.revision)
                .await?
            {
                return Ok(Some(r));
            }
        }
        Ok(None)
    }

    /// The newest revision, or NotFound.
    pub(crate) async fn require(&self, id: &DeploymentId) -> Result<StoredRelease> {
        self.latest(id)
            .await?
            .ok_or_else(|| Error::not_found(Resource::Deployment, id))
    }

    /// Every stored revision, ascending.
    pub(crate) async fn all_revisions(&self, id: &DeploymentId) -> Result<Vec<StoredRelease>> {
        let api = self.api(Some(&id.namespace));
        let mut lp = ListParams::default()
            .labels_from(&selector(Some(&id.name)))
            .limit(PAGE);
        let mut out = Vec::new();
        loop {
            let list = api.list(&lp).await.map_err(kube_error)?;
            for s in &list.items {
                if RevisionMeta::from_meta(&s.metadata).is_some() {
                    out.push(stored(s)?);
                }
            }
            match list.metadata.continue_.filter(|c| !c.is_empty()) {
                Some(c) => lp = lp.continue_token(&c),
                None => break,
            }
        }
        out.sort_by_key(|r| r.release.version);
        Ok(out)
    }
}
