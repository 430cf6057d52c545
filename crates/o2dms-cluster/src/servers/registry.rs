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
}

impl Registry {
    /// A plain-HTTP registry without authentication.
    pub fn start() -> Result<Registry> {
        Registry::start_configured("", |_| String::new())
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
}
