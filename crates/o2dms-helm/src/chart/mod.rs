//! The chart an install or upgrade gives helm: what the package store says for a package
//! id; for the current revision of a release, the stored package only when it is the chart
//! the release runs ([`compare`]), else, when the configuration allows it
//! (`rebuildFromRelease`), the chart rebuilt from the release record and validated like an
//! upload ([`rebuild`]).

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
/// archive cannot be compared) the chart rebuilt from the record into `scratch`, if
/// `rebuild` allows it. A chart with dependencies cannot be rebuilt (the record does not
/// keep subcharts): then a stored package that differs is refused, naming the package to
/// pass instead. Without `rebuild`, a package that cannot be compared is used as stored,
/// and a missing or different one is refused (InvalidArgument naming `package`, saying
/// which chart to upload or name, and which setting enables the rebuild).
pub(crate) async fn of_current(
    store: &dyn PackageStore,
    current: &StoredRelease,
    scratch: &Path,
    rebuild: bool,
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
        // A reference helm resolves (a store of another kind: the stores of o2dms-store
        // all give archives), so it cannot be compared here.
        Ok(other) if !recorded.metadata.dependencies.is_empty() || !rebuild => {
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
    if !rebuild {
        return Err(not_rebuilt(current, why));
    }
    tracing::debug!(reason = ?why, package = %current.package(), "chart of the current revision rebuilt from the release record");
    Ok(ChartSource::Path(rebuild::rebuild(recorded, scratch)?))
}

/// The InvalidArgument of an update or scale whose chart would have to be rebuilt from
/// the release record while `rebuildFromRelease` is off.
fn not_rebuilt(current: &StoredRelease, why: Why) -> Error {
    let m = &current.release.chart.metadata;
    let (id, package) = (current.id(), current.package());
    let problem = match why {
        Why::Differs => format!(
            "the stored package {package} is not the chart {} {} that {id} runs (its \
             templates, files or default values differ): update with `package` naming the \
             package to run",
            m.name, m.version
        ),
        Why::NotStored | Why::NotComparable => format!(
            "no package store has chart {} {}, which {id} runs: upload it (package \
             {package}), or update with `package` naming the package to run",
            m.name, m.version
        ),
    };
    Error::invalid(
        "package",
        format!(
            "{problem}; rebuilding the chart from the release record is off (the setting \
             rebuildFromRelease: true enables it)"
        ),
    )
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
