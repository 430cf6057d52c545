//! Proof that the suite catches bugs: deliberately broken adapters wrapping the mock
//! must each fail the named scenarios, which the plain mock passes. The harness (a `Bug`
//! overrides only what it breaks) is in `common/broken.rs`.

mod common;

use std::sync::Mutex;

use async_trait::async_trait;
use common::broken::{assert_caught, Bug};
use o2dms_core::{
    Deployment, DeploymentFilter, DeploymentId, DmsAdapter, Error, HistoryOptions, LogOptions,
    Logs, Page, Result, Revision, RollbackRequest, ScaleRequest, StatusDetail, UpdateDeployment,
    Value, ValuesMode,
};
use o2dms_mock::MockAdapter;

/// Rollback answers with the current deployment and makes no new revision.
struct RollbackWithoutNewRevision;

#[async_trait]
impl Bug for RollbackWithoutNewRevision {
    async fn rollback_deployment(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        r: RollbackRequest,
    ) -> Result<Deployment> {
        r.validate()?;
        m.get_deployment(id).await
    }
}

/// Merge updates replace the values: earlier values are dropped.
struct UpdateDropsValues;

#[async_trait]
impl Bug for UpdateDropsValues {
    async fn update_deployment(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        mut r: UpdateDeployment,
    ) -> Result<Deployment> {
        r.mode = ValuesMode::Replace;
        m.update_deployment(id, r).await
    }
}

/// List ignores the label and status filters.
struct ListIgnoresFilters;

#[async_trait]
impl Bug for ListIgnoresFilters {
    async fn list_deployments(
        &self,
        m: &MockAdapter,
        f: &DeploymentFilter,
    ) -> Result<Page<Deployment>> {
        let mut f = f.clone();
        f.labels.clear();
        f.statuses.clear();
        m.list_deployments(&f).await
    }
}

/// NotFound comes back as a Backend error, from every deployment read and write.
struct NotFoundAsBackend;

fn as_backend<T>(r: Result<T>) -> Result<T> {
    match r {
        Err(Error::NotFound { resource, id }) => Err(Error::backend(format!(
            "internal error: {resource} {id} missing"
        ))),
        other => other,
    }
}

#[async_trait]
impl Bug for NotFoundAsBackend {
    async fn get_deployment(&self, m: &MockAdapter, id: &DeploymentId) -> Result<Deployment> {
        as_backend(m.get_deployment(id).await)
    }
    async fn update_deployment(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        r: UpdateDeployment,
    ) -> Result<Deployment> {
        as_backend(m.update_deployment(id, r).await)
    }
    async fn delete_deployment(&self, m: &MockAdapter, id: &DeploymentId) -> Result<()> {
        as_backend(m.delete_deployment(id).await)
    }
    async fn scale_deployment(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        r: ScaleRequest,
    ) -> Result<Deployment> {
        as_backend(m.scale_deployment(id, r).await)
    }
    async fn rollback_deployment(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        r: RollbackRequest,
    ) -> Result<Deployment> {
        as_backend(m.rollback_deployment(id, r).await)
    }
    async fn deployment_status(&self, m: &MockAdapter, id: &DeploymentId) -> Result<StatusDetail> {
        as_backend(m.deployment_status(id).await)
    }
    async fn deployment_history(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        o: HistoryOptions,
    ) -> Result<Vec<Revision>> {
        as_backend(m.deployment_history(id, o).await)
    }
    async fn deployment_logs(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        o: &LogOptions,
    ) -> Result<Logs> {
        as_backend(m.deployment_logs(id, o).await)
    }
}

/// Scale reports success (with the asked replica count) but changes nothing.
struct ScaleDoesNothing;

#[async_trait]
impl Bug for ScaleDoesNothing {
    async fn scale_deployment(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        r: ScaleRequest,
    ) -> Result<Deployment> {
        r.validate()?;
        let mut d = m.get_deployment(id).await?;
        let key = r.key.as_deref().unwrap_or("replicaCount");
        d.values.set_path(key, Value::from(r.replicas));
        Ok(d)
    }
}

/// Delete removes the deployment but list keeps showing it.
#[derive(Default)]
struct DeleteLeavesListed {
    ghosts: Mutex<Vec<Deployment>>,
}

#[async_trait]
impl Bug for DeleteLeavesListed {
    async fn delete_deployment(&self, m: &MockAdapter, id: &DeploymentId) -> Result<()> {
        let before = m.get_deployment(id).await;
        m.delete_deployment(id).await?;
        if let Ok(d) = before {
            self.ghosts.lock().unwrap().push(d);
        }
        Ok(())
    }
    async fn list_deployments(
        &self,
        m: &MockAdapter,
        f: &DeploymentFilter,
    ) -> Result<Page<Deployment>> {
        let mut page = m.list_deployments(f).await?;
        if page.continue_token.is_none() {
            for g in self.ghosts.lock().unwrap().iter() {
                if f.namespace.as_deref().is_none_or(|ns| ns == g.id.namespace) {
                    page.items.push(g.clone());
                }
            }
        }
        Ok(page)
    }
}

#[tokio::test]
async fn rollback_without_a_new_revision_is_caught() {
    assert_caught(
        RollbackWithoutNewRevision,
        &[
            "rollback.creates_new_revision",
            "rollback.restores_package",
            "rollback.default_is_previous",
            "rollback.to_current_makes_new_revision",
            "history.records_rollback",
        ],
    )
    .await;
}

#[tokio::test]
async fn update_that_drops_values_is_caught() {
    assert_caught(
        UpdateDropsValues,
        &[
            "update.merge_keeps_earlier_values",
            "update.null_removes_a_key",
            "update.package_version_change",
            "concurrency.two_writers_no_lost_update",
        ],
    )
    .await;
}

#[tokio::test]
async fn list_that_ignores_filters_is_caught() {
    assert_caught(
        ListIgnoresFilters,
        &["list.label_filter", "list.status_filter"],
    )
    .await;
}

#[tokio::test]
async fn not_found_reported_as_another_kind_is_caught() {
    assert_caught(
        NotFoundAsBackend,
        &[
            "lifecycle.get_missing_is_not_found",
            "lifecycle.update_missing_is_not_found",
            "lifecycle.delete_missing_is_not_found",
            "rollback.missing_revision_is_not_found",
            "rollback.missing_deployment_is_not_found",
            "scale.missing_is_not_found",
            "status.missing_is_not_found",
            "history.missing_is_not_found",
            "logs.missing_deployment_is_not_found",
        ],
    )
    .await;
}

#[tokio::test]
async fn scale_that_changes_nothing_is_caught() {
    assert_caught(
        ScaleDoesNothing,
        &[
            "scale.replicas_reach_workload",
            "scale.keeps_other_values",
            "scale.to_zero",
            "scale.custom_key_per_deployment",
        ],
    )
    .await;
}

#[tokio::test]
async fn delete_that_leaves_the_deployment_listed_is_caught() {
    assert_caught(DeleteLeavesListed::default(), &["lifecycle.delete_removes"]).await;
}
