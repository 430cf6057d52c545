//! The package store outlives the adapter: packages live in the data directory
//! (`dataDir`), not the temporary work directory, so an adapter connected again with the
//! same data directory lists what was uploaded before and installs from it.

use std::os::unix::fs::PermissionsExt;

use o2dms_core::{
    CreateDeployment, DeletePackageOptions, DeploymentStatus, DmsAdapter, PackageFilter,
    PackageUpload,
};
use o2dms_helm::HelmAdapter;

use super::{id, pkg, Env};

pub async fn packages_survive_a_restart(env: &Env) {
    let data = tempfile::tempdir().expect("data dir");
    let dir = data.path().join("o2dms");
    let mut config = env.adapter.config().clone();
    config.work_dir = None;
    config.package_dir = None;
    config.data_dir = Some(dir.clone());

    let first = HelmAdapter::connect(config.clone())
        .await
        .expect("connect the first adapter");
    let p = first
        .upload_package(PackageUpload::new(env.package("web-v2")))
        .await
        .expect("upload");
    assert_eq!(p.id.as_str(), "web@2.0.0");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700, "the data directory is private");
    assert_eq!(mode(&dir.join("packages")), 0o700);
    assert!(dir.join("packages/web-2.0.0.tgz").is_file());
    drop(first);

    let second = HelmAdapter::connect(config)
        .await
        .expect("connect again with the same data dir");
    let listed = second
        .list_packages(&PackageFilter::default())
        .await
        .unwrap();
    let ids: Vec<&str> = listed.items.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["web@2.0.0"], "the upload outlived the adapter");
    let d = id("o2-persist", "web");
    let created = second
        .create_deployment(CreateDeployment::new(d.clone(), pkg("web@2.0.0")))
        .await
        .expect("install from the kept package");
    assert_eq!(created.status, DeploymentStatus::Deployed);
    assert_eq!(created.package.as_str(), "web@2.0.0");
    second.delete_deployment(&d).await.expect("delete");
    second
        .delete_package(&p.id, DeletePackageOptions::default())
        .await
        .expect("delete the package");
}
