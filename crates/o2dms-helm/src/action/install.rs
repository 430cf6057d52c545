//! Install: `create_deployment` as `helm install`, revision 1 of a new release.

use o2dms_core::{CreateDeployment, Error, Operation, Resource, Result};

use super::{Context, HelmCall};
use crate::chart;
use crate::helm::{install_args, Apply, Scrub};
use crate::labels::{check_user_labels, package_label, scale_key_label};
use crate::namespaces;
use crate::storage::{HelmStatus, Outcome};

/// A create, as asked for (validated by the caller).
pub(crate) struct Install {
    /// The request.
    pub(crate) request: CreateDeployment,
}

impl Install {
    /// Installs the package as a new release and waits for it (`--wait`): Ok when ready,
    /// Timeout (the release stays, failed) when not in time. A name that exists is
    /// AlreadyExists, except a release uninstalled with `--keep-history` (by the CLI),
    /// whose name is reused with `--replace`.
    pub(crate) async fn run(self, cx: &Context) -> Result<()> {
        let r = &self.request;
        let id = &r.id;
        check_user_labels(&r.labels)?;
        let mut labels = r.labels.clone();
        if let Some(key) = &r.scale_key {
            labels.extend([scale_key_label(key)?]);
        }
        labels.extend(package_label(&r.package, None)?);
        let chart = chart::of_package(&*cx.store, &r.package).await?;
        // The namespace first: the Lease lives in it.
        namespaces::ensure(cx, &id.namespace).await?;
        let held = cx.hold(id).await?;
        let replace = match cx.storage.existing(id).await? {
            Some(existing) if existing.status == HelmStatus::Uninstalled => true,
            Some(_) => return Err(Error::already_exists(Resource::Deployment, id)),
            None => false,
        };
        let values = cx.helm.values_file(&r.values, cx.config.max_values_bytes)?;
        let scrub = Scrub::of([&r.values]);
        let waiting = cx.waiting(r.timeout);
        let mut args = install_args(
            cx.helm.major(),
            cx.helm.connection(),
            &Apply {
                name: &id.name,
                namespace: &id.namespace,
                chart: &chart,
                values_file: values.path(),
                labels: &labels,
                description: r.description.as_deref(),
                waiting,
                max_history: cx.config.max_history,
                dry_run: false,
                flags: cx.flags(),
            },
        );
        let outcome = if replace {
            args.push("--replace".into());
            Outcome::Unknown
        } else {
            Outcome::NewRevisionAfter(0)
        };
        let call = HelmCall {
            operation: Operation::CreateDeployment.as_str(),
            id,
            revision: None,
            timeout: waiting.timeout,
            scrub: &scrub,
        };
        cx.write(call, &args, outcome).await?;
        held.release().await;
        Ok(())
    }
}
