//! Charts of apiVersion v1 (Helm 2's format), which Helm 3 and 4 still install and popular
//! charts still ship: uploaded, installed, read, scaled and updated like any other.

use o2dms_core::{CreateDeployment, DmsAdapter, PackageUpload, ScaleRequest, UpdateDeployment};

use super::{id, vals, Env};

pub async fn apiversion_v1(env: &Env) {
    let a = &env.adapter;
    let p = a
        .upload_package(PackageUpload::new(env.package("legacy-v1")))
        .await
        .expect("a v1 chart is accepted");
    assert_eq!(p.id.as_str(), "legacy-v1@0.1.0");
    let d = id("o2-legacy", "old");
    let created = a
        .create_deployment(CreateDeployment::new(d.clone(), p.id.clone()))
        .await
        .expect("install a v1 chart");
    assert_eq!(created.package, p.id);
    let scaled = a
        .scale_deployment(&d, ScaleRequest::to(1))
        .await
        .expect("scale a v1 chart");
    assert_eq!(scaled.revision, 2);
    assert_eq!(env.live_replicas("o2-legacy", "old-web").await, Some(1));
    let updated = a
        .update_deployment(
            &d,
            UpdateDeployment::new().values(vals(serde_json::json!({"note": "v1"}))),
        )
        .await
        .expect("update a v1 chart");
    assert_eq!(updated.revision, 3);
    a.delete_deployment(&d).await.expect("delete");
}
