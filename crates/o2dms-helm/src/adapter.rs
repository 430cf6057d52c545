//! [`DmsAdapter`] for [`HelmAdapter`]: each method validates its input, refuses a
//! namespace outside the allow-list (`namespaces`), runs the action (one file per verb
//! under [`crate::action`]) and reads the result back.

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
    /// The deployment as it is now (after a write: what the write made), values masked
    /// as `redactValues` says.
    async fn read_back(&self, id: &DeploymentId) -> Result<Deployment> {
        Ok(self.cx.shown(&self.cx.storage.current(id).await?))
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
        if let Some(ns) = &filter.namespace {
            self.cx.config.check_served(ns)?;
        }
        List { filter }.run(&self.cx).await
    }

    async fn get_deployment(&self, id: &DeploymentId) -> Result<Deployment> {
        id.validate()?;
        self.cx.config.check_served(&id.namespace)?;
        self.read_back(id).await
    }

    async fn create_deployment(&self, request: CreateDeployment) -> Result<Deployment> {
        request.validate()?;
        self.cx.config.check_served(&request.id.namespace)?;
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
        self.cx.config.check_served(&id.namespace)?;
        request.validate()?;
        Upgrade { id, request }.run(&self.cx).await?;
        self.read_back(id).await
    }

    async fn delete_deployment(&self, id: &DeploymentId) -> Result<()> {
        id.validate()?;
        self.cx.config.check_served(&id.namespace)?;
        Uninstall { id }.run(&self.cx).await
    }

    async fn scale_deployment(
        &self,
        id: &DeploymentId,
        request: ScaleRequest,
    ) -> Result<Deployment> {
        id.validate()?;
        self.cx.config.check_served(&id.namespace)?;
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
        self.cx.config.check_served(&id.namespace)?;
        request.validate()?;
        Rollback { id, request }.run(&self.cx).await?;
        self.read_back(id).await
    }

    async fn deployment_status(&self, id: &DeploymentId) -> Result<StatusDetail> {
        id.validate()?;
        self.cx.config.check_served(&id.namespace)?;
        Status { id }.run(&self.cx).await
    }

    async fn deployment_history(
        &self,
        id: &DeploymentId,
        options: HistoryOptions,
    ) -> Result<Vec<Revision>> {
        id.validate()?;
        self.cx.config.check_served(&id.namespace)?;
        History { id, options }.run(&self.cx).await
    }

    async fn deployment_logs(&self, id: &DeploymentId, options: &LogOptions) -> Result<Logs> {
        id.validate()?;
        self.cx.config.check_served(&id.namespace)?;
        options.validate()?;
        ReadLogs { id, options }.run(&self.cx).await
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::path::{Path, PathBuf};
    use std::time::Duration;

    use kube::Client;
    use o2dms_core::{Error, ErrorKind, PackageId};

    use super::*;
    use crate::HelmConfig;

    /// An adapter serving `ran` and `core` whose helm only records its arguments and whose
    /// API server cannot be reached: a call that fails with neither a helm run nor an
    /// Unavailable was refused before reaching either.
    async fn fenced(dir: &Path) -> (HelmAdapter, PathBuf) {
        let log = dir.join("helm.log");
        let helm = dir.join("helm");
        std::fs::write(
            &helm,
            format!(
                "#!/bin/sh\necho \"$@\" >> '{}'\necho v4.1.4\n",
                log.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&helm, std::fs::Permissions::from_mode(0o755)).unwrap();
        let config = HelmConfig::builder()
            .helm_binary(&helm)
            .namespace("ran")
            .namespaces(["ran", "core"])
            .work_dir(dir.join("work"))
            .package_dir(dir.join("packages"))
            .read_timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        let unreachable = kube::Config::new("https://127.0.0.1:1".parse().unwrap());
        let client = Client::try_from(unreachable).unwrap();
        let adapter = HelmAdapter::with_client(config, client).await.unwrap();
        (adapter, log)
    }

    fn refused<T: std::fmt::Debug>(what: &str, r: Result<T>) {
        match r {
            Err(Error::InvalidArgument { field, reason }) => {
                assert_eq!(field, "namespace", "{what}");
                assert!(reason.contains("edge"), "{what}: {reason}");
            }
            other => panic!("{what}: {other:?}"),
        }
    }

    #[tokio::test]
    async fn namespaces_outside_the_allow_list_are_refused_before_any_call() {
        let dir = tempfile::tempdir().unwrap();
        let (a, log) = fenced(dir.path()).await;
        let id = DeploymentId::new("edge", "web").unwrap();
        let package = PackageId::new("web@0.1.0").unwrap();
        refused(
            "create",
            a.create_deployment(CreateDeployment::new(id.clone(), package))
                .await,
        );
        refused("get", a.get_deployment(&id).await);
        refused(
            "update",
            a.update_deployment(&id, UpdateDeployment::new()).await,
        );
        refused("delete", a.delete_deployment(&id).await);
        refused("scale", a.scale_deployment(&id, ScaleRequest::to(2)).await);
        refused(
            "rollback",
            a.rollback_deployment(&id, RollbackRequest::to_revision(1))
                .await,
        );
        refused("status", a.deployment_status(&id).await);
        refused(
            "history",
            a.deployment_history(&id, HistoryOptions::all()).await,
        );
        refused("logs", a.deployment_logs(&id, &LogOptions::default()).await);
        refused(
            "list in another namespace",
            a.list_deployments(&DeploymentFilter::in_namespace("edge"))
                .await,
        );
        refused("recover", a.recover_pending(&id).await);
        // a bad name is still the validator's error, whatever the namespace
        let bad = DeploymentId {
            namespace: "edge".into(),
            name: "Bad_Name".into(),
        };
        match a.get_deployment(&bad).await {
            Err(Error::InvalidArgument { field, .. }) => assert_eq!(field, "name"),
            other => panic!("{other:?}"),
        }
        // helm ran once, to tell its version; nothing reached the API server ...
        let runs = std::fs::read_to_string(&log).unwrap();
        assert_eq!(runs.lines().count(), 1, "{runs}");
        assert!(runs.starts_with("version"), "{runs}");
        // ... which a listed namespace does reach (and cannot)
        let listed = DeploymentId::new("core", "web").unwrap();
        let e = a.get_deployment(&listed).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
    }
}
