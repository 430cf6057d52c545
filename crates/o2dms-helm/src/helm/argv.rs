//! The `helm` command line per version, built by pure functions (tested per version).
//!
//! Argv is run by [`super::runner`] with `tokio::process::Command`, never through a
//! shell. Values travel in files (see [`super::values_file`]); argv holds only their
//! paths.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use o2dms_store::InstallSource;

use super::version::HelmMajor;
use crate::config::{ApplyMethod, WaitStrategy};

/// Where helm finds the cluster: passed explicitly on every call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Connection {
    /// `--kubeconfig`
    pub(crate) kubeconfig: Option<PathBuf>,
    /// `--kube-context`
    pub(crate) context: Option<String>,
}

/// The chart to install or upgrade to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ChartSource {
    /// A chart archive or directory on disk (e.g. one rebuilt from a release record).
    Path(PathBuf),
    /// What the package store says to give helm: an archive it holds or downloaded and
    /// verified (the OCI store's too: fetched by digest and validated), or, from a store
    /// of another kind, an OCI reference (`oci://host/repo/name --version V
    /// [--plain-http]`).
    Store(InstallSource),
}

/// The adapter's options for how helm applies a chart (its settings, the same for every
/// run; typed, never free-form argv).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Flags {
    /// Server-side or client-side apply, or helm's own choice.
    pub(crate) apply_method: ApplyMethod,
    /// `--skip-crds`.
    pub(crate) skip_crds: bool,
    /// `--disable-openapi-validation`.
    pub(crate) disable_open_api_validation: bool,
}

/// How long and whether to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Waiting {
    /// Wait for readiness (Helm 3 `--wait`, Helm 4 `--wait=watcher`).
    pub(crate) wait: bool,
    /// `--timeout`
    pub(crate) timeout: Duration,
    /// Helm 4's way of waiting (watcher unless set); Helm 3 always polls.
    pub(crate) strategy: Option<WaitStrategy>,
}

/// An install or upgrade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Apply<'a> {
    /// Release name.
    pub(crate) name: &'a str,
    /// Namespace.
    pub(crate) namespace: &'a str,
    /// Chart.
    pub(crate) chart: &'a ChartSource,
    /// The values file (its path only ever appears in argv).
    pub(crate) values_file: &'a Path,
    /// Storage labels (`--labels`).
    pub(crate) labels: &'a BTreeMap<String, String>,
    /// `--description`
    pub(crate) description: Option<&'a str>,
    /// Waiting.
    pub(crate) waiting: Waiting,
    /// `--history-max` (upgrade only; install makes revision 1).
    pub(crate) max_history: u32,
    /// Render only (`--dry-run=client -o json`), for checking what a change would do.
    pub(crate) dry_run: bool,
    /// The adapter's apply options.
    pub(crate) flags: Flags,
}

/// Formats a duration as Go's `time.ParseDuration` reads it.
pub(crate) fn go_duration(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis().max(1))
    }
}

fn push(args: &mut Vec<OsString>, s: impl Into<OsString>) {
    args.push(s.into());
}

fn connection_args(args: &mut Vec<OsString>, c: &Connection, namespace: &str) {
    if let Some(k) = &c.kubeconfig {
        let mut a = OsString::from("--kubeconfig=");
        a.push(k);
        push(args, a);
    }
    if let Some(ctx) = &c.context {
        push(args, format!("--kube-context={ctx}"));
    }
    push(args, format!("--namespace={namespace}"));
}

fn waiting_args(args: &mut Vec<OsString>, v: HelmMajor, w: Waiting, jobs: bool) {
    if w.wait {
        push(
            args,
            match (v, w.strategy) {
                (HelmMajor::V3, _) => "--wait",
                (HelmMajor::V4, Some(WaitStrategy::Legacy)) => "--wait=legacy",
                (HelmMajor::V4, _) => "--wait=watcher",
            },
        );
        if jobs {
            push(args, "--wait-for-jobs");
        }
    } else if v == HelmMajor::V4 {
        // Helm 4's default is hookOnly; say so rather than rely on it.
        push(args, "--wait=hookOnly");
    }
    push(args, format!("--timeout={}", go_duration(w.timeout)));
}

fn labels_arg(labels: &BTreeMap<String, String>) -> Option<String> {
    if labels.is_empty() {
        return None;
    }
    let joined: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    Some(format!("--labels={}", joined.join(",")))
}

fn chart_args(args: &mut Vec<OsString>, chart: &ChartSource) {
    match chart {
        ChartSource::Path(p) => push(args, p.clone()),
        ChartSource::Store(InstallSource::Archive { path }) => push(args, path.clone()),
        // The reference, then the flags it needs, each its own argv element.
        ChartSource::Store(source) => {
            args.extend(source.helm_args().into_iter().map(OsString::from))
        }
    }
}

/// Helm 4's `--server-side`, when the adapter says which (Helm 3 only applies
/// client-side, and connecting refuses `server-side` with it).
fn apply_method_args(args: &mut Vec<OsString>, v: HelmMajor, flags: Flags) {
    if v == HelmMajor::V4 {
        match flags.apply_method {
            ApplyMethod::ServerSide => push(args, "--server-side=true"),
            ApplyMethod::ClientSide => push(args, "--server-side=false"),
            _ => {}
        }
    }
}

fn apply_common(args: &mut Vec<OsString>, v: HelmMajor, c: &Connection, a: &Apply<'_>) {
    connection_args(args, c, a.namespace);
    apply_method_args(args, v, a.flags);
    if a.flags.skip_crds {
        push(args, "--skip-crds");
    }
    if a.flags.disable_open_api_validation {
        push(args, "--disable-openapi-validation");
    }
    let mut f = OsString::from("--values=");
    f.push(a.values_file);
    push(args, f);
    if let Some(l) = labels_arg(a.labels) {
        push(args, l);
    }
    if let Some(d) = a.description {
        push(args, format!("--description={d}"));
    }
    if a.dry_run {
        push(args, "--dry-run=client");
        push(args, "--output=json");
        push(
            args,
            format!("--timeout={}", go_duration(a.waiting.timeout)),
        );
    } else {
        waiting_args(args, v, a.waiting, true);
    }
}

/// `helm install NAME CHART ...`. Never `--atomic`/`--rollback-on-failure`: on a
/// timeout the release must remain, failed.
pub(crate) fn install_args(v: HelmMajor, c: &Connection, a: &Apply<'_>) -> Vec<OsString> {
    let mut args = vec![OsString::from("install"), OsString::from(a.name)];
    chart_args(&mut args, a.chart);
    apply_common(&mut args, v, c, a);
    args
}

/// `helm upgrade NAME CHART --reset-values ...`: the values file holds the complete
/// values, so the adapter, not helm's flags, owns merge semantics.
pub(crate) fn upgrade_args(v: HelmMajor, c: &Connection, a: &Apply<'_>) -> Vec<OsString> {
    let mut args = vec![OsString::from("upgrade"), OsString::from(a.name)];
    chart_args(&mut args, a.chart);
    apply_common(&mut args, v, c, a);
    push(&mut args, "--reset-values");
    push(&mut args, format!("--history-max={}", a.max_history));
    args
}

/// A rollback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RollbackTo<'a> {
    /// Release name.
    pub(crate) name: &'a str,
    /// Namespace.
    pub(crate) namespace: &'a str,
    /// The revision to return to (0 = the previous one, as helm reads it).
    pub(crate) revision: u32,
    /// Waiting.
    pub(crate) waiting: Waiting,
    /// `--history-max`.
    pub(crate) max_history: u32,
    /// The adapter's apply options.
    pub(crate) flags: Flags,
}

/// `helm rollback NAME REVISION ...`.
pub(crate) fn rollback_args(v: HelmMajor, c: &Connection, r: &RollbackTo<'_>) -> Vec<OsString> {
    let mut args = vec![
        OsString::from("rollback"),
        OsString::from(r.name),
        OsString::from(r.revision.to_string()),
    ];
    connection_args(&mut args, c, r.namespace);
    apply_method_args(&mut args, v, r.flags);
    waiting_args(&mut args, v, r.waiting, true);
    push(&mut args, format!("--history-max={}", r.max_history));
    args
}

/// `helm uninstall NAME --wait ...`
pub(crate) fn uninstall_args(
    v: HelmMajor,
    c: &Connection,
    name: &str,
    namespace: &str,
    waiting: Waiting,
) -> Vec<OsString> {
    let mut args = vec![OsString::from("uninstall"), OsString::from(name)];
    connection_args(&mut args, c, namespace);
    waiting_args(&mut args, v, waiting, false);
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(args: &[OsString]) -> Vec<String> {
        args.iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    fn conn() -> Connection {
        Connection {
            kubeconfig: Some(PathBuf::from("/k/config")),
            context: Some("ctx".into()),
        }
    }

    fn apply<'a>(
        chart: &'a ChartSource,
        labels: &'a BTreeMap<String, String>,
        dry_run: bool,
    ) -> Apply<'a> {
        Apply {
            name: "web",
            namespace: "ran",
            chart,
            values_file: Path::new("/work/.values-abc.json"),
            labels,
            description: Some("-- not a flag"),
            waiting: Waiting {
                wait: true,
                timeout: Duration::from_secs(600),
                strategy: None,
            },
            max_history: 7,
            dry_run,
            flags: Flags::default(),
        }
    }

    #[test]
    fn durations_read_as_go_durations() {
        assert_eq!(go_duration(Duration::from_secs(600)), "600s");
        assert_eq!(go_duration(Duration::from_millis(1500)), "1500ms");
        assert_eq!(go_duration(Duration::from_nanos(5)), "1ms");
    }

    #[test]
    fn install_per_version() {
        let chart = ChartSource::Path(PathBuf::from("/store/web-1.0.0.tgz"));
        let mut labels = BTreeMap::new();
        labels.insert(
            "o2dms.io/scale-key".to_string(),
            "server.replicas".to_string(),
        );
        labels.insert("tier".to_string(), "edge".to_string());
        let a = apply(&chart, &labels, false);
        let v3 = s(&install_args(HelmMajor::V3, &conn(), &a));
        assert_eq!(
            v3,
            [
                "install",
                "web",
                "/store/web-1.0.0.tgz",
                "--kubeconfig=/k/config",
                "--kube-context=ctx",
                "--namespace=ran",
                "--values=/work/.values-abc.json",
                "--labels=o2dms.io/scale-key=server.replicas,tier=edge",
                "--description=-- not a flag",
                "--wait",
                "--wait-for-jobs",
                "--timeout=600s",
            ]
        );
        let v4 = s(&install_args(HelmMajor::V4, &conn(), &a));
        assert!(v4.contains(&"--wait=watcher".to_string()));
        assert!(!v4.contains(&"--wait".to_string()));
        let options = Apply {
            flags: Flags {
                apply_method: ApplyMethod::ServerSide,
                skip_crds: true,
                disable_open_api_validation: true,
            },
            ..a.clone()
        };
        let with = s(&install_args(HelmMajor::V4, &conn(), &options));
        for flag in [
            "--server-side=true",
            "--skip-crds",
            "--disable-openapi-validation",
        ] {
            assert!(with.contains(&flag.to_string()), "{flag}: {with:?}");
        }
        for argv in [&v3, &v4] {
            assert!(!argv
                .iter()
                .any(|x| x.contains("atomic") || x.contains("rollback-on-failure")));
            assert!(!argv.iter().any(|x| x.starts_with("--set")));
        }
    }

    #[test]
    fn upgrade_resets_values_and_limits_history() {
        let chart = ChartSource::Store(InstallSource::Oci {
            reference: "oci://127.0.0.1:5000/charts/web".into(),
            version: "2.0.0+b1".into(),
            plain_http: true,
        });
        let labels = BTreeMap::new();
        let a = apply(&chart, &labels, false);
        let v3 = s(&upgrade_args(HelmMajor::V3, &Connection::default(), &a));
        assert_eq!(
            &v3[..6],
            [
                "upgrade",
                "web",
                "oci://127.0.0.1:5000/charts/web",
                "--version",
                "2.0.0+b1",
                "--plain-http"
            ]
        );
        assert!(v3.contains(&"--reset-values".to_string()));
        assert!(v3.contains(&"--history-max=7".to_string()));
        assert!(!v3.iter().any(|x| x.starts_with("--kube")));
        assert!(!v3.iter().any(|x| x.starts_with("--labels")));
        let dry = s(&upgrade_args(
            HelmMajor::V4,
            &conn(),
            &apply(&chart, &labels, true),
        ));
        assert!(dry.contains(&"--dry-run=client".to_string()));
        assert!(dry.contains(&"--output=json".to_string()));
        assert!(!dry.iter().any(|x| x.starts_with("--wait")));
    }

    #[test]
    fn rollback_and_uninstall_per_version() {
        let w = Waiting {
            wait: true,
            timeout: Duration::from_millis(2500),
            strategy: None,
        };
        let r3 = s(&rollback_args(
            HelmMajor::V3,
            &conn(),
            &RollbackTo {
                name: "web",
                namespace: "ran",
                revision: 2,
                waiting: w,
                max_history: 10,
                flags: Flags::default(),
            },
        ));
        assert_eq!(&r3[..3], ["rollback", "web", "2"]);
        assert!(r3.contains(&"--wait".to_string()));
        assert!(r3.contains(&"--timeout=2500ms".to_string()));
        assert!(r3.contains(&"--history-max=10".to_string()));
        let r4 = s(&rollback_args(
            HelmMajor::V4,
            &conn(),
            &RollbackTo {
                name: "web",
                namespace: "ran",
                revision: 2,
                waiting: w,
                max_history: 10,
                flags: Flags::default(),
            },
        ));
        assert!(r4.contains(&"--wait=watcher".to_string()));
        assert!(!r4.iter().any(|a| a.starts_with("--server-side")));
        // the adapter's options: Helm 4 gets them, Helm 3 (client-side only) does not
        let client_side = Flags {
            apply_method: ApplyMethod::ClientSide,
            ..Flags::default()
        };
        let legacy = Waiting {
            strategy: Some(WaitStrategy::Legacy),
            ..w
        };
        let r4 = s(&rollback_args(
            HelmMajor::V4,
            &conn(),
            &RollbackTo {
                name: "web",
                namespace: "ran",
                revision: 2,
                waiting: legacy,
                max_history: 10,
                flags: client_side,
            },
        ));
        assert!(r4.contains(&"--server-side=false".to_string()));
        assert!(r4.contains(&"--wait=legacy".to_string()));
        let r3 = s(&rollback_args(
            HelmMajor::V3,
            &conn(),
            &RollbackTo {
                name: "web",
                namespace: "ran",
                revision: 2,
                waiting: legacy,
                max_history: 10,
                flags: client_side,
            },
        ));
        assert!(!r3.iter().any(|a| a.starts_with("--server-side")));
        assert!(r3.contains(&"--wait".to_string()));
        let u3 = s(&uninstall_args(HelmMajor::V3, &conn(), "web", "ran", w));
        assert_eq!(&u3[..2], ["uninstall", "web"]);
        assert!(u3.contains(&"--wait".to_string()));
        assert!(!u3.contains(&"--wait-for-jobs".to_string()));
        let u4 = s(&uninstall_args(HelmMajor::V4, &conn(), "web", "ran", w));
        assert!(u4.contains(&"--wait=watcher".to_string()));
        let nowait = Waiting { wait: false, ..w };
        let n4 = s(&uninstall_args(
            HelmMajor::V4,
            &conn(),
            "web",
            "ran",
            nowait,
        ));
        assert!(n4.contains(&"--wait=hookOnly".to_string()));
        let n3 = s(&uninstall_args(
            HelmMajor::V3,
            &conn(),
            "web",
            "ran",
            nowait,
        ));
        assert!(!n3.iter().any(|x| x.starts_with("--wait")));
    }

    #[test]
    fn values_never_reach_argv() {
        let dir = tempfile::tempdir().unwrap();
        let mut values = o2dms_core::Values::new();
        values.insert("password", "s3cr3t-value");
        values.set_path("db.token", "tok-12345");
        let file =
            super::super::values_file::ValuesFile::write(dir.path(), &values, 1 << 20).unwrap();
        let chart = ChartSource::Path(PathBuf::from("/c.tgz"));
        let labels = BTreeMap::new();
        let mut a = apply(&chart, &labels, false);
        a.values_file = file.path();
        for v in [HelmMajor::V3, HelmMajor::V4] {
            for argv in [
                install_args(v, &conn(), &a),
                upgrade_args(v, &conn(), &a),
                upgrade_args(
                    v,
                    &conn(),
                    &Apply {
                        dry_run: true,
                        ..a.clone()
                    },
                ),
            ] {
                let joined = s(&argv).join(" ");
                assert!(
                    !joined.contains("s3cr3t") && !joined.contains("tok-12345"),
                    "{joined}"
                );
                assert!(joined.contains(&format!("--values={}", file.path().display())));
                // exactly one values file, and no `--set*` that could carry a value
                let argv = s(&argv);
                assert_eq!(argv.iter().filter(|x| x.starts_with("--values")).count(), 1);
                assert!(!argv.iter().any(|x| x.starts_with("--set")), "{argv:?}");
            }
        }
        // The values went through the file instead: private to the adapter's user.
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(file.path()).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        let written = std::fs::read_to_string(file.path()).unwrap();
        assert!(written.contains("s3cr3t-value") && written.contains("tok-12345"));
    }
}
