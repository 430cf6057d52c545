//! Logs: lines returned, tail_lines honoured, unknown container NotFound.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use o2dms_core::{DmsAdapter, ErrorKind, LogLine, LogOptions, Logs};

use super::{caps, vals};
use crate::body;
use crate::check::{ensure, ensure_eq, ResultExt};
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
        .profile(Profile::Extended)
        .covers(&["logs.lines"]),
        Scenario::new(
            "logs.tail_lines_honoured",
            "tail_lines 1 returns at most one line per pod and container, the last one of the full log",
            body!(tail_lines),
        )
        .requires(caps::LOGS)
        .profile(Profile::Extended)
        .covers(&["logs.options"]),
        Scenario::new(
            "logs.unknown_container_is_not_found",
            "logs of a container the deployment does not have are NotFound",
            body!(unknown_container),
        )
        .requires(caps::LOGS)
        .profile(Profile::Extended)
        .covers(&["trait.not_found"]),
        Scenario::new(
            "logs.missing_deployment_is_not_found",
            "logs of a deployment that does not exist are NotFound",
            body!(missing_deployment),
        )
        .requires(caps::LOGS)
        .profile(Profile::Extended)
        .covers(&["trait.not_found"]),
        Scenario::new(
            "logs.own_only_in_shared_namespace",
            "two deployments of one package in one namespace: the logs of each come from its own pods, never the other's",
            body!(own_only),
        )
        .requires(caps::LOGS)
        .profile(Profile::Extended)
        .covers(&["logs.own_only", "logs.lines"]),
        Scenario::new(
            "logs.container_and_since_honoured",
            "a container option returns exactly that container's lines; since one hour returns every line; since one second, when every line is older, returns fewer lines",
            body!(container_and_since),
        )
        .requires(caps::LOGS)
        .profile(Profile::Extended)
        .covers(&["logs.options"]),
        Scenario::new(
            "logs.limit_bytes_over_all_pods",
            "limit_bytes bounds the bytes of all pods together and sets truncated when it cut lines; a limit above the full log returns it all, not truncated",
            body!(limit_bytes),
        )
        .requires(caps::LOGS)
        .profile(Profile::Extended)
        .covers(&["logs.options"]),
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

fn pods(logs: &Logs) -> BTreeSet<String> {
    logs.lines.iter().map(|l| l.pod.clone()).collect()
}

async fn own_only(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    for name in ["one", "two"] {
        cx.deploy(a, name, Fixture::Web, vals(r#"{"replicaCount":1}"#))
            .await?;
    }
    let mut seen = Vec::new();
    for name in ["one", "two"] {
        let logs = a
            .deployment_logs(&cx.id(name), &LogOptions::new())
            .await
            .step(&format!("deployment_logs of `{name}`"))?;
        let p = pods(&logs);
        ensure(
            p.len() == 1,
            format!("the lines of `{name}` from its one pod"),
            || format!("pods {p:?}"),
        )?;
        seen.push(p);
    }
    ensure(
        seen[0].is_disjoint(&seen[1]),
        "no pod in the logs of both deployments",
        || format!("pods of `one` {:?}, of `two` {:?}", seen[0], seen[1]),
    )
}

fn texts(lines: &[LogLine]) -> Vec<(String, String, String)> {
    lines
        .iter()
        .map(|l| (l.pod.clone(), l.container.clone(), l.line.clone()))
        .collect()
}

async fn container_and_since(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("app");
    cx.deploy(a, "app", Fixture::Web, vals(r#"{"replicaCount":1}"#))
        .await?;
    let full = a
        .deployment_logs(&id, &LogOptions::new())
        .await
        .step("deployment_logs")?;
    let Some(first) = full.lines.first() else {
        return Err(crate::Failure::mismatch("log lines", "none"));
    };
    let container = first.container.clone();
    let only = a
        .deployment_logs(&id, &LogOptions::new().container(container.clone()))
        .await
        .step(&format!("deployment_logs of container `{container}`"))?;
    let want: Vec<LogLine> = full
        .lines
        .iter()
        .filter(|l| l.container == container)
        .cloned()
        .collect();
    ensure_eq(
        &format!("lines of container `{container}`"),
        &texts(&want),
        &texts(&only.lines),
    )?;
    let hour = a
        .deployment_logs(&id, &LogOptions::new().since(Duration::from_secs(3600)))
        .await
        .step("deployment_logs since one hour")?;
    ensure_eq(
        "lines since one hour (all of them)",
        &texts(&full.lines),
        &texts(&hour.lines),
    )?;
    // Let every line written so far become older than one second.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let now = a
        .deployment_logs(&id, &LogOptions::new())
        .await
        .step("deployment_logs")?;
    let recent = a
        .deployment_logs(&id, &LogOptions::new().since(Duration::from_secs(1)))
        .await
        .step("deployment_logs since one second")?;
    ensure(
        recent.lines.len() < now.lines.len(),
        format!(
            "fewer lines since one second than the {} of the whole log",
            now.lines.len()
        ),
        || format!("{} lines", recent.lines.len()),
    )
}

fn bytes(lines: &[LogLine]) -> u64 {
    lines.iter().map(|l| l.line.len() as u64 + 1).sum()
}

async fn limit_bytes(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = cx.id("app");
    cx.deploy(a, "app", Fixture::Web, vals(r#"{"replicaCount":2}"#))
        .await?;
    let full = a
        .deployment_logs(&id, &LogOptions::new())
        .await
        .step("deployment_logs")?;
    ensure(
        pods(&full).len() == 2,
        "lines from both pods of the deployment",
        || format!("pods {:?}", pods(&full)),
    )?;
    ensure(!full.truncated, "the whole log not truncated", || {
        "truncated".into()
    })?;
    let total = bytes(&full.lines);
    let limit = (total / 2).max(1);
    let cut = a
        .deployment_logs(&id, &LogOptions::new().limit_bytes(limit))
        .await
        .step(&format!("deployment_logs with limit_bytes {limit}"))?;
    let text: u64 = cut.lines.iter().map(|l| l.line.len() as u64).sum();
    ensure(
        text <= limit,
        format!("at most {limit} bytes of lines over all pods (the whole log is {total})"),
        || format!("{text} bytes in {} lines", cut.lines.len()),
    )?;
    ensure(
        cut.truncated,
        "truncated set when the limit cut lines",
        || format!("not truncated, {} lines", cut.lines.len()),
    )?;
    let roomy = total + 4096;
    let all = a
        .deployment_logs(&id, &LogOptions::new().limit_bytes(roomy))
        .await
        .step(&format!("deployment_logs with limit_bytes {roomy}"))?;
    ensure(
        !all.truncated,
        format!("not truncated under a limit of {roomy}"),
        || "truncated".into(),
    )?;
    ensure_eq(
        "lines under a limit above the whole log",
        &texts(&full.lines),
        &texts(&all.lines),
    )
}
