//! Removing the namespaces a run created on a Kubernetes cluster: those whose names start
//! with the run's prefix *and* that carry the label the Helm adapter puts on namespaces it
//! creates. Nothing else is touched.

use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{DeleteParams, ListParams};
use kube::Api;
use o2dms_conformance::NamespaceCleanup;

/// [`NamespaceCleanup`] through the Kubernetes API.
#[derive(Clone)]
pub struct KubeNamespaces {
    client: kube::Client,
    label: (String, String),
}

impl KubeNamespaces {
    /// Removes namespaces labelled as the Helm adapter's
    /// ([`o2dms_helm::CREATED_NAMESPACE_LABEL`]).
    pub fn new(client: kube::Client) -> Self {
        let (k, v) = o2dms_helm::CREATED_NAMESPACE_LABEL;
        KubeNamespaces {
            client,
            label: (k.to_owned(), v.to_owned()),
        }
    }

    /// The namespaces that a run with `prefix` created and that still exist (also those
    /// being deleted).
    ///
    /// # Errors
    /// The API server's error, as text.
    pub async fn remaining(&self, prefix: &str) -> Result<Vec<String>, String> {
        let api: Api<Namespace> = Api::all(self.client.clone());
        let selector = format!("{}={}", self.label.0, self.label.1);
        let list = api
            .list(&ListParams::default().labels(&selector))
            .await
            .map_err(|e| format!("listing namespaces: {e}"))?;
        Ok(list
            .items
            .into_iter()
            .filter_map(|n| n.metadata.name)
            .filter(|n| n.starts_with(prefix))
            .collect())
    }

    async fn remove(&self, prefix: &str) -> Result<Vec<String>, String> {
        // An empty prefix would match every namespace the adapter ever made.
        if prefix.is_empty() {
            return Err("refusing to remove namespaces with an empty prefix".into());
        }
        let api: Api<Namespace> = Api::all(self.client.clone());
        let names = self.remaining(prefix).await?;
        for name in &names {
            match api.delete(name, &DeleteParams::default()).await {
                Ok(_) => {}
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                Err(e) => return Err(format!("deleting namespace {name}: {e}")),
            }
        }
        // Wait until they are gone (the caller bounds the time).
        while !self.remaining(prefix).await?.is_empty() {
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        Ok(names)
    }
}

impl NamespaceCleanup for KubeNamespaces {
    fn remove_namespaces<'a>(
        &'a self,
        prefix: &'a str,
    ) -> BoxFuture<'a, Result<Vec<String>, String>> {
        self.remove(prefix).boxed()
    }
}
