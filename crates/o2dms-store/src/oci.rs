//! Charts in an OCI registry, the way `helm push` stores them: repository
//! `<namespace>/<name>`, tag = version (`+` written as `_`), a manifest whose config blob
//! (`application/vnd.cncf.helm.config.v1+json`) is the Chart.yaml metadata as JSON and
//! whose one layer (`application/vnd.cncf.helm.chart.content.v1.tar+gzip`) is the
//! archive. Ids: `oci:name@version`.
//!
//! ## What is trusted, and pinning
//!
//! Nothing the registry says is trusted. Digests in manifests and headers must be
//! `sha256:` and 64 lowercase hex characters before they are used in a URL or a file
//! name; a manifest's digest is computed from the bytes received; blobs are fetched by
//! digest, their SHA-256 and size checked while streaming, within bounds.
//!
//! To install a package ([`install_source`](PackageStore::install_source)), the store
//! resolves the tag to a manifest once, fetches the chart layer **by the manifest's
//! layer digest**, checks it, validates it with [`o2dms_chart::validate`] (the same
//! validation an upload gets, within [`OciOptions::limits`]), and keeps it in the cache
//! directory as `<cache>/<64 hex>.tgz`, named by that digest only (files 0600, directory
//! 0700). Helm is given that file: it never talks to the registry.
//!
//! The store also **pins** each version it uploads or installs: it records, in
//! `<cache>/pins/`, the manifest digest and chart layer digest the tag had. If the tag
//! later points at a chart layer with other content (someone pushed over it), installing
//! that id (and reading its archive) is [`Conflict`](o2dms_core::Error::Conflict) naming
//! both digests: a chart version is immutable, as it is for uploads
//! (`AlreadyExists`). A new manifest around the same layer (a re-push of the same chart)
//! is accepted. Deleting the package through the store removes its pin; removing the pin
//! file by hand accepts the moved tag. [`get`](PackageStore::get) and
//! [`list`](PackageStore::list) report what the registry holds now, with the manifest
//! digest as the extension `oci.manifestDigest`.
//!
//! ## Which charts exist
//!
//! The registry API lists tags of a repository but cannot always list repositories
//! (`/v2/_catalog` is optional, often disabled or restricted to admins). The store lists
//! the chart names it was configured with ([`OciOptions::charts`]), the ones pushed
//! through it, and, when [`OciOptions::use_catalog`] is set and the registry answers,
//! those in `_catalog` under the namespace. A chart pushed by someone else to a registry
//! without a catalog is found by `get`, and by `list` with a name filter, but not by an
//! unfiltered `list`.
//!
//! Concurrent pushes of the same name@version with different content are not atomic in
//! the registry API: both may pass the existence check and the last manifest wins. Push
//! each version from one place (the local store is the one with a lock).
//!
//! ## Authentication
//!
//! [`TransportOptions::credentials`]: anonymous, basic, a bearer token sent as it is, or
//! a registry identity token. A `WWW-Authenticate: Bearer` challenge is answered with a
//! token from its realm (`GET` with the basic credentials, anonymous `GET` without
//! credentials, or `POST grant_type=refresh_token` with an identity token), cached per
//! scope. Credentials are only ever sent to the registry's own origin and its token
//! realm, in headers marked sensitive; a registry answering 401 is PermissionDenied
//! naming the refused action.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use async_trait::async_trait;
use o2dms_core::{
    Error, Package, PackageFilter, PackageId, PackageSource, PackageUpload, Page, Resource, Result,
    Timestamp, Value,
};
use reqwest::header::{HeaderValue, ACCEPT, CONTENT_TYPE, LOCATION, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode, Url};
use serde::{Deserialize, Serialize};

use crate::auth::Credentials;
use crate::chart::{self, Sha256Hex};
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
/// The package extension holding the manifest digest.
const MANIFEST_DIGEST_EXTENSION: &str = "oci.manifestDigest";
/// Largest manifest read (the OCI distribution spec's suggested limit).
const MAX_MANIFEST_BYTES: u64 = 4 * 1024 * 1024;
/// Largest config blob read.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;
/// Largest pin file read.
const MAX_PIN_BYTES: u64 = 4096;
/// The OAuth2 client id sent to token services.
const CLIENT_ID: &str = "o2dms";

/// Settings of an [`OciStore`].
#[derive(Debug, Clone)]
pub struct OciOptions {
    /// TLS, plain HTTP policy, credentials, limits.
    pub transport: TransportOptions,
    /// Chart names to list (the registry may not list repositories).
    pub charts: Vec<String>,
    /// Also ask the registry's `/v2/_catalog` for repositories under the namespace.
    pub use_catalog: bool,
    /// Limits for validating uploaded and pulled archives. A chart layer larger than
    /// `max_compressed_bytes` is refused before it is downloaded.
    pub limits: o2dms_chart::Limits,
    /// The id prefix, `oci` by default (`oci:name@version`). Give each registry its own
    /// prefix to combine several in a [`MultiStore`](crate::MultiStore).
    pub id_prefix: String,
    /// Where validated chart archives (named by digest) and pins are kept: created 0700
    /// (and set to 0700 if it exists). Pins only protect against a moved tag as long as
    /// this directory lives, so give a lasting one. If unset, a temporary directory that
    /// lives as long as the store.
    pub cache_dir: Option<PathBuf>,
}

impl Default for OciOptions {
    fn default() -> Self {
        OciOptions {
            transport: TransportOptions::default(),
            charts: Vec::new(),
            use_catalog: false,
            limits: o2dms_chart::Limits::default(),
            id_prefix: PREFIX.to_string(),
            cache_dir: None,
        }
    }
}

/// A chart store in an OCI registry. Ids: `oci:name@version` (the prefix is
/// configurable: [`OciOptions::id_prefix`]).
///
/// Nothing the registry says is trusted: digests must be `sha256:` and 64 lowercase hex
/// characters before they are used, manifests are digested as received, blobs are
/// fetched by digest with their SHA-256 and size checked while streaming.
/// [`install_source`](PackageStore::install_source) resolves the tag once, fetches the
/// chart layer by digest, validates it like an upload, keeps it as
/// `<cache_dir>/<64 hex>.tgz` (0600) and answers that file, so helm never talks to the
/// registry. Each version uploaded or installed is pinned (`<cache_dir>/pins/`): a tag
/// later moved to other chart content is Conflict for `install_source` and `archive`; a
/// chart layer that fails validation is InvalidArgument with the validation error.
pub struct OciStore {
    base: Url,
    host: String,
    namespace: String,
    client: reqwest::Client,
    options: OciOptions,
    cache_dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
    known: Mutex<BTreeSet<String>>,
    /// Bearer tokens by scope (secrets: never shown).
    tokens: Mutex<HashMap<String, String>>,
    /// Chart configs by config blob digest.
    configs: Mutex<HashMap<String, ChartConfig>>,
}

impl std::fmt::Debug for OciStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OciStore")
            .field("base", &self.base.as_str())
            .field("namespace", &self.namespace)
            .field("cache_dir", &self.cache_dir)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
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

/// A manifest as read by tag or digest, and the digest of the exact bytes received.
struct Resolved {
    manifest: Manifest,
    digest: Sha256Hex,
}

/// The blobs of a Helm chart manifest, their digests checked.
struct ChartParts {
    config: Sha256Hex,
    layer: Sha256Hex,
    layer_size: u64,
}

/// The blobs of `manifest` if it is a Helm chart (None if it is something else), or
/// what is wrong with its digests.
fn chart_parts(manifest: &Manifest) -> Option<std::result::Result<ChartParts, String>> {
    if manifest.config.media_type != CONFIG_MEDIA_TYPE {
        return None;
    }
    let layer = manifest
        .layers
        .iter()
        .find(|l| l.media_type == CHART_LAYER_MEDIA_TYPE)?;
    let config = match Sha256Hex::parse_prefixed(&manifest.config.digest) {
        Ok(d) => d,
        Err(p) => return Some(Err(format!("its config digest is malformed ({p})"))),
    };
    let parts = Sha256Hex::parse_prefixed(&layer.digest)
        .map(|digest| ChartParts {
            config,
            layer: digest,
            layer_size: layer.size,
        })
        .map_err(|p| format!("its chart layer digest is malformed ({p})"));
    Some(parts)
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

/// What the store recorded for a tag it uploaded or installed (a pin file, as JSON).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PinFile {
    manifest: String,
    layer: String,
}

/// A pin, its digests checked.
struct Pin {
    manifest: Sha256Hex,
    layer: Sha256Hex,
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

/// How a refused token scope reads: `pull,push repository charts/du`.
fn scope_action(scope: &str) -> String {
    let mut parts = scope.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(kind), Some(name), Some(actions)) => format!("{actions} {kind} {name}"),
        _ => scope.to_string(),
    }
}

/// The registry location: base URL, `host[:port]`, namespace; checked.
fn parse_location(
    registry: &str,
    namespace: &str,
    plain_http: crate::PlainHttp,
) -> Result<(Url, String, String)> {
    let with_scheme = if registry.contains("://") {
        registry.to_string()
    } else {
        format!("https://{registry}")
    };
    let base = Url::parse(&with_scheme)
        .map_err(|e| Error::invalid("registry", format!("`{registry}` is not host[:port]: {e}")))?;
    if base.path() != "/"
        || base.query().is_some()
        || base.host_str().is_none()
        || !base.username().is_empty()
        || base.password().is_some()
    {
        return Err(Error::invalid(
            "registry",
            "must be host[:port] (or https:// or http:// and host[:port]) with no path and \
             no credentials",
        ));
    }
    transport::check_scheme("registry", &base, plain_http)?;
    let namespace = namespace.trim_matches('/').to_string();
    if !namespace.is_empty()
        && !namespace.split('/').all(|part| {
            !part.is_empty()
                && part.bytes().all(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'.' | b'_' | b'-')
                })
        })
    {
        return Err(Error::invalid(
            "namespace",
            format!(
                "`{namespace}` is not an OCI repository path (lowercase, digits, '.', '_', '-', '/')"
            ),
        ));
    }
    let host = match base.port() {
        Some(p) => format!("{}:{p}", base.host_str().unwrap_or_default()),
        None => base.host_str().unwrap_or_default().to_string(),
    };
    Ok((base, host, namespace))
}

/// Creates `dir` (and parents) and makes it 0700.
fn private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::create_dir_all(dir)
        .and_then(|_| std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)))
        .map_err(|e| Error::backend(format!("preparing cache directory {}: {e}", dir.display())))
}

/// Writes `bytes` to `target` atomically (a 0600 temporary file in the same directory,
/// then a rename).
fn write_private(target: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write as _;
    let dir = target
        .parent()
        .ok_or_else(|| Error::backend(format!("{} has no directory", target.display())))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(|e| Error::backend(format!("cache file in {}: {e}", dir.display())))?;
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| Error::backend(format!("write cache file in {}: {e}", dir.display())))?;
    tmp.persist(target)
        .map_err(|e| Error::backend(format!("rename to {}: {}", target.display(), e.error)))?;
    Ok(())
}

impl OciStore {
    /// Checks a registry location as [`new`](Self::new) does, without building a store
    /// or reading anything: `registry` is `host[:port]` (HTTPS), `https://host[:port]`,
    /// or `http://host[:port]` where `plain_http` allows it; `namespace` an OCI
    /// repository path. Errors name `registry` or `namespace`.
    pub fn check_location(
        registry: &str,
        namespace: &str,
        plain_http: crate::PlainHttp,
    ) -> Result<()> {
        parse_location(registry, namespace, plain_http).map(drop)
    }

    /// A store in the registry at `registry` (`host[:port]`, HTTPS; or
    /// `http://host[:port]` for plain HTTP, allowed for loopback hosts or with
    /// [`PlainHttp::Always`](crate::PlainHttp::Always)), charts under the repository
    /// path `namespace` (e.g. `charts`; empty for the registry root). Prepares the cache
    /// directory ([`OciOptions::cache_dir`]); contacts nobody.
    pub fn new(registry: &str, namespace: &str, options: OciOptions) -> Result<Self> {
        let (base, host, namespace) =
            parse_location(registry, namespace, options.transport.plain_http)?;
        id::check_prefix("id_prefix", &options.id_prefix)?;
        for name in &options.charts {
            id::check_name("charts", name)?;
        }
        let client = transport::client(&options.transport)?;
        let (cache_dir, temp) = match &options.cache_dir {
            Some(d) => {
                private_dir(d)?;
                let d = std::fs::canonicalize(d)
                    .map_err(|e| Error::backend(format!("cache dir {}: {e}", d.display())))?;
                (d, None)
            }
            None => {
                let t = tempfile::Builder::new()
                    .prefix("o2dms-oci-cache-")
                    .tempdir()
                    .map_err(|e| Error::backend(format!("create cache dir: {e}")))?;
                (t.path().to_path_buf(), Some(t))
            }
        };
        private_dir(&cache_dir.join("pins"))?;
        Ok(OciStore {
            client,
            known: Mutex::new(options.charts.iter().cloned().collect()),
            base,
            host,
            namespace,
            options,
            cache_dir,
            _temp: temp,
            tokens: Mutex::new(HashMap::new()),
            configs: Mutex::new(HashMap::new()),
        })
    }

    /// Whether the registry is spoken to over plain HTTP.
    pub fn plain_http(&self) -> bool {
        self.base.scheme() == "http"
    }

    /// `oci://host[:port]/namespace/name`: the reference helm would use for chart `name`.
    pub fn reference(&self, name: &str) -> String {
        format!("oci://{}/{}", self.host, self.repository(name))
    }

    /// The cache directory (validated archives named by digest, and `pins/`).
    pub fn cache_dir(&self) -> &Path {
        &self.cache_dir
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

    fn credentials(&self) -> &Credentials {
        &self.options.transport.credentials
    }

    /// Whether `url` is on the registry's own origin (credentials go nowhere else).
    fn same_origin(&self, url: &Url) -> bool {
        url.scheme() == self.base.scheme()
            && url.host_str() == self.base.host_str()
            && url.port_or_known_default() == self.base.port_or_known_default()
    }

    /// Sends a request, answering a bearer challenge once. A 401 that remains is
    /// PermissionDenied naming the refused scope.
    async fn send(&self, req: reqwest::Request, scope: &str) -> Result<reqwest::Response> {
        let what = format!("{} {}", req.method(), req.url());
        let retry = req.try_clone();
        let resp = self.send_once(req, scope).await?;
        if resp.status() != StatusCode::UNAUTHORIZED {
            return Ok(resp);
        }
        let refused = |detail: &str| {
            Error::permission_denied(
                format!("{} on registry {}", scope_action(scope), self.host),
                format!("{what}: 401 Unauthorized{detail}"),
            )
        };
        let challenge = resp
            .headers()
            .get(WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bearer = challenge.as_deref().and_then(|c| {
            let scheme = c.get(..7)?;
            scheme
                .eq_ignore_ascii_case("bearer ")
                .then(|| parse_challenge(c.get(7..).unwrap_or_default()))
        });
        let Some(params) = bearer else {
            return Err(refused(match self.credentials() {
                Credentials::Anonymous => " (the registry wants credentials; none are configured)",
                Credentials::Basic { .. } => " (the registry refused the credentials)",
                _ => " (the registry wants basic credentials)",
            }));
        };
        if matches!(self.credentials(), Credentials::Bearer { .. }) {
            return Err(refused(
                " (the registry refused the configured bearer token)",
            ));
        }
        let Some(retry) = retry else {
            return Err(refused(""));
        };
        let token = self.fetch_token(&params, scope).await?;
        self.tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(scope.to_string(), token);
        let resp = self.send_once(retry, scope).await?;
        if resp.status() == StatusCode::UNAUTHORIZED {
            return Err(refused(
                " with a bearer token from the registry's token service",
            ));
        }
        Ok(resp)
    }

    async fn send_once(&self, mut req: reqwest::Request, scope: &str) -> Result<reqwest::Response> {
        let what = format!("{} {}", req.method(), req.url());
        if self.same_origin(req.url()) {
            let token = self
                .tokens
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(scope)
                .cloned();
            let auth = match (token, self.credentials()) {
                (Some(t), _) => Some(format!("Bearer {t}")),
                (None, Credentials::Basic { username, password }) => {
                    use base64::Engine as _;
                    Some(format!(
                        "Basic {}",
                        base64::engine::general_purpose::STANDARD
                            .encode(format!("{username}:{password}"))
                    ))
                }
                (None, Credentials::Bearer { token }) => Some(format!("Bearer {token}")),
                (None, _) => None,
            };
            if let Some(a) = auth {
                let mut v = HeaderValue::from_str(&a).map_err(|_| {
                    Error::invalid("credentials", "credentials are not valid header text")
                })?;
                v.set_sensitive(true);
                req.headers_mut().insert(reqwest::header::AUTHORIZATION, v);
            }
        }
        self.client
            .execute(req)
            .await
            .map_err(|e| transport::request_error(&what, e))
    }

    /// A bearer token for `scope` from the challenge's realm.
    async fn fetch_token(&self, params: &HashMap<String, String>, scope: &str) -> Result<String> {
        let realm = params
            .get("realm")
            .ok_or_else(|| Error::backend("bearer challenge without realm"))?;
        let mut url = Url::parse(realm)
            .map_err(|e| Error::backend(format!("bearer realm `{realm}`: {e}")))?;
        transport::check_scheme("realm", &url, self.options.transport.plain_http)?;
        url.set_fragment(None);
        let scope = params.get("scope").map_or(scope, String::as_str);
        let service = params.get("service");
        let req = match self.credentials() {
            Credentials::IdentityToken { token } => {
                let mut form = vec![
                    ("grant_type", "refresh_token"),
                    ("refresh_token", token.as_str()),
                    ("client_id", CLIENT_ID),
                    ("scope", scope),
                ];
                if let Some(s) = service {
                    form.push(("service", s.as_str()));
                }
                self.client.post(url.clone()).form(&form)
            }
            creds => {
                {
                    let mut q = url.query_pairs_mut();
                    if let Some(s) = service {
                        q.append_pair("service", s);
                    }
                    q.append_pair("scope", scope);
                }
                let req = self.client.get(url.clone());
                match creds {
                    Credentials::Basic { username, password } => {
                        req.basic_auth(username, Some(password))
                    }
                    _ => req,
                }
            }
        };
        let what = format!("token service {}", url.origin().ascii_serialization());
        let resp = req
            .send()
            .await
            .map_err(|e| transport::request_error(&what, e))?;
        let status = resp.status();
        let body = transport::read_body(&what, resp, 1024 * 1024).await?;
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(Error::permission_denied(
                format!("{} on registry {}", scope_action(scope), self.host),
                format!("{what}: {status}: the token service refused the credentials"),
            ));
        }
        if !status.is_success() {
            return Err(status_error(&what, status, &body));
        }
        #[derive(Deserialize)]
        struct Token {
            token: Option<String>,
            access_token: Option<String>,
        }
        let t: Token = serde_json::from_slice(&body).map_err(|e| {
            Error::backend(format!(
                "{what}: the token response is not JSON with a token (line {}, column {})",
                e.line(),
                e.column()
            ))
        })?;
        t.token
            .or(t.access_token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Error::backend(format!("{what}: the token response has no token")))
    }

    fn pull_scope(&self, name: &str) -> String {
        format!("repository:{}:pull", self.repository(name))
    }

    fn push_scope(&self, name: &str) -> String {
        format!("repository:{}:pull,push", self.repository(name))
    }

    /// The manifest of `name` at `reference` (a tag, or `sha256:` digest) and the
    /// digest of its bytes; None if absent.
    async fn manifest(&self, name: &str, reference: &str) -> Result<Option<Resolved>> {
        let url = self.url(&format!(
            "/v2/{}/manifests/{reference}",
            self.repository(name)
        ))?;
        let req = self
            .client
            .get(url.clone())
            .header(ACCEPT, MANIFEST_MEDIA_TYPE)
            .build()
            .map_err(|e| Error::backend(format!("request: {e}")))?;
        let resp = self.send(req, &self.pull_scope(name)).await?;
        let status = resp.status();
        let claimed = resp
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = transport::read_body("manifest", resp, MAX_MANIFEST_BYTES).await?;
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(status_error(&format!("GET {url}"), status, &body));
        }
        // The digest of what was received; the registry's header is only compared.
        let digest = Sha256Hex::of(&body);
        if let Some(claimed) = claimed {
            if Sha256Hex::parse_prefixed(&claimed).ok().as_ref() != Some(&digest) {
                tracing::warn!(url = %url, "the registry's Docker-Content-Digest is not the digest of the manifest it sent; using the computed one");
            }
        }
        let manifest: Manifest = serde_json::from_slice(&body).map_err(|e| {
            Error::backend(format!(
                "GET {url}: not an OCI manifest (line {}, column {})",
                e.line(),
                e.column()
            ))
        })?;
        Ok(Some(Resolved { manifest, digest }))
    }

    /// The blob `digest` of `name`, its SHA-256 checked while it streams in; at most
    /// `max` bytes, and exactly `declared` when the manifest says how many.
    async fn blob(
        &self,
        name: &str,
        digest: &Sha256Hex,
        declared: Option<u64>,
        max: u64,
    ) -> Result<Vec<u8>> {
        use sha2::Digest as _;
        let url = self.url(&format!(
            "/v2/{}/blobs/{}",
            self.repository(name),
            digest.prefixed()
        ))?;
        let what = format!("GET {url}");
        if let Some(n) = declared.filter(|n| *n > max) {
            return Err(Error::backend(format!(
                "{what}: the manifest declares {n} bytes, more than the {max} allowed"
            )));
        }
        let req = self
            .client
            .get(url.clone())
            .build()
            .map_err(|e| Error::backend(format!("request: {e}")))?;
        let mut resp = self.send(req, &self.pull_scope(name)).await?;
        let status = resp.status();
        if !status.is_success() {
            let body = transport::read_body(&what, resp, 64 * 1024)
                .await
                .unwrap_or_default();
            return Err(status_error(&what, status, &body));
        }
        let limit = declared.unwrap_or(max).min(max);
        if resp.content_length().is_some_and(|n| n > limit) {
            return Err(Error::backend(format!(
                "{what}: larger than the {limit} bytes expected"
            )));
        }
        let mut hasher = sha2::Sha256::new();
        let mut out = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| transport::request_error(&what, e))?
        {
            if out.len() as u64 + chunk.len() as u64 > limit {
                return Err(Error::backend(format!(
                    "{what}: larger than the {limit} bytes expected"
                )));
            }
            hasher.update(&chunk);
            out.extend_from_slice(&chunk);
        }
        let got = hex::encode(hasher.finalize());
        if got != digest.as_str() {
            return Err(Error::backend(format!(
                "{what}: content digest sha256:{got} does not match {}",
                digest.prefixed()
            )));
        }
        if declared.is_some_and(|n| n != out.len() as u64) {
            return Err(Error::backend(format!(
                "{what}: {} bytes where the manifest declares {}",
                out.len(),
                declared.unwrap_or_default()
            )));
        }
        Ok(out)
    }

    async fn config(&self, name: &str, digest: &Sha256Hex) -> Result<ChartConfig> {
        if let Some(c) = self
            .configs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(digest.as_str())
        {
            return Ok(c.clone());
        }
        let bytes = self.blob(name, digest, None, MAX_CONFIG_BYTES).await?;
        let config: ChartConfig = serde_json::from_slice(&bytes).map_err(|e| {
            Error::backend(format!(
                "chart config {}: not a Helm chart config (line {}, column {})",
                digest.prefixed(),
                e.line(),
                e.column()
            ))
        })?;
        self.configs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(digest.as_str().to_string(), config.clone());
        Ok(config)
    }

    /// The package for a manifest, or None if the manifest is not a chart; a chart
    /// manifest with malformed digests is an error.
    async fn package(&self, name: &str, resolved: &Resolved) -> Result<Option<Package>> {
        let parts = match chart_parts(&resolved.manifest) {
            None => return Ok(None),
            Some(Err(problem)) => {
                return Err(Error::backend(format!(
                    "the manifest {} of {} is not usable: {problem}",
                    resolved.digest.prefixed(),
                    self.repository(name)
                )))
            }
            Some(Ok(p)) => p,
        };
        let config = self.config(name, &parts.config).await?;
        if config.name != name {
            tracing::warn!(repository = %self.repository(name), chart = %config.name, "chart name differs from its repository; skipped");
            return Ok(None);
        }
        let created_at = resolved
            .manifest
            .annotations
            .get(CREATED)
            .and_then(|t| Timestamp::parse_rfc3339(t))
            .unwrap_or(Timestamp::EPOCH);
        let mut extensions = BTreeMap::new();
        extensions.insert(
            "oci.reference".to_string(),
            Value::from(self.reference(name)),
        );
        extensions.insert(
            MANIFEST_DIGEST_EXTENSION.to_string(),
            Value::from(resolved.digest.prefixed()),
        );
        Ok(Some(Package {
            id: id::format(Some(&self.options.id_prefix), &config.name, &config.version)?,
            name: config.name,
            version: config.version,
            app_version: config.app_version,
            description: config.description,
            source: PackageSource::Oci,
            digest: parts.layer.prefixed(),
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
                let u = self.url(&l)?;
                // Only follow pages on the registry itself.
                if self.same_origin(&u) {
                    next = Some(u);
                }
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
            next = link
                .and_then(|l| self.url(&l).ok())
                .filter(|u| self.same_origin(u));
        }
        out
    }

    async fn versions(&self, name: &str) -> Result<Vec<Package>> {
        use futures::stream::{self, StreamExt as _, TryStreamExt as _};
        let tags = self.tags(name).await?;
        let found: Vec<Option<Package>> = stream::iter(tags)
            .map(|tag| async move {
                // A tag is registry text used in a URL: only version-shaped tags are read
                // (helm writes versions, `+` as `_`).
                if id::check_version("tag", &tag).is_err() {
                    return Ok(None);
                }
                // Tags may disappear between the list and the read: skip those.
                match self.manifest(name, &tag).await? {
                    Some(resolved) => {
                        if let Some(Err(problem)) = chart_parts(&resolved.manifest) {
                            tracing::warn!(repository = %self.repository(name), %tag, %problem, "manifest skipped");
                            return Ok(None);
                        }
                        self.package(name, &resolved).await
                    }
                    None => Ok(None),
                }
            })
            .buffered(LIST_CONCURRENCY)
            .try_collect()
            .await?;
        Ok(found.into_iter().flatten().collect())
    }

    async fn upload_blob(&self, name: &str, media: &str, bytes: &[u8]) -> Result<Descriptor> {
        let digest = Sha256Hex::of(bytes).prefixed();
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
        transport::check_scheme(
            "upload location",
            &put_url,
            self.options.transport.plain_http,
        )?;
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

    /// The cache file of a validated archive: `<cache>/<64 hex>.tgz`, from a checked
    /// digest only.
    fn cache_path(&self, digest: &Sha256Hex) -> PathBuf {
        self.cache_dir.join(format!("{}.tgz", digest.as_str()))
    }

    /// The pin file of `name@version` in this registry: named by the SHA-256 of
    /// `host/repository:tag`, never by registry text.
    fn pin_path(&self, name: &str, version: &str) -> PathBuf {
        let key = format!(
            "{}/{}:{}",
            self.host,
            self.repository(name),
            tag_of(version)
        );
        self.cache_dir
            .join("pins")
            .join(format!("{}.json", Sha256Hex::of(key.as_bytes()).as_str()))
    }

    /// The pin of `name@version`, if the store recorded one. An unreadable or malformed
    /// pin file is an error (it is the store's own file: something is wrong).
    fn read_pin(&self, name: &str, version: &str) -> Result<Option<Pin>> {
        use std::io::Read as _;
        let path = self.pin_path(name, version);
        let file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::backend(format!("pin {}: {e}", path.display()))),
        };
        let mut bytes = Vec::new();
        file.take(MAX_PIN_BYTES)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::backend(format!("pin {}: {e}", path.display())))?;
        let bad = || {
            Error::backend(format!(
                "pin {} is damaged; remove it to pin the tag anew",
                path.display()
            ))
        };
        let file: PinFile = serde_json::from_slice(&bytes).map_err(|_| bad())?;
        Ok(Some(Pin {
            manifest: Sha256Hex::parse_prefixed(&file.manifest).map_err(|_| bad())?,
            layer: Sha256Hex::parse_prefixed(&file.layer).map_err(|_| bad())?,
        }))
    }

    fn write_pin(&self, name: &str, version: &str, pin: &Pin) -> Result<()> {
        let body = serde_json::to_vec(&PinFile {
            manifest: pin.manifest.prefixed(),
            layer: pin.layer.prefixed(),
        })
        .map_err(|e| Error::backend(format!("pin: {e}")))?;
        write_private(&self.pin_path(name, version), &body)
    }

    fn remove_pin(&self, name: &str, version: &str) {
        let path = self.pin_path(name, version);
        if let Err(e) = std::fs::remove_file(&path) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(pin = %path.display(), error = %e, "pin not removed");
            }
        }
    }

    /// Validates bytes claimed to be `name@version`'s chart layer: the same validation as
    /// an upload, then name and version. InvalidArgument naming `package` (with the
    /// validation error) when the registry's chart is not acceptable.
    async fn check_archive(
        &self,
        pid: &PackageId,
        bytes: Vec<u8>,
        digest: &Sha256Hex,
        name: &str,
        version: &str,
    ) -> Result<Vec<u8>> {
        let limits = self.options.limits;
        let (bytes, checked) = tokio::task::spawn_blocking(move || {
            let c = chart::validate(&bytes, &limits);
            (bytes, c)
        })
        .await
        .map_err(|e| Error::backend(format!("validation task failed: {e}")))?;
        let c = checked.map_err(|e| {
            let reason = match e {
                Error::InvalidArgument { reason, .. } => reason,
                other => other.to_string(),
            };
            Error::invalid(
                "package",
                format!(
                    "{pid}: the registry's chart layer {} is not a valid chart: {reason}",
                    digest.prefixed()
                ),
            )
        })?;
        if c.name != name || c.version != version {
            return Err(Error::invalid(
                "package",
                format!(
                    "{pid}: the registry's chart layer {} holds {}@{}",
                    digest.prefixed(),
                    c.name,
                    c.version
                ),
            ));
        }
        Ok(bytes)
    }

    /// The cached, validated archive at `path` if it is there and still checks out.
    async fn cached(
        &self,
        pid: &PackageId,
        path: &Path,
        digest: &Sha256Hex,
        name: &str,
        version: &str,
    ) -> Option<Vec<u8>> {
        let bytes = tokio::fs::read(path).await.ok()?;
        if Sha256Hex::of(&bytes) != *digest {
            tracing::warn!(file = %path.display(), "cached archive does not match its digest; fetching again");
            return None;
        }
        match self.check_archive(pid, bytes, digest, name, version).await {
            Ok(b) => Some(b),
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "cached archive rejected; fetching again");
                None
            }
        }
    }

    /// The validated archive of `pid` (see the module docs): the tag resolved once,
    /// the pin checked, the chart layer by digest from the cache or the registry,
    /// validated, cached and pinned. Its cache path and bytes.
    async fn validated(&self, pid: &PackageId) -> Result<(PathBuf, Vec<u8>)> {
        let (name, version) = parse_id(pid, &self.options.id_prefix)?;
        let resolved = self
            .manifest(&name, &tag_of(&version))
            .await?
            .ok_or_else(|| Error::not_found(Resource::Package, pid))?;
        let parts = match chart_parts(&resolved.manifest) {
            None => return Err(Error::not_found(Resource::Package, pid)),
            Some(Err(problem)) => {
                return Err(Error::backend(format!(
                    "{pid}: the registry's manifest {} is not usable: {problem}",
                    resolved.digest.prefixed()
                )))
            }
            Some(Ok(p)) => p,
        };
        let pin = self.read_pin(&name, &version)?;
        if let Some(pin) = &pin {
            if pin.layer != parts.layer {
                return Err(Error::conflict(
                    Resource::Package,
                    pid,
                    format!(
                        "the tag {} of {} now points at manifest {} with chart layer {}, but \
                         this store recorded manifest {} with chart layer {} for it: someone \
                         pushed other content to a released version. Versions are immutable: \
                         push the new chart as a new version (or delete the package through \
                         the store and upload it again)",
                        tag_of(&version),
                        self.repository(&name),
                        resolved.digest.prefixed(),
                        parts.layer.prefixed(),
                        pin.manifest.prefixed(),
                        pin.layer.prefixed(),
                    ),
                ));
            }
        }
        let path = self.cache_path(&parts.layer);
        let bytes = match self.cached(pid, &path, &parts.layer, &name, &version).await {
            Some(b) => b,
            None => {
                let max = self
                    .options
                    .limits
                    .max_compressed_bytes
                    .min(self.options.transport.max_body_bytes);
                let fetched = self
                    .blob(&name, &parts.layer, Some(parts.layer_size), max)
                    .await?;
                let checked = self
                    .check_archive(pid, fetched, &parts.layer, &name, &version)
                    .await?;
                write_private(&path, &checked)?;
                checked
            }
        };
        if pin.is_none() {
            self.write_pin(
                &name,
                &version,
                &Pin {
                    manifest: resolved.digest,
                    layer: parts.layer,
                },
            )?;
        }
        Ok((path, bytes))
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
        let layer = Sha256Hex::of(&upload.content);
        if let Some(resolved) = self.manifest(&c.name, &tag_of(&c.version)).await? {
            let same = matches!(chart_parts(&resolved.manifest), Some(Ok(p)) if p.layer == layer);
            if same {
                if let Some(p) = self.package(&c.name, &resolved).await? {
                    self.remember(&c.name);
                    if self.read_pin(&c.name, &c.version)?.is_none() {
                        self.write_pin(
                            &c.name,
                            &c.version,
                            &Pin {
                                manifest: resolved.digest,
                                layer,
                            },
                        )?;
                    }
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
        let layer_desc = self
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
            layers: vec![layer_desc],
            annotations,
        };
        let body =
            serde_json::to_vec(&manifest).map_err(|e| Error::backend(format!("manifest: {e}")))?;
        let manifest_digest = Sha256Hex::of(&body);
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
        // What was validated is what installs: cache it and pin the tag.
        write_private(&self.cache_path(&layer), &upload.content)?;
        self.write_pin(
            &c.name,
            &c.version,
            &Pin {
                manifest: manifest_digest.clone(),
                layer,
            },
        )?;
        let resolved = Resolved {
            manifest,
            digest: manifest_digest,
        };
        self.package(&c.name, &resolved)
            .await?
            .ok_or_else(|| Error::backend("pushed manifest is not read back as a chart"))
    }

    async fn get(&self, pid: &PackageId) -> Result<Package> {
        let (name, version) = parse_id(pid, &self.options.id_prefix)?;
        let resolved = self
            .manifest(&name, &tag_of(&version))
            .await?
            .ok_or_else(|| Error::not_found(Resource::Package, pid))?;
        match self.package(&name, &resolved).await? {
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
        let resolved = self
            .manifest(&name, &tag_of(&version))
            .await?
            .ok_or_else(|| Error::not_found(Resource::Package, pid))?;
        if chart_parts(&resolved.manifest).is_none() {
            return Err(Error::not_found(Resource::Package, pid));
        }
        let url = self.url(&format!(
            "/v2/{}/manifests/{}",
            self.repository(&name),
            resolved.digest.prefixed()
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
            s if s.is_success() => {
                self.remove_pin(&name, &version);
                Ok(())
            }
            StatusCode::NOT_FOUND => Err(Error::not_found(Resource::Package, pid)),
            StatusCode::METHOD_NOT_ALLOWED => Err(Error::unsupported(
                "delete_package",
                format!("the registry {} does not allow deletes", self.host),
            )),
            s => Err(status_error(&format!("DELETE {url}"), s, &body)),
        }
    }

    async fn archive(&self, pid: &PackageId) -> Result<Vec<u8>> {
        Ok(self.validated(pid).await?.1)
    }

    /// The validated chart archive in the cache, named by its digest (see the module
    /// docs): always [`InstallSource::Archive`].
    async fn install_source(&self, pid: &PackageId) -> Result<InstallSource> {
        let (path, _) = self.validated(pid).await?;
        Ok(InstallSource::Archive { path })
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
        assert_eq!(
            scope_action("repository:charts/du:pull,push"),
            "pull,push repository charts/du"
        );
        assert_eq!(scope_action("odd"), "odd");
        for odd in ["", "=", "a=\"", ",,,", "\"=\"", "k=v,=,"] {
            let _ = parse_challenge(odd);
        }
    }

    #[test]
    fn constructor_rules() {
        let o = OciOptions::default;
        assert!(OciStore::new("http://127.0.0.1:5000", "charts", o()).is_ok());
        assert!(OciStore::new("http://registry.example", "charts", o()).is_err());
        assert!(OciStore::new("registry.example", "charts", o()).is_ok());
        assert!(OciStore::new("https://registry.example:443", "charts", o()).is_ok());
        assert!(OciStore::new("registry.example/path", "charts", o()).is_err());
        assert!(OciStore::new("https://u:p@registry.example", "charts", o()).is_err());
        assert!(OciStore::new("registry.example", "Bad Path", o()).is_err());
        let s = OciStore::new("http://127.0.0.1:5000", "/charts/", o()).unwrap();
        assert_eq!(s.reference("du"), "oci://127.0.0.1:5000/charts/du");
        assert!(s.plain_http());
        assert!(OciStore::check_location(
            "registry.example",
            "a/b",
            crate::PlainHttp::LoopbackOnly
        )
        .is_ok());
    }

    #[test]
    fn chart_manifests_need_well_formed_digests() {
        let good = format!("sha256:{}", "ab".repeat(32));
        let manifest = |config: &str, layer: &str| Manifest {
            schema_version: 2,
            media_type: None,
            config: Descriptor {
                media_type: CONFIG_MEDIA_TYPE.into(),
                digest: config.into(),
                size: 1,
            },
            layers: vec![Descriptor {
                media_type: CHART_LAYER_MEDIA_TYPE.into(),
                digest: layer.into(),
                size: 2,
            }],
            annotations: BTreeMap::new(),
        };
        let parts = chart_parts(&manifest(&good, &good)).unwrap().unwrap();
        assert_eq!(
            (parts.layer.prefixed(), parts.layer_size),
            (good.clone(), 2)
        );
        for bad in [
            "sha256:../../../etc/passwd",
            "sha512:00",
            &good.to_uppercase(),
        ] {
            assert!(
                chart_parts(&manifest(&good, bad)).unwrap().is_err(),
                "{bad}"
            );
            assert!(
                chart_parts(&manifest(bad, &good)).unwrap().is_err(),
                "{bad}"
            );
        }
        let mut image = manifest(&good, &good);
        image.config.media_type = "application/vnd.oci.image.config.v1+json".into();
        assert!(chart_parts(&image).is_none());
    }

    #[test]
    fn debug_shows_no_secret() {
        let s = OciStore::new(
            "http://127.0.0.1:5000",
            "charts",
            OciOptions {
                transport: TransportOptions {
                    credentials: Credentials::basic("user", "s3cret-pass"),
                    ..Default::default()
                },
                ..Default::default()
            },
        )
        .unwrap();
        s.tokens
            .lock()
            .unwrap()
            .insert("scope".into(), "s3cret-token".into());
        let shown = format!("{s:?} {s:#?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("user"), "{shown}");
    }
}
