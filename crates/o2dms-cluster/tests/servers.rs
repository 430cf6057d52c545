//! The loopback test servers: they serve on 127.0.0.1, and they are gone (stopped by pid
//! and reaped) once their value drops, also when the code holding them panics. Needs
//! `python3`, and Debian's `docker-registry` (installed with apt-get as root if missing).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use o2dms_cluster::servers::{Registry, StaticServer};
use o2dms_cluster::{process_alive, ClusterError};

/// `GET path` over HTTP/1.0 on 127.0.0.1:`port`: the whole answer, headers included.
fn get(port: u16, path: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("read the answer");
    answer
}

fn refused(port: u16) -> bool {
    TcpStream::connect(("127.0.0.1", port)).is_err()
}

#[test]
fn the_static_server_serves_its_directory_until_dropped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("index.yaml"),
        "apiVersion: v1\nentries: {}\n",
    )
    .unwrap();
    let server = StaticServer::start(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(server.url(), format!("http://127.0.0.1:{}/", server.port()));
    let answer = get(server.port(), "/index.yaml");
    assert!(answer.starts_with("HTTP/1.0 200"), "{answer}");
    assert!(
        answer.ends_with("apiVersion: v1\nentries: {}\n"),
        "{answer}"
    );
    assert!(get(server.port(), "/absent.tgz").starts_with("HTTP/1.0 404"));

    let (pid, port) = (server.pid(), server.port());
    assert!(process_alive(pid));
    drop(server);
    assert!(!process_alive(pid), "python3 (pid {pid}) still runs");
    assert!(refused(port));
}

#[test]
fn a_panic_stops_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let mut seen = None;
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let server = StaticServer::start(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        seen = Some((server.pid(), server.port()));
        panic!("the test fails while the server runs");
    }));
    assert!(outcome.is_err());
    let (pid, port) = seen.expect("the server started");
    assert!(
        !process_alive(pid),
        "python3 (pid {pid}) outlived the panic"
    );
    assert!(refused(port));
}

#[test]
fn the_registry_serves_the_distribution_api_until_dropped() {
    let registry = Registry::start().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(registry.addr(), format!("127.0.0.1:{}", registry.port()));
    let answer = get(registry.port(), "/v2/");
    assert!(answer.starts_with("HTTP/1.0 200"), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("docker-distribution-api-version: registry/2.0"),
        "{answer}"
    );

    let (pid, port) = (registry.pid(), registry.port());
    drop(registry);
    assert!(
        !process_alive(pid),
        "docker-registry (pid {pid}) still runs"
    );
    assert!(refused(port));
}

#[test]
fn a_registry_configuration_gets_its_auth_section_and_directory() {
    let mut auth_dir = None;
    let registry = Registry::start_configured("", |dir| {
        auth_dir = Some(dir.to_path_buf());
        let file = dir.join("htpasswd");
        // One user; the hash is never checked: the request below sends no credentials.
        std::fs::write(
            &file,
            "u:$2y$04$wG0ZK2Yy6TyVa7BvPx5TCOlqN3P5CmGnFfcVjTYs7X0k9H0TIbYhi\n",
        )
        .unwrap();
        format!(
            "auth:\n  htpasswd:\n    realm: o2dms-test\n    path: {}\n",
            file.display()
        )
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let answer = get(registry.port(), "/v2/");
    assert!(answer.starts_with("HTTP/1.0 401"), "{answer}");
    let dir = auth_dir.expect("auth was called");
    assert!(dir.join("htpasswd").is_file());
    drop(registry);
    assert!(!dir.exists(), "{} outlived the registry", dir.display());
}

#[test]
fn a_registry_that_cannot_start_is_reported_with_its_kept_log() {
    let tls = "  tls:\n    certificate: /nonexistent/o2dms.pem\n    key: /nonexistent/o2dms.key\n";
    let err = Registry::start_configured(tls, |_| String::new()).expect_err("no certificate");
    let ClusterError::Process {
        component,
        log_path,
        log_tail,
        ..
    } = &err
    else {
        panic!("not a process error: {err}");
    };
    assert_eq!(component, "docker-registry");
    let log = log_path.clone().expect("the error names the log");
    assert!(log.is_file(), "{} was not kept", log.display());
    assert!(
        log_tail.as_deref().is_some_and(|t| t.contains("o2dms.pem")),
        "{err}"
    );
    std::fs::remove_dir_all(log.parent().unwrap()).unwrap();
}
