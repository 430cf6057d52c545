//! History: ascending revisions, statuses, limit.

use o2dms_core::{
    DeploymentStatus, DmsAdapter, ErrorKind, HistoryOptions, RollbackRequest, ValuesMode,
};

use super::{caps, history, numbers, update, vals};
use crate::body;
use crate::check::{ensure_eq, ResultExt};
use crate::context::Context;
use crate::fixtures::Fixture;
use crate::scenario::{Scenario, ScenarioResult};

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario::new(
            "history.ascending_with_values",
            "after create and two updates, history is revisions 1, 2, 3 in ascending order, each with the values it was made with",
            body!(ascending),
        )
        .requires(caps::HISTORY)
        .covers(&["history.ascending", "update.one_revision"]),
        Scenario::new(
            "history.only_newest_is_current",
            "only the newest revision is not superseded: statuses are superseded, superseded, deployed",
            body!(only_newest),
        )
        .requires(caps::HISTORY)
        .covers(&["history.one_current"]),
        Scenario::new(
            "history.limit_keeps_newest",
            "a limit of 2 returns the newest two revisions (2, 3), still ascending; a limit of 1 returns revision 3",
            body!(limit),
        )
        .requires(caps::HISTORY)
        .covers(&["history.limit"]),
        Scenario::new(
            "history.records_rollback",
            "a rollback to 1 appears as revision 3 with revision 1's values and package; earlier revisions are superseded",
            body!(records_rollback),
        )
        .requires(caps::ROLLBACK_HISTORY)
        .covers(&["rollback.new_revision", "history.one_current"]),
        Scenario::new(
            "history.missing_is_not_found",
            "history of a deployment that does not exist is NotFound",
            body!(missing),
        )
        .requires(caps::HISTORY)
        .covers(&["trait.not_found"]),
        Scenario::new(
            "history.limit_past_the_end",
            "with two revisions, a limit of 5 or 2 returns both (1, 2) and a limit of 1 returns revision 2",
            body!(limit_past_the_end),
        )
        .requires(caps::HISTORY)
        .covers(&["history.past_limit", "history.limit"]),
    ]
}

async fn three_revisions(a: &dyn DmsAdapter, cx: &Context) -> Result<(), crate::Failure> {
    let id = cx.id("app");
    cx.deploy(a, "app", Fixture::Web, vals(r#"{"conformance":{"v":1}}"#))
        .await?;
    update(
        a,
        cx,
        &id,
        vals(r#"{"conformance":{"v":2}}"#),
        ValuesMode::Merge,
    )
    .await?;
    update(
        a,
        cx,
        &id,
        vals(r#"{"conformance":{"v":3}}"#),
        ValuesMode::Merge,
    )
    .await?;
    Ok(())
}

async fn ascending(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    three_revisions(a, cx).await?;
    let h = history(a, &cx.id("app")).await?;
    ensure_eq("history revisions", &vec![1, 2, 3], &numbers(&h))?;
    for r in &h {
        ensure_eq(
            &format!("values of revision {}", r.revision),
            &vals(&format!(r#"{{"conformance":{{"v":{}}}}}"#, r.revision)),
            &r.values,
        )?;
    }
    Ok(())
}

async fn only_newest(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    three_revisions(a, cx).await?;
    let h = history(a, &cx.id("app")).await?;
    let statuses: Vec<DeploymentStatus> = h.iter().map(|r| r.status).collect();
    ensure_eq(
        "history statuses",
        &vec![
            DeploymentStatus::Superseded,
            DeploymentStatus::Superseded,
            DeploymentStatus::Deployed,
        ],
        &statuses,
    )
}

async fn limit(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    three_revisions(a, cx).await?;
    let id = cx.id("app");
    let two = a
        .deployment_history(&id, HistoryOptions::last(2))
        .await
        .step("deployment_history with limit 2")?;
    ensure_eq("revisions with limit 2", &vec![2, 3], &numbers(&two))?;
    let one = a
        .deployment_history(&id, HistoryOptions::last(1))
        .await
        .step("deployment_history with limit 1")?;
    ensure_eq("revisions with limit 1", &vec![3], &numbers(&one))
}

async fn records_rollback(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("app");
    cx.deploy(a, "app", Fixture::Web, vals(r#"{"conformance":{"v":1}}"#))
        .await?;
    update(
        a,
        cx,
        &id,
        vals(r#"{"conformance":{"v":2}}"#),
        ValuesMode::Merge,
    )
    .await?;
    a.rollback_deployment(
        &id,
        RollbackRequest::to_revision(1).timeout(cx.operation_timeout()),
    )
    .await
    .step("rollback_deployment to 1")?;
    let h = history(a, &id).await?;
    ensure_eq("history revisions", &vec![1, 2, 3], &numbers(&h))?;
    ensure_eq("values of revision 3", &h[0].values, &h[2].values)?;
    ensure_eq("package of revision 3", &h[0].package, &h[2].package)?;
    let statuses: Vec<DeploymentStatus> = h.iter().map(|r| r.status).collect();
    ensure_eq(
        "history statuses",
        &vec![
            DeploymentStatus::Superseded,
            DeploymentStatus::Superseded,
            DeploymentStatus::Deployed,
        ],
        &statuses,
    )
}

async fn missing(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    a.deployment_history(&cx.id("missing"), HistoryOptions::default())
        .await
        .expect_kind(
            ErrorKind::NotFound,
            "deployment_history of a missing deployment",
        )?;
    Ok(())
}

async fn limit_past_the_end(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("app");
    cx.deploy(a, "app", Fixture::Web, vals(r#"{"conformance":{"v":1}}"#))
        .await?;
    update(
        a,
        cx,
        &id,
        vals(r#"{"conformance":{"v":2}}"#),
        ValuesMode::Merge,
    )
    .await?;
    for (limit, want) in [(5, vec![1, 2]), (2, vec![1, 2]), (1, vec![2])] {
        let h = a
            .deployment_history(&id, HistoryOptions::last(limit))
            .await
            .step(&format!("deployment_history with limit {limit}"))?;
        ensure_eq(
            &format!("revisions with limit {limit} of 2"),
            &want,
            &numbers(&h),
        )?;
    }
    Ok(())
}
