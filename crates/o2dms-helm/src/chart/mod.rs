//! The chart an install or upgrade gives helm: what the package store says for a package
//! id; for the current revision of a release, the stored package only when it is the chart
//! the release runs ([`compare`]), else the chart rebuilt from the release record
//! ([`rebuild`]).

mod compare;
mod rebuild;

use std::path::Path;

use o2dms_core::{Error, PackageId, Result};
use o2dms_store::{InstallSource, PackageStore};

use crate::helm::ChartSource;
use crate::storage::StoredRelease;

/// The chart to install for package `id`, as the store says (NotFound if no store has
/// it; a malformed id is InvalidArgument naming `package`).
pub(crate) async fn of_package(store: &dyn PackageStore, id: &PackageId) -> Result<ChartSource> {
    match store.install_source(id).await {
        Ok(source) => Ok(ChartSource::Store(source)),
        Err(Error::InvalidArgument { reason, .. }) => Err(Error::invalid("package", reason)),
        Err(e) => Err(e),
    }
}

/// The chart of the current revision, for an update that names no package or a scale:
/// the stored package of the same id when its templates, files, default values and
/// schema are the ones the release record keeps; otherwise (no such package, a package
/// with other content such as a fork of the same name and version, or a store whose
/// archive cannot be compared) the chart rebuilt from the record into `scratch`. A chart
/// with dependencies cannot be rebuilt (the record does not keep subcharts): then a
/// stored package that differs is refused, naming the package to pass instead.
pub(crate) async fn of_current(
    store: &dyn PackageStore,
    current: &StoredRelease,
    scratch: &Path,
) -> Result<ChartSource> {
    if !current.is_whole() {
        return Err(Error::backend(
            "the chart of the current revision was read from a cached record without its \
             content",
        ));
    }
    let recorded = &current.release.chart;
    let why = match of_package(store, &current.package()).await {
        Ok(ChartSource::Store(InstallSource::Archive { path })) => {
            if compare::same_chart(&path, recorded).await? {
                return Ok(ChartSource::Store(InstallSource::Archive { path }));
            }
            Why::Differs
        }
        // An OCI reference: helm pulls it, so it cannot be compared here.
        Ok(other) if !recorded.metadata.dependencies.is_empty() => {
            tracing::warn!(package = %current.package(), "cannot compare a remote package with the release record; using the stored package");
            return Ok(other);
        }
        Ok(_) => Why::NotComparable,
        // Not in any store (a CLI release, a package deleted with force), or an id no
        // store can parse (a CLI release of a chart with an unusual name).
        Err(Error::NotFound { .. } | Error::InvalidArgument { .. }) => Why::NotStored,
        Err(e) => return Err(e),
    };
    if why == Why::Differs && !recorded.metadata.dependencies.is_empty() {
        return Err(Error::invalid(
            "package",
            format!(
                "the stored package {} is not the chart {} runs (its templates, files or \
                 default values differ), and that chart has dependencies the release record \
                 does not keep, so it cannot be rebuilt: pass the package to run",
                current.package(),
                current.id()
            ),
        ));
    }
    tracing::debug!(reason = ?why, package = %current.package(), "chart of the current revision rebuilt from the release record");
    Ok(ChartSource::Path(rebuild::rebuild(recorded, scratch)?))
}

/// Why the current revision's chart is rebuilt from its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Why {
    /// No store has the package.
    NotStored,
    /// The stored package is another chart of the same name and version.
    Differs,
    /// The store gives a reference helm resolves, not an archive to compare.
    NotComparable,
}
