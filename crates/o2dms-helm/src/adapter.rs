//! [`DmsAdapter`] for [`HelmAdapter`]: each method validates its input, runs the action
//! (one file per verb under [`crate::action`]) and reads the result back.

use o2dms_core::{
    async_trait, AdapterInfo, Capabilities, CreateDeployment, DeletePackageOptions, Deployment,
    DeploymentFilter, DeploymentId, DmsAdapter, Health, HistoryOptions, LogOptions, Logs, Package,
    PackageFilter, PackageId, PackageUpload, Page, Result, Revision, RollbackRequest, ScaleRequest,
    StatusDetail, UpdateDeployment,
};

use crate::action::history::History;
use crate::action::install::Install;
use crate::action::list::List;
use crate::action::logs::ReadLogs;
use crate::action::packages;
use crate::action::rollback::Rollback;
use crate::action::scale::Scale;
use crate::action::status::Status;
use crate::action::uninstall::Uninstall;
use crate::action::upgrade::Upgrade;
use crate::connect::HelmAdapter;

impl HelmAdapter {
    /// The deployment as it is now (after a write: what the write made).
    async fn read_back(&self, id: &DeploymentId) -> Result<Deployment> {
        Ok(self.cx.storage.current(id).await?.to_deployment())
    }
}

#[async_trait]
impl DmsAdapter for HelmAdapter {
    fn info(&self) -> AdapterInfo {
        AdapterInfo::new("helm", env!("CARGO_PKG_VERSION"), "helm")
            .backend_version(self.cx.helm.version().raw.clone())
    }

    fn capabilities(&self) -> Capabilities {
        let mut caps = Capabilities::all();
        caps.package_upload = self.cx.store.accepts_uploads();
        caps
    }

    async fn health(&self) -> Result<Health> {
        let version = self.cx.storage.bounded(async {
            self.cx
                .client
                .apiserver_version()
                .await
                .map_err(crate::kube_error::kube_error)
        });
        Ok(match version.await {
            Ok(v) => Health::healthy(format!(
                "helm {}, Kubernetes {}",
                self.cx.helm.version().raw,
                v.git_version
            )),
            Err(e) => Health::unhealthy(e.to_string()),
        })
    }

    async fn list_packages(&self, filter: &PackageFilter) -> Result<Page<Package>> {
        filter.validate()?;
        self.cx.store.list(filter).await
    }

    async fn get_package(&self, id: &PackageId) -> Result<Package> {
        self.cx.store.get(id).await
    }

    async fn upload_package(&self, upload: PackageUpload) -> Result<Package> {
        packages::upload(&self.cx, upload).await
    }

    async fn delete_package(&self, id: &PackageId, options: DeletePackageOptions) -> Result<()> {
        packages::delete(&self.cx, id, options).await
    }

    async fn list_deployments(&self, filter: &DeploymentFilter) -> Result<Page<Deployment>> {
        filter.validate()?;
        List { filter }.run(&self.cx).await
    }

    async fn get_deployment(&self, id: &DeploymentId) -> Result<Deployment> {
        id.validate()?;
        self.read_back(id).await
    }

    async fn create_deployment(&self, request: CreateDeployment) -> Result<Deployment> {
        request.validate()?;
        let id = request.id.clone();
        Install { request }.run(&self.cx).await?;
        self.read_back(&id).await
    }

    async fn update_deployment(
        &self,
        id: &DeploymentId,
        request: UpdateDeployment,
    ) -> Result<Deployment> {
        id.validate()?;
        request.validate()?;
        Upgrade { id, request }.run(&self.cx).await?;
        self.read_back(id).await
    }

    async fn delete_deployment(&self, id: &DeploymentId) -> Result<()> {
        id.validate()?;
        Uninstall { id }.run(&self.cx).await
    }

    async fn scale_deployment(
        &self,
        id: &DeploymentId,
        request: ScaleRequest,
    ) -> Result<Deployment> {
        id.validate()?;
        request.validate()?;
        Scale { id, request }.run(&self.cx).await?;
        self.read_back(id).await
    }

    async fn rollback_deployment(
        &self,
        id: &DeploymentId,
        request: RollbackRequest,
    ) -> Result<Deployment> {
        id.validate()?;
        request.validate()?;
        Rollback { id, request }.run(&self.cx).await?;
        self.read_back(id).await
    }

    async fn deployment_status(&self, id: &DeploymentId) -> Result<StatusDetail> {
        id.validate()?;
        Status { id }.run(&self.cx).await
    }

    async fn deployment_history(
        &self,
        id: &DeploymentId,
        options: HistoryOptions,
    ) -> Result<Vec<Revision>> {
        id.validate()?;
        History { id, options }.run(&self.cx).await
    }

    async fn deployment_logs(&self, id: &DeploymentId, options: &LogOptions) -> Result<Logs> {
        id.validate()?;
        options.validate()?;
        ReadLogs { id, options }.run(&self.cx).await
    }
}
