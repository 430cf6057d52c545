//! The scenario catalogue, one module per group.

use o2dms_core::{
    Deployment, DeploymentFilter, DeploymentId, DmsAdapter, HistoryOptions, PageRequest, Revision,
    UpdateDeployment, Values, ValuesMode,
};

use crate::check::{Failure, ResultExt};
use crate::context::Context;
use crate::scenario::Scenario;

mod bad_input;
mod bounds;
mod capabilities;
mod concurrency;
mod events;
mod history;
mod lifecycle;
mod list;
mod logs;
mod metadata;
mod packages;
mod reads;
mod recovery;
mod rollback;
mod scale;
mod status;
mod timeouts;
mod update;

/// Capability lists used by the scenarios.
pub(crate) mod caps {
    pub const LIFECYCLE: &[&str] = &["deployment_lifecycle"];
    pub const LABELS: &[&str] = &["deployment_lifecycle", "labels"];
    pub const HISTORY: &[&str] = &["deployment_lifecycle", "history"];
    pub const ROLLBACK: &[&str] = &["deployment_lifecycle", "rollback"];
    pub const ROLLBACK_HISTORY: &[&str] = &["deployment_lifecycle", "rollback", "history"];
    pub const SCALING: &[&str] = &["deployment_lifecycle", "scaling"];
    pub const SCALING_STATUS: &[&str] = &["deployment_lifecycle", "scaling", "status_detail"];
    pub const STATUS: &[&str] = &["deployment_lifecycle", "status_detail"];
    pub const TIMEOUTS: &[&str] = &["deployment_lifecycle", "timeouts"];
    pub const TIMEOUTS_STATUS: &[&str] = &["deployment_lifecycle", "timeouts", "status_detail"];
    pub const PACKAGES: &[&str] = &["package_management"];
    pub const PACKAGES_LIFECYCLE: &[&str] = &["package_management", "deployment_lifecycle"];
    pub const UPLOAD: &[&str] = &["package_management", "package_upload"];
    pub const UPLOAD_LIFECYCLE: &[&str] = &[
        "package_management",
        "package_upload",
        "deployment_lifecycle",
    ];
    pub const LOGS: &[&str] = &["deployment_lifecycle", "logs"];
    pub const LABELS_WRITES: &[&str] = &["deployment_lifecycle", "labels", "scaling", "rollback"];
    pub const ROLLBACK_SCALING_HISTORY: &[&str] =
        &["deployment_lifecycle", "rollback", "scaling", "history"];
    pub const SCALING_ROLLBACK_STATUS: &[&str] = &[
        "deployment_lifecycle",
        "scaling",
        "rollback",
        "status_detail",
    ];
    pub const TIMEOUTS_SCALING: &[&str] = &["deployment_lifecycle", "timeouts", "scaling"];
    pub const TIMEOUTS_ROLLBACK: &[&str] = &["deployment_lifecycle", "timeouts", "rollback"];
    pub const TIMEOUTS_HISTORY: &[&str] = &["deployment_lifecycle", "timeouts", "history"];
    pub const SCALING_HISTORY: &[&str] = &["deployment_lifecycle", "scaling", "history"];
    pub const ROLLBACK_SCALING: &[&str] = &["deployment_lifecycle", "rollback", "scaling"];
}

/// Every scenario of the catalogue, in a stable order (by group, as documented).
pub fn catalogue() -> Vec<Scenario> {
    let mut all = Vec::new();
    all.extend(lifecycle::scenarios());
    all.extend(update::scenarios());
    all.extend(rollback::scenarios());
    all.extend(scale::scenarios());
    all.extend(status::scenarios());
    all.extend(history::scenarios());
    all.extend(list::scenarios());
    all.extend(packages::scenarios());
    all.extend(bad_input::scenarios());
    all.extend(concurrency::scenarios());
    all.extend(events::scenarios());
    all.extend(logs::scenarios());
    all.extend(reads::scenarios());
    all.extend(metadata::scenarios());
    all.extend(timeouts::scenarios());
    all.extend(recovery::scenarios());
    all.extend(bounds::scenarios());
    all.extend(capabilities::scenarios());
    all
}

/// Values from JSON text written in the catalogue.
pub(crate) fn vals(json: &str) -> Values {
    serde_json::from_str(json).expect("catalogue JSON is valid")
}

/// `get_deployment`, which must succeed.
pub(crate) async fn get(
    adapter: &dyn DmsAdapter,
    id: &DeploymentId,
) -> Result<Deployment, Failure> {
    adapter
        .get_deployment(id)
        .await
        .step(&format!("get_deployment({id})"))
}

/// A merge update with `values`, which must succeed.
pub(crate) async fn update(
    adapter: &dyn DmsAdapter,
    cx: &Context,
    id: &DeploymentId,
    values: Values,
    mode: ValuesMode,
) -> Result<Deployment, Failure> {
    let request = UpdateDeployment::new()
        .values(values)
        .mode(mode)
        .timeout(cx.operation_timeout());
    adapter
        .update_deployment(id, request)
        .await
        .step(&format!("update_deployment({id})"))
}

/// The full history, which must be readable.
pub(crate) async fn history(
    adapter: &dyn DmsAdapter,
    id: &DeploymentId,
) -> Result<Vec<Revision>, Failure> {
    adapter
        .deployment_history(id, HistoryOptions::default())
        .await
        .step(&format!("deployment_history({id})"))
}

/// Revision numbers of a history.
pub(crate) fn numbers(h: &[Revision]) -> Vec<u32> {
    h.iter().map(|r| r.revision).collect()
}

/// Every page of a listing, following continue tokens (at most 10 000 pages).
pub(crate) async fn list_all(
    adapter: &dyn DmsAdapter,
    mut filter: DeploymentFilter,
) -> Result<Vec<Deployment>, Failure> {
    let mut out = Vec::new();
    for _ in 0..10_000 {
        let page = adapter
            .list_deployments(&filter)
            .await
            .step("list_deployments")?;
        out.extend(page.items);
        match page.continue_token {
            Some(t) => filter.page = PageRequest::next(filter.page.limit, t),
            None => return Ok(out),
        }
    }
    Err(Failure::mismatch(
        "list_deployments to end within 10000 pages",
        "continue tokens never ran out",
    ))
}

/// Names of deployments in `namespace` (every page).
pub(crate) async fn names_in(
    adapter: &dyn DmsAdapter,
    namespace: &str,
) -> Result<Vec<String>, Failure> {
    let items = list_all(adapter, DeploymentFilter::in_namespace(namespace)).await?;
    Ok(items.into_iter().map(|d| d.id.name).collect())
}
