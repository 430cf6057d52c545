//! The [`DmsAdapter`] over the API: each trait method one request (a write, one request
//! and its operation).

use async_trait::async_trait;
use o2dms_api::paths;
use o2dms_api::wire::{self, *};
use o2dms_core::{
    AdapterInfo, Capabilities, CreateDeployment, DeletePackageOptions, Deployment,
    DeploymentFilter, DeploymentId, DmsAdapter, Error, Health, HistoryOptions, LogOptions, Logs,
    Package, PackageFilter, PackageId, PackageUpload, Page, Result, Revision, RollbackRequest,
    ScaleRequest, StatusDetail, UpdateDeployment,
};
use reqwest::Method;
use serde::Serialize;

use crate::builder::RemoteBuilder;
use crate::follow::{self, contract, Expect, Outcome};
use crate::transport::{Body, Transport};

/// A deployment manager of a DMS server, as a [`DmsAdapter`].
///
/// `info` and `capabilities` are the server's, read once by
/// [`RemoteBuilder::connect`]. Every error the server sends comes back as the very
/// [`Error`] the adapter behind it returned (kind, resource, id, field, reason, limit);
/// a server that cannot be reached is [`Error::Unavailable`]; an answer that breaks the
/// API is [`Error::Backend`].
///
/// Clones share the connection pool.
#[derive(Debug, Clone)]
pub struct RemoteAdapter {
    transport: Transport,
    dm: String,
    info: AdapterInfo,
    capabilities: Capabilities,
}

impl RemoteAdapter {
    /// A builder for the server at `endpoint` (`URL[/deployment-manager]`, see
    /// [`Endpoint`](crate::Endpoint)).
    pub fn builder(endpoint: impl Into<String>) -> RemoteBuilder {
        RemoteBuilder::new(endpoint)
    }

    pub(crate) fn new(
        transport: Transport,
        dm: String,
        info: AdapterInfo,
        capabilities: Capabilities,
    ) -> Self {
        RemoteAdapter {
            transport,
            dm,
            info,
            capabilities,
        }
    }

    /// The deployment manager this adapter uses.
    pub fn deployment_manager(&self) -> &str {
        &self.dm
    }

    /// The operations of this deployment manager (newest first, as the server keeps
    /// them), filtered by `query`.
    ///
    /// # Errors
    /// The server's error, or [`Error::Unavailable`] when it cannot be reached.
    pub async fn operations(
        &self,
        query: &ListOperationsQuery,
    ) -> Result<wire::Page<OperationOccurrence>> {
        self.transport
            .get(&with_query(paths::operations(&self.dm), &query.to_query()))
            .await
    }

    async fn write(
        &self,
        method: Method,
        path: &str,
        body: Body,
        expect: Expect,
    ) -> Result<Outcome> {
        let answer = self.transport.write(method, path, body).await?;
        follow::outcome(&self.transport, &self.dm, answer, expect).await
    }

    async fn write_deployment(&self, method: Method, path: &str, body: Body) -> Result<Deployment> {
        match self.write(method, path, body, Expect::Deployment).await? {
            Outcome::Deployment(d) => Ok(d),
            other => Err(unexpected(&other)),
        }
    }
}

fn unexpected(outcome: &Outcome) -> Error {
    Error::backend(format!("the server answered with {outcome:?}"))
}

/// Refuses values JSON cannot carry (NaN, infinities: serde_json would write `null`),
/// with the error the adapter would give in process. Every other rule is the server's.
fn carried(field: &str, values: &o2dms_core::Values) -> Result<()> {
    o2dms_core::validate::finite_values(field, values)
}

fn json(body: &impl Serialize) -> Result<Body> {
    serde_json::to_vec(body)
        .map(Body::Json)
        .map_err(|e| Error::backend_from("encoding the request", e))
}

fn with_query(path: String, query: &str) -> String {
    if query.is_empty() {
        path
    } else {
        format!("{path}?{query}")
    }
}

#[async_trait]
impl DmsAdapter for RemoteAdapter {
    fn info(&self) -> AdapterInfo {
        self.info.clone()
    }

    fn capabilities(&self) -> Capabilities {
        self.capabilities
    }

    async fn health(&self) -> Result<Health> {
        let h: wire::Health = self.transport.get(&paths::health(&self.dm)).await?;
        Ok(h.into())
    }

    async fn list_packages(&self, filter: &PackageFilter) -> Result<Page<Package>> {
        let query = ListPackagesQuery::from(filter.clone()).to_query();
        let page: wire::Page<wire::Package> = self
            .transport
            .get(&with_query(paths::packages(&self.dm), &query))
            .await?;
        page.into_core().map_err(contract)
    }

    async fn get_package(&self, id: &PackageId) -> Result<Package> {
        let p: wire::Package = self.transport.get(&paths::package(&self.dm, id)).await?;
        p.try_into().map_err(contract)
    }

    async fn upload_package(&self, upload: PackageUpload) -> Result<Package> {
        let query = UploadPackageQuery::of(&upload).to_query();
        let path = with_query(paths::packages(&self.dm), &query);
        let body = Body::Archive(upload.content);
        match self
            .write(Method::POST, &path, body, Expect::Package)
            .await?
        {
            Outcome::Package(p) => Ok(p),
            other => Err(unexpected(&other)),
        }
    }

    async fn delete_package(&self, id: &PackageId, options: DeletePackageOptions) -> Result<()> {
        let query = DeletePackageQuery::from(options).to_query();
        let path = with_query(paths::package(&self.dm, id), &query);
        self.write(Method::DELETE, &path, Body::Empty, Expect::Nothing)
            .await
            .map(drop)
    }

    async fn list_deployments(&self, filter: &DeploymentFilter) -> Result<Page<Deployment>> {
        let query = ListDeploymentsQuery::from(filter.clone()).to_query();
        let page: wire::Page<wire::Deployment> = self
            .transport
            .get(&with_query(paths::deployments(&self.dm), &query))
            .await?;
        page.into_core().map_err(contract)
    }

    async fn get_deployment(&self, id: &DeploymentId) -> Result<Deployment> {
        let d: wire::Deployment = self.transport.get(&paths::deployment(&self.dm, id)).await?;
        d.try_into().map_err(contract)
    }

    async fn create_deployment(&self, request: CreateDeployment) -> Result<Deployment> {
        carried("values", &request.values)?;
        let body = json(&CreateDeploymentRequest::from(request))?;
        self.write_deployment(Method::POST, &paths::deployments(&self.dm), body)
            .await
    }

    async fn update_deployment(
        &self,
        id: &DeploymentId,
        request: UpdateDeployment,
    ) -> Result<Deployment> {
        carried("values", &request.values)?;
        let body = json(&UpdateDeploymentRequest::from(request))?;
        self.write_deployment(Method::PATCH, &paths::deployment(&self.dm, id), body)
            .await
    }

    async fn delete_deployment(&self, id: &DeploymentId) -> Result<()> {
        let path = paths::deployment(&self.dm, id);
        self.write(Method::DELETE, &path, Body::Empty, Expect::Nothing)
            .await
            .map(drop)
    }

    async fn scale_deployment(
        &self,
        id: &DeploymentId,
        request: ScaleRequest,
    ) -> Result<Deployment> {
        let body = json(&ScaleDeploymentRequest::from(request))?;
        self.write_deployment(Method::POST, &paths::scale(&self.dm, id), body)
            .await
    }

    async fn rollback_deployment(
        &self,
        id: &DeploymentId,
        request: RollbackRequest,
    ) -> Result<Deployment> {
        let body = json(&RollbackDeploymentRequest::from(request))?;
        self.write_deployment(Method::POST, &paths::rollback(&self.dm, id), body)
            .await
    }

    async fn deployment_status(&self, id: &DeploymentId) -> Result<StatusDetail> {
        let s: wire::StatusDetail = self.transport.get(&paths::status(&self.dm, id)).await?;
        Ok(s.into())
    }

    async fn deployment_history(
        &self,
        id: &DeploymentId,
        options: HistoryOptions,
    ) -> Result<Vec<Revision>> {
        let query = HistoryQuery::from(options).to_query();
        let revisions: Revisions = self
            .transport
            .get(&with_query(paths::history(&self.dm, id), &query))
            .await?;
        revisions.try_into().map_err(contract)
    }

    async fn deployment_logs(&self, id: &DeploymentId, options: &LogOptions) -> Result<Logs> {
        let query = LogsQuery::from(options.clone()).to_query();
        let logs: wire::Logs = self
            .transport
            .get(&with_query(paths::logs(&self.dm, id), &query))
            .await?;
        Ok(logs.into())
    }
}
