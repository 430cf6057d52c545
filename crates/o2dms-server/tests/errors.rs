//! Every error kind over real HTTP, sync (reads) and async (writes), from the mock's
//! fault injection; bad input as problems naming what is wrong; panics as problems.

mod common;

use std::time::Duration;

use common::{create_body, json, problem, raw, start, DM};
use o2dms_core::{Error, Operation, Resource};
use reqwest::Method;
use serde_json::json;

fn kinds() -> Vec<(Error, u16, &'static str, &'static str)> {
    vec![
        (
            Error::not_found(Resource::Deployment, "ran/x"),
            404,
            "not_found",
            "resource",
        ),
        (
            Error::already_exists(Resource::Deployment, "ran/x"),
            409,
            "already_exists",
            "id",
        ),
        (
            Error::conflict(Resource::Deployment, "ran/x", "busy"),
            409,
            "conflict",
            "reason",
        ),
        (
            Error::invalid("values.image", "bad"),
            422,
            "invalid_argument",
            "field",
        ),
        (
            Error::permission_denied("create secrets", "no"),
            403,
            "permission_denied",
            "action",
        ),
        (
            Error::unsupported("create_deployment", "no"),
            501,
            "unsupported",
            "operation",
        ),
        (
            Error::timeout("create_deployment", Duration::from_secs(2), "Failed"),
            504,
            "timeout",
            "limitSeconds",
        ),
        (Error::unavailable("down"), 503, "unavailable", "message"),
        (Error::backend("boom"), 502, "backend", "message"),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_with_its_status_and_members() {
    let srv = start().await;
    let base = format!("/o2dms/v1/deploymentManagers/{DM}/deployments");
    for (i, (err, status, kind, member)) in kinds().into_iter().enumerate() {
        // a read: the problem at once
        srv.mock
            .faults()
            .fail_next(Operation::GetDeployment, 1, err.clone());
        let p = problem(srv.get(&format!("{base}/ran/du-1")).await, status).await;
        assert_eq!(p["kind"], kind);
        assert!(!p[member].is_null(), "{p}");
        assert_eq!(p["instance"], format!("{base}/ran/du-1"));
        let back: o2dms_api::Problem = serde_json::from_value(p).unwrap();
        assert_eq!(back.into_error(), err);

        // a write, waited for: the problem as the in-process call would fail
        srv.mock
            .faults()
            .fail_next(Operation::CreateDeployment, 1, err.clone());
        let name = format!("w{i}");
        let p = problem(
            srv.send_json(Method::POST, &base, &create_body(&name), Some(10))
                .await,
            status,
        )
        .await;
        assert_eq!(p["kind"], kind);

        // a write, not waited for: 202, then FAILED with the problem
        srv.mock
            .faults()
            .fail_next(Operation::CreateDeployment, 1, err.clone());
        let res = srv
            .send_json(Method::POST, &base, &create_body(&name), None)
            .await;
        let op = res.headers()["location"].to_str().unwrap().to_owned();
        assert_eq!(res.status().as_u16(), 202);
        let done = srv.poll_final(&op).await;
        assert_eq!(done["state"], "FAILED");
        assert_eq!(done["error"]["status"], status);
        assert_eq!(done["error"]["kind"], kind);
        assert_eq!(done["error"]["instance"], op);
    }
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_a_problem_naming_what_is_wrong() {
    let srv = start_limited().await;
    let base = format!("/o2dms/v1/deploymentManagers/{DM}/deployments");
    let post = |body: &'static str, ct: &'static str| {
        srv.client
            .post(srv.url(&base))
            .header("content-type", ct)
            .body(body)
            .send()
    };
    let p = problem(post("not json", "application/json").await.unwrap(), 400).await;
    assert_eq!(p["field"], "body");
    assert_eq!(p["type"], "urn:o2dms:problem:malformed_body");
    let p = problem(
        post("{\"namespace\": ", "application/json").await.unwrap(),
        400,
    )
    .await;
    assert_eq!(p["field"], "namespace");
    let p = problem(
        post(
            r#"{"namespace":"ran","name":"a","package":"web@0.1.0","labels":[1]}"#,
            "application/json",
        )
        .await
        .unwrap(),
        400,
    )
    .await;
    assert_eq!(p["field"], "labels");
    let p = problem(
        post(
            r#"{"namespace":"ran","name":"a","package":"web@0.1.0","valeus":{}}"#,
            "application/json",
        )
        .await
        .unwrap(),
        400,
    )
    .await;
    assert_eq!(p["field"], "valeus");
    let p = problem(
        post(r#"{"namespace":"ran"}"#, "text/plain").await.unwrap(),
        415,
    )
    .await;
    assert_eq!(p["field"], "Content-Type");
    // core rules: 422 as in process
    let p = problem(
        srv.send_json(
            Method::POST,
            &base,
            &json!({"namespace":"RAN","name":"a","package":"web@0.1.0"}),
            None,
        )
        .await,
        422,
    )
    .await;
    assert_eq!(p["field"], "namespace");
    // oversized, with and without a length
    let big = format!(
        r#"{{"namespace":"ran","name":"a","package":"web@0.1.0","description":"{}"}}"#,
        "x".repeat(5000)
    );
    let p = problem(
        srv.client
            .post(srv.url(&base))
            .header("content-type", "application/json")
            .body(big.clone())
            .send()
            .await
            .unwrap(),
        413,
    )
    .await;
    assert_eq!(p["field"], "body");
    // chunked, no length given
    let chunked = format!("{:x}\r\n{big}\r\n0\r\n\r\n", big.len());
    let (got, body) = raw(
        srv.addr,
        "POST",
        &base,
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n",
        chunked.as_bytes(),
    )
    .await;
    assert_eq!(got, 413, "{body}");
    assert!(body.contains("body_too_large"));
    // bad queries, huge page limits
    let p = problem(srv.get(&format!("{base}?namespce=ran")).await, 400).await;
    assert_eq!(p["field"], "namespce");
    let p = problem(srv.get(&format!("{base}?limit=99999999999")).await, 400).await;
    assert_eq!(p["field"], "limit");
    let p = problem(srv.get(&format!("{base}?limit=100000")).await, 422).await;
    assert_eq!(p["field"], "limit");
    let p = problem(
        srv.get(&format!(
            "/o2dms/v1/deploymentManagers/{DM}/operations?limit=100000"
        ))
        .await,
        422,
    )
    .await;
    assert_eq!(p["field"], "limit");
    // unknown deployment manager, route, method, operation
    let p = problem(
        srv.get("/o2dms/v1/deploymentManagers/nope/deployments")
            .await,
        404,
    )
    .await;
    assert_eq!(p["resource"], "deployment_manager");
    problem(srv.get("/o2dms/v1/nothing").await, 404).await;
    problem(srv.client.put(srv.url(&base)).send().await.unwrap(), 405).await;
    let p = problem(
        srv.get(&format!(
            "/o2dms/v1/deploymentManagers/{DM}/operations/op-1"
        ))
        .await,
        404,
    )
    .await;
    assert_eq!(p["resource"], "operation");
    srv.stop().await;
}

async fn start_limited() -> common::TestServer {
    common::start_with(|b| b.body_limit(4096)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_path_segments_and_traversal() {
    let srv = start().await;
    let cases: &[(&str, u16, &str)] = &[
        ("/o2dms/v1/deploymentManagers/Edge/info", 400, "dm"),
        (
            "/o2dms/v1/deploymentManagers/edge/deployments/RAN/du",
            400,
            "namespace",
        ),
        (
            "/o2dms/v1/deploymentManagers/edge/deployments/ran/du_1",
            400,
            "name",
        ),
        (
            "/o2dms/v1/deploymentManagers/edge/deployments/../du",
            400,
            "namespace",
        ),
        (
            "/o2dms/v1/deploymentManagers/edge/deployments/%2e%2e/du",
            400,
            "namespace",
        ),
        (
            "/o2dms/v1/deploymentManagers/edge/deployments/ran%2F..%2Fkube-system/du",
            400,
            "namespace",
        ),
        (
            "/o2dms/v1/deploymentManagers/edge/deployments/ran/%ZZ",
            400,
            "name",
        ),
        ("/o2dms/v1/deploymentManagers/%2e%2e/info", 400, "dm"),
        // package ids are opaque to the server (the core accepts `/` and `..` in them):
        // one segment, handed to the adapter, which does not find it
        (
            "/o2dms/v1/deploymentManagers/edge/packages/..%2F..%2Fetc%2Fpasswd",
            404,
            "",
        ),
        (
            "/o2dms/v1/deploymentManagers/edge/packages/du%201",
            400,
            "packageId",
        ),
        (
            "/o2dms/v1/deploymentManagers/edge/operations/a%2Fb",
            400,
            "operationId",
        ),
        (
            "/o2dms/v1/deploymentManagers/edge/deployments/ran/du/../../../info",
            404,
            "",
        ),
    ];
    for (path, status, field) in cases {
        let (got, body) = raw(srv.addr, "GET", path, "", b"").await;
        assert_eq!(got, *status, "{path}: {body}");
        let p: serde_json::Value =
            serde_json::from_str(&body).unwrap_or_else(|_| panic!("{path}: {body}"));
        if !field.is_empty() {
            assert_eq!(p["field"], *field, "{path}");
        }
    }
    // a bad segment is refused before the body is looked at
    let (got, body) = raw(
        srv.addr,
        "POST",
        "/o2dms/v1/deploymentManagers/edge/deployments/%2e%2e/du/scale",
        "Content-Type: text/plain\r\n",
        b"not json",
    )
    .await;
    assert_eq!(got, 400, "{body}");
    assert!(body.contains("\"field\":\"namespace\""));
    srv.stop().await;
}

/// An adapter that panics in every call.
struct Panics;

#[async_trait::async_trait]
impl o2dms_core::DmsAdapter for Panics {
    fn info(&self) -> o2dms_core::AdapterInfo {
        o2dms_core::AdapterInfo::new("panics", "0", "none")
    }
    fn capabilities(&self) -> o2dms_core::Capabilities {
        o2dms_core::Capabilities::none()
    }
    async fn health(&self) -> o2dms_core::Result<o2dms_core::Health> {
        panic!("health panicked")
    }
    async fn list_deployments(
        &self,
        _: &o2dms_core::DeploymentFilter,
    ) -> o2dms_core::Result<o2dms_core::Page<o2dms_core::Deployment>> {
        panic!("list panicked")
    }
    async fn get_deployment(
        &self,
        _: &o2dms_core::DeploymentId,
    ) -> o2dms_core::Result<o2dms_core::Deployment> {
        panic!("get panicked")
    }
    async fn create_deployment(
        &self,
        _: o2dms_core::CreateDeployment,
    ) -> o2dms_core::Result<o2dms_core::Deployment> {
        panic!("create panicked")
    }
    async fn update_deployment(
        &self,
        _: &o2dms_core::DeploymentId,
        _: o2dms_core::UpdateDeployment,
    ) -> o2dms_core::Result<o2dms_core::Deployment> {
        panic!("update panicked")
    }
    async fn delete_deployment(&self, _: &o2dms_core::DeploymentId) -> o2dms_core::Result<()> {
        panic!("delete panicked")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panics_become_problems() {
    let mock = o2dms_mock::MockAdapter::new();
    let server = o2dms_server::Server::builder()
        .adapter("bad", Panics)
        .build()
        .unwrap();
    let srv = common::serve(server, mock).await;
    let p = problem(
        srv.get("/o2dms/v1/deploymentManagers/bad/health").await,
        500,
    )
    .await;
    assert_eq!(p["type"], "urn:o2dms:problem:internal");
    let res = srv
        .send_json(
            Method::POST,
            "/o2dms/v1/deploymentManagers/bad/deployments",
            &create_body("a"),
            Some(5),
        )
        .await;
    let p = problem(res, 502).await;
    assert!(p["detail"].as_str().unwrap().contains("panicked"));
    // the server still answers
    json(srv.get("/o2dms/v1/deploymentManagers").await, 200).await;
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_operations_finish_and_reports_the_rest() {
    let srv = common::start_with(|b| b.shutdown_grace(Duration::from_millis(300))).await;
    let base = format!("/o2dms/v1/deploymentManagers/{DM}/deployments");
    srv.mock
        .faults()
        .latency(Operation::CreateDeployment, Duration::from_millis(100));
    let res = srv
        .send_json(Method::POST, &base, &create_body("quick"), None)
        .await;
    assert_eq!(res.status().as_u16(), 202);
    let report = srv.stop().await;
    assert!(report.unfinished.is_empty(), "{report:?}");

    let srv = common::start_with(|b| b.shutdown_grace(Duration::from_millis(200))).await;
    srv.mock
        .faults()
        .latency(Operation::CreateDeployment, Duration::from_secs(5));
    let res = srv
        .send_json(Method::POST, &base, &create_body("slow"), None)
        .await;
    assert_eq!(res.status().as_u16(), 202);
    let report = srv.stop().await;
    assert_eq!(report.unfinished.len(), 1);
    assert_eq!(report.unfinished[0].operation, Operation::CreateDeployment);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wait_that_runs_out_answers_202() {
    let srv = start().await;
    let base = format!("/o2dms/v1/deploymentManagers/{DM}/deployments");
    srv.mock
        .faults()
        .latency(Operation::CreateDeployment, Duration::from_millis(1500));
    let res = srv
        .send_json(Method::POST, &base, &create_body("late"), Some(1))
        .await;
    assert_eq!(res.headers()["preference-applied"], "wait=1");
    let op = res.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(json(res, 202).await["operation"], "create_deployment");
    assert_eq!(srv.poll_final(&op).await["state"], "COMPLETED");
    srv.stop().await;
}
