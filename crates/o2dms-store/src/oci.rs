//! Charts in an OCI registry, the way `helm push` stores them: repository
//! `<namespace>/<name>`, tag = version (`+` written as `_`), a manifest whose config blob
//! (`application/vnd.cncf.helm.config.v1+json`) is the Chart.yaml metadata as JSON and
//! whose one layer (`application/vnd.cncf.helm.chart.content.v1.tar+gzip`) is the
//! archive. Ids: `oci:name@version`.
//!
//! Which charts exist: the registry API lists tags of a repository but cannot always
//! list repositories (`/v2/_catalog` is optional, often disabled or restricted to
//! admins). The store lists the chart names it was configured with
//! ([`OciOptions::charts`]), the ones pushed through it, and, when
//! [`OciOptions::use_catalog`] is set and the registry answers, those in `_catalog`
//! under the namespace. A chart pushed by someone else to a registry without a catalog
//! is found by `get`, and by `list` with a name filter, but not by an unfiltered `list`.
//!
//! Concurrent pushes of the same name@version with different content are not atomic in
//! the registry API: both may pass the existence check and the last manifest wins. Push
//! each version from one place (the local store is the one with a lock).
//!
//! Authentication: anonymous, basic, or a bearer token obtained from the registry's
//! `WWW-Authenticate: Bearer` challenge with the basic credentials.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use o2dms_core::{
    Error, Package, PackageFilter, PackageId, PackageSource, PackageUpload, Page, Resource, Result,
    Timestamp, Value,
};
use reqwest::header::{HeaderValue, ACCEPT, CONTENT_TYPE, LOCATION, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode, Url};
use serde::{Deserialize, Serialize};

use crate::chart;
use crate::transport::{self, TransportOptions};
use crate::{id, order, InstallSource, PackageStore};

/// The default id prefix.
const PREFIX: &str = "oci";
/// Media type of the Helm config blob.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.cncf.helm.config.v1+json";
/// Media type of the Helm chart layer.
pub const CHART_LAYER_MEDIA_TYPE: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
const CREATED: &str = "org.opencontainers.image.created";

/// Settings of an [`OciStore`].
#[derive(Debug, Clone)]
pub struct OciOptions {
    /// TLS, plain HTTP policy, credentials, limits.
    pub transport: TransportOptions,
    /// Chart names to list (the registry may not list repositories).
    pub charts: Vec<String>,
    /// Also ask the registry's `/v2/_catalog` for repositories under the namespace.
    pub use_catalog: bool,
    /// Limits for validating uploaded and pulled archives.
    pub limits: o2dms_chart::Limits,
    /// The id prefix, `oci` by default (`oci:name@version`). Give each registry its own
    /// prefix to combine several in a [`MultiStore`](crate::MultiStore).
    pub id_prefix: String,
}

impl Default for OciOptions {
    fn default() -> Self {
        OciOptions {
            transport: TransportOptions::default(),
            charts: Vec::new(),
            use_catalog: false,
            limits: o2dms_chart::Limits::default(),
            id_prefix: PREFIX.to_string(),
        }
    }
}

/// A chart store in an OCI registry. Ids: `oci:name@version` (the prefix is
/// configurable: [`OciOptions::id_prefix`]).
#[derive(Debug)]
pub struct OciStore {
    base: Url,
    host: String,
    namespace: String,
    client: reqwest::Client,
    options: OciOptions,
    known: Mutex<BTreeSet<String>>,
    tokens: Mutex<HashMap<String, String>>,
    configs: Mutex<HashMap<String, ChartConfig>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Descriptor {
    #[serde(rename = "mediaType")]
    media_type: String,
    digest: String,
    size: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Manifest {
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    media_type: Option<String>,
    config: Descriptor,
    layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
struct ChartConfig {
    name: String,
    version: String,
    #[serde(rename = "appVersion", default)]
    app_version: Option<String>,
    #[serde(default)]
    description: String,
}

#[derive(Debug, Deserialize)]
struct TagList {
    #[serde(default)]
    tags: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
struct Catalog {
    #[serde(default)]
    repositories: Option<Vec<String>>,
}

/// Manifests read at once while listing.
const LIST_CONCURRENCY: usize = 8;

/// Parses an `oci:name@version` id. OCI repository names are lowercase, so a name with
/// capitals cannot be in the registry: NotFound, without asking it.
fn parse_id(pid: &PackageId, prefix: &str) -> Result<(String, String)> {
    let (name, version) = id::parse(pid, Some(prefix))?;
    if name.bytes().any(|c| c.is_ascii_uppercase()) {
        return Err(Error::not_found(Resource::Package, pid));
    }
    Ok((name, version))
}

fn tag_of(version: &str) -> String {
    version.replace('+', "_")
}

fn status_error(what: &str, status: StatusCode, body: &[u8]) -> Error {
    let text = String::from_utf8_lossy(&body[..body.len().min(512)]).into_owned();
    if status.is_server_error() {
        Error::Unavailable {
            message: format!("{what}: {status}: {text}"),
        }
    } else {
        Error::backend(format!("{what}: {status}: {text}"))
    }
}

impl OciStore {
    /// A store in the registry at `registry` (`host[:port]`, HTTPS; or
    /// `http://host[:port]` for plain HTTP, allowed for loopback hosts or with
    /// [`PlainHttp::Always`](crate::PlainHttp::Always)), charts under the repository
    /// path `namespace` (e.g. `charts`; empty for the registry root).
    pub fn new(registry: &str, namespace: &str, options: OciOptions) -> Result<Self> {
        let with_scheme = if registry.contains("://") {
            registry.to_string()
        } else {
            format!("https://{registry}")
        };
        let base = Url::parse(&with_scheme).map_err(|e| {
            Error::invalid("registry", format!("`{registry}` is not host[:port]: {e}"))
        })?;
        if base.path() != "/" || base.query().is_some() || base.host_str().is_none() {
            return Err(Error::invalid(
                "registry",
                format!("`{registry}` must be host[:port] with no path"),
            ));
        }
        transport::check_scheme("registry", &base, options.transport.plain_http)?;
        let namespace = namespace.trim_matches('/').to_string();
        if !namespace.is_empty()
            && !namespace.split('/').all(|part| {
                !part.is_empty()
                    && part.bytes().all(|c| {
                        c.is_ascii_lowercase()
                            || c.is_ascii_digit()
                            || matches!(c, b'.' | b'_' | b'-')
                    })
            })
        {
            return Err(Error::invalid(
                "namespace",
                format!("`{namespace}` is not an OCI repository path (lowercase, digits, '.', '_', '-', '/')"),
            ));
        }
        id::check_prefix("id_prefix", &options.id_prefix)?;
        for name in &options.charts {
            id::check_name("charts", name)?;
        }
        let host = match base.port() {
            Some(p) => format!("{}:{p}", base.host_str().unwrap_or_default()),
            None => base.host_str().unwrap_or_default().to_string(),
        };
        Ok(OciStore {
            client: transport::client(&options.transport)?,
            known: Mutex::new(options.charts.iter().cloned().collect()),
            base,
            host,
            namespace,
            options,
            tokens: Mutex::new(HashMap::new()),
            configs: Mutex::new(HashMap::new()),
        })
    }

    /// Whether the registry is spoken to over plain HTTP.
    pub fn plain_http(&self) -> bool {
        self.base.scheme() == "http"
    }

    /// `oci://host[:port]/namespace/name`: the reference helm uses for chart `name`.
    pub fn reference(&self, name: &str) -> String {
        format!("oci://{}/{}", self.host, self.repository(name))
    }

    fn repository(&self, name: &str) -> String {
        if self.namespace.is_empty() {
            name.to_string()
        } else {
            format!("{}/{name}", self.namespace)
        }
    }

    fn url(&self, path: &str) -> Result<Url> {
        self.base
            .join(path)
            .map_err(|e| Error::backend(format!("bad registry URL {path}: {e}")))
    }

    /// Sends a request, answering a bearer challenge once.
    async fn send(&self, req: reqwest::Request, scope: &str) -> Result<reqwest::Response> {
        let what = format!("{} {}", req.method(), req.url());
        let retry = req.try_clone();
        let resp = self.send_once(req, scope).await?;
        if resp.status() != StatusCode::UNAUTHORIZED {
            return Ok(resp);
        }
        let challenge = resp
            .headers()
            .get(WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let (Some(challenge), Some(retry)) = (challenge, retry) else {
            return Err(Error::backend(format!("{what}: 401 Unauthorized")));
        };
        if !challenge.to_ascii_lowercase().starts_with("bearer ") {
            return Err(Error::backend(format!(
                "{what}: 401 Unauthorized (challenge `{challenge}`)"
            )));
        }
        let token = self.fetch_token(&challenge, scope).await?;
        self.tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(scope.to_string(), token);
        let resp = self.send_once(retry, scope).await?;
        if resp.status() == StatusCode::UNAUTHORIZED {
            return Err(Error::backend(format!(
                "{what}: 401 Unauthorized with a bearer token"
            )));
        }
        Ok(resp)
    }

    async fn send_once(&self, mut req: reqwest::Request, scope: &str) -> Result<reqwest::Response> {
        let what = format!("{} {}", req.method(), req.url());
        let token = self
            .tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(scope)
            .cloned();
        let auth = match (token, &self.options.transport.basic_auth) {
            (Some(t), _) => Some(format!("Bearer {t}")),
            (None, Some((u, p))) => {
                use base64::Engine as _;
                Some(format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
                ))
            }
            (None, None) => None,
        };
        if let Some(a) = auth {
            let v = HeaderValue::from_str(&a).map_err(|_| {
                Error::invalid("basic_auth", "credentials are not valid header text")
            })?;
            req.headers_mut().insert(reqwest::header::AUTHORIZATION, v);
        }
        self.client
            .execute(req)
            .await
            .map_err(|e| transport::request_error(&what, e))
    }

    async fn fetch_token(&self, challenge: &str, scope: &str) -> Result<String> {
        let params = parse_challenge(&challenge[7..]);
        let realm = params.get("realm").ok_or_else(|| {
            Error::backend(format!("bearer challenge without realm: {challenge}"))
        })?;
        let mut url = Url::parse(realm)
            .map_err(|e| Error::backend(format!("bearer realm `{realm}`: {e}")))?;
        transport::check_scheme("realm", &url, self.options.transport.plain_http)?;
        {
            let mut q = url.query_pairs_mut();
            if let Some(service) = params.get("service") {
                q.append_pair("service", service);
            }
            q.append_pair("scope", params.get("scope").map_or(scope, String::as_str));
        }
        let mut req = self.client.get(url.clone());
        if let Some((u, p)) = &self.options.transport.basic_auth {
            req = req.basic_auth(u, Some(p));
        }
        let resp = req
            .send()
            .await
            .map_err(|e| transport::request_error(&format!("GET {url}"), e))?;
        let status = resp.status();
        let body = transport::read_body("token", resp, 1024 * 1024).await?;
        if !status.is_success() {
            return Err(status_error(&format!("GET {url}"), status, &body));
        }
        #[derive(Deserialize)]
        struct Token {
            token: Option<String>,
            access_token: Option<String>,
        }
        let t: Token = serde_json::from_slice(&body)
            .map_err(|e| Error::backend(format!("token response: {e}")))?;
        t.token
            .or(t.access_token)
            .ok_or_else(|| Error::backend("token response has no token"))
    }

    fn pull_scope(&self, name: &str) -> String {
        format!("repository:{}:pull", self.repository(name))
    }

    fn push_scope(&self, name: &str) -> String {
        format!("repository:{}:pull,push", self.repository(name))
    }

    /// The manifest of `name` at `version` and its digest; None if absent.
    async fn manifest(&self, name: &str, version: &str) -> Result<Option<(Manifest, String)>> {
        let url = self.url(&format!(
            "/v2/{}/manifests/{}",
            self.repository(name),
            tag_of(version)
        ))?;
        let req = self
            .client
            .get(url.clone())
            .header(ACCEPT, MANIFEST_MEDIA_TYPE)
            .build()
            .map_err(|e| Error::backend(format!("request: {e}")))?;
        let resp = self.send(req, &self.pull_scope(name)).await?;
        let status = resp.status();
        let digest = resp
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = transport::read_body("manifest", resp, 4 * 1024 * 1024).await?;
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(status_error(&format!("GET {url}"), status, &body));
        }
        let digest = digest.unwrap_or_else(|| format!("sha256:{}", chart::sha256_hex(&body)));
        let manifest: Manifest = serde_json::from_slice(&body)
            .map_err(|e| Error::backend(format!("GET {url}: not an OCI manifest: {e}")))?;
        Ok(Some((manifest, digest)))
    }

    async fn blob(&self, name: &str, digest: &str, max: u64) -> Result<Vec<u8>> {
        let url = self.url(&format!("/v2/{}/blobs/{digest}", self.repository(name)))?;
        let req = self
            .client
            .get(url.clone())
            .build()
            .map_err(|e| Error::backend(format!("request: {e}")))?;
        let resp = self.send(req, &self.pull_scope(name)).await?;
        let status = resp.status();
        let body = transport::read_body(&format!("GET {url}"), resp, max).await?;
        if !status.is_success() {
            return Err(status_error(&format!("GET {url}"), status, &body));
        }
        let got = format!("sha256:{}", chart::sha256_hex(&body));
        if got != digest {
            return Err(Error::backend(format!(
                "GET {url}: content digest {got} does not match {digest}"
            )));
        }
        Ok(body)
    }

    async fn config(&self, name: &str, manifest: &Manifest) -> Result<ChartConfig> {
        let digest = &manifest.config.digest;
        if let Some(c) = self
            .configs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(digest)
        {
            return Ok(c.clone());
        }
        let bytes = self.blob(name, digest, 1024 * 1024).await?;
        let config: ChartConfig = serde_json::from_slice(&bytes)
            .map_err(|e| Error::backend(format!("chart config {digest}: {e}")))?;
        self.configs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(digest.clone(), config.clone());
        Ok(config)
    }

    fn layer(manifest: &Manifest) -> Option<&Descriptor> {
        if manifest.config.media_type != CONFIG_MEDIA_TYPE {
            return None;
        }
        manifest
            .layers
            .iter()
            .find(|l| l.media_type == CHART_LAYER_MEDIA_TYPE)
    }

    /// The package for a Helm manifest, or None if the manifest is not a chart.
    async fn package(&self, name: &str, manifest: &Manifest) -> Result<Option<Package>> {
        let Some(layer) = Self::layer(manifest) else {
            return Ok(None);
        };
        let config = self.config(name, manifest).await?;
        if config.name != name {
            tracing::warn!(repository = %self.repository(name), chart = %config.name, "chart name differs from its repository; skipped");
            return Ok(None);
        }
        let created_at = manifest
            .annotations
            .get(CREATED)
            .and_then(|t| Timestamp::parse_rfc3339(t))
            .unwrap_or(Timestamp::EPOCH);
        let mut extensions = BTreeMap::new();
        extensions.insert(
            "oci.reference".to_string(),
            Value::from(self.reference(name)),
        );
        Ok(Some(Package {
            id: id::format(Some(&self.options.id_prefix), &config.name, &config.version)?,
            name: config.name,
            version: config.version,
            app_version: config.app_version,
            description: config.description,
            source: PackageSource::Oci,
            digest: layer.digest.clone(),
            created_at,
            extensions,
        }))
    }

    async fn tags(&self, name: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let mut next = Some(self.url(&format!("/v2/{}/tags/list?n=1000", self.repository(name)))?);
        while let Some(url) = next.take() {
            let req = self
                .client
                .get(url.clone())
                .build()
                .map_err(|e| Error::backend(format!("request: {e}")))?;
            let resp = self.send(req, &self.pull_scope(name)).await?;
            let status = resp.status();
            let link = resp
                .headers()
                .get(reqwest::header::LINK)
                .and_then(|v| v.to_str().ok())
                .and_then(next_link);
            let body = transport::read_body("tags", resp, 16 * 1024 * 1024).await?;
            if status == StatusCode::NOT_FOUND {
                return Ok(out);
            }
            if !status.is_success() {
                return Err(status_error(&format!("GET {url}"), status, &body));
            }
            let list: TagList = serde_json::from_slice(&body)
                .map_err(|e| Error::backend(format!("GET {url}: {e}")))?;
            out.extend(list.tags.unwrap_or_default());
            if let Some(l) = link {
                next = Some(self.url(&l)?);
            }
        }
        Ok(out)
    }

    /// Chart names from `_catalog` under the namespace; empty when the registry does not
    /// offer a catalog.
    async fn catalog(&self) -> Vec<String> {
        let mut out = Vec::new();
        let Ok(mut next) = self.url("/v2/_catalog?n=1000").map(Some) else {
            return out;
        };
        let prefix = if self.namespace.is_empty() {
            String::new()
        } else {
            format!("{}/", self.namespace)
        };
        while let Some(url) = next.take() {
            let Ok(req) = self.client.get(url.clone()).build() else {
                break;
            };
            let resp = match self.send(req, "registry:catalog:*").await {
                Ok(r) if r.status().is_success() => r,
                Ok(r) => {
                    tracing::debug!(status = %r.status(), "registry offers no catalog");
                    break;
                }
                Err(e) => {
                    tracing::debug!(error = %e, "registry offers no catalog");
                    break;
                }
            };
            let link = resp
                .headers()
                .get(reqwest::header::LINK)
                .and_then(|v| v.to_str().ok())
                .and_then(next_link);
            let Ok(body) = transport::read_body("catalog", resp, 16 * 1024 * 1024).await else {
                break;
            };
            let Ok(c) = serde_json::from_slice::<Catalog>(&body) else {
                break;
            };
            for repo in c.repositories.unwrap_or_default() {
                if let Some(rest) = repo.strip_prefix(&prefix) {
                    if !rest.contains('/') && id::check_name("name", rest).is_ok() {
                        out.push(rest.to_string());
                    }
                }
            }
            next = link.and_then(|l| self.url(&l).ok());
        }
        out
    }

    async fn versions(&self, name: &str) -> Result<Vec<Package>> {
        use futures::stream::{self, StreamExt as _, TryStreamExt as _};
        let tags = self.tags(name).await?;
        let found: Vec<Option<Package>> = stream::iter(tags)
            .map(|tag| async move {
                // Tags may disappear between the list and the read: skip those.
                match self.manifest(name, &tag).await? {
                    Some((manifest, _)) => self.package(name, &manifest).await,
                    None => Ok(None),
                }
            })
            .buffered(LIST_CONCURRENCY)
            .try_collect()
            .await?;
        Ok(found.into_iter().flatten().collect())
    }

    async fn upload_blob(&self, name: &str, media: &str, bytes: &[u8]) -> Result<Descriptor> {
        let digest = format!("sha256:{}", chart::sha256_hex(bytes));
        let desc = Descriptor {
            media_type: media.to_string(),
            digest: digest.clone(),
            size: bytes.len() as u64,
        };
        let scope = self.push_scope(name);
        let repo = self.repository(name);
        let head = self
            .client
            .head(self.url(&format!("/v2/{repo}/blobs/{digest}"))?)
            .build()
            .map_err(|e| Error::backend(format!("request: {e}")))?;
        if self.send(head, &scope).await?.status().is_success() {
            return Ok(desc);
        }
        let start_url = self.url(&format!("/v2/{repo}/blobs/uploads/"))?;
        let start = self
            .client
            .post(start_url.clone())
            .header(reqwest::header::CONTENT_LENGTH, "0")
            .build()
            .map_err(|e| Error::backend(format!("request: {e}")))?;
        let resp = self.send(start, &scope).await?;
        let status = resp.status();
        let location = resp
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = transport::read_body("upload", resp, 1024 * 1024).await?;
        if status != StatusCode::ACCEPTED {
            return Err(status_error(&format!("POST {start_url}"), status, &body));
        }
        let location =
            location.ok_or_else(|| Error::backend(format!("POST {start_url}: no Location")))?;
        let mut put_url = start_url
            .join(&location)
            .map_err(|e| Error::backend(format!("upload location `{location}`: {e}")))?;
        put_url.query_pairs_mut().append_pair("digest", &digest);
        let put = self
            .client
            .request(Method::PUT, put_url.clone())
            .header(CONTENT_TYPE, "application/octet-stream")
            .body(bytes.to_vec())
            .build()
            .map_err(|e| Error::backend(format!("request: {e}")))?;
        let resp = self.send(put, &scope).await?;
        let status = resp.status();
        let body = transport::read_body("upload", resp, 1024 * 1024).await?;
        if status != StatusCode::CREATED {
            return Err(status_error(&format!("PUT {put_url}"), status, &body));
        }
        Ok(desc)
    }

    fn remember(&self, name: &str) {
        self.known
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_string());
    }
}

/// `k="v", k2="v2"` from a challenge.
fn parse_challenge(s: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut rest = s.trim();
    while let Some((key, after)) = rest.split_once('=') {
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let after = after.trim_start();
        let (value, tail) = if let Some(q) = after.strip_prefix('"') {
            match q.find('"') {
                Some(end) => (&q[..end], &q[end + 1..]),
                None => (q, ""),
            }
        } else {
            match after.find(',') {
                Some(end) => (&after[..end], &after[end..]),
                None => (after, ""),
            }
        };
        out.insert(key, value.to_string());
        rest = tail.trim_start_matches([',', ' ']);
    }
    out
}

/// The target of a `Link: <url>; rel="next"` header.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        params.contains("rel=\"next\"").then(|| {
            target
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
    })
}

#[async_trait]
impl PackageStore for OciStore {
    fn kind(&self) -> &'static str {
        PREFIX
    }

    fn owns(&self, pid: &PackageId) -> bool {
        id::has_prefix(pid, &self.options.id_prefix)
    }

    async fn put(&self, upload: PackageUpload) -> Result<Package> {
        let content = upload.content.clone();
        let limits = self.options.limits;
        let c = tokio::task::spawn_blocking(move || chart::validate(&content, &limits))
            .await
            .map_err(|e| Error::backend(format!("validation task failed: {e}")))??;
        chart::check_expectations(&c, &upload)?;
        id::check_name("content", &c.name)?;
        id::check_version("content", &c.version)?;
        if let Some((manifest, _)) = self.manifest(&c.name, &c.version).await? {
            let same =
                Self::layer(&manifest).is_some_and(|l| chart::same_digest(&l.digest, &c.digest));
            if same {
                if let Some(p) = self.package(&c.name, &manifest).await? {
                    self.remember(&c.name);
                    return Ok(p);
                }
            }
            return Err(Error::already_exists(
                Resource::Package,
                id::format(Some(&self.options.id_prefix), &c.name, &c.version)?,
            ));
        }
        let config_bytes = serde_json::to_vec(&c.config_json())
            .map_err(|e| Error::backend(format!("chart config: {e}")))?;
        let config = self
            .upload_blob(&c.name, CONFIG_MEDIA_TYPE, &config_bytes)
            .await?;
        let layer = self
            .upload_blob(&c.name, CHART_LAYER_MEDIA_TYPE, &upload.content)
            .await?;
        let mut annotations = BTreeMap::new();
        annotations.insert("org.opencontainers.image.title".to_string(), c.name.clone());
        annotations.insert(
            "org.opencontainers.image.version".to_string(),
            c.version.clone(),
        );
        if !c.description.is_empty() {
            annotations.insert(
                "org.opencontainers.image.description".to_string(),
                c.description.clone(),
            );
        }
        annotations.insert(CREATED.to_string(), Timestamp::now().to_rfc3339());
        let manifest = Manifest {
            schema_version: 2,
            media_type: Some(MANIFEST_MEDIA_TYPE.to_string()),
            config,
            layers: vec![layer],
            annotations,
        };
        let body =
            serde_json::to_vec(&manifest).map_err(|e| Error::backend(format!("manifest: {e}")))?;
        let url = self.url(&format!(
            "/v2/{}/manifests/{}",
            self.repository(&c.name),
            tag_of(&c.version)
        ))?;
        let req = self
            .client
            .put(url.clone())
            .header(CONTENT_TYPE, MANIFEST_MEDIA_TYPE)
            .body(body)
            .build()
            .map_err(|e| Error::backend(format!("request: {e}")))?;
        let resp = self.send(req, &self.push_scope(&c.name)).await?;
        let status = resp.status();
        let rbody = transport::read_body("manifest", resp, 1024 * 1024).await?;
        if status != StatusCode::CREATED {
            return Err(status_error(&format!("PUT {url}"), status, &rbody));
        }
        self.remember(&c.name);
        self.package(&c.name, &manifest)
            .await?
            .ok_or_else(|| Error::backend("pushed manifest is not read back as a chart"))
    }

    async fn get(&self, pid: &PackageId) -> Result<Package> {
        let (name, version) = parse_id(pid, &self.options.id_prefix)?;
        let (manifest, _) = self
            .manifest(&name, &version)
            .await?
            .ok_or_else(|| Error::not_found(Resource::Package, pid))?;
        match self.package(&name, &manifest).await? {
            Some(p) if p.version == version => Ok(p),
            _ => Err(Error::not_found(Resource::Package, pid)),
        }
    }

    async fn list(&self, filter: &PackageFilter) -> Result<Page<Package>> {
        filter.page.effective_limit()?;
        let names: BTreeSet<String> = match &filter.name {
            Some(n) => {
                if id::check_name("name", n).is_err() || n.bytes().any(|c| c.is_ascii_uppercase()) {
                    return order::paginate(Vec::new(), filter);
                }
                [n.clone()].into()
            }
            None => {
                let mut names = self.known.lock().unwrap_or_else(|e| e.into_inner()).clone();
                if self.options.use_catalog {
                    names.extend(self.catalog().await);
                }
                names
            }
        };
        let mut all = Vec::new();
        for name in names {
            all.extend(self.versions(&name).await?);
        }
        order::paginate(all, filter)
    }

    async fn delete(&self, pid: &PackageId) -> Result<()> {
        let (name, version) = parse_id(pid, &self.options.id_prefix)?;
        let (manifest, digest) = self
            .manifest(&name, &version)
            .await?
            .ok_or_else(|| Error::not_found(Resource::Package, pid))?;
        if Self::layer(&manifest).is_none() {
            return Err(Error::not_found(Resource::Package, pid));
        }
        let url = self.url(&format!(
            "/v2/{}/manifests/{digest}",
            self.repository(&name)
        ))?;
        let req = self
            .client
            .delete(url.clone())
            .build()
            .map_err(|e| Error::backend(format!("request: {e}")))?;
        let resp = self
            .send(
                req,
                &format!("repository:{}:delete", self.repository(&name)),
            )
            .await?;
        let status = resp.status();
        let body = transport::read_body("delete", resp, 1024 * 1024).await?;
        match status {
            s if s.is_success() => Ok(()),
            StatusCode::NOT_FOUND => Err(Error::not_found(Resource::Package, pid)),
            StatusCode::METHOD_NOT_ALLOWED => Err(Error::unsupported(
                "delete_package",
                format!("the registry {} does not allow deletes", self.host),
            )),
            s => Err(status_error(&format!("DELETE {url}"), s, &body)),
        }
    }

    async fn archive(&self, pid: &PackageId) -> Result<Vec<u8>> {
        let (name, version) = parse_id(pid, &self.options.id_prefix)?;
        let (manifest, _) = self
            .manifest(&name, &version)
            .await?
            .ok_or_else(|| Error::not_found(Resource::Package, pid))?;
        let layer = Self::layer(&manifest)
            .ok_or_else(|| Error::not_found(Resource::Package, pid))?
            .clone();
        let bytes = self
            .blob(&name, &layer.digest, self.options.transport.max_body_bytes)
            .await?;
        let check = bytes.clone();
        let limits = self.options.limits;
        let c = tokio::task::spawn_blocking(move || chart::validate(&check, &limits))
            .await
            .map_err(|e| Error::backend(format!("validation task failed: {e}")))?
            .map_err(|e| {
                Error::backend(format!(
                    "the registry holds an invalid chart for {pid}: {e}"
                ))
            })?;
        if c.name != name || c.version != version {
            return Err(Error::backend(format!(
                "{pid}: the registry's archive holds {}@{}",
                c.name, c.version
            )));
        }
        Ok(bytes)
    }

    async fn install_source(&self, pid: &PackageId) -> Result<InstallSource> {
        let package = self.get(pid).await?;
        Ok(InstallSource::Oci {
            reference: self.reference(&package.name),
            version: package.version,
            plain_http: self.plain_http(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bearer_challenges_and_links() {
        let p = parse_challenge(
            r#"realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull""#,
        );
        assert_eq!(p["realm"], "https://auth.example/token");
        assert_eq!(p["service"], "registry.example");
        assert_eq!(p["scope"], "repository:a/b:pull");
        assert_eq!(
            next_link(r#"</v2/x/tags/list?last=b&n=2>; rel="next""#).as_deref(),
            Some("/v2/x/tags/list?last=b&n=2")
        );
        assert_eq!(next_link("garbage"), None);
    }

    #[test]
    fn constructor_rules() {
        let o = OciOptions::default;
        assert!(OciStore::new("http://127.0.0.1:5000", "charts", o()).is_ok());
        assert!(OciStore::new("http://registry.example", "charts", o()).is_err());
        assert!(OciStore::new("registry.example", "charts", o()).is_ok());
        assert!(OciStore::new("registry.example/path", "charts", o()).is_err());
        assert!(OciStore::new("registry.example", "Bad Path", o()).is_err());
        let s = OciStore::new("http://127.0.0.1:5000", "/charts/", o()).unwrap();
        assert_eq!(s.reference("du"), "oci://127.0.0.1:5000/charts/du");
        assert!(s.plain_http());
    }
}
