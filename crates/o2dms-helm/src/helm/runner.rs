//! Running the helm binary: a controlled environment, no shell, a time bound, and
//! SIGTERM (never SIGKILL first) when the caller goes away.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use o2dms_core::{Error, Result};
use tokio::io::AsyncReadExt;

use super::version::HelmVersion;

/// What a finished helm run gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RunOutput {
    /// Whether helm exited 0.
    pub(crate) success: bool,
    /// stdout.
    pub(crate) stdout: String,
    /// stderr.
    pub(crate) stderr: String,
}

/// Runs the helm binary with a controlled environment, in its own process group, tied to
/// the adapter's process: when the adapter dies (even by SIGKILL), helm gets SIGTERM and
/// marks the release failed, so a release left `pending-*` never has a writer behind it.
///
/// The parent-death signal follows the thread that started helm: the adapter starts it
/// from its async tasks, whose runtime threads live as long as the runtime.
#[derive(Debug, Clone)]
pub(crate) struct HelmRunner {
    binary: PathBuf,
    homes: PathBuf,
    /// `setpriv` (util-linux), which sets the parent-death signal and then runs helm; the
    /// adapter itself forbids unsafe code, and so cannot set it between fork and exec.
    tie: Option<PathBuf>,
}

/// Where `setpriv` is looked for first; then `PATH`.
const SETPRIV: [&str; 2] = ["/usr/bin/setpriv", "/bin/setpriv"];

/// `setpriv`, if this machine has it.
fn find_setpriv() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("setpriv"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    SETPRIV
        .iter()
        .map(PathBuf::from)
        .chain(on_path)
        .find(|p| p.is_file())
}

/// How much longer than helm's own `--timeout` the adapter lets helm run before it
/// sends SIGTERM (helm then marks the release failed rather than leaving it pending).
pub(crate) const WATCHDOG_GRACE: Duration = Duration::from_secs(60);

/// Sends SIGTERM to a still-running helm when its future is dropped (a cancelled
/// caller): SIGTERM makes helm mark the release failed; SIGKILL would leave it pending.
struct TermOnDrop(Option<u32>);

impl Drop for TermOnDrop {
    fn drop(&mut self) {
        if let Some(pid) = self.0.take() {
            terminate(pid);
        }
    }
}

fn terminate(pid: u32) {
    if let Ok(pid) = i32::try_from(pid) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGTERM,
        );
    }
}

impl HelmRunner {
    /// A runner for `binary`, with helm's cache/config/data homes under `homes`.
    pub(crate) fn new(binary: impl Into<PathBuf>, homes: impl Into<PathBuf>) -> Self {
        let tie = find_setpriv();
        if tie.is_none() {
            tracing::warn!(
                "setpriv (util-linux) not found: a helm started by this adapter outlives it \
                 if the adapter is killed"
            );
        }
        HelmRunner {
            binary: binary.into(),
            homes: homes.into(),
            tie,
        }
    }

    /// The program to start and its arguments for a helm run with `args`: helm itself, or
    /// `setpriv --pdeathsig TERM -- helm ...` (SIGTERM, so that helm marks the release
    /// failed rather than leaving it pending).
    fn command_line(&self, args: &[OsString]) -> (PathBuf, Vec<OsString>) {
        match &self.tie {
            Some(setpriv) => {
                let mut argv: Vec<OsString> = ["--pdeathsig", "TERM", "--"]
                    .into_iter()
                    .map(OsString::from)
                    .collect();
                argv.push(self.binary.clone().into_os_string());
                argv.extend(args.iter().cloned());
                (setpriv.clone(), argv)
            }
            None => (self.binary.clone(), args.to_vec()),
        }
    }

    /// The environment changes applied to every run: every inherited `HELM_*` removed,
    /// then the homes pointed at adapter-owned directories, the Secret driver fixed, and
    /// colour off. Returned for tests; `None` means "remove".
    pub(crate) fn environment(&self) -> Vec<(OsString, Option<OsString>)> {
        let mut env: Vec<(OsString, Option<OsString>)> = std::env::vars_os()
            .filter(|(k, _)| k.to_string_lossy().starts_with("HELM_"))
            .map(|(k, _)| (k, None))
            .collect();
        for (k, sub) in [
            ("HELM_CACHE_HOME", "cache"),
            ("HELM_CONFIG_HOME", "config"),
            ("HELM_DATA_HOME", "data"),
        ] {
            env.push((k.into(), Some(self.homes.join(sub).into_os_string())));
        }
        env.push(("HELM_DRIVER".into(), Some("secret".into())));
        env.push(("NO_COLOR".into(), Some("1".into())));
        env
    }

    /// Runs helm with `args`; kills it (SIGTERM, then SIGKILL) after `limit`.
    pub(crate) async fn run(&self, args: &[OsString], limit: Duration) -> Result<RunOutput> {
        tracing::debug!(helm = %self.binary.display(), ?args, "running helm");
        let (program, argv) = self.command_line(args);
        let mut cmd = tokio::process::Command::new(program);
        // Its own process group: a terminal's Ctrl-C to the adapter's group does not reach
        // helm twice; the adapter stops it by its pid (SIGTERM).
        cmd.args(argv)
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(false);
        for (k, v) in self.environment() {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        let mut child = cmd.spawn().map_err(|e| Error::Unavailable {
            message: format!("cannot run helm at {}: {e}", self.binary.display()),
        })?;
        let mut guard = TermOnDrop(child.id());
        let mut out = child.stdout.take().expect("stdout is piped");
        let mut err = child.stderr.take().expect("stderr is piped");
        let io = async {
            let mut o = Vec::new();
            let mut e = Vec::new();
            let (ro, re) = tokio::join!(out.read_to_end(&mut o), err.read_to_end(&mut e));
            ro.and(re).map(|_| (o, e))
        };
        let work = async {
            let (o, e) = io.await?;
            let status = child.wait().await?;
            Ok::<_, std::io::Error>((status, o, e))
        };
        let result = tokio::time::timeout(limit, work).await;
        match result {
            Ok(Ok((status, o, e))) => {
                guard.0 = None;
                Ok(RunOutput {
                    success: status.success(),
                    stdout: String::from_utf8_lossy(&o).into_owned(),
                    stderr: String::from_utf8_lossy(&e).into_owned(),
                })
            }
            Ok(Err(e)) => Err(Error::backend(format!("running helm: {e}"))),
            Err(_) => {
                // `work` (and the child handle) is dropped; the guard terminates helm.
                Err(Error::Timeout {
                    operation: "helm".to_owned(),
                    limit,
                    state: "helm did not finish and was terminated (SIGTERM)".to_owned(),
                })
            }
        }
    }

    /// Detects the version (`helm version --template {{.Version}}`).
    pub(crate) async fn version(&self) -> Result<HelmVersion> {
        let args = [
            OsString::from("version"),
            OsString::from("--template={{.Version}}"),
        ];
        let out = self.run(&args, Duration::from_secs(30)).await?;
        if !out.success {
            return Err(Error::Unavailable {
                message: format!(
                    "`helm version` failed: {}",
                    super::classify::helm_message(&out.stderr, &super::Scrub::default())
                ),
            });
        }
        HelmVersion::parse(&out.stdout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_is_clean_and_owned() {
        let r = HelmRunner::new("helm", "/owned");
        let env = r.environment();
        let get = |k: &str| {
            env.iter()
                .rev()
                .find(|(n, _)| n == k)
                .and_then(|(_, v)| v.clone())
        };
        assert_eq!(get("HELM_CACHE_HOME"), Some("/owned/cache".into()));
        assert_eq!(get("HELM_CONFIG_HOME"), Some("/owned/config".into()));
        assert_eq!(get("HELM_DATA_HOME"), Some("/owned/data".into()));
        assert_eq!(get("HELM_DRIVER"), Some("secret".into()));
    }

    #[test]
    fn helm_runs_tied_to_the_adapter_when_setpriv_is_there() {
        let mut r = HelmRunner::new("/opt/helm", "/owned");
        r.tie = Some(PathBuf::from("/usr/bin/setpriv"));
        let (program, argv) = r.command_line(&[OsString::from("version")]);
        assert_eq!(program, PathBuf::from("/usr/bin/setpriv"));
        assert_eq!(argv, ["--pdeathsig", "TERM", "--", "/opt/helm", "version"]);
        r.tie = None;
        let (program, argv) = r.command_line(&[OsString::from("version")]);
        assert_eq!(
            (program, argv),
            (PathBuf::from("/opt/helm"), vec![OsString::from("version")])
        );
    }
}
