//! State-machine test: random operation sequences run against the mock and against a
//! small reference model written here (plain `Vec`s, no indexes, no cleverness);
//! every result is compared.

use std::collections::{HashMap, VecDeque};

use o2dms_core::Operation;
use o2dms_core::{
    CreateDeployment, DeploymentFilter, DeploymentId, DeploymentStatus, DmsAdapter, Error,
    ErrorKind, HistoryOptions, PackageId, PageRequest, Resource, RollbackRequest, ScaleRequest,
    UpdateDeployment, Value, Values, ValuesMode,
};
use o2dms_mock::{ManualClock, MockAdapter, PackageSpec};
use proptest::prelude::*;

const NAMESPACES: [&str; 2] = ["ns-a", "ns-b"];
const NAMES: [&str; 3] = ["alpha", "beta", "gamma"];
/// `web` behaves; `api` ignores the scale key; `bad` never becomes ready; `ghost` is absent.
const PACKAGES: [&str; 4] = ["web@1.0.0", "api@2.0.0", "bad@0.1.0", "ghost@9.9.9"];
const SCALE_KEYS: [&str; 2] = ["replicaCount", "server.replicas"];
const MAX_HISTORY: usize = 4;

fn defaults(pkg: &str) -> Values {
    match pkg {
        "web@1.0.0" => Values::from_pairs([("replicaCount", Value::Int(1))]),
        "api@2.0.0" => Values::from_pairs([("replicaCount", Value::Int(2))]),
        _ => Values::new(),
    }
}

fn did(d: usize) -> DeploymentId {
    DeploymentId::new(NAMESPACES[d / 3], NAMES[d % 3]).unwrap()
}

#[derive(Debug, Clone)]
enum Op {
    Create {
        d: usize,
        pkg: usize,
        values: Values,
        key: Option<usize>,
    },
    Update {
        d: usize,
        pkg: Option<usize>,
        values: Values,
        replace: bool,
    },
    Scale {
        d: usize,
        replicas: u32,
        key: Option<usize>,
    },
    Rollback {
        d: usize,
        to: Option<u32>,
    },
    Delete {
        d: usize,
    },
    Get {
        d: usize,
    },
    List {
        ns: Option<usize>,
        limit: u32,
    },
    History {
        d: usize,
        limit: Option<u32>,
    },
    Status {
        d: usize,
    },
    FailNext {
        method: Operation,
        kind: usize,
    },
    StickPending {
        d: usize,
        status: usize,
    },
}

fn values() -> impl Strategy<Value = Values> {
    let leaf = prop_oneof![
        (0i64..4).prop_map(Value::Int),
        Just(Value::Null),
        (0i64..4).prop_map(|i| Value::Map([("x".to_string(), Value::Int(i))].into())),
    ];
    prop::collection::btree_map(
        prop::sample::select(vec!["a", "server", "replicaCount"]).prop_map(String::from),
        leaf,
        0..3,
    )
    .prop_map(Values::from)
}

fn op() -> impl Strategy<Value = Op> {
    let d = 0usize..6;
    prop_oneof![
        3 => (d.clone(), 0usize..4, values(), prop::option::of(0usize..2))
            .prop_map(|(d, pkg, values, key)| Op::Create { d, pkg, values, key }),
        3 => (d.clone(), prop::option::of(0usize..4), values(), any::<bool>())
            .prop_map(|(d, pkg, values, replace)| Op::Update { d, pkg, values, replace }),
        3 => (d.clone(), 0u32..4, prop::option::weighted(0.2, 0usize..2))
            .prop_map(|(d, replicas, key)| Op::Scale { d, replicas, key }),
        2 => (d.clone(), prop::option::of(1u32..8)).prop_map(|(d, to)| Op::Rollback { d, to }),
        1 => d.clone().prop_map(|d| Op::Delete { d }),
        1 => d.clone().prop_map(|d| Op::Get { d }),
        1 => (prop::option::of(0usize..2), 1u32..4).prop_map(|(ns, limit)| Op::List { ns, limit }),
        1 => (d.clone(), prop::option::of(1u32..5)).prop_map(|(d, limit)| Op::History { d, limit }),
        1 => d.clone().prop_map(|d| Op::Status { d }),
        1 => (
            prop::sample::select(vec![
                Operation::CreateDeployment,
                Operation::UpdateDeployment,
                Operation::ScaleDeployment,
                Operation::RollbackDeployment,
                Operation::DeleteDeployment,
                Operation::GetDeployment,
                Operation::ListDeployments,
            ]),
            0usize..3
        )
            .prop_map(|(method, kind)| Op::FailNext { method, kind }),
        1 => (d, 0usize..3).prop_map(|(d, status)| Op::StickPending { d, status }),
    ]
}

fn injected(kind: usize) -> Error {
    match kind {
        0 => Error::Unavailable {
            message: "injected".into(),
        },
        1 => Error::backend("injected"),
        _ => Error::conflict(Resource::Deployment, "x", "injected"),
    }
}

const STUCK: [DeploymentStatus; 3] = [
    DeploymentStatus::Deploying,
    DeploymentStatus::Upgrading,
    DeploymentStatus::RollingBack,
];

// ---------------------------------------------------------------- the reference model

#[derive(Debug, Clone, PartialEq)]
struct MRev {
    revision: u32,
    pkg: &'static str,
    values: Values,
    status: DeploymentStatus,
    description: String,
}

#[derive(Debug, Clone)]
struct MDep {
    d: usize,
    key: &'static str,
    revs: Vec<MRev>,
}

impl MDep {
    fn cur(&self) -> &MRev {
        self.revs.last().unwrap()
    }
}

/// What an operation returned, reduced to what the model predicts.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Err(ErrorKind, Option<Resource>),
    Dep(MRev),
    Unit,
    List(Vec<(String, u32, DeploymentStatus)>, u64),
    History(Vec<MRev>),
    Status(DeploymentStatus, u32, u32),
}

fn err(e: &Error) -> Outcome {
    let res = match e {
        Error::NotFound { resource, .. }
        | Error::AlreadyExists { resource, .. }
        | Error::Conflict { resource, .. } => Some(*resource),
        _ => None,
    };
    Outcome::Err(e.kind(), res)
}

fn nf(r: Resource) -> Outcome {
    Outcome::Err(ErrorKind::NotFound, Some(r))
}

#[derive(Default)]
struct Model {
    deps: Vec<MDep>,
    failures: HashMap<Operation, VecDeque<usize>>,
}

impl Model {
    fn find(&self, d: usize) -> Option<usize> {
        self.deps.iter().position(|x| x.d == d)
    }

    fn injected(&mut self, m: Operation) -> Option<Outcome> {
        let k = self.failures.get_mut(&m)?.pop_front()?;
        Some(err(&injected(k)))
    }

    /// Adds a revision the way Helm does; returns the outcome for its status.
    fn push(&mut self, i: usize, mut rev: MRev, scale_to: Option<u32>) -> Outcome {
        let dep = &mut self.deps[i];
        let verb = if rev.description.starts_with("Rollback") {
            "Rollback failed"
        } else {
            "Upgrade failed"
        };
        let outcome = if rev.pkg == "bad@0.1.0" {
            rev.status = DeploymentStatus::Failed;
            rev.description = verb.into();
            Outcome::Err(ErrorKind::Timeout, None)
        } else if rev.pkg == "api@2.0.0" && scale_to.is_some() {
            rev.status = DeploymentStatus::Failed;
            rev.description = verb.into();
            Outcome::Err(ErrorKind::Backend, None)
        } else {
            Outcome::Dep(rev.clone())
        };
        dep.revs.last_mut().unwrap().status = DeploymentStatus::Superseded;
        dep.revs.push(rev);
        while dep.revs.len() > MAX_HISTORY {
            dep.revs.remove(0);
        }
        outcome
    }

    fn writable(&self, d: usize) -> Result<usize, Outcome> {
        let i = self.find(d).ok_or(nf(Resource::Deployment))?;
        if self.deps[i].cur().status.is_in_progress() {
            return Err(Outcome::Err(
                ErrorKind::Conflict,
                Some(Resource::Deployment),
            ));
        }
        Ok(i)
    }

    fn apply(&mut self, op: &Op) -> Outcome {
        match op {
            Op::Create {
                d,
                pkg,
                values,
                key,
            } => {
                if let Some(o) = self.injected(Operation::CreateDeployment) {
                    return o;
                }
                if *pkg == 3 {
                    return nf(Resource::Package);
                }
                if self.find(*d).is_some() {
                    return Outcome::Err(ErrorKind::AlreadyExists, Some(Resource::Deployment));
                }
                let mut rev = MRev {
                    revision: 1,
                    pkg: PACKAGES[*pkg],
                    values: values.clone(),
                    status: DeploymentStatus::Deployed,
                    description: "Install complete".into(),
                };
                let mut out = Outcome::Dep(rev.clone());
                if rev.pkg == "bad@0.1.0" {
                    rev.status = DeploymentStatus::Failed;
                    rev.description = "Install failed".into();
                    out = Outcome::Err(ErrorKind::Timeout, None);
                }
                self.deps.push(MDep {
                    d: *d,
                    key: SCALE_KEYS[key.unwrap_or(0)],
                    revs: vec![rev],
                });
                out
            }
            Op::Update {
                d,
                pkg,
                values,
                replace,
            } => {
                if let Some(o) = self.injected(Operation::UpdateDeployment) {
                    return o;
                }
                let i = match self.writable(*d) {
                    Ok(i) => i,
                    Err(o) => return o,
                };
                if *pkg == Some(3) {
                    return nf(Resource::Package);
                }
                let cur = self.deps[i].cur().clone();
                let rev = MRev {
                    revision: cur.revision + 1,
                    pkg: pkg.map_or(cur.pkg, |p| PACKAGES[p]),
                    values: if *replace {
                        values.clone()
                    } else {
                        cur.values.merged(values)
                    },
                    status: DeploymentStatus::Deployed,
                    description: "Upgrade complete".into(),
                };
                self.push(i, rev, None)
            }
            Op::Scale { d, replicas, key } => {
                if let Some(o) = self.injected(Operation::ScaleDeployment) {
                    return o;
                }
                let i = match self.writable(*d) {
                    Ok(i) => i,
                    Err(o) => return o,
                };
                let dep = &self.deps[i];
                let mut rev = dep.cur().clone();
                rev.revision += 1;
                rev.values
                    .set_path(key.map_or(dep.key, |k| SCALE_KEYS[k]), *replicas);
                rev.status = DeploymentStatus::Deployed;
                rev.description = "Upgrade complete".into();
                self.push(i, rev, Some(*replicas))
            }
            Op::Rollback { d, to } => {
                if let Some(o) = self.injected(Operation::RollbackDeployment) {
                    return o;
                }
                let Some(i) = self.find(*d) else {
                    return nf(Resource::Deployment);
                };
                let cur = self.deps[i].cur().clone();
                let target = to.unwrap_or(cur.revision - 1);
                let Some(old) = self.deps[i].revs.iter().find(|r| r.revision == target) else {
                    return nf(Resource::Revision);
                };
                let rev = MRev {
                    revision: cur.revision + 1,
                    pkg: old.pkg,
                    values: old.values.clone(),
                    status: DeploymentStatus::Deployed,
                    description: format!("Rollback to {target}"),
                };
                self.push(i, rev, None)
            }
            Op::Delete { d } => {
                if let Some(o) = self.injected(Operation::DeleteDeployment) {
                    return o;
                }
                match self.find(*d) {
                    Some(i) => {
                        self.deps.remove(i);
                        Outcome::Unit
                    }
                    None => nf(Resource::Deployment),
                }
            }
            Op::Get { d } => {
                if let Some(o) = self.injected(Operation::GetDeployment) {
                    return o;
                }
                match self.find(*d) {
                    Some(i) => Outcome::Dep(self.deps[i].cur().clone()),
                    None => nf(Resource::Deployment),
                }
            }
            Op::List { ns, .. } => {
                if let Some(o) = self.injected(Operation::ListDeployments) {
                    return o;
                }
                let mut rows: Vec<(String, u32, DeploymentStatus)> = self
                    .deps
                    .iter()
                    .filter(|x| ns.is_none_or(|n| x.d / 3 == n))
                    .map(|x| (did(x.d).to_string(), x.cur().revision, x.cur().status))
                    .collect();
                rows.sort();
                let n = rows.len() as u64;
                Outcome::List(rows, n)
            }
            Op::History { d, limit } => match self.find(*d) {
                Some(i) => {
                    let revs = &self.deps[i].revs;
                    let keep = limit.map_or(revs.len(), |l| (l as usize).min(revs.len()));
                    Outcome::History(revs[revs.len() - keep..].to_vec())
                }
                None => nf(Resource::Deployment),
            },
            Op::Status { d } => match self.find(*d) {
                Some(i) => {
                    let dep = &self.deps[i];
                    let cur = dep.cur();
                    let seen = if cur.pkg == "api@2.0.0" {
                        defaults(cur.pkg)
                    } else {
                        defaults(cur.pkg).merged(&cur.values)
                    };
                    let desired = match seen.get_path(dep.key).and_then(Value::as_i64) {
                        Some(n) => n as u32,
                        None => 1,
                    };
                    let ready = if cur.pkg == "bad@0.1.0" { 0 } else { desired };
                    Outcome::Status(cur.status, desired, ready)
                }
                None => nf(Resource::Deployment),
            },
            Op::FailNext { method, kind } => {
                self.failures.entry(*method).or_default().push_back(*kind);
                Outcome::Unit
            }
            Op::StickPending { d, status } => match self.find(*d) {
                Some(i) => {
                    self.deps[i].revs.last_mut().unwrap().status = STUCK[*status];
                    Outcome::Unit
                }
                None => nf(Resource::Deployment),
            },
        }
    }
}

// ---------------------------------------------------------------- the mock side

/// A failure's description reduced to its verb (`Upgrade failed: <why>` -> `Upgrade failed`).
fn norm(description: String) -> String {
    match description.split_once(": ") {
        Some((head, _)) if head.ends_with(" failed") => head.to_string(),
        _ => description,
    }
}

fn dep_outcome(r: Result<o2dms_core::Deployment, Error>) -> Outcome {
    match r {
        Ok(d) => Outcome::Dep(MRev {
            revision: d.revision,
            pkg: PACKAGES
                .iter()
                .find(|p| **p == d.package.as_str())
                .expect("known package"),
            values: d.values,
            status: d.status,
            description: norm(d.description),
        }),
        Err(e) => err(&e),
    }
}

async fn run(mock: &MockAdapter, op: &Op) -> Outcome {
    let pkg = |i: usize| PackageId::new(PACKAGES[i]).unwrap();
    match op {
        Op::Create {
            d,
            pkg: p,
            values,
            key,
        } => {
            let mut req = CreateDeployment::new(did(*d), pkg(*p)).values(values.clone());
            if let Some(k) = key {
                req = req.scale_key(SCALE_KEYS[*k]);
            }
            dep_outcome(mock.create_deployment(req).await)
        }
        Op::Update {
            d,
            pkg: p,
            values,
            replace,
        } => {
            let mut req = UpdateDeployment::new()
                .values(values.clone())
                .mode(if *replace {
                    ValuesMode::Replace
                } else {
                    ValuesMode::Merge
                });
            req.package = p.map(pkg);
            dep_outcome(mock.update_deployment(&did(*d), req).await)
        }
        Op::Scale { d, replicas, key } => {
            let mut req = ScaleRequest::to(*replicas);
            req.key = key.map(|k| SCALE_KEYS[k].to_string());
            dep_outcome(mock.scale_deployment(&did(*d), req).await)
        }
        Op::Rollback { d, to } => {
            let req = match to {
                Some(n) => RollbackRequest::to_revision(*n),
                None => RollbackRequest::previous(),
            };
            dep_outcome(mock.rollback_deployment(&did(*d), req).await)
        }
        Op::Delete { d } => match mock.delete_deployment(&did(*d)).await {
            Ok(()) => Outcome::Unit,
            Err(e) => err(&e),
        },
        Op::Get { d } => dep_outcome(mock.get_deployment(&did(*d)).await),
        Op::List { ns, limit } => {
            let mut f = DeploymentFilter::all().page(PageRequest::first(*limit));
            f.namespace = ns.map(|n| NAMESPACES[n].to_string());
            let mut rows = Vec::new();
            let mut total = None;
            loop {
                let page = match mock.list_deployments(&f).await {
                    Ok(p) => p,
                    Err(e) => return err(&e),
                };
                assert!(page.items.len() <= *limit as usize);
                assert!(total.is_none() || total == page.total, "total is stable");
                total = page.total;
                rows.extend(
                    page.items
                        .into_iter()
                        .map(|d| (d.id.to_string(), d.revision, d.status)),
                );
                match page.continue_token {
                    Some(t) => f.page.continue_token = Some(t),
                    None => break,
                }
            }
            Outcome::List(rows, total.expect("mock always knows the total"))
        }
        Op::History { d, limit } => {
            match mock
                .deployment_history(
                    &did(*d),
                    limit.map_or_else(HistoryOptions::all, HistoryOptions::last),
                )
                .await
            {
                Ok(h) => Outcome::History(
                    h.into_iter()
                        .map(|r| MRev {
                            revision: r.revision,
                            pkg: PACKAGES.iter().find(|p| **p == r.package.as_str()).unwrap(),
                            values: r.values,
                            status: r.status,
                            description: norm(r.description),
                        })
                        .collect(),
                ),
                Err(e) => err(&e),
            }
        }
        Op::Status { d } => match mock.deployment_status(&did(*d)).await {
            Ok(s) => Outcome::Status(s.status, s.replicas.desired, s.replicas.ready),
            Err(e) => err(&e),
        },
        Op::FailNext { method, kind } => {
            mock.faults().fail_next(*method, 1, injected(*kind));
            Outcome::Unit
        }
        Op::StickPending { d, status } => {
            match mock.faults().stick_pending(&did(*d), STUCK[*status]) {
                Ok(()) => Outcome::Unit,
                Err(e) => err(&e),
            }
        }
    }
}

/// Invariants that hold after every step whatever happened.
async fn check_invariants(mock: &MockAdapter) {
    let all = mock
        .list_deployments(&DeploymentFilter::all().page(PageRequest::first(1000)))
        .await;
    let all = all.expect("no injected list failure is queued here");
    for d in all.items {
        let Ok(h) = mock
            .deployment_history(&d.id, HistoryOptions::default())
            .await
        else {
            continue;
        };
        assert!(!h.is_empty() && h.len() <= MAX_HISTORY);
        assert!(h.windows(2).all(|w| w[0].revision + 1 == w[1].revision));
        let last = h.last().unwrap();
        assert_eq!(last.revision, d.revision);
        assert_eq!(last.status, d.status);
        assert_ne!(d.status, DeploymentStatus::Superseded);
        assert!(h[..h.len() - 1]
            .iter()
            .all(|r| r.status == DeploymentStatus::Superseded));
    }
}

fn new_mock() -> MockAdapter {
    let mock = MockAdapter::builder()
        .package(PackageSpec::new("web", "1.0.0").values(defaults("web@1.0.0")))
        .package(PackageSpec::new("api", "2.0.0").values(defaults("api@2.0.0")))
        .package(PackageSpec::new("bad", "0.1.0"))
        .max_history(MAX_HISTORY)
        .clock(ManualClock::default())
        .build();
    mock.faults().package_ignores_scale("api");
    mock.faults().package_never_ready("bad");
    mock
}

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::with_cases(256)
    })]

    #[test]
    fn mock_matches_the_reference_model(ops in prop::collection::vec(op(), 1..48)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let mock = new_mock();
            let mut model = Model::default();
            for (step, op) in ops.iter().enumerate() {
                let expected = model.apply(op);
                let got = run(&mock, op).await;
                assert_eq!(got, expected, "step {step}: {op:?}");
                let list_fault_queued = model
                    .failures
                    .get(&Operation::ListDeployments)
                    .is_some_and(|q| !q.is_empty());
                if !list_fault_queued {
                    check_invariants(&mock).await;
                }
            }
        });
    }
}
