//! Upgrade: `update_deployment` as `helm upgrade`, exactly one new revision; and the one
//! `helm upgrade` every action that changes a release's values runs ([`apply`]).

use std::collections::BTreeMap;
use std::time::Duration;

use o2dms_core::{DeploymentId, Operation, Result, UpdateDeployment, Values, ValuesMode};

use super::{Context, HelmCall};
use crate::chart;
use crate::helm::{upgrade_args, Apply, ChartSource, Scrub};
use crate::labels::package_label;
use crate::storage::Outcome;

/// An update, as asked for (validated by the caller).
pub(crate) struct Upgrade<'a> {
    /// The deployment.
    pub(crate) id: &'a DeploymentId,
    /// The request.
    pub(crate) request: UpdateDeployment,
}

impl Upgrade<'_> {
    /// Upgrades to the new package (or the current chart) with the values merged into
    /// the current ones or replacing them, and waits for it.
    pub(crate) async fn run(self, cx: &Context) -> Result<()> {
        let (id, r) = (self.id, &self.request);
        let new_chart = match &r.package {
            Some(p) => {
                package_label(p, None)?;
                Some(chart::of_package(&*cx.store, p).await?)
            }
            None => None,
        };
        let held = cx.hold(id).await?;
        let current = cx.writable(id).await?;
        let labels: BTreeMap<String, String> = match &r.package {
            Some(p) => package_label(p, Some(&current.labels))?
                .into_iter()
                .collect(),
            None => BTreeMap::new(),
        };
        let values = match r.mode {
            ValuesMode::Merge => current.release.config.merged(&r.values),
            ValuesMode::Replace => r.values.clone(),
        };
        // The values handed to helm and the current ones (which a replace drops, and
        // which helm may still quote from the live objects).
        let scrub = Scrub::of([&values, &current.release.config]);
        let scratch = cx.helm.scratch_dir()?;
        let chart = match new_chart {
            Some(c) => c,
            None => {
                chart::of_current(
                    &*cx.store,
                    &current,
                    scratch.path(),
                    cx.config.rebuild_from_release,
                )
                .await?
            }
        };
        apply(
            cx,
            &HelmUpgrade {
                operation: Operation::UpdateDeployment.as_str(),
                id,
                chart: &chart,
                values: &values,
                labels: &labels,
                description: r.description.as_deref(),
                timeout: r.timeout,
                dry_run: false,
                before: current.release.version,
                scrub: &scrub,
            },
        )
        .await?;
        held.release().await;
        Ok(())
    }
}

/// One `helm upgrade` of a release with its complete values (`--reset-values`: merge
/// semantics are the adapter's, not helm's flags).
#[derive(Clone)]
pub(crate) struct HelmUpgrade<'a> {
    /// The operation, for errors.
    pub(crate) operation: &'a str,
    /// The deployment.
    pub(crate) id: &'a DeploymentId,
    /// The chart.
    pub(crate) chart: &'a ChartSource,
    /// The complete values.
    pub(crate) values: &'a Values,
    /// Storage labels merged into the release's (helm keeps the others).
    pub(crate) labels: &'a BTreeMap<String, String>,
    /// The new revision's description.
    pub(crate) description: Option<&'a str>,
    /// How long to wait (the configured default if unset).
    pub(crate) timeout: Option<Duration>,
    /// Render only (`--dry-run=client -o json`), writing nothing.
    pub(crate) dry_run: bool,
    /// The current revision: success leaves a newer one.
    pub(crate) before: u32,
    /// The values helm's errors must not show (at least `values`).
    pub(crate) scrub: &'a Scrub,
}

/// Runs `upgrade`; helm's stdout (the rendered release for a dry run).
pub(crate) async fn apply(cx: &Context, upgrade: &HelmUpgrade<'_>) -> Result<String> {
    let u = upgrade;
    let values = cx.helm.values_file(u.values, cx.config.max_values_bytes)?;
    let waiting = cx.waiting(u.timeout);
    let args = upgrade_args(
        cx.helm.major(),
        cx.helm.connection(),
        &Apply {
            name: &u.id.name,
            namespace: &u.id.namespace,
            chart: u.chart,
            values_file: values.path(),
            labels: u.labels,
            description: u.description,
            waiting,
            max_history: cx.config.max_history,
            dry_run: u.dry_run,
            flags: cx.flags(),
        },
    );
    let call = HelmCall {
        operation: u.operation,
        id: u.id,
        revision: None,
        timeout: waiting.timeout,
        scrub: u.scrub,
    };
    if u.dry_run {
        cx.render(call, &args).await
    } else {
        cx.write(call, &args, Outcome::NewRevisionAfter(u.before))
            .await
    }
}
