//! How a loopback server comes up: a free port, a process started for it, and an HTTP
//! answer within a bound; a few attempts, since another process can take the port between
//! choosing it and the server binding it.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::error::{ClusterError, Result};
use crate::ports::free_port;
use crate::process::ManagedProcess;

/// Ports tried before giving up.
const ATTEMPTS: usize = 5;

/// Test servers keep nothing worth a graceful stop: SIGKILL at once.
const STOP_GRACE: Duration = Duration::ZERO;

/// How long one connection attempt or one read of the probe may take.
const PROBE_IO_TIMEOUT: Duration = Duration::from_secs(2);

/// Pause between probes.
const PROBE_INTERVAL: Duration = Duration::from_millis(100);

/// Starts a server: per attempt, a free port, `spawn(port)`, then a wait of up to
/// `timeout` for any HTTP answer to `GET probe_path`. Returns the port and the running
/// process. A failed attempt's process is stopped before the next; a process that
/// cannot be started at all (`spawn` fails) ends the attempts.
pub(super) fn start_on_free_port(
    probe_path: &str,
    timeout: Duration,
    mut spawn: impl FnMut(u16) -> Result<ManagedProcess>,
) -> Result<(u16, ManagedProcess)> {
    let mut last = ClusterError::Config("no attempt was made to start a server".into());
    for _ in 0..ATTEMPTS {
        let port = free_port()?;
        let mut process = spawn(port)?.with_stop_grace(STOP_GRACE);
        match wait_http(port, probe_path, &mut process, timeout) {
            Ok(()) => return Ok((port, process)),
            Err(e) => {
                tracing::warn!(server = process.name(), port, error = %e, "did not come up; retrying");
                last = e;
            }
        }
    }
    Err(last)
}

/// Waits until `GET path` on 127.0.0.1:`port` gets any HTTP answer (an error status
/// counts: the server is serving). Fails if `process` exits first or `timeout` passes.
pub(super) fn wait_http(
    port: u16,
    path: &str,
    process: &mut ManagedProcess,
    timeout: Duration,
) -> Result<()> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if let Some(status) = process.exited() {
            return Err(process.exit_error(status));
        }
        if answers_http(port, path) {
            return Ok(());
        }
        std::thread::sleep(PROBE_INTERVAL);
    }
    Err(process.failure(format!(
        "no HTTP answer on 127.0.0.1:{port}{path} within {:.0} s",
        timeout.as_secs_f64()
    )))
}

/// Whether one `GET path` on 127.0.0.1:`port` gets a line starting with `HTTP/`. A TLS
/// server counts too: it answers plain HTTP with `HTTP/1.0 400`.
fn answers_http(port: u16, path: &str) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, PROBE_IO_TIMEOUT) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(PROBE_IO_TIMEOUT));
    let _ = stream.set_write_timeout(Some(PROBE_IO_TIMEOUT));
    if write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").is_err() {
        return false;
    }
    let mut first = String::new();
    BufReader::new(stream).read_line(&mut first).is_ok() && first.starts_with("HTTP/")
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;
    use std::process::Command;

    use super::*;

    fn sh(script: &str) -> Command {
        let mut c = Command::new("sh");
        c.args(["-c", script]);
        c
    }

    /// A one-shot HTTP answer on a loopback listener, from a thread.
    fn answer_once(reply: &'static str) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            if let Ok((mut s, _)) = listener.accept() {
                let mut line = String::new();
                let _ = BufReader::new(s.try_clone().unwrap()).read_line(&mut line);
                let _ = s.write_all(reply.as_bytes());
            }
        });
        port
    }

    #[test]
    fn any_http_status_counts_as_serving() {
        let port = answer_once("HTTP/1.0 400 Bad Request\r\n\r\n");
        assert!(answers_http(port, "/v2/"));
    }

    #[test]
    fn a_non_http_answer_or_a_closed_port_does_not() {
        let port = answer_once("SSH-2.0-nope\r\n");
        assert!(!answers_http(port, "/"));
        let closed = free_port().unwrap();
        assert!(!answers_http(closed, "/"));
    }

    #[test]
    fn a_process_that_exits_first_is_an_error_naming_it() {
        let mut p = ManagedProcess::spawn("quitter", &mut sh("exit 4"), None).unwrap();
        let port = free_port().unwrap();
        let err = wait_http(port, "/", &mut p, Duration::from_secs(10)).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("quitter") && text.contains("exited early"),
            "{text}"
        );
    }

    #[test]
    fn the_wait_is_bounded() {
        let mut p = ManagedProcess::spawn("silent", &mut sh("exec sleep 30"), None).unwrap();
        let port = free_port().unwrap();
        let started = Instant::now();
        let err = wait_http(port, "/", &mut p, Duration::from_millis(300)).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(err.to_string().contains("no HTTP answer"), "{err}");
    }

    #[test]
    fn attempts_stop_at_a_process_that_cannot_start() {
        let mut calls = 0;
        let err = start_on_free_port("/", Duration::from_secs(1), |_| {
            calls += 1;
            ManagedProcess::spawn("ghost", &mut Command::new("/nonexistent/o2dms-ghost"), None)
        })
        .unwrap_err();
        assert_eq!(calls, 1);
        assert!(err.to_string().contains("ghost"), "{err}");
    }

    #[test]
    fn every_attempt_gets_its_own_port_and_the_last_error_is_kept() {
        let mut ports = Vec::new();
        let err = start_on_free_port("/", Duration::from_millis(100), |port| {
            ports.push(port);
            ManagedProcess::spawn("quitter", &mut sh("exit 5"), None)
        })
        .unwrap_err();
        assert_eq!(ports.len(), ATTEMPTS);
        let mut distinct = ports.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), ATTEMPTS, "{ports:?}");
        assert!(err.to_string().contains("quitter"), "{err}");
    }
}
