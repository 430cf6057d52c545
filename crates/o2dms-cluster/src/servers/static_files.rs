//! `python3 -m http.server` over a directory: a read-only chart repository on loopback.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::start::start_on_free_port;
use crate::error::Result;
use crate::process::ManagedProcess;

/// How long one attempt waits for the first HTTP answer.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// `python3 -m http.server` serving a directory on a free loopback port. Dropping it stops
/// the server by its pid.
#[derive(Debug)]
pub struct StaticServer {
    port: u16,
    process: ManagedProcess,
}

impl StaticServer {
    /// Serves `dir` (bound to 127.0.0.1 only; output discarded). Needs `python3` on PATH.
    pub fn start(dir: &Path) -> Result<StaticServer> {
        let (port, process) = start_on_free_port("/", START_TIMEOUT, |port| {
            ManagedProcess::spawn(
                "python3 http.server",
                Command::new("python3")
                    .args(["-m", "http.server", "--bind", "127.0.0.1", "--directory"])
                    .arg(dir)
                    .arg(port.to_string()),
                None,
            )
        })?;
        Ok(StaticServer { port, process })
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's pid.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// `http://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }
}
