//! Whether a Docker daemon answers, checked without the docker CLI: `GET /_ping` on the
//! socket named by `DOCKER_HOST` (unix:// or tcp://) or `/var/run/docker.sock`.

use std::io::{Read, Write};
use std::time::Duration;

/// Where the Docker daemon is expected.
pub(crate) fn docker_endpoint() -> String {
    std::env::var("DOCKER_HOST")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "unix:///var/run/docker.sock".to_string())
}

/// `Ok(())` if a Docker daemon answers its ping at `DOCKER_HOST` (or the default socket),
/// else why not, in one sentence. The kind and k3s providers check this first.
pub fn docker_daemon_available() -> Result<(), String> {
    ping_docker_daemon(&docker_endpoint())
}

/// `Ok(())` if the daemon at `endpoint` (`unix://PATH` or `tcp://HOST:PORT`) answers.
pub(crate) fn ping_docker_daemon(endpoint: &str) -> Result<(), String> {
    let endpoint = endpoint.to_string();
    let timeout = Duration::from_secs(3);
    let request = b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n";
    let mut response = Vec::new();
    if let Some(path) = endpoint.strip_prefix("unix://") {
        let mut s = std::os::unix::net::UnixStream::connect(path).map_err(|e| {
            format!(
                "no Docker daemon answers at {endpoint} ({e}); a docker client alone is not enough"
            )
        })?;
        let _ = s.set_read_timeout(Some(timeout));
        let _ = s.set_write_timeout(Some(timeout));
        s.write_all(request)
            .and_then(|_| s.read_to_end(&mut response))
            .map_err(|e| format!("the Docker daemon at {endpoint} did not answer: {e}"))?;
    } else if let Some(hostport) = endpoint.strip_prefix("tcp://") {
        use std::net::ToSocketAddrs;
        let addr = hostport
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .ok_or_else(|| format!("cannot resolve DOCKER_HOST {endpoint}"))?;
        let mut s = std::net::TcpStream::connect_timeout(&addr, timeout)
            .map_err(|e| format!("no Docker daemon answers at {endpoint} ({e})"))?;
        let _ = s.set_read_timeout(Some(timeout));
        s.write_all(request)
            .and_then(|_| s.read_to_end(&mut response))
            .map_err(|e| format!("the Docker daemon at {endpoint} did not answer: {e}"))?;
    } else {
        return Err(format!(
            "unsupported DOCKER_HOST {endpoint} (expected unix:// or tcp://)"
        ));
    }
    let text = String::from_utf8_lossy(&response);
    if text.starts_with("HTTP/1.") && text.split_whitespace().nth(1) == Some("200") {
        Ok(())
    } else {
        Err(format!(
            "the Docker daemon at {endpoint} answered its ping with: {}",
            text.lines().next().unwrap_or("nothing")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_socket_is_reported_with_its_path() {
        let err = ping_docker_daemon("unix:///nonexistent/o2dms-docker.sock").unwrap_err();
        assert!(
            err.contains("no Docker daemon answers at unix:///nonexistent/o2dms-docker.sock"),
            "{err}"
        );
    }

    #[test]
    fn a_closed_tcp_port_is_reported() {
        let port = crate::ports::free_port().unwrap();
        let err = ping_docker_daemon(&format!("tcp://127.0.0.1:{port}")).unwrap_err();
        assert!(err.contains("no Docker daemon answers"), "{err}");
    }

    #[test]
    fn an_unknown_scheme_is_rejected() {
        let err = ping_docker_daemon("npipe:////./pipe/docker").unwrap_err();
        assert!(err.contains("unsupported DOCKER_HOST"), "{err}");
    }
}
