//! Four tasks hammer one mock, the same deployment included; history must stay whole.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use o2dms_core::{
    CreateDeployment, DeploymentFilter, DeploymentId, DeploymentStatus, DmsAdapter, ErrorKind,
    HistoryOptions, PackageId, RollbackRequest, ScaleRequest, UpdateDeployment, Values,
};
use o2dms_mock::{MockAdapter, PackageSpec};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_tasks_never_corrupt_history() {
    let mock = MockAdapter::builder()
        .package(PackageSpec::new("web", "1.0.0"))
        .max_history(0)
        .build();
    let shared = DeploymentId::new("ns", "shared").unwrap();
    mock.create_deployment(CreateDeployment::new(
        shared.clone(),
        PackageId::new("web@1.0.0").unwrap(),
    ))
    .await
    .unwrap();
    // A second revision up front: a rollback to "the previous one" must always have one
    // (on revision 1 alone it is rightly NotFound, and which task writes first is a race).
    mock.scale_deployment(&shared, ScaleRequest::to(1))
        .await
        .unwrap();
    // Revisions made on the shared deployment by successful writes (create and the first
    // scale count 2).
    let made = Arc::new(AtomicU32::new(2));

    let mut tasks = Vec::new();
    for t in 0..4u32 {
        let mock = mock.clone();
        let shared = shared.clone();
        let made = Arc::clone(&made);
        tasks.push(tokio::spawn(async move {
            let own = DeploymentId::new("ns", format!("own-{t}")).unwrap();
            mock.create_deployment(CreateDeployment::new(
                own.clone(),
                PackageId::new("web@1.0.0").unwrap(),
            ))
            .await
            .unwrap();
            let mut own_made = 1u32;
            for i in 0..200u32 {
                let (r, write) = match (i + t) % 4 {
                    0 => (
                        mock.scale_deployment(&shared, ScaleRequest::to(i % 5))
                            .await,
                        true,
                    ),
                    1 => {
                        let mut v = Values::new();
                        v.insert(format!("t{t}"), i);
                        let up = UpdateDeployment::new().values(v);
                        (mock.update_deployment(&shared, up).await, true)
                    }
                    2 => (
                        mock.rollback_deployment(&shared, RollbackRequest::default())
                            .await,
                        true,
                    ),
                    _ => (mock.get_deployment(&shared).await, false),
                };
                match r {
                    Ok(_) if write => {
                        made.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok(_) => {}
                    Err(e) => assert_eq!(e.kind(), ErrorKind::Conflict, "{e}"),
                }
                mock.scale_deployment(&own, ScaleRequest::to(i % 3))
                    .await
                    .unwrap();
                own_made += 1;
                if i % 50 == 0 {
                    mock.list_deployments(&DeploymentFilter::default())
                        .await
                        .unwrap();
                }
            }
            (own, own_made)
        }));
    }
    let mut owns = Vec::new();
    for t in tasks {
        owns.push(t.await.unwrap());
    }

    let check = |h: &[o2dms_core::Revision], expected: u32| {
        assert_eq!(h.len() as u32, expected, "every success made one revision");
        assert!(h
            .iter()
            .enumerate()
            .all(|(i, r)| r.revision == i as u32 + 1));
        let current: Vec<_> = h
            .iter()
            .filter(|r| r.status != DeploymentStatus::Superseded)
            .collect();
        assert_eq!(current.len(), 1);
        assert_eq!(current[0].revision, expected);
    };
    let h = mock
        .deployment_history(&shared, HistoryOptions::default())
        .await
        .unwrap();
    check(&h, made.load(Ordering::SeqCst));
    assert_eq!(
        mock.get_deployment(&shared).await.unwrap().revision,
        made.load(Ordering::SeqCst)
    );
    for (own, n) in owns {
        let h = mock
            .deployment_history(&own, HistoryOptions::default())
            .await
            .unwrap();
        check(&h, n);
    }
}
