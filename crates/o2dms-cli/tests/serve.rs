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
    /// Starts `o2dms serve --config <config> --listen 127.0.0.1:0 <extra>` (the
    /// `--listen` of `extra` instead, if it has one) and waits (bounded) for its
    /// `listening on` line.
    fn start(config: &str, extra: &[&str]) -> Served {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("dms.yaml");
        std::fs::write(&path, config).expect("write the configuration");
        Self::start_in(dir, &path, extra)
    }

    fn start_in(dir: tempfile::TempDir, config: &Path, extra: &[&str]) -> Served {
        Self::start_with_env(dir, config, extra, &[])
    }

    /// [`Served::start_in`] with environment variables set for the process.
    fn start_with_env(
        dir: tempfile::TempDir,
        config: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Served {
        // loopback and any free port, unless the test gives its own address
        let listen: &[&str] = if extra.contains(&"--listen") {
            &[]
        } else {
            &["--listen", "127.0.0.1:0"]
        };
        let mut child = o2dms()
            .envs(env.iter().copied())
            .arg("serve")
            .arg("--config")
            .arg(config)
            .args(listen)
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

// ---- access control (server.auth) ----

const SMO_TOKEN: &str = "smo-token-4f1a9c2e77b3";
const VIEWER_TOKEN: &str = "viewer-token-0d83be51aa6c";
const OVERRIDE_TOKEN: &str = "override-token-9e2b7d4410f8";

/// MOCK_CONFIG with `server:` appended.
fn with_server(server: &str) -> String {
    format!("{MOCK_CONFIG}server:\n{server}")
}

/// Writes `content` to `dir/name` with `mode`; the path as text.
fn secret_file(dir: &Path, name: &str, content: &str, mode: u32) -> String {
    use std::os::unix::fs::PermissionsExt as _;
    let path = dir.join(name);
    std::fs::write(&path, content).expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    path.to_str().expect("utf-8").to_owned()
}

/// `method url` with an optional bearer token; the status.
async fn status_of(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    token: Option<&str>,
) -> u16 {
    let mut req = http.request(method, url);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    req.send().await.expect("send").status().as_u16()
}

#[tokio::test]
async fn tokens_from_a_file_and_an_environment_variable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let smo = secret_file(dir.path(), "smo-token", &format!("{SMO_TOKEN}\n"), 0o600);
    // readable by others: used, with a warning
    let viewer_file = secret_file(dir.path(), "unused", "unused-token\n", 0o644);
    let over = secret_file(
        dir.path(),
        "override",
        &format!("  {OVERRIDE_TOKEN}  \n"),
        0o600,
    );
    let config = dir.path().join("dms.yaml");
    std::fs::write(
        &config,
        with_server(&format!(
            "  auth:\n    tokens:\n      - name: smo\n        file: {smo}\n        scope: write\n        deploymentManagers: [lab]\n      - name: viewer\n        env: O2DMS_TEST_VIEWER_TOKEN\n        scope: read\n      - name: ops\n        file: {viewer_file}\n        scope: write\n"
        )),
    )
    .expect("write");
    let mut served = Served::start_with_env(
        dir,
        &config,
        &[
            "--log-level",
            "trace",
            "--token-file",
            &format!("ops={over}"),
        ],
        &[("O2DMS_TEST_VIEWER_TOKEN", VIEWER_TOKEN)],
    );
    let http = client();
    let lab = served.url("/o2dms/v1/deploymentManagers/lab/deployments");
    let empty = served.url("/o2dms/v1/deploymentManagers/empty/deployments");

    // no credentials, an unknown token: 401 with the challenge
    let res = http.get(&lab).send().await.expect("get");
    assert_eq!(res.status().as_u16(), 401);
    assert_eq!(res.headers()["www-authenticate"], "Bearer realm=\"o2dms\"");
    let p = json_of(res, 401).await;
    assert_eq!(p["type"], "urn:o2dms:problem:unauthenticated", "{p}");
    assert_eq!(
        status_of(&http, reqwest::Method::GET, &lab, Some("nope")).await,
        401
    );

    // the file's token writes on lab only
    let created = http
        .post(&lab)
        .header("authorization", format!("Bearer {SMO_TOKEN}"))
        .header("content-type", "application/json")
        .header("prefer", "wait=10")
        .body(json!({"namespace": "ran", "name": "du-1", "package": "web@0.1.0"}).to_string())
        .send()
        .await
        .expect("create");
    assert_eq!(created.status().as_u16(), 201);
    assert_eq!(
        status_of(&http, reqwest::Method::GET, &empty, Some(SMO_TOKEN)).await,
        403
    );
    let list = json_of(
        http.get(served.url("/o2dms/v1/deploymentManagers"))
            .header("authorization", format!("Bearer {SMO_TOKEN}"))
            .send()
            .await
            .expect("list"),
        200,
    )
    .await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "{list}");

    // the variable's token reads everywhere and writes nowhere
    assert_eq!(
        status_of(&http, reqwest::Method::GET, &empty, Some(VIEWER_TOKEN)).await,
        200
    );
    let refused = http
        .delete(format!("{lab}/ran/du-1"))
        .header("authorization", format!("Bearer {VIEWER_TOKEN}"))
        .send()
        .await
        .expect("delete");
    let p = json_of(refused, 403).await;
    assert_eq!(p["kind"], "permission_denied", "{p}");

    // --token-file replaced the configured file of `ops`
    assert_eq!(
        status_of(&http, reqwest::Method::GET, &lab, Some(OVERRIDE_TOKEN)).await,
        200
    );
    assert_eq!(
        status_of(&http, reqwest::Method::GET, &lab, Some("unused-token")).await,
        401
    );

    let (status, stderr) = served.terminate();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("request refused"), "{stderr}");
    assert!(stderr.contains("principal=smo"), "{stderr}");
    for token in [SMO_TOKEN, VIEWER_TOKEN, OVERRIDE_TOKEN] {
        assert!(
            !stderr.contains(token),
            "a token reached the logs:\n{stderr}"
        );
    }
}

#[tokio::test]
async fn a_group_readable_token_file_is_used_with_a_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let smo = secret_file(dir.path(), "smo-token", SMO_TOKEN, 0o640);
    let config = dir.path().join("dms.yaml");
    std::fs::write(
        &config,
        with_server(&format!(
            "  auth:\n    tokens:\n      - {{name: smo, file: {smo}, scope: read}}\n"
        )),
    )
    .expect("write");
    let mut served = Served::start_in(dir, &config, &[]);
    let http = client();
    let url = served.url("/o2dms/v1/deploymentManagers");
    assert_eq!(
        status_of(&http, reqwest::Method::GET, &url, Some(SMO_TOKEN)).await,
        200
    );
    let (status, stderr) = served.terminate();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("can be read by group or others"),
        "{stderr}"
    );
    assert!(!stderr.contains(SMO_TOKEN), "{stderr}");
}

#[test]
fn access_control_mistakes_exit_2_naming_the_key_without_the_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = secret_file(dir.path(), "empty-token", "\n", 0o600);
    let two = secret_file(dir.path(), "two-tokens", "s3cr3t-one s3cr3t-two\n", 0o600);
    let missing = dir.path().join("missing-token");
    let missing = missing.to_str().expect("utf-8");
    let ca = secret_file(dir.path(), "ca.pem", "not a certificate\n", 0o600);
    let (_, cert, key) = certificates(dir.path());
    let (cert, key) = (cert.to_str().expect("utf-8"), key.to_str().expect("utf-8"));
    let cases: Vec<(String, Vec<&str>, String)> = vec![
        (
            "  auth:\n    tokens:\n      - {name: smo, env: O2DMS_TEST_UNSET_VARIABLE, scope: read}\n".into(),
            vec![],
            "`server.auth.tokens[0].env` (line 30): `O2DMS_TEST_UNSET_VARIABLE` is not set".into(),
        ),
        (
            format!("  auth:\n    tokens:\n      - {{name: smo, file: {missing}, scope: read}}\n"),
            vec![],
            "`server.auth.tokens[0].file` (line 30)".into(),
        ),
        (
            format!("  auth:\n    tokens:\n      - {{name: smo, file: {empty}, scope: read}}\n"),
            vec![],
            "holds no token".into(),
        ),
        (
            format!("  auth:\n    tokens:\n      - {{name: smo, file: {two}, scope: read}}\n"),
            vec![],
            "one token on one line".into(),
        ),
        (
            "  auth:\n    tokens:\n      - {name: smo, token: s3cr3t-inline, scope: read}\n".into(),
            vec![],
            "`server.auth.tokens[0].token` (line 30): unknown field `token`".into(),
        ),
        (
            "  auth:\n    tokens:\n      - {name: smo, env: X, scope: read, deploymentManagers: [switched-on]}\n".into(),
            vec![],
            "`server.auth.tokens[0].deploymentManagers[0]`".into(),
        ),
        (
            format!("  auth:\n    clientCa: {ca}\n    clients: [{{name: c, subject: c, scope: read}}]\n"),
            vec![],
            "need TLS".into(),
        ),
        (
            format!("  auth:\n    clientCa: {ca}\n    clients: [{{name: c, subject: c, scope: read}}]\n"),
            vec!["--tls-cert", &cert, "--tls-key", &key],
            "`server.auth.clientCa` (line 29)".into(),
        ),
        (
            format!("  auth:\n    clientCa: {ca}\n    clients: [{{name: c, subject: c, scope: read}}]\n"),
            vec!["--client-ca", &ca, "--tls-cert", &cert, "--tls-key", &key],
            "--client-ca".into(),
        ),
        (
            "  auth:\n    anonymous: read\n".into(),
            vec!["--client-ca", &ca, "--tls-cert", &cert, "--tls-key", &key],
            "no `clientCa`".into(),
        ),
        (
            "  auth:\n    anonymous: read\n".into(),
            vec!["--token-file", "nobody=/x"],
            "no token named `nobody`".into(),
        ),
    ];
    let config = dir.path().join("dms.yaml");
    let config = config.to_str().expect("utf-8");
    for (server, extra, expected) in &cases {
        std::fs::write(config, with_server(server)).expect("write");
        let mut args = vec!["serve", "--config", config, "--listen", "127.0.0.1:0"];
        args.extend(extra.iter().copied());
        let (status, stderr) = run_to_exit(&args);
        assert_eq!(status.code(), Some(2), "{server}\n{stderr}");
        assert!(
            stderr.contains(expected.as_str()),
            "{expected} not in:\n{stderr}"
        );
        assert!(!stderr.contains("s3cr3t"), "{stderr}");
        assert!(!stderr.contains("listening on"), "{stderr}");
    }
}

#[tokio::test]
async fn without_access_control_only_loopback_unless_allowed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("dms.yaml");
    std::fs::write(&config, MOCK_CONFIG).expect("write");
    let path = config.to_str().expect("utf-8");
    let (status, stderr) = run_to_exit(&["serve", "--config", path, "--listen", "0.0.0.0:0"]);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--listen 0.0.0.0:0: not a loopback address")
            && stderr.contains("--allow-unauthenticated"),
        "{stderr}"
    );
    assert!(!stderr.contains("listening on"), "{stderr}");

    let mut served = Served::start_in(
        dir,
        &config,
        &["--listen", "0.0.0.0:0", "--allow-unauthenticated"],
    );
    let port = served.base.rsplit(':').next().expect("port").to_owned();
    let res = client()
        .get(format!(
            "http://127.0.0.1:{port}/o2dms/v1/deploymentManagers"
        ))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status().as_u16(), 200);
    let (status, stderr) = served.terminate();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("without access control"), "{stderr}");
}

/// A CA for client certificates, `name` its common name.
fn client_ca(name: &str) -> rcgen::CertifiedIssuer<'static, rcgen::KeyPair> {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair,
        KeyUsagePurpose,
    };
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca.distinguished_name.push(DnType::CommonName, name);
    CertifiedIssuer::self_signed(ca, KeyPair::generate().expect("CA key")).expect("CA")
}

/// A client certificate from `ca` for the DNS name `dns` (common name `cn`), with its
/// key: one PEM text, as `reqwest::Identity::from_pem` and the remote adapter take it.
fn client_identity(
    ca: &rcgen::CertifiedIssuer<'static, rcgen::KeyPair>,
    cn: &str,
    dns: &str,
) -> String {
    use rcgen::{CertificateParams, DnType, ExtendedKeyUsagePurpose, KeyPair};
    let key = KeyPair::generate().expect("client key");
    let mut params = CertificateParams::new(vec![dns.to_owned()]).expect("client params");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.distinguished_name.push(DnType::CommonName, cn);
    let cert = params.signed_by(&key, &**ca).expect("client certificate");
    format!("{}{}", cert.pem(), key.serialize_pem())
}

/// A client trusting `server_ca`, presenting `identity` if any.
fn tls_client(server_ca: &str, identity: Option<&str>) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .add_root_certificate(reqwest::Certificate::from_pem(server_ca.as_bytes()).expect("CA"));
    if let Some(pem) = identity {
        b = b.identity(reqwest::Identity::from_pem(pem.as_bytes()).expect("identity"));
    }
    b.build().expect("client")
}

/// `o2dms serve` over TLS with `server.auth` (the client CA written to `ca.pem`); the
/// server CA's PEM.
fn serve_mtls(auth: &str, clients_ca: &str) -> (Served, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server_ca, cert, key) = certificates(dir.path());
    let ca = secret_file(dir.path(), "clients-ca.pem", clients_ca, 0o644);
    let config = dir.path().join("dms.yaml");
    std::fs::write(&config, with_server(&auth.replace("{CA}", &ca))).expect("write");
    let (cert, key) = (
        cert.to_str().expect("utf-8").to_owned(),
        key.to_str().expect("utf-8").to_owned(),
    );
    let served = Served::start_in(dir, &config, &["--tls-cert", &cert, "--tls-key", &key]);
    (served, server_ca)
}

#[tokio::test]
async fn mutual_tls_with_a_test_ca() {
    let ca = client_ca("o2dms clients CA");
    let other_ca = client_ca("another CA");
    let auth = "  auth:\n    clientCa: {CA}\n    clients:\n      - name: smo-mtls\n        subject: smo.example.net\n        scope: write\n        deploymentManagers: [lab]\n";
    let (mut served, server_ca) = serve_mtls(auth, &ca.pem());
    let lab = served.url("/o2dms/v1/deploymentManagers/lab/deployments");
    let empty = served.url("/o2dms/v1/deploymentManagers/empty/deployments");

    // a certificate from the CA for the configured subject: write on lab
    let smo = client_identity(&ca, "smo", "smo.example.net");
    let http = tls_client(&server_ca, Some(&smo));
    let created = http
        .post(&lab)
        .header("content-type", "application/json")
        .header("prefer", "wait=10")
        .body(json!({"namespace": "ran", "name": "du-1", "package": "web@0.1.0"}).to_string())
        .send()
        .await
        .expect("create over mutual TLS");
    assert_eq!(created.status().as_u16(), 201);
    assert_eq!(
        status_of(&http, reqwest::Method::GET, &empty, None).await,
        403
    );

    // the remote adapter with the same identity
    let remote = o2dms_remote::RemoteAdapter::builder(served.url("/lab"))
        .root_certificate_pem(server_ca.clone())
        .client_identity_pem(smo.clone())
        .connect()
        .await
        .expect("the remote adapter connects with its certificate");
    let id = o2dms_core::DeploymentId::new("ran", "du-1").expect("id");
    let got = o2dms_core::DmsAdapter::get_deployment(&remote, &id)
        .await
        .expect("get");
    assert_eq!(got.revision, 1);

    // a certificate from the CA that no client matches: 401
    let stranger = tls_client(
        &server_ca,
        Some(&client_identity(&ca, "intruder", "intruder.example.net")),
    );
    assert_eq!(
        status_of(&stranger, reqwest::Method::GET, &lab, None).await,
        401
    );

    // no certificate (they are optional): 401, and the remote adapter says why
    let anonymous = tls_client(&server_ca, None);
    let res = anonymous.get(&lab).send().await.expect("get");
    assert_eq!(res.status().as_u16(), 401);
    assert_eq!(res.headers()["www-authenticate"], "Bearer realm=\"o2dms\"");
    let err = o2dms_remote::RemoteAdapter::builder(served.url("/lab"))
        .root_certificate_pem(server_ca.clone())
        .connect()
        .await
        .expect_err("no credentials");
    assert_eq!(err.kind(), o2dms_core::ErrorKind::PermissionDenied, "{err}");
    assert!(err.to_string().contains("client_identity_pem"), "{err}");

    // a certificate from another CA: the handshake fails
    let foreign = tls_client(
        &server_ca,
        Some(&client_identity(&other_ca, "smo", "smo.example.net")),
    );
    let err = foreign
        .get(&lab)
        .send()
        .await
        .expect_err("an unknown issuer must fail");
    let why = chain(&err).to_lowercase();
    assert!(!why.is_empty(), "{why}");

    // the server went on
    assert_eq!(
        status_of(&http, reqwest::Method::GET, &lab, None).await,
        200
    );
    let (status, stderr) = served.terminate();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("TLS handshake failed"), "{stderr}");
    assert!(
        !stderr.contains("smo.example.net"),
        "certificate names in the logs:\n{stderr}"
    );
}

#[tokio::test]
async fn required_client_certificates_fail_the_handshake_without_one() {
    let ca = client_ca("o2dms clients CA");
    let dir = tempfile::tempdir().expect("tempdir");
    let token = secret_file(dir.path(), "token", SMO_TOKEN, 0o600);
    let auth = format!(
        "  auth:\n    clientCa: {{CA}}\n    clientCertificates: required\n    tokens:\n      - {{name: smo, file: {token}, scope: read}}\n"
    );
    let (mut served, server_ca) = serve_mtls(&auth, &ca.pem());
    let url = served.url("/o2dms/v1/deploymentManagers");

    let err = tls_client(&server_ca, None)
        .get(&url)
        .header("authorization", format!("Bearer {SMO_TOKEN}"))
        .send()
        .await
        .expect_err("no certificate: no handshake");
    assert!(!chain(&err).is_empty());
    // a certificate from the CA opens the connection; no client is configured, so the
    // token decides
    let http = tls_client(
        &server_ca,
        Some(&client_identity(&ca, "any", "any.example.net")),
    );
    assert_eq!(
        status_of(&http, reqwest::Method::GET, &url, None).await,
        401
    );
    assert_eq!(
        status_of(&http, reqwest::Method::GET, &url, Some(SMO_TOKEN)).await,
        200
    );
    let (status, stderr) = served.terminate();
    assert_eq!(status.code(), Some(0), "{stderr}");
    drop(dir);
}
