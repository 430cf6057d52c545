//! Rollback: `rollback_deployment` as `helm rollback`, a new revision with an earlier
//! one's package and values.

use o2dms_core::{DeploymentId, Error, Operation, Resource, Result, RollbackRequest};

use super::{pending, revision_id, Context, HelmCall};
use crate::helm::{rollback_args, RollbackTo, Scrub};
use crate::storage::Outcome;

/// A rollback, as asked for (validated by the caller).
pub(crate) struct Rollback<'a> {
    /// The deployment.
    pub(crate) id: &'a DeploymentId,
    /// The request.
    pub(crate) request: RollbackRequest,
}

impl Rollback<'_> {
    /// Rolls back to the requested revision, or the one before the newest: NotFound for
    /// a revision that is not kept, Conflict while the newest revision is pending.
    pub(crate) async fn run(self, cx: &Context) -> Result<()> {
        let (id, r) = (self.id, &self.request);
        let held = cx.hold(id).await?;
        let metas = cx.storage.metas(id).await?;
        let Some(latest) = metas.iter().max_by_key(|m| m.revision) else {
            return Err(Error::not_found(Resource::Deployment, id));
        };
        if latest.status.is_pending() {
            return Err(pending(id, latest.revision, &latest.status));
        }
        let target = match r.revision {
            Some(n) => n,
            None => metas
                .iter()
                .filter(|m| m.revision < latest.revision)
                .map(|m| m.revision)
                .max()
                .ok_or_else(|| {
                    Error::not_found(
                        Resource::Revision,
                        format!("{id}: no revision before {}", latest.revision),
                    )
                })?,
        };
        if !metas.iter().any(|m| m.revision == target) {
            return Err(Error::not_found(
                Resource::Revision,
                revision_id(id, target),
            ));
        }
        run_rollback(
            cx,
            id,
            target,
            latest.revision,
            r.timeout,
            Operation::RollbackDeployment.as_str(),
        )
        .await?;
        held.release().await;
        Ok(())
    }
}

/// `helm rollback` of `id` from revision `from` to `target`, waiting for it. Its errors
/// show none of the values of either revision (read first; a revision that is gone
/// meanwhile has none to hide, and helm then fails on it).
pub(crate) async fn run_rollback(
    cx: &Context,
    id: &DeploymentId,
    target: u32,
    from: u32,
    timeout: Option<std::time::Duration>,
    operation: &str,
) -> Result<()> {
    let (to, current) = futures::try_join!(
        cx.storage.revision(id, target),
        cx.storage.revision(id, from)
    )?;
    let scrub = Scrub::of(
        [&to, &current]
            .into_iter()
            .flatten()
            .map(|r| &r.release.config),
    );
    let waiting = cx.waiting(timeout);
    let args = rollback_args(
        cx.helm.major(),
        cx.helm.connection(),
        &RollbackTo {
            name: &id.name,
            namespace: &id.namespace,
            revision: target,
            waiting,
            max_history: cx.config.max_history,
            flags: cx.flags(),
        },
    );
    let call = HelmCall {
        operation,
        id,
        revision: Some(target),
        timeout: waiting.timeout,
        scrub: &scrub,
    };
    cx.write(call, &args, Outcome::NewRevisionAfter(from))
        .await?;
    Ok(())
}
