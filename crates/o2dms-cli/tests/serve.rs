//! `o2dms serve` as a real process: the configuration file, the address line, HTTP and
//! TLS, signals, exit statuses, and what the logs must never contain.
//!
//! Every child is killed by its pid when its guard is dropped, also when a test panics.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// How long the server may take to print its address.
const START_BOUND: Duration = Duration::from_secs(20);
/// How long the process may take to exit after SIGTERM (or a configuration error).
const EXIT_BOUND: Duration = Duration::from_secs(15);

const MOCK_CONFIG: &str = r#"
plugins:
  dms:
    - name: lab
      type: mock
      default: true
      config:
        packages:
          - name: web
            version: 0.1.0
            values:
              replicaCount: 1
          - name: never-ready
            version: 0.1.0
        faults:
          neverReady: [never-ready]
    - name: empty
      type: mock
      config: {}
    - name: switched-off
      type: mock
      enabled: false
      config:
        packages:
          - name: web
            version: 0.1.0
"#;

/// `o2dms` with the environment that would change it removed.
fn o2dms() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_o2dms"));
    for var in ["RUST_LOG", "O2DMS_CONFIG", "O2DMS_LISTEN"] {
        cmd.env_remove(var);
    }
    cmd.stdin(Stdio::null());
    cmd
}

/// A running `o2dms serve`: its stderr is read to the end by a thread of its own (so the
/// pipe never fills), and the process is killed by its pid when this is dropped.
struct Served {
    child: Child,
    stderr: Arc<Mutex<String>>,
    reader: Option<JoinHandle<()>>,
    /// `http://ADDR` or `https://ADDR`, from the `listening on` line.
    base: String,
    _dir: tempfile::TempDir,
}

impl Served {
    /// Starts `o2dms serve --config <config> --listen 127.0.0.1:0 <extra>` and waits
    /// (bounded) for its `listening on` line.
    fn start(config: &str, extra: &[&str]) -> Served {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("dms.yaml");
        std::fs::write(&path, config).expect("write the configuration");
        Self::start_in(dir, &path, extra)
    }

    fn start_in(dir: tempfile::TempDir, config: &Path, extra: &[&str]) -> Served {
        let mut child = o2dms()
            .arg("serve")
            .arg("--config")
            .arg(config)
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn o2dms");
        let pipe = child.stderr.take().expect("stderr");
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel::<String>();
        let sink = Arc::clone(&stderr);
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                if let Some(base) = line.strip_prefix("listening on ") {
                    let _ = tx.send(base.to_owned());
                }
                let mut all = sink.lock().unwrap_or_else(|e| e.into_inner());
                all.push_str(&line);
                all.push('\n');
            }
        });
        let mut served = Served {
            child,
            stderr,
            reader: Some(reader),
            base: String::new(),
            _dir: dir,
        };
        match rx.recv_timeout(START_BOUND) {
            Ok(base) => served.base = base,
            Err(e) => panic!(
                "no `listening on` line within {START_BOUND:?} ({e}); stderr:\n{}",
                served.stderr_so_far()
            ),
        }
        served
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn stderr_so_far(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Sends SIGTERM to the pid and waits (bounded) for the exit; the status and the
    /// whole of stderr.
    fn terminate(&mut self) -> (ExitStatus, String) {
        let pid = i32::try_from(self.child.id()).expect("pid");
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGTERM,
        )
        .expect("SIGTERM");
        let status = wait_bounded(&mut self.child, EXIT_BOUND)
            .unwrap_or_else(|| panic!("no exit within {EXIT_BOUND:?} of SIGTERM"));
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        (status, self.stderr_so_far())
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        // Kills the process by its pid (SIGKILL) unless it has exited already.
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

/// The exit status, or `None` when `child` is still running after `bound`.
fn wait_bounded(child: &mut Child, bound: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + bound;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// Runs `o2dms serve` expecting it to exit by itself (bounded); its status and stderr.
fn run_to_exit(args: &[&str]) -> (ExitStatus, String) {
    let mut child = o2dms()
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn o2dms");
    let pipe = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let status = wait_bounded(&mut child, EXIT_BOUND);
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let stderr = reader.join().unwrap_or_default();
    let status = status.unwrap_or_else(|| panic!("still running after {EXIT_BOUND:?}:\n{stderr}"));
    (status, stderr)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}

async fn json_of(res: reqwest::Response, status: u16) -> Value {
    let got = res.status().as_u16();
    let text = res.text().await.expect("body");
    assert_eq!(got, status, "body: {text}");
    serde_json::from_str(&text).expect("a JSON body")
}

#[tokio::test]
async fn mock_plugins_from_the_configuration_are_served() {
    let mut served = Served::start(MOCK_CONFIG, &[]);
    assert!(
        served.base.starts_with("http://127.0.0.1:"),
        "{}",
        served.base
    );
    let http = client();

    let list = json_of(
        http.get(served.url("/o2dms/v1/deploymentManagers"))
            .send()
            .await
            .expect("list"),
        200,
    )
    .await;
    let names: Vec<&str> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|dm| dm["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(names, ["empty", "lab"], "{list}");
    assert!(list["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|dm| dm["type"] == "mock"));
    let off = http
        .get(served.url("/o2dms/v1/deploymentManagers/switched-off"))
        .send()
        .await
        .expect("get");
    assert_eq!(off.status().as_u16(), 404);

    // The packages of the configuration are there, and a create + get works.
    let deployments = "/o2dms/v1/deploymentManagers/lab/deployments";
    let created = json_of(
        http.post(served.url(deployments))
            .header("content-type", "application/json")
            .header("prefer", "wait=10")
            .body(json!({"namespace": "ran", "name": "du-1", "package": "web@0.1.0"}).to_string())
            .send()
            .await
            .expect("create"),
        201,
    )
    .await;
    assert_eq!(created["revision"], 1, "{created}");
    let got = json_of(
        http.get(served.url(&format!("{deployments}/ran/du-1")))
            .send()
            .await
            .expect("get"),
        200,
    )
    .await;
    assert_eq!(got["package"], "web@0.1.0", "{got}");
    assert_eq!(got["status"], created["status"], "{got}");

    // The fault of the configuration: never-ready times out, as the builder's would.
    let stuck = json_of(
        http.post(served.url(deployments))
            .header("content-type", "application/json")
            .header("prefer", "wait=10")
            .body(
                json!({"namespace": "ran", "name": "stuck", "package": "never-ready@0.1.0"})
                    .to_string(),
            )
            .send()
            .await
            .expect("create"),
        504,
    )
    .await;
    assert!(
        stuck["type"]
            .as_str()
            .unwrap_or_default()
            .contains("timeout"),
        "{stuck}"
    );

    // The plugin with `config: {}` is a mock with no packages.
    let packages = json_of(
        http.get(served.url("/o2dms/v1/deploymentManagers/empty/packages"))
            .send()
            .await
            .expect("packages"),
        200,
    )
    .await;
    assert_eq!(packages["items"], json!([]), "{packages}");

    let (status, stderr) = served.terminate();
    assert_eq!(status.code(), Some(0), "{stderr}");
}

#[test]
fn a_configuration_mistake_exits_2_naming_the_key_path_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        (
            "plugins:\n  dms:\n    - name: lab\n      type: mock\n      config:\n        packages:\n          - name: web\n            version: 0.1.0\n            colour: red\n",
            "`plugins.dms[0].config.packages[0].colour` (line 6)",
        ),
        (
            "plugins:\n  dms:\n    - name: lab\n      type: mock\n      enabled: maybe\n",
            "`plugins.dms[0].enabled` (line 5)",
        ),
        (
            "plugins:\n  dms:\n    - name: lab\n      type: mock\n      config:\n        packages:\n          - name: a@b\n            version: 0.1.0\n",
            "`plugins.dms[0].config.packages[0].name` (line 6)",
        ),
        (
            "plugins:\n  dms:\n    - name: h\n      type: helm\n      config:\n        maxHistory: ten\n",
            "`plugins.dms[0].config.maxHistory` (line 6)",
        ),
        (
            "plugins:\n  dms:\n    - name: lab\n      type: mock\n      enabled: false\n",
            "`plugins.dms`: there is no enabled plugin",
        ),
    ];
    for (i, (yaml, expected)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("dms-{i}.yaml"));
        std::fs::write(&path, yaml).expect("write");
        let path = path.to_str().expect("utf-8 path");
        let (status, stderr) = run_to_exit(&["serve", "--config", path, "--listen", "127.0.0.1:0"]);
        assert_eq!(status.code(), Some(2), "{yaml}\n{stderr}");
        assert!(stderr.contains(expected), "{expected} not in:\n{stderr}");
        assert!(!stderr.contains("listening on"), "{stderr}");
    }

    let missing = dir.path().join("missing.yaml");
    let (status, stderr) = run_to_exit(&["serve", "--config", missing.to_str().expect("utf-8")]);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("missing.yaml"), "{stderr}");

    // clap's usage errors have status 2 as well: a key without its certificate.
    let (status, stderr) = run_to_exit(&["serve", "--config", "x.yaml", "--tls-key", "k.pem"]);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--tls-cert"), "{stderr}");
}

#[test]
fn a_helm_plugin_that_cannot_connect_or_a_busy_address_exits_3() {
    let dir = tempfile::tempdir().expect("tempdir");
    // No cluster needed: the kubeconfig does not exist, so connecting fails at once.
    let helm = dir.path().join("helm.yaml");
    let kubeconfig = dir.path().join("no-such-kubeconfig");
    std::fs::write(
        &helm,
        format!(
            "plugins:\n  dms:\n    - name: lab\n      type: mock\n    - name: edge\n      type: helm\n      config:\n        kubeconfig: {}\n        dataDir: {}\n",
            kubeconfig.display(),
            dir.path().join("data").display()
        ),
    )
    .expect("write");
    let helm = helm.to_str().expect("utf-8");
    let (status, stderr) = run_to_exit(&["serve", "--config", helm, "--listen", "127.0.0.1:0"]);
    assert_eq!(status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("plugin `edge` (plugins.dms[1]): cannot connect"),
        "{stderr}"
    );
    assert!(!stderr.contains("listening on"), "{stderr}");

    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = busy.local_addr().expect("address").to_string();
    let mock = dir.path().join("mock.yaml");
    std::fs::write(&mock, MOCK_CONFIG).expect("write");
    let mock = mock.to_str().expect("utf-8");
    let (status, stderr) = run_to_exit(&["serve", "--config", mock, "--listen", &address]);
    assert_eq!(status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(&format!("listening on {address}: ")),
        "{stderr}"
    );
}

/// A CA, and a server certificate it signed for 127.0.0.1 and localhost, written to
/// `dir` as `cert.pem` and `key.pem`; the CA's PEM.
fn certificates(dir: &Path) -> (String, PathBuf, PathBuf) {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose,
        IsCa, KeyPair, KeyUsagePurpose,
    };
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca.distinguished_name
        .push(DnType::CommonName, "o2dms test CA");
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().expect("CA key")).expect("CA");

    let key = KeyPair::generate().expect("server key");
    let mut server = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .expect("server params");
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let cert = server.signed_by(&key, &*ca).expect("server certificate");

    let cert_path = dir.join("cert.pem");
    let key_path = dir.join("key.pem");
    std::fs::write(&cert_path, cert.pem()).expect("write cert");
    std::fs::write(&key_path, key.serialize_pem()).expect("write key");
    (ca.pem(), cert_path, key_path)
}

/// The messages of `e` and its sources.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[tokio::test]
async fn tls_with_a_certificate_is_verified_against_its_ca() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ca_pem, cert, key) = certificates(dir.path());
    let config = dir.path().join("dms.yaml");
    std::fs::write(&config, MOCK_CONFIG).expect("write");
    let (cert, key) = (
        cert.to_str().expect("utf-8").to_owned(),
        key.to_str().expect("utf-8").to_owned(),
    );
    let mut served = Served::start_in(dir, &config, &["--tls-cert", &cert, "--tls-key", &key]);
    assert!(
        served.base.starts_with("https://127.0.0.1:"),
        "{}",
        served.base
    );
    let path = "/o2dms/v1/deploymentManagers";

    let trusting = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes()).expect("CA"))
        .build()
        .expect("client");
    let res = trusting.get(served.url(path)).send().await.expect("https");
    assert_eq!(res.status().as_u16(), 200);
    let port = served.base.rsplit(':').next().expect("port").to_owned();
    let by_name = trusting
        .get(format!("https://localhost:{port}{path}"))
        .send()
        .await
        .expect("https to localhost");
    assert_eq!(by_name.status().as_u16(), 200);

    // Without the CA the server's certificate is not trusted.
    let err = client()
        .get(served.url(path))
        .send()
        .await
        .expect_err("an unknown issuer must fail verification");
    let why = chain(&err).to_lowercase();
    assert!(why.contains("certificate"), "{why}");

    // Plain HTTP to the TLS port fails too ...
    let plain = client()
        .get(format!("http://127.0.0.1:{port}{path}"))
        .send()
        .await;
    assert!(plain.is_err() || plain.is_ok_and(|r| !r.status().is_success()));

    // ... and the failed handshakes did not stop the server.
    let res = trusting.get(served.url(path)).send().await.expect("https");
    assert_eq!(res.status().as_u16(), 200);

    let (status, stderr) = served.terminate();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("TLS handshake failed"), "{stderr}");
}

#[test]
fn unusable_tls_files_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("dms.yaml");
    std::fs::write(&config, MOCK_CONFIG).expect("write");
    let not_pem = dir.path().join("not.pem");
    std::fs::write(&not_pem, "secret-looking-material\n").expect("write");
    let (_, cert, _) = certificates(dir.path());
    let config = config.to_str().expect("utf-8");
    let (not_pem, cert) = (
        not_pem.to_str().expect("utf-8"),
        cert.to_str().expect("utf-8"),
    );
    for (cert, key, expected) in [
        (not_pem, not_pem, "--tls-cert"),
        (cert, not_pem, "--tls-key"),
        (cert, cert, "--tls-key"),
    ] {
        let (status, stderr) = run_to_exit(&[
            "serve",
            "--config",
            config,
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            cert,
            "--tls-key",
            key,
        ]);
        assert_eq!(status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(expected), "{stderr}");
        assert!(!stderr.contains("secret-looking-material"), "{stderr}");
    }
}

#[tokio::test]
async fn sigterm_shuts_down_cleanly_and_the_address_is_logged() {
    let mut served = Served::start(MOCK_CONFIG, &["--log-format", "json"]);
    let res = client()
        .get(served.url("/o2dms/v1/deploymentManagers/lab/health"))
        .send()
        .await
        .expect("health");
    assert_eq!(res.status().as_u16(), 200);

    let started = Instant::now();
    let (status, stderr) = served.terminate();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(started.elapsed() < EXIT_BOUND);

    // Exactly one address line; every other line is a JSON log event.
    let address = served.base.trim_start_matches("http://");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("listening on "))
            .count(),
        1,
        "{stderr}"
    );
    let events: Vec<Value> = lines
        .iter()
        .filter(|l| !l.starts_with("listening on "))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let listening = events
        .iter()
        .find(|e| e["message"] == "listening")
        .unwrap_or_else(|| panic!("no listening event:\n{stderr}"));
    assert_eq!(listening["level"], "INFO");
    assert_eq!(listening["address"], address);
    assert!(events.iter().any(|e| e["signal"] == "SIGTERM"), "{stderr}");
    assert!(events.iter().any(|e| e["message"] == "stopped"), "{stderr}");
}

#[tokio::test]
async fn values_and_tokens_never_reach_the_logs_even_at_trace_level() {
    const MARKER: &str = "o2dms-log-marker-7f3a91c2";
    let mut served = Served::start(MOCK_CONFIG, &["--log-level", "trace"]);
    let http = client();
    let auth = format!("Bearer {MARKER}-token");
    let values = json!({
        "replicaCount": 2,
        "password": format!("{MARKER}-password"),
        "nested": {"token": format!("{MARKER}-nested")},
    });
    let deployments = "/o2dms/v1/deploymentManagers/lab/deployments";

    // An operation polled to its end, then reads that return the values.
    let accepted = http
        .post(served.url(deployments))
        .header("content-type", "application/json")
        .header("authorization", &auth)
        .body(
            json!({"namespace": "ran", "name": "secret", "package": "web@0.1.0", "values": values})
                .to_string(),
        )
        .send()
        .await
        .expect("create");
    assert_eq!(accepted.status().as_u16(), 202);
    let location = accepted.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let op = json_of(
            http.get(served.url(&location)).send().await.expect("poll"),
            200,
        )
        .await;
        if op["state"] == "COMPLETED" {
            assert_eq!(op["result"]["values"]["password"], values["password"]);
            break;
        }
        assert_ne!(op["state"], "FAILED", "{op}");
        assert!(Instant::now() < deadline, "{op}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let got = json_of(
        http.get(served.url(&format!("{deployments}/ran/secret")))
            .header("authorization", &auth)
            .send()
            .await
            .expect("get"),
        200,
    )
    .await;
    assert_eq!(got["values"]["nested"], values["nested"]);

    // A write that fails, with the marker in its values, and one in the query.
    let update = http
        .patch(served.url(&format!("{deployments}/ran/absent")))
        .header("content-type", "application/json")
        .header("prefer", "wait=10")
        .body(json!({"values": {"password": format!("{MARKER}-update")}}).to_string())
        .send()
        .await
        .expect("update");
    assert_eq!(update.status().as_u16(), 404);
    let listed = http
        .get(served.url(&format!("{deployments}?continue={MARKER}-continue")))
        .send()
        .await
        .expect("list");
    assert_eq!(listed.status().as_u16(), 422);

    let (status, stderr) = served.terminate();
    assert_eq!(status.code(), Some(0), "{stderr}");
    // The logs were verbose (requests at debug level are there) ...
    assert!(stderr.contains("DEBUG"), "{stderr}");
    assert!(stderr.contains("operation completed"), "{stderr}");
    // ... and not one of them holds the marker.
    assert!(
        !stderr.contains(MARKER),
        "a value reached the logs:\n{stderr}"
    );
}

#[test]
fn serve_help() {
    let out = o2dms()
        .args(["serve", "--help"])
        .env("COLUMNS", "100")
        .output()
        .expect("o2dms serve --help");
    assert!(out.status.success());
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
}
