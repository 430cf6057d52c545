//! Namespaces: a create into a missing namespace is NotFound naming it unless the adapter
//! may create it; a namespace the adapter created goes with its last deployment only when
//! asked; a namespace it did not create is never deleted.

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{ObjectMeta, PostParams};
use kube::Api;
use o2dms_core::{CreateDeployment, DmsAdapter, Error, Resource};
use o2dms_helm::HelmAdapter;

use super::{id, pkg, Env};

async fn adapter_with(
    env: &Env,
    create: bool,
    delete: bool,
    work: &tempfile::TempDir,
) -> HelmAdapter {
    let mut config = env.adapter.config().clone();
    config.create_namespace = create;
    config.delete_created_namespaces = delete;
    config.package_dir = Some(config.package_location().unwrap());
    config.work_dir = Some(work.path().to_path_buf());
    HelmAdapter::connect(config).await.expect("connect")
}

/// The namespace, unless it is gone or going.
async fn live_namespace(env: &Env, name: &str) -> Option<Namespace> {
    let api: Api<Namespace> = Api::all(env.cluster.client());
    api.get_opt(name)
        .await
        .unwrap()
        .filter(|ns| ns.metadata.deletion_timestamp.is_none())
}

pub async fn policy(env: &Env) {
    let work = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];

    // The default: the namespace must exist.
    let strict = adapter_with(env, false, false, &work[0]).await;
    let missing = id("o2-ns-missing", "web");
    match strict
        .create_deployment(CreateDeployment::new(missing.clone(), pkg("web@0.1.0")))
        .await
    {
        Err(Error::NotFound { resource, id }) => {
            assert_eq!(
                (resource, id.as_str()),
                (Resource::Namespace, "o2-ns-missing")
            );
        }
        other => panic!("expected NotFound naming the namespace, got {other:?}"),
    }
    assert!(
        live_namespace(env, "o2-ns-missing").await.is_none(),
        "nothing created"
    );

    // Allowed to create, and to delete what it created once its last deployment goes.
    let tidy = adapter_with(env, true, true, &work[1]).await;
    let (first, second) = (id("o2-ns-made", "a"), id("o2-ns-made", "b"));
    for d in [&first, &second] {
        tidy.create_deployment(CreateDeployment::new(d.clone(), pkg("web@0.1.0")))
            .await
            .expect("create, making the namespace");
    }
    let labels = live_namespace(env, "o2-ns-made")
        .await
        .unwrap()
        .metadata
        .labels
        .unwrap();
    assert_eq!(labels["app.kubernetes.io/managed-by"], "o2dms");
    tidy.delete_deployment(&first).await.unwrap();
    assert!(
        live_namespace(env, "o2-ns-made").await.is_some(),
        "a deployment is left in it"
    );
    tidy.delete_deployment(&second).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while live_namespace(env, "o2-ns-made").await.is_some() {
        assert!(Instant::now() < deadline, "the namespace it made stayed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A namespace someone else made stays, whatever the setting.
    let api: Api<Namespace> = Api::all(env.cluster.client());
    let theirs = Namespace {
        metadata: ObjectMeta {
            name: Some("o2-ns-theirs".into()),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    api.create(&PostParams::default(), &theirs).await.unwrap();
    let d = id("o2-ns-theirs", "web");
    tidy.create_deployment(CreateDeployment::new(d.clone(), pkg("web@0.1.0")))
        .await
        .expect("create into an existing namespace");
    tidy.delete_deployment(&d).await.unwrap();
    assert!(
        live_namespace(env, "o2-ns-theirs").await.is_some(),
        "not the adapter's to delete"
    );
}
