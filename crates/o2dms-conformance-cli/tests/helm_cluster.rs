//! `o2dms-conformance --adapter helm --kubeconfig ...` against a real local cluster leaves
//! nothing with the run's prefix behind: not after a run with a timed-out create, and not
//! after Ctrl-C in the middle of a run.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::ListParams;
use kube::Api;
use o2dms_cluster::{tools, HelmMajor, LocalCluster, LocalClusterOptions};

/// Kills the child by its pid when dropped (a failed assertion included).
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Namespaces and helm release Secrets whose names (or namespaces) start with `prefix`.
async fn leftovers(client: &kube::Client, prefix: &str) -> Vec<String> {
    let mut left = Vec::new();
    let ns: Api<Namespace> = Api::all(client.clone());
    for n in ns.list(&ListParams::default()).await.unwrap().items {
        let name = n.metadata.name.unwrap_or_default();
        if name.starts_with(prefix) {
            left.push(format!("namespace {name}"));
        }
    }
    let secrets: Api<Secret> = Api::all(client.clone());
    for s in secrets
        .list(&ListParams::default().labels("owner=helm"))
        .await
        .unwrap()
        .items
    {
        let namespace = s.metadata.namespace.unwrap_or_default();
        if namespace.starts_with(prefix) {
            left.push(format!(
                "release secret {namespace}/{}",
                s.metadata.name.unwrap_or_default()
            ));
        }
    }
    left
}

fn conformance(kubeconfig: &std::path::Path, helm: &std::path::Path, prefix: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_o2dms-conformance"));
    c.env_remove("O2DMS_FIXTURES")
        .args(["--adapter", "helm", "--no-progress", "--kubeconfig"])
        .arg(kubeconfig)
        .arg("--helm")
        .arg(helm)
        .args(["--namespace-prefix", prefix]);
    c
}

fn wait_bounded(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            start.elapsed() < limit,
            "o2dms-conformance still running after {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_leave_nothing_with_their_prefix() {
    let t = tokio::task::spawn_blocking(tools).await.unwrap().unwrap();
    let helm = t.helm(HelmMajor::V4).to_path_buf();
    let cluster = LocalCluster::start(LocalClusterOptions {
        binaries: Some(t.control_plane.clone()),
        ..LocalClusterOptions::default()
    })
    .await
    .expect("start a local cluster");
    let kubeconfig = cluster.kubeconfig_path().to_path_buf();
    let client = cluster.client();

    // 1. A run that creates deployments in several namespaces, one of them left Failed by
    //    a timed-out create, and uploads packages (into a package directory that outlives
    //    the run, given through the spec's configuration file).
    let dir = tempfile::tempdir().unwrap();
    let yaml = dir.path().join("report.yaml");
    let packages = dir.path().join("packages");
    let config = dir.path().join("dms.yaml");
    std::fs::write(
        &config,
        format!(
            "plugins:\n  dms:\n    - name: helm\n      type: helm\n      config:\n        packageDir: {}\n",
            packages.display()
        ),
    )
    .unwrap();
    let prefix = "o2c-clitest-";
    let mut child = Guard(
        conformance(&kubeconfig, &helm, prefix)
            .arg("--config")
            .arg(&config)
            .args([
                "--only",
                "lifecycle.namespace_is_part_of_the_id",
                "--only",
                "lifecycle.create_then_get",
                "--only",
                "status.never_ready_fails_after_timeout",
                "--only",
                "packages.upload_then_get",
            ])
            .arg("--report")
            .arg(format!("yaml={}", yaml.display()))
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let status = wait_bounded(&mut child.0, Duration::from_secs(300));
    let mut out = String::new();
    std::io::Read::read_to_string(child.0.stdout.as_mut().unwrap(), &mut out).unwrap();
    assert_eq!(status.code(), Some(0), "{out}");
    let published: o2dms_conformance::PublishedReport =
        serde_saphyr::from_str(&std::fs::read_to_string(&yaml).unwrap()).unwrap();
    assert_eq!(published.cluster.kind, "kubeconfig");
    assert!(published.cluster.kubernetes_version.is_some());
    let passed: u32 = published.profiles.iter().map(|p| p.summary.passed).sum();
    assert_eq!(passed, 4, "{out}");
    assert_eq!(leftovers(&client, prefix).await, Vec::<String>::new());
    // The packages the run uploaded (fixtures and its own) are gone from the store.
    let store = o2dms_helm::HelmAdapter::connect(
        o2dms_helm::HelmConfig::builder()
            .kubeconfig(&kubeconfig)
            .helm_binary(&helm)
            .package_dir(&packages)
            .build()
            .unwrap(),
    )
    .await
    .unwrap();
    let left = o2dms_core::DmsAdapter::list_packages(&store, &o2dms_core::PackageFilter::all())
        .await
        .unwrap();
    assert!(left.items.is_empty(), "packages left: {:?}", left.items);

    // 2. Ctrl-C in the middle of a run: it stops, removes what it made, and says so.
    let prefix = "o2c-clistop-";
    let mut child = Guard(
        conformance(&kubeconfig, &helm, prefix)
            .args([
                "--only",
                "lifecycle.*",
                "--only",
                "update.*",
                "--only",
                "rollback.*",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let ns: Api<Namespace> = Api::all(client.clone());
    let start = Instant::now();
    loop {
        let names: Vec<String> = ns
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .filter_map(|n| n.metadata.name)
            .collect();
        if names.iter().any(|n| n.starts_with(prefix)) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the run made no namespace in 120 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pid = child.0.id().to_string();
    let sent = Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert!(sent.success());
    let status = wait_bounded(&mut child.0, Duration::from_secs(240));
    let mut err = String::new();
    std::io::Read::read_to_string(child.0.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    assert_eq!(leftovers(&client, prefix).await, Vec::<String>::new());
    drop(cluster);
}
