//! Deployments, their one status enum, and the requests that change them.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::ids::{DeploymentId, PackageId};
use crate::time::Timestamp;
use crate::values::{Value, Values};

/// The one status of a deployment or of one of its revisions.
///
/// Each Helm status maps to exactly one value. [`DeploymentStatus::Superseded`] only
/// ever appears on old revisions in history, never on a live deployment. Statuses may be
/// added, so matches need a wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DeploymentStatus {
    /// Accepted, nothing applied yet (Helm `unknown`).
    Pending,
    /// First install in progress (Helm `pending-install`).
    Deploying,
    /// An update or scale in progress (Helm `pending-upgrade`).
    Upgrading,
    /// A rollback in progress (Helm `pending-rollback`).
    RollingBack,
    /// Applied and ready (Helm `deployed`).
    Deployed,
    /// The last operation failed or timed out (Helm `failed`).
    Failed,
    /// Removal in progress (Helm `uninstalling`).
    Deleting,
    /// Removed, history kept (Helm `uninstalled`).
    Deleted,
    /// An old revision replaced by a newer one (Helm `superseded`); history only.
    Superseded,
}

impl DeploymentStatus {
    /// Every status, in declaration order.
    pub const ALL: [DeploymentStatus; 9] = [
        DeploymentStatus::Pending,
        DeploymentStatus::Deploying,
        DeploymentStatus::Upgrading,
        DeploymentStatus::RollingBack,
        DeploymentStatus::Deployed,
        DeploymentStatus::Failed,
        DeploymentStatus::Deleting,
        DeploymentStatus::Deleted,
        DeploymentStatus::Superseded,
    ];

    /// Whether an operation is in progress (a writer holds the deployment).
    pub fn is_in_progress(self) -> bool {
        matches!(
            self,
            DeploymentStatus::Deploying
                | DeploymentStatus::Upgrading
                | DeploymentStatus::RollingBack
                | DeploymentStatus::Deleting
        )
    }

    /// The status's name as used in filters and reports (`rolling_back`).
    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentStatus::Pending => "pending",
            DeploymentStatus::Deploying => "deploying",
            DeploymentStatus::Upgrading => "upgrading",
            DeploymentStatus::RollingBack => "rolling_back",
            DeploymentStatus::Deployed => "deployed",
            DeploymentStatus::Failed => "failed",
            DeploymentStatus::Deleting => "deleting",
            DeploymentStatus::Deleted => "deleted",
            DeploymentStatus::Superseded => "superseded",
        }
    }
}

impl fmt::Display for DeploymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A deployment: a package running in a namespace under a name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deployment {
    /// Namespace and name.
    pub id: DeploymentId,
    /// The package the current revision runs.
    pub package: PackageId,
    /// The current revision (1 after create, +1 for every change).
    pub revision: u32,
    /// The one status.
    pub status: DeploymentStatus,
    /// What the last operation said.
    pub description: String,
    /// User labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// The user-supplied values of the current revision.
    #[serde(default)]
    pub values: Values,
    /// When revision 1 was created.
    pub created_at: Timestamp,
    /// When the current revision was made.
    pub updated_at: Timestamp,
    /// Backend details (`helm.releaseName`, `helm.revision`, `helm.chart`, `helm.status`).
    #[serde(default)]
    pub extensions: BTreeMap<String, Value>,
}

/// Create a deployment: [`CreateDeployment::new`], then the builder methods.
///
/// ```
/// use std::time::Duration;
/// use o2dms_core::{CreateDeployment, DeploymentId, PackageId};
/// let request = CreateDeployment::new(DeploymentId::new("ran", "du-1")?, PackageId::new("du@1.2.0")?)
///     .label("tier", "edge")
///     .description("first install")
///     .timeout(Duration::from_secs(120))
///     .scale_key("server.replicas");
/// assert_eq!(request.labels["tier"], "edge");
/// # Ok::<(), o2dms_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CreateDeployment {
    /// Namespace and name; must not exist yet.
    pub id: DeploymentId,
    /// The package to install (an id from list/get/upload).
    pub package: PackageId,
    /// User values.
    pub values: Values,
    /// User labels.
    pub labels: BTreeMap<String, String>,
    /// Description of the first revision.
    pub description: Option<String>,
    /// How long to wait for the workload to be ready (adapter default if unset).
    pub timeout: Option<Duration>,
    /// The values key `scale` sets for this deployment (adapter default if unset).
    pub scale_key: Option<String>,
}

impl CreateDeployment {
    /// A request to install `package` as `id`, with no values or labels.
    pub fn new(id: DeploymentId, package: PackageId) -> Self {
        CreateDeployment {
            id,
            package,
            values: Values::new(),
            labels: BTreeMap::new(),
            description: None,
            timeout: None,
            scale_key: None,
        }
    }

    /// With these values.
    pub fn values(mut self, values: Values) -> Self {
        self.values = values;
        self
    }

    /// With this label.
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// With these labels (replacing any set before).
    pub fn labels(mut self, labels: BTreeMap<String, String>) -> Self {
        self.labels = labels;
        self
    }

    /// With this description of the first revision.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// With this timeout (`None`: the adapter's default).
    pub fn timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.timeout = timeout.into();
        self
    }

    /// With this scale key.
    pub fn scale_key(mut self, key: impl Into<String>) -> Self {
        self.scale_key = Some(key.into());
        self
    }
}

/// How update values combine with the current ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValuesMode {
    /// Deep-merge into the current values ([`Values::merged`]). The default.
    #[default]
    Merge,
    /// Replace the current values entirely.
    Replace,
}

/// Update a deployment: new values and/or a new package. Makes exactly one new revision.
///
/// ```
/// use o2dms_core::{UpdateDeployment, Values, ValuesMode};
/// let mut values = Values::new();
/// values.insert("image", "du:1.3.0");
/// let merge = UpdateDeployment::new().values(values.clone());
/// assert_eq!(merge.mode, ValuesMode::Merge);
/// let replace = UpdateDeployment::new().replace_values(values).package("du@1.3.0".parse()?);
/// assert_eq!(replace.mode, ValuesMode::Replace);
/// # Ok::<(), o2dms_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct UpdateDeployment {
    /// A new package (for Helm, usually a new chart version).
    pub package: Option<PackageId>,
    /// Values to merge in or replace with (see `mode`).
    pub values: Values,
    /// Merge (default) or replace.
    pub mode: ValuesMode,
    /// Description of the new revision.
    pub description: Option<String>,
    /// How long to wait (adapter default if unset).
    pub timeout: Option<Duration>,
}

impl UpdateDeployment {
    /// An update that changes nothing yet (values merged, same package).
    pub fn new() -> Self {
        UpdateDeployment::default()
    }

    /// Move to this package.
    pub fn package(mut self, package: PackageId) -> Self {
        self.package = Some(package);
        self
    }

    /// These values, combined with the current ones as [`mode`](Self::mode) says (merged
    /// unless set otherwise).
    pub fn values(mut self, values: Values) -> Self {
        self.values = values;
        self
    }

    /// Replace the current values with these.
    pub fn replace_values(mut self, values: Values) -> Self {
        self.values = values;
        self.mode = ValuesMode::Replace;
        self
    }

    /// Combine the values this way.
    pub fn mode(mut self, mode: ValuesMode) -> Self {
        self.mode = mode;
        self
    }

    /// With this description of the new revision.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// With this timeout (`None`: the adapter's default).
    pub fn timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.timeout = timeout.into();
        self
    }
}

/// Scale a deployment through its values key: [`ScaleRequest::to`], then the builder
/// methods.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScaleRequest {
    /// The replica count to set; 0 is allowed.
    pub replicas: u32,
    /// Override the values key for this call (dotted path, e.g. `server.replicas`).
    pub key: Option<String>,
    /// How long to wait (adapter default if unset).
    pub timeout: Option<Duration>,
}

impl ScaleRequest {
    /// Scale to `replicas` with the deployment's own key.
    pub fn to(replicas: u32) -> Self {
        ScaleRequest {
            replicas,
            key: None,
            timeout: None,
        }
    }

    /// Through this values key for this call only.
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// With this timeout (`None`: the adapter's default).
    pub fn timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.timeout = timeout.into();
        self
    }
}

/// Roll a deployment back; makes a new revision.
///
/// ```
/// use o2dms_core::RollbackRequest;
/// assert_eq!(RollbackRequest::previous().revision, None);
/// assert_eq!(RollbackRequest::to_revision(2).revision, Some(2));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RollbackRequest {
    /// The revision to return to; the previous one if unset.
    pub revision: Option<u32>,
    /// How long to wait (adapter default if unset).
    pub timeout: Option<Duration>,
}

impl RollbackRequest {
    /// Back to the previous revision.
    pub fn previous() -> Self {
        RollbackRequest::default()
    }

    /// Back to `revision`.
    pub fn to_revision(revision: u32) -> Self {
        RollbackRequest {
            revision: Some(revision),
            timeout: None,
        }
    }

    /// With this timeout (`None`: the adapter's default).
    pub fn timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.timeout = timeout.into();
        self
    }
}
