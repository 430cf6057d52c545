//! A Helm chart repository over HTTP(S), read-only: the spec's `chartRepository`.
//!
//! Lists and reads from the repository's `index.yaml`; downloads an archive from the
//! entry's first URL (relative to the repository URL, or absolute), checks its size,
//! its digest against the index, and validates it as an untrusted chart whose name and
//! version must match the entry. Ids: `repo:name@version`.
//!
//! The index is untrusted: an entry's digest must be `sha256:` and 64 lowercase hex
//! characters (or those 64 alone, as `helm repo index` writes them) before it is used at
//! all, since the cache names archives by digest. An entry with any other digest is left
//! out of the list, and reading it is an error naming it ([`IndexDigestError`](crate::IndexDigestError)).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use o2dms_core::{
    Error, Package, PackageFilter, PackageId, PackageSource, PackageUpload, Page, Resource, Result,
    Value,
};
use reqwest::{StatusCode, Url};

use crate::auth::Credentials;
use crate::chart::{self, Index, IndexEntry, Sha256Hex};
use crate::transport::{self, TransportOptions};
use crate::{id, order, InstallSource, PackageStore};

/// The default id prefix.
const PREFIX: &str = "repo";

/// Settings of an [`HttpRepoStore`].
#[derive(Debug, Clone)]
pub struct HttpRepoOptions {
    /// TLS, plain HTTP policy, credentials, limits.
    pub transport: TransportOptions,
    /// Where downloaded, verified archives are kept for helm (named by digest). If
    /// unset, a temporary directory that lives as long as the store.
    pub cache_dir: Option<PathBuf>,
    /// How long a fetched `index.yaml` is reused. Zero fetches it on every call.
    pub index_ttl: Duration,
    /// Limits for validating downloaded archives.
    pub limits: o2dms_chart::Limits,
    /// The id prefix, `repo` by default (`repo:name@version`). Give each repository its
    /// own prefix to combine several in a [`MultiStore`](crate::MultiStore).
    pub id_prefix: String,
}

impl Default for HttpRepoOptions {
    fn default() -> Self {
        HttpRepoOptions {
            transport: TransportOptions::default(),
            cache_dir: None,
            index_ttl: Duration::from_secs(10),
            limits: o2dms_chart::Limits::default(),
            id_prefix: PREFIX.to_string(),
        }
    }
}

/// A read-only Helm chart repository over HTTP(S). Ids: `repo:name@version` (the prefix
/// is configurable: [`HttpRepoOptions::id_prefix`]).
#[derive(Debug)]
pub struct HttpRepoStore {
    base: Url,
    client: reqwest::Client,
    options: HttpRepoOptions,
    cache_dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
    index: Mutex<Option<(Instant, Arc<Index>)>>,
}

impl HttpRepoStore {
    /// Checks a repository URL as [`new`](Self::new) does, without building a store: a
    /// URL, `https`, or plain `http` where `plain_http` allows it. Errors name
    /// `chartRepository`.
    pub fn check_url(url: &str, plain_http: crate::PlainHttp) -> Result<()> {
        Self::parse_url(url, plain_http).map(drop)
    }

    fn parse_url(url: &str, plain_http: crate::PlainHttp) -> Result<Url> {
        let base = Url::parse(url)
            .map_err(|e| Error::invalid("chartRepository", format!("`{url}` is not a URL: {e}")))?;
        transport::check_scheme("chartRepository", &base, plain_http)?;
        Ok(base)
    }

    /// A store over the repository at `url` (its `index.yaml` is `<url>/index.yaml`).
    /// Plain `http://` is accepted for loopback hosts, or anywhere with
    /// [`PlainHttp::Always`](crate::PlainHttp::Always).
    pub fn new(url: &str, options: HttpRepoOptions) -> Result<Self> {
        let mut base = Self::parse_url(url, options.transport.plain_http)?;
        id::check_prefix("id_prefix", &options.id_prefix)?;
        if matches!(
            options.transport.credentials,
            Credentials::IdentityToken { .. }
        ) {
            return Err(Error::invalid(
                "credentials",
                "a chart repository takes basic credentials or a bearer token, not a registry \
                 identity token",
            ));
        }
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        base.set_query(None);
        base.set_fragment(None);
        let client = transport::client(&options.transport)?;
        let (cache_dir, temp) = match &options.cache_dir {
            Some(d) => {
                std::fs::create_dir_all(d).map_err(|e| {
                    Error::backend(format!("create cache dir {}: {e}", d.display()))
                })?;
                (d.clone(), None)
            }
            None => {
                let t = tempfile::Builder::new()
                    .prefix("o2dms-repo-cache-")
                    .tempdir()
                    .map_err(|e| Error::backend(format!("create cache dir: {e}")))?;
                (t.path().to_path_buf(), Some(t))
            }
        };
        Ok(HttpRepoStore {
            base,
            client,
            options,
            cache_dir,
            _temp: temp,
            index: Mutex::new(None),
        })
    }

    /// The repository URL (with a trailing `/`).
    pub fn url(&self) -> &Url {
        &self.base
    }

    async fn fetch(&self, url: Url, what: &str) -> Result<Vec<u8>> {
        transport::check_scheme(what, &url, self.options.transport.plain_http)?;
        let mut req = self.client.get(url.clone());
        // Credentials go only to the repository's own host, as helm does by default.
        if url.host_str() == self.base.host_str() && url.port() == self.base.port() {
            match &self.options.transport.credentials {
                Credentials::Basic { username, password } => {
                    req = req.basic_auth(username, Some(password));
                }
                Credentials::Bearer { token } => req = req.bearer_auth(token),
                _ => {}
            }
        }
        let resp = req
            .send()
            .await
            .map_err(|e| transport::request_error(&format!("GET {url}"), e))?;
        match resp.status() {
            s if s.is_success() => {
                transport::read_body(
                    &format!("GET {url}"),
                    resp,
                    self.options.transport.max_body_bytes,
                )
                .await
            }
            StatusCode::NOT_FOUND => Err(Error::backend(format!("GET {url}: 404 Not Found"))),
            s if s.is_server_error() => Err(Error::Unavailable {
                message: format!("GET {url}: {s}"),
            }),
            s => Err(Error::backend(format!("GET {url}: {s}"))),
        }
    }

    async fn index(&self) -> Result<Arc<Index>> {
        if let Some((at, index)) = &*self.index.lock().unwrap_or_else(|e| e.into_inner()) {
            if at.elapsed() < self.options.index_ttl {
                return Ok(Arc::clone(index));
            }
        }
        let url = self
            .base
            .join("index.yaml")
            .map_err(|e| Error::backend(format!("index URL: {e}")))?;
        let bytes = self.fetch(url.clone(), "index.yaml").await?;
        let index =
            Arc::new(Index::parse(&bytes).map_err(|e| Error::backend(format!("{url}: {e}")))?);
        *self.index.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((Instant::now(), Arc::clone(&index)));
        Ok(index)
    }

    fn chart_url(&self, entry: &IndexEntry) -> Result<Url> {
        let first = entry.urls.first().ok_or_else(|| {
            Error::backend(format!(
                "index entry {}@{} has no urls",
                entry.name, entry.version
            ))
        })?;
        self.base.join(first).map_err(|e| {
            Error::backend(format!(
                "index entry {}@{}: bad url `{first}`: {e}",
                entry.name, entry.version
            ))
        })
    }

    /// `entry`'s package; `digest` is its checked digest ([`chart::entry_digest`]).
    fn package(&self, entry: &IndexEntry, digest: Option<&Sha256Hex>) -> Result<Package> {
        let mut extensions = std::collections::BTreeMap::new();
        extensions.insert(
            "repository.url".to_string(),
            Value::from(self.base.to_string()),
        );
        if let Ok(url) = self.chart_url(entry) {
            extensions.insert(
                "repository.chartUrl".to_string(),
                Value::from(url.to_string()),
            );
        }
        Ok(Package {
            id: id::format(Some(&self.options.id_prefix), &entry.name, &entry.version)?,
            name: entry.name.clone(),
            version: entry.version.clone(),
            app_version: entry.app_version.clone(),
            description: entry.description.clone().unwrap_or_default(),
            source: PackageSource::Repository,
            // Empty when the index gives no digest (helm tolerates that too).
            digest: digest.map(Sha256Hex::prefixed).unwrap_or_default(),
            created_at: entry.created,
            extensions,
        })
    }

    /// The index entry of `pid` and its digest, checked before anything else uses it.
    async fn entry(&self, pid: &PackageId) -> Result<(IndexEntry, Option<Sha256Hex>)> {
        let (name, version) = id::parse(pid, Some(&self.options.id_prefix))?;
        let entry = self
            .index()
            .await?
            .get(&name, &version)
            .cloned()
            .ok_or_else(|| Error::not_found(Resource::Package, pid))?;
        let digest = chart::entry_digest(&entry)
            .map_err(|e| Error::backend_from(format!("the index.yaml of {}", self.base), e))?;
        Ok((entry, digest))
    }

    /// Checks bytes claimed to be `entry`'s archive (from `source`): the index digest
    /// `expected` (when it has one), validation as an untrusted chart, and name and
    /// version. Returns the bytes and their digest.
    async fn verified(
        &self,
        entry: IndexEntry,
        expected: Option<Sha256Hex>,
        bytes: Vec<u8>,
        source: String,
    ) -> Result<(Vec<u8>, Sha256Hex)> {
        let limits = self.options.limits;
        tokio::task::spawn_blocking(move || {
            let digest = Sha256Hex::of(&bytes);
            if let Some(expected) = expected.filter(|e| *e != digest) {
                return Err(Error::backend(format!(
                    "{source}: digest {} does not match the index's {}",
                    digest.prefixed(),
                    expected.prefixed()
                )));
            }
            let c = chart::validate(&bytes, &limits)
                .map_err(|e| Error::backend(format!("{source}: not a valid chart: {e}")))?;
            if c.name != entry.name || c.version != entry.version {
                return Err(Error::backend(format!(
                    "{source}: archive holds {}@{}, the index says {}@{}",
                    c.name, c.version, entry.name, entry.version
                )));
            }
            Ok((bytes, digest))
        })
        .await
        .map_err(|e| Error::backend(format!("verification task failed: {e}")))?
    }

    async fn download(
        &self,
        entry: IndexEntry,
        expected: Option<Sha256Hex>,
    ) -> Result<(Vec<u8>, Sha256Hex)> {
        let url = self.chart_url(&entry)?;
        let bytes = self.fetch(url.clone(), "urls").await?;
        self.verified(entry, expected, bytes, url.to_string()).await
    }

    /// The cache file of an archive: `<cache>/<64 hex>.tgz`, built from a checked digest
    /// only.
    fn cache_path(&self, digest: &Sha256Hex) -> PathBuf {
        self.cache_dir.join(format!("{}.tgz", digest.as_str()))
    }
}

#[async_trait]
impl PackageStore for HttpRepoStore {
    fn kind(&self) -> &'static str {
        PREFIX
    }

    fn owns(&self, pid: &PackageId) -> bool {
        id::has_prefix(pid, &self.options.id_prefix)
    }

    fn accepts_uploads(&self) -> bool {
        false
    }

    async fn put(&self, _upload: PackageUpload) -> Result<Package> {
        Err(Error::unsupported(
            "upload_package",
            format!("the chart repository {} is read-only over HTTP", self.base),
        ))
    }

    async fn get(&self, pid: &PackageId) -> Result<Package> {
        let (entry, digest) = self.entry(pid).await?;
        self.package(&entry, digest.as_ref())
    }

    async fn list(&self, filter: &PackageFilter) -> Result<Page<Package>> {
        filter.page.effective_limit()?;
        let index = self.index().await?;
        let mut all = Vec::new();
        for entry in index.entries() {
            // Entries whose name or version cannot form an id are skipped, not fatal.
            if id::check_name("name", &entry.name).is_err()
                || id::check_version("version", &entry.version).is_err()
            {
                tracing::warn!(name = %entry.name, version = %entry.version, "index entry skipped: not a usable name@version");
                continue;
            }
            let digest = match chart::entry_digest(entry) {
                Ok(d) => d,
                Err(e) => {
                    tracing::warn!(error = %e, "index entry skipped");
                    continue;
                }
            };
            all.push(self.package(entry, digest.as_ref())?);
        }
        order::paginate(all, filter)
    }

    async fn delete(&self, _pid: &PackageId) -> Result<()> {
        Err(Error::unsupported(
            "delete_package",
            format!("the chart repository {} is read-only over HTTP", self.base),
        ))
    }

    async fn archive(&self, pid: &PackageId) -> Result<Vec<u8>> {
        let (entry, digest) = self.entry(pid).await?;
        Ok(self.download(entry, digest).await?.0)
    }

    async fn install_source(&self, pid: &PackageId) -> Result<InstallSource> {
        let (entry, expected) = self.entry(pid).await?;
        // A cached copy (named by digest) is reused after the same checks as a download.
        if let Some(digest) = &expected {
            let path = self.cache_path(digest);
            if let Ok(bytes) = tokio::fs::read(&path).await {
                let source = path.display().to_string();
                match self
                    .verified(entry.clone(), expected.clone(), bytes, source)
                    .await
                {
                    Ok(_) => return Ok(InstallSource::Archive { path }),
                    Err(e) => {
                        tracing::warn!(error = %e, "cached archive rejected; downloading again")
                    }
                }
            }
        }
        let (bytes, digest) = self.download(entry, expected).await?;
        let path = self.cache_path(&digest);
        let dir = self.cache_dir.clone();
        let target = path.clone();
        tokio::task::spawn_blocking(move || -> Result<()> {
            use std::io::Write as _;
            let mut tmp = tempfile::Builder::new()
                .prefix(".tmp-")
                .tempfile_in(&dir)
                .map_err(|e| Error::backend(format!("cache file in {}: {e}", dir.display())))?;
            tmp.write_all(&bytes)
                .map_err(|e| Error::backend(format!("write cache file: {e}")))?;
            tmp.persist(&target).map_err(|e| {
                Error::backend(format!("rename to {}: {}", target.display(), e.error))
            })?;
            Ok(())
        })
        .await
        .map_err(|e| Error::backend(format!("cache task failed: {e}")))??;
        Ok(InstallSource::Archive { path })
    }
}
