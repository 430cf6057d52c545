//! Credentials of the remote stores, and reading them from a docker `config.json` (the
//! file `docker login`, `helm registry login` and `oras login` write).
//!
//! Secrets never appear in `Debug` output, in errors or in logs: `Debug` is written by
//! hand, and errors about a config file name the file and the entry, never a value (a
//! JSON syntax error gives its line and column only, since serde's message may quote the
//! text around it).

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine as _;
use o2dms_core::{Error, Result};
use serde::Deserialize;

/// Largest docker config file read.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// Credentials for a remote store (a registry or a chart repository).
///
/// `Debug` never shows a password or token:
///
/// ```
/// use o2dms_store::Credentials;
/// let c = Credentials::basic("o2dms", "s3cret");
/// assert_eq!(format!("{c:?}"), r#"Basic { username: "o2dms", password: <redacted> }"#);
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credentials {
    /// No credentials. A registry may still hand out anonymous bearer tokens.
    #[default]
    Anonymous,
    /// Username and password: sent as HTTP basic auth, and to a registry's token service
    /// (the realm of its `WWW-Authenticate: Bearer` challenge) to obtain bearer tokens.
    Basic {
        /// The username.
        username: String,
        /// The password.
        password: String,
    },
    /// A bearer token sent as it is (`Authorization: Bearer ...`) on every request: a
    /// registry access token (docker config `registrytoken`), or a repository's token.
    Bearer {
        /// The token.
        token: String,
    },
    /// An OAuth2 refresh token (docker config `identitytoken`), exchanged at a registry's
    /// token service (`POST`, `grant_type=refresh_token`) for bearer tokens. Registries
    /// only: a chart repository refuses it.
    IdentityToken {
        /// The refresh token.
        token: String,
    },
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Anonymous => f.write_str("Anonymous"),
            Credentials::Basic { username, .. } => write!(
                f,
                "Basic {{ username: {username:?}, password: <redacted> }}"
            ),
            Credentials::Bearer { .. } => f.write_str("Bearer { token: <redacted> }"),
            Credentials::IdentityToken { .. } => f.write_str("IdentityToken { token: <redacted> }"),
        }
    }
}

/// One `auths` entry of a docker config file.
#[derive(Default, Deserialize)]
#[serde(default)]
struct AuthEntry {
    auth: Option<String>,
    username: Option<String>,
    password: Option<String>,
    identitytoken: Option<String>,
    registrytoken: Option<String>,
}

/// The parts of a docker config file that matter here.
#[derive(Default, Deserialize)]
#[serde(default)]
struct DockerConfig {
    auths: BTreeMap<String, AuthEntry>,
    #[serde(rename = "credsStore")]
    creds_store: Option<String>,
    #[serde(rename = "credHelpers")]
    cred_helpers: BTreeMap<String, String>,
}

/// `host[:port]` of a docker config key: `https://host:port/v1/` -> `host:port`,
/// lowercased.
fn key_host(key: &str) -> String {
    let rest = key
        .split_once("://")
        .map_or(key, |(_, rest)| rest)
        .trim_end_matches('/');
    rest.split('/').next().unwrap_or("").to_ascii_lowercase()
}

/// The hosts a docker config may file `registry`'s credentials under (Docker Hub has
/// several names).
fn aliases(registry: &str) -> Vec<String> {
    let host = registry.to_ascii_lowercase();
    match host.as_str() {
        "docker.io" | "registry-1.docker.io" | "index.docker.io" => vec![
            "docker.io".into(),
            "registry-1.docker.io".into(),
            "index.docker.io".into(),
        ],
        _ => vec![host],
    }
}

impl Credentials {
    /// Username and password.
    pub fn basic(username: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials::Basic {
            username: username.into(),
            password: password.into(),
        }
    }

    /// A bearer token sent as it is.
    pub fn bearer(token: impl Into<String>) -> Self {
        Credentials::Bearer {
            token: token.into(),
        }
    }

    /// Whether these are [`Credentials::Anonymous`].
    pub fn is_anonymous(&self) -> bool {
        matches!(self, Credentials::Anonymous)
    }

    /// The credentials a docker config file (`~/.docker/config.json`, helm's
    /// `registry/config.json`) keeps for `registry` (`host[:port]`), read from `path`.
    ///
    /// An `auths` entry whose key names that host (`host:port`, `https://host:port`,
    /// `https://host:port/v1/`) gives, in this order: `registrytoken` as a
    /// [`Bearer`](Credentials::Bearer) token, `identitytoken` as an
    /// [`IdentityToken`](Credentials::IdentityToken), `auth` (base64 of
    /// `username:password`) or `username` and `password` as [`Basic`](Credentials::Basic).
    /// No entry for the host, an entry kept by a credential helper (`credsStore`,
    /// `credHelpers`: programs this crate does not run), an empty entry, or a file that is
    /// not such JSON is InvalidArgument on field `docker_config`, naming the file and the
    /// host but no value.
    pub fn from_docker_config(path: &Path, registry: &str) -> Result<Credentials> {
        use std::io::Read as _;
        let shown = path.display();
        let file = std::fs::File::open(path)
            .map_err(|e| Error::invalid("docker_config", format!("cannot read {shown}: {e}")))?;
        let mut bytes = Vec::new();
        file.take(MAX_CONFIG_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::invalid("docker_config", format!("cannot read {shown}: {e}")))?;
        if bytes.len() as u64 > MAX_CONFIG_BYTES {
            return Err(Error::invalid(
                "docker_config",
                format!("{shown} is larger than {MAX_CONFIG_BYTES} bytes"),
            ));
        }
        Self::from_docker_config_json(&bytes, registry)
            .map_err(|reason| Error::invalid("docker_config", format!("{shown}: {reason}")))
    }

    /// [`from_docker_config`](Self::from_docker_config) over the file's bytes; the error
    /// is the reason, without the file name.
    fn from_docker_config_json(
        bytes: &[u8],
        registry: &str,
    ) -> std::result::Result<Credentials, String> {
        let config: DockerConfig = serde_json::from_slice(bytes).map_err(|e| {
            format!(
                "not a docker config file (JSON error at line {}, column {})",
                e.line(),
                e.column()
            )
        })?;
        let wanted = aliases(registry);
        let entry = config
            .auths
            .iter()
            .find(|(key, _)| wanted.contains(&key_host(key)))
            .map(|(_, entry)| entry);
        let Some(entry) = entry else {
            let helper = config
                .cred_helpers
                .keys()
                .any(|k| wanted.contains(&key_host(k)))
                || config.creds_store.as_deref().is_some_and(|s| !s.is_empty());
            return Err(if helper {
                format!(
                    "the credentials for {registry} are kept by a credential helper \
                     (`credsStore` / `credHelpers`), which is not supported: put them in \
                     `auths`, or configure a username and password file"
                )
            } else {
                format!("has no `auths` entry for {registry}")
            });
        };
        let nonempty = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
        if let Some(token) = nonempty(&entry.registrytoken) {
            return Ok(Credentials::Bearer { token });
        }
        if let Some(token) = nonempty(&entry.identitytoken) {
            return Ok(Credentials::IdentityToken { token });
        }
        if let Some(auth) = nonempty(&entry.auth) {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(auth.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| {
                    format!("the `auth` of the entry for {registry} is not base64 of UTF-8 text")
                })?;
            let (username, password) = decoded.split_once(':').ok_or_else(|| {
                format!("the `auth` of the entry for {registry} is not `username:password`")
            })?;
            return Ok(Credentials::basic(username, password));
        }
        match (nonempty(&entry.username), nonempty(&entry.password)) {
            (Some(username), Some(password)) => Ok(Credentials::Basic { username, password }),
            _ => Err(format!(
                "the entry for {registry} has no `auth`, `username`/`password`, \
                 `identitytoken` or `registrytoken`"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str, host: &str) -> std::result::Result<Credentials, String> {
        Credentials::from_docker_config_json(json.as_bytes(), host)
    }

    #[test]
    fn docker_config_entries() {
        let auth = base64::engine::general_purpose::STANDARD.encode("o2dms:pa:ss");
        let json = format!(
            r#"{{"auths": {{
                "https://reg.example:5000/v1/": {{"auth": "{auth}"}},
                "other.example": {{"username": "u", "password": "p"}},
                "tok.example": {{"auth": "{auth}", "identitytoken": "refresh"}},
                "acc.example": {{"registrytoken": "access", "username": "u", "password": "p"}},
                "https://index.docker.io/v1/": {{"username": "hub", "password": "p"}},
                "empty.example": {{}}
            }}}}"#
        );
        assert_eq!(
            read(&json, "reg.example:5000").unwrap(),
            Credentials::basic("o2dms", "pa:ss")
        );
        assert_eq!(
            read(&json, "OTHER.example").unwrap(),
            Credentials::basic("u", "p")
        );
        assert_eq!(
            read(&json, "tok.example").unwrap(),
            Credentials::IdentityToken {
                token: "refresh".into()
            }
        );
        assert_eq!(
            read(&json, "acc.example").unwrap(),
            Credentials::bearer("access")
        );
        assert_eq!(
            read(&json, "registry-1.docker.io").unwrap(),
            Credentials::basic("hub", "p")
        );
        assert!(read(&json, "reg.example")
            .unwrap_err()
            .contains("no `auths` entry"));
        assert!(read(&json, "empty.example").unwrap_err().contains("has no"));
    }

    #[test]
    fn errors_never_quote_values() {
        let secret = "TOPSECRET";
        for json in [
            format!(r#"{{"auths": {{"h": {{"auth": "{secret}!!"}}}}}}"#),
            format!(r#"{{"auths": {{"h": {{"auth": 7, "password": "{secret}"}}}}}}"#),
            format!(r#"{{"auths": {{"h": "{secret}"}}}}"#),
            format!(r#"{{"auths": {{"h": {{"password": "{secret}"}}}}}}"#),
            format!("{{{secret}"),
        ] {
            let err = read(&json, "h").unwrap_err();
            assert!(!err.contains(secret), "{err}");
        }
        let helper = r#"{"auths": {}, "credsStore": "desktop"}"#;
        assert!(read(helper, "h").unwrap_err().contains("credential helper"));
        let helper = r#"{"credHelpers": {"h:5000": "ecr-login"}}"#;
        assert!(read(helper, "h:5000")
            .unwrap_err()
            .contains("credential helper"));
    }

    #[test]
    fn debug_redacts() {
        for c in [
            Credentials::basic("user", "s3cret"),
            Credentials::bearer("s3cret"),
            Credentials::IdentityToken {
                token: "s3cret".into(),
            },
        ] {
            let shown = format!("{c:?} {c:#?}");
            assert!(!shown.contains("s3cret"), "{shown}");
            assert!(shown.contains("<redacted>"), "{shown}");
        }
    }
}
