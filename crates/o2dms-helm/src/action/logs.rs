//! Logs: `deployment_logs`, the lines of the pods the newest revision's workloads select.

use o2dms_core::{DeploymentId, LogOptions, Logs, Result};

use super::Context;
use crate::workloads;

/// A logs read, as asked for (validated by the caller).
pub(crate) struct ReadLogs<'a> {
    /// The deployment.
    pub(crate) id: &'a DeploymentId,
    /// The options.
    pub(crate) options: &'a LogOptions,
}

impl ReadLogs<'_> {
    /// The lines, grouped by pod then container; NotFound for a container no pod has.
    pub(crate) async fn run(self, cx: &Context) -> Result<Logs> {
        let current = cx.storage.current(self.id).await?;
        cx.storage
            .bounded(async {
                let live = workloads::read_all(&cx.client, &current.workloads).await?;
                workloads::logs(&cx.client, &live, self.options).await
            })
            .await
    }
}
