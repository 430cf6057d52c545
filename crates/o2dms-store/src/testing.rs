//! Real servers for tests and for `cargo xtask conformance --store repo|oci` (feature
//! `testing`): a static HTTP server (`python3 -m http.server`) over a chart repository
//! directory and Debian's `docker-registry` (CNCF distribution), each on a free port of
//! 127.0.0.1, each stopped by its own pid (SIGKILL, then reaped) when its guard drops,
//! also when the caller fails or panics.
//!
//! Everything here is blocking (`std::process`, short sleeps while a server comes up):
//! call it before starting a runtime, or from `spawn_blocking`.
//!
//! ```no_run
//! use o2dms_store::testing::Registry;
//! let registry = Registry::start().map_err(|e| format!("no registry: {e}"))?;
//! println!("push to oci://{}/charts", registry.addr());
//! # Ok::<(), String>(())
//! ```

use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process killed (by its pid) and reaped when dropped.
#[derive(Debug)]
pub struct ProcessGuard {
    name: &'static str,
    child: Child,
}

impl ProcessGuard {
    /// Takes ownership of `child`, named `name` in messages.
    pub fn new(name: &'static str, child: Child) -> Self {
        ProcessGuard { name, child }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The name given at start.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Whether the process has exited (and how).
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

impl Drop for ProcessGuard {
    fn drop(&mut self) {
        // `Child::kill` signals this child's pid only, never a process group.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port that was free a moment ago on 127.0.0.1 (callers retry on a lost race).
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Waits until `GET path` on 127.0.0.1:`port` gets any HTTP answer; false if the process
/// exits first or `timeout` passes.
pub fn wait_http(port: u16, path: &str, guard: &mut ProcessGuard, timeout: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if let Some(status) = guard.exited() {
            tracing::warn!(process = guard.name, %status, "exited before it answered");
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

/// `python3 -m http.server` serving a directory on a free loopback port.
#[derive(Debug)]
pub struct StaticServer {
    port: u16,
    guard: ProcessGuard,
}

impl StaticServer {
    /// Serves `dir` (bound to 127.0.0.1 only). Needs `python3` on PATH.
    pub fn start(dir: &Path) -> Result<StaticServer, String> {
        for _ in 0..5 {
            let port = free_port().map_err(|e| format!("finding a free port: {e}"))?;
            let child = Command::new("python3")
                .args(["-m", "http.server", "--bind", "127.0.0.1", "--directory"])
                .arg(dir)
                .arg(port.to_string())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| {
                    format!("starting `python3 -m http.server` (is python3 installed?): {e}")
                })?;
            let mut guard = ProcessGuard::new("python3 http.server", child);
            if wait_http(port, "/", &mut guard, Duration::from_secs(15)) {
                return Ok(StaticServer { port, guard });
            }
        }
        Err("python3 http.server did not start".to_string())
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's pid.
    pub fn pid(&self) -> u32 {
        self.guard.pid()
    }

    /// `http://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin")])
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn apt_install(package: &str) -> bool {
    Command::new("apt-get")
        .args(["install", "-y", package])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdin(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Debian's `docker-registry` binary; installed with `apt-get` when missing and running
/// as root (after an `apt-get update` if the first attempt fails).
pub fn registry_binary() -> Result<PathBuf, String> {
    if let Some(p) = which("docker-registry") {
        return Ok(p);
    }
    if !is_root() {
        return Err(
            "Debian's `docker-registry` package is needed; install it with \
             `sudo apt-get install -y docker-registry` (not running as root, so it was not \
             installed automatically)"
                .to_string(),
        );
    }
    tracing::info!("installing docker-registry with apt-get");
    if !apt_install("docker-registry") {
        let _ = Command::new("apt-get")
            .arg("update")
            .stdin(Stdio::null())
            .status();
        if !apt_install("docker-registry") {
            return Err("apt-get install -y docker-registry failed".to_string());
        }
    }
    which("docker-registry").ok_or_else(|| "docker-registry not on PATH after install".to_string())
}

/// Debian's `docker-registry` with storage in a temporary directory and deletes
/// enabled, on a free loopback port.
#[derive(Debug)]
pub struct Registry {
    port: u16,
    guard: ProcessGuard,
    _dir: tempfile::TempDir,
    keep: Vec<tempfile::TempDir>,
}

impl Registry {
    /// A plain-HTTP registry without authentication.
    pub fn start() -> Result<Registry, String> {
        Registry::start_configured("", |_| String::new())
    }

    /// A registry whose `config.yml` gets `http_extra` appended to its `http:` section
    /// (indented by two spaces, e.g. a `tls:` block) and `auth(dir)` appended at the top
    /// level (an `auth:` section; `dir` is the registry's own temporary directory, for
    /// files such as an htpasswd).
    pub fn start_configured(
        http_extra: &str,
        auth: impl Fn(&Path) -> String,
    ) -> Result<Registry, String> {
        let bin = registry_binary()?;
        let mut last_log = String::new();
        for _ in 0..5 {
            let dir = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
            let port = free_port().map_err(|e| format!("finding a free port: {e}"))?;
            let config = dir.path().join("config.yml");
            let storage = dir.path().join("storage");
            std::fs::create_dir_all(&storage).map_err(|e| format!("{}: {e}", storage.display()))?;
            let text = format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n{http_extra}",
                storage.display(),
            ) + &auth(dir.path());
            std::fs::write(&config, text).map_err(|e| format!("{}: {e}", config.display()))?;
            let log_path = dir.path().join("registry.log");
            let log = std::fs::File::create(&log_path)
                .map_err(|e| format!("{}: {e}", log_path.display()))?;
            let log2 = log.try_clone().map_err(|e| format!("registry log: {e}"))?;
            let child = Command::new(&bin)
                .arg("serve")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(log2)
                .stderr(log)
                .spawn()
                .map_err(|e| format!("starting {}: {e}", bin.display()))?;
            let mut guard = ProcessGuard::new("docker-registry", child);
            if wait_http(port, "/v2/", &mut guard, Duration::from_secs(20)) {
                return Ok(Registry {
                    port,
                    guard,
                    _dir: dir,
                    keep: Vec::new(),
                });
            }
            drop(guard);
            last_log.clear();
            let _ =
                std::fs::File::open(&log_path).and_then(|mut f| f.read_to_string(&mut last_log));
            tracing::warn!(port, log = %last_log, "docker-registry did not start; retrying");
        }
        Err(format!("docker-registry did not start:\n{last_log}"))
    }

    /// Keeps `dir` alive as long as the registry (files its configuration refers to).
    pub fn keep(mut self, dir: tempfile::TempDir) -> Registry {
        self.keep.push(dir);
        self
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The registry's pid.
    pub fn pid(&self) -> u32 {
        self.guard.pid()
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}
