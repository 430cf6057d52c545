//! Debian's `docker-registry` (CNCF distribution): an OCI registry on loopback, with
//! storage in a temporary directory and deletes enabled.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::start::start_on_free_port;
use crate::error::{ClusterError, Result};
use crate::process::ManagedProcess;
use crate::tools::{ProvisionOptions, Provisioner};

/// How long one attempt waits for the first HTTP answer.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// Debian's `docker-registry` with storage in a temporary directory and deletes enabled,
/// on a free loopback port. Dropping it stops the registry by its pid, then removes its
/// directory (and those given to [`Registry::keep`]).
#[derive(Debug)]
pub struct Registry {
    port: u16,
    // Declared before the directories: the process stops before they are removed.
    process: ManagedProcess,
    _dir: tempfile::TempDir,
    keep: Vec<tempfile::TempDir>,
    /// The private CA of a TLS registry, PEM.
    ca_pem: Option<String>,
}

/// How [`Registry::start_with`] secures a registry: htpasswd basic auth, TLS with a
/// certificate from a fresh private CA, both or neither. `Debug` never shows the
/// password.
#[derive(Clone, Default)]
pub struct RegistryOptions {
    basic_auth: Option<(String, String)>,
    tls: bool,
}

impl std::fmt::Debug for RegistryOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryOptions")
            .field(
                "basic_auth",
                &self
                    .basic_auth
                    .as_ref()
                    .map(|(user, _)| (user, "<redacted>")),
            )
            .field("tls", &self.tls)
            .finish()
    }
}

impl RegistryOptions {
    /// Plain HTTP, anonymous.
    pub fn new() -> Self {
        RegistryOptions::default()
    }

    /// Require basic auth as `user` / `password` (an htpasswd file with a bcrypt hash);
    /// anonymous requests get 401.
    pub fn basic_auth(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.basic_auth = Some((user.into(), password.into()));
        self
    }

    /// Serve HTTPS with a certificate for 127.0.0.1 and localhost signed by a fresh
    /// private CA ([`Registry::ca_pem`]); clients that do not trust it fail verification.
    pub fn tls(mut self) -> Self {
        self.tls = true;
        self
    }
}

impl Registry {
    /// A plain-HTTP registry without authentication.
    pub fn start() -> Result<Registry> {
        Registry::start_configured("", |_| String::new())
    }

    /// A registry secured as `options` say (see [`RegistryOptions`]). The CA, key and
    /// htpasswd files live in a directory removed with the registry.
    pub fn start_with(options: &RegistryOptions) -> Result<Registry> {
        use std::os::unix::fs::PermissionsExt as _;
        let secrets = tempfile::Builder::new()
            .prefix("o2dms-registry-secrets-")
            .tempdir()
            .map_err(|e| ClusterError::io("creating the registry's secrets directory", e))?;
        let write = |name: &str, text: &str| -> Result<std::path::PathBuf> {
            let path = secrets.path().join(name);
            std::fs::write(&path, text)
                .and_then(|_| {
                    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                })
                .map_err(|e| ClusterError::io(format!("writing {}", path.display()), e))?;
            Ok(path)
        };
        let mut http_extra = String::new();
        let mut ca_pem = None;
        if options.tls {
            let (ca, cert, key) =
                crate::certs::private_ca_and_loopback_cert("o2dms test registry CA")?;
            let cert = write("server.pem", &cert)?;
            let key = write("server.key", &key)?;
            http_extra = format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                cert.display(),
                key.display()
            );
            ca_pem = Some(ca);
        }
        let mut auth = String::new();
        if let Some((user, password)) = &options.basic_auth {
            let hash = bcrypt::hash(password, 4)
                .map_err(|e| ClusterError::Config(format!("hashing the registry password: {e}")))?;
            let file = write("htpasswd", &format!("{user}:{hash}\n"))?;
            auth = format!(
                "auth:\n  htpasswd:\n    realm: o2dms-test\n    path: {}\n",
                file.display()
            );
        }
        let mut registry = Registry::start_configured(&http_extra, |_| auth)?.keep(secrets);
        registry.ca_pem = ca_pem;
        Ok(registry)
    }

    /// A registry whose `config.yml` gets `http_extra` appended to its `http:` section
    /// (indented by two spaces, e.g. a `tls:` block) and `auth(dir)` appended at the top
    /// level (an `auth:` section; `dir` is the registry's own temporary directory, for
    /// files such as an htpasswd).
    ///
    /// The binary comes from [`Provisioner::docker_registry`] (`PATH`, else `apt-get` as
    /// root). If no attempt comes up, the directory is kept and the error names the log.
    pub fn start_configured(
        http_extra: &str,
        auth: impl FnOnce(&Path) -> String,
    ) -> Result<Registry> {
        let bin = Provisioner::new(ProvisionOptions::default()).docker_registry()?;
        let dir = tempfile::Builder::new()
            .prefix("o2dms-registry-")
            .tempdir()
            .map_err(|e| ClusterError::io("creating the registry's directory", e))?;
        let storage = dir.path().join("storage");
        std::fs::create_dir_all(&storage)
            .map_err(|e| ClusterError::io(format!("creating {}", storage.display()), e))?;
        let config = dir.path().join("config.yml");
        let log = dir.path().join("registry.log");
        let auth = auth(dir.path());
        let started = start_on_free_port("/v2/", START_TIMEOUT, |port| {
            let text = format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n{http_extra}{auth}",
                storage.display(),
            );
            std::fs::write(&config, text)
                .map_err(|e| ClusterError::io(format!("writing {}", config.display()), e))?;
            ManagedProcess::spawn(
                "docker-registry",
                Command::new(&bin).arg("serve").arg(&config),
                Some(&log),
            )
        });
        match started {
            Ok((port, process)) => Ok(Registry {
                port,
                process,
                _dir: dir,
                keep: Vec::new(),
                ca_pem: None,
            }),
            Err(e) => {
                // The error names the log: keep it for a post-mortem.
                let kept = dir.keep();
                tracing::warn!(dir = %kept.display(), "docker-registry did not start; its directory is kept");
                Err(e)
            }
        }
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
        self.process.pid()
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The private CA certificate (PEM) of a registry started with
    /// [`RegistryOptions::tls`]; None for plain HTTP.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// `https://127.0.0.1:PORT` with TLS, else `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        let scheme = if self.ca_pem.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr())
    }
}
