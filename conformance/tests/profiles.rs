//! Verdicts per profile: the mock is conformant; under-declaring a core capability is not
//! a way to pass; a filtered run is partial; extended features are reported one by one.

mod common;

use async_trait::async_trait;
use common::broken::{run, Broken, Bug};
use o2dms_conformance::{Profile, Suite, Verdict, CORE_CAPABILITIES, EVENTS_FEATURE};
use o2dms_core::{Capabilities, CreateDeployment, Deployment, DmsAdapter, Result};
use o2dms_mock::MockAdapter;

#[tokio::test]
async fn the_mock_with_events_is_conformant_in_both_profiles() {
    let r = run(common::mock()).await;
    let core = r.profile(Profile::Core).unwrap();
    assert_eq!(core.verdict, Verdict::Success, "{}", core.reason);
    assert!(core.failed.is_empty() && core.not_run.is_empty());
    assert!(core.missing_capabilities.is_empty());
    let ext = r.profile(Profile::Extended).unwrap();
    assert_eq!(ext.verdict, Verdict::Success, "{}", ext.reason);
    assert!(
        ext.features.iter().all(|f| f.supported),
        "{:?}",
        ext.features
    );
    assert!(ext.features.iter().any(|f| f.name == EVENTS_FEATURE));
    assert!(r.conformant());
}

/// Declares no `timeouts`: the scenarios that check timeouts do not run, so nothing
/// fails, but the core verdict says the run is not conformant.
struct HidesTimeouts;

#[async_trait]
impl Bug for HidesTimeouts {
    fn capabilities(&self, mock: &MockAdapter) -> Capabilities {
        let mut caps = mock.capabilities();
        caps.timeouts = false;
        caps
    }
}

/// Declares no `timeouts` and loses the deployment of a create that failed.
struct LosesFailedCreates;

#[async_trait]
impl Bug for LosesFailedCreates {
    fn capabilities(&self, mock: &MockAdapter) -> Capabilities {
        HidesTimeouts.capabilities(mock)
    }
    async fn create_deployment(&self, m: &MockAdapter, r: CreateDeployment) -> Result<Deployment> {
        let id = r.id.clone();
        let out = m.create_deployment(r).await;
        if out.is_err() {
            let _ = m.delete_deployment(&id).await;
        }
        out
    }
}

#[tokio::test]
async fn under_declaring_a_core_capability_is_not_conformant() {
    let r = run(Broken::new(HidesTimeouts)).await;
    // Nothing it ran failed ...
    assert!(r.passed(), "{}", r.summary());
    // ... but the core profile is a failure, naming the capability and the scenarios.
    let core = r.profile(Profile::Core).unwrap();
    assert_eq!(core.verdict, Verdict::Failure);
    assert_eq!(core.missing_capabilities, ["timeouts"]);
    assert!(core.reason.contains("timeouts"), "{}", core.reason);
    assert!(
        core.not_run
            .iter()
            .any(|id| id == "status.never_ready_fails_after_timeout"),
        "{:?}",
        core.not_run
    );
    assert!(!r.conformant());
    assert!(r.summary().contains("NOT CONFORMANT"), "{}", r.summary());

    // The example: under-declared and losing failed creates is never conformant.
    let r = run(Broken::new(LosesFailedCreates)).await;
    let core = r.profile(Profile::Core).unwrap();
    assert_eq!(core.verdict, Verdict::Failure, "{}", core.reason);
    assert_eq!(core.missing_capabilities, ["timeouts"]);
    assert!(!r.conformant());
}

#[tokio::test]
async fn every_core_capability_is_named_and_needed_by_some_core_scenario() {
    let all = o2dms_conformance::catalogue();
    let known = Capabilities::all();
    for c in CORE_CAPABILITIES {
        assert_eq!(known.get(c), Some(true), "unknown capability {c}");
        assert!(
            all.iter()
                .any(|s| s.profile == Profile::Core && s.requires.contains(c)),
            "no core scenario needs {c}"
        );
    }
    // A core scenario needs only core capabilities (else an adapter could never pass core
    // without an extended feature).
    for s in all.iter().filter(|s| s.profile == Profile::Core) {
        for c in s.requires {
            assert!(
                CORE_CAPABILITIES.contains(c),
                "core scenario {} needs the extended capability {c}",
                s.id
            );
        }
        assert!(
            !s.has_flag(o2dms_conformance::Flag::NeedsEvents),
            "core scenario {} needs events",
            s.id
        );
    }
}

#[tokio::test]
async fn a_filtered_run_is_partial_and_a_run_without_events_lacks_that_feature() {
    let mock = common::mock();
    let mut settings = common::settings();
    settings.only = vec!["lifecycle.*".into(), "logs.*".into(), "events.*".into()];
    let r = Suite::new(settings).run(&mock).await;
    let core = r.profile(Profile::Core).unwrap();
    assert_eq!(core.verdict, Verdict::Partial, "{}", core.reason);
    assert!(core.failed.is_empty());
    let ext = r.profile(Profile::Extended).unwrap();
    assert_eq!(ext.verdict, Verdict::Partial, "{}", ext.reason);
    let events = ext
        .features
        .iter()
        .find(|f| f.name == EVENTS_FEATURE)
        .expect("the events feature is reported");
    assert!(!events.supported && events.unavailable, "{events:?}");
    assert!(!r.conformant());
}

#[tokio::test]
async fn a_failed_core_scenario_fails_the_profile() {
    /// Merge updates that replace the values.
    struct DropsValues;
    #[async_trait]
    impl Bug for DropsValues {
        async fn update_deployment(
            &self,
            m: &MockAdapter,
            id: &o2dms_core::DeploymentId,
            r: o2dms_core::UpdateDeployment,
        ) -> Result<Deployment> {
            let mut r = r;
            r.mode = o2dms_core::ValuesMode::Replace;
            m.update_deployment(id, r).await
        }
    }
    let r = run(Broken::new(DropsValues)).await;
    let core = r.profile(Profile::Core).unwrap();
    assert_eq!(core.verdict, Verdict::Failure);
    assert!(core
        .failed
        .iter()
        .any(|id| id == "update.merge_keeps_earlier_values"));
    let yaml = r.published("o2dms-conformance --adapter mock").to_yaml();
    assert!(yaml.contains("result: failure"), "{yaml}");
}
