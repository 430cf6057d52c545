//! The one write the adapter makes to Helm's records itself: ending a revision that a
//! writer left `pending-*` when it stopped before finishing, so that history does not
//! show it in progress for ever after a recovery.

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::ByteString;
use kube::api::PostParams;
use kube::{Api, Client};
use o2dms_core::{DeploymentId, Error, Resource, Result};

use super::record::{encode_release_json, release_json, secret_name, RELEASE_DATA_KEY};
use super::HelmStatus;
use crate::kube_error::kube_error;

/// Marks revision `revision` of `id` failed, with `description`, in its record and its
/// `status` label, if it is still pending. Replaced at the resource version read, so a
/// writer that changed it in between wins (Conflict).
pub(crate) async fn end_interrupted(
    client: &Client,
    id: &DeploymentId,
    revision: u32,
    description: &str,
) -> Result<()> {
    let api: Api<Secret> = Api::namespaced(client.clone(), &id.namespace);
    let name = secret_name(&id.name, revision);
    let Some(mut secret) = api.get_opt(&name).await.map_err(kube_error)? else {
        return Ok(());
    };
    let labels = secret.metadata.labels.get_or_insert_with(Default::default);
    let pending = labels
        .get("status")
        .is_some_and(|s| HelmStatus::parse(s).is_pending());
    if !pending {
        return Ok(());
    }
    labels.insert("status".into(), HelmStatus::Failed.as_str().into());
    let data = secret
        .data
        .get_or_insert_with(Default::default)
        .get_mut(RELEASE_DATA_KEY)
        .ok_or_else(|| Error::backend(format!("Secret {name} has no `release` data")))?;
    let mut record: serde_json::Value = serde_json::from_slice(&release_json(&data.0)?)
        .map_err(|e| Error::backend_from(format!("Secret {name}: not JSON"), e))?;
    record["info"]["status"] = HelmStatus::Failed.as_str().into();
    record["info"]["description"] = description.into();
    let json = serde_json::to_vec(&record)
        .map_err(|e| Error::backend_from(format!("Secret {name}: encoding"), e))?;
    *data = ByteString(encode_release_json(&json).into_bytes());
    match api.replace(&name, &PostParams::default(), &secret).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 409 => Err(Error::conflict(
            Resource::Deployment,
            id,
            format!("revision {revision} changed while it was being marked failed"),
        )),
        Err(e) => Err(kube_error(e)),
    }
}
