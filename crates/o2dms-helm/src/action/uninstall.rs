//! Uninstall: `delete_deployment` as `helm uninstall`, the release and everything it
//! created.

use std::time::Duration;

use o2dms_core::{DeploymentId, Operation, Result};

use super::{pending, Context, HelmCall};
use crate::helm::{uninstall_args, Scrub};
use crate::namespaces;
use crate::storage::Outcome;

/// A delete.
pub(crate) struct Uninstall<'a> {
    /// The deployment.
    pub(crate) id: &'a DeploymentId,
}

impl Uninstall<'_> {
    /// Uninstalls and waits until its resources are gone: NotFound for a missing
    /// deployment, Conflict while its newest revision is pending.
    pub(crate) async fn run(self, cx: &Context) -> Result<()> {
        let id = self.id;
        let held = cx.hold(id).await?;
        let current = cx.storage.current(id).await?;
        let status = &current.release.info.status;
        if status.is_pending() {
            return Err(pending(id, current.release.version, status));
        }
        let scrub = Scrub::of([&current.release.config]);
        run_uninstall(cx, id, None, Operation::DeleteDeployment.as_str(), &scrub).await?;
        held.release().await;
        namespaces::remove_if_created(cx, &id.namespace).await;
        Ok(())
    }
}

/// `helm uninstall` of `id`, waiting for its resources to go; its errors show none of
/// `scrub`'s values (the current revision's).
pub(crate) async fn run_uninstall(
    cx: &Context,
    id: &DeploymentId,
    timeout: Option<Duration>,
    operation: &str,
    scrub: &Scrub,
) -> Result<()> {
    let waiting = cx.waiting(timeout);
    let args = uninstall_args(
        cx.helm.major(),
        cx.helm.connection(),
        &id.name,
        &id.namespace,
        waiting,
    );
    let call = HelmCall {
        operation,
        id,
        revision: None,
        timeout: waiting.timeout,
        scrub,
    };
    cx.write(call, &args, Outcome::Gone).await?;
    Ok(())
}
