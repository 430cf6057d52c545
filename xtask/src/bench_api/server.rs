//! `o2dms serve` as a child process: started on `127.0.0.1:0` with a configuration file,
//! its address read from the one `listening on http://ADDR` line on stderr within a time
//! bound, its memory read from `/proc`, stopped by its pid (SIGTERM, then SIGKILL), and
//! killed by its pid when the guard is dropped (also on an error or a panic).

use std::collections::VecDeque;
use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use super::procfs::Rss;

/// Lines of the server's stderr kept for error messages.
const LOG_TAIL: usize = 40;
/// How long a SIGTERM may take before SIGKILL.
const STOP_BOUND: Duration = Duration::from_secs(15);

/// A running `o2dms serve`; killed by its pid when dropped.
pub struct ServerProcess {
    child: Child,
    addr: SocketAddr,
    log: Arc<Mutex<VecDeque<String>>>,
    reader: Option<JoinHandle<()>>,
}

impl ServerProcess {
    /// Starts `binary serve --config <config> --listen 127.0.0.1:0` and waits up to
    /// `bound` for its `listening on` line. Its stderr is read to the end by a thread of
    /// its own (so the pipe never fills); the last lines go into errors.
    pub fn start(binary: &Path, config: &Path, bound: Duration) -> anyhow::Result<Self> {
        let mut cmd = Command::new(binary);
        cmd.arg("serve")
            .arg("--config")
            .arg(config)
            .args(["--listen", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for var in ["RUST_LOG", "O2DMS_CONFIG", "O2DMS_LISTEN"] {
            cmd.env_remove(var);
        }
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let stderr = child.stderr.take().expect("stderr is piped");
        let log = Arc::new(Mutex::new(VecDeque::with_capacity(LOG_TAIL)));
        let (tx, rx) = mpsc::channel::<String>();
        let kept = Arc::clone(&log);
        let reader = std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(addr) = line.strip_prefix("listening on http://") {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(addr.trim().to_owned());
                    }
                }
                let mut kept = kept.lock().unwrap_or_else(|e| e.into_inner());
                if kept.len() == LOG_TAIL {
                    kept.pop_front();
                }
                kept.push_back(line);
            }
        });
        let mut server = ServerProcess {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            log,
            reader: Some(reader),
        };
        let line = match rx.recv_timeout(bound) {
            Ok(line) => line,
            Err(mpsc::RecvTimeoutError::Timeout) => bail!(
                "o2dms serve printed no `listening on` line within {bound:?}; its stderr:\n{}",
                server.log_tail()
            ),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = server.child.wait().ok();
                if let Some(r) = server.reader.take() {
                    let _ = r.join();
                }
                bail!(
                    "o2dms serve ended ({}) before listening; its stderr:\n{}",
                    status.map_or("unknown status".to_owned(), |s| s.to_string()),
                    server.log_tail()
                )
            }
        };
        server.addr = line
            .parse()
            .with_context(|| format!("the address of `listening on http://{line}`"))?;
        Ok(server)
    }

    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Its resident set now and at its peak.
    pub fn rss(&self) -> anyhow::Result<Rss> {
        Rss::of_pid(self.child.id())
    }

    /// The CPU time it has used so far, in seconds.
    pub fn cpu_seconds(&self) -> anyhow::Result<f64> {
        super::procfs::cpu_seconds(self.child.id())
    }

    /// The last lines of its stderr.
    pub fn log_tail(&self) -> String {
        let kept = self.log.lock().unwrap_or_else(|e| e.into_inner());
        kept.iter().cloned().collect::<Vec<_>>().join("\n")
    }

    /// Stops it gracefully: SIGTERM by its pid, then SIGKILL if it has not exited within
    /// a bound. Fails when it had already exited on its own or exits with an error.
    pub fn stop(mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait().context("checking o2dms serve")? {
            bail!(
                "o2dms serve had exited ({status}); its stderr:\n{}",
                self.log_tail()
            );
        }
        let pid =
            nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).context("the server's pid")?);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM)
            .context("sending SIGTERM to o2dms serve")?;
        let deadline = Instant::now() + STOP_BOUND;
        loop {
            if let Some(status) = self.child.try_wait().context("waiting for o2dms serve")? {
                if !status.success() {
                    bail!(
                        "o2dms serve exited with {status} after SIGTERM; its stderr:\n{}",
                        self.log_tail()
                    );
                }
                return Ok(());
            }
            if Instant::now() >= deadline {
                // Drop kills it by its pid.
                bail!("o2dms serve did not exit within {STOP_BOUND:?} of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            // `Child::kill` is SIGKILL to this child's pid.
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        // The reader ends at the end of the pipe; it is not joined, in case a process
        // the server started still holds the pipe.
        drop(self.reader.take());
    }
}
