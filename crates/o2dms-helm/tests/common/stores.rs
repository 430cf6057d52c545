//! The adapter over the other package stores, on the same cluster: a private OCI
//! registry (Debian's `docker-registry` with basic auth and TLS from a private CA, in the
//! adapter's `registry` settings) and a read-only HTTP chart repository
//! (`python3 -m http.server`), both on 127.0.0.1 and stopped by pid when this returns or
//! panics. Deployments report the prefixed id they were created from, through update,
//! scale and rollback; deleting a prefixed package in use is Conflict.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::sync::Arc;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use o2dms_cluster::servers::{Registry, RegistryOptions, StaticServer};
use o2dms_core::{
    CreateDeployment, DeletePackageOptions, DeploymentFilter, DmsAdapter, Error, HistoryOptions,
    PackageFilter, PackageUpload, RollbackRequest, ScaleRequest, UpdateDeployment,
};
use o2dms_helm::{HelmAdapter, RegistryConfig};
use o2dms_store::{
    Credentials, HttpRepoOptions, HttpRepoStore, LocalDirStore, OciOptions, OciStore, PackageStore,
    TransportOptions,
};

use super::{assert_kind, fixture, id, pkg, vals, Env};

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

/// A chart `web` 0.1.0 that is not the fixture: the fixture plus a ConfigMap
/// `<release>-smuggled`, packed by helm into `dir`.
fn smuggled_web(env: &Env, dir: &Path) -> Vec<u8> {
    let chart = dir.join("web");
    let src = fixture("web");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    for f in [
        "Chart.yaml",
        "values.yaml",
        "templates/deployment.yaml",
        "templates/service.yaml",
    ] {
        std::fs::copy(src.join(f), chart.join(f)).unwrap();
    }
    std::fs::write(
        chart.join("templates/smuggled.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-smuggled\ndata:\n  pushed: after-upload\n",
    )
    .unwrap();
    let out = env.cli_ok(&[
        "package",
        chart.to_str().unwrap(),
        "--destination",
        dir.to_str().unwrap(),
    ]);
    let file = out.trim().rsplit(": ").next().unwrap().trim().to_owned();
    std::fs::read(&file).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// Every file under `dir` whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else if std::fs::read(&path)
                .is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle))
            {
                found.push(path);
            }
        }
    }
    found
}

/// The adapter with a private registry in its settings (`registry`: basic auth from a
/// password file, TLS from a private CA, uploads to the registry): install from an
/// OCI-stored id, which helm gets as the validated archive (no registry login, no
/// credentials anywhere in helm's homes), keep reporting it; a tag moved behind the
/// adapter's back is Conflict, never installed; an unprefixed local package in between;
/// rollback back to the OCI one; delete in use is Conflict.
pub async fn oci(env: &Env) {
    const USER: &str = "o2dms";
    const PASSWORD: &str = "Regi5try-Pa55word";
    let registry = tokio::task::spawn_blocking(|| {
        Registry::start_with(&RegistryOptions::new().basic_auth(USER, PASSWORD).tls())
    })
    .await
    .unwrap()
    .unwrap_or_else(|e| panic!("{e}"));
    let secrets = tempfile::tempdir().unwrap();
    let password_file = secrets.path().join("password");
    std::fs::write(&password_file, format!("{PASSWORD}\n")).unwrap();
    std::fs::set_permissions(&password_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let ca_file = secrets.path().join("ca.pem");
    std::fs::write(&ca_file, registry.ca_pem().unwrap()).unwrap();

    let mut settings = RegistryConfig::new(registry.addr());
    settings.namespace = "charts".into();
    settings.username = Some(USER.into());
    settings.password_file = Some(password_file.clone());
    settings.ca_files = vec![ca_file.clone()];
    settings.uploads = true;
    let work = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut config = env.adapter.config().clone();
    config.work_dir = Some(work.path().to_path_buf());
    config.data_dir = Some(data.path().to_path_buf());
    config.package_dir = None;
    config.chart_repository = None;
    config.registry = Some(settings.clone());
    let a = HelmAdapter::connect(config.clone())
        .await
        .expect("connect with a private registry");
    assert!(a.capabilities().package_upload);

    // Without the CA, or without credentials, the registry cannot be used.
    let mut no_ca = config.clone();
    no_ca.registry.as_mut().unwrap().ca_files.clear();
    no_ca.work_dir = None;
    let b = HelmAdapter::connect(no_ca).await.unwrap();
    assert_kind(
        b.upload_package(PackageUpload::new(env.package("web")))
            .await,
        "upload without the registry's CA",
        |e| matches!(e, Error::Unavailable { message } if message.contains("certificate")),
    );
    drop(b);
    let mut anonymous = config.clone();
    let r = anonymous.registry.as_mut().unwrap();
    (r.username, r.password_file) = (None, None);
    anonymous.work_dir = None;
    let b = HelmAdapter::connect(anonymous).await.unwrap();
    assert_kind(
        b.upload_package(PackageUpload::new(env.package("web")))
            .await,
        "anonymous upload",
        |e| matches!(e, Error::PermissionDenied { .. }),
    );
    drop(b);

    // Uploads go to the registry; web 2.0.0 sits in the local store (unprefixed id).
    // (Helm 3 packs with timestamps: keep the bytes to push the same chart again.)
    let web_tgz = env.package("web");
    let web1 = a
        .upload_package(PackageUpload::new(web_tgz.clone()))
        .await
        .expect("upload to the registry");
    assert_eq!(web1.id.as_str(), "oci:web@0.1.0");
    let listed = a.list_packages(&PackageFilter::named("web")).await.unwrap();
    assert!(listed.items.iter().any(|p| p.id == web1.id), "{listed:?}");
    assert_eq!(a.get_package(&web1.id).await.unwrap().digest, web1.digest);
    let local = LocalDirStore::open(data.path().join("packages")).unwrap();
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
        .expect("install from the registry");
    assert_eq!(created.package, web1.id);
    assert_eq!(a.get_deployment(&d).await.unwrap().package, web1.id);
    let listed = a
        .list_deployments(&DeploymentFilter::in_namespace("o2-store-oci"))
        .await
        .unwrap();
    assert_eq!(listed.items[0].package, web1.id);
    // helm got a file: it never logged in to the registry, and the password is in no
    // file the adapter or helm wrote (only in the password file itself).
    assert!(!work.path().join("helm/config/registry").exists());
    for dir in [work.path(), data.path()] {
        let leaked = files_containing(dir, PASSWORD.as_bytes());
        assert!(leaked.is_empty(), "the password is in {leaked:?}");
    }
    // scale uses the chart validated and cached by digest
    let scaled = a.scale_deployment(&d, ScaleRequest::to(2)).await.unwrap();
    assert_eq!((scaled.revision, &scaled.package), (2, &web1.id));
    assert_eq!(env.live_replicas("o2-store-oci", "web-web").await, Some(2));

    // Someone with push rights moves the tag web:0.1.0 to another chart, behind the
    // adapter's back. The adapter pinned the chart it validated at upload: a scale
    // (which needs the current chart) and a new install are Conflict, and the other
    // chart's objects never reach the cluster.
    let outside_cache = tempfile::tempdir().unwrap();
    let pusher = OciStore::new(
        &registry.addr(),
        "charts",
        OciOptions {
            transport: TransportOptions {
                credentials: Credentials::basic(USER, PASSWORD),
                extra_roots_pem: vec![registry.ca_pem().unwrap().as_bytes().to_vec()],
                ..Default::default()
            },
            cache_dir: Some(outside_cache.path().to_path_buf()),
            ..Default::default()
        },
    )
    .unwrap();
    let smuggle_dir = tempfile::tempdir().unwrap();
    let smuggled = smuggled_web(env, smuggle_dir.path());
    pusher.delete(&web1.id).await.unwrap();
    let moved = pusher.put(PackageUpload::new(smuggled)).await.unwrap();
    assert_eq!(moved.id, web1.id);
    assert_ne!(moved.digest, web1.digest);
    assert_kind(
        a.scale_deployment(&d, ScaleRequest::to(3)).await,
        "scale after the tag moved",
        |e| matches!(e, Error::Conflict { reason, .. } if reason.contains(&web1.digest)),
    );
    assert_kind(
        a.create_deployment(CreateDeployment::new(
            id("o2-store-oci", "web-again"),
            web1.id.clone(),
        ))
        .await,
        "install after the tag moved",
        |e| matches!(e, Error::Conflict { .. }),
    );
    let cms: Api<ConfigMap> = Api::namespaced(env.cluster.client(), "o2-store-oci");
    assert!(cms.get_opt("web-smuggled").await.unwrap().is_none());
    assert!(cms.get_opt("web-again-smuggled").await.unwrap().is_none());
    assert_eq!(a.get_deployment(&d).await.unwrap().revision, 2);
    // The tag back on the validated chart (a new manifest, the same chart layer): fine.
    pusher.delete(&web1.id).await.unwrap();
    let back = pusher.put(PackageUpload::new(web_tgz)).await.unwrap();
    assert_eq!(back.digest, web1.digest);
    let scaled = a.scale_deployment(&d, ScaleRequest::to(3)).await.unwrap();
    assert_eq!((scaled.revision, &scaled.package), (3, &web1.id));
    assert_eq!(env.live_replicas("o2-store-oci", "web-web").await, Some(3));
    drop(pusher);

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
    assert_eq!((updated.revision, &updated.package), (4, &web2.id));
    assert!(updated.labels.is_empty(), "{:?}", updated.labels);
    // rollback to 2: the OCI id again, as history says
    let back = a
        .rollback_deployment(&d, RollbackRequest::to_revision(2))
        .await
        .expect("rollback to the OCI revision");
    assert_eq!((back.revision, &back.package), (5, &web1.id));
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
