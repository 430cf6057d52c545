//! Access control over real loopback HTTP: every route template and method of the
//! OpenAPI document (so the list cannot drift from the API) refuses missing, unknown and
//! out-of-scope credentials and lets the right ones through; client certificates (as a
//! TLS listener hands them over, in a [`Peer`]) map to their clients; unknown routes
//! are 401 before they are 404; no token reaches the logs, captured at trace level.
//! Every response is checked against the OpenAPI document by the test client.

mod common;

use std::io::{self, Write};
use std::sync::{Mutex, OnceLock};

use common::{json, problem, start_with, Client, TestServer, DM};
use o2dms_mock::MockAdapter;
use o2dms_server::auth::ClientIdentity;
use o2dms_server::{Access, Auth, Listener, Peer, Scope, Server};
use reqwest::Method;
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};

/// The other deployment manager.
const CORE: &str = "core";
const WRITER: &str = "writer-7b0c3e1f-token";
const READER: &str = "reader-52d9aa04-token";
const CORE_ONLY: &str = "core-only-e81f66b2-token";
const UNKNOWN: &str = "unknown-3c6a0f9d-token";

fn policy() -> Auth {
    Auth::new()
        .token("writer", WRITER, Access::new(Scope::Write))
        .token("reader", READER, Access::new(Scope::Read))
        .token(
            "core-only",
            CORE_ONLY,
            Access::new(Scope::Write).only([CORE]),
        )
        .client(
            "smo-cert",
            "smo.example.net",
            Access::new(Scope::Write).only([DM]),
        )
}

async fn start() -> TestServer {
    captured_logs();
    start_with(|b| b.adapter(CORE, MockAdapter::new()).auth(policy())).await
}

/// Every (method, template) of the OpenAPI document.
fn documented_routes() -> Vec<(Method, String)> {
    let doc = serde_json::to_value(o2dms_api::openapi::document()).expect("the document");
    let mut routes = Vec::new();
    for (template, item) in doc["paths"].as_object().expect("paths") {
        for m in ["get", "put", "post", "delete", "patch", "head", "options"] {
            if item.get(m).is_some() {
                let method = Method::from_bytes(m.to_ascii_uppercase().as_bytes()).expect("method");
                routes.push((method, template.clone()));
            }
        }
    }
    assert_eq!(routes.len(), 21, "{routes:?}");
    routes
}

/// `template` with every parameter filled in, under the deployment manager `dm`.
fn fill(template: &str, dm: &str) -> String {
    template
        .replace("{dm}", dm)
        .replace("{namespace}", "ran")
        .replace("{name}", "du-1")
        .replace("{packageId}", "web@0.1.0")
        .replace("{operationId}", "op-1")
}

/// `method path` with `token` (if any); the response, checked against the document.
async fn send(
    client: &Client,
    srv: &TestServer,
    method: &Method,
    path: &str,
    token: Option<&str>,
) -> reqwest::Response {
    let mut req = client.request(method.clone(), srv.url(path));
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    req.send().await.expect("send")
}

/// A 401 problem with its challenge.
async fn unauthenticated(res: reqwest::Response, challenge: &str, at: &str) -> Value {
    let got = res
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(got, challenge, "{at}");
    let p = problem(res, 401).await;
    assert_eq!(p["type"], "urn:o2dms:problem:unauthenticated", "{at}: {p}");
    assert_eq!(p["kind"], "permission_denied", "{at}: {p}");
    p
}

/// A 403 problem whose action is `method path`.
async fn forbidden(res: reqwest::Response, method: &Method, path: &str) -> Value {
    let p = problem(res, 403).await;
    assert_eq!(p["kind"], "permission_denied", "{p}");
    assert_eq!(p["action"], format!("{method} {path}"), "{p}");
    p
}

const BEARER: &str = "Bearer realm=\"o2dms\"";
const INVALID: &str = "Bearer realm=\"o2dms\", error=\"invalid_token\"";

#[tokio::test]
async fn every_route_refuses_missing_unknown_and_out_of_scope_credentials() {
    let srv = start().await;
    let client = srv.client.clone();
    for (method, template) in documented_routes() {
        let path = fill(&template, DM);
        let at = format!("{method} {template}");
        let is_list = template == o2dms_api::paths::DEPLOYMENT_MANAGERS;

        // no credentials, an unknown token, something that is not a bearer token: 401
        let res = send(&client, &srv, &method, &path, None).await;
        let p = unauthenticated(res, BEARER, &at).await;
        assert_eq!(p["action"], format!("{method} {path}"), "{at}: {p}");
        let res = send(&client, &srv, &method, &path, Some(UNKNOWN)).await;
        let p = unauthenticated(res, INVALID, &at).await;
        assert!(
            !p.to_string().contains(UNKNOWN),
            "{at}: the problem quotes the token"
        );
        let res = client
            .request(method.clone(), srv.url(&path))
            .header("authorization", format!("Basic {WRITER}"))
            .send()
            .await
            .expect("send");
        unauthenticated(res, INVALID, &at).await;

        // a read token on a write: 403
        let res = send(&client, &srv, &method, &path, Some(READER)).await;
        if method == Method::GET {
            let status = res.status().as_u16();
            assert!(
                status != 401 && status != 403,
                "{at}: read token on a read: {status}"
            );
        } else {
            let p = forbidden(res, &method, &path).await;
            assert!(
                p["message"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("scope read"),
                "{p}"
            );
        }

        // a token limited to another deployment manager: 403 (the list: filtered)
        let res = send(&client, &srv, &method, &path, Some(CORE_ONLY)).await;
        if is_list {
            let list = json(res, 200).await;
            let names: Vec<&str> = list["items"]
                .as_array()
                .expect("items")
                .iter()
                .filter_map(|d| d["name"].as_str())
                .collect();
            assert_eq!(names, [CORE], "{list}");
        } else {
            let p = forbidden(res, &method, &path).await;
            assert!(
                p["message"].as_str().unwrap_or_default().contains(CORE),
                "{p}"
            );
            // ... and on its own deployment manager it is let in
            let own = fill(&template, CORE);
            let res = send(&client, &srv, &method, &own, Some(CORE_ONLY)).await;
            let status = res.status().as_u16();
            assert!(status != 401 && status != 403, "{at} on {CORE}: {status}");
        }

        // the right token: through to the route (whatever it answers then)
        let res = send(&client, &srv, &method, &path, Some(WRITER)).await;
        let status = res.status().as_u16();
        assert!(status != 401 && status != 403, "{at}: writer got {status}");
    }
    let list = json(
        send(
            &client,
            &srv,
            &Method::GET,
            o2dms_api::paths::DEPLOYMENT_MANAGERS,
            Some(READER),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(2), "{list}");
}

#[tokio::test]
async fn unknown_routes_and_methods_are_refused_before_they_are_not_found() {
    let srv = start().await;
    let client = srv.client.clone();
    let dms = o2dms_api::paths::DEPLOYMENT_MANAGERS;
    for path in [
        "/",
        "/o2dms/v1/nowhere",
        "/o2dms/v1/deploymentManagers/edge/nowhere",
    ] {
        let res = send(&client, &srv, &Method::GET, path, None).await;
        unauthenticated(res, BEARER, path).await;
        let res = send(&client, &srv, &Method::GET, path, Some(WRITER)).await;
        problem(res, 404).await;
    }
    // under a deployment manager the token may not use, even an unknown route: 403
    let res = send(
        &client,
        &srv,
        &Method::GET,
        "/o2dms/v1/deploymentManagers/edge/nowhere",
        Some(CORE_ONLY),
    )
    .await;
    problem(res, 403).await;
    // a method a route does not have: 401, then 405 for the writer
    let res = send(&client, &srv, &Method::PUT, dms, None).await;
    unauthenticated(res, BEARER, "PUT").await;
    let res = send(&client, &srv, &Method::PUT, dms, Some(WRITER)).await;
    problem(res, 405).await;
    // a name that is no deployment manager: the limited token learns nothing (403)
    let res = send(
        &client,
        &srv,
        &Method::GET,
        &format!("{dms}/no-such-dm"),
        Some(CORE_ONLY),
    )
    .await;
    problem(res, 403).await;
    let res = send(
        &client,
        &srv,
        &Method::GET,
        &format!("{dms}/no-such-dm"),
        Some(WRITER),
    )
    .await;
    problem(res, 404).await;
}

#[tokio::test]
async fn anonymous_reads_when_allowed_and_writes_still_need_credentials() {
    captured_logs();
    let srv = start_with(|b| b.auth(policy().anonymous(Some(Scope::Read)))).await;
    let client = srv.client.clone();
    let deployments = o2dms_api::paths::deployments(DM);
    let res = send(&client, &srv, &Method::GET, &deployments, None).await;
    json(res, 200).await;
    let res = client
        .post(srv.url(&deployments))
        .header("content-type", "application/json")
        .body(common::create_body("anon").to_string())
        .send()
        .await
        .expect("send");
    unauthenticated(res, BEARER, "POST").await;
    let res = client
        .post(srv.url(&deployments))
        .header("authorization", format!("Bearer {WRITER}"))
        .header("content-type", "application/json")
        .header("prefer", "wait=10")
        .body(common::create_body("by-writer").to_string())
        .send()
        .await
        .expect("send");
    json(res, 201).await;
}

/// A TCP listener that says every connection presented a verified client certificate
/// with `identity`, as a TLS listener with a client CA does.
struct CertificateListener {
    inner: TcpListener,
    identity: Option<ClientIdentity>,
}

impl Listener for CertificateListener {
    type Io = TcpStream;
    type Addr = Peer;

    async fn accept(&mut self) -> (TcpStream, Peer) {
        loop {
            if let Ok((stream, address)) = self.inner.accept().await {
                let peer = Peer::new(address);
                let peer = match &self.identity {
                    Some(id) => peer.with_client_identity(id.clone()),
                    None => peer,
                };
                return (stream, peer);
            }
        }
    }

    fn local_addr(&self) -> io::Result<Peer> {
        self.inner.local_addr().map(Peer::new)
    }
}

/// A server whose every connection comes with `identity`.
async fn start_with_certificate(identity: Option<ClientIdentity>) -> TestServer {
    captured_logs();
    let mock = o2dms_conformance::mock::fixture_mock(None).expect("fixture mock");
    let server = Server::builder()
        .adapter(DM, mock.clone())
        .adapter(CORE, MockAdapter::new())
        .auth(policy())
        .build()
        .expect("server");
    let inner = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let listener = CertificateListener { inner, identity };
    common::serve_with(server, mock, listener).await
}

#[tokio::test]
async fn client_certificates_map_to_their_clients() {
    let smo = ClientIdentity::new()
        .with_common_name("smo")
        .with_dns_name("smo.example.net");
    let srv = start_with_certificate(Some(smo)).await;
    let client = srv.client.clone();
    let edge = o2dms_api::paths::deployments(DM);
    let core = o2dms_api::paths::deployments(CORE);

    // the certificate's client: write on edge only
    json(send(&client, &srv, &Method::GET, &edge, None).await, 200).await;
    let res = client
        .post(srv.url(&edge))
        .header("content-type", "application/json")
        .header("prefer", "wait=10")
        .body(common::create_body("by-cert").to_string())
        .send()
        .await
        .expect("send");
    json(res, 201).await;
    forbidden(
        send(&client, &srv, &Method::GET, &core, None).await,
        &Method::GET,
        &core,
    )
    .await;
    let list = json(
        send(
            &client,
            &srv,
            &Method::GET,
            o2dms_api::paths::DEPLOYMENT_MANAGERS,
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "{list}");
    // an Authorization header decides over the certificate: a token ...
    let res = send(&client, &srv, &Method::GET, &core, Some(READER)).await;
    json(res, 200).await;
    // ... and an unknown one is refused, certificate or not
    let res = send(&client, &srv, &Method::GET, &edge, Some(UNKNOWN)).await;
    unauthenticated(res, INVALID, "unknown token over a certificate").await;

    // a certificate no client matches: 401
    let stranger = start_with_certificate(Some(
        ClientIdentity::new().with_common_name("smo.example.net.evil"),
    ))
    .await;
    let res = send(&stranger.client, &stranger, &Method::GET, &edge, None).await;
    let p = unauthenticated(res, INVALID, "stranger").await;
    assert!(
        p["message"]
            .as_str()
            .unwrap_or_default()
            .contains("client certificate"),
        "{p}"
    );

    // no certificate at all: 401, and the problem says a certificate would do
    let plain = start_with_certificate(None).await;
    let res = send(&plain.client, &plain, &Method::GET, &edge, None).await;
    let p = unauthenticated(res, BEARER, "no certificate").await;
    assert!(
        p["message"]
            .as_str()
            .unwrap_or_default()
            .contains("client certificate"),
        "{p}"
    );
}

#[test]
fn a_policy_that_cannot_be_used_is_refused_when_building() {
    let build = |auth: Auth| {
        Server::builder()
            .adapter(DM, MockAdapter::new())
            .auth(auth)
            .build()
    };
    let same = Auth::new()
        .token("a", WRITER, Access::new(Scope::Write))
        .token("b", WRITER, Access::new(Scope::Read));
    let e = build(same).unwrap_err().to_string();
    assert!(e.contains("same token") && !e.contains(WRITER), "{e}");
    let spaced = Auth::new().token("a", "two words", Access::new(Scope::Write));
    assert!(build(spaced).is_err());
    let shown = format!("{:?}", Server::builder().auth(policy()));
    assert!(
        shown.contains("writer") && !shown.contains(WRITER),
        "{shown}"
    );
}

/// Every log line of this test binary, at trace level.
fn captured_logs() -> &'static Mutex<Vec<u8>> {
    static LOGS: OnceLock<Mutex<Vec<u8>>> = OnceLock::new();
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(|| Capture)
            .try_init();
    });
    LOGS.get_or_init(Mutex::default)
}

struct Capture;

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        captured_logs()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_token_reaches_the_logs_at_trace_level() {
    let srv = start().await;
    let client = srv.client.clone();
    let edge = o2dms_api::paths::deployments(DM);
    for token in [WRITER, READER, CORE_ONLY, UNKNOWN] {
        for method in [Method::GET, Method::POST] {
            let _ = send(&client, &srv, &method, &edge, Some(token)).await;
        }
    }
    let _ = send(&client, &srv, &Method::GET, &edge, None).await;
    drop(srv);
    let logs = String::from_utf8_lossy(&captured_logs().lock().unwrap_or_else(|e| e.into_inner()))
        .into_owned();
    // the logs were verbose, and name the principals ...
    assert!(logs.contains("TRACE") || logs.contains("DEBUG"), "{logs}");
    assert!(logs.contains("principal=writer"), "{logs}");
    assert!(logs.contains("request refused"), "{logs}");
    // ... never their tokens
    for token in [WRITER, READER, CORE_ONLY, UNKNOWN] {
        assert!(!logs.contains(token), "a token reached the logs:\n{logs}");
    }
}
