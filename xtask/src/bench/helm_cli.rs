//! The `helm` CLI as the bench runs it: argv only, its own helm home, the same flags the
//! adapter passes for the same operation.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use o2dms_helm::HelmMajor;

/// A helm binary bound to one cluster and a private helm home.
pub struct HelmCli {
    bin: PathBuf,
    kubeconfig: PathBuf,
    home: tempfile::TempDir,
    major: HelmMajor,
}

/// Time limit given to every write (`--timeout`), as the adapter's default.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(600);

impl HelmCli {
    /// `bin` of major version `major`, talking to the cluster of `kubeconfig`.
    pub fn new(bin: PathBuf, major: HelmMajor, kubeconfig: &Path) -> anyhow::Result<HelmCli> {
        Ok(HelmCli {
            bin,
            kubeconfig: kubeconfig.to_path_buf(),
            home: tempfile::tempdir().context("creating a helm home")?,
            major,
        })
    }

    /// A scratch directory that lives as long as this value.
    pub fn scratch(&self) -> &Path {
        self.home.path()
    }

    /// Runs helm with `args` (plus `--kubeconfig` and `--namespace`); stdout on success,
    /// an error with the tail of stderr otherwise.
    pub async fn run(&self, namespace: &str, args: &[OsString]) -> anyhow::Result<Vec<u8>> {
        let mut kc = OsString::from("--kubeconfig=");
        kc.push(&self.kubeconfig);
        let home = self.home.path();
        let out = tokio::process::Command::new(&self.bin)
            .args(args)
            .arg(kc)
            .arg(format!("--namespace={namespace}"))
            .env("HELM_CACHE_HOME", home.join("cache"))
            .env("HELM_CONFIG_HOME", home.join("config"))
            .env("HELM_DATA_HOME", home.join("data"))
            .kill_on_drop(true)
            .output()
            .await
            .with_context(|| format!("running {}", self.bin.display()))?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            let tail: String = err.lines().rev().take(5).collect::<Vec<_>>().join(" | ");
            let verb = args.first().map(|a| a.to_string_lossy().into_owned());
            bail!(
                "helm {} failed ({}): {tail}",
                verb.unwrap_or_default(),
                out.status
            );
        }
        Ok(out.stdout)
    }

    /// Helm 3 `--wait`, Helm 4 `--wait=watcher`, as the adapter passes them.
    fn wait_flag(&self) -> OsString {
        match self.major {
            HelmMajor::V3 => "--wait",
            HelmMajor::V4 => "--wait=watcher",
        }
        .into()
    }

    fn waiting(&self, args: &mut Vec<OsString>) {
        args.push(self.wait_flag());
        args.push("--wait-for-jobs".into());
        args.push(format!("--timeout={}s", WRITE_TIMEOUT.as_secs()).into());
    }

    /// `helm install NAME CHART --values=FILE --wait --wait-for-jobs --timeout
    /// --create-namespace`: what the adapter's create runs.
    pub fn install_args(&self, name: &str, chart: &Path, values: &Path) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec!["install".into(), name.into(), chart.into()];
        args.push(flag_path("--values=", values));
        self.waiting(&mut args);
        args.push("--create-namespace".into());
        args
    }

    /// `helm upgrade NAME CHART --values=FILE --wait ... --reset-values --history-max=H`:
    /// what the adapter's update runs.
    pub fn upgrade_args(
        &self,
        name: &str,
        chart: &Path,
        values: &Path,
        history_max: u32,
    ) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec!["upgrade".into(), name.into(), chart.into()];
        args.push(flag_path("--values=", values));
        self.waiting(&mut args);
        args.push("--reset-values".into());
        args.push(format!("--history-max={history_max}").into());
        args
    }

    /// `helm rollback NAME REVISION --wait ... --history-max=H`: what the adapter's
    /// rollback runs.
    pub fn rollback_args(&self, name: &str, revision: u32, history_max: u32) -> Vec<OsString> {
        let mut args: Vec<OsString> =
            vec!["rollback".into(), name.into(), revision.to_string().into()];
        self.waiting(&mut args);
        args.push(format!("--history-max={history_max}").into());
        args
    }

    /// `helm uninstall NAME --wait --timeout`: what the adapter's delete runs.
    pub fn uninstall_args(&self, name: &str) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec!["uninstall".into(), name.into(), self.wait_flag()];
        args.push(format!("--timeout={}s", WRITE_TIMEOUT.as_secs()).into());
        args
    }
}

/// `flag` followed directly by `path`, e.g. `--values=/tmp/v.yaml`.
pub fn flag_path(flag: &str, path: &Path) -> OsString {
    let mut s = OsString::from(flag);
    s.push(path);
    s
}

/// Number of items in helm's `-o json` array output.
pub fn json_array_len(stdout: &[u8]) -> anyhow::Result<usize> {
    let v: serde_json::Value = serde_json::from_slice(stdout).context("helm printed no JSON")?;
    match v {
        serde_json::Value::Array(a) => Ok(a.len()),
        serde_json::Value::Null => Ok(0),
        _ => bail!("helm printed JSON that is not an array"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: Vec<OsString>) -> Vec<String> {
        v.into_iter()
            .map(|s| s.into_string().unwrap())
            .collect::<Vec<_>>()
    }

    #[test]
    fn flags_follow_the_helm_version() {
        let dir = tempfile::tempdir().unwrap();
        let h3 = HelmCli::new("helm".into(), HelmMajor::V3, dir.path()).unwrap();
        let h4 = HelmCli::new("helm".into(), HelmMajor::V4, dir.path()).unwrap();
        let c = Path::new("/c.tgz");
        let v = Path::new("/v.yaml");
        assert_eq!(
            strings(h3.install_args("a", c, v)),
            [
                "install",
                "a",
                "/c.tgz",
                "--values=/v.yaml",
                "--wait",
                "--wait-for-jobs",
                "--timeout=600s",
                "--create-namespace"
            ]
        );
        assert!(strings(h4.upgrade_args("a", c, v, 10)).contains(&"--wait=watcher".to_owned()));
        assert_eq!(
            strings(h4.rollback_args("a", 1, 10)),
            [
                "rollback",
                "a",
                "1",
                "--wait=watcher",
                "--wait-for-jobs",
                "--timeout=600s",
                "--history-max=10"
            ]
        );
    }

    #[test]
    fn counts_json_arrays() {
        assert_eq!(json_array_len(b"[{},{}]").unwrap(), 2);
        assert_eq!(json_array_len(b"null").unwrap(), 0);
        assert!(json_array_len(b"{}").is_err());
        assert!(json_array_len(b"oops").is_err());
    }
}
