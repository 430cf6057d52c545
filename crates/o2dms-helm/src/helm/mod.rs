//! The helm process, in one place: which helm it is ([`version`]), its argv per version
//! ([`argv`], pure functions), the values files it reads ([`values_file`]), running it
//! ([`runner`]), reading its errors ([`classify`]) and keeping values out of them
//! ([`scrub`]). [`Helm`] ties them together for the actions.

mod argv;
mod classify;
mod runner;
mod scrub;
mod values_file;
mod version;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use o2dms_core::{Error, ErrorKind, Result, Values};

pub(crate) use argv::{
    install_args, rollback_args, uninstall_args, upgrade_args, Apply, ChartSource, Connection,
    Flags, RollbackTo, Waiting,
};
pub(crate) use classify::HelmFailure;
pub(crate) use scrub::{Scrub, REDACTED};
pub(crate) use values_file::ValuesFile;
pub use version::{HelmMajor, HelmVersion};

use runner::{HelmRunner, WATCHDOG_GRACE};

/// The helm binary as the adapter drives it: one detected version, one connection to the
/// cluster, helm's homes and a scratch directory owned by the adapter.
#[derive(Debug)]
pub(crate) struct Helm {
    runner: HelmRunner,
    version: HelmVersion,
    connection: Connection,
    scratch: PathBuf,
}

impl Helm {
    /// Detects the version of `binary` (`helm version`), which will run with its homes
    /// under `homes` and write its values files into `scratch`.
    pub(crate) async fn detect(
        binary: &Path,
        homes: PathBuf,
        scratch: PathBuf,
        connection: Connection,
    ) -> Result<Helm> {
        let runner = HelmRunner::new(binary, homes);
        let version = runner.version().await?;
        tracing::debug!(helm = %version.raw, "detected helm");
        Ok(Helm {
            runner,
            version,
            connection,
            scratch,
        })
    }

    /// The detected version.
    pub(crate) fn version(&self) -> &HelmVersion {
        &self.version
    }

    /// Its major version, which decides the argv.
    pub(crate) fn major(&self) -> HelmMajor {
        self.version.major
    }

    /// Where helm finds the cluster.
    pub(crate) fn connection(&self) -> &Connection {
        &self.connection
    }

    /// `values` in a new 0600 file for one run, removed when dropped; InvalidArgument
    /// naming `values` when they are more than `limit` bytes as JSON.
    pub(crate) fn values_file(&self, values: &Values, limit: usize) -> Result<ValuesFile> {
        ValuesFile::write(&self.scratch, values, limit)
    }

    /// A private scratch directory for one run (e.g. a chart rebuilt from a release
    /// record), removed when dropped.
    pub(crate) fn scratch_dir(&self) -> Result<tempfile::TempDir> {
        tempfile::tempdir_in(&self.scratch)
            .map_err(|e| Error::backend_from("creating a scratch directory", e))
    }

    /// Runs helm with `args`, which carry helm's own `--timeout` of `timeout`: stdout
    /// when it succeeds, its classified failure when it does not. helm that outlives its
    /// own timeout by [`WATCHDOG_GRACE`] is terminated (SIGTERM: helm then marks the
    /// release failed) and reported as helm's own timeout. `Err` only when helm could not
    /// be run at all. The failure's message has every value of `scrub` replaced (before
    /// it is shortened, so no part of a value is left at the cut); its kind is read from
    /// helm's own words.
    pub(crate) async fn run(
        &self,
        args: &[OsString],
        timeout: Duration,
        scrub: &Scrub,
    ) -> Result<std::result::Result<String, HelmFailure>> {
        match self.runner.run(args, timeout + WATCHDOG_GRACE).await {
            Ok(out) if out.success => Ok(Ok(out.stdout)),
            Ok(out) => Ok(Err(classify::classify_scrubbed(&out.stderr, scrub))),
            Err(Error::Timeout { state, .. }) => Ok(Err(HelmFailure {
                kind: ErrorKind::Timeout,
                resource: None,
                message: state,
            })),
            Err(e) => Err(e),
        }
    }
}
