//! A release made by the helm CLI from a fork of a chart, with the same name and version as
//! a package the adapter stores: an update or scale keeps the fork's chart (the one in the
//! release record) and never swaps in the stored package, which would delete what only
//! the fork has.

use std::path::Path;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use o2dms_core::{
    CreateDeployment, DmsAdapter, Error, PackageUpload, ScaleRequest, UpdateDeployment,
};

use super::{fixture, id, vals, Env};

/// Copies the `web` fixture (chart web 0.1.0, which the adapter stores) to `dir` and adds
/// a template only the fork has.
fn fork_of_web(dir: &Path) {
    let src = fixture("web");
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    for f in [
        "Chart.yaml",
        "values.yaml",
        "templates/deployment.yaml",
        "templates/service.yaml",
    ] {
        std::fs::copy(src.join(f), dir.join(f)).unwrap();
    }
    std::fs::write(
        dir.join("templates/fork-only.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-fork-only\ndata:\n  made-by: the fork\n",
    )
    .unwrap();
}

async fn fork_only_exists(env: &Env, ns: &str, release: &str) -> bool {
    let api: Api<ConfigMap> = Api::namespaced(env.cluster.client(), ns);
    api.get_opt(&format!("{release}-fork-only"))
        .await
        .unwrap()
        .is_some()
}

pub async fn cli_fork_keeps_its_chart(env: &Env) {
    let a = &env.adapter;
    let ns = "o2-fork";
    let dir = tempfile::tempdir().unwrap();
    let fork = dir.path().join("web");
    fork_of_web(&fork);
    env.cli_ok(&[
        "install",
        "fork",
        fork.to_str().unwrap(),
        "-n",
        ns,
        "--create-namespace",
        "--wait",
        "--timeout",
        "90s",
    ]);
    assert!(fork_only_exists(env, ns, "fork").await);
    let d = id(ns, "fork");
    assert_eq!(
        a.get_deployment(&d).await.unwrap().package.as_str(),
        "web@0.1.0"
    );

    // The stored web 0.1.0 is another chart; by default the adapter neither runs it nor
    // rebuilds the fork from its record.
    match a.scale_deployment(&d, ScaleRequest::to(1)).await {
        Err(Error::InvalidArgument { field, reason }) => {
            assert_eq!(field, "package");
            assert!(reason.contains("is not the chart web 0.1.0"), "{reason}");
            assert!(reason.contains("rebuildFromRelease"), "{reason}");
        }
        other => panic!("expected InvalidArgument naming package, got {other:?}"),
    }
    assert!(
        fork_only_exists(env, ns, "fork").await,
        "the refused scale kept the fork's own template"
    );
    // An adapter allowed to rebuild keeps the fork's chart.
    let r = env.rebuilding_adapter().await;
    let scaled = r
        .scale_deployment(&d, ScaleRequest::to(1))
        .await
        .expect("scale the fork");
    assert_eq!(scaled.revision, 2);
    assert!(
        fork_only_exists(env, ns, "fork").await,
        "the scale kept the fork's own template"
    );
    let updated = r
        .update_deployment(
            &d,
            UpdateDeployment::new().values(vals(serde_json::json!({"note": "kept"}))),
        )
        .await
        .expect("update the fork");
    assert_eq!(updated.revision, 3);
    assert!(
        fork_only_exists(env, ns, "fork").await,
        "the update kept the fork's own template"
    );

    // A fork with a dependency cannot be rebuilt from its record (subcharts are not kept):
    // the adapter refuses rather than run the stored package in its place.
    let deps = dir.path().join("deps/web");
    fork_of_web(&deps);
    let sub = deps.join("charts/sub");
    std::fs::create_dir_all(sub.join("templates")).unwrap();
    std::fs::write(
        sub.join("Chart.yaml"),
        "apiVersion: v2\nname: sub\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(
        sub.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-sub\n",
    )
    .unwrap();
    let chart = std::fs::read_to_string(deps.join("Chart.yaml")).unwrap();
    std::fs::write(
        deps.join("Chart.yaml"),
        format!("{chart}dependencies:\n  - name: sub\n    version: 0.1.0\n"),
    )
    .unwrap();
    env.cli_ok(&[
        "install",
        "forkdeps",
        deps.to_str().unwrap(),
        "-n",
        ns,
        "--wait",
        "--timeout",
        "90s",
    ]);
    let fd = id(ns, "forkdeps");
    match r.scale_deployment(&fd, ScaleRequest::to(1)).await {
        Err(Error::InvalidArgument { field, reason }) => {
            assert_eq!(field, "package");
            assert!(reason.contains("dependencies"), "{reason}");
        }
        other => panic!("expected InvalidArgument naming package, got {other:?}"),
    }
    assert_eq!(
        a.get_deployment(&fd).await.unwrap().revision,
        1,
        "nothing written"
    );

    // The same chart with dependencies, uploaded and installed through the adapter: the
    // stored package is the chart the release runs, so a scale uses it (a rebuild is
    // impossible with dependencies: this fails if the comparison ever tells them apart).
    let chart = std::fs::read_to_string(deps.join("Chart.yaml")).unwrap();
    std::fs::write(
        deps.join("Chart.yaml"),
        chart.replace("name: web\n", "name: withdeps\n"),
    )
    .unwrap();
    let out = env.cli_ok(&[
        "package",
        deps.to_str().unwrap(),
        "--destination",
        dir.path().to_str().unwrap(),
    ]);
    let archive = out.trim().rsplit(": ").next().unwrap().trim().to_owned();
    let p = a
        .upload_package(PackageUpload::new(std::fs::read(&archive).unwrap()))
        .await
        .expect("upload a chart with a dependency");
    let wd = id(ns, "withdeps");
    a.create_deployment(CreateDeployment::new(wd.clone(), p.id.clone()))
        .await
        .expect("create from it");
    let scaled = a
        .scale_deployment(&wd, ScaleRequest::to(1))
        .await
        .expect("the stored package is recognised as the chart the release runs");
    assert_eq!(scaled.revision, 2);

    for name in ["fork", "forkdeps", "withdeps"] {
        a.delete_deployment(&id(ns, name)).await.expect("delete");
    }
}
