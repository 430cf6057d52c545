//! Helm's apply options as typed settings: a chart that server-side apply refuses
//! (duplicate list entries) installs on Helm 4 with `applyMethod: client-side`; Helm 3,
//! which applies client-side only, refuses `server-side` when connecting.

use o2dms_cluster::HelmMajor;
use o2dms_core::{
    CreateDeployment, DmsAdapter, Error, ErrorKind, PackageUpload, ScaleRequest, UpdateDeployment,
};
use o2dms_helm::{ApplyMethod, HelmAdapter, HelmConfig};

use super::{id, pkg, vals, Env};

/// An adapter like the test's, with `apply_method`, its own work directory and the test
/// adapter's packages.
async fn adapter_with(
    env: &Env,
    apply_method: ApplyMethod,
    work: &tempfile::TempDir,
) -> Result<HelmAdapter, Error> {
    let mut config: HelmConfig = env.adapter.config().clone();
    config.apply_method = apply_method;
    config.package_dir = Some(config.package_location().unwrap());
    config.work_dir = Some(work.path().to_path_buf());
    HelmAdapter::connect(config).await
}

pub async fn apply_method(env: &Env, major: HelmMajor) {
    let a = &env.adapter;
    a.upload_package(PackageUpload::new(env.package("duplicate-env")))
        .await
        .expect("upload duplicate-env");
    let work = tempfile::tempdir().unwrap();
    match major {
        HelmMajor::V4 => {
            // helm's default on Helm 4 is server-side apply, which refuses the chart
            let refused = id("o2-apply", "ssa");
            let e = a
                .create_deployment(CreateDeployment::new(
                    refused.clone(),
                    pkg("duplicate-env@0.1.0"),
                ))
                .await
                .unwrap_err();
            assert!(e.to_string().contains("duplicate entries"), "{e}");
            let _ = a.delete_deployment(&refused).await;

            let csa = adapter_with(env, ApplyMethod::ClientSide, &work)
                .await
                .expect("connect with applyMethod client-side");
            let d = id("o2-apply", "csa");
            csa.create_deployment(CreateDeployment::new(d.clone(), pkg("duplicate-env@0.1.0")))
                .await
                .expect("installs client-side");
            csa.update_deployment(
                &d,
                UpdateDeployment::new().values(vals(serde_json::json!({"note": "csa"}))),
            )
            .await
            .expect("upgrades client-side");
            let scaled = csa
                .scale_deployment(&d, ScaleRequest::to(2))
                .await
                .expect("scales client-side");
            assert_eq!(scaled.revision, 3);
            assert_eq!(
                scaled
                    .extensions
                    .get("helm.applyMethod")
                    .and_then(|v| v.as_str()),
                Some("csa")
            );
            csa.delete_deployment(&d).await.expect("delete");
        }
        HelmMajor::V3 => {
            let e = adapter_with(env, ApplyMethod::ServerSide, &work)
                .await
                .err()
                .expect("Helm 3 cannot apply server-side");
            assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
            assert!(e.to_string().contains("applyMethod"), "{e}");
            // Helm 3 applies client-side anyway: the chart installs as it is
            let d = id("o2-apply", "helm3");
            a.create_deployment(CreateDeployment::new(d.clone(), pkg("duplicate-env@0.1.0")))
                .await
                .expect("Helm 3 installs it");
            a.delete_deployment(&d).await.expect("delete");
        }
    }
}
