//! `cargo xtask conformance --adapter helm --least-privilege`: the suite against the Helm
//! adapter running as a ServiceAccount that holds only the namespaced Role of
//! `deploy/rbac/namespaced.yaml`, in exactly the namespaces the run can use.
//!
//! The run's namespaces are known in advance: a fixed prefix ([`PREFIX`]) and
//! [`o2dms_conformance::planned_namespaces`], which names them with the same code the
//! runner and the scenarios' context use. With the admin identity the run creates each of
//! them, applies the manifest's Role and RoleBinding in each (rendered for the namespace
//! and the run's ServiceAccount), creates the ServiceAccount in a namespace of its own
//! ([`HOME`]), mints a token for it (TokenRequest, [`TOKEN_TTL`]) and writes a kubeconfig
//! holding only that token. The adapter connects with that kubeconfig, its allow-list
//! (`namespaces`) set to the planned namespaces and `createNamespace` off. At the end
//! (after a failure or Ctrl-C too) the ServiceAccount and every namespace the run made are
//! deleted.
//!
//! The run prints what it measured: the setup time, how long the adapter's release index
//! (one watch per namespace) took to list, how many watches of Secrets the API server
//! counts, the memory of this process, and the cleanup time.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use futures::future::{BoxFuture, Shared};
use futures::{FutureExt, StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use kube::api::{DeleteParams, ListParams, ObjectMeta, PostParams};
use kube::{Api, Client};
use o2dms_cluster::rbac::{self, RbacManifest, ServiceAccountRef};
use o2dms_conformance::{planned_namespaces, Report, Settings, Suite};
use o2dms_core::{DeploymentFilter, DmsAdapter};
use o2dms_store::PackageStore;

/// The namespace prefix of a least-privilege run: fixed, so the namespaces are known
/// before the run.
pub(crate) const PREFIX: &str = "o2lp-";

/// The namespace of the run's ServiceAccount: not one the adapter serves (it matches no
/// `<prefix><index>` name).
const HOME: &str = "o2lp-home";

/// The run's ServiceAccount.
const ACCOUNT: &str = "o2dms-helm";

/// How long the ServiceAccount's token is valid.
const TOKEN_TTL: Duration = Duration::from_secs(2 * 3600);

/// The label on every namespace the run makes (so a crashed run's are found again).
const RUN_LABEL: (&str, &str) = ("o2dms.io/conformance-run", "least-privilege");

/// Objects written or deleted at once.
const IN_FLIGHT: usize = 16;

/// How long the cleanup waits for the namespaces to be gone.
const CLEANUP_BOUND: Duration = Duration::from_secs(600);

/// Completes on Ctrl-C; cloneable.
type Interrupt = Shared<BoxFuture<'static, ()>>;

fn interrupt() -> Interrupt {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\ninterrupted: stopping and removing what the run made ...");
            let _ = tx.send(());
        }
    });
    async move {
        if rx.await.is_err() {
            futures::future::pending::<()>().await;
        }
    }
    .boxed()
    .shared()
}

/// The resident and peak memory of this process (`VmRSS`, `VmHWM`), in MiB, when the
/// platform says.
fn memory_mib() -> Option<(f64, f64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<f64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

fn memory_text() -> String {
    memory_mib().map_or_else(
        || "unknown".to_owned(),
        |(rss, peak)| format!("{rss:.0} MiB resident, {peak:.0} MiB peak"),
    )
}

/// Watches of Secrets the API server has registered now
/// (`apiserver_registered_watchers{kind="Secret"}` in its metrics), if it says.
async fn secret_watchers(admin: &Client) -> Option<u64> {
    let request = http::Request::get("/metrics").body(Vec::new()).ok()?;
    let text = admin.request_text(request).await.ok()?;
    let mut total = 0u64;
    let mut found = false;
    for line in text.lines() {
        if line.starts_with("apiserver_registered_watchers{") && line.contains("kind=\"Secret\"") {
            let value = line.rsplit(' ').next()?;
            total += value.parse::<f64>().ok()? as u64;
            found = true;
        }
    }
    found.then_some(total)
}

fn namespace_object(name: &str) -> Namespace {
    Namespace {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            labels: Some([(RUN_LABEL.0.to_owned(), RUN_LABEL.1.to_owned())].into()),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    }
}

/// Refuses to start over namespaces an earlier run left (they would mix with this run's),
/// waiting a while for ones still being deleted.
async fn check_clean(admin: &Client, wanted: &[String]) -> anyhow::Result<()> {
    let api: Api<Namespace> = Api::all(admin.clone());
    let deadline = Instant::now() + CLEANUP_BOUND;
    loop {
        let existing: Vec<Namespace> = api
            .list(&ListParams::default())
            .await
            .context("listing namespaces")?
            .items
            .into_iter()
            .filter(|n| {
                n.metadata
                    .name
                    .as_ref()
                    .is_some_and(|name| wanted.contains(name))
            })
            .collect();
        if existing.is_empty() {
            return Ok(());
        }
        let live: Vec<String> = existing
            .iter()
            .filter(|n| n.metadata.deletion_timestamp.is_none())
            .filter_map(|n| n.metadata.name.clone())
            .collect();
        if !live.is_empty() {
            bail!(
                "{} namespace(s) of the run exist already ({}, ...): left by an earlier run? \
                 delete them first (kubectl delete namespace -l {}={})",
                live.len(),
                live[0],
                RUN_LABEL.0,
                RUN_LABEL.1
            );
        }
        if Instant::now() > deadline {
            bail!(
                "{} namespace(s) of an earlier run are still being deleted",
                existing.len()
            );
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// What the setup made, for the cleanup.
#[derive(Default)]
struct Made {
    namespaces: std::sync::Mutex<Vec<String>>,
}

impl Made {
    fn add(&self, ns: &str) {
        if let Ok(mut v) = self.namespaces.lock() {
            v.push(ns.to_owned());
        }
    }

    fn all(&self) -> Vec<String> {
        self.namespaces
            .lock()
            .map(|v| v.clone())
            .unwrap_or_default()
    }
}

/// Creates `name` (labelled as the run's) and records it.
async fn create_namespace(api: &Api<Namespace>, made: &Made, name: &str) -> anyhow::Result<()> {
    api.create(&PostParams::default(), &namespace_object(name))
        .await
        .with_context(|| format!("creating namespace {name}"))?;
    made.add(name);
    Ok(())
}

/// The run's namespaces, each with the namespaced Role bound to `account`, and the
/// ServiceAccount in [`HOME`].
async fn provision(
    admin: &Client,
    planned: &[String],
    account: &ServiceAccountRef,
    made: &Made,
) -> anyhow::Result<()> {
    let api: Api<Namespace> = Api::all(admin.clone());
    create_namespace(&api, made, HOME).await?;
    rbac::ensure_service_account(admin, account)
        .await
        .context("creating the ServiceAccount")?;
    let manifest = RbacManifest::namespaced()
        .context("reading deploy/rbac/namespaced.yaml")?
        .bound_to(account);
    let work: Vec<_> = planned
        .iter()
        .map(|ns| {
            let (api, manifest) = (api.clone(), manifest.clone().in_namespace(ns));
            async move {
                create_namespace(&api, made, ns).await?;
                manifest
                    .apply(admin)
                    .await
                    .with_context(|| format!("applying the namespaced Role in {ns}"))
            }
        })
        .collect();
    futures::stream::iter(work)
        .buffer_unordered(IN_FLIGHT)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(())
}

/// Deletes the ServiceAccount and every namespace the run made, and waits (boundedly)
/// until the namespaces are gone.
async fn remove(admin: &Client, account: &ServiceAccountRef, made: &Made) -> anyhow::Result<()> {
    let started = Instant::now();
    let sa: Api<ServiceAccount> = Api::namespaced(admin.clone(), &account.namespace);
    match sa.delete(&account.name, &DeleteParams::default()).await {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 404 => {}
        Err(e) => eprintln!(
            "warning: deleting ServiceAccount {}: {e}",
            account.user_name()
        ),
    }
    let names = made.all();
    let api: Api<Namespace> = Api::all(admin.clone());
    let deletes: Vec<_> = names
        .iter()
        .map(|ns| {
            let api = api.clone();
            async move {
                match api.delete(ns, &DeleteParams::background()).await {
                    Ok(_) => Ok(()),
                    Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
                    Err(e) => Err(anyhow::anyhow!("deleting namespace {ns}: {e}")),
                }
            }
        })
        .collect();
    futures::stream::iter(deletes)
        .buffer_unordered(IN_FLIGHT)
        .try_collect::<Vec<()>>()
        .await?;
    let selector = format!("{}={}", RUN_LABEL.0, RUN_LABEL.1);
    loop {
        let left = api
            .list(&ListParams::default().labels(&selector))
            .await
            .context("listing the run's namespaces")?
            .items
            .len();
        if left == 0 {
            break;
        }
        if started.elapsed() > CLEANUP_BOUND {
            bail!("{left} namespace(s) of the run still exist after {CLEANUP_BOUND:?}");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    eprintln!(
        "least privilege: removed the ServiceAccount and {} namespaces in {:.1}s",
        names.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Runs the suite against the Helm adapter as the least-privilege ServiceAccount on
/// `cluster` (see the module docs); packages in `store` when given.
pub(crate) async fn run(
    cluster: &o2dms_cluster::Cluster,
    helm: &Path,
    store: Option<Arc<dyn PackageStore>>,
    mut settings: Settings,
) -> anyhow::Result<Report> {
    settings.namespace_prefix = Some(PREFIX.to_owned());
    let planned = planned_namespaces(PREFIX, Suite::new(settings.clone()).scenarios());
    let admin = cluster.client();
    let account = ServiceAccountRef::new(HOME, ACCOUNT);
    let mut wanted = planned.clone();
    wanted.push(HOME.to_owned());
    check_clean(&admin, &wanted).await?;

    let interrupt = interrupt();
    let made = Made::default();
    let outcome = async {
        let started = Instant::now();
        eprintln!(
            "least privilege: making {} namespaces ({} scenarios), a Role and RoleBinding in \
             each, and ServiceAccount {} ...",
            planned.len(),
            Suite::new(settings.clone()).scenarios().len(),
            account.user_name()
        );
        let provisioned = tokio::select! {
            r = provision(&admin, &planned, &account, &made) => r,
            () = interrupt.clone() => Err(anyhow::anyhow!("interrupted while setting up")),
        };
        provisioned?;
        eprintln!(
            "least privilege: set up in {:.1}s",
            started.elapsed().as_secs_f64()
        );
        let token = rbac::service_account_token(&admin, &account, TOKEN_TTL)
            .await
            .context("minting the ServiceAccount's token")?;
        let dir = tempfile::Builder::new()
            .prefix("o2dms-least-privilege-")
            .tempdir()
            .context("creating the kubeconfig directory")?;
        let kubeconfig = dir.path().join("kubeconfig");
        rbac::token_kubeconfig(cluster.kubeconfig_path(), &token, &kubeconfig)
            .context("writing the ServiceAccount's kubeconfig")?;
        let data = tempfile::Builder::new()
            .prefix("o2dms-conformance-data-")
            .tempdir()
            .context("creating the adapter's data directory")?;
        let config = o2dms_helm::HelmConfig::builder()
            .kubeconfig(&kubeconfig)
            .helm_binary(helm)
            .data_dir(data.path())
            .namespace(planned.first().map_or("default", String::as_str))
            .namespaces(planned.iter().cloned())
            .create_namespace(false)
            .delete_created_namespaces(false)
            .build()
            .map_err(|e| anyhow::anyhow!("helm adapter configuration: {e}"))?;
        let memory_before = memory_text();
        let watchers_before = secret_watchers(&admin).await;
        let adapter = match store {
            None => o2dms_helm::HelmAdapter::connect(config).await,
            Some(s) => o2dms_helm::HelmAdapter::connect_with_store(config, s).await,
        }
        .map_err(|e| anyhow::anyhow!("connecting the helm adapter: {e}"))?;
        // The first read starts the release index: one watch per namespace, each listing
        // first; the read waits for all of them.
        let index_started = Instant::now();
        let listed = adapter
            .list_deployments(&DeploymentFilter::all())
            .await
            .map_err(|e| anyhow::anyhow!("the first list as the ServiceAccount: {e}"))?;
        let index_ready = index_started.elapsed();
        // a second list, from the index when it is usable
        let again = Instant::now();
        adapter
            .list_deployments(&DeploymentFilter::all())
            .await
            .map_err(|e| anyhow::anyhow!("the second list as the ServiceAccount: {e}"))?;
        let second_list = again.elapsed();
        let watchers = secret_watchers(&admin).await;
        eprintln!(
            "least privilege: first list (release index: {} watches starting and listing) {:.2}s, \
             {} deployments; second list {:.1} ms; watches of Secrets the API server counts: \
             {} before, {} after; this process: {} before connecting, {} now",
            planned.len(),
            index_ready.as_secs_f64(),
            listed.items.len(),
            second_list.as_secs_f64() * 1000.0,
            watchers_before.map_or("unknown".to_owned(), |n| n.to_string()),
            watchers.map_or("unknown".to_owned(), |n| n.to_string()),
            memory_before,
            memory_text(),
        );
        let adapter = Arc::new(o2dms_layers::Events::new(adapter));
        let suite_started = Instant::now();
        let report = Suite::new(settings)
            .events(adapter.clone())
            .interrupt_on(interrupt.clone())
            .run(&*adapter)
            .await;
        eprintln!(
            "least privilege: the suite took {:.1}s; this process: {}; watches of Secrets: {}",
            suite_started.elapsed().as_secs_f64(),
            memory_text(),
            secret_watchers(&admin)
                .await
                .map_or("unknown".to_owned(), |n| n.to_string()),
        );
        drop(adapter);
        anyhow::Ok(report)
    }
    .await;
    let removed = remove(&admin, &account, &made).await;
    match (outcome, removed) {
        (Ok(report), Ok(())) => Ok(report),
        (Ok(mut report), Err(e)) => {
            let warning = format!("cleaning up after the least-privilege run: {e:#}");
            eprintln!("warning: {warning}");
            report.warnings.push(warning);
            Ok(report)
        }
        (Err(e), Ok(())) => Err(e),
        (Err(e), Err(c)) => Err(e.context(format!("and cleaning up failed: {c:#}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_home_namespace_is_not_one_the_adapter_serves() {
        let suite = Suite::new(Settings::default());
        let planned = planned_namespaces(PREFIX, suite.scenarios());
        assert!(!planned.iter().any(|n| n == HOME));
        assert!(planned.iter().all(|n| n.starts_with(PREFIX)));
        o2dms_core::validate::namespace("namespace", HOME).unwrap();
    }

    #[test]
    fn the_flag_parses_and_excludes_the_server_modes() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            args: crate::conformance::ConformanceArgs,
        }
        let cli =
            Cli::try_parse_from(["x", "--adapter", "helm", "--helm", "4", "--least-privilege"])
                .unwrap();
        assert!(cli.args.least_privilege);
        assert!(!Cli::try_parse_from(["x"]).unwrap().args.least_privilege);
        assert!(Cli::try_parse_from(["x", "--least-privilege", "--via-server"]).is_err());
        assert!(Cli::try_parse_from(["x", "--least-privilege", "--endpoint", "http://h"]).is_err());
    }
}
