//! core -> wire -> JSON -> wire -> core gives back the original, for every conversion.

mod common;

use common::*;
use o2dms_api::{json, wire, Problem};
use o2dms_core::*;
use proptest::prelude::*;
use serde::{de::DeserializeOwned, Serialize};

/// wire -> JSON -> wire, through the request decoder (which refuses unknown members).
fn through_json<W: Serialize + DeserializeOwned>(w: &W) -> W {
    let bytes = serde_json::to_vec(w).unwrap();
    json::decode::<W>(&bytes)
        .unwrap_or_else(|p| panic!("{p:?}\n{}", String::from_utf8_lossy(&bytes)))
}

fn opt_duration() -> impl Strategy<Value = Option<std::time::Duration>> {
    proptest::option::of(duration())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn deployment(d in common::deployment()) {
        let back: Deployment = through_json(&wire::Deployment::from(d.clone())).try_into().unwrap();
        prop_assert_eq!(back, d);
    }

    #[test]
    fn package(p in common::package()) {
        let back: Package = through_json(&wire::Package::from(p.clone())).try_into().unwrap();
        prop_assert_eq!(back, p);
    }

    #[test]
    fn pages(items in proptest::collection::vec(common::deployment(), 0..3),
             pkgs in proptest::collection::vec(common::package(), 0..3),
             token in proptest::option::of(text()), total in proptest::option::of(any::<u64>())) {
        let page = Page { items, continue_token: token.clone(), total };
        let w: wire::Page<wire::Deployment> = page.clone().into();
        prop_assert_eq!(through_json(&w).into_core::<Deployment>().unwrap(), page);
        let page = Page { items: pkgs, continue_token: token, total };
        let w: wire::Page<wire::Package> = page.clone().into();
        prop_assert_eq!(through_json(&w).into_core::<Package>().unwrap(), page);
    }

    #[test]
    fn revisions(rs in proptest::collection::vec(
        (any::<u32>(), package_id(), status(), text(), values(), timestamp()).prop_map(
            |(revision, package, status, description, values, updated_at)| Revision {
                revision, package, status, description, values, updated_at,
            }), 0..4)) {
        let back: Vec<Revision> = through_json(&wire::Revisions::from(rs.clone())).try_into().unwrap();
        prop_assert_eq!(back, rs);
    }

    #[test]
    fn status_detail(
        status in status(), message in text(), progress in any::<u8>(),
        counts in any::<(u32, u32, u32, u32)>(),
        conditions in proptest::collection::vec((text(), 0..3usize, text(), text(), proptest::option::of(timestamp())), 0..3),
        workloads in proptest::collection::vec((text(), text(), any::<(u32, u32, u32, u32)>(), any::<bool>()), 0..3),
    ) {
        let rc = |(desired, updated, ready, available): (u32, u32, u32, u32)| ReplicaCounts { desired, updated, ready, available };
        let d = StatusDetail {
            status, message, progress, replicas: rc(counts),
            conditions: conditions.into_iter().map(|(kind, s, reason, message, last_transition)| Condition {
                kind,
                status: [ConditionStatus::True, ConditionStatus::False, ConditionStatus::Unknown][s],
                reason, message, last_transition,
            }).collect(),
            workloads: workloads.into_iter().map(|(kind, name, c, ready)| WorkloadStatus { kind, name, replicas: rc(c), ready }).collect(),
        };
        let back: StatusDetail = through_json(&wire::StatusDetail::from(d.clone())).into();
        prop_assert_eq!(back, d);
    }

    #[test]
    fn logs(lines in proptest::collection::vec((text(), text(), text()), 0..4), truncated in any::<bool>()) {
        let l = Logs { lines: lines.into_iter().map(|(pod, container, line)| LogLine { pod, container, line }).collect(), truncated };
        let back: Logs = through_json(&wire::Logs::from(l.clone())).into();
        prop_assert_eq!(back, l);
    }

    #[test]
    fn info_and_health(name in text(), version in text(), backend in text(), bv in proptest::option::of(text()),
                       h in 0..3usize, message in text()) {
        let mut i = AdapterInfo::new(name, version, backend);
        i.backend_version = bv;
        let back: AdapterInfo = through_json(&wire::AdapterInfo::from(i.clone())).into();
        prop_assert_eq!(back, i);
        let health = Health { status: [HealthStatus::Healthy, HealthStatus::Degraded, HealthStatus::Unhealthy][h], message };
        let back: Health = through_json(&wire::Health::from(health.clone())).into();
        prop_assert_eq!(back, health);
    }

    #[test]
    fn capabilities(bits in any::<u16>()) {
        let mut c = Capabilities::none();
        let names: Vec<&str> = c.named().iter().map(|(n, _)| *n).collect();
        let w = wire::Capabilities {
            package_management: bits & 1 != 0, package_upload: bits & 2 != 0,
            deployment_lifecycle: bits & 4 != 0, rollback: bits & 8 != 0, scaling: bits & 16 != 0,
            history: bits & 32 != 0, status_detail: bits & 64 != 0, logs: bits & 128 != 0,
            labels: bits & 256 != 0, timeouts: bits & 512 != 0,
        };
        c = w.into();
        let back: Capabilities = through_json(&wire::Capabilities::from(c)).into();
        prop_assert_eq!(back, c);
        // every core capability has its camelCase member
        let json = serde_json::to_value(wire::Capabilities::from(Capabilities::all())).unwrap();
        let members = json.as_object().unwrap();
        prop_assert_eq!(members.len(), names.len());
        for n in names {
            let camel: String = n.split('_').enumerate().map(|(i, p)| if i == 0 { p.to_owned() } else { p[..1].to_uppercase() + &p[1..] }).collect();
            prop_assert_eq!(members.get(&camel), Some(&serde_json::Value::Bool(true)), "{}", camel);
        }
    }

    #[test]
    fn create(id in deployment_id(), package in package_id(), values in values(), labels in labels(),
              description in proptest::option::of(text()), timeout in opt_duration(), key in proptest::option::of(text())) {
        let mut r = CreateDeployment::new(id, package).values(values).labels(labels).timeout(timeout);
        r.description = description;
        r.scale_key = key;
        let back: CreateDeployment = through_json(&wire::CreateDeploymentRequest::from(r.clone())).try_into().unwrap();
        prop_assert_eq!(back, r);
    }

    #[test]
    fn update(package in proptest::option::of(package_id()), values in values(), replace in any::<bool>(),
              description in proptest::option::of(text()), timeout in opt_duration()) {
        let mut r = UpdateDeployment::new().values(values)
            .mode(if replace { ValuesMode::Replace } else { ValuesMode::Merge }).timeout(timeout);
        r.package = package;
        r.description = description;
        let back: UpdateDeployment = through_json(&wire::UpdateDeploymentRequest::from(r.clone())).try_into().unwrap();
        prop_assert_eq!(back, r);
    }

    #[test]
    fn scale_and_rollback(replicas in any::<u32>(), key in proptest::option::of(text()), timeout in opt_duration(),
                          revision in proptest::option::of(any::<u32>())) {
        let mut s = ScaleRequest::to(replicas).timeout(timeout);
        s.key = key;
        let back: ScaleRequest = through_json(&wire::ScaleDeploymentRequest::from(s.clone())).try_into().unwrap();
        prop_assert_eq!(back, s);
        let mut r = RollbackRequest::previous().timeout(timeout);
        r.revision = revision;
        let back: RollbackRequest = through_json(&wire::RollbackDeploymentRequest::from(r.clone())).try_into().unwrap();
        prop_assert_eq!(back, r);
    }

    #[test]
    fn list_queries(ns in proptest::option::of(text()), statuses in proptest::collection::vec(status(), 0..4),
                    labels in labels(), pkg in proptest::option::of(text()), limit in proptest::option::of(any::<u32>()),
                    token in proptest::option::of(text()), name in proptest::option::of(text())) {
        let f = DeploymentFilter::all().statuses(statuses).labels(labels)
            .page(PageRequest::new(limit, token.clone()));
        let mut f = f;
        f.namespace = ns;
        f.package_name = pkg;
        let q = wire::ListDeploymentsQuery::from(f.clone()).to_query();
        let back: DeploymentFilter = wire::ListDeploymentsQuery::from_query(&q).unwrap().into();
        prop_assert_eq!(back, f);

        let mut p = PackageFilter::all().page(PageRequest::new(limit, token));
        p.name = name;
        let q = wire::ListPackagesQuery::from(p.clone()).to_query();
        let back: PackageFilter = wire::ListPackagesQuery::from_query(&q).unwrap().into();
        prop_assert_eq!(back, p);
    }

    #[test]
    fn read_queries(limit in proptest::option::of(any::<u32>()), container in proptest::option::of(text()),
                    tail in proptest::option::of(any::<u32>()), since in opt_duration(),
                    bytes in proptest::option::of(any::<u64>()), force in any::<bool>()) {
        let mut h = HistoryOptions::all();
        h.limit = limit;
        let back: HistoryOptions = wire::HistoryQuery::from_query(&wire::HistoryQuery::from(h).to_query()).unwrap().into();
        prop_assert_eq!(back, h);

        let mut o = LogOptions::new();
        o.container = container;
        o.tail_lines = tail;
        o.since = since;
        o.limit_bytes = bytes;
        let back: LogOptions = wire::LogsQuery::from_query(&wire::LogsQuery::from(o.clone()).to_query()).unwrap().into();
        prop_assert_eq!(back, o);

        let d = if force { DeletePackageOptions::forced() } else { DeletePackageOptions::new() };
        let back: DeletePackageOptions = wire::DeletePackageQuery::from_query(&wire::DeletePackageQuery::from(d).to_query()).unwrap().into();
        prop_assert_eq!(back, d);
    }

    #[test]
    fn upload(content in proptest::collection::vec(any::<u8>(), 0..64),
              name in proptest::option::of(text()), version in proptest::option::of(text())) {
        let mut u = PackageUpload::new(content.clone());
        u.expected_name = name;
        u.expected_version = version;
        let q = wire::UploadPackageQuery::of(&u).to_query();
        let back = wire::UploadPackageQuery::from_query(&q).unwrap().into_upload(content);
        prop_assert_eq!(back, u);
    }

    #[test]
    fn errors_through_problems(e in error(), instance in proptest::option::of(text())) {
        let p = Problem::from_error(&e, instance.as_deref());
        let json = serde_json::to_vec(&p).unwrap();
        let back: Problem = serde_json::from_slice(&json).unwrap();
        prop_assert_eq!(&back, &p);
        prop_assert_eq!(back.status, o2dms_api::status_for(e.kind()));
        prop_assert_eq!(back.into_error(), e);
    }

    #[test]
    fn operations(d in proptest::option::of(common::deployment()), e in proptest::option::of(error()),
                  start in timestamp(), end in proptest::option::of(timestamp()), rev in proptest::option::of(any::<u32>()),
                  id in deployment_id(), state in 0..7usize) {
        use wire::OperationState::*;
        let op = wire::OperationOccurrence {
            id: "op-1".into(),
            operation: Operation::ScaleDeployment,
            target: wire::OperationTarget::Deployment { namespace: id.namespace, name: id.name },
            deployment_manager: "edge".into(),
            state: [Starting, Processing, Completed, FailedTemp, Failed, RollingBack, RolledBack][state],
            start_time: start,
            state_entered_time: start,
            end_time: end,
            revision: rev,
            result: d.map(Into::into),
            package: None,
            error: e.map(|e| Problem::from_error(&e, None)),
        };
        prop_assert_eq!(through_json(&op), op);
    }
}

#[test]
fn backend_errors_lose_only_their_source() {
    use std::error::Error as _;
    let e = o2dms_core::Error::backend_from("writing values", std::io::Error::other("disk full"));
    let p = Problem::from_error(&e, None);
    assert_eq!(
        p.detail.as_deref(),
        Some("backend error: writing values: disk full")
    );
    let back = p.into_error();
    assert_eq!(back, e);
    assert!(back.source().is_none());
}

#[test]
fn timeouts_up_to_the_core_maximum_are_exact() {
    let limit = o2dms_core::validate::MAX_TIMEOUT - std::time::Duration::from_nanos(1);
    let e = o2dms_core::Error::timeout("create_deployment", limit, "deployment is Failed");
    let json = serde_json::to_string(&Problem::from_error(&e, None)).unwrap();
    assert_eq!(
        serde_json::from_str::<Problem>(&json).unwrap().into_error(),
        e
    );
}
