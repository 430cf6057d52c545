//! `o2dms serve` as a child process for a run: the binary built from this workspace, a
//! configuration file written for the run, the bound address read from its stderr, and
//! the process stopped by its pid (SIGTERM, then SIGKILL) when the run ends, whatever
//! happens.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};

/// How long the server may take to bind and print its address.
const START_BOUND: Duration = Duration::from_secs(120);
/// How long a stopping server may take before it is killed.
const STOP_BOUND: Duration = Duration::from_secs(45);

/// The workspace's target directory (`CARGO_TARGET_DIR`, else `target/`).
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
    }
}

/// Builds `o2dms` (debug, or release with `release`) and returns its path.
pub fn build_binary(release: bool) -> anyhow::Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "-p", "o2dms-cli", "--bin", "o2dms"]);
    if release {
        cmd.arg("--release");
    }
    eprintln!(
        "building o2dms ({}) ...",
        if release { "release" } else { "debug" }
    );
    let status = cmd
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("cargo build -p o2dms-cli failed ({status})");
    }
    let path = target_dir()
        .join(if release { "release" } else { "debug" })
        .join("o2dms");
    if !path.is_file() {
        bail!("{} was not built", path.display());
    }
    Ok(path)
}

/// A running `o2dms serve`.
pub struct Served {
    child: Option<Child>,
    url: String,
    _dir: tempfile::TempDir,
}

impl Served {
    /// Writes `config` (the spec's configuration, as JSON, which YAML reads) into a
    /// private directory and starts `binary serve` on 127.0.0.1 and a free port, with its
    /// log lines at `log_level` forwarded to stderr prefixed `o2dms serve:`.
    pub fn start(
        binary: &Path,
        config: &serde_json::Value,
        log_level: &str,
    ) -> anyhow::Result<Served> {
        let dir = tempfile::Builder::new()
            .prefix("o2dms-serve-")
            .tempdir()
            .context("creating the server's directory")?;
        let path = dir.path().join("dms.yaml");
        std::fs::write(&path, serde_json::to_vec_pretty(config)?)
            .with_context(|| format!("writing {}", path.display()))?;
        let mut child = Command::new(binary)
            .arg("serve")
            .arg("--config")
            .arg(&path)
            .args(["--listen", "127.0.0.1:0", "--log-level", log_level])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let pid = child.id();
        let stderr = child.stderr.take().context("the server's stderr")?;
        // From here on the server is stopped on every path: `served` owns it.
        let mut served = Served {
            child: Some(child),
            url: String::new(),
            _dir: dir,
        };
        let (tx, rx) = mpsc::channel::<String>();
        // Reads every line (the server must never block on a full pipe): the address
        // line goes to the channel, the rest to our stderr.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                match line.strip_prefix("listening on ") {
                    Some(url) => {
                        let _ = tx.send(url.trim().to_owned());
                    }
                    None => eprintln!("o2dms serve: {line}"),
                }
            }
        });
        let deadline = Instant::now() + START_BOUND;
        loop {
            if let Ok(url) = rx.recv_timeout(Duration::from_millis(100)) {
                served.url = url;
                break;
            }
            if let Some(status) = served
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                bail!("o2dms serve (pid {pid}) exited before listening: {status}");
            }
            if Instant::now() > deadline {
                bail!("o2dms serve (pid {pid}) printed no address within {START_BOUND:?}");
            }
        }
        eprintln!("o2dms serve: pid {pid} at {}", served.url);
        Ok(served)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Stops the server (SIGTERM, then SIGKILL after a bound) and returns its exit status.
    pub fn stop(mut self) -> anyhow::Result<std::process::ExitStatus> {
        self.terminate()
    }

    fn terminate(&mut self) -> anyhow::Result<std::process::ExitStatus> {
        let Some(mut child) = self.child.take() else {
            bail!("already stopped");
        };
        let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).context("pid")?);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + STOP_BOUND;
        loop {
            if let Some(status) = child.try_wait()? {
                return Ok(status);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let status = child.wait()?;
                bail!(
                    "o2dms serve did not stop within {STOP_BOUND:?} of SIGTERM; killed ({status})"
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if self.child.is_some() {
            let _ = self.terminate();
        }
    }
}

/// The configuration of one plugin named `name` of `type` with `config`.
pub fn one_plugin(name: &str, plugin_type: &str, config: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "plugins": {
            "dms": [{
                "name": name,
                "type": plugin_type,
                "enabled": true,
                "default": true,
                "config": config,
            }]
        }
    })
}
