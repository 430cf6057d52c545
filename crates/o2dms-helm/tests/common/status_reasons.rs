//! Status says why something is not ready: a container that cannot pull its image, a
//! Service waiting for a load balancer; and it never claims a workload is Available with
//! no replica ready, nor 100 % while a part is not ready.

use std::time::Duration;

use o2dms_core::{
    ConditionStatus, CreateDeployment, DeploymentStatus, DmsAdapter, ErrorKind, PackageUpload,
    StatusDetail,
};

use super::{id, pkg, Env};

fn no_false_availability(s: &StatusDetail) {
    for w in &s.workloads {
        if w.replicas.desired > 0 && w.replicas.ready == 0 {
            let claimed = s.conditions.iter().any(|c| {
                c.kind == format!("{}/{}: Available", w.kind, w.name)
                    && c.status == ConditionStatus::True
            });
            assert!(!claimed, "Available=True beside 0 ready: {s:?}");
        }
    }
}

pub async fn status_says_why(env: &Env) {
    let a = &env.adapter;

    // An image that cannot be pulled.
    let pull = id("o2-why", "pull");
    let e = a
        .create_deployment(
            CreateDeployment::new(pull.clone(), pkg("never-ready@0.1.0"))
                .timeout(Duration::from_secs(5)),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    let s = a.deployment_status(&pull).await.unwrap();
    assert_eq!(s.status, DeploymentStatus::Failed);
    let pulling = s
        .conditions
        .iter()
        .find(|c| c.kind.starts_with("Pod/") && c.reason.contains("ImagePull"))
        .unwrap_or_else(|| panic!("no pod condition says the image does not pull: {s:?}"));
    assert_eq!(pulling.status, ConditionStatus::False);
    assert!(s.message.contains("ImagePull"), "{}", s.message);
    assert!(s.progress < 100, "{s:?}");
    no_false_availability(&s);

    // A LoadBalancer Service that never gets an address (no controller here).
    a.upload_package(PackageUpload::new(env.package("load-balancer")))
        .await
        .expect("upload load-balancer");
    let lb = id("o2-why", "lb");
    let created = a
        .create_deployment(
            CreateDeployment::new(lb.clone(), pkg("load-balancer@0.1.0"))
                .timeout(Duration::from_secs(8)),
        )
        .await;
    if let Err(e) = &created {
        assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    }
    let s = a.deployment_status(&lb).await.unwrap();
    let waiting = s
        .conditions
        .iter()
        .find(|c| c.kind == "Service/lb: LoadBalancer")
        .unwrap_or_else(|| panic!("no condition names the load balancer: {s:?}"));
    assert_eq!(
        (waiting.status, waiting.reason.as_str()),
        (ConditionStatus::False, "Pending")
    );
    assert!(s.message.contains("Service/lb (Pending)"), "{}", s.message);
    assert!(
        s.progress < 100,
        "every pod is ready, the release is not: {s:?}"
    );
    no_false_availability(&s);
    for d in [pull, lb] {
        a.delete_deployment(&d).await.expect("delete");
    }
}
