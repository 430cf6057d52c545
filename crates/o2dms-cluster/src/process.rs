//! Processes this crate starts and supervises: the local cluster's components and the
//! loopback test servers of [`crate::servers`]. One helper for all of them: a process is
//! stopped by the pid we started it with (never by name), SIGTERM then SIGKILL after a
//! grace period, and always reaped; its output goes to a log file or nowhere.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::error::{ClusterError, Result};

/// How long a process gets between SIGTERM and SIGKILL unless told otherwise.
const DEFAULT_STOP_GRACE: Duration = Duration::from_secs(10);

/// A process started by this crate. Dropping it stops it (see [`ManagedProcess::stop`]),
/// also while a panic unwinds.
#[derive(Debug)]
pub(crate) struct ManagedProcess {
    name: String,
    child: Child,
    log_path: Option<PathBuf>,
    stop_grace: Duration,
    done: bool,
}

impl ManagedProcess {
    /// Starts `command` as the process `name` (used in messages), stdin from /dev/null,
    /// stdout and stderr to a new file at `log_path` (or discarded when `None`). It is
    /// stopped with a grace period of 10 s unless [`Self::with_stop_grace`] says otherwise.
    pub(crate) fn spawn(
        name: &str,
        command: &mut Command,
        log_path: Option<&Path>,
    ) -> Result<Self> {
        let (stdout, stderr) = match log_path {
            Some(path) => {
                let log = File::create(path)
                    .map_err(|e| ClusterError::io(format!("creating {}", path.display()), e))?;
                let log2 = log
                    .try_clone()
                    .map_err(|e| ClusterError::io("duplicating a log file handle", e))?;
                (Stdio::from(log), Stdio::from(log2))
            }
            None => (Stdio::null(), Stdio::null()),
        };
        let child = command
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .map_err(|e| ClusterError::Process {
                component: name.to_string(),
                message: format!(
                    "cannot start {}: {e}",
                    command.get_program().to_string_lossy()
                ),
                log_path: None,
                log_tail: None,
            })?;
        Ok(ManagedProcess {
            name: name.to_string(),
            child,
            log_path: log_path.map(Path::to_path_buf),
            stop_grace: DEFAULT_STOP_GRACE,
            done: false,
        })
    }

    /// Sets the time between SIGTERM and SIGKILL when stopped; zero sends SIGKILL at once.
    pub(crate) fn with_stop_grace(mut self, grace: Duration) -> Self {
        self.stop_grace = grace;
        self
    }

    /// The name given at start.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The log file, if output is kept.
    pub(crate) fn log_path(&self) -> Option<&Path> {
        self.log_path.as_deref()
    }

    /// `Some(status)` if the process has exited (and is reaped).
    pub(crate) fn exited(&mut self) -> Option<ExitStatus> {
        if self.done {
            return None;
        }
        self.child.try_wait().ok().flatten()
    }

    /// An error about this process: `message`, with its log file and the log's last lines.
    pub(crate) fn failure(&self, message: impl Into<String>) -> ClusterError {
        ClusterError::Process {
            component: self.name.clone(),
            message: message.into(),
            log_path: self.log_path.clone(),
            log_tail: self.log_path.as_deref().map(|p| tail(p, 20)),
        }
    }

    /// An error describing that this process exited early, with its log tail.
    pub(crate) fn exit_error(&self, status: ExitStatus) -> ClusterError {
        self.failure(format!("exited early ({status})"))
    }

    /// Stops the process by its pid: SIGTERM, up to the grace period, then SIGKILL; always
    /// reaps it. Does nothing the second time, or after [`Self::detach`].
    pub(crate) fn stop(&mut self) {
        if self.done {
            return;
        }
        self.done = true;
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        if !self.stop_grace.is_zero() {
            let _ = sigterm(self.child.id());
            let deadline = Instant::now() + self.stop_grace;
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            tracing::warn!(component = %self.name, "did not stop after SIGTERM; sending SIGKILL");
        }
        // `Child::kill` sends SIGKILL to this child's pid only, never to a process group.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Lets the process outlive this handle (a detached server): it is neither stopped
    /// nor reaped here. Returns its pid.
    pub(crate) fn detach(mut self) -> u32 {
        self.done = true;
        self.child.id()
    }
}

impl Drop for ManagedProcess {
    fn drop(&mut self) {
        self.stop();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut c = Command::new("sh");
        c.args(["-c", script]);
        c
    }

    #[test]
    fn drop_stops_and_reaps_the_process() {
        let p = ManagedProcess::spawn("sleeper", &mut sh("exec sleep 30"), None).unwrap();
        let pid = p.pid();
        assert!(process_alive(pid));
        drop(p);
        // Reaped: not even a zombie is left under this pid.
        assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    }

    #[test]
    fn sigkill_follows_an_ignored_sigterm_after_the_grace() {
        let mut p = ManagedProcess::spawn("stubborn", &mut sh("trap '' TERM; exec sleep 30"), None)
            .unwrap()
            .with_stop_grace(Duration::from_millis(300));
        let pid = p.pid();
        std::thread::sleep(Duration::from_millis(100));
        let started = Instant::now();
        p.stop();
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(300), "{took:?}");
        assert!(took < Duration::from_secs(5), "{took:?}");
        assert!(!process_alive(pid));
    }

    #[test]
    fn an_early_exit_is_reported_with_the_log_tail() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("quitter.log");
        let mut p = ManagedProcess::spawn(
            "quitter",
            &mut sh("echo to-stdout; echo to-stderr >&2; exit 3"),
            Some(&log),
        )
        .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(status) = p.exited() {
                break status;
            }
            assert!(Instant::now() < deadline, "sh did not exit");
            std::thread::sleep(Duration::from_millis(10));
        };
        assert_eq!(status.code(), Some(3));
        assert_eq!(p.log_path(), Some(log.as_path()));
        let text = p.exit_error(status).to_string();
        assert!(text.contains("quitter"), "{text}");
        assert!(
            text.contains("to-stdout") && text.contains("to-stderr"),
            "{text}"
        );
    }

    #[test]
    fn a_missing_program_names_the_process() {
        let err = ManagedProcess::spawn(
            "ghost",
            &mut Command::new("/nonexistent/o2dms-no-such-program"),
            None,
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("ghost") && text.contains("o2dms-no-such-program"),
            "{text}"
        );
    }

    #[test]
    fn a_detached_process_keeps_running() {
        let p = ManagedProcess::spawn("daemon", &mut sh("exec sleep 30"), None).unwrap();
        let pid = p.detach();
        std::thread::sleep(Duration::from_millis(50));
        assert!(process_alive(pid));
        sigkill(pid);
        let _ = nix::sys::wait::waitpid(Pid::from_raw(pid as i32), None);
        assert!(!process_alive(pid));
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("log");
        std::fs::write(&file, "a\nb\nc\nd\n").unwrap();
        assert_eq!(tail(&file, 2), "c\nd");
        assert_eq!(tail(&file, 10), "a\nb\nc\nd");
        assert_eq!(tail(&dir.path().join("absent"), 3), "");
    }
}
