//! Bodies of the deployment writes. Unknown members are refused.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use o2dms_core::{
    CreateDeployment, DeploymentId, Error, PackageId, RollbackRequest, ScaleRequest,
    UpdateDeployment, Values, ValuesMode,
};

use crate::duration::{opt_from_seconds, opt_to_seconds};

/// `POST deployments`: install a package as a new deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateDeploymentRequest {
    /// The namespace; with `name`, must not exist yet.
    pub namespace: String,
    /// The deployment's name.
    pub name: String,
    /// The package id to install.
    pub package: String,
    /// User values.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub values: Values,
    /// User labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Description of the first revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// How long to wait for readiness, in seconds (the adapter's default if absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<f64>,
    /// The values key scale sets for this deployment (the adapter's default if absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_key: Option<String>,
}

impl From<CreateDeployment> for CreateDeploymentRequest {
    fn from(r: CreateDeployment) -> Self {
        CreateDeploymentRequest {
            namespace: r.id.namespace,
            name: r.id.name,
            package: r.package.to_string(),
            values: r.values,
            labels: r.labels,
            description: r.description,
            timeout_seconds: opt_to_seconds(r.timeout),
            scale_key: r.scale_key,
        }
    }
}

impl TryFrom<CreateDeploymentRequest> for CreateDeployment {
    type Error = Error;

    fn try_from(r: CreateDeploymentRequest) -> Result<Self, Error> {
        let id = DeploymentId::new(r.namespace, r.name)?;
        let mut out = CreateDeployment::new(id, PackageId::new(r.package)?)
            .values(r.values)
            .labels(r.labels)
            .timeout(opt_from_seconds("timeoutSeconds", r.timeout_seconds)?);
        out.description = r.description;
        out.scale_key = r.scale_key;
        Ok(out)
    }
}

/// `PATCH deployments/{namespace}/{name}`: new values and/or package; one new revision.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateDeploymentRequest {
    /// A new package id (absent: the same package).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// Values to merge in or replace with.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub values: Values,
    /// `merge` (the default) or `replace`.
    #[serde(default)]
    #[schema(schema_with = super::schema::values_mode)]
    pub mode: ValuesMode,
    /// Description of the new revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// How long to wait, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<f64>,
}

impl From<UpdateDeployment> for UpdateDeploymentRequest {
    fn from(r: UpdateDeployment) -> Self {
        UpdateDeploymentRequest {
            package: r.package.map(|p| p.to_string()),
            values: r.values,
            mode: r.mode,
            description: r.description,
            timeout_seconds: opt_to_seconds(r.timeout),
        }
    }
}

impl TryFrom<UpdateDeploymentRequest> for UpdateDeployment {
    type Error = Error;

    fn try_from(r: UpdateDeploymentRequest) -> Result<Self, Error> {
        let mut out = UpdateDeployment::new()
            .values(r.values)
            .mode(r.mode)
            .timeout(opt_from_seconds("timeoutSeconds", r.timeout_seconds)?);
        out.package = r.package.map(PackageId::new).transpose()?;
        out.description = r.description;
        Ok(out)
    }
}

/// `POST .../scale`: set the replica count through the values key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScaleDeploymentRequest {
    /// The replica count; 0 is allowed.
    pub replicas: u32,
    /// The values key for this call (dotted path), instead of the deployment's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// How long to wait, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<f64>,
}

impl From<ScaleRequest> for ScaleDeploymentRequest {
    fn from(r: ScaleRequest) -> Self {
        ScaleDeploymentRequest {
            replicas: r.replicas,
            key: r.key,
            timeout_seconds: opt_to_seconds(r.timeout),
        }
    }
}

impl TryFrom<ScaleDeploymentRequest> for ScaleRequest {
    type Error = Error;

    fn try_from(r: ScaleDeploymentRequest) -> Result<Self, Error> {
        let mut out = ScaleRequest::to(r.replicas)
            .timeout(opt_from_seconds("timeoutSeconds", r.timeout_seconds)?);
        out.key = r.key;
        Ok(out)
    }
}

/// `POST .../rollback`: a new revision with the package and values of an earlier one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RollbackDeploymentRequest {
    /// The revision to return to (absent: the previous one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<u32>,
    /// How long to wait, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<f64>,
}

impl From<RollbackRequest> for RollbackDeploymentRequest {
    fn from(r: RollbackRequest) -> Self {
        RollbackDeploymentRequest {
            revision: r.revision,
            timeout_seconds: opt_to_seconds(r.timeout),
        }
    }
}

impl TryFrom<RollbackDeploymentRequest> for RollbackRequest {
    type Error = Error;

    fn try_from(r: RollbackDeploymentRequest) -> Result<Self, Error> {
        let mut out = RollbackRequest::previous()
            .timeout(opt_from_seconds("timeoutSeconds", r.timeout_seconds)?);
        out.revision = r.revision;
        Ok(out)
    }
}
