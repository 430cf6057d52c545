//! The adapter over the other package stores, on the same cluster: an OCI registry
//! (Debian's `docker-registry`) and a read-only HTTP chart repository
//! (`python3 -m http.server`), both on 127.0.0.1 and stopped by pid when this returns or
//! panics. Deployments report the prefixed id they were created from, through update,
//! scale and rollback; deleting a prefixed package in use is Conflict.

use std::sync::Arc;

use o2dms_cluster::servers::{Registry, StaticServer};
use o2dms_core::{
    CreateDeployment, DeletePackageOptions, DeploymentFilter, DmsAdapter, Error, HistoryOptions,
    PackageUpload, RollbackRequest, ScaleRequest, UpdateDeployment,
};
use o2dms_helm::HelmAdapter;
use o2dms_store::{
    HttpRepoOptions, HttpRepoStore, LocalDirStore, MultiStore, OciOptions, OciStore, PackageStore,
};

use super::{assert_kind, id, pkg, vals, Env};

async fn adapter_with(env: &Env, store: Arc<dyn PackageStore>) -> HelmAdapter {
    let mut config = env.adapter.config().clone();
    config.work_dir = None;
    config.package_dir = None;
    HelmAdapter::connect_with_store(config, store)
        .await
        .expect("connect with a store")
}

fn conflict(e: &Error) -> bool {
    matches!(e, Error::Conflict { .. })
}

/// Install from an OCI-stored id, keep reporting it; an unprefixed local package in
/// between; rollback back to the OCI one; delete in use is Conflict.
pub async fn oci(env: &Env) {
    let registry = tokio::task::spawn_blocking(Registry::start)
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{e}"));
    let oci = OciStore::new(
        &format!("http://{}", registry.addr()),
        "charts",
        OciOptions::default(),
    )
    .unwrap();
    let local_dir = tempfile::tempdir().unwrap();
    let local = LocalDirStore::open(local_dir.path()).unwrap();
    let store = MultiStore::new(vec![Arc::new(oci), Arc::new(local.clone())]).unwrap();
    let a = adapter_with(env, Arc::new(store)).await;
    assert!(a.capabilities().package_upload);

    // Uploads go to the registry; web 2.0.0 sits in the local store (unprefixed id).
    let web1 = a
        .upload_package(PackageUpload::new(env.package("web")))
        .await
        .expect("upload to the registry");
    assert_eq!(web1.id.as_str(), "oci:web@0.1.0");
    let web2 = local
        .put(PackageUpload::new(env.package("web-v2")))
        .await
        .unwrap();
    assert_eq!(web2.id.as_str(), "web@2.0.0");

    let d = id("o2-store-oci", "web");
    let created = a
        .create_deployment(
            CreateDeployment::new(d.clone(), web1.id.clone())
                .values(vals(serde_json::json!({"replicaCount": 1}))),
        )
        .await
        .expect("install from oci://");
    assert_eq!(created.package, web1.id);
    assert_eq!(a.get_deployment(&d).await.unwrap().package, web1.id);
    let listed = a
        .list_deployments(&DeploymentFilter::in_namespace("o2-store-oci"))
        .await
        .unwrap();
    assert_eq!(listed.items[0].package, web1.id);
    // scale pulls the current chart from the registry again
    let scaled = a.scale_deployment(&d, ScaleRequest::to(2)).await.unwrap();
    assert_eq!((scaled.revision, &scaled.package), (2, &web1.id));
    assert_eq!(env.live_replicas("o2-store-oci", "web-web").await, Some(2));

    assert_kind(
        a.delete_package(&web1.id, DeletePackageOptions::default())
            .await,
        "delete of an OCI package in use",
        conflict,
    );
    a.get_package(&web1.id).await.expect("still there");

    // to the unprefixed local package: the prefix label goes away
    let updated = a
        .update_deployment(&d, UpdateDeployment::new().package(web2.id.clone()))
        .await
        .expect("update to the local package");
    assert_eq!((updated.revision, &updated.package), (3, &web2.id));
    assert!(updated.labels.is_empty(), "{:?}", updated.labels);
    // rollback to 2: the OCI id again, as history says
    let back = a
        .rollback_deployment(&d, RollbackRequest::to_revision(2))
        .await
        .expect("rollback to the OCI revision");
    assert_eq!((back.revision, &back.package), (4, &web1.id));
    let history = a
        .deployment_history(&d, HistoryOptions::default())
        .await
        .unwrap();
    let packages: Vec<&str> = history.iter().map(|r| r.package.as_str()).collect();
    assert_eq!(
        packages,
        [
            "oci:web@0.1.0",
            "oci:web@0.1.0",
            "web@2.0.0",
            "oci:web@0.1.0"
        ]
    );
    // the local package is no longer in use: it can go, the OCI one cannot
    a.delete_package(&web2.id, DeletePackageOptions::default())
        .await
        .expect("delete the unused local package");
    assert_kind(
        a.delete_package(&web1.id, DeletePackageOptions::default())
            .await,
        "delete of an OCI package in use after rollback",
        conflict,
    );

    a.delete_deployment(&d).await.unwrap();
    a.delete_package(&web1.id, DeletePackageOptions::default())
        .await
        .expect("delete once unused");
    assert_kind(a.get_package(&web1.id).await, "get after delete", |e| {
        matches!(e, Error::NotFound { .. })
    });
    drop(a);
    drop(registry);
}

/// Install from a read-only HTTP repository id; upload is Unsupported; delete in use is
/// Conflict (before the store could say it is read-only).
pub async fn http_repo(env: &Env) {
    let served = tempfile::tempdir().unwrap();
    let index = LocalDirStore::open(served.path()).unwrap();
    index
        .put(PackageUpload::new(env.package("web")))
        .await
        .unwrap();
    let path = served.path().to_path_buf();
    let server = tokio::task::spawn_blocking(move || StaticServer::start(&path))
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{e}"));
    let repo = HttpRepoStore::new(&server.url(), HttpRepoOptions::default()).unwrap();
    let a = adapter_with(env, Arc::new(repo)).await;
    assert!(!a.capabilities().package_upload);
    assert_kind(
        a.upload_package(PackageUpload::new(env.package("web-v2")))
            .await,
        "upload to a read-only repository",
        |e| matches!(e, Error::Unsupported { .. }),
    );

    let web = pkg("repo:web@0.1.0");
    assert_eq!(a.get_package(&web).await.unwrap().name, "web");
    let d = id("o2-store-repo", "web");
    let created = a
        .create_deployment(
            CreateDeployment::new(d.clone(), web.clone())
                .values(vals(serde_json::json!({"replicaCount": 1}))),
        )
        .await
        .expect("install from the repository");
    assert_eq!(created.package, web);
    let scaled = a.scale_deployment(&d, ScaleRequest::to(2)).await.unwrap();
    assert_eq!(scaled.package, web);
    assert_kind(
        a.delete_package(&web, DeletePackageOptions::default())
            .await,
        "delete of a repository package in use",
        conflict,
    );
    a.delete_deployment(&d).await.unwrap();
    assert_kind(
        a.delete_package(&web, DeletePackageOptions::default())
            .await,
        "delete from a read-only repository",
        |e| matches!(e, Error::Unsupported { .. }),
    );
    drop(a);
    drop(server);
}
