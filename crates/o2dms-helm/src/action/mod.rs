//! The adapter's operations, one file per verb as in Helm's `pkg/action`: each is an
//! options struct and a `run` over the shared [`Context`] (Helm's `action.Configuration`).
//!
//! Writes: [`install`] (create), [`upgrade`] (update), [`scale`], [`rollback`],
//! [`uninstall`] (delete), [`recover`] (a release a crashed writer left pending).
//! Reads: [`list`], [`history`], [`status`], [`logs`]; packages: [`packages`].

pub(crate) mod history;
pub(crate) mod install;
pub(crate) mod list;
pub(crate) mod logs;
pub(crate) mod packages;
pub(crate) mod recover;
pub(crate) mod rollback;
pub(crate) mod scale;
pub(crate) mod status;
pub(crate) mod uninstall;
pub(crate) mod upgrade;

use std::ffi::OsString;
use std::sync::Arc;
use std::time::Duration;

use kube::Client;
use o2dms_core::{Deployment, DeploymentId, Error, ErrorKind, Resource, Result, Revision};
use o2dms_store::PackageStore;

use crate::config::HelmConfig;
use crate::helm::{Flags, Helm, HelmFailure, Scrub, Waiting};
use crate::lease::{LeaseHold, Leases};
use crate::locks::{Held, Locks};
use crate::redact::Redaction;
use crate::storage::{HelmStatus, Outcome, Storage, StoredRelease};

/// One helm run of an action, as its errors name it, and the values its errors must not
/// show.
pub(crate) struct HelmCall<'a> {
    /// The operation (`create_deployment`, `recover_pending`, ...).
    pub(crate) operation: &'a str,
    /// The deployment.
    pub(crate) id: &'a DeploymentId,
    /// The revision it targets (a rollback's), for a NotFound that names it.
    pub(crate) revision: Option<u32>,
    /// helm's own `--timeout`.
    pub(crate) timeout: Duration,
    /// Every value in play for this run (see [`Scrub`]): replaced in whatever of helm's
    /// output becomes the error, and therefore in events and logs.
    pub(crate) scrub: &'a Scrub,
}

/// What every action works with: the settings, helm, the release storage, the package
/// store, the Kubernetes client for live workloads, and the write locks (per process,
/// then a Lease per release across processes).
pub(crate) struct Context {
    /// The adapter's settings.
    pub(crate) config: HelmConfig,
    /// The Kubernetes client (live workloads, logs, health).
    pub(crate) client: Client,
    /// The helm binary.
    pub(crate) helm: Helm,
    /// Release records.
    pub(crate) storage: Storage,
    /// Packages.
    pub(crate) store: Arc<dyn PackageStore>,
    /// Deployments being written by this process.
    pub(crate) locks: Locks,
    /// Deployments being written by any adapter process (a Lease each; `leaseLocking`).
    pub(crate) leases: Leases,
    /// The `redactValues` setting, compiled.
    pub(crate) redaction: Redaction,
}

/// One deployment held for one write: in this process, then across processes (its
/// Lease, unless `leaseLocking` is off). Dropped, it lets go of both (the Lease in a
/// spawned task); [`release`](WriteHold::release) waits until the Lease is gone.
pub(crate) struct WriteHold {
    _local: Held,
    lease: Option<LeaseHold>,
}

impl WriteHold {
    /// Lets go of the deployment, the Lease deleted before this returns (best effort).
    pub(crate) async fn release(self) {
        let WriteHold { _local, lease } = self;
        if let Some(lease) = lease {
            lease.release().await;
        }
    }
}

impl Context {
    /// Holds `id` for one write: Conflict at once if a write through this process holds
    /// it, then Conflict naming the holder if another adapter process holds its Lease.
    pub(crate) async fn hold(&self, id: &DeploymentId) -> Result<WriteHold> {
        let local = self.locks.hold(id)?;
        let lease = self.leases.acquire(id).await?;
        Ok(WriteHold {
            _local: local,
            lease,
        })
    }

    /// Wait for readiness for `timeout`, or the configured default.
    pub(crate) fn waiting(&self, timeout: Option<Duration>) -> Waiting {
        Waiting {
            wait: true,
            timeout: timeout.unwrap_or(self.config.timeout),
            strategy: self.config.wait_strategy,
        }
    }

    /// The adapter's apply options for helm.
    pub(crate) fn flags(&self) -> Flags {
        Flags {
            apply_method: self.config.apply_method,
            skip_crds: self.config.skip_crds,
            disable_open_api_validation: self.config.disable_open_api_validation,
        }
    }

    /// Runs one helm write (`args`) and then, whatever the result, waits until the release
    /// storage has seen what it left behind (`outcome` when it succeeded), so a list right
    /// after shows it. helm's stdout, or its failure as the adapter's error.
    pub(crate) async fn write(
        &self,
        call: HelmCall<'_>,
        args: &[OsString],
        outcome: Outcome,
    ) -> Result<String> {
        let out = self.helm.run(args, call.timeout, call.scrub).await?;
        let seen = if out.is_ok() {
            outcome
        } else {
            Outcome::Unknown
        };
        self.storage.await_outcome(call.id, seen).await;
        match out {
            Ok(stdout) => Ok(stdout),
            Err(f) => Err(self.failure(f, &call).await),
        }
    }

    /// Runs helm without writing anything (a `--dry-run` render): its stdout, or its
    /// failure as the adapter's error.
    pub(crate) async fn render(&self, call: HelmCall<'_>, args: &[OsString]) -> Result<String> {
        match self.helm.run(args, call.timeout, call.scrub).await? {
            Ok(stdout) => Ok(stdout),
            Err(f) => Err(self.failure(f, &call).await),
        }
    }

    /// Turns a classified helm failure of `call` (its message already scrubbed) into the
    /// adapter's error; a Timeout reads the release to say what state it left, and that
    /// text is scrubbed too.
    async fn failure(&self, f: HelmFailure, call: &HelmCall<'_>) -> Error {
        let (operation, id, revision, limit) =
            (call.operation, call.id, call.revision, call.timeout);
        match f.kind {
            ErrorKind::NotFound => match (f.resource, revision) {
                (Some(Resource::Revision), Some(r)) => {
                    Error::not_found(Resource::Revision, revision_id(id, r))
                }
                _ => Error::not_found(Resource::Deployment, id),
            },
            ErrorKind::AlreadyExists => Error::already_exists(Resource::Deployment, id),
            ErrorKind::Conflict => Error::conflict(Resource::Deployment, id, f.message),
            ErrorKind::Timeout => {
                let state = match self.storage.latest_uncached(id).await {
                    Ok(Some(r)) => format!(
                        "deployment {id} is {} at revision {} (helm: {})",
                        r.release.info.status.live_status(),
                        r.release.version,
                        f.message
                    ),
                    Ok(None) => format!("deployment {id} does not exist (helm: {})", f.message),
                    Err(e) => format!("state of {id} unknown: {e} (helm: {})", f.message),
                };
                Error::timeout(operation, limit, call.scrub.apply(&state))
            }
            ErrorKind::Unavailable => Error::unavailable(f.message),
            ErrorKind::PermissionDenied => Error::permission_denied(
                crate::kube_error::forbidden_action(&f.message)
                    .unwrap_or_else(|| format!("{operation} {id}")),
                f.message,
            ),
            ErrorKind::InvalidArgument => {
                let m = f.message.to_ascii_lowercase();
                let field = if m.contains("values don't meet") || m.contains("values.yaml") {
                    "values"
                } else {
                    "package"
                };
                Error::invalid(field, f.message)
            }
            _ => Error::backend(f.message),
        }
    }

    /// `record` as the caller sees it: a deployment with the values whose keys match
    /// `redactValues` masked, and its [`description`]. The record itself (what a merge
    /// starts from) is untouched.
    pub(crate) fn shown(&self, record: &StoredRelease) -> Deployment {
        let mut d = self.redaction.deployment(record.to_deployment());
        d.description = description(record);
        d
    }

    /// `record` as one history entry the caller sees, as in [`shown`](Self::shown).
    pub(crate) fn shown_revision(&self, record: &StoredRelease) -> Revision {
        let mut r = self.redaction.revision(record.to_revision());
        r.description = description(record);
        r
    }

    /// The current revision of `id`, which a write may change: NotFound, or Conflict
    /// while it is pending (another writer, or a crashed one) or being deleted.
    pub(crate) async fn writable(&self, id: &DeploymentId) -> Result<StoredRelease> {
        let current = self.storage.current(id).await?;
        let status = &current.release.info.status;
        if status.is_pending() {
            return Err(pending(id, current.release.version, status));
        }
        if *status == HelmStatus::Uninstalling {
            return Err(Error::conflict(
                Resource::Deployment,
                id,
                "the deployment is being deleted",
            ));
        }
        Ok(current)
    }
}

/// The Conflict of a write to a release whose newest revision is pending.
pub(crate) fn pending(id: &DeploymentId, revision: u32, status: &HelmStatus) -> Error {
    Error::conflict(
        Resource::Deployment,
        id,
        format!(
            "revision {revision} is {status}: a writer is still running (another adapter, \
             the helm CLI), or one stopped before it finished; once none is running, \
             recover_pending rolls it back"
        ),
    )
}

/// The description of `record` as callers see it. helm writes its error into a failed
/// revision's description (`Release "web" failed: ...`), and that error can quote values:
/// a failed revision's description is scrubbed of the revision's own values (see
/// [`Scrub`]). Other descriptions are helm's fixed texts or the caller's own.
pub(crate) fn description(record: &StoredRelease) -> String {
    let info = &record.release.info;
    if info.status == HelmStatus::Failed {
        Scrub::of([&record.release.config]).apply(&info.description)
    } else {
        info.description.clone()
    }
}

/// How a revision is named in errors: `ns/name revision N`.
pub(crate) fn revision_id(id: &DeploymentId, revision: u32) -> String {
    format!("{id} revision {revision}")
}
