//! Proof that the package, bounds, capabilities, info and health scenarios catch bugs:
//! each test wraps the mock in one realistic bug and checks the named scenarios, which
//! the plain mock passes, fail.

mod common;

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use common::broken::{assert_caught, Bug};
use o2dms_core::validate::{
    MAX_DESCRIPTION_LEN, MAX_NAME_LEN, MAX_REPLICAS, MAX_TIMEOUT, MAX_VALUES_BYTES,
    MAX_VALUES_DEPTH,
};
use o2dms_core::{
    AdapterInfo, Capabilities, CreateDeployment, DeletePackageOptions, Deployment,
    DeploymentFilter, DeploymentId, DmsAdapter, Error, Health, HistoryOptions, Package,
    PackageFilter, PackageId, PackageUpload, Page, Resource, Result, Revision, ScaleRequest,
    StatusDetail, UpdateDeployment, Value, Values, MAX_PAGE_SIZE,
};
use o2dms_mock::MockAdapter;
use sha2::{Digest, Sha256};

// ---- packages ----------------------------------------------------------------------

/// Lists versions sorted as strings (`0.10.0` before `0.9.0`, `rc.10` before `rc.2`).
struct VersionsSortedAsText;

#[async_trait]
impl Bug for VersionsSortedAsText {
    async fn list_packages(&self, m: &MockAdapter, f: &PackageFilter) -> Result<Page<Package>> {
        let mut page = m.list_packages(f).await?;
        page.items
            .sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
        Ok(page)
    }
}

#[tokio::test]
async fn versions_sorted_as_text() {
    assert_caught(VersionsSortedAsText, &["packages.semver_order"]).await;
}

/// List is built from a slim index that keeps name, version and digest only: no
/// appVersion, no description.
struct ListWithoutChartMetadata;

#[async_trait]
impl Bug for ListWithoutChartMetadata {
    async fn list_packages(&self, m: &MockAdapter, f: &PackageFilter) -> Result<Page<Package>> {
        let mut page = m.list_packages(f).await?;
        for p in &mut page.items {
            p.app_version = None;
            p.description = String::new();
        }
        Ok(page)
    }
}

#[tokio::test]
async fn list_without_chart_metadata() {
    assert_caught(ListWithoutChartMetadata, &["packages.metadata_of_upload"]).await;
}

/// Upload reports the digest of the decompressed tar it validated, not of the bytes
/// it was given.
struct DigestOfInflatedTar;

#[async_trait]
impl Bug for DigestOfInflatedTar {
    async fn upload_package(&self, m: &MockAdapter, u: PackageUpload) -> Result<Package> {
        use std::io::Read;
        let mut tar = Vec::new();
        let _ = flate2::read::GzDecoder::new(&u.content[..]).read_to_end(&mut tar);
        let mut p = m.upload_package(u).await?;
        p.digest = format!("sha256:{}", hex::encode(Sha256::digest(&tar)));
        Ok(p)
    }
}

#[tokio::test]
async fn digest_of_inflated_tar() {
    assert_caught(
        DigestOfInflatedTar,
        &["packages.metadata_of_upload", "packages.upload_then_get"],
    )
    .await;
}

/// A forced delete is treated as a plain one: Conflict while the package is in use.
struct ForceIgnored;

#[async_trait]
impl Bug for ForceIgnored {
    async fn delete_package(
        &self,
        m: &MockAdapter,
        id: &PackageId,
        _o: DeletePackageOptions,
    ) -> Result<()> {
        m.delete_package(id, DeletePackageOptions::new()).await
    }
}

#[tokio::test]
async fn forced_delete_refused() {
    assert_caught(ForceIgnored, &["packages.forced_delete_in_use"]).await;
}

/// Only the expected name is checked; the expected version is ignored.
struct ExpectedVersionIgnored;

#[async_trait]
impl Bug for ExpectedVersionIgnored {
    async fn upload_package(&self, m: &MockAdapter, mut u: PackageUpload) -> Result<Package> {
        u.expected_version = None;
        m.upload_package(u).await
    }
}

#[tokio::test]
async fn expected_version_ignored() {
    assert_caught(
        ExpectedVersionIgnored,
        &["packages.expected_version_is_checked"],
    )
    .await;
}

/// List returns ids in the OCI tag form of the version (`+` becomes `_`), which create
/// and get cannot resolve.
struct OciTagIdsInList;

#[async_trait]
impl Bug for OciTagIdsInList {
    async fn list_packages(&self, m: &MockAdapter, f: &PackageFilter) -> Result<Page<Package>> {
        let mut page = m.list_packages(f).await?;
        for p in &mut page.items {
            p.id = PackageId::new(p.id.as_str().replace('+', "_"))?;
        }
        Ok(page)
    }
}

#[tokio::test]
async fn oci_tag_ids_in_list() {
    assert_caught(OciTagIdsInList, &["packages.id_round_trip_build_metadata"]).await;
}

// ---- bounds ------------------------------------------------------------------------

fn too_long(field: &str, rule: &str) -> Error {
    Error::invalid(field, rule)
}

/// Refuses a name AT the release-name limit (`>=` instead of `>`).
struct NameLimitOffByOne;

#[async_trait]
impl Bug for NameLimitOffByOne {
    async fn create_deployment(&self, m: &MockAdapter, r: CreateDeployment) -> Result<Deployment> {
        if r.id.name.len() >= MAX_NAME_LEN {
            return Err(too_long("id.name", "must be shorter than 53 characters"));
        }
        m.create_deployment(r).await
    }
}

#[tokio::test]
async fn name_limit_off_by_one() {
    assert_caught(NameLimitOffByOne, &["bounds.name_length"]).await;
}

/// Applies the release-name limit (53) to namespaces too.
struct NamespaceLimitedTo53;

#[async_trait]
impl Bug for NamespaceLimitedTo53 {
    async fn create_deployment(&self, m: &MockAdapter, r: CreateDeployment) -> Result<Deployment> {
        if r.id.namespace.len() > MAX_NAME_LEN {
            return Err(too_long("id.namespace", "must be at most 53 characters"));
        }
        m.create_deployment(r).await
    }
}

#[tokio::test]
async fn namespace_limited_to_53() {
    assert_caught(NamespaceLimitedTo53, &["bounds.namespace_length"]).await;
}

/// "Sanitizes" label values by cutting them to 63 characters instead of refusing them.
struct LabelValuesTruncated;

#[async_trait]
impl Bug for LabelValuesTruncated {
    async fn create_deployment(
        &self,
        m: &MockAdapter,
        mut r: CreateDeployment,
    ) -> Result<Deployment> {
        for v in r.labels.values_mut() {
            v.truncate(63);
        }
        m.create_deployment(r).await
    }
}

#[tokio::test]
async fn label_values_truncated() {
    assert_caught(LabelValuesTruncated, &["bounds.label_length"]).await;
}

/// Cuts descriptions to the maximum instead of refusing longer ones.
struct DescriptionsTruncated;

#[async_trait]
impl Bug for DescriptionsTruncated {
    async fn create_deployment(
        &self,
        m: &MockAdapter,
        mut r: CreateDeployment,
    ) -> Result<Deployment> {
        if let Some(d) = &mut r.description {
            d.truncate(MAX_DESCRIPTION_LEN);
        }
        m.create_deployment(r).await
    }
    async fn update_deployment(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        mut r: UpdateDeployment,
    ) -> Result<Deployment> {
        if let Some(d) = &mut r.description {
            d.truncate(MAX_DESCRIPTION_LEN);
        }
        m.update_deployment(id, r).await
    }
}

#[tokio::test]
async fn descriptions_truncated() {
    assert_caught(DescriptionsTruncated, &["bounds.description_length"]).await;
}

/// Refuses a timeout AT the maximum (`>=`).
struct TimeoutLimitExclusive;

#[async_trait]
impl Bug for TimeoutLimitExclusive {
    async fn create_deployment(&self, m: &MockAdapter, r: CreateDeployment) -> Result<Deployment> {
        if r.timeout.is_some_and(|t| t >= MAX_TIMEOUT) {
            return Err(too_long("timeout", "must be less than 24h"));
        }
        m.create_deployment(r).await
    }
}

#[tokio::test]
async fn timeout_limit_exclusive() {
    assert_caught(TimeoutLimitExclusive, &["bounds.timeout"]).await;
}

/// Counts the leaf scalar as a level of nesting, so values at the maximum depth are refused.
struct DepthCountsLeaves;

#[async_trait]
impl Bug for DepthCountsLeaves {
    async fn create_deployment(&self, m: &MockAdapter, r: CreateDeployment) -> Result<Deployment> {
        if r.values.depth() + 1 > MAX_VALUES_DEPTH {
            return Err(too_long("values", "must be nested at most 64 deep"));
        }
        m.create_deployment(r).await
    }
}

#[tokio::test]
async fn depth_counts_leaves() {
    assert_caught(DepthCountsLeaves, &["bounds.values_depth"]).await;
}

/// Values too large for the release are spilled to a side store (the deployment gets a
/// reference) instead of being refused.
struct OversizeValuesSpilled;

#[async_trait]
impl Bug for OversizeValuesSpilled {
    async fn create_deployment(
        &self,
        m: &MockAdapter,
        mut r: CreateDeployment,
    ) -> Result<Deployment> {
        if r.values.json_len() > MAX_VALUES_BYTES {
            r.values = Values::from_pairs([(
                "valuesRef",
                Value::from(format!("configmap/{}-values", r.id.name)),
            )]);
        }
        m.create_deployment(r).await
    }
}

#[tokio::test]
async fn oversize_values_spilled() {
    assert_caught(OversizeValuesSpilled, &["bounds.values_size_past_bound"]).await;
}

/// Silently caps page limits at the maximum instead of refusing larger ones.
struct PageLimitCapped;

#[async_trait]
impl Bug for PageLimitCapped {
    async fn list_deployments(
        &self,
        m: &MockAdapter,
        f: &DeploymentFilter,
    ) -> Result<Page<Deployment>> {
        let mut f = f.clone();
        f.page.limit = f.page.limit.map(|l| l.min(MAX_PAGE_SIZE));
        m.list_deployments(&f).await
    }
}

#[tokio::test]
async fn page_limit_capped() {
    assert_caught(PageLimitCapped, &["bounds.page_limit"]).await;
}

/// Refuses a scale AT the replica maximum (`>=`).
struct ReplicaLimitExclusive;

#[async_trait]
impl Bug for ReplicaLimitExclusive {
    async fn scale_deployment(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        r: ScaleRequest,
    ) -> Result<Deployment> {
        if r.replicas >= MAX_REPLICAS {
            return Err(too_long("replicas", "must be less than 10000"));
        }
        m.scale_deployment(id, r).await
    }
}

#[tokio::test]
async fn replica_limit_exclusive() {
    assert_caught(ReplicaLimitExclusive, &["bounds.replicas"]).await;
}

// ---- capabilities, info, health, NotFound, concurrency ------------------------------

/// The version comes from a build-time variable that release builds did not set.
struct EmptyVersion;

#[async_trait]
impl Bug for EmptyVersion {
    fn info(&self, mock: &MockAdapter) -> AdapterInfo {
        AdapterInfo {
            version: option_env!("O2DMS_BUILD_VERSION_NEVER_SET")
                .unwrap_or_default()
                .to_owned(),
            ..mock.info()
        }
    }
}

#[tokio::test]
async fn info_without_version() {
    assert_caught(EmptyVersion, &["capabilities.info_names_adapter"]).await;
}

/// Health probes for Tiller, which Helm 3 no longer has: always unhealthy.
struct HealthLooksForTiller;

#[async_trait]
impl Bug for HealthLooksForTiller {
    async fn health(&self, _m: &MockAdapter) -> Result<Health> {
        Ok(Health::unhealthy("tiller-deploy not found in kube-system"))
    }
}

#[tokio::test]
async fn health_looks_for_tiller() {
    assert_caught(HealthLooksForTiller, &["capabilities.health_is_healthy"]).await;
}

/// Declares no scaling, but scale still works.
struct ScalingUndeclaredButWorks;

#[async_trait]
impl Bug for ScalingUndeclaredButWorks {
    fn capabilities(&self, mock: &MockAdapter) -> Capabilities {
        let mut caps = mock.capabilities();
        caps.scaling = false;
        caps
    }
}

#[tokio::test]
async fn scaling_undeclared_but_works() {
    assert_caught(
        ScalingUndeclaredButWorks,
        &["capabilities.undeclared_refused"],
    )
    .await;
}

/// NotFound names the release name only, as Helm does, dropping the namespace.
struct NotFoundWithoutNamespace;

fn release_name_only<T>(id: &DeploymentId, r: Result<T>) -> Result<T> {
    match r {
        Err(Error::NotFound {
            resource: Resource::Deployment,
            ..
        }) => Err(Error::not_found(Resource::Deployment, &id.name)),
        other => other,
    }
}

#[async_trait]
impl Bug for NotFoundWithoutNamespace {
    async fn get_deployment(&self, m: &MockAdapter, id: &DeploymentId) -> Result<Deployment> {
        release_name_only(id, m.get_deployment(id).await)
    }
    async fn update_deployment(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        r: UpdateDeployment,
    ) -> Result<Deployment> {
        release_name_only(id, m.update_deployment(id, r).await)
    }
    async fn delete_deployment(&self, m: &MockAdapter, id: &DeploymentId) -> Result<()> {
        release_name_only(id, m.delete_deployment(id).await)
    }
    async fn deployment_status(&self, m: &MockAdapter, id: &DeploymentId) -> Result<StatusDetail> {
        release_name_only(id, m.deployment_status(id).await)
    }
    async fn deployment_history(
        &self,
        m: &MockAdapter,
        id: &DeploymentId,
        o: HistoryOptions,
    ) -> Result<Vec<Revision>> {
        release_name_only(id, m.deployment_history(id, o).await)
    }
}

#[tokio::test]
async fn not_found_without_namespace() {
    assert_caught(
        NotFoundWithoutNamespace,
        &["capabilities.not_found_names_what_and_which"],
    )
    .await;
}

/// Every create writes its values to one shared scratch file and reads it back after
/// an await: concurrent creates install each other's values.
#[derive(Default)]
struct SharedValuesFile {
    scratch: Mutex<Values>,
}

#[async_trait]
impl Bug for SharedValuesFile {
    async fn create_deployment(
        &self,
        m: &MockAdapter,
        mut r: CreateDeployment,
    ) -> Result<Deployment> {
        *self.scratch.lock().unwrap() = r.values.clone();
        tokio::time::sleep(Duration::from_millis(5)).await;
        r.values = self.scratch.lock().unwrap().clone();
        m.create_deployment(r).await
    }
}

#[tokio::test]
async fn shared_values_file() {
    assert_caught(
        SharedValuesFile::default(),
        &["capabilities.concurrent_creates"],
    )
    .await;
}
