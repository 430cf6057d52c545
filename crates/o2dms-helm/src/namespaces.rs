//! Deployments' namespaces: a create needs its namespace to exist, or the adapter creates
//! it when the settings allow (`createNamespace`), labelled as the adapter's; a delete may
//! remove a namespace the adapter created once no release is left in it
//! (`deleteCreatedNamespaces`). Namespaces the adapter did not create are never touched.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{DeleteParams, ObjectMeta, PostParams};
use kube::Api;
use o2dms_core::{Error, Resource, Result};

use crate::action::Context;
use crate::kube_error::kube_error;

/// The label (key, value) on a namespace the adapter created (`createNamespace`).
pub const CREATED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "o2dms");

/// How long a create waits for a namespace the adapter created, and is deleting after
/// the namespace's last deployment went, to be gone before making it again.
const TERMINATING_WAIT: Duration = Duration::from_secs(120);

/// Whether the adapter created `ns` (it carries [`CREATED_BY`]).
fn created_by_adapter(ns: &Namespace) -> bool {
    ns.metadata
        .labels
        .as_ref()
        .is_some_and(|l| l.get(CREATED_BY.0).map(String::as_str) == Some(CREATED_BY.1))
}

/// Makes sure `namespace` exists before an install: NotFound naming it, unless the
/// settings let the adapter create it (labelled as the adapter's). A namespace being
/// deleted cannot take new objects: one the adapter created (and is removing after its
/// last deployment, `deleteCreatedNamespaces`) is waited for and made again; another is
/// Unavailable, saying so.
pub(crate) async fn ensure(cx: &Context, namespace: &str) -> Result<()> {
    let api: Api<Namespace> = Api::all(cx.client.clone());
    let waiting_since = Instant::now();
    loop {
        let found = cx
            .storage
            .bounded(async { api.get_opt(namespace).await.map_err(kube_error) })
            .await?;
        match found {
            None => break,
            Some(ns) if ns.metadata.deletion_timestamp.is_none() => return Ok(()),
            Some(ns) => {
                if !(cx.config.create_namespace && created_by_adapter(&ns)) {
                    return Err(Error::unavailable(format!(
                        "namespace {namespace} is being deleted; create the deployment again once it is gone"
                    )));
                }
                if waiting_since.elapsed() > TERMINATING_WAIT {
                    return Err(Error::unavailable(format!(
                        "namespace {namespace} is still being deleted after {TERMINATING_WAIT:?}"
                    )));
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    }
    if !cx.config.create_namespace {
        return Err(Error::not_found(Resource::Namespace, namespace));
    }
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some(namespace.to_owned()),
            labels: Some(BTreeMap::from([(
                CREATED_BY.0.to_owned(),
                CREATED_BY.1.to_owned(),
            )])),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    cx.storage
        .bounded(async {
            match api.create(&PostParams::default(), &ns).await {
                Ok(_) => Ok(()),
                // created at the same moment by another create: it exists, as asked
                Err(kube::Error::Api(s)) if s.code == 409 => Ok(()),
                Err(e) => Err(kube_error(e)),
            }
        })
        .await
}

/// After a delete: removes `namespace` when the settings ask for it, the adapter created
/// it, and no release is left in it. Failures are logged, not returned: the deployment is
/// deleted either way.
pub(crate) async fn remove_if_created(cx: &Context, namespace: &str) {
    if !cx.config.delete_created_namespaces {
        return;
    }
    let outcome = async {
        if !cx.storage.heads(Some(namespace)).await?.is_empty() {
            return Ok(false);
        }
        let api: Api<Namespace> = Api::all(cx.client.clone());
        let created_here = cx
            .storage
            .bounded(async { api.get_opt(namespace).await.map_err(kube_error) })
            .await?
            .is_some_and(|ns| created_by_adapter(&ns));
        if !created_here {
            return Ok(false);
        }
        cx.storage
            .bounded(async {
                api.delete(namespace, &DeleteParams::background())
                    .await
                    .map_err(kube_error)
            })
            .await?;
        Ok::<_, Error>(true)
    };
    match outcome.await {
        Ok(true) => tracing::info!(%namespace, "deleted the namespace the adapter created"),
        Ok(false) => {}
        Err(e) => tracing::warn!(%namespace, error = %e, "could not delete the namespace"),
    }
}
