//! The chart an install or upgrade gives helm: what the package store says for a package
//! id, or, for the current revision of a release no store has the chart of, the chart
//! rebuilt from the release record ([`rebuild`]).

mod rebuild;

use std::path::Path;

use o2dms_core::{Error, PackageId, Result};
use o2dms_store::PackageStore;

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

/// The chart of the current revision: the store's if it has it, otherwise rebuilt from
/// the release record into `scratch`.
pub(crate) async fn of_current(
    store: &dyn PackageStore,
    current: &StoredRelease,
    scratch: &Path,
) -> Result<ChartSource> {
    match of_package(store, &current.package()).await {
        Ok(c) => Ok(c),
        // Not in any store (a CLI release, a package deleted with force), or an id no
        // store can parse (a CLI release of a chart with an unusual name).
        Err(e @ (Error::NotFound { .. } | Error::InvalidArgument { .. })) => {
            tracing::debug!(error = %e, "chart of the current revision rebuilt from the release record");
            Ok(ChartSource::Path(rebuild::rebuild(
                &current.release.chart,
                scratch,
            )?))
        }
        Err(e) => Err(e),
    }
}
