//! Proof that the reads, metadata, list, status, history and logs scenarios catch what
//! real adapters get wrong: each bug below wraps the mock, and the named scenarios must
//! fail with it while the plain mock passes them.

mod common;
use common::broken::{assert_caught, Bug};

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

use async_trait::async_trait;
use o2dms_core::{
    CreateDeployment, Deployment, DeploymentFilter, DeploymentId, DeploymentStatus, DmsAdapter,
    Error, HistoryOptions, LogOptions, Logs, Page, Resource, Result, Revision, RollbackRequest,
    ScaleRequest, StatusDetail, UpdateDeployment,
};
use o2dms_mock::MockAdapter;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Every page of a listing of the mock.
async fn all_of(m: &MockAdapter, filter: DeploymentFilter) -> Vec<Deployment> {
    let mut out = Vec::new();
    let mut f = filter;
    loop {
        let page = m.list_deployments(&f).await.unwrap();
        out.extend(page.items);
        match page.continue_token {
            Some(t) => f.page.continue_token = Some(t),
            None => return out,
        }
    }
}

/// Delete runs `helm uninstall --keep-history`: the release records stay, marked
/// uninstalled, and history keeps answering for a deleted deployment.
#[derive(Default)]
struct HistoryKeptAfterDelete {
    kept: Mutex<HashMap<DeploymentId, Vec<Revision>>>,
}

#[async_trait]
impl Bug for HistoryKeptAfterDelete {
    async fn delete_deployment(&self, m: &MockAdapter, id: &DeploymentId) -> Result<()> {
        let h = m.deployment_history(id, HistoryOptions::all()).await;
        m.delete_deployment(id).await?;
        if let Ok(mut h) = h {
            for r in &mut h {
                r.status = DeploymentStatus::Deleted;
            }
            lock(&self.kept).insert(id.clone(), h);
        }
        Ok(())
    }
    async fn create_deployment(&self, m: &MockAdapter, r: CreateDeployment) -> Result<Deployment> {
        lock(&self.kept).remove(&r.id);
        m.create_deployment(r).await
    }
    async fn deployment_history(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        o: HistoryOptions,
    ) -> Result<Vec<Revision>> {
        match m.deployment_history(id, o).await {
            Err(Error::NotFound { .. }) if lock(&self.kept).contains_key(id) => {
                Ok(lock(&self.kept)[id].clone())
            }
            other => other,
        }
    }
}

#[tokio::test]
async fn history_kept_after_delete() {
    assert_caught(
        HistoryKeptAfterDelete::default(),
        &["reads.deleted_is_not_found_everywhere"],
    )
    .await;
}

/// The adapter numbers revisions with its own counter per name, which a delete does not
/// reset: a re-created deployment continues where the deleted one stopped.
#[derive(Default)]
struct RevisionsContinueAfterRecreate {
    offsets: Mutex<HashMap<DeploymentId, u32>>,
}

impl RevisionsContinueAfterRecreate {
    fn shift(&self, d: &mut Deployment) {
        d.revision += lock(&self.offsets).get(&d.id).copied().unwrap_or(0);
    }
}

#[async_trait]
impl Bug for RevisionsContinueAfterRecreate {
    async fn delete_deployment(&self, m: &MockAdapter, id: &DeploymentId) -> Result<()> {
        let current = m.get_deployment(id).await?.revision;
        m.delete_deployment(id).await?;
        *lock(&self.offsets).entry(id.clone()).or_default() += current;
        Ok(())
    }
    async fn create_deployment(&self, m: &MockAdapter, r: CreateDeployment) -> Result<Deployment> {
        let mut d = m.create_deployment(r).await?;
        self.shift(&mut d);
        Ok(d)
    }
    async fn get_deployment(&self, m: &MockAdapter, id: &DeploymentId) -> Result<Deployment> {
        let mut d = m.get_deployment(id).await?;
        self.shift(&mut d);
        Ok(d)
    }
    async fn update_deployment(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        r: UpdateDeployment,
    ) -> Result<Deployment> {
        let mut d = m.update_deployment(id, r).await?;
        self.shift(&mut d);
        Ok(d)
    }
    async fn list_deployments(
        &self,
        m: &MockAdapter,
        f: &DeploymentFilter,
    ) -> Result<Page<Deployment>> {
        let mut page = m.list_deployments(f).await?;
        for d in &mut page.items {
            self.shift(d);
        }
        Ok(page)
    }
    async fn deployment_history(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        o: HistoryOptions,
    ) -> Result<Vec<Revision>> {
        let mut h = m.deployment_history(id, o).await?;
        let off = lock(&self.offsets).get(id).copied().unwrap_or(0);
        for r in &mut h {
            r.revision += off;
        }
        Ok(h)
    }
}

#[tokio::test]
async fn revisions_continue_after_recreate() {
    assert_caught(
        RevisionsContinueAfterRecreate::default(),
        &["reads.recreate_starts_fresh"],
    )
    .await;
}

/// Create labels the release records first, then installs: when the install is refused
/// (the name exists), the existing deployment has been relabelled.
#[derive(Default)]
struct LabelsWrittenBeforeInstall {
    labels: Mutex<HashMap<DeploymentId, BTreeMap<String, String>>>,
}

impl LabelsWrittenBeforeInstall {
    fn relabel(&self, d: &mut Deployment) {
        if let Some(l) = lock(&self.labels).get(&d.id) {
            d.labels = l.clone();
        }
    }
}

#[async_trait]
impl Bug for LabelsWrittenBeforeInstall {
    async fn create_deployment(&self, m: &MockAdapter, r: CreateDeployment) -> Result<Deployment> {
        lock(&self.labels).insert(r.id.clone(), r.labels.clone());
        m.create_deployment(r).await
    }
    async fn delete_deployment(&self, m: &MockAdapter, id: &DeploymentId) -> Result<()> {
        m.delete_deployment(id).await?;
        lock(&self.labels).remove(id);
        Ok(())
    }
    async fn get_deployment(&self, m: &MockAdapter, id: &DeploymentId) -> Result<Deployment> {
        let mut d = m.get_deployment(id).await?;
        self.relabel(&mut d);
        Ok(d)
    }
    async fn list_deployments(
        &self,
        m: &MockAdapter,
        f: &DeploymentFilter,
    ) -> Result<Page<Deployment>> {
        let mut page = m.list_deployments(f).await?;
        for d in &mut page.items {
            self.relabel(d);
        }
        Ok(page)
    }
}

#[tokio::test]
async fn labels_written_before_install() {
    assert_caught(
        LabelsWrittenBeforeInstall::default(),
        &["reads.refused_create_changes_nothing"],
    )
    .await;
}

/// The adapter records the outcome of every write on the deployment: a refused update or
/// rollback (bad input, a missing package or revision) marks it Failed.
#[derive(Default)]
struct RefusedWritesMarkFailed {
    failed: Mutex<HashMap<DeploymentId, String>>,
}

impl RefusedWritesMarkFailed {
    async fn record<T>(&self, m: &MockAdapter, id: &DeploymentId, r: Result<T>) -> Result<T> {
        match &r {
            Ok(_) => {
                lock(&self.failed).remove(id);
            }
            Err(e) if m.get_deployment(id).await.is_ok() => {
                lock(&self.failed).insert(id.clone(), format!("last operation failed: {e}"));
            }
            Err(_) => {}
        }
        r
    }
    fn mark(&self, d: &mut Deployment) {
        if let Some(why) = lock(&self.failed).get(&d.id) {
            d.status = DeploymentStatus::Failed;
            d.description = why.clone();
        }
    }
}

#[async_trait]
impl Bug for RefusedWritesMarkFailed {
    async fn update_deployment(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        r: UpdateDeployment,
    ) -> Result<Deployment> {
        let out = m.update_deployment(id, r).await;
        self.record(m, id, out).await
    }
    async fn rollback_deployment(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        r: RollbackRequest,
    ) -> Result<Deployment> {
        let out = m.rollback_deployment(id, r).await;
        self.record(m, id, out).await
    }
    async fn get_deployment(&self, m: &MockAdapter, id: &DeploymentId) -> Result<Deployment> {
        let mut d = m.get_deployment(id).await?;
        self.mark(&mut d);
        Ok(d)
    }
    async fn deployment_status(&self, m: &MockAdapter, id: &DeploymentId) -> Result<StatusDetail> {
        let mut s = m.deployment_status(id).await?;
        if let Some(why) = lock(&self.failed).get(id) {
            s.status = DeploymentStatus::Failed;
            s.message = why.clone();
        }
        Ok(s)
    }
}

#[tokio::test]
async fn refused_writes_mark_failed() {
    assert_caught(
        RefusedWritesMarkFailed::default(),
        &["reads.refused_update_and_rollback_change_nothing"],
    )
    .await;
}

/// The status message is the release's status string and nothing else: a failed
/// deployment's status says `failed` but not why.
struct StatusMessageIsStatusName;

#[async_trait]
impl Bug for StatusMessageIsStatusName {
    async fn deployment_status(&self, m: &MockAdapter, id: &DeploymentId) -> Result<StatusDetail> {
        let mut s = m.deployment_status(id).await?;
        s.message = s.status.as_str().to_owned();
        Ok(s)
    }
}

#[tokio::test]
async fn status_message_is_the_status_name() {
    assert_caught(StatusMessageIsStatusName, &["reads.failed_create_says_why"]).await;
}

/// List keeps `helm list`'s default filter: releases still being installed, upgraded or
/// rolled back (`pending-*`) are hidden unless a status filter asks for them.
struct ListHidesPending;

#[async_trait]
impl Bug for ListHidesPending {
    async fn list_deployments(
        &self,
        m: &MockAdapter,
        f: &DeploymentFilter,
    ) -> Result<Page<Deployment>> {
        let mut page = m.list_deployments(f).await?;
        if f.statuses.is_empty() {
            page.items.retain(|d| !d.status.is_in_progress());
        }
        Ok(page)
    }
}

#[tokio::test]
async fn list_hides_pending() {
    assert_caught(ListHidesPending, &["reads.pending_visible_during_install"]).await;
}

/// Get reads the first release record the store lists (revision 1, sorted by Secret
/// name) instead of the newest one.
struct GetReadsOldestRecord;

#[async_trait]
impl Bug for GetReadsOldestRecord {
    async fn get_deployment(&self, m: &MockAdapter, id: &DeploymentId) -> Result<Deployment> {
        let mut d = m.get_deployment(id).await?;
        let h = m.deployment_history(id, HistoryOptions::all()).await?;
        if let Some(first) = h.first() {
            d.revision = first.revision;
            d.package = first.package.clone();
            d.status = first.status;
            d.description = first.description.clone();
            d.values = first.values.clone();
            d.updated_at = first.updated_at;
        }
        Ok(d)
    }
}

#[tokio::test]
async fn get_reads_the_oldest_record() {
    assert_caught(GetReadsOldestRecord, &["reads.superseded_never_live"]).await;
}

/// History selects release records by name alone (`owner=helm,name=<name>` in every
/// namespace): deployments of one name in two namespaces share one history.
struct HistoryByNameOnly;

#[async_trait]
impl Bug for HistoryByNameOnly {
    async fn deployment_history(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        o: HistoryOptions,
    ) -> Result<Vec<Revision>> {
        let mine = m.deployment_history(id, o).await?;
        let mut all = Vec::new();
        for d in all_of(m, DeploymentFilter::all()).await {
            if d.id.name == id.name {
                if let Ok(h) = m.deployment_history(&d.id, o).await {
                    all.extend(h);
                }
            }
        }
        if all.is_empty() {
            return Ok(mine);
        }
        all.sort_by_key(|r| r.revision);
        Ok(all)
    }
}

#[tokio::test]
async fn history_by_name_only() {
    assert_caught(HistoryByNameOnly, &["reads.same_name_other_namespace"]).await;
}

/// Helm's "chart not found" comes back as a Backend error, not NotFound.
struct MissingPackageIsBackend;

#[async_trait]
impl Bug for MissingPackageIsBackend {
    async fn create_deployment(&self, m: &MockAdapter, r: CreateDeployment) -> Result<Deployment> {
        match m.create_deployment(r).await {
            Err(Error::NotFound {
                resource: Resource::Package,
                id,
            }) => Err(Error::backend(format!(
                "helm install: failed to download chart {id}"
            ))),
            other => other,
        }
    }
}

#[tokio::test]
async fn missing_package_is_backend() {
    assert_caught(
        MissingPackageIsBackend,
        &["reads.create_from_missing_package"],
    )
    .await;
}

/// Labels are written on the install's record only; the records an update or a scale
/// writes carry none (a rollback copies its target's, so they come back).
#[derive(Default)]
struct LabelsDroppedOnUpdate {
    unlabelled: Mutex<HashSet<DeploymentId>>,
}

impl LabelsDroppedOnUpdate {
    fn strip(&self, d: &mut Deployment) {
        if lock(&self.unlabelled).contains(&d.id) {
            d.labels.clear();
        }
    }
}

#[async_trait]
impl Bug for LabelsDroppedOnUpdate {
    async fn update_deployment(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        r: UpdateDeployment,
    ) -> Result<Deployment> {
        let mut d = m.update_deployment(id, r).await?;
        lock(&self.unlabelled).insert(id.clone());
        self.strip(&mut d);
        Ok(d)
    }
    async fn scale_deployment(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        r: ScaleRequest,
    ) -> Result<Deployment> {
        let mut d = m.scale_deployment(id, r).await?;
        lock(&self.unlabelled).insert(id.clone());
        self.strip(&mut d);
        Ok(d)
    }
    async fn delete_deployment(&self, m: &MockAdapter, id: &DeploymentId) -> Result<()> {
        m.delete_deployment(id).await?;
        lock(&self.unlabelled).remove(id);
        Ok(())
    }
    async fn get_deployment(&self, m: &MockAdapter, id: &DeploymentId) -> Result<Deployment> {
        let mut d = m.get_deployment(id).await?;
        self.strip(&mut d);
        Ok(d)
    }
    async fn list_deployments(
        &self,
        m: &MockAdapter,
        f: &DeploymentFilter,
    ) -> Result<Page<Deployment>> {
        let mut page = m.list_deployments(f).await?;
        let gone = lock(&self.unlabelled).clone();
        if !f.labels.is_empty() {
            page.items.retain(|d| !gone.contains(&d.id));
        }
        for d in &mut page.items {
            self.strip(d);
        }
        Ok(page)
    }
}

#[tokio::test]
async fn labels_dropped_on_update() {
    assert_caught(
        LabelsDroppedOnUpdate::default(),
        &["meta.labels_survive_writes"],
    )
    .await;
}

/// Update never passes `--description` to helm upgrade: every update is described as
/// `Upgrade complete`.
struct UpdateIgnoresDescription;

#[async_trait]
impl Bug for UpdateIgnoresDescription {
    async fn update_deployment(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        mut r: UpdateDeployment,
    ) -> Result<Deployment> {
        r.description = None;
        m.update_deployment(id, r).await
    }
}

#[tokio::test]
async fn update_ignores_description() {
    assert_caught(UpdateIgnoresDescription, &["meta.description_per_revision"]).await;
}

/// Created is read from the newest release record's creation time, so it moves with
/// every revision.
struct CreatedFollowsUpdated;

#[async_trait]
impl Bug for CreatedFollowsUpdated {
    async fn get_deployment(&self, m: &MockAdapter, id: &DeploymentId) -> Result<Deployment> {
        let mut d = m.get_deployment(id).await?;
        d.created_at = d.updated_at;
        Ok(d)
    }
    async fn list_deployments(
        &self,
        m: &MockAdapter,
        f: &DeploymentFilter,
    ) -> Result<Page<Deployment>> {
        let mut page = m.list_deployments(f).await?;
        for d in &mut page.items {
            d.created_at = d.updated_at;
        }
        Ok(page)
    }
}

#[tokio::test]
async fn created_follows_updated() {
    assert_caught(
        CreatedFollowsUpdated,
        &["meta.timestamps_move_with_revisions"],
    )
    .await;
}

/// Status caches what it read of the workloads the first time, and keeps serving those
/// replica counts after a scale.
#[derive(Default)]
struct StatusCountsCached {
    cache: Mutex<HashMap<DeploymentId, StatusDetail>>,
}

#[async_trait]
impl Bug for StatusCountsCached {
    async fn deployment_status(&self, m: &MockAdapter, id: &DeploymentId) -> Result<StatusDetail> {
        let fresh = m.deployment_status(id).await?;
        let mut cache = lock(&self.cache);
        let cached = cache.entry(id.clone()).or_insert_with(|| fresh.clone());
        Ok(StatusDetail {
            status: fresh.status,
            message: fresh.message,
            ..cached.clone()
        })
    }
    async fn delete_deployment(&self, m: &MockAdapter, id: &DeploymentId) -> Result<()> {
        m.delete_deployment(id).await?;
        lock(&self.cache).remove(id);
        Ok(())
    }
}

#[tokio::test]
async fn status_counts_cached() {
    assert_caught(
        StatusCountsCached::default(),
        &["status.replicas_follow_scale"],
    )
    .await;
}

/// Status derives the status from the workloads (ready: Deployed, else Deploying)
/// instead of the release, so it disagrees with get on a failed release.
struct StatusFromWorkloads;

#[async_trait]
impl Bug for StatusFromWorkloads {
    async fn deployment_status(&self, m: &MockAdapter, id: &DeploymentId) -> Result<StatusDetail> {
        let mut s = m.deployment_status(id).await?;
        s.status = if s.workloads.iter().all(|w| w.ready) {
            DeploymentStatus::Deployed
        } else {
            DeploymentStatus::Deploying
        };
        Ok(s)
    }
}

#[tokio::test]
async fn status_from_workloads() {
    assert_caught(StatusFromWorkloads, &["status.agrees_with_get"]).await;
}

/// A history limit larger than the revisions kept is refused instead of returning them all.
struct HistoryLimitPastEndRefused;

#[async_trait]
impl Bug for HistoryLimitPastEndRefused {
    async fn deployment_history(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        o: HistoryOptions,
    ) -> Result<Vec<Revision>> {
        let all = m.deployment_history(id, HistoryOptions::all()).await?;
        match o.limit {
            Some(l) if l as usize > all.len() => Err(Error::invalid(
                "limit",
                format!("exceeds the {} revisions kept", all.len()),
            )),
            _ => m.deployment_history(id, o).await,
        }
    }
}

#[tokio::test]
async fn history_limit_past_the_end_refused() {
    assert_caught(HistoryLimitPastEndRefused, &["history.limit_past_the_end"]).await;
}

/// History ignores the limit and returns every revision.
struct HistoryIgnoresLimit;

#[async_trait]
impl Bug for HistoryIgnoresLimit {
    async fn deployment_history(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        _: HistoryOptions,
    ) -> Result<Vec<Revision>> {
        m.deployment_history(id, HistoryOptions::all()).await
    }
}

#[tokio::test]
async fn history_ignores_limit() {
    assert_caught(
        HistoryIgnoresLimit,
        &["history.limit_past_the_end", "history.limit_keeps_newest"],
    )
    .await;
}

/// Across all namespaces list sorts by release name only, as `helm list -A` does.
struct ListSortedByNameOnly;

#[async_trait]
impl Bug for ListSortedByNameOnly {
    async fn list_deployments(
        &self,
        m: &MockAdapter,
        f: &DeploymentFilter,
    ) -> Result<Page<Deployment>> {
        let mut page = m.list_deployments(f).await?;
        if f.namespace.is_none() {
            page.items
                .sort_by(|a, b| (&a.id.name, &a.id.namespace).cmp(&(&b.id.name, &b.id.namespace)));
        }
        Ok(page)
    }
}

#[tokio::test]
async fn list_sorted_by_name_only() {
    assert_caught(ListSortedByNameOnly, &["list.order_across_namespaces"]).await;
}

/// Listing every namespace takes another path that forgets the label, package and
/// status filters.
struct AllNamespacesIgnoresFilters;

#[async_trait]
impl Bug for AllNamespacesIgnoresFilters {
    async fn list_deployments(
        &self,
        m: &MockAdapter,
        f: &DeploymentFilter,
    ) -> Result<Page<Deployment>> {
        let mut f = f.clone();
        if f.namespace.is_none() {
            f.labels.clear();
            f.statuses.clear();
            f.package_name = None;
        }
        m.list_deployments(&f).await
    }
}

#[tokio::test]
async fn all_namespaces_ignores_filters() {
    assert_caught(
        AllNamespacesIgnoresFilters,
        &["list.filters_across_namespaces"],
    )
    .await;
}

/// Logs select pods by the chart's label (`app.kubernetes.io/name`) instead of the
/// release's, so they include every deployment of the same package in the namespace.
struct LogsSelectByPackage;

#[async_trait]
impl Bug for LogsSelectByPackage {
    async fn deployment_logs(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        o: &LogOptions,
    ) -> Result<Logs> {
        let me = m.get_deployment(id).await?;
        let mut out = Logs::default();
        for d in all_of(m, DeploymentFilter::in_namespace(&id.namespace)).await {
            if d.package == me.package {
                let l = m.deployment_logs(&d.id, o).await?;
                out.lines.extend(l.lines);
                out.truncated |= l.truncated;
            }
        }
        Ok(out)
    }
}

#[tokio::test]
async fn logs_select_by_package() {
    assert_caught(LogsSelectByPackage, &["logs.own_only_in_shared_namespace"]).await;
}

/// Logs never pass `since` on to the pods' log reads.
struct LogsIgnoreSince;

#[async_trait]
impl Bug for LogsIgnoreSince {
    async fn deployment_logs(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        o: &LogOptions,
    ) -> Result<Logs> {
        let mut o = o.clone();
        o.since = None;
        m.deployment_logs(id, &o).await
    }
}

#[tokio::test]
async fn logs_ignore_since() {
    assert_caught(LogsIgnoreSince, &["logs.container_and_since_honoured"]).await;
}

/// `limit_bytes` is passed to every pod's log read as is (as `kubectl logs -l
/// --limit-bytes` does), so it bounds each pod, not the total.
struct LimitBytesPerPod;

#[async_trait]
impl Bug for LimitBytesPerPod {
    async fn deployment_logs(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        o: &LogOptions,
    ) -> Result<Logs> {
        let Some(limit) = o.limit_bytes else {
            return m.deployment_logs(id, o).await;
        };
        let mut all = o.clone();
        all.limit_bytes = None;
        let full = m.deployment_logs(id, &all).await?;
        let mut out = Logs::default();
        let mut pod = String::new();
        let mut budget = limit;
        for l in full.lines {
            if l.pod != pod {
                pod = l.pod.clone();
                budget = limit;
            }
            let cost = l.line.len() as u64 + 1;
            if cost > budget {
                out.truncated = true;
                budget = 0;
                continue;
            }
            budget -= cost;
            out.lines.push(l);
        }
        Ok(out)
    }
}

#[tokio::test]
async fn limit_bytes_per_pod() {
    assert_caught(LimitBytesPerPod, &["logs.limit_bytes_over_all_pods"]).await;
}
