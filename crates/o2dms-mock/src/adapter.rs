//! The [`DmsAdapter`] implementation.

use std::ops::Bound;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use o2dms_core::{
    AdapterInfo, Capabilities, CreateDeployment, DeletePackageOptions, Deployment,
    DeploymentFilter, DeploymentId, DeploymentStatus, DmsAdapter, Error, Health, HealthStatus,
    HistoryOptions, LogOptions, Logs, Operation, Package, PackageFilter, PackageId, PackageUpload,
    Page, Resource, Result, Revision, RollbackRequest, ScaleRequest, StatusDetail,
    UpdateDeployment, Value, ValuesMode,
};

use crate::faults::Faults;
use crate::state::{token, PackageKey, Record, Rev, State, StoredPackage};
use crate::workload;
use crate::MockAdapter;

/// What a write does once its new revision is applied.
enum Wait {
    /// Create: `Install`.
    Install,
    /// Update and scale: `Upgrade`; scale also checks the replica count reached.
    Upgrade { scale_to: Option<u32> },
    /// Rollback: `Rollback`.
    Rollback,
}

impl MockAdapter {
    /// Applies injected latency and failures for `operation`.
    async fn enter(&self, operation: Operation) -> Result<()> {
        if !self.shared.faults_armed.load(Ordering::Acquire) {
            return Ok(());
        }
        let (delay, err) = Faults::take(&self.shared, operation);
        if let Some(d) = delay {
            tokio::time::sleep(d).await;
        }
        err.map_or(Ok(()), Err)
    }

    fn new_rev(&self, revision: u32, pkg: &StoredPackage, values: o2dms_core::Values) -> Rev {
        Rev {
            revision,
            package: pkg.package.id.clone(),
            package_name: pkg.package.name.clone(),
            package_version: pkg.package.version.clone(),
            defaults: Arc::clone(&pkg.defaults),
            values,
            status: DeploymentStatus::Deployed,
            description: String::new(),
            updated_at: self.shared.clock.now(),
        }
    }

    /// Simulates waiting for `rev`'s workload. On failure the revision is marked Failed
    /// (as Helm writes it) and the error to return is given back.
    fn settle(
        &self,
        st: &State,
        id: &DeploymentId,
        scale_key: &str,
        rev: &mut Rev,
        wait: Wait,
        timeout: Duration,
    ) -> Option<Error> {
        let observed = workload::observe(st, rev, scale_key);
        let (verb, operation) = match wait {
            Wait::Install => ("Install", "create_deployment"),
            Wait::Upgrade { scale_to: Some(_) } => ("Upgrade", "scale_deployment"),
            Wait::Upgrade { scale_to: None } => ("Upgrade", "update_deployment"),
            Wait::Rollback => ("Rollback", "rollback_deployment"),
        };
        if !observed.healthy {
            self.shared.clock.wait(timeout);
            rev.status = DeploymentStatus::Failed;
            rev.updated_at = self.shared.clock.now();
            rev.description = format!(
                "{verb} failed: timed out after {}s waiting for the workload to be ready (ErrImagePull)",
                timeout.as_secs()
            );
            return Some(Error::Timeout {
                operation: operation.into(),
                limit: timeout,
                state: format!(
                    "deployment {id} is Failed at revision {}: its workload never became ready (ErrImagePull); it was kept, roll back or update to recover",
                    rev.revision
                ),
            });
        }
        if let Wait::Upgrade {
            scale_to: Some(want),
        } = wait
        {
            if st.ignores_scale.contains(&rev.package_name) {
                let msg = format!(
                    "workload did not reach {want} replicas: it runs {} (package {} ignores the values key `{scale_key}`); revision {} of {id} is Failed",
                    observed.desired, rev.package, rev.revision
                );
                rev.status = DeploymentStatus::Failed;
                rev.description = format!("Upgrade failed: {msg}");
                return Some(Error::backend(msg));
            }
        }
        None
    }

    /// Update, scale and rollback: refuse while a writer holds the deployment (unless
    /// `ignore_lock`), then apply `make`'s revision.
    fn write_revision(
        &self,
        id: &DeploymentId,
        ignore_lock: bool,
        timeout: Duration,
        make: impl FnOnce(&State, &Record, u32) -> Result<(Rev, Wait)>,
    ) -> Result<Deployment> {
        let mut guard = self.shared.write();
        let st = &mut *guard;
        let rec = st.deployment(id)?;
        let cur = rec.current();
        if !ignore_lock && cur.status.is_in_progress() {
            return Err(Error::conflict(
                Resource::Deployment,
                id,
                format!(
                    "another operation (install/upgrade/rollback) is in progress: revision {} is {}",
                    cur.revision, cur.status
                ),
            ));
        }
        let next = cur.revision + 1;
        let (mut rev, wait) = make(st, rec, next)?;
        let err = self.settle(st, id, &rec.scale_key, &mut rev, wait, timeout);
        let rec = st.deployment_mut(id)?;
        rec.push(rev, self.shared.config.max_history);
        match err {
            Some(e) => Err(e),
            None => Ok(rec.view.clone()),
        }
    }

    fn timeout(&self, t: Option<Duration>) -> Duration {
        t.unwrap_or(self.shared.config.default_timeout)
    }
}

fn matches(rec: &Record, f: &DeploymentFilter) -> bool {
    let v = &rec.view;
    (f.statuses.is_empty() || f.statuses.contains(&v.status))
        && f.labels.iter().all(|(k, val)| v.labels.get(k) == Some(val))
        && f.package_name
            .as_ref()
            .is_none_or(|n| rec.current().package_name == *n)
}

#[async_trait]
impl DmsAdapter for MockAdapter {
    fn info(&self) -> AdapterInfo {
        AdapterInfo {
            name: "mock".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            backend: "memory".into(),
            backend_version: None,
        }
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::all()
    }

    async fn health(&self) -> Result<Health> {
        self.enter(Operation::Health).await?;
        let st = self.shared.read();
        Ok(Health {
            status: HealthStatus::Healthy,
            message: format!(
                "in-memory store: {} deployments, {} packages",
                st.deployments.len(),
                st.packages.len()
            ),
        })
    }

    async fn list_packages(&self, filter: &PackageFilter) -> Result<Page<Package>> {
        self.enter(Operation::ListPackages).await?;
        filter.validate()?;
        let limit = filter.page.effective_limit()?;
        let start = match &filter.page.continue_token {
            Some(t) => {
                let (name, version) = token::parse_package(t)?;
                Bound::Excluded(PackageKey::new(&name, &version))
            }
            None => match &filter.name {
                Some(n) => Bound::Included(PackageKey::first_of(n)),
                None => Bound::Unbounded,
            },
        };
        let st = self.shared.read();
        let mut items: Vec<Package> = Vec::with_capacity(limit.min(st.packages.len()));
        let mut more = false;
        for (key, p) in st.packages.range((start, Bound::Unbounded)) {
            if let Some(n) = &filter.name {
                if key.name() != n {
                    if key.name() > n.as_str() {
                        break;
                    }
                    continue;
                }
            }
            if items.len() == limit {
                more = true;
                break;
            }
            items.push(p.package.clone());
        }
        let total = match &filter.name {
            Some(n) => st
                .packages
                .range(PackageKey::first_of(n)..)
                .take_while(|(k, _)| k.name() == n)
                .count(),
            None => st.packages.len(),
        };
        let continue_token = match items.last() {
            Some(p) if more => Some(token::package(&p.name, &p.version)),
            _ => None,
        };
        Ok(Page {
            items,
            continue_token,
            total: Some(total as u64),
        })
    }

    async fn get_package(&self, id: &PackageId) -> Result<Package> {
        self.enter(Operation::GetPackage).await?;
        Ok(self.shared.read().package(id)?.package.clone())
    }

    async fn upload_package(&self, upload: PackageUpload) -> Result<Package> {
        self.enter(Operation::UploadPackage).await?;
        crate::upload::upload(self, upload)
    }

    async fn delete_package(&self, id: &PackageId, options: DeletePackageOptions) -> Result<()> {
        self.enter(Operation::DeletePackage).await?;
        let mut st = self.shared.write();
        let key = {
            let p = st.package(id)?;
            PackageKey::new(&p.package.name, &p.package.version)
        };
        if !options.force {
            if let Some((did, rec)) = st
                .deployments
                .iter()
                .find(|(_, r)| r.current().package == *id)
            {
                return Err(Error::conflict(
                    Resource::Package,
                    id,
                    format!(
                        "in use by deployment {did} (revision {}); delete it first or force",
                        rec.current().revision
                    ),
                ));
            }
        }
        st.packages.remove(&key);
        Ok(())
    }

    async fn list_deployments(&self, filter: &DeploymentFilter) -> Result<Page<Deployment>> {
        self.enter(Operation::ListDeployments).await?;
        filter.validate()?;
        let limit = filter.page.effective_limit()?;
        let start = match &filter.page.continue_token {
            Some(t) => Bound::Excluded(token::parse_deployment(t)?),
            None => match &filter.namespace {
                Some(ns) => Bound::Included(DeploymentId {
                    namespace: ns.clone(),
                    name: String::new(),
                }),
                None => Bound::Unbounded,
            },
        };
        let simple =
            filter.statuses.is_empty() && filter.labels.is_empty() && filter.package_name.is_none();
        let st = self.shared.read();
        let mut items: Vec<Deployment> = Vec::with_capacity(limit.min(st.deployments.len()));
        let mut more = false;
        for (key, rec) in st.deployments.range((start, Bound::Unbounded)) {
            if let Some(ns) = &filter.namespace {
                if key.namespace != *ns {
                    if key.namespace > *ns {
                        break;
                    }
                    continue;
                }
            }
            if !simple && !matches(rec, filter) {
                continue;
            }
            if items.len() == limit {
                more = true;
                break;
            }
            items.push(rec.view.clone());
        }
        let total = match (&filter.namespace, simple) {
            (None, true) => st.deployments.len() as u64,
            (Some(ns), true) => st.ns_counts.get(ns).copied().unwrap_or(0),
            (ns, false) => st
                .deployments
                .iter()
                .filter(|(k, r)| {
                    ns.as_ref().is_none_or(|ns| k.namespace == *ns) && matches(r, filter)
                })
                .count() as u64,
        };
        let continue_token = match items.last() {
            Some(d) if more => Some(token::deployment(&d.id)),
            _ => None,
        };
        Ok(Page {
            items,
            continue_token,
            total: Some(total),
        })
    }

    async fn get_deployment(&self, id: &DeploymentId) -> Result<Deployment> {
        self.enter(Operation::GetDeployment).await?;
        Ok(self.shared.read().deployment(id)?.view.clone())
    }

    async fn create_deployment(&self, request: CreateDeployment) -> Result<Deployment> {
        self.enter(Operation::CreateDeployment).await?;
        request.validate()?;
        let timeout = self.timeout(request.timeout);
        let scale_key = request
            .scale_key
            .unwrap_or_else(|| self.shared.config.default_scale_key.clone());
        let (id, mut rev) = {
            let mut st = self.shared.write();
            let pkg = st.package(&request.package)?.clone();
            if st.deployments.contains_key(&request.id) {
                return Err(Error::already_exists(Resource::Deployment, &request.id));
            }
            let mut rev = self.new_rev(1, &pkg, request.values);
            let created_at = rev.updated_at;
            rev.description = request
                .description
                .unwrap_or_else(|| "Install complete".into());
            if workload::observe(&st, &rev, &scale_key).healthy {
                let err = self.settle(
                    &st,
                    &request.id,
                    &scale_key,
                    &mut rev,
                    Wait::Install,
                    timeout,
                );
                let mut rec = Record::new(request.id, request.labels, scale_key, rev);
                rec.view.created_at = created_at;
                let view = rec.view.clone();
                st.insert_deployment(rec);
                return match err {
                    Some(e) => Err(e),
                    None => Ok(view),
                };
            }
            // A workload that never becomes ready: the install waits, as Helm's does, with
            // the deployment visible as Deploying (`pending-install`) meanwhile.
            let mut pending = rev.clone();
            pending.status = DeploymentStatus::Deploying;
            pending.description = "Install in progress".into();
            let id = request.id.clone();
            let mut rec = Record::new(request.id, request.labels, scale_key.clone(), pending);
            rec.view.created_at = created_at;
            st.insert_deployment(rec);
            (id, rev)
        };
        let hold = self.shared.read().install_hold;
        match hold {
            Some(hold) => tokio::time::sleep(hold.min(timeout)).await,
            None => YieldOnce(false).await,
        }
        let mut st = self.shared.write();
        let err = self.settle(&st, &id, &scale_key, &mut rev, Wait::Install, timeout);
        if let Ok(rec) = st.deployment_mut(&id) {
            if rec.revisions.len() == 1 && rec.current().status == DeploymentStatus::Deploying {
                *rec.current_mut() = rev;
                rec.refresh();
            }
        }
        match err {
            Some(e) => Err(e),
            None => Ok(st.deployment(&id)?.view.clone()),
        }
    }

    async fn update_deployment(
        &self,
        id: &DeploymentId,
        request: UpdateDeployment,
    ) -> Result<Deployment> {
        self.enter(Operation::UpdateDeployment).await?;
        request.validate()?;
        let timeout = self.timeout(request.timeout);
        self.write_revision(id, false, timeout, |st, rec, next| {
            let cur = rec.current();
            let pkg = match &request.package {
                Some(p) => st.package(p)?.clone(),
                None => StoredPackage {
                    package: st
                        .package(&cur.package)
                        .map(|p| p.package.clone())
                        .unwrap_or_else(|_| stub_package(cur)),
                    defaults: Arc::clone(&cur.defaults),
                },
            };
            let values = match request.mode {
                ValuesMode::Merge => cur.values.merged(&request.values),
                ValuesMode::Replace => request.values,
            };
            let mut rev = self.new_rev(next, &pkg, values);
            rev.description = request
                .description
                .unwrap_or_else(|| "Upgrade complete".into());
            Ok((rev, Wait::Upgrade { scale_to: None }))
        })
    }

    async fn delete_deployment(&self, id: &DeploymentId) -> Result<()> {
        self.enter(Operation::DeleteDeployment).await?;
        self.shared
            .write()
            .remove_deployment(id)
            .map(|_| ())
            .ok_or_else(|| Error::not_found(Resource::Deployment, id))
    }

    async fn scale_deployment(
        &self,
        id: &DeploymentId,
        request: ScaleRequest,
    ) -> Result<Deployment> {
        self.enter(Operation::ScaleDeployment).await?;
        request.validate()?;
        let timeout = self.timeout(request.timeout);
        self.write_revision(id, false, timeout, |_, rec, next| {
            let cur = rec.current();
            let key = request.key.as_deref().unwrap_or(&rec.scale_key);
            let mut values = cur.values.clone();
            values.set_path(key, Value::from(request.replicas));
            let mut rev = cur.clone();
            rev.revision = next;
            rev.values = values;
            rev.status = DeploymentStatus::Deployed;
            rev.description = "Upgrade complete".into();
            rev.updated_at = self.shared.clock.now();
            Ok((
                rev,
                Wait::Upgrade {
                    scale_to: Some(request.replicas),
                },
            ))
        })
    }

    async fn rollback_deployment(
        &self,
        id: &DeploymentId,
        request: RollbackRequest,
    ) -> Result<Deployment> {
        self.enter(Operation::RollbackDeployment).await?;
        request.validate()?;
        let timeout = self.timeout(request.timeout);
        self.write_revision(id, true, timeout, |_, rec, next| {
            let cur = rec.current();
            let target = request.revision.unwrap_or(cur.revision - 1);
            let Some(old) = rec.revisions.iter().find(|r| r.revision == target) else {
                return Err(Error::not_found(
                    Resource::Revision,
                    if request.revision.is_some() {
                        format!("{id} revision {target}")
                    } else {
                        format!("{id} revision {target} (the previous one)")
                    },
                ));
            };
            let mut rev = old.clone();
            rev.revision = next;
            rev.status = DeploymentStatus::Deployed;
            rev.description = format!("Rollback to {target}");
            rev.updated_at = self.shared.clock.now();
            Ok((rev, Wait::Rollback))
        })
    }

    async fn deployment_status(&self, id: &DeploymentId) -> Result<StatusDetail> {
        self.enter(Operation::DeploymentStatus).await?;
        let st = self.shared.read();
        Ok(workload::status_detail(&st, st.deployment(id)?))
    }

    async fn deployment_history(
        &self,
        id: &DeploymentId,
        options: HistoryOptions,
    ) -> Result<Vec<Revision>> {
        self.enter(Operation::DeploymentHistory).await?;
        if options.limit == Some(0) {
            return Err(Error::invalid("limit", "must be at least 1"));
        }
        let st = self.shared.read();
        let revs = &st.deployment(id)?.revisions;
        let skip = options
            .limit
            .map_or(0, |l| revs.len().saturating_sub(l as usize));
        Ok(revs[skip..].iter().map(Rev::to_revision).collect())
    }

    async fn deployment_logs(&self, id: &DeploymentId, options: &LogOptions) -> Result<Logs> {
        self.enter(Operation::DeploymentLogs).await?;
        options.validate()?;
        let st = self.shared.read();
        workload::logs(&st, st.deployment(id)?, options, self.shared.clock.now())
    }
}

/// Returns Pending once, then Ready: lets the caller's other futures (a poller joined with
/// the write) and other tasks run while an install waits.
struct YieldOnce(bool);

impl std::future::Future for YieldOnce {
    type Output = ();

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.0 {
            std::task::Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    }
}

/// The package of a revision whose package was deleted (forced) since: the revision
/// keeps its chart, as a Helm release does.
fn stub_package(rev: &Rev) -> Package {
    Package {
        id: rev.package.clone(),
        name: rev.package_name.clone(),
        version: rev.package_version.clone(),
        app_version: None,
        description: String::new(),
        source: o2dms_core::PackageSource::Repository,
        digest: String::new(),
        created_at: rev.updated_at,
        extensions: Default::default(),
    }
}
