//! Errors and results through a real server on loopback: every error kind comes back
//! as the very error the adapter returned, on reads, on writes answered at once and on
//! writes followed through their operation.

mod common;

use std::sync::Arc;
use std::time::Duration;

use o2dms_core::{
    CreateDeployment, DeploymentId, DmsAdapter, Error, ErrorKind, Operation, PackageId, Resource,
    ScaleRequest, Value, Values,
};
use o2dms_mock::{MockAdapter, PackageSpec};
use o2dms_remote::RemoteAdapter;

fn mock() -> MockAdapter {
    MockAdapter::builder()
        .package(PackageSpec::new("web", "1.0.0"))
        .build()
}

fn every_error() -> Vec<Error> {
    let id = DeploymentId::new("ran", "du-1").unwrap();
    vec![
        Error::not_found(Resource::Deployment, &id),
        Error::not_found(Resource::Package, "web@9.9.9"),
        Error::already_exists(Resource::Deployment, &id),
        Error::conflict(Resource::Deployment, &id, "an upgrade is in progress"),
        Error::invalid("values.image.tag", "must be a string"),
        Error::unsupported("scale_deployment", "no scale key"),
        Error::timeout(
            "create_deployment",
            Duration::from_millis(1500),
            "1 of 2 replicas ready",
        ),
        Error::permission_denied("create secrets in namespace ran", "forbidden"),
        Error::unavailable("the cluster is not reachable"),
        Error::backend("helm exited with status 1"),
    ]
}

async fn served(mock: MockAdapter) -> (common::Running, Arc<MockAdapter>) {
    let mock = Arc::new(mock);
    let server = common::serve(vec![("edge", mock.clone() as Arc<dyn DmsAdapter>)]).await;
    (server, mock)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_kind_round_trips_exactly_on_reads_and_writes() {
    let (server, mock) = served(mock()).await;
    // waiting writes (final answer in the response) and 202 writes (followed)
    let waiting = RemoteAdapter::builder(server.endpoint("edge"))
        .connect()
        .await
        .unwrap();
    let following = RemoteAdapter::builder(server.endpoint("edge"))
        .wait(Duration::ZERO)
        .poll_interval(Duration::from_millis(1))
        .connect()
        .await
        .unwrap();
    let id = DeploymentId::new("ran", "du-1").unwrap();
    for err in every_error() {
        mock.faults()
            .fail_next(Operation::GetDeployment, 1, err.clone());
        assert_eq!(waiting.get_deployment(&id).await.unwrap_err(), err, "get");
        for (how, remote) in [("waiting", &waiting), ("following", &following)] {
            mock.faults()
                .fail_next(Operation::CreateDeployment, 1, err.clone());
            let req = CreateDeployment::new(id.clone(), PackageId::new("web@1.0.0").unwrap());
            let got = remote.create_deployment(req).await.unwrap_err();
            assert_eq!(got, err, "create, {how}");
        }
    }
    assert_eq!(
        mock.faults().pending_failures(Operation::CreateDeployment),
        0
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_round_trip_exactly_whether_answered_or_followed() {
    let (server, mock) = served(mock()).await;
    let following = RemoteAdapter::builder(server.endpoint("edge"))
        .wait(Duration::ZERO)
        .poll_interval(Duration::from_millis(1))
        .connect()
        .await
        .unwrap();
    let waiting = RemoteAdapter::builder(server.url())
        .connect()
        .await
        .unwrap();
    assert_eq!(waiting.deployment_manager(), "edge", "the only one");
    assert_eq!(following.info(), mock.info());
    assert_eq!(following.capabilities(), mock.capabilities());

    let mut values = Values::new();
    values.insert("ratio", Value::Float(0.1 + 0.2));
    values.insert("big", Value::Int(i64::MAX));
    values.insert("text", Value::from("ü \"quoted\" \u{1F680}"));
    for (n, remote) in [("a", &following), ("b", &waiting)] {
        let id = DeploymentId::new("ran", n).unwrap();
        let req = CreateDeployment::new(id.clone(), PackageId::new("web@1.0.0").unwrap())
            .values(values.clone())
            .timeout(Duration::from_millis(2500));
        let created = remote.create_deployment(req).await.unwrap();
        assert_eq!(created, mock.get_deployment(&id).await.unwrap());
        assert_eq!(created.values, values, "values exactly, floats too");
        let scaled = remote
            .scale_deployment(&id, ScaleRequest::to(3))
            .await
            .unwrap();
        assert_eq!(scaled, mock.get_deployment(&id).await.unwrap());
        assert_eq!(
            remote
                .deployment_history(&id, Default::default())
                .await
                .unwrap(),
            mock.deployment_history(&id, Default::default())
                .await
                .unwrap()
        );
        assert_eq!(
            remote.deployment_status(&id).await.unwrap(),
            mock.deployment_status(&id).await.unwrap()
        );
        remote.delete_deployment(&id).await.unwrap();
        assert_eq!(
            mock.get_deployment(&id).await.unwrap_err().kind(),
            ErrorKind::NotFound
        );
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_json_cannot_carry_are_refused_before_sending() {
    let (server, mock) = served(mock()).await;
    let remote = RemoteAdapter::builder(server.endpoint("edge"))
        .connect()
        .await
        .unwrap();
    let mut values = Values::new();
    values.insert("x", Value::Float(f64::INFINITY));
    let id = DeploymentId::new("ran", "nan").unwrap();
    let req = CreateDeployment::new(id.clone(), PackageId::new("web@1.0.0").unwrap())
        .values(values.clone());
    let remote_err = remote.create_deployment(req.clone()).await.unwrap_err();
    assert_eq!(remote_err, mock.create_deployment(req).await.unwrap_err());
    assert!(matches!(&remote_err, Error::InvalidArgument { field, .. } if field == "values.x"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_followed_past_its_limit_is_a_timeout_and_goes_on_on_the_server() {
    let (server, mock) = served(mock()).await;
    mock.faults()
        .latency(Operation::CreateDeployment, Duration::from_millis(400));
    let remote = RemoteAdapter::builder(server.endpoint("edge"))
        .wait(Duration::ZERO)
        .poll_interval(Duration::from_millis(5))
        .follow_limit(Duration::from_millis(100))
        .connect()
        .await
        .unwrap();
    let id = DeploymentId::new("ran", "slow").unwrap();
    let err = remote
        .create_deployment(CreateDeployment::new(
            id.clone(),
            PackageId::new("web@1.0.0").unwrap(),
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Timeout { operation, limit, .. }
            if operation == "create_deployment" && *limit == Duration::from_millis(100)),
        "{err:?}"
    );
    // the operation goes on and completes on the server
    let report = server.stop().await;
    assert!(report.unfinished.is_empty());
    assert!(mock.get_deployment(&id).await.is_ok());
}

#[tokio::test]
async fn a_server_that_cannot_be_reached_is_unavailable() {
    // a port that was free a moment ago: nothing listens there
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let err = RemoteAdapter::builder(format!("http://127.0.0.1:{port}/edge"))
        .connect_timeout(Duration::from_secs(2))
        .connect()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connecting_names_what_is_wrong() {
    let a = Arc::new(mock()) as Arc<dyn DmsAdapter>;
    let b = Arc::new(mock()) as Arc<dyn DmsAdapter>;
    let server = common::serve(vec![("core", a), ("edge", b)]).await;
    let err = RemoteAdapter::builder(server.url())
        .connect()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidArgument { field, reason } if field == "endpoint" && reason.contains("core, edge")),
        "{err:?}"
    );
    let err = RemoteAdapter::builder(server.endpoint("far"))
        .connect()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    let err = RemoteAdapter::builder(server.url())
        .deployment_manager("Not A Name")
        .connect()
        .await
        .unwrap_err();
    assert!(matches!(&err, Error::InvalidArgument { field, .. } if field == "deploymentManager"));
    let err = RemoteAdapter::builder(server.url())
        .root_certificate_pem("not a certificate")
        .connect()
        .await
        .unwrap_err();
    assert!(matches!(&err, Error::InvalidArgument { field, .. } if field == "rootCertificate"));
    server.stop().await;
}

#[test]
fn the_token_never_shows() {
    let b = RemoteAdapter::builder("http://127.0.0.1:1/edge").bearer_token("s3cr3t-t0ken");
    let text = format!("{b:?}");
    assert!(!text.contains("s3cr3t-t0ken"), "{text}");
    assert!(text.contains("redacted"));
}

#[test]
fn the_client_identity_never_shows() {
    let b = RemoteAdapter::builder("https://127.0.0.1:1/edge").client_identity_pem(
        "-----BEGIN PRIVATE KEY-----\ns3cr3t-k3y\n-----END PRIVATE KEY-----\n",
    );
    let text = format!("{b:?}");
    assert!(!text.contains("s3cr3t-k3y"), "{text}");
    assert!(text.contains("client_identity"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_identity_that_is_not_pem_is_named_without_quoting_it() {
    let err = RemoteAdapter::builder("https://127.0.0.1:1/edge")
        .client_identity_pem("s3cr3t-material, not PEM")
        .connect()
        .await
        .unwrap_err();
    match &err {
        Error::InvalidArgument { field, reason } => {
            assert_eq!(field, "clientIdentity");
            assert!(!reason.contains("s3cr3t"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    // a real certificate and key are accepted (the connection then fails: no server)
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["client.example.net".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let err = RemoteAdapter::builder("https://127.0.0.1:1/edge")
        .client_identity_pem(format!("{}{}", cert.pem(), key.serialize_pem()))
        .connect_timeout(Duration::from_secs(2))
        .connect()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_with_access_control_wants_the_token() {
    use o2dms_server::{Access, Auth, Scope};
    const TOKEN: &str = "remote-test-token-5d1e";
    let server = o2dms_server::Server::builder()
        .adapter("edge", mock())
        .auth(Auth::new().token("suite", TOKEN, Access::new(Scope::Write)))
        .build()
        .expect("server");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/edge", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.serve(listener, async move {
        let _ = stopped.await;
    }));

    let err = RemoteAdapter::builder(url.clone())
        .connect()
        .await
        .unwrap_err();
    match &err {
        Error::PermissionDenied { action, message } => {
            assert!(
                action.starts_with("GET /o2dms/v1/deploymentManagers/edge"),
                "{action}"
            );
            assert!(
                message.contains("401") && message.contains("bearer_token"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    let err = RemoteAdapter::builder(url.clone())
        .bearer_token("not-the-token")
        .connect()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    let dms = RemoteAdapter::builder(url)
        .bearer_token(TOKEN)
        .connect()
        .await
        .expect("connects with the token");
    let id = DeploymentId::new("ran", "with-token").unwrap();
    let created = dms
        .create_deployment(CreateDeployment::new(
            id,
            PackageId::new("web@1.0.0").unwrap(),
        ))
        .await
        .unwrap();
    assert_eq!(created.revision, 1);
    let _ = stop.send(());
    task.await.unwrap().unwrap();
}
