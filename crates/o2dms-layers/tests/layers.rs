//! The wrappers around the mock: events in order with the right kinds, and timeouts.

use std::time::Duration;

use o2dms_core::{
    CreateDeployment, DeploymentId, DmsAdapter, Error, ErrorKind, EventPhase, Operation, PackageId,
    ScaleRequest,
};
use o2dms_layers::{Events, TimeoutLimits, Timeouts};
use o2dms_mock::{MockAdapter, PackageSpec};

fn mock() -> MockAdapter {
    MockAdapter::builder()
        .package(PackageSpec::new("web", "1.0.0"))
        .build()
}

#[tokio::test]
async fn every_mutation_emits_started_then_its_end_with_one_id() {
    let adapter = Events::new(mock());
    let mut rx = adapter.subscribe();
    let id = DeploymentId::new("ns", "web").unwrap();
    let create = CreateDeployment::new(id.clone(), PackageId::new("web@1.0.0").unwrap());
    adapter.create_deployment(create.clone()).await.unwrap();
    assert_eq!(
        adapter.create_deployment(create).await.unwrap_err().kind(),
        ErrorKind::AlreadyExists
    );
    adapter.get_deployment(&id).await.unwrap(); // reads emit nothing
    adapter
        .scale_deployment(&id, ScaleRequest::to(2))
        .await
        .unwrap();

    let mut seen = Vec::new();
    while let Ok(e) = rx.try_recv() {
        seen.push(e);
    }
    let phases: Vec<_> = seen
        .iter()
        .map(|e| (e.operation, e.phase.clone()))
        .collect();
    assert_eq!(
        phases,
        vec![
            (Operation::CreateDeployment, EventPhase::Started),
            (
                Operation::CreateDeployment,
                EventPhase::Succeeded { revision: Some(1) }
            ),
            (Operation::CreateDeployment, EventPhase::Started),
            (
                Operation::CreateDeployment,
                EventPhase::Failed {
                    kind: ErrorKind::AlreadyExists,
                    message: "deployment `ns/web` already exists".into()
                }
            ),
            (Operation::ScaleDeployment, EventPhase::Started),
            (
                Operation::ScaleDeployment,
                EventPhase::Succeeded { revision: Some(2) }
            ),
        ]
    );
    assert!(seen.iter().all(|e| e.target == "ns/web"));
    for pair in seen.chunks(2) {
        assert_eq!(pair[0].operation_id, pair[1].operation_id);
    }
    assert_ne!(seen[0].operation_id, seen[2].operation_id);
}

#[tokio::test]
async fn a_subscriber_that_never_reads_does_not_block_operations() {
    let adapter = Events::with_capacity(mock(), 2);
    let mut rx = adapter.subscribe();
    let id = DeploymentId::new("ns", "web").unwrap();
    adapter
        .create_deployment(CreateDeployment::new(
            id.clone(),
            PackageId::new("web@1.0.0").unwrap(),
        ))
        .await
        .unwrap();
    for n in 0..20 {
        adapter
            .scale_deployment(&id, ScaleRequest::to(n % 3))
            .await
            .unwrap();
    }
    assert!(matches!(
        rx.try_recv(),
        Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_))
    ));
}

#[tokio::test]
async fn timeouts_name_the_operation_and_pass_fast_calls() {
    let inner = mock();
    inner
        .faults()
        .latency(Operation::GetDeployment, Duration::from_secs(3));
    let limits = TimeoutLimits::uniform(Duration::from_secs(60))
        .with(Operation::GetDeployment, Duration::from_millis(100));
    let adapter = Timeouts::new(inner, limits);
    let id = DeploymentId::new("ns", "web").unwrap();
    adapter
        .create_deployment(CreateDeployment::new(
            id.clone(),
            PackageId::new("web@1.0.0").unwrap(),
        ))
        .await
        .unwrap();
    match adapter.get_deployment(&id).await {
        Err(Error::Timeout {
            operation, limit, ..
        }) => {
            assert_eq!(operation, "get_deployment");
            assert_eq!(limit, Duration::from_millis(100));
        }
        other => panic!("expected Timeout, got {other:?}"),
    }
    assert_eq!(
        adapter
            .deployment_status(&id)
            .await
            .unwrap()
            .replicas
            .desired,
        1
    );
}

#[test]
fn default_limits_split_reads_and_writes() {
    let l = TimeoutLimits::default();
    assert_eq!(l.limit(Operation::GetDeployment), Duration::from_secs(30));
    assert_eq!(
        l.limit(Operation::CreateDeployment),
        Duration::from_secs(900)
    );
}
