//! Least privilege: the namespace allow-list and the shipped RBAC manifests
//! (`deploy/rbac/`).
//!
//! An adapter with an allow-list of two namespaces, running as a ServiceAccount that holds
//! only `namespaced.yaml`'s Role in those two, works fully there (create, update, scale,
//! status, history, logs, list, delete, "package in use"), lists nothing else and refuses
//! a third namespace naming it; the same identity without the allow-list is refused the
//! cluster-wide reads. A ServiceAccount bound by `cluster-wide.yaml` serves every
//! namespace, creating and deleting namespaces as `createNamespace` and
//! `deleteCreatedNamespaces` ask.

use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{ObjectMeta, PostParams};
use kube::Api;
use o2dms_cluster::rbac::{self, RbacManifest, ServiceAccountRef};
use o2dms_core::{
    CreateDeployment, DeletePackageOptions, DeploymentFilter, DmsAdapter, Error, HistoryOptions,
    LogOptions, ScaleRequest, UpdateDeployment,
};
use o2dms_helm::{HelmAdapter, HelmConfig};

use super::{id, pkg, vals, Env};

const A: &str = "o2-lp-a";
const B: &str = "o2-lp-b";
const OTHER: &str = "o2-lp-other";
const HOME: &str = "o2-lp-home";
/// A namespace the cluster-wide adapter creates and deletes itself.
const MADE: &str = "o2-lp-made";

async fn namespace(env: &Env, name: &str) {
    let api: Api<Namespace> = Api::all(env.cluster.client());
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    api.create(&PostParams::default(), &ns)
        .await
        .unwrap_or_else(|e| panic!("namespace {name}: {e}"));
}

/// A kubeconfig holding only a fresh token of `account`, in `dir`.
async fn kubeconfig_of(env: &Env, account: &ServiceAccountRef, dir: &tempfile::TempDir) -> PathBuf {
    let token =
        rbac::service_account_token(&env.cluster.client(), account, Duration::from_secs(3600))
            .await
            .expect("token");
    let path = dir.path().join(format!("{}.kubeconfig", account.name));
    rbac::token_kubeconfig(env.cluster.kubeconfig_path(), &token, &path).expect("kubeconfig");
    path
}

/// The default adapter's settings (its package store too) with `kubeconfig`, a work
/// directory of its own and the given allow-list.
async fn adapter_as(
    env: &Env,
    kubeconfig: &Path,
    namespaces: &[&str],
    work: &tempfile::TempDir,
) -> HelmAdapter {
    let mut config: HelmConfig = env.adapter.config().clone();
    config.kubeconfig = Some(kubeconfig.to_path_buf());
    config.package_dir = Some(config.package_location().unwrap());
    config.work_dir = Some(work.path().to_path_buf());
    config.namespaces = namespaces.iter().map(|s| (*s).to_owned()).collect();
    config.namespace = namespaces.first().unwrap_or(&"default").to_string();
    config.create_namespace = namespaces.is_empty();
    config.delete_created_namespaces = namespaces.is_empty();
    HelmAdapter::connect(config).await.expect("connect")
}

async fn listed(a: &HelmAdapter, filter: DeploymentFilter) -> Vec<String> {
    a.list_deployments(&filter)
        .await
        .expect("list")
        .items
        .into_iter()
        .map(|d| d.id.to_string())
        .collect()
}

fn refused_naming<T: std::fmt::Debug>(what: &str, r: Result<T, Error>, namespace: &str) {
    match r {
        Err(Error::InvalidArgument { field, reason }) => {
            assert_eq!(field, "namespace", "{what}");
            assert!(reason.contains(namespace), "{what}: {reason}");
        }
        other => panic!("{what}: expected InvalidArgument naming {namespace}, got {other:?}"),
    }
}

fn denied<T: std::fmt::Debug>(what: &str, r: Result<T, Error>, names: &[&str]) {
    match r {
        Err(Error::PermissionDenied { action, .. }) => {
            for n in names {
                assert!(action.contains(n), "{what}: {action}");
            }
        }
        other => panic!("{what}: expected PermissionDenied, got {other:?}"),
    }
}

pub async fn allow_list_and_shipped_rbac(env: &Env) {
    let admin = env.cluster.client();
    for ns in [A, B, OTHER, HOME] {
        namespace(env, ns).await;
    }
    // A deployment the restricted adapters must never show.
    let elsewhere = id(OTHER, "web");
    env.adapter
        .create_deployment(CreateDeployment::new(elsewhere.clone(), pkg("web@0.1.0")))
        .await
        .expect("create in the other namespace as the admin");

    let namespaced = ServiceAccountRef::new(HOME, "dms");
    rbac::ensure_service_account(&admin, &namespaced)
        .await
        .expect("service account");
    let manifest = RbacManifest::namespaced()
        .expect("deploy/rbac/namespaced.yaml")
        .bound_to(&namespaced);
    for ns in [A, B] {
        manifest
            .clone()
            .in_namespace(ns)
            .apply(&admin)
            .await
            .unwrap_or_else(|e| panic!("the namespaced Role in {ns}: {e}"));
    }
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = kubeconfig_of(env, &namespaced, &dir).await;
    let work: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();

    // The allow-listed adapter as the ServiceAccount: everything works in A and B.
    let a = adapter_as(env, &kubeconfig, &[A, B], &work[0]).await;
    let (in_a, in_b) = (id(A, "web"), id(B, "web"));
    for d in [&in_a, &in_b] {
        a.create_deployment(CreateDeployment::new(d.clone(), pkg("web@0.1.0")))
            .await
            .unwrap_or_else(|e| panic!("create {d} as the ServiceAccount: {e}"));
    }
    let d = a
        .update_deployment(
            &in_a,
            UpdateDeployment::new().values(vals(serde_json::json!({"tier": "edge"}))),
        )
        .await
        .expect("update");
    assert_eq!(d.revision, 2);
    let d = a
        .scale_deployment(&in_b, ScaleRequest::to(2))
        .await
        .expect("scale");
    assert_eq!(d.revision, 2);
    let st = a.deployment_status(&in_b).await.expect("status");
    assert_eq!((st.replicas.desired, st.replicas.ready), (2, 2));
    assert_eq!(
        a.deployment_history(&in_a, HistoryOptions::all())
            .await
            .expect("history")
            .len(),
        2
    );
    a.deployment_logs(&in_a, &LogOptions::default())
        .await
        .expect("logs");
    // "all namespaces" is exactly the two, from one watch each
    let both = vec![in_a.to_string(), in_b.to_string()];
    assert_eq!(listed(&a, DeploymentFilter::all()).await, both);
    assert_eq!(
        listed(&a, DeploymentFilter::in_namespace(B)).await,
        vec![in_b.to_string()]
    );
    // "in use" looks in the two namespaces only, and finds the deployments there
    match a
        .delete_package(&pkg("web@0.1.0"), DeletePackageOptions::new())
        .await
    {
        Err(Error::Conflict { reason, .. }) => {
            assert!(reason.contains(&in_a.to_string()), "{reason}")
        }
        other => panic!("delete of a package in use: {other:?}"),
    }
    // a third namespace is refused, naming it, before anything reaches the cluster
    refused_naming(
        "list in another namespace",
        a.list_deployments(&DeploymentFilter::in_namespace(OTHER))
            .await,
        OTHER,
    );
    refused_naming("get elsewhere", a.get_deployment(&elsewhere).await, OTHER);
    refused_naming(
        "create elsewhere",
        a.create_deployment(CreateDeployment::new(id(OTHER, "new"), pkg("web@0.1.0")))
            .await,
        OTHER,
    );
    refused_naming(
        "delete elsewhere",
        a.delete_deployment(&elsewhere).await,
        OTHER,
    );
    env.adapter
        .get_deployment(&elsewhere)
        .await
        .expect("untouched");

    // The same identity without the allow-list cannot do what spans the cluster.
    let wide = adapter_as(env, &kubeconfig, &[], &work[1]).await;
    denied(
        "list everywhere without the allow-list",
        wide.list_deployments(&DeploymentFilter::all()).await,
        &["list secrets", "cluster scope"],
    );
    denied(
        "package in use without the allow-list",
        wide.delete_package(&pkg("web@0.1.0"), DeletePackageOptions::new())
            .await,
        &["list secrets", "cluster scope"],
    );
    drop(wide);

    for d in [&in_a, &in_b] {
        a.delete_deployment(d).await.expect("delete");
    }
    assert!(listed(&a, DeploymentFilter::all()).await.is_empty());
    drop(a);

    // cluster-wide.yaml: every namespace, and namespaces made and removed on demand.
    let cluster_wide = ServiceAccountRef::new(HOME, "dms-cluster");
    rbac::ensure_service_account(&admin, &cluster_wide)
        .await
        .expect("service account");
    RbacManifest::cluster_wide()
        .expect("deploy/rbac/cluster-wide.yaml")
        .bound_to(&cluster_wide)
        .apply(&admin)
        .await
        .expect("the cluster-wide roles");
    let kubeconfig = kubeconfig_of(env, &cluster_wide, &dir).await;
    let c = adapter_as(env, &kubeconfig, &[], &work[2]).await;
    let made = id(MADE, "web");
    c.create_deployment(CreateDeployment::new(made.clone(), pkg("web@0.1.0")))
        .await
        .expect("create into a namespace the adapter makes");
    let everywhere = listed(&c, DeploymentFilter::all()).await;
    for d in [&made, &elsewhere] {
        assert!(everywhere.contains(&d.to_string()), "{everywhere:?}");
    }
    c.delete_deployment(&made).await.expect("delete");
    let api: Api<Namespace> = Api::all(admin.clone());
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while api
        .get_opt(MADE)
        .await
        .unwrap()
        .is_some_and(|ns| ns.metadata.deletion_timestamp.is_none())
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the namespace it made stayed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    c.delete_deployment(&elsewhere)
        .await
        .expect("delete in a namespace the adapter did not make");
    drop(c);
}
