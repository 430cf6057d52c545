//! The JSON of representative bodies, as clients see it.

use std::time::Duration;

use o2dms_api::{wire, Problem};
use o2dms_core::*;

fn at(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).unwrap()
}

fn deployment() -> Deployment {
    let mut values = Values::new();
    values.insert("replicaCount", 2);
    values.set_path("image.tag", "1.2.0");
    Deployment {
        id: DeploymentId::new("ran", "du-1").unwrap(),
        package: PackageId::new("du@1.2.0").unwrap(),
        revision: 2,
        status: DeploymentStatus::Deployed,
        description: "Upgrade complete".into(),
        labels: [("tier".to_owned(), "edge".to_owned())].into(),
        values,
        created_at: at("2026-01-12T10:00:00Z"),
        updated_at: at("2026-01-12T10:05:30.250Z"),
        extensions: [("helm.releaseName".to_owned(), Value::from("du-1"))].into(),
    }
}

#[test]
fn deployment_page() {
    let page = Page {
        items: vec![deployment()],
        continue_token: Some("ran/du-1".into()),
        total: Some(3),
    };
    insta::assert_json_snapshot!(wire::Page::<wire::Deployment>::from(page));
}

#[test]
fn create_request() {
    let r = CreateDeployment::new(
        DeploymentId::new("ran", "du-1").unwrap(),
        PackageId::new("du@1.2.0").unwrap(),
    )
    .label("tier", "edge")
    .timeout(Duration::from_millis(90_500))
    .scale_key("server.replicas");
    insta::assert_json_snapshot!(wire::CreateDeploymentRequest::from(r));
}

#[test]
fn problems() {
    let not_found = Error::not_found(Resource::Deployment, "ran/du-9");
    let invalid = Error::invalid(
        "labels[Tier]",
        "key name must start and end with a letter or digit",
    );
    let timeout = Error::timeout(
        "create_deployment",
        Duration::from_secs(120),
        "deployment is Failed",
    );
    let instance = "/o2dms/v1/deploymentManagers/edge/deployments/ran/du-9";
    insta::assert_json_snapshot!(vec![
        Problem::from_error(&not_found, Some(instance)),
        Problem::from_error(&invalid, None),
        Problem::from_error(&timeout, None),
    ]);
}

#[test]
fn failed_and_completed_operations() {
    let base = wire::OperationOccurrence {
        id: "7f1c2d".into(),
        operation: Operation::ScaleDeployment,
        target: wire::OperationTarget::Deployment {
            namespace: "ran".into(),
            name: "du-1".into(),
        },
        deployment_manager: "edge".into(),
        state: wire::OperationState::Completed,
        start_time: at("2026-01-12T10:05:00Z"),
        state_entered_time: at("2026-01-12T10:05:30.250Z"),
        end_time: Some(at("2026-01-12T10:05:30.250Z")),
        revision: Some(2),
        result: Some(deployment().into()),
        package: None,
        error: None,
    };
    let failed = wire::OperationOccurrence {
        state: wire::OperationState::Failed,
        revision: None,
        result: None,
        error: Some(Problem::from_error(
            &Error::conflict(
                Resource::Deployment,
                "ran/du-1",
                "another operation is in progress",
            ),
            Some("/o2dms/v1/deploymentManagers/edge/operations/7f1c2d"),
        )),
        ..base.clone()
    };
    insta::assert_json_snapshot!(vec![base, failed]);
}
