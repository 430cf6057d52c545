//! The Helm adapter on a real local cluster (etcd, kube-apiserver, controller-manager,
//! scheduler and the kubelet simulator from `o2dms-cluster`), once per Helm major version.
//! Every step is a real helm run or a real API read; nothing is mocked.

#![allow(dead_code)]

pub mod apply_options;
pub mod forks;
pub mod least_privilege;
pub mod legacy_charts;
pub mod namespaces;
pub mod persistence;
pub mod races;
pub mod scale_check;
pub mod secrets;
pub mod status_reasons;
pub mod stores;
pub mod values_size;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment as K8sDeployment;
use kube::Api;
use o2dms_cluster::{tools, HelmMajor, LocalCluster, LocalClusterOptions};
use o2dms_core::{
    CreateDeployment, DeletePackageOptions, DeploymentFilter, DeploymentId, DeploymentStatus,
    DmsAdapter, Error, HealthStatus, HistoryOptions, LogOptions, PackageFilter, PackageId,
    PackageUpload, PageRequest, Resource, RollbackRequest, ScaleRequest, UpdateDeployment, Value,
    Values, ValuesMode,
};
use o2dms_helm::{HelmAdapter, HelmConfig, Recovery};

pub struct Env {
    pub cluster: LocalCluster,
    pub adapter: HelmAdapter,
    pub helm: PathBuf,
    pub helm_home: tempfile::TempDir,
    pub charts: tempfile::TempDir,
    _work: tempfile::TempDir,
    /// The adapter's data directory (its package store): a temporary one, never the
    /// user's.
    pub data: tempfile::TempDir,
}

/// The chart directory `name`: one of the conformance suite's charts
/// (`conformance/fixtures/charts`, embedded in o2dms-conformance) or one used only by
/// these tests (`fixtures/charts`).
pub fn fixture(name: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let suite = root.join("conformance/fixtures/charts").join(name);
    if suite.is_dir() {
        suite
    } else {
        root.join("fixtures/charts").join(name)
    }
}

impl Env {
    pub async fn start(major: HelmMajor) -> Env {
        let t = tokio::task::spawn_blocking(tools)
            .await
            .expect("join")
            .expect("provision tools (run `cargo xtask cluster provision` first)");
        let helm = t.helm(major).to_path_buf();
        let cluster = LocalCluster::start(LocalClusterOptions {
            binaries: Some(t.control_plane.clone()),
            ..LocalClusterOptions::default()
        })
        .await
        .expect("start a local cluster");
        let work = tempfile::tempdir().expect("work dir");
        let data = tempfile::tempdir().expect("data dir");
        let config = HelmConfig::builder()
            .kubeconfig(cluster.kubeconfig_path())
            .helm_binary(&helm)
            .timeout(Duration::from_secs(90))
            .max_history(20)
            .create_namespace(true)
            .work_dir(work.path())
            .data_dir(data.path())
            .build()
            .expect("config");
        let adapter = HelmAdapter::connect(config).await.expect("connect");
        Env {
            cluster,
            adapter,
            helm,
            helm_home: tempfile::tempdir().expect("helm home"),
            charts: tempfile::tempdir().expect("charts dir"),
            _work: work,
            data,
        }
    }

    /// Another adapter on the same cluster and package store (a temporary work
    /// directory of its own) that rebuilds a chart no store has from its release record
    /// (`rebuildFromRelease: true`); the default adapter refuses to.
    pub async fn rebuilding_adapter(&self) -> HelmAdapter {
        let mut config = self.adapter.config().clone();
        config.work_dir = None;
        config.rebuild_from_release = true;
        HelmAdapter::connect(config)
            .await
            .expect("connect an adapter that rebuilds")
    }

    /// Runs the helm CLI as a user would (its own homes, the cluster's kubeconfig).
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        Command::new(&self.helm)
            .args(args)
            .env("KUBECONFIG", self.cluster.kubeconfig_path())
            .env("HELM_CACHE_HOME", self.helm_home.path().join("cache"))
            .env("HELM_CONFIG_HOME", self.helm_home.path().join("config"))
            .env("HELM_DATA_HOME", self.helm_home.path().join("data"))
            .output()
            .expect("run helm")
    }

    pub fn cli_ok(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(
            out.status.success(),
            "helm {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `helm package` of a fixture chart; returns the archive bytes.
    pub fn package(&self, fixture_name: &str) -> Vec<u8> {
        let dest = self.charts.path().join(fixture_name);
        std::fs::create_dir_all(&dest).unwrap();
        let out = self.cli_ok(&[
            "package",
            fixture(fixture_name).to_str().unwrap(),
            "--destination",
            dest.to_str().unwrap(),
        ]);
        let file = out.trim().rsplit(": ").next().unwrap().trim().to_owned();
        std::fs::read(&file).unwrap_or_else(|e| panic!("{file}: {e}"))
    }

    pub async fn live_replicas(&self, ns: &str, name: &str) -> Option<i32> {
        let api: Api<K8sDeployment> = Api::namespaced(self.cluster.client(), ns);
        api.get(name).await.ok()?.spec?.replicas
    }

    pub async fn stop(self) {
        let Env {
            cluster, adapter, ..
        } = self;
        drop(adapter);
        cluster.stop().await;
    }
}

fn id(ns: &str, name: &str) -> DeploymentId {
    DeploymentId::new(ns, name).unwrap()
}

fn pkg(s: &str) -> PackageId {
    PackageId::new(s).unwrap()
}

fn vals(json: serde_json::Value) -> Values {
    serde_json::from_value(json).unwrap()
}

fn assert_kind<T: std::fmt::Debug>(r: Result<T, Error>, what: &str, pred: impl Fn(&Error) -> bool) {
    match r {
        Err(e) if pred(&e) => {}
        other => panic!("{what}: unexpected {other:?}"),
    }
}

/// Packages: upload validated archives, list, get; garbage is InvalidArgument.
pub async fn packages(env: &Env) {
    let a = &env.adapter;
    for f in [
        "web",
        "web-v2",
        "custom-key",
        "ignores-scale",
        "never-ready",
    ] {
        let p = a
            .upload_package(PackageUpload::new(env.package(f)))
            .await
            .unwrap_or_else(|e| panic!("upload {f}: {e}"));
        assert!(p.digest.starts_with("sha256:"));
    }
    let web = a.get_package(&pkg("web@0.1.0")).await.unwrap();
    assert_eq!(web.version, "0.1.0");
    let all = a.list_packages(&PackageFilter::default()).await.unwrap();
    let ids: Vec<&str> = all.items.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "custom-key@0.1.0",
            "ignores-scale@0.1.0",
            "never-ready@0.1.0",
            "web@0.1.0",
            "web@2.0.0"
        ]
    );
    assert_kind(
        a.upload_package(PackageUpload::new(b"garbage".to_vec()))
            .await,
        "garbage upload",
        |e| matches!(e, Error::InvalidArgument { .. }),
    );
    assert_kind(
        a.get_package(&pkg("web@9.9.9")).await,
        "missing package",
        |e| {
            matches!(
                e,
                Error::NotFound {
                    resource: Resource::Package,
                    ..
                }
            )
        },
    );
}

/// Create, get, update (merge, replace, package), scale, history, rollback, status,
/// list, logs, delete.
pub async fn lifecycle(env: &Env) {
    let a = &env.adapter;
    let web1 = id("o2-life", "web1");
    let created = a
        .create_deployment(
            CreateDeployment::new(web1.clone(), pkg("web@0.1.0"))
                .values(vals(
                    serde_json::json!({"replicaCount": 1, "extra": {"keep": "yes"}}),
                ))
                .label("tier", "edge"),
        )
        .await
        .expect("create");
    assert_eq!(created.status, DeploymentStatus::Deployed);
    assert_eq!(created.revision, 1);
    assert_eq!(created.package.as_str(), "web@0.1.0");
    assert_eq!(created.labels.get("tier").map(String::as_str), Some("edge"));
    assert_eq!(created.extensions["helm.releaseName"], Value::from("web1"));
    assert_eq!(created.extensions["helm.chart"], Value::from("web-0.1.0"));
    assert_eq!(created.extensions["helm.status"], Value::from("deployed"));
    assert_eq!(created.extensions["helm.revision"], Value::Int(1));
    assert_eq!(a.get_deployment(&web1).await.unwrap(), created);

    assert_kind(
        a.create_deployment(CreateDeployment::new(web1.clone(), pkg("web@0.1.0")))
            .await,
        "create twice",
        |e| matches!(e, Error::AlreadyExists { .. }),
    );
    assert_eq!(
        a.get_deployment(&web1).await.unwrap().revision,
        1,
        "nothing changed"
    );
    assert_kind(
        a.create_deployment(CreateDeployment::new(
            id("o2-life", "nope"),
            pkg("web@7.7.7"),
        ))
        .await,
        "unknown package",
        |e| {
            matches!(
                e,
                Error::NotFound {
                    resource: Resource::Package,
                    ..
                }
            )
        },
    );

    let st = a.deployment_status(&web1).await.unwrap();
    assert_eq!(st.replicas.desired, 1);
    assert_eq!(st.progress, 100, "{st:?}");
    assert_eq!(st.workloads.len(), 1);
    assert!(st.workloads[0].ready);

    // merge
    let d = a
        .update_deployment(
            &web1,
            UpdateDeployment::new().values(vals(serde_json::json!({"extra": {"more": 1}}))),
        )
        .await
        .expect("update merge");
    assert_eq!(d.revision, 2);
    assert_eq!(
        d.values,
        vals(serde_json::json!({"replicaCount": 1, "extra": {"keep": "yes", "more": 1}}))
    );
    // package change
    let d = a
        .update_deployment(&web1, UpdateDeployment::new().package(pkg("web@2.0.0")))
        .await
        .expect("update package");
    assert_eq!((d.revision, d.package.as_str()), (3, "web@2.0.0"));
    assert_eq!(d.values.get_path("extra.keep"), Some(&Value::from("yes")));
    assert_eq!(
        d.labels.get("tier").map(String::as_str),
        Some("edge"),
        "labels kept"
    );

    // scale keeps other values and is live
    let d = a
        .scale_deployment(&web1, ScaleRequest::to(3))
        .await
        .expect("scale");
    assert_eq!(d.revision, 4);
    assert_eq!(d.values.get("replicaCount"), Some(&Value::Int(3)));
    assert_eq!(d.values.get_path("extra.more"), Some(&Value::Int(1)));
    // web 2.0.0 names its Deployment after the release
    assert_eq!(env.live_replicas("o2-life", "web1").await, Some(3));
    let st = a.deployment_status(&web1).await.unwrap();
    assert_eq!((st.replicas.desired, st.replicas.ready), (3, 3));

    // replace
    let d = a
        .update_deployment(
            &web1,
            UpdateDeployment::new()
                .values(vals(serde_json::json!({"replicaCount": 2})))
                .mode(ValuesMode::Replace)
                .description("replace values"),
        )
        .await
        .expect("update replace");
    assert_eq!(d.revision, 5);
    assert_eq!(d.values, vals(serde_json::json!({"replicaCount": 2})));
    assert_eq!(d.description, "replace values");

    let h = a
        .deployment_history(&web1, HistoryOptions::default())
        .await
        .unwrap();
    let revs: Vec<(u32, DeploymentStatus)> = h.iter().map(|r| (r.revision, r.status)).collect();
    assert_eq!(
        revs,
        [
            (1, DeploymentStatus::Superseded),
            (2, DeploymentStatus::Superseded),
            (3, DeploymentStatus::Superseded),
            (4, DeploymentStatus::Superseded),
            (5, DeploymentStatus::Deployed)
        ]
    );
    assert_eq!(h[2].package.as_str(), "web@2.0.0");
    let last2 = a
        .deployment_history(&web1, HistoryOptions::last(2))
        .await
        .unwrap();
    assert_eq!(last2.iter().map(|r| r.revision).collect::<Vec<_>>(), [4, 5]);

    // rollback to 1: package and values of revision 1, a new revision
    let d = a
        .rollback_deployment(&web1, RollbackRequest::to_revision(1))
        .await
        .expect("rollback");
    assert_eq!(d.revision, 6);
    assert_eq!(d.package.as_str(), "web@0.1.0");
    assert_eq!(d.values, h[0].values);
    assert_eq!(env.live_replicas("o2-life", "web1-web").await, Some(1));
    // unasked: the previous one (5)
    let d = a
        .rollback_deployment(&web1, RollbackRequest::default())
        .await
        .expect("rollback to previous");
    assert_eq!((d.revision, d.package.as_str()), (7, "web@2.0.0"));
    assert_kind(
        a.rollback_deployment(&web1, RollbackRequest::to_revision(99))
            .await,
        "rollback to a missing revision",
        |e| {
            matches!(
                e,
                Error::NotFound {
                    resource: Resource::Revision,
                    ..
                }
            )
        },
    );

    // concurrent writes through one adapter: one wins, the other is a Conflict
    let upd =
        |n: i64| UpdateDeployment::new().values(vals(serde_json::json!({ "extra": { "n": n } })));
    let (x, y) = tokio::join!(
        a.update_deployment(&web1, upd(1)),
        a.update_deployment(&web1, upd(2))
    );
    let results = [x, y];
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(results
        .iter()
        .any(|r| matches!(r, Err(Error::Conflict { .. }))));

    // logs from the pods the workload selects (served by the kubelet simulator)
    let logs = a
        .deployment_logs(&web1, &LogOptions::new().tail_lines(5))
        .await
        .expect("logs");
    assert!(!logs.lines.is_empty(), "{logs:?}");
    assert!(logs
        .lines
        .iter()
        .all(|l| l.container == "web" && l.pod.starts_with("web1-")));
    let small = a
        .deployment_logs(&web1, &LogOptions::new().limit_bytes(10))
        .await
        .unwrap();
    assert!(small.truncated);
    assert_kind(
        a.deployment_logs(&web1, &LogOptions::new().container("nope"))
            .await,
        "logs of a missing container",
        |e| matches!(e, Error::NotFound { .. }),
    );

    assert_kind(
        a.delete_package(&pkg("web@2.0.0"), DeletePackageOptions::default())
            .await,
        "delete a package in use",
        |e| {
            matches!(
                e,
                Error::Conflict {
                    resource: Resource::Package,
                    ..
                }
            )
        },
    );

    // delete
    a.delete_deployment(&web1).await.expect("delete");
    assert_kind(a.get_deployment(&web1).await, "get after delete", |e| {
        matches!(
            e,
            Error::NotFound {
                resource: Resource::Deployment,
                ..
            }
        )
    });
    assert_eq!(
        env.live_replicas("o2-life", "web1").await,
        None,
        "workload gone"
    );
    assert_kind(a.delete_deployment(&web1).await, "delete twice", |e| {
        matches!(e, Error::NotFound { .. })
    });
    for missing in [
        a.update_deployment(&web1, UpdateDeployment::default())
            .await
            .map(|_| ()),
        a.scale_deployment(&web1, ScaleRequest::to(1))
            .await
            .map(|_| ()),
        a.rollback_deployment(&web1, RollbackRequest::default())
            .await
            .map(|_| ()),
        a.deployment_status(&web1).await.map(|_| ()),
        a.deployment_history(&web1, HistoryOptions::default())
            .await
            .map(|_| ()),
    ] {
        assert_kind(missing, "operation on a deleted deployment", |e| {
            matches!(
                e,
                Error::NotFound {
                    resource: Resource::Deployment,
                    ..
                }
            )
        });
    }
}

/// Scale keys: per deployment, and a chart that ignores the key.
pub async fn scaling(env: &Env) {
    let a = &env.adapter;
    let ck = id("o2-scale", "ck");
    a.create_deployment(
        CreateDeployment::new(ck.clone(), pkg("custom-key@0.1.0")).scale_key("server.replicas"),
    )
    .await
    .expect("create custom-key");
    let d = a
        .scale_deployment(&ck, ScaleRequest::to(2))
        .await
        .expect("scale custom key");
    assert_eq!(d.values.get_path("server.replicas"), Some(&Value::Int(2)));
    assert_eq!(
        d.extensions["helm.scaleKey"],
        Value::from("server.replicas")
    );
    let st = a.deployment_status(&ck).await.unwrap();
    assert_eq!(st.replicas.desired, 2);
    let d = a
        .scale_deployment(&ck, ScaleRequest::to(0))
        .await
        .expect("scale to 0");
    assert_eq!(d.revision, 3);
    assert_eq!(a.deployment_status(&ck).await.unwrap().replicas.desired, 0);

    let ig = id("o2-scale", "ig");
    a.create_deployment(CreateDeployment::new(
        ig.clone(),
        pkg("ignores-scale@0.1.0"),
    ))
    .await
    .expect("create ignores-scale");
    let r = a.scale_deployment(&ig, ScaleRequest::to(3)).await;
    assert_kind(
        r,
        "scale a chart that ignores the key",
        |e| matches!(e, Error::InvalidArgument { field, reason } if field == "key" && reason.contains("replicaCount")),
    );
    assert_eq!(
        a.get_deployment(&ig).await.unwrap().revision,
        1,
        "nothing written"
    );
}

/// Create with a timeout: Timeout, and the deployment stays, Failed, visible in get and list.
pub async fn timeouts(env: &Env) {
    let a = &env.adapter;
    let nr = id("o2-timeout", "nr");
    let started = std::time::Instant::now();
    let r = a
        .create_deployment(
            CreateDeployment::new(nr.clone(), pkg("never-ready@0.1.0"))
                .timeout(Duration::from_secs(3)),
        )
        .await;
    match &r {
        Err(Error::Timeout {
            operation,
            limit,
            state,
        }) => {
            assert_eq!(operation, "create_deployment");
            assert_eq!(*limit, Duration::from_secs(3));
            assert!(state.contains("failed"), "{state}");
        }
        other => panic!("expected Timeout, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(60));
    let d = a.get_deployment(&nr).await.expect("still visible");
    assert_eq!(d.status, DeploymentStatus::Failed);
    let page = a
        .list_deployments(
            &DeploymentFilter::all()
                .namespace("o2-timeout")
                .statuses(vec![DeploymentStatus::Failed]),
        )
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    let st = a.deployment_status(&nr).await.unwrap();
    assert_eq!(st.status, DeploymentStatus::Failed);
    assert!(st.progress < 100);
    a.delete_deployment(&nr)
        .await
        .expect("delete failed deployment");

    // an update that never becomes ready: Timeout, Failed, and a rollback repairs it
    let up = id("o2-timeout", "up");
    a.create_deployment(
        CreateDeployment::new(up.clone(), pkg("web@0.1.0"))
            .values(vals(serde_json::json!({"replicaCount": 1}))),
    )
    .await
    .expect("create");
    let r = a
        .update_deployment(
            &up,
            UpdateDeployment::new()
                .values(vals(
                    serde_json::json!({"image": {"repository": "nothing.invalid/never"}}),
                ))
                .timeout(Duration::from_secs(3)),
        )
        .await;
    assert_kind(
        r,
        "update that never becomes ready",
        |e| matches!(e, Error::Timeout { operation, .. } if operation == "update_deployment"),
    );
    let d = a.get_deployment(&up).await.unwrap();
    assert_eq!((d.revision, d.status), (2, DeploymentStatus::Failed));
    let d = a
        .rollback_deployment(&up, RollbackRequest::default())
        .await
        .expect("rollback a failed update");
    assert_eq!((d.revision, d.status), (3, DeploymentStatus::Deployed));
    assert_eq!(
        d.values.get_path("image.repository"),
        None,
        "revision 1's values"
    );
    a.delete_deployment(&up).await.unwrap();
}

/// Listing: every namespace or one, statuses, labels, package name, pages.
pub async fn listing(env: &Env) {
    let a = &env.adapter;
    for (ns, name, tier) in [
        ("o2-list-b", "b1", "x"),
        ("o2-list-a", "a2", "y"),
        ("o2-list-a", "a1", "x"),
    ] {
        a.create_deployment(
            CreateDeployment::new(id(ns, name), pkg("web@0.1.0"))
                .values(vals(serde_json::json!({"replicaCount": 1})))
                .label("tier", tier),
        )
        .await
        .expect("create for listing");
    }
    let names = |p: &o2dms_core::Page<o2dms_core::Deployment>| -> Vec<String> {
        p.items.iter().map(|d| d.id.to_string()).collect()
    };
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let page = a
            .list_deployments(
                &DeploymentFilter::all()
                    .page(PageRequest::new(Some(1), token.clone()))
                    .labels(BTreeMap::from([("tier".to_string(), "x".to_string())])),
            )
            .await
            .unwrap();
        assert_eq!(page.total, Some(2));
        seen.extend(names(&page));
        token = page.continue_token;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen, ["o2-list-a/a1", "o2-list-b/b1"]);
    let ns_a = a
        .list_deployments(&DeploymentFilter::in_namespace("o2-list-a"))
        .await
        .unwrap();
    assert_eq!(names(&ns_a), ["o2-list-a/a1", "o2-list-a/a2"]);
    assert_eq!(ns_a.total, Some(2));
    let by_pkg = a
        .list_deployments(&DeploymentFilter::all().package_name("web"))
        .await
        .unwrap();
    assert!(names(&by_pkg).contains(&"o2-list-b/b1".to_string()));
    let none = a
        .list_deployments(
            &DeploymentFilter::all()
                .package_name("custom-key")
                .namespace("o2-list-a"),
        )
        .await
        .unwrap();
    assert!(none.items.is_empty());
    assert_kind(
        a.list_deployments(&DeploymentFilter::all().page(PageRequest::next(Some(10), "garbage!")))
            .await,
        "bad continue token",
        |e| matches!(e, Error::InvalidArgument { .. }),
    );
    for (ns, name) in [
        ("o2-list-b", "b1"),
        ("o2-list-a", "a2"),
        ("o2-list-a", "a1"),
    ] {
        a.delete_deployment(&id(ns, name)).await.unwrap();
    }
}

/// A writer killed mid-upgrade leaves the release pending: reported, writes Conflict,
/// recover_pending rolls back.
pub async fn pending(env: &Env) {
    let a = &env.adapter;
    let p = id("o2-pending", "p");
    a.create_deployment(
        CreateDeployment::new(p.clone(), pkg("web@0.1.0"))
            .values(vals(serde_json::json!({"replicaCount": 1}))),
    )
    .await
    .expect("create");
    // A helm CLI upgrade that can never become ready, SIGKILLed while it waits.
    let mut child = Command::new(&env.helm)
        .args([
            "upgrade",
            "p",
            fixture("web").to_str().unwrap(),
            "-n",
            "o2-pending",
            "--set",
            "image.repository=nothing.invalid/never",
            "--wait",
            "--timeout",
            "120s",
        ])
        .env("KUBECONFIG", env.cluster.kubeconfig_path())
        .env("HELM_CACHE_HOME", env.helm_home.path().join("cache"))
        .env("HELM_CONFIG_HOME", env.helm_home.path().join("config"))
        .env("HELM_DATA_HOME", env.helm_home.path().join("data"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn helm");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let d = a.get_deployment(&p).await.unwrap();
        if d.revision == 2 && d.status == DeploymentStatus::Upgrading {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never saw pending-upgrade: {d:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    child.kill().expect("SIGKILL helm");
    child.wait().unwrap();
    let d = a.get_deployment(&p).await.unwrap();
    assert_eq!(d.status, DeploymentStatus::Upgrading);
    assert_eq!(d.extensions["helm.status"], Value::from("pending-upgrade"));
    let listed = a
        .list_deployments(&DeploymentFilter::in_namespace("o2-pending"))
        .await
        .unwrap();
    assert_eq!(listed.items[0].status, DeploymentStatus::Upgrading);
    for w in [
        a.update_deployment(&p, UpdateDeployment::default())
            .await
            .map(|_| ()),
        a.scale_deployment(&p, ScaleRequest::to(2))
            .await
            .map(|_| ()),
        a.rollback_deployment(&p, RollbackRequest::default())
            .await
            .map(|_| ()),
        a.delete_deployment(&p).await,
    ] {
        assert_kind(
            w,
            "write to a pending deployment",
            |e| matches!(e, Error::Conflict { reason, .. } if reason.contains("recover_pending")),
        );
    }
    match a.recover_pending(&p).await.expect("recover") {
        Recovery::RolledBack {
            stuck_revision,
            stuck_status,
            to_revision,
            deployment,
        } => {
            assert_eq!(
                (stuck_revision, stuck_status.as_str(), to_revision),
                (2, "pending-upgrade", 1)
            );
            assert_eq!(deployment.revision, 3);
            assert_eq!(deployment.status, DeploymentStatus::Deployed);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        a.recover_pending(&p).await.unwrap(),
        Recovery::NotPending {
            status: DeploymentStatus::Deployed
        }
    ));
    // History is whole: the stuck revision ended failed, saying it was recovered.
    let h = a
        .deployment_history(&p, HistoryOptions::all())
        .await
        .unwrap();
    let stuck = h.iter().find(|r| r.revision == 2).expect("revision 2 kept");
    assert_eq!(stuck.status, DeploymentStatus::Failed, "{stuck:?}");
    assert!(stuck.description.starts_with("Interrupted"), "{stuck:?}");
    assert!(
        h.iter().all(|r| !r.status.is_in_progress()),
        "no revision left in progress: {h:?}"
    );
    a.scale_deployment(&p, ScaleRequest::to(2))
        .await
        .expect("writable again");
    a.delete_deployment(&p).await.unwrap();
}

/// The CLI and the adapter manage each other's releases.
pub async fn interop(env: &Env) {
    let a = &env.adapter;
    // made by the CLI from a chart directory the adapter has never seen
    env.cli_ok(&[
        "install",
        "cli1",
        fixture("hook").to_str().unwrap(),
        "-n",
        "o2-interop",
        "--create-namespace",
        "--wait",
        "--timeout",
        "90s",
    ]);
    let cli1 = id("o2-interop", "cli1");
    let d = a
        .get_deployment(&cli1)
        .await
        .expect("adapter sees a CLI release");
    assert_eq!((d.revision, d.package.as_str()), (1, "hook@0.1.0"));
    assert_eq!(d.status, DeploymentStatus::Deployed);
    // No store has its chart: by default the adapter does not rebuild it from the release
    // record, and says which package to name and which setting rebuilds it.
    for w in [
        a.scale_deployment(&cli1, ScaleRequest::to(2))
            .await
            .map(|_| ()),
        a.update_deployment(&cli1, UpdateDeployment::new())
            .await
            .map(|_| ()),
    ] {
        match w {
            Err(Error::InvalidArgument { field, reason }) => {
                assert_eq!(field, "package");
                assert!(
                    reason.contains("chart hook 0.1.0") && reason.contains("hook@0.1.0"),
                    "{reason}"
                );
                assert!(reason.contains("rebuildFromRelease: true"), "{reason}");
            }
            other => panic!("expected InvalidArgument naming package, got {other:?}"),
        }
    }
    assert_eq!(
        a.get_deployment(&cli1).await.unwrap().revision,
        1,
        "nothing written"
    );
    // an adapter allowed to rebuild scales it (chart rebuilt from the release record and
    // validated as an upload)
    let r = env.rebuilding_adapter().await;
    let d = r
        .scale_deployment(&cli1, ScaleRequest::to(2))
        .await
        .expect("scale CLI release");
    assert_eq!(d.revision, 2);
    let d = r
        .update_deployment(
            &cli1,
            UpdateDeployment::new().values(vals(serde_json::json!({"note": "from-adapter"}))),
        )
        .await
        .expect("update CLI release");
    assert_eq!(d.values.get("replicaCount"), Some(&Value::Int(2)));
    drop(r);
    // the CLI sees the adapter's revisions and rolls back
    let hist: serde_json::Value =
        serde_json::from_str(&env.cli_ok(&["history", "cli1", "-n", "o2-interop", "-o", "json"]))
            .unwrap();
    assert_eq!(hist.as_array().unwrap().len(), 3);
    env.cli_ok(&["rollback", "cli1", "1", "-n", "o2-interop", "--wait"]);
    let d = a.get_deployment(&cli1).await.unwrap();
    assert_eq!(d.revision, 4);
    assert_eq!(d.description, "Rollback to 1");
    assert_eq!(d.values.get("replicaCount"), None);

    // made by the adapter, operated by the CLI
    let ad = id("o2-interop", "ad1");
    a.create_deployment(
        CreateDeployment::new(ad.clone(), pkg("web@0.1.0"))
            .values(vals(serde_json::json!({"replicaCount": 1}))),
    )
    .await
    .unwrap();
    a.scale_deployment(&ad, ScaleRequest::to(2)).await.unwrap();
    let status: serde_json::Value =
        serde_json::from_str(&env.cli_ok(&["status", "ad1", "-n", "o2-interop", "-o", "json"]))
            .unwrap();
    assert_eq!(status["version"], 2);
    assert_eq!(status["info"]["status"], "deployed");
    assert_eq!(status["config"]["replicaCount"], 2);
    env.cli_ok(&["rollback", "ad1", "1", "-n", "o2-interop", "--wait"]);
    let d = a.get_deployment(&ad).await.unwrap();
    assert_eq!(d.revision, 3);
    assert_eq!(d.values.get("replicaCount"), Some(&Value::Int(1)));
    let listed: serde_json::Value =
        serde_json::from_str(&env.cli_ok(&["list", "-n", "o2-interop", "-o", "json"])).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    // uninstalled by the CLI with its history kept: reported Deleted, and the name can be
    // used again by create
    env.cli_ok(&[
        "uninstall",
        "ad1",
        "-n",
        "o2-interop",
        "--keep-history",
        "--wait",
    ]);
    assert_eq!(
        a.get_deployment(&ad).await.unwrap().status,
        DeploymentStatus::Deleted
    );
    let d = a
        .create_deployment(
            CreateDeployment::new(ad.clone(), pkg("web@0.1.0"))
                .values(vals(serde_json::json!({"replicaCount": 1}))),
        )
        .await
        .expect("create over a kept history");
    assert_eq!(d.status, DeploymentStatus::Deployed);
    a.delete_deployment(&cli1).await.unwrap();
    a.delete_deployment(&ad).await.unwrap();
    let listed: serde_json::Value =
        serde_json::from_str(&env.cli_ok(&["list", "-n", "o2-interop", "-o", "json"])).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 0);
}

pub async fn health_and_info(env: &Env, major: HelmMajor) {
    let info = env.adapter.info();
    let want = match major {
        HelmMajor::V3 => "v3.",
        HelmMajor::V4 => "v4.",
    };
    assert!(
        info.backend_version.as_deref().unwrap().starts_with(want),
        "{info:?}"
    );
    let h = env.adapter.health().await.unwrap();
    assert_eq!(h.status, HealthStatus::Healthy, "{h:?}");
}

/// Everything, in order, on one cluster.
pub async fn run_all(major: HelmMajor) {
    let env = Env::start(major).await;
    health_and_info(&env, major).await;
    packages(&env).await;
    lifecycle(&env).await;
    scaling(&env).await;
    scale_check::proved_against_the_chart(&env).await;
    values_size::large_values(&env).await;
    races::concurrent_updates(&env).await;
    timeouts(&env).await;
    listing(&env).await;
    pending(&env).await;
    interop(&env).await;
    forks::cli_fork_keeps_its_chart(&env).await;
    persistence::packages_survive_a_restart(&env).await;
    legacy_charts::apiversion_v1(&env).await;
    apply_options::apply_method(&env, major).await;
    namespaces::policy(&env).await;
    least_privilege::allow_list_and_shipped_rbac(&env).await;
    status_reasons::status_says_why(&env).await;
    secrets::kept_out_of_errors_events_and_logs(&env).await;
    stores::oci(&env).await;
    stores::http_repo(&env).await;
    env.stop().await;
}
