//! Status: `deployment_status`, the release status with what its live workloads say.

use o2dms_core::{DeploymentId, Result, StatusDetail};

use super::{description, Context};
use crate::workloads::{detail, explain_not_ready, read_all};

/// A status read.
pub(crate) struct Status<'a> {
    /// The deployment.
    pub(crate) id: &'a DeploymentId,
}

impl Status<'_> {
    /// The newest revision's status and description, with replica counts, progress and
    /// conditions of the workloads its manifest names. The workloads are read while the
    /// revision is confirmed when its record is cached.
    pub(crate) async fn run(self, cx: &Context) -> Result<StatusDetail> {
        let (current, live) = cx
            .storage
            .current_with(self.id, |record| async move {
                let mut live = read_all(&cx.client, &record.workloads).await?;
                explain_not_ready(&cx.client, &mut live).await?;
                Ok(live)
            })
            .await?;
        Ok(detail(
            current.release.info.status.live_status(),
            &description(&current),
            &live,
        ))
    }
}
