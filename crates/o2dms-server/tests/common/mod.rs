//! A real server on 127.0.0.1 (port 0) over the fixture mock, and HTTP helpers. Every
//! response the helpers receive (the client's, `raw`'s) is checked against the OpenAPI
//! document ([`openapi`]): one that does not match fails the test.
#![allow(dead_code)]

pub mod openapi;

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
    pub client: Client,
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
    serve_with(server, mock, listener).await
}

/// Serves on any listener bound to a loopback address.
pub async fn serve_with<L>(server: Server, mock: MockAdapter, listener: L) -> TestServer
where
    L: o2dms_server::Listener,
    L::Addr: o2dms_server::PeerInfo + std::fmt::Debug,
{
    use o2dms_server::PeerInfo as _;
    let addr = listener
        .local_addr()
        .expect("addr")
        .peer()
        .address()
        .expect("an IP address");
    let (tx, rx) = oneshot::channel::<()>();
    let join = tokio::spawn(server.serve_with(listener, async move {
        let _ = rx.await;
    }));
    TestServer {
        addr,
        mock,
        client: Client(
            reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .expect("client"),
        ),
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
    let (head, body) = match out.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(i) => (&out[..i], &out[i + 4..]),
        None => (&out[..], &[][..]),
    };
    let head = String::from_utf8_lossy(head).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let chunked = headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_vec()
    };
    openapi::assert_conforms(&openapi::Answer {
        method,
        path,
        status,
        headers: &headers,
        body: &body,
    });
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// The body of a chunked transfer coding (what is malformed ends it).
fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(i) = rest.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&rest[..i])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or("").trim(), 16).ok());
        let Some(size) = size.filter(|n| *n > 0) else {
            break;
        };
        let Some(chunk) = rest.get(i + 2..i + 2 + size) else {
            break;
        };
        out.extend_from_slice(chunk);
        rest = rest.get(i + 4 + size..).unwrap_or_default();
    }
    out
}

/// The test client: reqwest's, with every response checked against the OpenAPI
/// document before the test sees it.
#[derive(Clone)]
pub struct Client(pub reqwest::Client);

impl Client {
    /// A request of `method` to `url`.
    pub fn request(&self, method: reqwest::Method, url: impl reqwest::IntoUrl) -> RequestBuilder {
        RequestBuilder {
            client: self.0.clone(),
            inner: self.0.request(method, url),
        }
    }

    pub fn get(&self, url: impl reqwest::IntoUrl) -> RequestBuilder {
        self.request(reqwest::Method::GET, url)
    }

    pub fn post(&self, url: impl reqwest::IntoUrl) -> RequestBuilder {
        self.request(reqwest::Method::POST, url)
    }

    pub fn put(&self, url: impl reqwest::IntoUrl) -> RequestBuilder {
        self.request(reqwest::Method::PUT, url)
    }

    pub fn patch(&self, url: impl reqwest::IntoUrl) -> RequestBuilder {
        self.request(reqwest::Method::PATCH, url)
    }

    pub fn delete(&self, url: impl reqwest::IntoUrl) -> RequestBuilder {
        self.request(reqwest::Method::DELETE, url)
    }
}

/// A request of the test [`Client`].
pub struct RequestBuilder {
    client: reqwest::Client,
    inner: reqwest::RequestBuilder,
}

impl RequestBuilder {
    pub fn header(self, name: &str, value: impl AsRef<str>) -> Self {
        RequestBuilder {
            inner: self.inner.header(name, value.as_ref()),
            ..self
        }
    }

    pub fn body(self, body: impl Into<reqwest::Body>) -> Self {
        RequestBuilder {
            inner: self.inner.body(body),
            ..self
        }
    }

    /// Sends the request; the response, once checked against the document (a response
    /// that does not match fails the test), with its body read and put back.
    pub async fn send(self) -> reqwest::Result<reqwest::Response> {
        let req = self.inner.build()?;
        let method = req.method().clone();
        let path = match req.url().query() {
            Some(q) => format!("{}?{q}", req.url().path()),
            None => req.url().path().to_owned(),
        };
        let res = self.client.execute(req).await?;
        let (status, version, headers) = (res.status(), res.version(), res.headers().clone());
        let body = res.bytes().await?;
        let pairs: Vec<(String, String)> = headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        openapi::assert_conforms(&openapi::Answer {
            method: method.as_str(),
            path: &path,
            status: status.as_u16(),
            headers: &pairs,
            body: &body,
        });
        let mut rebuilt = http::Response::new(body);
        *rebuilt.status_mut() = status;
        *rebuilt.version_mut() = version;
        *rebuilt.headers_mut() = headers;
        Ok(reqwest::Response::from(rebuilt))
    }
}

pub fn create_body(name: &str) -> Value {
    serde_json::json!({"namespace": "ran", "name": name, "package": "web@0.1.0"})
}
