//! A real server on 127.0.0.1 (port 0) over the fixture mock, and HTTP helpers.
#![allow(dead_code)]

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use o2dms_mock::MockAdapter;
use o2dms_server::{Server, ServerBuilder, ShutdownReport};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The deployment manager name the tests use.
pub const DM: &str = "edge";

/// A running server; dropping it shuts it down.
pub struct TestServer {
    pub addr: SocketAddr,
    pub mock: MockAdapter,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    join: Option<JoinHandle<io::Result<ShutdownReport>>>,
}

pub async fn start() -> TestServer {
    start_with(|b| b).await
}

pub async fn start_with(configure: impl FnOnce(ServerBuilder) -> ServerBuilder) -> TestServer {
    let mock = o2dms_conformance::mock::fixture_mock(None).expect("fixture mock");
    let server = configure(Server::builder().adapter(DM, mock.clone()))
        .build()
        .expect("server");
    serve(server, mock).await
}

pub async fn serve(server: Server, mock: MockAdapter) -> TestServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = oneshot::channel::<()>();
    let join = tokio::spawn(server.serve(listener, async move {
        let _ = rx.await;
    }));
    TestServer {
        addr,
        mock,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .expect("client"),
        stop: Some(tx),
        join: Some(join),
    }
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Shuts the server down and returns its report.
    pub async fn stop(mut self) -> ShutdownReport {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let join = self.join.take().expect("running");
        tokio::time::timeout(Duration::from_secs(30), join)
            .await
            .expect("shutdown in time")
            .expect("no panic")
            .expect("serve ok")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("send")
    }

    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &Value,
        wait: Option<u64>,
    ) -> reqwest::Response {
        let mut req = self
            .client
            .request(method, self.url(path))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(w) = wait {
            req = req.header("prefer", format!("wait={w}"));
        }
        req.send().await.expect("send")
    }

    /// Polls an operation path until it is final (bounded).
    pub async fn poll_final(&self, path: &str) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let v: Value = json(self.get(path).await, 200).await;
            let state = v["state"].as_str().unwrap_or_default().to_owned();
            if ["COMPLETED", "FAILED"].contains(&state.as_str()) {
                return v;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "operation never ended: {v}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// The JSON body of a response of `status`.
pub async fn json(res: reqwest::Response, status: u16) -> Value {
    let got = res.status().as_u16();
    let text = res.text().await.expect("body");
    assert_eq!(got, status, "body: {text}");
    serde_json::from_str(&text).expect("json body")
}

/// The problem of a response of `status`, checking the media type and members.
pub async fn problem(res: reqwest::Response, status: u16) -> Value {
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(ct, "application/problem+json");
    let p = json(res, status).await;
    assert_eq!(p["status"], status);
    assert!(
        p["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("urn:o2dms:problem:")),
        "{p}"
    );
    p
}

/// One raw HTTP/1.1 request (the path sent exactly as given: no client normalises it);
/// the status and body.
pub async fn raw(
    addr: SocketAddr,
    method: &str,
    path: &str,
    extra: &str,
    body: &[u8],
) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let length = if extra.contains("Transfer-Encoding") {
        String::new()
    } else {
        format!("Content-Length: {}\r\n", body.len())
    };
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{length}{extra}\r\n"
    );
    s.write_all(head.as_bytes()).await.expect("write");
    s.write_all(body).await.expect("write");
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
        .await
        .expect("answer in time")
        .expect("read");
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

pub fn create_body(name: &str) -> Value {
    serde_json::json!({"namespace": "ran", "name": name, "package": "web@0.1.0"})
}
