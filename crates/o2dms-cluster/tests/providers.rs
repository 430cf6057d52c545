//! The providers behind one interface: the local one for real, the kubeconfig one
//! against a real local cluster, and the error paths of kind and k3s on a machine
//! without a Docker daemon or `kind`.

use std::path::PathBuf;

use o2dms_cluster::provider::docker_daemon_available;
use o2dms_cluster::{
    tools, ClusterError, ClusterKind, ClusterProvider, K3sProvider, KindProvider,
    KubeconfigProvider, LocalClusterOptions, LocalProvider, ProviderSpec,
};

async fn local_provider() -> LocalProvider {
    let binaries = tokio::task::spawn_blocking(|| tools().map(|t| t.control_plane.clone()))
        .await
        .expect("join")
        .expect("provision tools (run `cargo xtask cluster provision` first)");
    LocalProvider {
        options: LocalClusterOptions {
            binaries: Some(binaries),
            ..LocalClusterOptions::default()
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_and_kubeconfig_providers_on_a_real_cluster() {
    let provider = local_provider().await;
    assert_eq!(provider.kind(), ClusterKind::Local);
    let cluster = provider.start().await.expect("local cluster");
    assert_eq!(cluster.kind(), ClusterKind::Local);
    assert!(cluster.kubeconfig_path().is_file());
    let local = cluster.as_local().expect("a local cluster");
    let want = local.binaries().kubernetes_version.clone();
    assert_eq!(
        cluster.server_version().git_version,
        want,
        "reported honestly"
    );
    cluster
        .client()
        .apiserver_version()
        .await
        .expect("client works");

    // The kubeconfig provider attaches to it, checks reachability and reads the version.
    let attached = KubeconfigProvider {
        path: Some(cluster.kubeconfig_path().to_path_buf()),
        context: None,
        ..KubeconfigProvider::default()
    }
    .start()
    .await
    .expect("attach through the kubeconfig");
    assert_eq!(attached.kind(), ClusterKind::Kubeconfig);
    assert_eq!(attached.server_version().git_version, want);
    // An explicit context that exists works too.
    let ctx = cluster
        .as_local()
        .and_then(|l| l.dir().file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .expect("context name");
    let spec: ProviderSpec = format!("kubeconfig:{}#{ctx}", cluster.kubeconfig_path().display())
        .parse()
        .expect("spec");
    let by_spec = spec.start().await.expect("attach by spec");
    // Stopping an attached cluster leaves it running.
    attached.stop().await.expect("detach");
    by_spec.stop().await.expect("detach");
    cluster
        .client()
        .apiserver_version()
        .await
        .expect("still running after detaching");
    cluster.stop().await.expect("stop");
}

#[tokio::test]
async fn kubeconfig_provider_missing_file() {
    let err = KubeconfigProvider {
        path: Some(PathBuf::from("/nonexistent/o2dms/kubeconfig")),
        ..KubeconfigProvider::default()
    }
    .start()
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            ClusterError::ProviderUnavailable {
                provider: "kubeconfig",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("does not exist"), "{err}");
}

fn kubeconfig_text(server: &str) -> String {
    serde_json::json!({
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": server}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "ctx"
    })
    .to_string()
}

#[tokio::test]
async fn kubeconfig_provider_unknown_context_and_unreachable_server() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubeconfig");
    // A port nothing listens on: bind, read the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::fs::write(&path, kubeconfig_text(&format!("https://127.0.0.1:{port}"))).unwrap();

    let err = KubeconfigProvider {
        path: Some(path.clone()),
        context: Some("nope".into()),
        ..KubeconfigProvider::default()
    }
    .start()
    .await
    .unwrap_err();
    assert!(matches!(err, ClusterError::Kubeconfig(_)), "{err}");
    assert!(err.to_string().contains("no context \"nope\""), "{err}");

    let err = KubeconfigProvider {
        path: Some(path),
        context: Some("ctx".into()),
        timeout: std::time::Duration::from_secs(5),
    }
    .start()
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            ClusterError::ProviderUnavailable {
                provider: "kubeconfig",
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("not reachable") || err.to_string().contains("did not answer"),
        "{err}"
    );
}

#[tokio::test]
async fn kind_provider_without_kind_binary_says_why_and_what_instead() {
    let err = KindProvider {
        kind_binary: Some(PathBuf::from("/nonexistent/bin/kind")),
        ..KindProvider::default()
    }
    .start()
    .await
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(
            err,
            ClusterError::ProviderUnavailable {
                provider: "kind",
                ..
            }
        ),
        "{msg}"
    );
    assert!(
        msg.contains("/nonexistent/bin/kind does not exist"),
        "{msg}"
    );
    assert!(msg.contains("local provider"), "{msg}");

    if which::which("kind").is_err() {
        let err = KindProvider::default().start().await.unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("`kind` binary is not on PATH"), "{msg}");
        assert!(msg.contains("local provider"), "{msg}");
    }
}

#[tokio::test]
async fn kind_and_k3s_without_docker_daemon_say_why_and_what_instead() {
    if docker_daemon_available().is_ok() {
        eprintln!("a Docker daemon answers here: the no-daemon error paths cannot be observed");
        return;
    }
    // kind present (any existing file stands in for it) but no daemon.
    let err = KindProvider {
        kind_binary: Some(PathBuf::from("/bin/true")),
        ..KindProvider::default()
    }
    .start()
    .await
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(
            err,
            ClusterError::ProviderUnavailable {
                provider: "kind",
                ..
            }
        ),
        "{msg}"
    );
    assert!(msg.contains("Docker daemon"), "{msg}");
    assert!(msg.contains("local provider"), "{msg}");

    let err = K3sProvider::default().start().await.unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(
            err,
            ClusterError::ProviderUnavailable {
                provider: "k3s",
                ..
            }
        ),
        "{msg}"
    );
    assert!(msg.contains("Docker daemon"), "{msg}");
    assert!(msg.contains("local provider"), "{msg}");
    let err = "k3s"
        .parse::<ProviderSpec>()
        .unwrap()
        .start()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Docker daemon"), "{err}");
}

#[test]
fn provider_specs_parse() {
    assert_eq!(
        "local".parse::<ProviderSpec>().unwrap(),
        ProviderSpec::Local
    );
    assert_eq!("kind".parse::<ProviderSpec>().unwrap(), ProviderSpec::Kind);
    assert_eq!(
        "kubeconfig:/a/b#ctx".parse::<ProviderSpec>().unwrap(),
        ProviderSpec::Kubeconfig {
            path: Some("/a/b".into()),
            context: Some("ctx".into())
        }
    );
    assert!("docker".parse::<ProviderSpec>().is_err());
    assert_eq!(
        K3sProvider::default().tag,
        o2dms_cluster::provider::DEFAULT_K3S_TAG
    );
}
