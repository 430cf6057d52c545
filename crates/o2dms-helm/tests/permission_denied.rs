//! The adapter connected as a ServiceAccount without the rights it needs: every refusal
//! by the API server's RBAC is PermissionDenied naming what was refused, never Backend,
//! whether the adapter's own read met it (a 403 through `kube`) or helm did (helm's
//! stderr), on Helm 4 and Helm 3.
//!
//! The ServiceAccount `o2-pd-home/dms` has no rights at all in `o2-pd-none` and read-only
//! rights in `o2-pd-ro` (get/list/watch Secrets, get its Namespace): there a create passes
//! the adapter's own reads and is refused inside helm.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{Namespace, Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use kube::api::{ListParams, ObjectMeta, PostParams};
use kube::config::Kubeconfig;
use kube::{Api, Client};
use o2dms_cluster::{tools, HelmMajor};
use o2dms_core::{
    CreateDeployment, DeploymentFilter, DeploymentId, DmsAdapter, Error, ErrorKind, HistoryOptions,
    PackageUpload,
};
use o2dms_helm::{HelmAdapter, HelmConfig};

const HOME: &str = "o2-pd-home";
const NONE: &str = "o2-pd-none";
const READ_ONLY: &str = "o2-pd-ro";
const SA: &str = "dms";
/// The bound each refused call is held to.
const BOUND: Duration = Duration::from_secs(60);

fn meta(name: &str, namespace: Option<&str>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: namespace.map(str::to_owned),
        ..ObjectMeta::default()
    }
}

/// The namespaces, the ServiceAccount and its read-only Role in [`READ_ONLY`].
async fn provision(client: &Client) {
    let pp = PostParams::default();
    let namespaces: Api<Namespace> = Api::all(client.clone());
    for ns in [HOME, NONE, READ_ONLY] {
        namespaces
            .create(
                &pp,
                &Namespace {
                    metadata: meta(ns, None),
                    ..Namespace::default()
                },
            )
            .await
            .unwrap_or_else(|e| panic!("namespace {ns}: {e}"));
    }
    Api::<ServiceAccount>::namespaced(client.clone(), HOME)
        .create(
            &pp,
            &ServiceAccount {
                metadata: meta(SA, Some(HOME)),
                ..ServiceAccount::default()
            },
        )
        .await
        .expect("service account");
    let rule = |resources: &[&str], verbs: &[&str]| PolicyRule {
        api_groups: Some(vec![String::new()]),
        resources: Some(resources.iter().map(|s| (*s).to_owned()).collect()),
        verbs: verbs.iter().map(|s| (*s).to_owned()).collect(),
        ..PolicyRule::default()
    };
    Api::<Role>::namespaced(client.clone(), READ_ONLY)
        .create(
            &pp,
            &Role {
                metadata: meta("read-only", Some(READ_ONLY)),
                rules: Some(vec![
                    rule(&["secrets"], &["get", "list", "watch"]),
                    // a request on the Namespace object itself is authorized in that
                    // namespace, so a Role can grant it
                    rule(&["namespaces"], &["get"]),
                ]),
            },
        )
        .await
        .expect("role");
    Api::<RoleBinding>::namespaced(client.clone(), READ_ONLY)
        .create(
            &pp,
            &RoleBinding {
                metadata: meta("read-only", Some(READ_ONLY)),
                role_ref: RoleRef {
                    api_group: "rbac.authorization.k8s.io".into(),
                    kind: "Role".into(),
                    name: "read-only".into(),
                },
                subjects: Some(vec![Subject {
                    kind: "ServiceAccount".into(),
                    name: SA.into(),
                    namespace: Some(HOME.into()),
                    ..Subject::default()
                }]),
            },
        )
        .await
        .expect("role binding");
}

/// A token for the ServiceAccount (TokenRequest API, one hour).
async fn token(client: &Client) -> String {
    let request = TokenRequest {
        metadata: meta(SA, Some(HOME)),
        spec: TokenRequestSpec {
            expiration_seconds: Some(3600),
            ..TokenRequestSpec::default()
        },
        status: None,
    };
    Api::<ServiceAccount>::namespaced(client.clone(), HOME)
        .create_token_request(SA, &PostParams::default(), &request)
        .await
        .expect("token request")
        .status
        .expect("token status")
        .token
}

/// A kubeconfig (JSON, which is YAML) with the admin kubeconfig's server and CA and the
/// ServiceAccount's token.
fn restricted_kubeconfig(admin: &Path, token: &str, dir: &Path) -> PathBuf {
    let admin = Kubeconfig::read_from(admin).expect("read the admin kubeconfig");
    let cluster = admin.clusters[0].cluster.clone().expect("cluster entry");
    let doc = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "local", "cluster": {
            "server": cluster.server.expect("server"),
            "certificate-authority-data": cluster.certificate_authority_data.expect("CA"),
        }}],
        "users": [{"name": "dms", "user": {"token": token}}],
        "contexts": [{"name": "dms", "context": {"cluster": "local", "user": "dms"}}],
        "current-context": "dms",
    });
    let path = dir.join("restricted.kubeconfig");
    std::fs::write(&path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    path
}

/// Runs `call` within [`BOUND`]; it must fail with PermissionDenied whose action
/// contains each of `names`. Returns the error.
async fn denied<T: std::fmt::Debug>(
    what: &str,
    names: &[&str],
    call: impl std::future::Future<Output = Result<T, Error>>,
) -> Error {
    let r = tokio::time::timeout(BOUND, call)
        .await
        .unwrap_or_else(|_| panic!("{what}: not answered within {BOUND:?}"));
    match r {
        Err(e @ Error::PermissionDenied { .. }) => {
            let Error::PermissionDenied { action, message } = &e else {
                unreachable!()
            };
            assert_eq!(e.kind(), ErrorKind::PermissionDenied);
            for n in names {
                assert!(action.contains(n), "{what}: action {action:?} names {n}");
            }
            assert!(
                message.contains("system:serviceaccount:o2-pd-home:dms"),
                "{what}: {e}"
            );
            eprintln!("{what}: {e}");
            e
        }
        Err(e) => panic!("{what}: {:?} error, not PermissionDenied: {e}", e.kind()),
        Ok(v) => panic!("{what}: succeeded without the right: {v:?}"),
    }
}

async fn refusals(major: HelmMajor, helm: &Path, kubeconfig: &Path, chart: &[u8], admin: &Client) {
    let work = tempfile::tempdir().unwrap();
    let packages = tempfile::tempdir().unwrap();
    let config = HelmConfig::builder()
        .kubeconfig(kubeconfig)
        .helm_binary(helm)
        .timeout(Duration::from_secs(30))
        .read_timeout(Duration::from_secs(15))
        .package_dir(packages.path())
        .work_dir(work.path())
        .build()
        .expect("config");
    // The same adapter without Lease locking (`leaseLocking: false`), whose create gets
    // as far as helm.
    let mut unleased = config.clone();
    unleased.lease_locking = false;
    // Connecting reads nothing from the cluster: it needs no rights.
    let a = HelmAdapter::connect(config).await.expect("connect");
    let unleased = HelmAdapter::connect(unleased).await.expect("connect");
    // Packages live with the adapter, not in the cluster.
    a.upload_package(PackageUpload::new(chart.to_vec()))
        .await
        .expect("upload web");
    let create = |ns: &str| {
        CreateDeployment::new(
            DeploymentId::new(ns, "web").unwrap(),
            "web@0.1.0".parse().unwrap(),
        )
    };
    let none = DeploymentId::new(NONE, "web").unwrap();

    // No rights in the namespace: the adapter's own reads are refused (a 403 through
    // kube). Without a cluster-wide watch of Secrets the release index is unusable, so
    // every read goes to the namespace.
    denied("get", &["secrets", NONE], a.get_deployment(&none)).await;
    denied(
        "history",
        &["secrets", NONE],
        a.deployment_history(&none, HistoryOptions::all()),
    )
    .await;
    denied(
        "list in the namespace",
        &["list secrets", NONE],
        a.list_deployments(&DeploymentFilter::in_namespace(NONE)),
    )
    .await;
    denied(
        "list everywhere",
        &["list secrets", "cluster scope"],
        a.list_deployments(&DeploymentFilter::all()),
    )
    .await;
    // a create first checks the namespace exists, which it may not read
    denied(
        "create where nothing is allowed",
        &["get namespaces", NONE],
        a.create_deployment(create(NONE)),
    )
    .await;

    // Read-only rights: the reads work ...
    let ro = DeploymentId::new(READ_ONLY, "web").unwrap();
    match a.get_deployment(&ro).await {
        Err(Error::NotFound { .. }) => {}
        other => panic!("get with read rights: {other:?}"),
    }
    assert!(a
        .list_deployments(&DeploymentFilter::in_namespace(READ_ONLY))
        .await
        .expect("list with read rights")
        .items
        .is_empty());
    // ... and the create passes them, and is refused taking the release's Lease ...
    denied(
        "create with read-only rights, taking the Lease",
        &["create leases.coordination.k8s.io", READ_ONLY],
        a.create_deployment(create(READ_ONLY)),
    )
    .await;
    // ... or, without Lease locking, runs helm, and is refused there (helm's stderr).
    let e = denied(
        "create with read-only rights",
        &[READ_ONLY],
        unleased.create_deployment(create(READ_ONLY)),
    )
    .await;
    assert!(
        e.to_string().contains("INSTALLATION FAILED"),
        "helm {major:?} refused it: {e}"
    );
    // Nothing was written.
    let records: Api<Secret> = Api::namespaced(admin.clone(), READ_ONLY);
    let left = records
        .list(&ListParams::default().labels("owner=helm"))
        .await
        .unwrap();
    assert!(left.items.is_empty(), "helm {major:?} left release records");
    drop(a);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_is_permission_denied_on_helm_4_and_3() {
    let env = common::Env::start(HelmMajor::V4).await;
    let chart = env.package("web");
    let admin = env.cluster.client();
    provision(&admin).await;
    let token = token(&admin).await;
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = restricted_kubeconfig(env.cluster.kubeconfig_path(), &token, dir.path());
    let t = tokio::task::spawn_blocking(tools)
        .await
        .expect("join")
        .expect("tools");
    for major in [HelmMajor::V4, HelmMajor::V3] {
        refusals(major, t.helm(major), &kubeconfig, &chart, &admin).await;
    }
    env.stop().await;
}
