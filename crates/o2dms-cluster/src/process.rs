//! Child processes of a cluster: spawning with a log file, stopping by process id.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::error::{ClusterError, Result};

/// A process started by this crate. Dropping it stops it (SIGTERM, then SIGKILL).
#[derive(Debug)]
pub(crate) struct ManagedProcess {
    name: String,
    child: Child,
    log_path: PathBuf,
    done: bool,
}

impl ManagedProcess {
    /// Starts `program` with `args`, stdout and stderr appended to `log_path`.
    pub(crate) fn spawn(
        name: &str,
        program: &Path,
        args: &[OsString],
        log_path: &Path,
    ) -> Result<Self> {
        let log = File::create(log_path)
            .map_err(|e| ClusterError::io(format!("creating {}", log_path.display()), e))?;
        let log2 = log
            .try_clone()
            .map_err(|e| ClusterError::io("duplicating a log file handle", e))?;
        let child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .map_err(|e| ClusterError::Process {
                component: name.to_string(),
                message: format!("cannot start {}: {e}", program.display()),
                log_path: None,
                log_tail: None,
            })?;
        Ok(ManagedProcess {
            name: name.to_string(),
            child,
            log_path: log_path.to_path_buf(),
            done: false,
        })
    }

    /// The component name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The log file.
    pub(crate) fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// `Some(status)` if the process has exited.
    pub(crate) fn exited(&mut self) -> Option<ExitStatus> {
        if self.done {
            return None;
        }
        self.child.try_wait().ok().flatten()
    }

    /// An error describing that this process exited early, with its log tail.
    pub(crate) fn exit_error(&self, status: ExitStatus) -> ClusterError {
        ClusterError::Process {
            component: self.name.clone(),
            message: format!("exited early ({status})"),
            log_path: Some(self.log_path.clone()),
            log_tail: Some(tail(&self.log_path, 20)),
        }
    }

    /// Sends SIGTERM, waits up to `grace`, then SIGKILL; always reaps the process.
    pub(crate) fn terminate(&mut self, grace: Duration) {
        if self.done {
            return;
        }
        self.done = true;
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let pid = Pid::from_raw(self.child.id() as i32);
        let _ = kill(pid, Signal::SIGTERM);
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        tracing::warn!(component = %self.name, "did not stop after SIGTERM; sending SIGKILL");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ManagedProcess {
    fn drop(&mut self) {
        self.terminate(Duration::from_secs(10));
    }
}

/// The last `lines` lines of a text file (at most the last 64 KiB are read).
pub(crate) fn tail(path: &Path, lines: usize) -> String {
    let Ok(mut f) = File::open(path) else {
        return String::new();
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let start = len.saturating_sub(64 * 1024);
    let _ = f.seek(SeekFrom::Start(start));
    let mut buf = Vec::new();
    let _ = f.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

static HANDED_OUT: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

/// A free TCP port on 127.0.0.1, never handed out twice by this process.
pub(crate) fn free_port() -> Result<u16> {
    let mut guard = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
    let used = guard.get_or_insert_with(HashSet::new);
    for _ in 0..200 {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .map_err(|e| ClusterError::io("binding 127.0.0.1:0 to find a free port", e))?;
        let port = listener
            .local_addr()
            .map_err(|e| ClusterError::io("reading a bound address", e))?
            .port();
        if used.insert(port) {
            return Ok(port);
        }
    }
    Err(ClusterError::Config(
        "could not find a free port on 127.0.0.1".into(),
    ))
}

/// Whether a process with this id exists and is not a zombie.
pub fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            // The state follows the parenthesised command name.
            let state = stat
                .rfind(')')
                .and_then(|i| stat[i + 1..].split_whitespace().next())
                .unwrap_or("");
            state != "Z" && state != "X"
        }
        Err(_) => false,
    }
}

/// The start time of a process (field 22 of /proc/PID/stat), to tell a process from a
/// later one that reuses its id.
pub fn process_start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let i = stat.rfind(')')?;
    // Fields after the name start at field 3 (state); start time is field 22.
    stat[i + 1..].split_whitespace().nth(19)?.parse().ok()
}

/// Sends SIGTERM to a process id.
pub(crate) fn sigterm(pid: u32) -> Result<()> {
    kill(Pid::from_raw(pid as i32), Signal::SIGTERM).map_err(|e| {
        ClusterError::io(
            format!("sending SIGTERM to process {pid}"),
            std::io::Error::from_raw_os_error(e as i32),
        )
    })
}

/// Sends SIGKILL to a process id.
pub(crate) fn sigkill(pid: u32) {
    let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
}

/// Displays a command as argv joined by spaces (for messages only; never executed).
pub(crate) fn display_command(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}
