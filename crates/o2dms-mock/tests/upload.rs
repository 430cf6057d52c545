//! `upload_package`: archives are validated as untrusted input, ids round-trip into create.

use o2dms_core::{
    CreateDeployment, DeploymentId, DmsAdapter, Error, ErrorKind, PackageSource, PackageUpload,
    Resource,
};
use o2dms_mock::MockAdapter;

/// A chart `.tgz` with `files` (path, content) under `top/`.
fn tgz(files: &[(&str, &str)]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    for (path, content) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        tar.append_data(&mut header, path, content.as_bytes())
            .unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap()
}

fn chart(version: &str, values: &str) -> Vec<u8> {
    let chart_yaml = format!(
        "apiVersion: v2\nname: web\nversion: {version}\nappVersion: \"1.25\"\ndescription: A web server\n"
    );
    tgz(&[
        ("web/Chart.yaml", &chart_yaml),
        ("web/values.yaml", values),
        ("web/templates/deployment.yaml", "kind: Deployment\n"),
    ])
}

#[tokio::test]
async fn upload_stores_a_valid_chart_whose_id_create_accepts() {
    let m = MockAdapter::new();
    let bytes = chart("1.2.3", "replicaCount: 3\nimage:\n  tag: \"1.25\"\n");
    let p = m
        .upload_package(PackageUpload::new(bytes.clone()))
        .await
        .unwrap();
    assert_eq!(p.id.as_str(), "web@1.2.3");
    assert_eq!((p.name.as_str(), p.version.as_str()), ("web", "1.2.3"));
    assert_eq!(p.app_version.as_deref(), Some("1.25"));
    assert_eq!(p.description, "A web server");
    assert_eq!(p.source, PackageSource::Uploaded);
    assert!(p.digest.starts_with("sha256:") && p.digest.len() == 71);
    assert_eq!(m.get_package(&p.id).await.unwrap(), p);

    // Same bytes again: the stored package, unchanged.
    assert_eq!(
        m.upload_package(PackageUpload::new(bytes)).await.unwrap(),
        p
    );
    // Other bytes under the same id.
    let other = chart("1.2.3", "replicaCount: 4\n");
    assert_eq!(
        m.upload_package(PackageUpload::new(other))
            .await
            .unwrap_err(),
        Error::already_exists(Resource::Package, "web@1.2.3")
    );

    // The chart's values.yaml are the defaults the simulated workload uses.
    let id = DeploymentId::new("ns", "web").unwrap();
    m.create_deployment(CreateDeployment::new(id.clone(), p.id.clone()))
        .await
        .unwrap();
    assert_eq!(m.deployment_status(&id).await.unwrap().replicas.desired, 3);
}

#[tokio::test]
async fn expectations_and_hostile_archives_are_invalid_arguments() {
    let m = MockAdapter::new();
    let field = |e: Error| match e {
        Error::InvalidArgument { field, .. } => field,
        other => panic!("expected InvalidArgument, got {other:?}"),
    };
    let up = PackageUpload::new(chart("1.0.0", "")).expected_name("api");
    assert_eq!(
        field(m.upload_package(up).await.unwrap_err()),
        "expected_name"
    );
    let up = PackageUpload::new(chart("1.0.0", ""))
        .expected_name("web")
        .expected_version("2.0.0");
    assert_eq!(
        field(m.upload_package(up).await.unwrap_err()),
        "expected_version"
    );
    assert_eq!(
        field(
            m.upload_package(PackageUpload::new(b"not an archive".to_vec()))
                .await
                .unwrap_err()
        ),
        "archive"
    );
    let no_chart_yaml = tgz(&[("web/values.yaml", "a: 1\n")]);
    assert_eq!(
        m.upload_package(PackageUpload::new(no_chart_yaml))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidArgument
    );
    let bad_values = tgz(&[
        (
            "web/Chart.yaml",
            "apiVersion: v2\nname: web\nversion: 1.0.0\n",
        ),
        ("web/values.yaml", "- a list\n"),
    ]);
    assert_eq!(
        m.upload_package(PackageUpload::new(bad_values))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidArgument
    );
    assert!(m
        .list_packages(&Default::default())
        .await
        .unwrap()
        .items
        .is_empty());

    let up = PackageUpload::new(chart("1.0.0", ""))
        .expected_name("web")
        .expected_version("1.0.0");
    assert_eq!(m.upload_package(up).await.unwrap().id.as_str(), "web@1.0.0");
}
