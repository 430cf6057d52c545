//! No value in errors, events or logs (issue #13), and the `redactValues` setting.
//!
//! A chart made here puts values where helm or the API server quote them back: a label
//! value the API server refuses (its error quotes the value), a template `fail` that
//! prints one, a Deployment named by one that never becomes ready (Helm 4's timeout
//! message names it). Every write goes through an adapter wrapped in
//! `o2dms_layers::Events`, with every log line of the process captured at TRACE level;
//! the values' marker must be in none of the errors (Display and Debug), the events or
//! the log lines. (The Deployment's name, a value too, is checked in errors and events
//! only: object names are in the URLs that the Kubernetes clients of the process log, the
//! simulated kubelet's included, and a name is not a secret. The marker checked in the
//! log lines is upper case, which no object name can hold.) Then the same adapter, set to redact `*password*`-like keys, shows them
//! masked in get, list, history and what writes return, while a merge update keeps the
//! real value in the release (read with the helm CLI).
//!
//! The capture is the process-wide default subscriber, recording only while this step
//! runs: a thread-local default (`tracing::subscriber::set_default`) would miss the
//! runtime's other worker thread and the Kubernetes client's tasks. helm3 and helm4 are
//! separate test binaries, so it is installed once in each.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once};
use std::time::Duration;

use o2dms_core::{
    CreateDeployment, DeletePackageOptions, DeploymentFilter, DmsAdapter, Error, HistoryOptions,
    OperationEvent, PackageUpload, RollbackRequest, UpdateDeployment, Value,
};
use o2dms_helm::HelmAdapter;
use o2dms_layers::Events;

use super::{id, pkg, vals, Env};

/// In every value below that must stay hidden.
const MARKER: &str = "MARKER-7f3a";
/// In a value used as a Kubernetes object's name (lower case): hidden from errors and
/// events.
const NAME_MARKER: &str = "mrkr-7f3a";
/// A label value the API server refuses, quoting it.
const BAD_LABEL: &str = "MARKER-7f3a secret with spaces!";
/// What a masked value reads as.
const REDACTED: &str = "[redacted]";

/// Log lines written while capturing.
static LOG: Mutex<Vec<u8>> = Mutex::new(Vec::new());
/// Whether log lines are being captured.
static CAPTURING: AtomicBool = AtomicBool::new(false);

/// Where the subscriber writes: the buffer.
struct Sink;

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOG.lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Starts capturing every log line of the process at TRACE level (the subscriber is
/// installed on first use, and records nothing while capturing is off).
fn start_capture() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        use tracing_subscriber::prelude::*;
        let layer = tracing_subscriber::fmt::layer()
            .with_writer(|| Sink)
            .with_ansi(false)
            .with_filter(tracing_subscriber::filter::filter_fn(|_| {
                CAPTURING.load(Ordering::SeqCst)
            }));
        tracing_subscriber::registry()
            .with(layer)
            .try_init()
            .expect("no other subscriber in this test process");
    });
    LOG.lock().unwrap_or_else(|e| e.into_inner()).clear();
    CAPTURING.store(true, Ordering::SeqCst);
}

/// Stops capturing; what was captured.
fn stop_capture() -> String {
    CAPTURING.store(false, Ordering::SeqCst);
    let log = std::mem::take(&mut *LOG.lock().unwrap_or_else(|e| e.into_inner()));
    String::from_utf8_lossy(&log).into_owned()
}

/// The chart: a ConfigMap labelled with `tier` and holding `adminPassword`; a `fail`
/// printing `boom`; a never-ready Deployment named `stuck`.
fn leaky_chart(env: &Env) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("chart dir");
    let chart = dir.path().join("leaky");
    let write = |path: &str, text: &str| {
        let p = chart.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write(
        "Chart.yaml",
        "apiVersion: v2\nname: leaky\nversion: 0.1.0\n",
    );
    write(
        "values.yaml",
        "tier: edge\nboom: \"\"\nstuck: \"\"\nnote: \"\"\nadminPassword: \"\"\n",
    );
    write(
        "templates/configmap.yaml",
        r#"{{- if .Values.boom }}
{{- fail (printf "bad: %s" .Values.boom) }}
{{- end }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-leaky
  labels:
    tier: {{ .Values.tier | quote }}
data:
  note: {{ .Values.note | quote }}
  password: {{ .Values.adminPassword | quote }}
"#,
    );
    write(
        "templates/stuck.yaml",
        r#"{{- if .Values.stuck }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Values.stuck }}
spec:
  replicas: 1
  selector:
    matchLabels:
      app: stuck
  template:
    metadata:
      labels:
        app: stuck
    spec:
      containers:
        - name: main
          image: nothing.invalid/never:1
{{- end }}
"#,
    );
    let out = env.cli_ok(&[
        "package",
        chart.to_str().unwrap(),
        "--destination",
        dir.path().to_str().unwrap(),
    ]);
    let file = out.trim().rsplit(": ").next().unwrap().trim().to_owned();
    std::fs::read(Path::new(&file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// Whether `text` shows any of the hidden values.
fn leaks(text: &str) -> bool {
    text.contains(MARKER) || text.contains(NAME_MARKER)
}

/// Records the error of `r` (which must fail) after checking it shows no value.
fn failed<T: std::fmt::Debug>(r: Result<T, Error>, what: &str, errors: &mut Vec<Error>) -> Error {
    let e = r.expect_err(what);
    assert!(!leaks(&format!("{e} {e:?}")), "{what}: {e:?}");
    errors.push(e.clone());
    e
}

pub async fn kept_out_of_errors_events_and_logs(env: &Env) {
    start_capture();
    let mut config = env.adapter.config().clone();
    config.work_dir = None;
    config.redact_values = ["*password*", "*token*", "*secret*", "*key"]
        .map(String::from)
        .to_vec();
    let a = Events::new(
        HelmAdapter::connect(config)
            .await
            .expect("connect an adapter that redacts"),
    );
    let mut events = a.subscribe();
    let package = a
        .upload_package(PackageUpload::new(leaky_chart(env)))
        .await
        .expect("upload the chart");
    let leaky = pkg("leaky@0.1.0");
    let mut errors = Vec::new();

    // The API server refuses the label and quotes it: install fails, the release stays
    // failed, and its description (helm's error) is scrubbed too.
    let label = id("o2-secrets", "label");
    let e = failed(
        a.create_deployment(
            CreateDeployment::new(label.clone(), leaky.clone())
                .values(vals(serde_json::json!({"tier": BAD_LABEL}))),
        )
        .await,
        "a label the API server refuses",
        &mut errors,
    );
    assert!(matches!(e, Error::InvalidArgument { .. }), "{e:?}");
    assert!(
        format!("{e}").contains(REDACTED),
        "the message says where: {e}"
    );
    let d = a.get_deployment(&label).await.expect("the failed release");
    assert!(!leaks(&d.description), "{}", d.description);
    let st = a.deployment_status(&label).await.expect("status");
    assert!(!leaks(&st.message), "{st:?}");
    a.delete_deployment(&label).await.expect("delete");

    // helm's renderer prints the value (`fail`): nothing is installed.
    let render = id("o2-secrets", "render");
    let boom = format!("{MARKER} rendered into a message");
    let e = failed(
        a.create_deployment(
            CreateDeployment::new(render.clone(), leaky.clone())
                .values(vals(serde_json::json!({ "boom": boom }))),
        )
        .await,
        "a template that fails with the value",
        &mut errors,
    );
    assert!(matches!(e, Error::InvalidArgument { .. }), "{e:?}");

    // A deployment with secrets: reads show them masked, whatever their type.
    let good = id("o2-secrets", "good");
    let password = format!("{MARKER}-admin-password");
    let created = a
        .create_deployment(
            CreateDeployment::new(good.clone(), leaky.clone()).values(vals(serde_json::json!({
                "adminPassword": password,
                "db": {"password": format!("{MARKER}-db"), "user": "app"},
                "apiToken": {"value": format!("{MARKER}-token")},
                "replicaCount": 1,
            }))),
        )
        .await
        .expect("create with secrets");
    let masked = |values: &o2dms_core::Values, what: &str| {
        assert_eq!(
            values.get("adminPassword"),
            Some(&Value::from(REDACTED)),
            "{what}"
        );
        assert_eq!(
            values.get_path("db.password"),
            Some(&Value::from(REDACTED)),
            "{what}"
        );
        assert_eq!(
            values.get_path("db.user"),
            Some(&Value::from("app")),
            "{what}"
        );
        assert_eq!(
            values.get("apiToken"),
            Some(&Value::from(REDACTED)),
            "{what}"
        );
        assert_eq!(values.get("replicaCount"), Some(&Value::Int(1)), "{what}");
    };
    masked(&created.values, "create");
    masked(&a.get_deployment(&good).await.unwrap().values, "get");
    let listed = a
        .list_deployments(&DeploymentFilter::in_namespace("o2-secrets"))
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
    masked(&listed.items[0].values, "list");
    // Without the setting, the same deployment reads in full.
    let full = env.adapter.get_deployment(&good).await.unwrap();
    assert_eq!(
        full.values.get("adminPassword"),
        Some(&Value::from(password.as_str()))
    );

    // A merge update of another key: the masked value is kept, not replaced by the mask.
    let updated = a
        .update_deployment(
            &good,
            UpdateDeployment::new().values(vals(serde_json::json!({"note": "second"}))),
        )
        .await
        .expect("merge update");
    masked(&updated.values, "update");
    assert_eq!(updated.values.get("note"), Some(&Value::from("second")));
    let applied: serde_json::Value = serde_json::from_str(&env.cli_ok(&[
        "get",
        "values",
        "good",
        "-n",
        "o2-secrets",
        "-o",
        "json",
    ]))
    .unwrap();
    assert_eq!(applied["adminPassword"], serde_json::json!(password));
    assert_eq!(
        applied["db"]["password"],
        serde_json::json!(format!("{MARKER}-db"))
    );
    assert_eq!(applied["note"], "second");

    // Updates that fail: the API server's refusal (revision 3, failed) and the renderer.
    failed(
        a.update_deployment(
            &good,
            UpdateDeployment::new().values(vals(serde_json::json!({"tier": BAD_LABEL}))),
        )
        .await,
        "an update the API server refuses",
        &mut errors,
    );
    failed(
        a.update_deployment(
            &good,
            UpdateDeployment::new().values(vals(serde_json::json!({ "boom": boom }))),
        )
        .await,
        "an update whose template fails",
        &mut errors,
    );
    let history = a
        .deployment_history(&good, HistoryOptions::all())
        .await
        .unwrap();
    assert_eq!(history.len(), 3, "{history:?}");
    for r in &history {
        masked(&r.values, "history");
        assert!(!leaks(&r.description), "{r:?}");
    }

    // A rollback to the refused revision: its values (read for the scrub) are quoted.
    failed(
        a.rollback_deployment(&good, RollbackRequest::to_revision(3))
            .await,
        "a rollback to the refused revision",
        &mut errors,
    );
    let back = a
        .rollback_deployment(&good, RollbackRequest::to_revision(2))
        .await
        .expect("rollback to the good revision");
    masked(&back.values, "rollback");

    // Helm's timeout message names the never-ready Deployment, named by a value; the
    // Timeout's state text embeds it.
    let e = failed(
        a.update_deployment(
            &good,
            UpdateDeployment::new()
                .values(vals(
                    serde_json::json!({"stuck": format!("{NAME_MARKER}-stuck")}),
                ))
                .timeout(Duration::from_secs(3)),
        )
        .await,
        "an update that never becomes ready",
        &mut errors,
    );
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");

    a.delete_deployment(&good).await.expect("delete");
    a.delete_package(&package.id, DeletePackageOptions::default())
        .await
        .expect("delete the package");

    // The events: every write started and ended, the failures with their messages.
    let mut seen: Vec<OperationEvent> = Vec::new();
    while let Ok(e) = events.try_recv() {
        seen.push(e);
    }
    let failures = seen
        .iter()
        .filter(|e| matches!(e.phase, o2dms_core::EventPhase::Failed { .. }))
        .count();
    assert_eq!(failures, errors.len(), "{seen:?}");
    for e in &seen {
        assert!(!leaks(&format!("{e:?}")), "{e:?}");
    }
    drop(a);

    let log = stop_capture();
    // What the caller got instead (shown with --nocapture).
    for e in &errors {
        eprintln!("secrets: {e}");
    }
    assert!(
        log.contains("running helm"),
        "the capture saw the adapter's debug lines"
    );
    assert!(log.contains("TRACE"), "the capture ran at trace level");
    let shown: Vec<&str> = log.lines().filter(|l| l.contains(MARKER)).collect();
    assert!(shown.is_empty(), "log lines show a value: {shown:#?}");
}
