//! The local directory store: `<dir>/<name>-<version>.tgz` plus an `index.yaml` that
//! helm accepts as a chart repository (serve the directory over HTTP and
//! `helm repo add` it).
//!
//! Updates hold an exclusive file lock on `<dir>/.o2dms-store.lock` (so several
//! processes may share a directory) and replace files atomically (temporary file in the
//! same directory, then rename): readers never see a half-written archive or index.
//! Readers take no lock. The index is the source of truth; an archive without an index
//! entry (left by a crash between the two renames) is ignored and overwritten by the
//! next put of that name@version.

use std::fs::{self, File};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use o2dms_core::{
    Error, Package, PackageFilter, PackageId, PackageSource, PackageUpload, Page, Resource, Result,
    Timestamp, Value,
};

use crate::chart::{self, Index, IndexEntry};
use crate::{id, order, InstallSource, PackageStore};
use o2dms_chart::Limits;

const INDEX: &str = "index.yaml";
const LOCK: &str = ".o2dms-store.lock";

/// Charts in a local directory, with a Helm-compatible `index.yaml`. Ids: `name@version`.
#[derive(Debug, Clone)]
pub struct LocalDirStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    dir: PathBuf,
    limits: Limits,
}

fn io_err(what: impl std::fmt::Display, e: std::io::Error) -> Error {
    Error::backend(format!("{what}: {e}"))
}

impl LocalDirStore {
    /// Opens (creating if needed) the store in `dir`. If the directory has no
    /// `index.yaml`, one is built from the valid `<name>-<version>.tgz` archives already
    /// there (invalid ones are skipped with a warning).
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self> {
        LocalDirStore::open_with_limits(dir, Limits::default())
    }

    /// Like [`LocalDirStore::open`], validating uploads within `limits` instead of
    /// [`Limits::default`].
    pub fn open_with_limits(dir: impl Into<PathBuf>, limits: Limits) -> Result<Self> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(|e| io_err(format!("create {}", dir.display()), e))?;
        let store = LocalDirStore {
            inner: Arc::new(Inner { dir, limits }),
        };
        store.inner.with_lock(|inner| {
            inner.remove_stale_temporaries();
            if !inner.index_path().exists() {
                let index = inner.rebuild_index()?;
                inner.write_index(&index)?;
            }
            Ok(())
        })?;
        Ok(store)
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// The `index.yaml` path.
    pub fn index_path(&self) -> PathBuf {
        self.inner.index_path()
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Inner) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || f(&inner))
            .await
            .map_err(|e| Error::backend(format!("local store task failed: {e}")))?
    }
}

impl Inner {
    fn index_path(&self) -> PathBuf {
        self.dir.join(INDEX)
    }

    fn archive_path(&self, name: &str, version: &str) -> PathBuf {
        self.dir.join(format!("{name}-{version}.tgz"))
    }

    /// Runs `f` holding the directory's exclusive lock.
    fn with_lock<T>(&self, f: impl FnOnce(&Inner) -> Result<T>) -> Result<T> {
        let path = self.dir.join(LOCK);
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| io_err(format!("open {}", path.display()), e))?;
        file.lock()
            .map_err(|e| io_err(format!("lock {}", path.display()), e))?;
        let out = f(self);
        let _ = file.unlock();
        out
    }

    fn read_index(&self) -> Result<Index> {
        let path = self.index_path();
        match fs::read(&path) {
            Ok(bytes) => {
                Index::parse(&bytes).map_err(|e| Error::backend(format!("{}: {e}", path.display())))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Index::new()),
            Err(e) => Err(io_err(format!("read {}", path.display()), e)),
        }
    }

    fn write_index(&self, index: &Index) -> Result<()> {
        let text = index.to_yaml()?;
        self.write_atomically(&self.index_path(), text.as_bytes())
    }

    fn write_atomically(&self, path: &Path, bytes: &[u8]) -> Result<()> {
        let mut tmp = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempfile_in(&self.dir)
            .map_err(|e| {
                io_err(
                    format!("create temporary file in {}", self.dir.display()),
                    e,
                )
            })?;
        tmp.write_all(bytes)
            .and_then(|_| tmp.as_file().sync_all())
            .map_err(|e| io_err(format!("write {}", tmp.path().display()), e))?;
        tmp.persist(path)
            .map_err(|e| io_err(format!("rename to {}", path.display()), e.error))?;
        Ok(())
    }

    /// Removes temporary files a crashed writer left (call with the lock held: writers
    /// create them only while holding it).
    fn remove_stale_temporaries(&self) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(".tmp-") {
                let _ = fs::remove_file(entry.path());
            }
        }
    }

    /// An index of the valid archives in the directory.
    fn rebuild_index(&self) -> Result<Index> {
        let mut index = Index::new();
        let entries = fs::read_dir(&self.dir)
            .map_err(|e| io_err(format!("read {}", self.dir.display()), e))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("tgz") {
                continue;
            }
            let Ok(bytes) = fs::read(&path) else { continue };
            match chart::validate(&bytes, &self.limits) {
                Ok(c) if path == self.archive_path(&c.name, &c.version) => {
                    index.add(c.index_entry(file_url(&c.name, &c.version), Timestamp::now()));
                }
                Ok(_) => {
                    tracing::warn!(path = %path.display(), "archive name does not match its chart; skipped")
                }
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "invalid chart archive skipped")
                }
            }
        }
        Ok(index)
    }

    fn package(entry: &IndexEntry, dir: &Path) -> Result<Package> {
        Ok(Package {
            id: id::format(None, &entry.name, &entry.version)?,
            name: entry.name.clone(),
            version: entry.version.clone(),
            app_version: entry.app_version.clone(),
            description: entry.description.clone().unwrap_or_default(),
            source: PackageSource::Uploaded,
            digest: chart::prefixed_digest(&entry.digest),
            created_at: entry.created,
            extensions: [(
                "store.path".to_string(),
                Value::from(
                    dir.join(format!("{}-{}.tgz", entry.name, entry.version))
                        .display()
                        .to_string(),
                ),
            )]
            .into(),
        })
    }

    fn entry(&self, pid: &PackageId) -> Result<IndexEntry> {
        let (name, version) = id::parse(pid, None)?;
        self.read_index()?
            .get(&name, &version)
            .cloned()
            .ok_or_else(|| Error::not_found(Resource::Package, pid))
    }

    fn put(&self, upload: PackageUpload) -> Result<Package> {
        let c = chart::validate(&upload.content, &self.limits)?;
        chart::check_expectations(&c, &upload)?;
        id::check_name("content", &c.name)?;
        id::check_version("content", &c.version)?;
        self.with_lock(|inner| {
            let mut index = inner.read_index()?;
            if let Some(existing) = index.get(&c.name, &c.version) {
                return if chart::same_digest(&existing.digest, &c.digest) {
                    Inner::package(existing, &inner.dir)
                } else {
                    Err(Error::already_exists(
                        Resource::Package,
                        id::format(None, &c.name, &c.version)?,
                    ))
                };
            }
            inner.write_atomically(&inner.archive_path(&c.name, &c.version), &upload.content)?;
            let entry = c.index_entry(file_url(&c.name, &c.version), Timestamp::now());
            index.add(entry.clone());
            inner.write_index(&index)?;
            Inner::package(&entry, &inner.dir)
        })
    }

    fn delete(&self, pid: &PackageId) -> Result<()> {
        let (name, version) = id::parse(pid, None)?;
        self.with_lock(|inner| {
            let mut index = inner.read_index()?;
            if !index.remove(&name, &version) {
                return Err(Error::not_found(Resource::Package, pid));
            }
            inner.write_index(&index)?;
            let path = inner.archive_path(&name, &version);
            match fs::remove_file(&path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(io_err(format!("remove {}", path.display()), e)),
            }
        })
    }

    fn archive(&self, pid: &PackageId) -> Result<(Vec<u8>, PathBuf)> {
        let entry = self.entry(pid)?;
        let path = self.archive_path(&entry.name, &entry.version);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::backend(format!(
                    "index lists {pid} but {} is missing",
                    path.display()
                )))
            }
            Err(e) => return Err(io_err(format!("read {}", path.display()), e)),
        };
        let digest = chart::sha256_hex(&bytes);
        if !chart::same_digest(&entry.digest, &digest) {
            return Err(Error::backend(format!(
                "{} does not match its index digest (sha256:{digest} != {})",
                path.display(),
                chart::prefixed_digest(&entry.digest)
            )));
        }
        Ok((bytes, path))
    }
}

fn file_url(name: &str, version: &str) -> String {
    format!("{name}-{version}.tgz")
}

#[async_trait]
impl PackageStore for LocalDirStore {
    fn kind(&self) -> &'static str {
        "local"
    }

    fn owns(&self, id: &PackageId) -> bool {
        !id.as_str().contains(':')
    }

    async fn put(&self, upload: PackageUpload) -> Result<Package> {
        self.blocking(move |inner| inner.put(upload)).await
    }

    async fn get(&self, pid: &PackageId) -> Result<Package> {
        let pid = pid.clone();
        self.blocking(move |inner| Inner::package(&inner.entry(&pid)?, &inner.dir))
            .await
    }

    async fn list(&self, filter: &PackageFilter) -> Result<Page<Package>> {
        filter.page.effective_limit()?;
        let all = self
            .blocking(|inner| {
                inner
                    .read_index()?
                    .entries()
                    .map(|e| Inner::package(e, &inner.dir))
                    .collect::<Result<Vec<_>>>()
            })
            .await?;
        order::paginate(all, filter)
    }

    async fn delete(&self, pid: &PackageId) -> Result<()> {
        let pid = pid.clone();
        self.blocking(move |inner| inner.delete(&pid)).await
    }

    async fn archive(&self, pid: &PackageId) -> Result<Vec<u8>> {
        let pid = pid.clone();
        self.blocking(move |inner| inner.archive(&pid).map(|(b, _)| b))
            .await
    }

    async fn install_source(&self, pid: &PackageId) -> Result<InstallSource> {
        let pid = pid.clone();
        self.blocking(move |inner| {
            inner
                .archive(&pid)
                .map(|(_, path)| InstallSource::Archive { path })
        })
        .await
    }
}
