//! Test support: fixture charts, real servers on loopback (started on free ports, killed
//! by pid when the guard drops, also when a test fails), and locating helm.

#![allow(dead_code, missing_docs)]

pub mod token;

use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A tiny valid chart archive: `<name>/Chart.yaml`, `values.yaml`, one template.
/// `salt` changes the content (and so the digest) without changing name or version.
pub fn chart_tgz(name: &str, version: &str, salt: &str) -> Vec<u8> {
    let chart_yaml = format!(
        "apiVersion: v2\nname: {name}\nversion: {version}\nappVersion: \"1.0.{}\"\ndescription: Fixture chart {name} {salt}\ntype: application\n",
        salt.len()
    );
    let values = format!("replicaCount: 1\nsalt: \"{salt}\"\n");
    let template = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\ndata:\n  salt: {{ .Values.salt | quote }}\n";
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::default(),
    ));
    for (path, body) in [
        ("Chart.yaml", chart_yaml.as_str()),
        ("values.yaml", values.as_str()),
        ("templates/cm.yaml", template),
    ] {
        let mut header = tar::Header::new_gnu();
        header.set_size(body.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(1_700_000_000);
        header.set_entry_type(tar::EntryType::Regular);
        builder
            .append_data(&mut header, format!("{name}/{path}"), body.as_bytes())
            .unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

/// An archive with a path-traversal entry: must be rejected.
pub fn hostile_tgz() -> Vec<u8> {
    let mut raw = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::default(),
    ));
    let body = b"apiVersion: v2\nname: evil\nversion: 1.0.0\n";
    let mut header = tar::Header::new_gnu();
    header.set_size(body.len() as u64);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    // Write the name bytes directly: the tar crate refuses `..` through set_path.
    {
        let name = b"evil/../../escape/Chart.yaml";
        let gnu = header.as_gnu_mut().unwrap();
        gnu.name[..name.len()].copy_from_slice(name);
    }
    header.set_cksum();
    raw.append(&header, &body[..]).unwrap();
    raw.into_inner().unwrap().finish().unwrap()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// A child process killed (by its pid) and reaped when dropped.
pub struct ProcessGuard {
    pub name: &'static str,
    child: Child,
}

impl ProcessGuard {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ProcessGuard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_http(port: u16, path: &str, guard: &mut ProcessGuard, timeout: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if let Ok(Some(status)) = guard.child.try_wait() {
            eprintln!("{} exited early: {status}", guard.name);
            return false;
        }
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            use std::io::Write as _;
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let _ = write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
            let mut first = String::new();
            if BufReader::new(&mut s).read_line(&mut first).is_ok() && first.starts_with("HTTP/") {
                return true;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// `python3 -m http.server` over `dir` on a free loopback port.
pub struct StaticServer {
    pub port: u16,
    pub guard: ProcessGuard,
}

impl StaticServer {
    pub fn start(dir: &Path) -> StaticServer {
        for _ in 0..5 {
            let port = free_port();
            let child = Command::new("python3")
                .args(["-m", "http.server", "--bind", "127.0.0.1", "--directory"])
                .arg(dir)
                .arg(port.to_string())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("python3 must be installed to serve the chart repository");
            let mut guard = ProcessGuard {
                name: "python3 http.server",
                child,
            };
            if wait_http(port, "/", &mut guard, Duration::from_secs(15)) {
                return StaticServer { port, guard };
            }
        }
        panic!("python3 http.server did not start");
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }
}

/// Debian's `docker-registry` (distribution), installed if missing (as root), with
/// storage in a temporary directory and deletes enabled, on a free loopback port.
pub struct Registry {
    pub port: u16,
    pub guard: ProcessGuard,
    _dir: tempfile::TempDir,
    _extra: Option<tempfile::TempDir>,
}

fn registry_binary() -> PathBuf {
    if let Ok(p) = which("docker-registry") {
        return p;
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    if !root {
        panic!(
            "the OCI tests need Debian's `docker-registry` package; install it with \
             `sudo apt-get install -y docker-registry` (not running as root, so the test cannot)"
        );
    }
    eprintln!("installing docker-registry with apt-get");
    let status = Command::new("apt-get")
        .args(["install", "-y", "docker-registry"])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .expect("run apt-get");
    if !status.success() {
        let _ = Command::new("apt-get").arg("update").status();
        let status = Command::new("apt-get")
            .args(["install", "-y", "docker-registry"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .expect("run apt-get");
        assert!(
            status.success(),
            "apt-get install -y docker-registry failed"
        );
    }
    which("docker-registry").expect("docker-registry on PATH after install")
}

fn which(name: &str) -> Result<PathBuf, ()> {
    let path = std::env::var_os("PATH").ok_or(())?;
    for dir in std::env::split_paths(&path).chain([PathBuf::from("/usr/bin")]) {
        let p = dir.join(name);
        if p.is_file() {
            return Ok(p);
        }
    }
    Err(())
}

/// TLS material for a loopback server: a test CA (PEM, to trust) and a server
/// certificate and key for 127.0.0.1 and localhost, written into `dir`.
pub struct TestTls {
    pub ca_pem: String,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TestTls {
    pub fn generate(dir: &Path) -> TestTls {
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "o2dms-store test CA");
        let ca =
            rcgen::CertifiedIssuer::self_signed(ca_params, rcgen::KeyPair::generate().unwrap())
                .unwrap();
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".into()])
            .unwrap()
            .signed_by(&leaf_key, &ca)
            .unwrap();
        let cert = dir.join("server.pem");
        let key = dir.join("server.key");
        std::fs::write(&cert, leaf.pem()).unwrap();
        std::fs::write(&key, leaf_key.serialize_pem()).unwrap();
        TestTls {
            ca_pem: ca.pem(),
            cert,
            key,
        }
    }
}

impl Registry {
    pub fn start() -> Registry {
        Registry::start_with(None, None)
    }

    /// A registry that requires bearer tokens from `tokens`.
    pub fn start_token_auth(tokens: &token::TokenServer) -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let bundle = dir.path().join("token-signer.pem");
        std::fs::write(&bundle, &tokens.cert_pem).unwrap();
        let auth = format!(
            "auth:\n  token:\n    realm: http://127.0.0.1:{}/token\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
            tokens.port,
            token::SERVICE,
            token::ISSUER,
            bundle.display()
        );
        let mut r = Registry::start_inner(None, |_| auth.clone());
        r._extra = Some(dir);
        r
    }

    /// A registry serving HTTPS with `tls`'s certificate.
    pub fn start_tls(tls: &TestTls) -> Registry {
        Registry::start_with(Some(tls), None)
    }

    /// A registry that requires basic auth (htpasswd) as `user` / `password`.
    pub fn start_basic_auth(user: &str, password: &str) -> Registry {
        Registry::start_with(None, Some((user, password)))
    }

    fn start_with(tls: Option<&TestTls>, basic: Option<(&str, &str)>) -> Registry {
        Registry::start_inner(tls, |dir| match basic {
            None => String::new(),
            Some((user, password)) => {
                let file = dir.join("htpasswd");
                let hash = bcrypt::hash(password, 4).unwrap();
                std::fs::write(&file, format!("{user}:{hash}\n")).unwrap();
                format!(
                    "auth:\n  htpasswd:\n    realm: o2dms-test\n    path: {}\n",
                    file.display()
                )
            }
        })
    }

    fn start_inner(tls: Option<&TestTls>, auth: impl Fn(&Path) -> String) -> Registry {
        let bin = registry_binary();
        for _ in 0..5 {
            let dir = tempfile::tempdir().unwrap();
            let port = free_port();
            let config = dir.path().join("config.yml");
            let storage = dir.path().join("storage");
            std::fs::create_dir_all(&storage).unwrap();
            std::fs::write(
                &config,
                format!(
                    "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n{}",
                    storage.display(),
                    tls.map(|t| format!(
                        "  tls:\n    certificate: {}\n    key: {}\n",
                        t.cert.display(),
                        t.key.display()
                    ))
                    .unwrap_or_default()
                ) + &auth(dir.path()),
            )
            .unwrap();
            let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
            let child = Command::new(&bin)
                .arg("serve")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .expect("start docker-registry");
            let mut guard = ProcessGuard {
                name: "docker-registry",
                child,
            };
            if wait_http(port, "/v2/", &mut guard, Duration::from_secs(20)) {
                return Registry {
                    port,
                    guard,
                    _dir: dir,
                    _extra: None,
                };
            }
            let mut log = String::new();
            let _ = std::fs::File::open(dir.path().join("registry.log"))
                .and_then(|mut f| f.read_to_string(&mut log));
            eprintln!("docker-registry did not start on {port}:\n{log}");
        }
        panic!("docker-registry did not start");
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

/// helm for the cross-checks, from (first found) `O2DMS_HELM`, `O2DMS_HELM4`,
/// `O2DMS_HELM3`, PATH, or the tools `cargo xtask cluster provision` caches in
/// `${XDG_CACHE_HOME:-~/.cache}/o2dms/bin/helm-v*/helm`. None, with the reason printed,
/// if there is none: only the helm cross-check is then skipped.
pub fn helm() -> Option<PathBuf> {
    for var in ["O2DMS_HELM", "O2DMS_HELM4", "O2DMS_HELM3"] {
        if let Some(p) = std::env::var_os(var) {
            let p = PathBuf::from(p);
            if p.is_file() {
                eprintln!("helm cross-check uses {var}={}", p.display());
                return Some(p);
            }
            eprintln!("{var}={} is not a file; ignored", p.display());
        }
    }
    if let Ok(p) = which("helm") {
        eprintln!("helm cross-check uses {}", p.display());
        return Some(p);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")));
    if let Some(bin) = cache.map(|c| c.join("o2dms/bin")) {
        let mut found: Vec<PathBuf> = std::fs::read_dir(&bin)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("helm-v"))
            .map(|e| e.path().join("helm"))
            .filter(|p| p.is_file())
            .collect();
        found.sort();
        if let Some(p) = found.pop() {
            eprintln!("helm cross-check uses the provisioned {}", p.display());
            return Some(p);
        }
    }
    eprintln!(
        "SKIPPING the helm cross-check only: no helm (set O2DMS_HELM, put helm on PATH, \
         or run `cargo xtask cluster provision`)"
    );
    None
}

/// Runs helm with its config, cache and data in `home`; panics with its output on failure.
pub fn run_helm(helm: &Path, home: &Path, args: &[&str]) -> String {
    let out = Command::new(helm)
        .args(args)
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_DATA_HOME", home.join("data"))
        .env("HELM_REGISTRY_CONFIG", home.join("registry.json"))
        .stdin(Stdio::null())
        .output()
        .expect("run helm");
    assert!(
        out.status.success(),
        "helm {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
