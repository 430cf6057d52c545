//! The adapter's release index on a real local cluster: reads of one deployment are never
//! behind, even right after another writer (the helm CLI) changed it; lists show the
//! adapter's own writes at once and others' within the watch delay.

mod common;

use std::time::Duration;

use o2dms_cluster::HelmMajor;
use o2dms_core::{
    CreateDeployment, DeploymentFilter, DeploymentId, DeploymentStatus, DmsAdapter, ErrorKind,
    HistoryOptions, PackageUpload,
};

const NS: &str = "o2-index";

async fn listed(env: &common::Env) -> Vec<(String, u32)> {
    env.adapter
        .list_deployments(&DeploymentFilter::in_namespace(NS))
        .await
        .expect("list")
        .items
        .into_iter()
        .map(|d| (d.id.name, d.revision))
        .collect()
}

/// Lists until `want` holds, for at most 10 s; the last list.
async fn list_until(
    env: &common::Env,
    want: impl Fn(&[(String, u32)]) -> bool,
) -> Vec<(String, u32)> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let now = listed(env).await;
        if want(&now) || tokio::time::Instant::now() >= deadline {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_stay_current_while_others_write() {
    let env = common::Env::start(HelmMajor::V4).await;
    let a = &env.adapter;
    let web = common::fixture("web");
    let web = web.to_str().unwrap();
    assert_eq!(
        listed(&env).await,
        [],
        "the index starts empty for this namespace"
    );

    // another writer installs and upgrades: get and history see it at once
    let cli = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["-n", NS]);
        env.cli_ok(&all);
    };
    cli(&["install", "ext", web, "--create-namespace"]);
    let ext = DeploymentId::new(NS, "ext").unwrap();
    let d = a
        .get_deployment(&ext)
        .await
        .expect("get right after helm install");
    assert_eq!(d.revision, 1);
    cli(&["upgrade", "ext", web, "--set", "replicaCount=1"]);
    let d = a
        .get_deployment(&ext)
        .await
        .expect("get right after helm upgrade");
    assert_eq!(d.revision, 2, "get is never behind another writer");
    let h = a
        .deployment_history(&ext, HistoryOptions::default())
        .await
        .expect("history right after helm upgrade");
    assert_eq!(
        h.iter().map(|r| (r.revision, r.status)).collect::<Vec<_>>(),
        [
            (1, DeploymentStatus::Superseded),
            (2, DeploymentStatus::Deployed)
        ]
    );
    let s = a.deployment_status(&ext).await.expect("status");
    assert_eq!(s.status, DeploymentStatus::Deployed);
    // the list catches up within the watch delay
    let now = list_until(&env, |l| l == [("ext".to_owned(), 2)]).await;
    assert_eq!(now, [("ext".to_owned(), 2)]);

    // the adapter's own writes show in a list immediately
    let pkg = a
        .upload_package(PackageUpload::new(env.package("web")))
        .await
        .expect("upload")
        .id;
    let own = DeploymentId::new(NS, "own").unwrap();
    a.create_deployment(CreateDeployment::new(own.clone(), pkg))
        .await
        .expect("create");
    assert_eq!(
        listed(&env).await,
        [("ext".to_owned(), 2), ("own".to_owned(), 1)],
        "a list right after create shows it"
    );
    a.delete_deployment(&own).await.expect("delete");
    assert_eq!(
        listed(&env).await,
        [("ext".to_owned(), 2)],
        "a list right after delete no longer shows it"
    );

    // another writer removes it: get says NotFound at once, the list follows
    cli(&["uninstall", "ext"]);
    let e = a.get_deployment(&ext).await.expect_err("gone");
    assert_eq!(e.kind(), ErrorKind::NotFound);
    let now = list_until(&env, <[_]>::is_empty).await;
    assert_eq!(now, []);

    env.stop().await;
}
