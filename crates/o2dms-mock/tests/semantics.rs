//! The semantics of the design doc, one test each, with exact revisions, statuses and values.

use std::collections::BTreeMap;
use std::time::Duration;

use o2dms_core::Operation;
use o2dms_core::{
    ConditionStatus, CreateDeployment, DeletePackageOptions, DeploymentFilter, DeploymentId,
    DeploymentStatus, DmsAdapter, Error, ErrorKind, HistoryOptions, LogOptions, PackageFilter,
    PackageId, PageRequest, Resource, RollbackRequest, ScaleRequest, Timestamp, UpdateDeployment,
    Value, Values, ValuesMode,
};
use o2dms_mock::{Clock, ManualClock, MockAdapter, PackageSpec};

fn vals(json: &str) -> Values {
    serde_json::from_str(json).unwrap()
}

fn id(ns: &str, name: &str) -> DeploymentId {
    DeploymentId::new(ns, name).unwrap()
}

fn pkg(s: &str) -> PackageId {
    PackageId::new(s).unwrap()
}

fn mock_with(clock: &ManualClock) -> MockAdapter {
    MockAdapter::builder()
        .package(
            PackageSpec::new("web", "1.0.0")
                .app_version("1.25")
                .values(vals(r#"{"replicaCount":2,"image":{"tag":"1.25"}}"#)),
        )
        .package(PackageSpec::new("web", "1.1.0").values(vals(r#"{"replicaCount":1}"#)))
        .package(PackageSpec::new("db", "3.0.0"))
        .clock(clock.clone())
        .build()
}

fn mock() -> MockAdapter {
    mock_with(&ManualClock::default())
}

async fn create(m: &MockAdapter, d: &DeploymentId, values: &str) {
    m.create_deployment(CreateDeployment::new(d.clone(), pkg("web@1.0.0")).values(vals(values)))
        .await
        .unwrap();
}

fn statuses(h: &[o2dms_core::Revision]) -> Vec<(u32, DeploymentStatus)> {
    h.iter().map(|r| (r.revision, r.status)).collect()
}

#[tokio::test]
async fn create_makes_revision_one_and_refuses_duplicates() {
    let clock = ManualClock::new(Timestamp::from_unix(1_000, 0));
    let m = mock_with(&clock);
    let d = id("ns", "web");
    let req = CreateDeployment::new(d.clone(), pkg("web@1.0.0"))
        .values(vals(r#"{"a":1}"#))
        .label("team", "ran");
    let got = m.create_deployment(req.clone()).await.unwrap();
    assert_eq!(got.revision, 1);
    assert_eq!(got.status, DeploymentStatus::Deployed);
    assert_eq!(got.description, "Install complete");
    assert_eq!(got.values, vals(r#"{"a":1}"#));
    assert_eq!(got.created_at, Timestamp::from_unix(1_000, 0));
    assert!(
        got.extensions.is_empty(),
        "the mock sets no backend extensions"
    );
    assert_eq!(m.get_deployment(&d).await.unwrap(), got);

    clock.advance(Duration::from_secs(5));
    let again = req.clone().values(vals(r#"{"a":2}"#));
    let err = m.create_deployment(again).await.unwrap_err();
    assert_eq!(err, Error::already_exists(Resource::Deployment, &d));
    assert_eq!(m.get_deployment(&d).await.unwrap(), got, "nothing changed");

    // Same name in another namespace is another deployment.
    let other = CreateDeployment::new(id("other", "web"), pkg("web@1.0.0"));
    assert_eq!(m.create_deployment(other).await.unwrap().revision, 1);
}

#[tokio::test]
async fn create_checks_input_and_package_before_writing() {
    let m = mock();
    let bad = CreateDeployment::new(
        DeploymentId {
            namespace: "Bad".into(),
            name: "web".into(),
        },
        pkg("web@1.0.0"),
    );
    let err = m.create_deployment(bad).await.unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { ref field, .. } if field == "id.namespace"));
    let missing = CreateDeployment::new(id("ns", "web"), pkg("web@9.9.9"));
    assert_eq!(
        m.create_deployment(missing).await.unwrap_err(),
        Error::not_found(Resource::Package, "web@9.9.9")
    );
    let bad_key = CreateDeployment::new(id("ns", "web"), pkg("web@1.0.0")).scale_key("a..b");
    assert_eq!(
        m.create_deployment(bad_key).await.unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(m.deployment_count(), 0);
}

#[tokio::test]
async fn update_merges_by_default_replaces_on_request_and_supersedes() {
    let m = mock();
    let d = id("ns", "web");
    create(
        &m,
        &d,
        r#"{"image":{"tag":"a","pull":"Always"},"keep":true}"#,
    )
    .await;

    let up = UpdateDeployment::new().values(vals(r#"{"image":{"tag":"b"},"keep":null,"new":1}"#));
    let got = m.update_deployment(&d, up).await.unwrap();
    assert_eq!(got.revision, 2);
    assert_eq!(got.status, DeploymentStatus::Deployed);
    assert_eq!(got.description, "Upgrade complete");
    assert_eq!(
        got.values,
        vals(r#"{"image":{"tag":"b","pull":"Always"},"new":1}"#)
    );

    let up = UpdateDeployment::new()
        .values(vals(r#"{"only":1}"#))
        .mode(ValuesMode::Replace)
        .package(pkg("web@1.1.0"))
        .description("bump");
    let got = m.update_deployment(&d, up).await.unwrap();
    assert_eq!(
        (got.revision, got.package.as_str(), got.description.as_str()),
        (3, "web@1.1.0", "bump")
    );
    assert_eq!(got.values, vals(r#"{"only":1}"#));
    let h = m
        .deployment_history(&d, HistoryOptions::default())
        .await
        .unwrap();
    assert_eq!(
        statuses(&h),
        [
            (1, DeploymentStatus::Superseded),
            (2, DeploymentStatus::Superseded),
            (3, DeploymentStatus::Deployed)
        ]
    );
    assert_eq!(h[0].package.as_str(), "web@1.0.0");

    // Empty update: still exactly one new revision.
    let got = m
        .update_deployment(&d, UpdateDeployment::default())
        .await
        .unwrap();
    assert_eq!(got.revision, 4);
    assert_eq!(got.values, vals(r#"{"only":1}"#));

    let missing_pkg = UpdateDeployment::new().package(pkg("web@7.0.0"));
    assert_eq!(
        m.update_deployment(&d, missing_pkg).await.unwrap_err(),
        Error::not_found(Resource::Package, "web@7.0.0")
    );
    assert_eq!(
        m.update_deployment(&id("ns", "nope"), UpdateDeployment::default())
            .await
            .unwrap_err(),
        Error::not_found(Resource::Deployment, "ns/nope")
    );
    assert_eq!(m.get_deployment(&d).await.unwrap().revision, 4);
}

#[tokio::test]
async fn scale_sets_the_key_keeps_the_rest_and_is_observed() {
    let m = mock();
    let d = id("ns", "web");
    create(&m, &d, r#"{"image":{"tag":"x"}}"#).await;
    assert_eq!(m.deployment_status(&d).await.unwrap().replicas.desired, 2);

    let got = m.scale_deployment(&d, ScaleRequest::to(5)).await.unwrap();
    assert_eq!(got.revision, 2);
    assert_eq!(got.status, DeploymentStatus::Deployed);
    assert_eq!(
        got.values,
        vals(r#"{"image":{"tag":"x"},"replicaCount":5}"#)
    );
    let s = m.deployment_status(&d).await.unwrap();
    assert_eq!(
        (
            s.replicas.desired,
            s.replicas.ready,
            s.replicas.available,
            s.progress
        ),
        (5, 5, 5, 100)
    );
    assert_eq!(s.conditions[0].kind, "Available");
    assert_eq!(s.conditions[0].status, ConditionStatus::True);
    assert_eq!(s.conditions[0].reason, "MinimumReplicasAvailable");

    let got = m.scale_deployment(&d, ScaleRequest::to(0)).await.unwrap();
    assert_eq!(got.revision, 3);
    assert_eq!(got.values.get_path("replicaCount"), Some(&Value::Int(0)));
    let s = m.deployment_status(&d).await.unwrap();
    assert_eq!((s.replicas.desired, s.progress), (0, 100));

    // A per-call key.
    let req = ScaleRequest::to(2).key("server.replicas");
    let got = m.scale_deployment(&d, req).await.unwrap();
    assert_eq!(got.values.get_path("server.replicas"), Some(&Value::Int(2)));
    assert_eq!(got.values.get_path("replicaCount"), Some(&Value::Int(0)));

    assert_eq!(
        m.scale_deployment(&id("ns", "nope"), ScaleRequest::to(1))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        m.scale_deployment(&d, ScaleRequest::to(1_000_000))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidArgument
    );
}

#[tokio::test]
async fn scale_key_per_deployment_and_per_adapter() {
    let m = MockAdapter::builder()
        .package(PackageSpec::new("web", "1.0.0"))
        .scale_key("deploy.count")
        .build();
    let a = id("ns", "a");
    m.create_deployment(CreateDeployment::new(a.clone(), pkg("web@1.0.0")))
        .await
        .unwrap();
    let got = m.scale_deployment(&a, ScaleRequest::to(3)).await.unwrap();
    assert_eq!(got.values, vals(r#"{"deploy":{"count":3}}"#));
    assert_eq!(m.deployment_status(&a).await.unwrap().replicas.desired, 3);

    let b = id("ns", "b");
    m.create_deployment(CreateDeployment::new(b.clone(), pkg("web@1.0.0")).scale_key("workers"))
        .await
        .unwrap();
    let got = m.scale_deployment(&b, ScaleRequest::to(4)).await.unwrap();
    assert_eq!(got.values, vals(r#"{"workers":4}"#));
    assert_eq!(m.deployment_status(&b).await.unwrap().replicas.desired, 4);
}

#[tokio::test]
async fn scale_on_a_chart_that_ignores_the_key_never_succeeds() {
    let m = mock();
    m.faults().package_ignores_scale("web");
    let d = id("ns", "web");
    create(&m, &d, r#"{"x":1}"#).await;
    let err = m
        .scale_deployment(&d, ScaleRequest::to(4))
        .await
        .unwrap_err();
    match &err {
        Error::Backend { message, .. } => {
            assert!(message.contains("did not reach 4 replicas"), "{message}")
        }
        other => panic!("expected Backend, got {other:?}"),
    }
    let got = m.get_deployment(&d).await.unwrap();
    assert_eq!((got.revision, got.status), (2, DeploymentStatus::Failed));
    assert_eq!(got.values, vals(r#"{"x":1,"replicaCount":4}"#));
    let s = m.deployment_status(&d).await.unwrap();
    assert_eq!(s.replicas.desired, 2, "the chart's own count");
    assert!(s.message.contains("did not reach 4"), "{}", s.message);
    let h = m
        .deployment_history(&d, HistoryOptions::default())
        .await
        .unwrap();
    assert_eq!(
        statuses(&h),
        [
            (1, DeploymentStatus::Superseded),
            (2, DeploymentStatus::Failed)
        ]
    );
    // Recovery: roll back to 1.
    let got = m
        .rollback_deployment(&d, RollbackRequest::default())
        .await
        .unwrap();
    assert_eq!((got.revision, got.status), (3, DeploymentStatus::Deployed));
    assert_eq!(got.description, "Rollback to 1");
    assert_eq!(got.values, vals(r#"{"x":1}"#));
}

#[tokio::test]
async fn rollback_copies_revision_n_into_a_new_revision() {
    let m = mock();
    let d = id("ns", "web");
    create(&m, &d, r#"{"v":1}"#).await;
    let up = |v: &str| {
        UpdateDeployment::new()
            .values(vals(v))
            .mode(ValuesMode::Replace)
    };
    m.update_deployment(&d, up(r#"{"v":2}"#)).await.unwrap();
    m.update_deployment(&d, up(r#"{"v":3}"#).package(pkg("web@1.1.0")))
        .await
        .unwrap();

    // Default: the previous revision (2).
    let got = m
        .rollback_deployment(&d, RollbackRequest::default())
        .await
        .unwrap();
    assert_eq!(got.revision, 4);
    assert_eq!(got.description, "Rollback to 2");
    assert_eq!(got.values, vals(r#"{"v":2}"#));
    assert_eq!(got.package.as_str(), "web@1.0.0");

    // Explicit N, and the package comes back too.
    let to = |n| RollbackRequest::to_revision(n);
    let got = m.rollback_deployment(&d, to(3)).await.unwrap();
    assert_eq!((got.revision, got.package.as_str()), (5, "web@1.1.0"));
    assert_eq!(got.values, vals(r#"{"v":3}"#));

    // To the current one: allowed, still a new revision.
    let got = m.rollback_deployment(&d, to(5)).await.unwrap();
    assert_eq!(
        (got.revision, got.description.as_str()),
        (6, "Rollback to 5")
    );

    let err = m.rollback_deployment(&d, to(42)).await.unwrap_err();
    assert!(matches!(
        err,
        Error::NotFound {
            resource: Resource::Revision,
            ..
        }
    ));
    let h = m
        .deployment_history(&d, HistoryOptions::default())
        .await
        .unwrap();
    assert_eq!(h.len(), 6);
    assert!(h[..5]
        .iter()
        .all(|r| r.status == DeploymentStatus::Superseded));
    assert_eq!(h[5].status, DeploymentStatus::Deployed);

    // No previous revision.
    let e = id("ns", "fresh");
    create(&m, &e, "{}").await;
    let err = m
        .rollback_deployment(&e, RollbackRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(matches!(
        err,
        Error::NotFound {
            resource: Resource::Revision,
            ..
        }
    ));
    assert_eq!(
        m.rollback_deployment(&id("ns", "nope"), RollbackRequest::default())
            .await
            .unwrap_err(),
        Error::not_found(Resource::Deployment, "ns/nope")
    );
}

#[tokio::test]
async fn delete_removes_everything() {
    let m = mock();
    let d = id("ns", "web");
    create(&m, &d, "{}").await;
    m.delete_deployment(&d).await.unwrap();
    assert_eq!(
        m.get_deployment(&d).await.unwrap_err(),
        Error::not_found(Resource::Deployment, "ns/web")
    );
    assert!(m
        .list_deployments(&DeploymentFilter::default())
        .await
        .unwrap()
        .items
        .is_empty());
    assert_eq!(
        m.delete_deployment(&d).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        m.deployment_history(&d, HistoryOptions::default())
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    // Created again, it starts at revision 1.
    create(&m, &d, "{}").await;
    assert_eq!(m.get_deployment(&d).await.unwrap().revision, 1);
}

#[tokio::test]
async fn history_is_ascending_limited_and_pruned_like_history_max() {
    let m = MockAdapter::builder()
        .package(PackageSpec::new("web", "1.0.0"))
        .max_history(3)
        .build();
    let d = id("ns", "web");
    create(&m, &d, "{}").await;
    for n in 1..=4 {
        m.scale_deployment(&d, ScaleRequest::to(n)).await.unwrap();
    }
    let h = m
        .deployment_history(&d, HistoryOptions::default())
        .await
        .unwrap();
    assert_eq!(
        statuses(&h),
        [
            (3, DeploymentStatus::Superseded),
            (4, DeploymentStatus::Superseded),
            (5, DeploymentStatus::Deployed)
        ]
    );
    let h = m
        .deployment_history(&d, HistoryOptions::last(2))
        .await
        .unwrap();
    assert_eq!(h.iter().map(|r| r.revision).collect::<Vec<_>>(), [4, 5]);
    // A pruned revision cannot be rolled back to.
    let err = m
        .rollback_deployment(&d, RollbackRequest::to_revision(1))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);

    // 0 keeps everything.
    let m = MockAdapter::builder()
        .package(PackageSpec::new("web", "1.0.0"))
        .max_history(0)
        .build();
    create(&m, &d, "{}").await;
    for n in 1..=12 {
        m.scale_deployment(&d, ScaleRequest::to(n)).await.unwrap();
    }
    let h = m
        .deployment_history(&d, HistoryOptions::default())
        .await
        .unwrap();
    assert_eq!(h.len(), 13);
    assert!(h.windows(2).all(|w| w[0].revision + 1 == w[1].revision));
}

#[tokio::test]
async fn default_history_max_is_ten() {
    let m = mock();
    let d = id("ns", "web");
    create(&m, &d, "{}").await;
    for n in 1..=14 {
        m.scale_deployment(&d, ScaleRequest::to(n)).await.unwrap();
    }
    let h = m
        .deployment_history(&d, HistoryOptions::default())
        .await
        .unwrap();
    assert_eq!(h.len(), 10);
    assert_eq!((h[0].revision, h[9].revision), (6, 15));
}

#[tokio::test]
async fn create_timeout_leaves_a_failed_deployment_visible() {
    let clock = ManualClock::new(Timestamp::from_unix(10_000, 0));
    let m = MockAdapter::builder()
        .package(PackageSpec::new("broken", "0.1.0"))
        .default_timeout(Duration::from_secs(120))
        .clock(clock.clone())
        .build();
    m.faults().package_never_ready("broken");
    let d = id("ns", "bad");
    let started = std::time::Instant::now();
    let err = m
        .create_deployment(CreateDeployment::new(d.clone(), pkg("broken@0.1.0")))
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1), "never sleeps");
    match &err {
        Error::Timeout {
            operation,
            limit,
            state,
        } => {
            assert_eq!(operation, "create_deployment");
            assert_eq!(*limit, Duration::from_secs(120));
            assert!(state.starts_with("deployment ns/bad is Failed"), "{state}");
        }
        other => panic!("expected Timeout, got {other:?}"),
    }
    assert_eq!(clock.now(), Timestamp::from_unix(10_120, 0));
    let got = m.get_deployment(&d).await.unwrap();
    assert_eq!((got.revision, got.status), (1, DeploymentStatus::Failed));
    assert_eq!(got.created_at, Timestamp::from_unix(10_000, 0));
    assert_eq!(got.updated_at, Timestamp::from_unix(10_120, 0));
    let listed = m
        .list_deployments(&DeploymentFilter::default())
        .await
        .unwrap();
    assert_eq!(listed.items, vec![got]);
    let s = m.deployment_status(&d).await.unwrap();
    assert_eq!(s.status, DeploymentStatus::Failed);
    assert!(s.message.contains("timed out"), "{}", s.message);
    assert_eq!(s.replicas.ready, 0);
    assert_eq!(s.progress, 0);
    let avail = &s.conditions[0];
    assert_eq!(
        (avail.kind.as_str(), avail.status, avail.reason.as_str()),
        ("Available", ConditionStatus::False, "ErrImagePull")
    );
    assert!(!avail.message.is_empty());

    // A request timeout wins over the default.
    let err = m
        .create_deployment(
            CreateDeployment::new(id("ns", "bad2"), pkg("broken@0.1.0"))
                .timeout(Duration::from_secs(7)),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { limit, .. } if limit == Duration::from_secs(7)));
    assert_eq!(clock.now(), Timestamp::from_unix(10_127, 0));

    // Recovery once the image is fixed: an update makes revision 2, Deployed.
    m.faults().package_behaves("broken");
    let got = m
        .update_deployment(&d, UpdateDeployment::default())
        .await
        .unwrap();
    assert_eq!((got.revision, got.status), (2, DeploymentStatus::Deployed));
}

#[tokio::test]
async fn stuck_pending_locks_update_and_scale_but_not_rollback() {
    let m = mock();
    let d = id("ns", "web");
    create(&m, &d, "{}").await;
    m.update_deployment(&d, UpdateDeployment::default())
        .await
        .unwrap();
    m.faults()
        .stick_pending(&d, DeploymentStatus::Upgrading)
        .unwrap();
    let got = m.get_deployment(&d).await.unwrap();
    assert_eq!((got.revision, got.status), (2, DeploymentStatus::Upgrading));
    let listed = m
        .list_deployments(&DeploymentFilter::all().statuses(vec![DeploymentStatus::Upgrading]))
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
    let s = m.deployment_status(&d).await.unwrap();
    assert!(s.message.contains("in progress"), "{}", s.message);

    for err in [
        m.update_deployment(&d, UpdateDeployment::default())
            .await
            .unwrap_err(),
        m.scale_deployment(&d, ScaleRequest::to(2))
            .await
            .unwrap_err(),
    ] {
        match err {
            Error::Conflict { reason, .. } => {
                assert!(reason.contains("another operation"), "{reason}")
            }
            other => panic!("expected Conflict, got {other:?}"),
        }
    }
    assert_eq!(m.get_deployment(&d).await.unwrap().revision, 2);
    let got = m
        .rollback_deployment(&d, RollbackRequest::default())
        .await
        .unwrap();
    assert_eq!((got.revision, got.status), (3, DeploymentStatus::Deployed));
    let h = m
        .deployment_history(&d, HistoryOptions::default())
        .await
        .unwrap();
    assert_eq!(h[1].status, DeploymentStatus::Superseded);
    m.scale_deployment(&d, ScaleRequest::to(2)).await.unwrap();

    assert_eq!(
        m.faults()
            .stick_pending(&d, DeploymentStatus::Deployed)
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        m.faults()
            .stick_pending(&id("ns", "nope"), DeploymentStatus::Deploying)
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
}

#[tokio::test]
async fn list_filters_pages_and_counts_across_pages() {
    let m = mock();
    for ns in ["a", "b"] {
        for i in 0..5 {
            let mut req = CreateDeployment::new(id(ns, &format!("d{i}")), pkg("web@1.0.0"));
            if i % 2 == 0 {
                req = req.label("even", "yes");
            }
            if i == 4 {
                req.package = pkg("db@3.0.0");
            }
            m.create_deployment(req).await.unwrap();
        }
    }
    let all = m
        .list_deployments(&DeploymentFilter::default())
        .await
        .unwrap();
    let names: Vec<String> = all.items.iter().map(|d| d.id.to_string()).collect();
    assert_eq!(names[0], "a/d0");
    assert_eq!(names[9], "b/d4");
    assert_eq!((all.total, all.continue_token), (Some(10), None));

    // Pages of 3 in namespace b, with labels.
    let mut f = DeploymentFilter::in_namespace("b");
    f.labels = BTreeMap::from([("even".to_string(), "yes".to_string())]);
    f.page = PageRequest::first(2);
    let p1 = m.list_deployments(&f).await.unwrap();
    assert_eq!(
        p1.items
            .iter()
            .map(|d| d.id.name.as_str())
            .collect::<Vec<_>>(),
        ["d0", "d2"]
    );
    assert_eq!(p1.total, Some(3));
    f.page.continue_token = p1.continue_token.clone();
    assert!(f.page.continue_token.is_some());
    let p2 = m.list_deployments(&f).await.unwrap();
    assert_eq!(
        p2.items
            .iter()
            .map(|d| d.id.name.as_str())
            .collect::<Vec<_>>(),
        ["d4"]
    );
    assert_eq!((p2.total, p2.continue_token), (Some(3), None));

    let by_pkg = m
        .list_deployments(&DeploymentFilter::all().package_name("db"))
        .await
        .unwrap();
    assert_eq!(by_pkg.total, Some(2));
    let ns_only = m
        .list_deployments(
            &DeploymentFilter::all()
                .namespace("a")
                .page(PageRequest::first(1)),
        )
        .await
        .unwrap();
    assert_eq!((ns_only.items.len(), ns_only.total), (1, Some(5)));
    let none = m
        .list_deployments(&DeploymentFilter::in_namespace("zzz"))
        .await
        .unwrap();
    assert_eq!((none.items.len(), none.total), (0, Some(0)));

    for bad in ["junk", "d1.zz", "p1.61.62"] {
        let f = DeploymentFilter::all().page(PageRequest::next(None, bad));
        let err = m.list_deployments(&f).await.unwrap_err();
        assert!(
            matches!(err, Error::InvalidArgument { ref field, .. } if field == "continue"),
            "{bad}: {err:?}"
        );
    }
    let f = DeploymentFilter::all().page(PageRequest::first(0));
    assert_eq!(
        m.list_deployments(&f).await.unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
}

#[tokio::test]
async fn packages_list_in_version_order_and_delete_conflicts_while_used() {
    let m = MockAdapter::builder()
        .package(PackageSpec::new("web", "1.10.0"))
        .package(PackageSpec::new("web", "1.2.0"))
        .package(PackageSpec::new("web", "1.2.0-rc.1"))
        .package(PackageSpec::new("api", "0.1.0"))
        .build();
    let all = m.list_packages(&PackageFilter::default()).await.unwrap();
    let ids: Vec<&str> = all.items.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(
        ids,
        ["api@0.1.0", "web@1.2.0-rc.1", "web@1.2.0", "web@1.10.0"]
    );
    assert_eq!(all.total, Some(4));
    let mut f = PackageFilter::named("web").page(PageRequest::first(2));
    let p1 = m.list_packages(&f).await.unwrap();
    assert_eq!(p1.items.len(), 2);
    assert_eq!(p1.total, Some(3));
    f.page.continue_token = p1.continue_token;
    let p2 = m.list_packages(&f).await.unwrap();
    assert_eq!(p2.items[0].id.as_str(), "web@1.10.0");
    assert_eq!(p2.continue_token, None);

    // Ids round-trip into create.
    let p = m.get_package(&all.items[0].id).await.unwrap();
    assert_eq!(p, all.items[0]);
    assert!(p.digest.starts_with("sha256:"));
    let d = id("ns", "api");
    m.create_deployment(CreateDeployment::new(d.clone(), p.id.clone()))
        .await
        .unwrap();
    let err = m
        .delete_package(&p.id, DeletePackageOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        Error::Conflict {
            resource: Resource::Package,
            ..
        }
    ));
    m.delete_package(&p.id, DeletePackageOptions::forced())
        .await
        .unwrap();
    assert_eq!(
        m.get_package(&p.id).await.unwrap_err(),
        Error::not_found(Resource::Package, "api@0.1.0")
    );
    // The deployment keeps its chart, as a Helm release does.
    let got = m
        .update_deployment(&d, UpdateDeployment::default())
        .await
        .unwrap();
    assert_eq!((got.revision, got.package.as_str()), (2, "api@0.1.0"));
    assert_eq!(
        m.delete_package(&p.id, DeletePackageOptions::default())
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    let f = PackageFilter::all().page(PageRequest::next(None, "d1.61.62"));
    assert_eq!(
        m.list_packages(&f).await.unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
}

#[tokio::test]
async fn logs_are_deterministic_and_honour_options() {
    let m = mock();
    let d = id("ns", "web");
    create(&m, &d, "{}").await;
    let all = m.deployment_logs(&d, &LogOptions::default()).await.unwrap();
    assert_eq!(all.lines.len(), 8, "2 pods x 4 lines");
    assert_eq!(all.lines[0].pod, "web-0");
    assert_eq!(all.lines[0].container, "app");
    assert_eq!(all.lines[0].line, "starting web@1.0.0 (revision 1)");
    assert_eq!(all.lines[7].pod, "web-1");
    assert!(!all.truncated);
    assert_eq!(
        m.deployment_logs(&d, &LogOptions::default()).await.unwrap(),
        all
    );

    let tail = m
        .deployment_logs(&d, &LogOptions::new().tail_lines(1))
        .await
        .unwrap();
    assert_eq!(
        tail.lines
            .iter()
            .map(|l| l.line.as_str())
            .collect::<Vec<_>>(),
        ["ready", "ready"]
    );
    let cut = m
        .deployment_logs(&d, &LogOptions::new().limit_bytes(40))
        .await
        .unwrap();
    assert!(cut.truncated);
    let bytes: usize = cut.lines.iter().map(|l| l.line.len() + 1).sum();
    assert!(bytes <= 40 && !cut.lines.is_empty());

    let err = m
        .deployment_logs(&d, &LogOptions::new().container("sidecar"))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        Error::NotFound {
            resource: Resource::Workload,
            ..
        }
    ));
    assert_eq!(
        m.deployment_logs(&id("ns", "x"), &LogOptions::default())
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
}

#[tokio::test]
async fn injected_failures_hit_the_next_n_calls_only() {
    let m = mock();
    let d = id("ns", "web");
    m.faults().fail_next(
        Operation::CreateDeployment,
        1,
        Error::Unavailable {
            message: "down".into(),
        },
    );
    let err = m
        .create_deployment(CreateDeployment::new(d.clone(), pkg("web@1.0.0")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert_eq!(
        m.deployment_count(),
        0,
        "an injected failure changes nothing"
    );
    create(&m, &d, "{}").await;
    assert_eq!(m.faults().pending_failures(Operation::CreateDeployment), 0);
    m.faults()
        .fail_next(Operation::DeploymentStatus, 2, Error::backend("boom"));
    assert!(m.deployment_status(&d).await.is_err());
    assert!(m.deployment_status(&d).await.is_err());
    assert!(m.deployment_status(&d).await.is_ok());
    m.faults()
        .fail_next(Operation::Health, 5, Error::backend("x"));
    m.faults().clear();
    assert!(m.health().await.is_ok());
}

#[tokio::test(start_paused = true)]
async fn latency_is_an_async_sleep() {
    let m = mock();
    m.faults()
        .latency(Operation::ListDeployments, Duration::from_secs(3));
    let t = tokio::time::Instant::now();
    m.list_deployments(&DeploymentFilter::default())
        .await
        .unwrap();
    assert!(t.elapsed() >= Duration::from_secs(3));
    let t = tokio::time::Instant::now();
    m.list_packages(&PackageFilter::default()).await.unwrap();
    assert!(t.elapsed() < Duration::from_secs(1));
    m.faults()
        .latency(Operation::ListDeployments, Duration::ZERO);
    let t = tokio::time::Instant::now();
    m.list_deployments(&DeploymentFilter::default())
        .await
        .unwrap();
    assert!(t.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn timestamps_come_from_the_clock() {
    let clock = ManualClock::new(Timestamp::from_unix(500, 0));
    let m = mock_with(&clock);
    let d = id("ns", "web");
    create(&m, &d, "{}").await;
    clock.advance(Duration::from_secs(60));
    let got = m.scale_deployment(&d, ScaleRequest::to(1)).await.unwrap();
    assert_eq!(got.created_at, Timestamp::from_unix(500, 0));
    assert_eq!(got.updated_at, Timestamp::from_unix(560, 0));
    let h = m
        .deployment_history(&d, HistoryOptions::default())
        .await
        .unwrap();
    assert_eq!(h[0].updated_at, Timestamp::from_unix(500, 0));
    assert_eq!(h[1].updated_at, Timestamp::from_unix(560, 0));
    let s = m.deployment_status(&d).await.unwrap();
    assert_eq!(
        s.conditions[0].last_transition,
        Some(Timestamp::from_unix(560, 0))
    );
}

#[tokio::test]
async fn capabilities_info_and_health() {
    let m = MockAdapter::new();
    assert_eq!(m.capabilities(), o2dms_core::Capabilities::all());
    assert_eq!(m.info().name, "mock");
    assert_eq!(
        m.health().await.unwrap().status,
        o2dms_core::HealthStatus::Healthy
    );
    let clone = m.clone();
    clone.add_package(PackageSpec::new("x", "1.0.0")).unwrap();
    assert!(
        m.get_package(&pkg("x@1.0.0")).await.is_ok(),
        "clones share state"
    );
}
