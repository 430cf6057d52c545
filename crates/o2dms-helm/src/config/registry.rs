//! [`RegistryConfig`]: an OCI registry as a package store (`registry`), its credentials
//! and CAs, and the [`OciStore`] built from it.
//!
//! Secrets are never in the settings themselves: the password and the token are read
//! from files (`passwordFile`, `tokenFile`) or from a docker `config.json`
//! (`configFile`) when the adapter connects, so the settings (and their `Debug`, and the
//! configuration file) hold paths only. Errors name the setting and the file, never the
//! content.

use std::path::{Path, PathBuf};

use o2dms_core::{Error, Result};
use o2dms_store::{Credentials, OciOptions, OciStore, PlainHttp, TransportOptions};
use serde::Deserialize;

/// Largest secret or CA file read.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// An OCI registry as a package store (the `registry` block; ids `oci:name@version`).
///
/// The adapter fetches each chart it installs from the registry by the digest of its
/// chart layer, validates it like an upload, and gives helm the validated file (see
/// `o2dms_store::OciStore`): helm never talks to the registry and gets no credentials.
///
/// ```
/// use o2dms_helm::{HelmConfig, RegistryConfig};
///
/// let mut registry = RegistryConfig::new("registry.example.com:5000");
/// registry.namespace = "charts".into();
/// registry.username = Some("o2dms".into());
/// registry.password_file = Some("/run/secrets/registry-password".into());
/// registry.ca_files = vec!["/etc/o2dms/registry-ca.pem".into()];
/// let config = HelmConfig::builder().registry(registry).build()?;
/// assert!(config.registry.is_some());
/// # Ok::<(), o2dms_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "camelCase",
    expecting = "the OCI registry's settings (a mapping with at least `url`)"
)]
#[non_exhaustive]
pub struct RegistryConfig {
    /// The registry (`url`): `host[:port]` or `https://host[:port]` (HTTPS), or
    /// `http://host[:port]` for plain HTTP, allowed to a loopback host, or anywhere with
    /// `plainHttp: true`. No path, no credentials.
    pub url: String,
    /// The repository path charts live under (`namespace`, e.g. `charts` for
    /// `oci://host/charts/NAME`); empty (the default) for the registry's root.
    #[serde(default)]
    pub namespace: String,
    /// Chart names to list (`charts`): a registry may not list its repositories.
    #[serde(default)]
    pub charts: Vec<String>,
    /// Also list the repositories the registry's `/v2/_catalog` names under the
    /// namespace (`useCatalog`, default false).
    #[serde(default)]
    pub use_catalog: bool,
    /// Uploads go to the registry (`uploads: true`) instead of the local package
    /// directory (the default).
    #[serde(default)]
    pub uploads: bool,
    /// The id prefix (`idPrefix`), `oci` if unset (`oci:name@version`).
    #[serde(default)]
    pub id_prefix: Option<String>,
    /// A docker `config.json` (`configFile`; as `docker login` or `helm registry login`
    /// write it) whose `auths` entry for the registry's host gives the credentials:
    /// `auth` or `username`/`password`, `identitytoken` (exchanged for bearer tokens),
    /// or `registrytoken` (sent as a bearer token). Credential helpers are not run.
    pub config_file: Option<PathBuf>,
    /// The username (`username`), with `passwordFile`.
    pub username: Option<String>,
    /// A file holding the password (`passwordFile`; one trailing newline is dropped).
    pub password_file: Option<PathBuf>,
    /// A file holding a bearer token sent as it is (`tokenFile`), instead of a username
    /// and password.
    pub token_file: Option<PathBuf>,
    /// PEM files of extra CAs to trust for the registry and its token service
    /// (`caFiles`), besides the bundled web PKI roots.
    #[serde(default)]
    pub ca_files: Vec<PathBuf>,
    /// Accept any certificate, unverified (`insecureSkipTlsVerify`, default false). For
    /// tests only: anyone on the path can read the credentials and change the charts
    /// (they are still validated before an install).
    #[serde(default)]
    pub insecure_skip_tls_verify: bool,
    /// Allow `http://` to a host that is not loopback (`plainHttp`, default false):
    /// credentials and charts travel unencrypted.
    #[serde(default)]
    pub plain_http: bool,
}

impl RegistryConfig {
    /// The registry at `url`, anonymous, charts at its root, with every other setting at
    /// its default.
    pub fn new(url: impl Into<String>) -> Self {
        RegistryConfig {
            url: url.into(),
            namespace: String::new(),
            charts: Vec::new(),
            use_catalog: false,
            uploads: false,
            id_prefix: None,
            config_file: None,
            username: None,
            password_file: None,
            token_file: None,
            ca_files: Vec::new(),
            insecure_skip_tls_verify: false,
            plain_http: false,
        }
    }

    fn plain_http_policy(&self) -> PlainHttp {
        if self.plain_http {
            PlainHttp::Always
        } else {
            PlainHttp::LoopbackOnly
        }
    }

    /// Checks the settings without reading any file; errors name `registry.<key>`.
    pub(crate) fn validate(&self) -> Result<()> {
        OciStore::check_location(&self.url, &self.namespace, self.plain_http_policy()).map_err(
            |e| match e {
                Error::InvalidArgument { field, reason, .. } => {
                    let key = if field == "namespace" {
                        "namespace"
                    } else {
                        "url"
                    };
                    // The URL may hold credentials: never quote it.
                    Error::invalid(
                        format!("registry.{key}"),
                        reason.replace(self.url.as_str(), "<registry.url>"),
                    )
                }
                other => other,
            },
        )?;
        for (field, path) in [
            ("registry.configFile", &self.config_file),
            ("registry.passwordFile", &self.password_file),
            ("registry.tokenFile", &self.token_file),
        ] {
            if path.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
                return Err(Error::invalid(field, "must not be empty when set"));
            }
        }
        if self.ca_files.iter().any(|p| p.as_os_str().is_empty()) {
            return Err(Error::invalid(
                "registry.caFiles",
                "paths must not be empty",
            ));
        }
        if self.username.as_deref() == Some("") {
            return Err(Error::invalid(
                "registry.username",
                "must not be empty when set",
            ));
        }
        match (&self.username, &self.password_file) {
            (Some(_), None) => {
                return Err(Error::invalid(
                    "registry.passwordFile",
                    "is required with username",
                ))
            }
            (None, Some(_)) => {
                return Err(Error::invalid(
                    "registry.username",
                    "is required with passwordFile",
                ))
            }
            _ => {}
        }
        let sources = usize::from(self.config_file.is_some())
            + usize::from(self.username.is_some())
            + usize::from(self.token_file.is_some());
        if sources > 1 {
            return Err(Error::invalid(
                "registry",
                "give at most one of configFile, username with passwordFile, and tokenFile",
            ));
        }
        Ok(())
    }

    /// The registry's `host[:port]`, as a docker config names it.
    fn host(&self) -> String {
        let rest = self
            .url
            .split_once("://")
            .map_or(self.url.as_str(), |(_, rest)| rest);
        rest.trim_end_matches('/').to_string()
    }

    /// The credentials, read from their files now.
    fn credentials(&self) -> Result<Credentials> {
        if let Some(path) = &self.config_file {
            return Credentials::from_docker_config(path, &self.host())
                .map_err(|e| renamed(e, "registry.configFile"));
        }
        if let (Some(username), Some(path)) = (&self.username, &self.password_file) {
            let password = read_secret(path, "registry.passwordFile")?;
            return Ok(Credentials::basic(username.clone(), password));
        }
        if let Some(path) = &self.token_file {
            return Ok(Credentials::bearer(read_secret(
                path,
                "registry.tokenFile",
            )?));
        }
        Ok(Credentials::Anonymous)
    }

    /// The store: credentials and CAs read from their files, validated charts and pins
    /// kept in `cache_dir`. Errors name `registry.<key>`.
    pub(crate) fn store(&self, cache_dir: PathBuf) -> Result<OciStore> {
        self.validate()?;
        let mut roots = Vec::new();
        for path in &self.ca_files {
            roots.push(read_bounded(path, "registry.caFiles")?);
        }
        let mut options = OciOptions {
            transport: TransportOptions {
                plain_http: self.plain_http_policy(),
                extra_roots_pem: roots,
                credentials: self.credentials()?,
                insecure_skip_tls_verify: self.insecure_skip_tls_verify,
                ..TransportOptions::default()
            },
            charts: self.charts.clone(),
            use_catalog: self.use_catalog,
            cache_dir: Some(cache_dir),
            ..OciOptions::default()
        };
        if let Some(prefix) = &self.id_prefix {
            options.id_prefix = prefix.clone();
        }
        OciStore::new(&self.url, &self.namespace, options).map_err(|e| match e {
            Error::InvalidArgument { field, reason, .. } => {
                let key = match field.as_str() {
                    "extra_roots_pem" => "caFiles",
                    "id_prefix" => "idPrefix",
                    "charts" => "charts",
                    "namespace" => "namespace",
                    _ => "url",
                };
                Error::invalid(
                    format!("registry.{key}"),
                    reason.replace(self.url.as_str(), "<registry.url>"),
                )
            }
            other => other,
        })
    }
}

/// `e` with its InvalidArgument field replaced by `field`.
fn renamed(e: Error, field: &str) -> Error {
    match e {
        Error::InvalidArgument { reason, .. } => Error::invalid(field, reason),
        other => other,
    }
}

/// A file's bytes, at most [`MAX_FILE_BYTES`]; errors name `field` and the path.
fn read_bounded(path: &Path, field: &str) -> Result<Vec<u8>> {
    use std::io::Read as _;
    let shown = path.display();
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| Error::invalid(field, format!("cannot read {shown}: {e}")))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Error::invalid(
            field,
            format!("{shown} is larger than {MAX_FILE_BYTES} bytes"),
        ));
    }
    Ok(bytes)
}

/// A secret from a file: UTF-8, trailing line ending dropped, not empty. Warns when the
/// file is readable by others. Errors never show the content.
fn read_secret(path: &Path, field: &str) -> Result<String> {
    use std::os::unix::fs::PermissionsExt as _;
    let bytes = read_bounded(path, field)?;
    if std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0) {
        tracing::warn!(setting = field, file = %path.display(), "the secret file is readable by other users; make it 0600");
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::invalid(field, format!("{} is not UTF-8", path.display())))?;
    let secret = text.trim_end_matches(['\n', '\r']);
    if secret.is_empty() || secret.contains(['\n', '\r']) {
        return Err(Error::invalid(
            field,
            format!("{} must hold one non-empty line", path.display()),
        ));
    }
    Ok(secret.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(r: &RegistryConfig) -> String {
        match r.validate() {
            Err(Error::InvalidArgument { field, .. }) => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn settings_are_checked_naming_the_key() {
        assert!(RegistryConfig::new("registry.example.com")
            .validate()
            .is_ok());
        assert!(RegistryConfig::new("http://127.0.0.1:5000")
            .validate()
            .is_ok());
        assert_eq!(
            field(&RegistryConfig::new("http://registry.example.com")),
            "registry.url"
        );
        let mut plain = RegistryConfig::new("http://registry.example.com");
        plain.plain_http = true;
        assert!(plain.validate().is_ok());
        let mut r = RegistryConfig::new("https://user:pw-in-url@registry.example.com");
        match r.validate() {
            Err(Error::InvalidArgument { field, reason }) => {
                assert_eq!(field, "registry.url");
                assert!(!reason.contains("pw-in-url"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        r = RegistryConfig::new("registry.example.com");
        r.namespace = "Bad Path".into();
        assert_eq!(field(&r), "registry.namespace");
        r = RegistryConfig::new("registry.example.com");
        r.username = Some("u".into());
        assert_eq!(field(&r), "registry.passwordFile");
        r.username = None;
        r.password_file = Some("/p".into());
        assert_eq!(field(&r), "registry.username");
        r.username = Some("u".into());
        r.token_file = Some("/t".into());
        assert_eq!(field(&r), "registry");
        r = RegistryConfig::new("registry.example.com");
        r.ca_files = vec![PathBuf::new()];
        assert_eq!(field(&r), "registry.caFiles");
    }

    #[test]
    fn read_from_the_configuration_file() {
        let yaml = |block: &str| {
            format!(
                "plugins:\n  dms:\n    - name: helm\n      type: helm\n      config:\n        registry:\n{block}"
            )
        };
        let file = o2dms_config::Config::from_yaml_str(&yaml(
            "          url: registry.example.com:5000\n          namespace: charts\n          uploads: true\n          username: o2dms\n          passwordFile: /run/secrets/pw\n          caFiles: [/etc/ca.pem]\n",
        ))
        .unwrap();
        let config = crate::HelmConfig::from_plugin(file.select(None).unwrap()).unwrap();
        let r = config.registry.unwrap();
        assert_eq!(r.url, "registry.example.com:5000");
        assert_eq!(r.namespace, "charts");
        assert!(r.uploads && !r.insecure_skip_tls_verify && !r.plain_http);
        assert_eq!(r.password_file, Some(PathBuf::from("/run/secrets/pw")));
        assert_eq!(r.ca_files, [PathBuf::from("/etc/ca.pem")]);
        // an inline password is not a setting; a bad URL is named with its key path
        for (block, key) in [
            (
                "          url: r.example\n          password: hunter2\n",
                "registry",
            ),
            ("          url: http://r.example\n", "registry.url"),
        ] {
            let file = o2dms_config::Config::from_yaml_str(&yaml(block)).unwrap();
            match crate::HelmConfig::from_plugin(file.select(None).unwrap()) {
                Err(e) => {
                    let text = e.to_string();
                    assert!(text.contains(key), "{text}");
                    assert!(!text.contains("hunter2"), "{text}");
                }
                Ok(c) => panic!("{c:?}"),
            }
        }
    }

    #[test]
    fn secrets_come_from_files_and_are_never_shown() {
        let dir = tempfile::tempdir().unwrap();
        let pw = dir.path().join("pw");
        std::fs::write(&pw, "s3cret-pw\n").unwrap();
        let mut r = RegistryConfig::new("http://127.0.0.1:5000");
        r.username = Some("o2dms".into());
        r.password_file = Some(pw.clone());
        assert_eq!(
            r.credentials().unwrap(),
            Credentials::basic("o2dms", "s3cret-pw")
        );
        let store = r.store(dir.path().join("cache")).unwrap();
        let shown = format!("{r:?} {store:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        // empty or multi-line secret files, missing files: named, content never shown
        std::fs::write(&pw, "\n").unwrap();
        assert!(
            matches!(r.credentials(), Err(Error::InvalidArgument { ref field, .. }) if field == "registry.passwordFile")
        );
        std::fs::write(&pw, "s3cret-a\ns3cret-b\n").unwrap();
        match r.credentials() {
            Err(Error::InvalidArgument { field, reason }) => {
                assert_eq!(field, "registry.passwordFile");
                assert!(!reason.contains("s3cret"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        r.password_file = Some(dir.path().join("missing"));
        assert!(r.credentials().is_err());
        // a token file, a docker config
        let token = dir.path().join("token");
        std::fs::write(&token, "tok-123").unwrap();
        let mut t = RegistryConfig::new("http://127.0.0.1:5000");
        t.token_file = Some(token);
        assert_eq!(t.credentials().unwrap(), Credentials::bearer("tok-123"));
        let docker = dir.path().join("config.json");
        std::fs::write(
            &docker,
            r#"{"auths": {"127.0.0.1:5000": {"username": "d", "password": "s3cret-d"}}}"#,
        )
        .unwrap();
        let mut d = RegistryConfig::new("http://127.0.0.1:5000");
        d.config_file = Some(docker);
        assert_eq!(
            d.credentials().unwrap(),
            Credentials::basic("d", "s3cret-d")
        );
        d.url = "http://127.0.0.1:5001".into();
        match d.credentials() {
            Err(Error::InvalidArgument { field, reason }) => {
                assert_eq!(field, "registry.configFile");
                assert!(reason.contains("127.0.0.1:5001"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        // a CA file that is not PEM
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, "not a certificate").unwrap();
        let mut c = RegistryConfig::new("http://127.0.0.1:5000");
        c.ca_files = vec![ca];
        assert!(
            matches!(c.store(dir.path().join("c")), Err(Error::InvalidArgument { ref field, .. }) if field == "registry.caFiles")
        );
    }
}
