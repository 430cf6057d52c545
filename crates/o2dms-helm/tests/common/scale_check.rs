//! Scale is proved against the chart, not guessed: a workload must follow the key (checked
//! by rendering with two counts) and then have the count live. A chart with a second,
//! fixed-size workload (ingress-nginx and its default backend) is not "scaled" because
//! that workload happens to have the count asked for; a DaemonSet has no replica count.

use o2dms_core::{CreateDeployment, DmsAdapter, Error, PackageUpload, ScaleRequest};

use super::{id, pkg, Env};

fn refused_for_the_key(r: Result<o2dms_core::Deployment, Error>, needle: &str) -> String {
    match r {
        Err(Error::InvalidArgument { field, reason }) if field == "key" => {
            assert!(reason.contains(needle), "{reason}");
            reason
        }
        other => panic!("expected InvalidArgument naming `key`, got {other:?}"),
    }
}

pub async fn proved_against_the_chart(env: &Env) {
    let a = &env.adapter;
    for chart in ["two-workloads", "daemonset-only"] {
        a.upload_package(PackageUpload::new(env.package(chart)))
            .await
            .unwrap_or_else(|e| panic!("upload {chart}: {e}"));
    }

    // Neither Deployment follows `replicaCount`; the backend has 1 replica anyway.
    let tw = id("o2-scale-proof", "tw");
    a.create_deployment(CreateDeployment::new(
        tw.clone(),
        pkg("two-workloads@0.1.0"),
    ))
    .await
    .expect("create two-workloads");
    let reason = refused_for_the_key(
        a.scale_deployment(&tw, ScaleRequest::to(1)).await,
        "replicaCount",
    );
    assert!(reason.contains("no workload follows it"), "{reason}");
    let d = a.get_deployment(&tw).await.unwrap();
    assert_eq!(d.revision, 1, "nothing written");
    assert_eq!(d.values.get("replicaCount"), None, "no junk key stored");
    assert_eq!(
        env.live_replicas("o2-scale-proof", "tw-controller").await,
        Some(2)
    );
    assert_eq!(
        env.live_replicas("o2-scale-proof", "tw-backend").await,
        Some(1)
    );

    // Through the controller's own key: only the controller moves.
    let d = a
        .scale_deployment(&tw, ScaleRequest::to(3).key("controller.replicaCount"))
        .await
        .expect("scale through controller.replicaCount");
    assert_eq!(d.revision, 2);
    assert_eq!(
        env.live_replicas("o2-scale-proof", "tw-controller").await,
        Some(3)
    );
    assert_eq!(
        env.live_replicas("o2-scale-proof", "tw-backend").await,
        Some(1)
    );
    // To the backend's count too: the controller follows, whatever the backend has.
    a.scale_deployment(&tw, ScaleRequest::to(1).key("controller.replicaCount"))
        .await
        .expect("scale the controller to 1");
    assert_eq!(
        env.live_replicas("o2-scale-proof", "tw-controller").await,
        Some(1)
    );

    // A DaemonSet runs one pod per node: refused, naming why, nothing written.
    let ds = id("o2-scale-proof", "ds");
    a.create_deployment(CreateDeployment::new(
        ds.clone(),
        pkg("daemonset-only@0.1.0"),
    ))
    .await
    .expect("create daemonset-only");
    refused_for_the_key(
        a.scale_deployment(&ds, ScaleRequest::to(2)).await,
        "DaemonSet",
    );
    assert_eq!(a.get_deployment(&ds).await.unwrap().revision, 1);

    for d in [tw, ds] {
        a.delete_deployment(&d).await.expect("delete");
    }
}
