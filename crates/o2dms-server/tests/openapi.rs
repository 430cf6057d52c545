//! The server against its OpenAPI document: the checker every test's responses go
//! through refuses what the document does not say; the server routes exactly the
//! documented methods of every template.

mod common;

use common::openapi::{assert_conforms, Answer, Document};
use common::{create_body, start, DM};
use o2dms_api::paths;
use reqwest::Method;
use serde_json::Value;

/// A real response: method, path, status, headers, body.
struct Received {
    method: &'static str,
    path: String,
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn answer(&self) -> Answer<'_> {
        Answer {
            method: self.method,
            path: &self.path,
            status: self.status,
            headers: &self.headers,
            body: &self.body,
        }
    }

    fn with_body(&self, body: &Value) -> Received {
        Received {
            method: self.method,
            path: self.path.clone(),
            status: self.status,
            headers: self.headers.clone(),
            body: body.to_string().into_bytes(),
        }
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// A response read with reqwest itself, unchecked.
async fn unchecked(
    srv: &common::TestServer,
    method: &'static str,
    path: &str,
    body: Option<&Value>,
) -> Received {
    let mut req = srv.client.0.request(method.parse().unwrap(), srv.url(path));
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(b.to_string());
    }
    let res = req.send().await.unwrap();
    Received {
        method,
        path: path.to_owned(),
        status: res.status().as_u16(),
        headers: res
            .headers()
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or_default().to_owned()))
            .collect(),
        body: res.bytes().await.unwrap().to_vec(),
    }
}

fn refused(r: &Received, why: &str) -> String {
    let err = Document::shared()
        .check(&r.answer())
        .expect_err("the checker accepted what the document does not say");
    assert!(err.contains(why), "{err}");
    err
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_checker_refuses_what_the_document_does_not_say() {
    let srv = start().await;
    let base = paths::deployments(DM);
    let created = unchecked(&srv, "POST", &base, Some(&create_body("du-1"))).await;
    assert_eq!(created.status, 202);
    let op = created
        .headers
        .iter()
        .find(|(n, _)| n == "location")
        .map(|(_, v)| v.clone())
        .unwrap();
    srv.poll_final(&op).await;
    let got = unchecked(&srv, "GET", &format!("{base}/ran/du-1"), None).await;
    assert_eq!(got.status, 200);
    Document::shared().check(&got.answer()).unwrap();
    Document::shared().check(&created.answer()).unwrap();

    // a body that breaks the schema: a required member missing, a value not in its enum
    let mut d = got.json();
    d.as_object_mut().unwrap().remove("revision");
    refused(&got.with_body(&d), "revision");
    let mut d = got.json();
    d["status"] = "running".into();
    refused(&got.with_body(&d), "running");
    let mut d = got.json();
    d["createdAt"] = "yesterday".into();
    refused(&got.with_body(&d), "date-time");
    let mut op_body = created.json();
    op_body["state"] = "DONE".into();
    refused(&created.with_body(&op_body), "DONE");
    refused(&got.with_body(&Value::from("text")), "body does not match");

    // a media type, a status, a header the document does not have
    let mut r = got.with_body(&got.json());
    for (n, v) in &mut r.headers {
        if n == "content-type" {
            *v = "text/plain".to_owned();
        }
    }
    refused(&r, "text/plain");
    let mut r = got.with_body(&got.json());
    r.status = 418;
    refused(&r, "418 is not documented");
    let mut r = created.with_body(&created.json());
    r.headers.retain(|(n, _)| n != "location");
    refused(&r, "Location");
    let mut r = got.with_body(&got.json());
    r.headers.retain(|(n, _)| n != "version");
    refused(&r, "Version");
    let mut r = got.with_body(&got.json());
    r.path = "/o2dms/v1/nothing".to_owned();
    refused(&r, "not 404");
    // a problem whose status member is not the response's
    let missing = unchecked(&srv, "GET", &format!("{base}/ran/nope"), None).await;
    assert_eq!(missing.status, 404);
    Document::shared().check(&missing.answer()).unwrap();
    let mut p = missing.json();
    p["status"] = 409.into();
    refused(&missing.with_body(&p), "404");

    // and the test helper fails the test, naming the request and the error
    let bad = got.with_body(&Value::from(1));
    let message = std::panic::catch_unwind(|| assert_conforms(&bad.answer()))
        .expect_err("a body that breaks the schema fails the test");
    let message = message
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(
        message.contains(&format!("GET {base}/ran/du-1 answered 200")),
        "{message}"
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_routes_exactly_the_documented_methods() {
    let srv = start().await;
    let doc = serde_json::to_value(o2dms_api::openapi::document()).unwrap();
    let fill = [
        ("{dm}", DM),
        ("{namespace}", "ran"),
        ("{name}", "du-1"),
        ("{packageId}", "web@0.1.0"),
        ("{operationId}", "op-1"),
    ];
    let mut routed = 0;
    for (template, item) in doc["paths"].as_object().unwrap() {
        let path = fill
            .iter()
            .fold(template.clone(), |p, (k, v)| p.replace(k, v));
        for method in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ] {
            let documented = item.get(method.as_str().to_ascii_lowercase()).is_some();
            // the checked client: the answer must also match the document
            let res = srv
                .client
                .request(method.clone(), srv.url(&path))
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let body: Value = serde_json::from_str(&res.text().await.unwrap()).unwrap_or_default();
            if documented {
                routed += 1;
                assert_ne!(status, 405, "{method} {template} is not routed: {body}");
                assert_ne!(
                    body["type"], "urn:o2dms:problem:no_route",
                    "{method} {template}"
                );
            } else {
                assert_eq!(status, 405, "{method} {template} is routed: {body}");
            }
        }
    }
    assert_eq!(routed, 21);
    srv.stop().await;
}
