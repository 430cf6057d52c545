//! Recover: a release whose newest revision a crashed writer left `pending-*` is rolled
//! back to the last good revision, or, a first install with nothing to return to,
//! uninstalled.

use o2dms_core::{Deployment, DeploymentId, DeploymentStatus, Error, Resource, Result};

use super::rollback::run_rollback;
use super::uninstall::run_uninstall;
use super::Context;
use crate::helm::Scrub;
use crate::storage::HelmStatus;

/// What [`HelmAdapter::recover_pending`](crate::HelmAdapter::recover_pending) did.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Recovery {
    /// The newest revision was not pending; nothing was changed.
    NotPending {
        /// Its status.
        status: DeploymentStatus,
    },
    /// Rolled back from the stuck revision to the last good one (a new revision).
    RolledBack {
        /// The stuck revision.
        stuck_revision: u32,
        /// Its Helm status (`pending-upgrade`, ...).
        stuck_status: String,
        /// The revision returned to.
        to_revision: u32,
        /// The deployment afterwards.
        deployment: Box<Deployment>,
    },
    /// A first install that never finished, with nothing to return to: uninstalled.
    Uninstalled {
        /// The stuck revision.
        stuck_revision: u32,
    },
}

/// A recovery of one deployment.
pub(crate) struct Recover<'a> {
    /// The deployment.
    pub(crate) id: &'a DeploymentId,
}

impl Recover<'_> {
    /// Rolls back to the newest earlier revision that was deployed (or superseded), which
    /// makes a new revision and clears the lock; uninstalls a first install that never
    /// finished; refuses (Conflict) when no earlier revision was ever deployed.
    pub(crate) async fn run(self, cx: &Context) -> Result<Recovery> {
        let id = self.id;
        let held = cx.hold(id).await?;
        let metas = cx.storage.metas(id).await?;
        let Some(latest) = metas.iter().max_by_key(|m| m.revision) else {
            return Err(Error::not_found(Resource::Deployment, id));
        };
        if !latest.status.is_pending() {
            return Ok(Recovery::NotPending {
                status: latest.status.live_status(),
            });
        }
        let good = metas
            .iter()
            .filter(|m| m.revision < latest.revision)
            .filter(|m| matches!(m.status, HelmStatus::Deployed | HelmStatus::Superseded))
            .max_by_key(|m| m.revision);
        match good {
            Some(target) => {
                run_rollback(
                    cx,
                    id,
                    target.revision,
                    latest.revision,
                    None,
                    "recover_pending",
                )
                .await?;
                let ended = format!(
                    "Interrupted: its writer stopped before it finished; recovered by rolling \
                     back to revision {}",
                    target.revision
                );
                if let Err(e) = cx
                    .storage
                    .end_interrupted(id, latest.revision, &ended)
                    .await
                {
                    tracing::warn!(%id, stuck = latest.revision, error = %e, "could not mark the interrupted revision failed");
                }
                tracing::info!(%id, stuck = latest.revision, to = target.revision, "recovered pending release by rollback");
                held.release().await;
                Ok(Recovery::RolledBack {
                    stuck_revision: latest.revision,
                    stuck_status: latest.status.to_string(),
                    to_revision: target.revision,
                    deployment: Box::new(cx.shown(&cx.storage.current(id).await?)),
                })
            }
            None if latest.status == HelmStatus::PendingInstall => {
                let stuck = cx.storage.revision(id, latest.revision).await?;
                let scrub = Scrub::of(stuck.iter().map(|r| &r.release.config));
                run_uninstall(cx, id, None, "recover_pending", &scrub).await?;
                tracing::info!(%id, stuck = latest.revision, "recovered pending install by uninstalling");
                held.release().await;
                Ok(Recovery::Uninstalled {
                    stuck_revision: latest.revision,
                })
            }
            None => Err(Error::conflict(
                Resource::Deployment,
                id,
                format!(
                    "revision {} is {} and no earlier revision was ever deployed; delete the \
                     deployment",
                    latest.revision, latest.status
                ),
            )),
        }
    }
}
