//! History: `deployment_history`, the revisions Helm keeps, ascending.

use o2dms_core::{DeploymentId, Error, HistoryOptions, Resource, Result, Revision};

use super::Context;

/// A history read, as asked for (validated by the caller).
pub(crate) struct History<'a> {
    /// The deployment.
    pub(crate) id: &'a DeploymentId,
    /// The options.
    pub(crate) options: HistoryOptions,
}

impl History<'_> {
    /// Every revision kept (at most `--history-max`), or the newest `limit`, ascending;
    /// NotFound without a release.
    pub(crate) async fn run(self, cx: &Context) -> Result<Vec<Revision>> {
        if self.options.limit == Some(0) {
            return Err(Error::invalid("limit", "must be at least 1"));
        }
        let all = cx.storage.revisions(self.id).await?;
        if all.is_empty() {
            return Err(Error::not_found(Resource::Deployment, self.id));
        }
        let skip = self
            .options
            .limit
            .map_or(0, |l| all.len().saturating_sub(l as usize));
        Ok(all
            .iter()
            .skip(skip)
            .map(|r| cx.shown_revision(r))
            .collect())
    }
}
