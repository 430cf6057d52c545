//! Writes as operations over real HTTP: 202 + Location, polling, Prefer: wait.

mod common;

use common::{create_body, json, start, DM};
use reqwest::Method;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_is_accepted_then_completes() {
    let srv = start().await;
    let res = srv
        .send_json(
            Method::POST,
            &format!("/o2dms/v1/deploymentManagers/{DM}/deployments"),
            &create_body("du-1"),
            None,
        )
        .await;
    assert_eq!(res.status().as_u16(), 202);
    assert_eq!(res.headers()["version"], "1.0.0");
    assert!(res.headers().contains_key("x-request-id"));
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(&format!("/o2dms/v1/deploymentManagers/{DM}/operations/")));
    let accepted = json(res, 202).await;
    assert_eq!(accepted["operation"], "create_deployment");
    assert!(["STARTING", "PROCESSING", "COMPLETED"].contains(&accepted["state"].as_str().unwrap()));

    let done = srv.poll_final(&location).await;
    assert_eq!(done["state"], "COMPLETED", "{done}");
    assert_eq!(done["revision"], 1);
    assert_eq!(done["result"]["name"], "du-1");
    assert!(done["endTime"].is_string() && done["startTime"].is_string());

    let d = json(
        srv.get(&format!(
            "/o2dms/v1/deploymentManagers/{DM}/deployments/ran/du-1"
        ))
        .await,
        200,
    )
    .await;
    assert_eq!(d["revision"], 1);
    assert_eq!(d["package"], "web@0.1.0");

    // the operations list finds it by deployment and state
    let list = json(
        srv.get(&format!(
            "/o2dms/v1/deploymentManagers/{DM}/operations?namespace=ran&name=du-1&states=COMPLETED"
        ))
        .await,
        200,
    )
    .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["total"], 1);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefer_wait_answers_as_in_process() {
    let srv = start().await;
    let base = format!("/o2dms/v1/deploymentManagers/{DM}/deployments");
    let res = srv
        .send_json(Method::POST, &base, &create_body("du-2"), Some(10))
        .await;
    assert_eq!(res.headers()["preference-applied"], "wait=10");
    assert_eq!(res.headers()["location"], format!("{base}/ran/du-2"));
    let d = json(res, 201).await;
    assert_eq!(d["revision"], 1);

    let res = srv
        .send_json(
            Method::POST,
            &format!("{base}/ran/du-2/scale"),
            &json!({"replicas": 3}),
            Some(10),
        )
        .await;
    assert_eq!(json(res, 200).await["revision"], 2);

    let res = srv
        .send_json(
            Method::PATCH,
            &format!("{base}/ran/du-2"),
            &json!({"package": "web@2.0.0"}),
            Some(10),
        )
        .await;
    assert_eq!(json(res, 200).await["package"], "web@2.0.0");

    // rollback with no body at all: the previous revision
    let res = srv
        .client
        .post(srv.url(&format!("{base}/ran/du-2/rollback")))
        .header("prefer", "wait=10")
        .send()
        .await
        .unwrap();
    assert_eq!(json(res, 200).await["revision"], 4);

    let history = json(srv.get(&format!("{base}/ran/du-2/history")).await, 200).await;
    assert!(history.to_string().contains("web@2.0.0"));
    json(srv.get(&format!("{base}/ran/du-2/status")).await, 200).await;

    let res = srv
        .client
        .delete(srv.url(&format!("{base}/ran/du-2")))
        .header("prefer", "wait=10")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 204);
    let list = json(srv.get(&format!("{base}?namespace=ran")).await, 200).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn packages_upload_get_delete() {
    let srv = start().await;
    let base = format!("/o2dms/v1/deploymentManagers/{DM}/packages");
    let list = json(srv.get(&format!("{base}?name=web")).await, 200).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2);

    let res = srv
        .client
        .post(srv.url(&format!("{base}?name=tiny&version=1.0.0")))
        .header("content-type", "application/gzip")
        .header("prefer", "wait=10")
        .body(o2dms_conformance::tiny_chart("tiny", "1.0.0"))
        .send()
        .await
        .unwrap();
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let p = json(res, 201).await;
    assert_eq!(p["name"], "tiny");
    assert_eq!(json(srv.get(&location).await, 200).await["id"], p["id"]);

    // without a wait: 202, then the operation has the package
    let res = srv.client.delete(srv.url(&location)).send().await.unwrap();
    let op = res.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(res.status().as_u16(), 202);
    assert_eq!(srv.poll_final(&op).await["state"], "COMPLETED");
    common::problem(srv.get(&location).await, 404).await;
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn managers_info_capabilities_health() {
    let srv = start().await;
    let list = json(srv.get("/o2dms/v1/deploymentManagers").await, 200).await;
    assert_eq!(list["items"][0]["name"], DM);
    assert_eq!(list["items"][0]["type"], "mock");
    for p in ["", "/info", "/capabilities", "/health"] {
        json(
            srv.get(&format!("/o2dms/v1/deploymentManagers/{DM}{p}"))
                .await,
            200,
        )
        .await;
    }
    srv.stop().await;
}
