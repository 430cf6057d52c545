//! Two writers that do not share a lock (two adapters, each running its own helm
//! processes, as two DMS replicas would) updating one release at the same moment: the
//! loser of every race gets Conflict, never a Backend error, and history stays whole.

use std::collections::BTreeMap;

use o2dms_core::{CreateDeployment, DmsAdapter, Error, ErrorKind, UpdateDeployment};
use o2dms_helm::HelmAdapter;

use super::{id, pkg, vals, Env};

const ROUNDS: u32 = 20;

pub async fn concurrent_updates(env: &Env) {
    let a = &env.adapter;
    let work = tempfile::tempdir().expect("second work dir");
    let mut config = a.config().clone();
    config.package_dir = Some(a.config().package_location().unwrap());
    config.work_dir = Some(work.path().to_path_buf());
    let b = HelmAdapter::connect(config).await.expect("second adapter");

    let race = id("o2-race", "web");
    a.create_deployment(CreateDeployment::new(race.clone(), pkg("web@0.1.0")))
        .await
        .expect("create");
    let mut seen: BTreeMap<&'static str, u32> = BTreeMap::new();
    let mut applied = 0;
    for round in 0..ROUNDS {
        let update = |who: &str| {
            UpdateDeployment::new().values(vals(serde_json::json!({ "race": { who: round } })))
        };
        let (ra, rb) = tokio::join!(
            a.update_deployment(&race, update("a")),
            b.update_deployment(&race, update("b"))
        );
        for r in [ra, rb] {
            match r {
                Ok(_) => {
                    applied += 1;
                    *seen.entry("applied").or_default() += 1;
                }
                Err(e) => {
                    assert_eq!(
                        e.kind(),
                        ErrorKind::Conflict,
                        "round {round}: the loser got {e}"
                    );
                    let Error::Conflict { reason, .. } = &e else {
                        unreachable!()
                    };
                    *seen.entry("conflict").or_default() += 1;
                    assert!(!reason.is_empty());
                }
            }
        }
    }
    eprintln!("concurrent updates over {ROUNDS} rounds: {seen:?}");
    assert!(
        applied >= ROUNDS,
        "at least one writer wins each round: {seen:?}"
    );
    // Every applied update made exactly one revision, and the release is usable.
    let d = a.get_deployment(&race).await.unwrap();
    assert_eq!(d.revision, 1 + applied, "{seen:?}");
    a.delete_deployment(&race).await.expect("delete");
}
