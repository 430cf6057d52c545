//! # o2dms-store
//!
//! Where packages (Helm charts) live. One trait, [`PackageStore`], and three stores:
//!
//! | store | holds | ids | writes |
//! | --- | --- | --- | --- |
//! | [`LocalDirStore`] (default) | `<dir>/<name>-<version>.tgz` + a Helm-compatible `index.yaml` | `name@version` | put, delete |
//! | [`HttpRepoStore`] | a Helm chart repository over HTTP(S) (`chartRepository`) | `repo:name@version` (prefix configurable) | read-only: put and delete are Unsupported |
//! | [`OciStore`] | an OCI registry, one repository per chart, tags = versions | `oci:name@version` (prefix configurable) | put (push), delete (manifest by digest) |
//!
//! [`MultiStore`] puts several behind one: uploads to the first, every other call to the
//! store whose id it is, and a merged list.
//!
//! Every id a store returns round-trips: `get`, `archive`, `install_source` and `delete`
//! accept it, and so does the adapter's create. A store given another store's id answers
//! NotFound; a malformed id is InvalidArgument; nothing panics.
//!
//! Archives are untrusted input: `put` validates them with [`o2dms_chart::validate`]
//! before anything is written, and remote stores check the digest and validate what they
//! download before returning it. What helm installs is always such a checked archive on
//! local disk: the OCI store fetches a chart layer by digest, validates it, caches it by
//! digest and pins the tag (a tag moved to other content is Conflict); see [`OciStore`].
//! Credentials ([`Credentials`]: basic, bearer, registry identity token, or from a
//! docker `config.json`) and extra CAs are [`TransportOptions`]; nothing secret appears
//! in `Debug` output, errors or logs.
//!
//! ```no_run
//! use std::sync::Arc;
//! use o2dms_core::{PackageFilter, PackageUpload};
//! use o2dms_store::{LocalDirStore, PackageStore};
//!
//! # async fn demo(tgz: Vec<u8>) -> o2dms_core::Result<()> {
//! let store: Arc<dyn PackageStore> = Arc::new(LocalDirStore::open("/var/lib/o2dms/charts")?);
//! let package = store.put(PackageUpload::new(tgz)).await?;
//! let page = store.list(&PackageFilter::default()).await?;
//! assert!(page.items.iter().any(|p| p.id == package.id));
//! let source = store.install_source(&package.id).await?;
//! println!("helm install NAME {}", source.helm_args().join(" "));
//! # Ok(()) }
//! ```

mod auth;
mod chart;
mod http_repo;
mod id;
mod local;
mod multi;
mod oci;
mod order;
mod transport;

use std::path::PathBuf;

use async_trait::async_trait;
use o2dms_core::{Package, PackageFilter, PackageId, PackageUpload, Page, Result};

pub use auth::Credentials;
pub use chart::{DigestProblem, IndexDigestError};
pub use http_repo::{HttpRepoOptions, HttpRepoStore};
pub use local::LocalDirStore;
pub use multi::MultiStore;
pub use o2dms_chart::Limits;
pub use oci::{OciOptions, OciStore};
pub use transport::{PlainHttp, TransportOptions};

/// What `helm install` / `helm upgrade` is given for a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstallSource {
    /// A chart archive on local disk: `helm install NAME <path>`.
    Archive {
        /// The `.tgz` file.
        path: PathBuf,
    },
    /// A chart in an OCI registry:
    /// `helm install NAME oci://host/repo/name --version V [--plain-http]`.
    ///
    /// The stores of this crate never answer this: [`OciStore`] gives the validated
    /// archive it fetched by digest ([`InstallSource::Archive`]). It remains for stores
    /// of other kinds; helm then pulls the chart itself, by a mutable tag, without the
    /// validation an upload gets, and needs its own registry credentials.
    Oci {
        /// `oci://host[:port]/path/name`, without tag.
        reference: String,
        /// The chart version (helm maps `+` to `_` in the tag itself).
        version: String,
        /// The registry speaks plain HTTP: pass `--plain-http`.
        plain_http: bool,
    },
}

impl InstallSource {
    /// The chart arguments for `helm install NAME ...` / `helm upgrade NAME ...`:
    /// the chart reference followed by the flags it needs.
    pub fn helm_args(&self) -> Vec<String> {
        match self {
            InstallSource::Archive { path } => vec![path.display().to_string()],
            InstallSource::Oci {
                reference,
                version,
                plain_http,
            } => {
                let mut args = vec![reference.clone(), "--version".into(), version.clone()];
                if *plain_http {
                    args.push("--plain-http".into());
                }
                args
            }
        }
    }
}

/// Where packages live. Implementations are `Send + Sync`, safe to call concurrently,
/// and meant to be shared as `Arc<dyn PackageStore>`.
///
/// Deleting a package a deployment still uses is for the adapter to refuse (Conflict):
/// a store does not know about deployments.
#[async_trait]
pub trait PackageStore: Send + Sync + std::fmt::Debug {
    /// A short name of the kind of store: `local`, `repo` or `oci`.
    fn kind(&self) -> &'static str;

    /// Whether `id` has this store's shape (its prefix). Says nothing about existence.
    fn owns(&self, id: &PackageId) -> bool;

    /// Whether [`put`](Self::put) can store anything: false for a read-only store, whose
    /// `put` is Unsupported. An adapter reports it as its `package_upload` capability.
    fn accepts_uploads(&self) -> bool {
        true
    }

    /// Validates an untrusted archive and stores it. Storing the same name@version again
    /// with the same content returns the stored package; with other content it is
    /// AlreadyExists. Nothing is written when validation fails (InvalidArgument).
    async fn put(&self, upload: PackageUpload) -> Result<Package>;

    /// Reads one package's metadata.
    async fn get(&self, id: &PackageId) -> Result<Package>;

    /// Lists packages: optionally one chart's versions; ordered by name then SemVer
    /// version; paginated with a limit and an opaque continue token; `total` counts
    /// every match.
    async fn list(&self, filter: &PackageFilter) -> Result<Page<Package>>;

    /// Deletes a package. NotFound if it is not there.
    async fn delete(&self, id: &PackageId) -> Result<()>;

    /// The archive (`.tgz`) bytes, digest-checked.
    async fn archive(&self, id: &PackageId) -> Result<Vec<u8>>;

    /// What to give helm to install this package.
    async fn install_source(&self, id: &PackageId) -> Result<InstallSource>;
}
