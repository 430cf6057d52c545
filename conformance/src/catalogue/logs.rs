//! Logs: lines returned, tail_lines honoured, unknown container NotFound.

use std::collections::BTreeMap;

use o2dms_core::{DmsAdapter, ErrorKind, LogOptions};

use super::{caps, vals};
use crate::body;
use crate::check::{ensure, ResultExt};
use crate::context::Context;
use crate::fixtures::Fixture;
use crate::scenario::{Profile, Scenario, ScenarioResult};

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario::new(
            "logs.lines_returned",
            "logs of a running deployment return lines, each naming its pod and container",
            body!(lines_returned),
        )
        .requires(caps::LOGS)
        .profile(Profile::Extended),
        Scenario::new(
            "logs.tail_lines_honoured",
            "tail_lines 1 returns at most one line per pod and container, the last one of the full log",
            body!(tail_lines),
        )
        .requires(caps::LOGS)
        .profile(Profile::Extended),
        Scenario::new(
            "logs.unknown_container_is_not_found",
            "logs of a container the deployment does not have are NotFound",
            body!(unknown_container),
        )
        .requires(caps::LOGS)
        .profile(Profile::Extended),
        Scenario::new(
            "logs.missing_deployment_is_not_found",
            "logs of a deployment that does not exist are NotFound",
            body!(missing_deployment),
        )
        .requires(caps::LOGS)
        .profile(Profile::Extended),
    ]
}

async fn lines_returned(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    cx.deploy(a, "app", Fixture::Web, vals(r#"{"replicaCount":1}"#))
        .await?;
    let logs = a
        .deployment_logs(&cx.id("app"), &LogOptions::default())
        .await
        .step("deployment_logs")?;
    ensure(!logs.lines.is_empty(), "at least one log line", || {
        "no lines".into()
    })?;
    ensure(
        logs.lines
            .iter()
            .all(|l| !l.pod.is_empty() && !l.container.is_empty()),
        "every line to name its pod and container",
        || format!("{:?}", logs.lines),
    )
}

async fn tail_lines(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    cx.deploy(a, "app", Fixture::Web, vals(r#"{"replicaCount":1}"#))
        .await?;
    let full = a
        .deployment_logs(&cx.id("app"), &LogOptions::default())
        .await
        .step("deployment_logs")?;
    let options = LogOptions::new().tail_lines(1);
    let tail = a
        .deployment_logs(&cx.id("app"), &options)
        .await
        .step("deployment_logs with tail_lines 1")?;
    let mut last: BTreeMap<(String, String), String> = BTreeMap::new();
    for l in &full.lines {
        last.insert((l.pod.clone(), l.container.clone()), l.line.clone());
    }
    let mut got: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for l in &tail.lines {
        got.entry((l.pod.clone(), l.container.clone()))
            .or_default()
            .push(l.line.clone());
    }
    ensure(!tail.lines.is_empty(), "a line with tail_lines 1", || {
        "no lines".into()
    })?;
    for (k, lines) in &got {
        ensure(
            lines.len() == 1,
            format!("one line for {}/{}", k.0, k.1),
            || format!("{lines:?}"),
        )?;
        ensure(
            last.get(k) == lines.first(),
            format!("the last line of {}/{}: {:?}", k.0, k.1, last.get(k)),
            || format!("{lines:?}"),
        )?;
    }
    Ok(())
}

async fn unknown_container(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    cx.deploy(a, "app", Fixture::Web, vals("{}")).await?;
    let options = LogOptions::new().container("no-such-container");
    a.deployment_logs(&cx.id("app"), &options)
        .await
        .expect_kind(
            ErrorKind::NotFound,
            "deployment_logs of an unknown container",
        )?;
    Ok(())
}

async fn missing_deployment(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    a.deployment_logs(&cx.id("missing"), &LogOptions::default())
        .await
        .expect_kind(
            ErrorKind::NotFound,
            "deployment_logs of a missing deployment",
        )?;
    Ok(())
}
