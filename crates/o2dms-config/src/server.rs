//! The `server` section beside `plugins`: what `o2dms serve` needs besides the plugins,
//! today its access control (`server.auth`).
//!
//! ```yaml
//! server:
//!   auth:
//!     anonymous: none                  # none | read; default none
//!     tokens:
//!       - name: smo                    # named in logs instead of the token
//!         file: /run/secrets/smo-token # or env: O2DMS_SMO_TOKEN (exactly one)
//!         scope: write                 # read | write
//!         deploymentManagers: [edge]   # default: every deployment manager
//!     clientCa: /etc/o2dms/clients-ca.pem
//!     clientCertificates: optional     # optional | required; default optional
//!     clients:
//!       - name: smo-mtls
//!         subject: smo.example.net     # a certificate's common name, DNS or URI name
//!         scope: read
//! ```
//!
//! A token is never written in the file: `file` or `env` says where it is read from
//! when the server starts (an inline `token` or `value` key is refused as unknown). The
//! rules checked here are the file's own (names, exactly one source, known deployment
//! managers, a client CA for clients); reading the files and variables is the server's.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::error::ConfigError;
use crate::model::{line_of, DmsPlugin};

/// The longest token or client name.
const MAX_NAME_LEN: usize = 64;
/// The longest client subject.
const MAX_SUBJECT_LEN: usize = 1024;

/// The `server` section.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ServerSettings {
    auth: Option<AuthSettings>,
}

impl ServerSettings {
    /// Its access control (`server.auth`); `None` when the section has none.
    pub fn auth(&self) -> Option<&AuthSettings> {
        self.auth.as_ref()
    }
}

/// What a credential may do (`scope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// `read`: GET requests.
    Read,
    /// `write`: every request.
    Write,
}

/// What a request without credentials may do (`anonymous`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Anonymous {
    /// `none` (the default): nothing, 401.
    #[default]
    None,
    /// `read`: GET requests; writes still need credentials.
    Read,
}

/// Whether a TLS client must present a certificate (`clientCertificates`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientCertificates {
    /// `optional` (the default): asked for; a client without one may use a token.
    #[default]
    Optional,
    /// `required`: a client without a certificate from the CA fails the handshake.
    Required,
}

/// Where a token is read from when the server starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// `file`: a file holding the token on one line.
    File(PathBuf),
    /// `env`: an environment variable holding the token.
    Env(String),
}

/// `server.auth`: the credentials the server accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthSettings {
    tokens: Vec<TokenSettings>,
    client_ca: Option<PathBuf>,
    client_certificates: Option<ClientCertificates>,
    clients: Vec<ClientSettings>,
    anonymous: Anonymous,
    line: Option<u64>,
}

impl AuthSettings {
    /// The bearer tokens (`tokens`), in file order.
    pub fn tokens(&self) -> &[TokenSettings] {
        &self.tokens
    }

    /// The PEM file of the CA that issues client certificates (`clientCa`).
    pub fn client_ca(&self) -> Option<&Path> {
        self.client_ca.as_deref()
    }

    /// Whether clients must present a certificate (`clientCertificates`, default
    /// optional).
    pub fn client_certificates(&self) -> ClientCertificates {
        self.client_certificates.unwrap_or_default()
    }

    /// The clients known by their certificate (`clients`), in file order.
    pub fn clients(&self) -> &[ClientSettings] {
        &self.clients
    }

    /// What requests without credentials may do (`anonymous`, default none).
    pub fn anonymous(&self) -> Anonymous {
        self.anonymous
    }

    /// Its key path, `server.auth`.
    pub fn key(&self) -> &'static str {
        "server.auth"
    }

    /// A [`ConfigError::Invalid`] for `key` within `server.auth` (`clientCa`), at the
    /// section's first line, for the server's own checks (a file it cannot read).
    pub fn invalid(&self, key: &str, reason: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            key: format!("{}.{key}", self.key()),
            line: self.line,
            reason: reason.into(),
        }
    }
}

/// One entry of `server.auth.tokens`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSettings {
    name: String,
    source: TokenSource,
    scope: Scope,
    deployment_managers: Option<Vec<String>>,
    key: String,
    line: Option<u64>,
}

impl TokenSettings {
    /// Its name: what the logs say instead of the token.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where the token is read from (`file` or `env`).
    pub fn source(&self) -> &TokenSource {
        &self.source
    }

    /// Its scope.
    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// The deployment managers it is limited to (`deploymentManagers`); `None` for all.
    pub fn deployment_managers(&self) -> Option<&[String]> {
        self.deployment_managers.as_deref()
    }

    /// Its key path, e.g. `server.auth.tokens[0]`.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// A [`ConfigError::Invalid`] for `key` within this entry (`file`, `env`), at the
    /// entry's first line: for the server's checks (a file it cannot read, a variable
    /// that is not set). The reason must not quote the token.
    pub fn invalid(&self, key: &str, reason: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            key: format!("{}.{key}", self.key),
            line: self.line,
            reason: reason.into(),
        }
    }
}

/// One entry of `server.auth.clients`: a client known by its certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSettings {
    name: String,
    subject: String,
    scope: Scope,
    deployment_managers: Option<Vec<String>>,
    key: String,
    line: Option<u64>,
}

impl ClientSettings {
    /// Its name: what the logs say instead of the certificate.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The certificate subject it matches: the common name, a DNS name or a URI name.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// Its scope.
    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// The deployment managers it is limited to (`deploymentManagers`); `None` for all.
    pub fn deployment_managers(&self) -> Option<&[String]> {
        self.deployment_managers.as_deref()
    }

    /// Its key path, e.g. `server.auth.clients[0]`.
    pub fn key(&self) -> &str {
        &self.key
    }
}

/// `server` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a mapping with `auth`")]
pub(crate) struct ServerForm {
    #[serde(default)]
    auth: Option<Spanned<AuthForm>>,
}

#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "camelCase",
    expecting = "a mapping with `tokens`, `clientCa`, `clientCertificates`, `clients`, `anonymous`"
)]
struct AuthForm {
    #[serde(default)]
    tokens: Option<Vec<Spanned<TokenForm>>>,
    #[serde(default)]
    client_ca: Option<PathBuf>,
    #[serde(default)]
    client_certificates: Option<ClientCertificates>,
    #[serde(default)]
    clients: Option<Vec<Spanned<ClientForm>>>,
    #[serde(default)]
    anonymous: Option<Anonymous>,
}

#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "camelCase",
    expecting = "a token: a mapping with `name`, `file` or `env`, and `scope`"
)]
struct TokenForm {
    name: String,
    #[serde(default)]
    file: Option<PathBuf>,
    #[serde(default)]
    env: Option<String>,
    scope: Scope,
    #[serde(default)]
    deployment_managers: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "camelCase",
    expecting = "a client: a mapping with `name`, `subject` and `scope`"
)]
struct ClientForm {
    name: String,
    subject: String,
    scope: Scope,
    #[serde(default)]
    deployment_managers: Option<Vec<String>>,
}

/// The unknown keys that look like a token written inline, and the hint they get.
pub(crate) fn inline_secret_hint(key: &str, reason: &str) -> Option<&'static str> {
    let inline = ["token", "value", "secret", "password"]
        .iter()
        .any(|k| reason.starts_with(&format!("unknown field `{k}`")));
    (inline && key.starts_with("server.auth.tokens["))
        .then_some("a token is never written in the configuration: give `file` or `env`")
}

/// The section as read, checked against the plugins of the same file.
pub(crate) fn settings(
    form: ServerForm,
    plugins: &[DmsPlugin],
) -> Result<ServerSettings, ConfigError> {
    let Some(auth) = form.auth else {
        return Ok(ServerSettings::default());
    };
    let line = line_of(auth.referenced);
    let a = auth.value;
    let invalid = |key: &str, line: Option<u64>, reason: String| ConfigError::Invalid {
        key: key.to_owned(),
        line,
        reason,
    };
    let mut names: Vec<(String, String)> = Vec::new();
    let mut check_name = |name: &str, key: &str, line: Option<u64>| {
        let at = format!("{key}.name");
        if name.is_empty()
            || name.len() > MAX_NAME_LEN
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        {
            return Err(invalid(
                &at,
                line,
                format!(
                    "a name is 1 to {MAX_NAME_LEN} ASCII letters, digits, `.`, `_` or `-` (it is what the logs show)"
                ),
            ));
        }
        if let Some((_, first)) = names.iter().find(|(n, _)| n == name) {
            return Err(invalid(
                &at,
                line,
                format!("`{name}` is already the name of {first}"),
            ));
        }
        names.push((name.to_owned(), key.to_owned()));
        Ok(())
    };
    let check_dms = |dms: &Option<Vec<String>>, key: &str, line: Option<u64>| {
        let Some(dms) = dms else { return Ok(()) };
        let at = format!("{key}.deploymentManagers");
        if dms.is_empty() {
            return Err(invalid(
                &at,
                line,
                "lists no deployment manager: name at least one, or leave the key out for all"
                    .to_owned(),
            ));
        }
        for (i, dm) in dms.iter().enumerate() {
            if !plugins.iter().any(|p| p.name() == dm) {
                return Err(invalid(
                    &format!("{at}[{i}]"),
                    line,
                    "names no plugin of `plugins.dms`".to_owned(),
                ));
            }
        }
        Ok(())
    };

    let mut tokens = Vec::new();
    for (i, entry) in a.tokens.unwrap_or_default().into_iter().enumerate() {
        let key = format!("server.auth.tokens[{i}]");
        let line = line_of(entry.referenced).or(line);
        let t = entry.value;
        check_name(&t.name, &key, line)?;
        let source = match (t.file, t.env) {
            (Some(file), None) => {
                if file.as_os_str().is_empty() {
                    return Err(invalid(&format!("{key}.file"), line, "is empty".to_owned()));
                }
                TokenSource::File(file)
            }
            (None, Some(env)) => {
                let valid = env
                    .bytes()
                    .next()
                    .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
                    && env.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                if !valid {
                    return Err(invalid(
                        &format!("{key}.env"),
                        line,
                        "an environment variable name is ASCII letters, digits and `_`, not starting with a digit"
                            .to_owned(),
                    ));
                }
                TokenSource::Env(env)
            }
            (Some(_), Some(_)) => {
                return Err(invalid(
                    &key,
                    line,
                    "give either `file` or `env`, not both".to_owned(),
                ))
            }
            (None, None) => {
                return Err(invalid(
                    &key,
                    line,
                    "give `file` or `env`: where the token is read from (it is never written in the configuration)"
                        .to_owned(),
                ))
            }
        };
        check_dms(&t.deployment_managers, &key, line)?;
        tokens.push(TokenSettings {
            name: t.name,
            source,
            scope: t.scope,
            deployment_managers: t.deployment_managers,
            key,
            line,
        });
    }

    let mut clients = Vec::new();
    for (i, entry) in a.clients.unwrap_or_default().into_iter().enumerate() {
        let key = format!("server.auth.clients[{i}]");
        let line = line_of(entry.referenced).or(line);
        let c = entry.value;
        check_name(&c.name, &key, line)?;
        if c.subject.is_empty()
            || c.subject.len() > MAX_SUBJECT_LEN
            || c.subject.chars().any(char::is_control)
        {
            return Err(invalid(
                &format!("{key}.subject"),
                line,
                format!("a subject is 1 to {MAX_SUBJECT_LEN} characters, no control characters"),
            ));
        }
        check_dms(&c.deployment_managers, &key, line)?;
        clients.push(ClientSettings {
            name: c.name,
            subject: c.subject,
            scope: c.scope,
            deployment_managers: c.deployment_managers,
            key,
            line,
        });
    }

    if a.client_ca
        .as_ref()
        .is_some_and(|p| p.as_os_str().is_empty())
    {
        return Err(invalid("server.auth.clientCa", line, "is empty".to_owned()));
    }
    if !clients.is_empty() && a.client_ca.is_none() {
        return Err(invalid(
            "server.auth.clients",
            line,
            "clients are known by certificates from `clientCa`, which is not given".to_owned(),
        ));
    }
    if a.client_certificates.is_some() && a.client_ca.is_none() {
        return Err(invalid(
            "server.auth.clientCertificates",
            line,
            "needs `clientCa`, the CA that issues the certificates".to_owned(),
        ));
    }
    let mode = a.client_certificates.unwrap_or_default();
    if a.client_ca.is_some() && clients.is_empty() && mode == ClientCertificates::Optional {
        return Err(invalid(
            "server.auth.clientCa",
            line,
            "no `clients` map certificates to a scope, and they are optional: list the clients, or make certificates `required`"
                .to_owned(),
        ));
    }
    let anonymous = a.anonymous.unwrap_or_default();
    if tokens.is_empty() && clients.is_empty() && anonymous == Anonymous::None {
        return Err(invalid(
            "server.auth",
            line,
            "accepts no token, no client and no anonymous request: nobody could use the server"
                .to_owned(),
        ));
    }
    Ok(ServerSettings {
        auth: Some(AuthSettings {
            tokens,
            client_ca: a.client_ca,
            client_certificates: a.client_certificates,
            clients,
            anonymous,
            line,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;

    const PLUGINS: &str = "plugins:\n  dms:\n    - {name: edge, type: mock}\n    - {name: core, type: mock, enabled: false}\n";

    fn with_auth(auth: &str) -> String {
        let indented: String = auth.lines().map(|l| format!("    {l}\n")).collect();
        format!("{PLUGINS}server:\n  auth:\n{indented}")
    }

    fn invalid(yaml: &str) -> (String, Option<u64>, String) {
        match Config::from_yaml_str(yaml) {
            Err(ConfigError::Invalid { key, line, reason }) => (key, line, reason),
            other => panic!("{yaml}: {other:?}"),
        }
    }

    #[test]
    fn no_server_section_is_no_auth() {
        let c = Config::from_yaml_str(PLUGINS).unwrap();
        assert_eq!(c.server().auth(), None);
        let c = Config::from_yaml_str(&format!("{PLUGINS}server:\n")).unwrap();
        assert_eq!(c.server().auth(), None);
        let c = Config::from_yaml_str(&format!("{PLUGINS}server: {{}}\n")).unwrap();
        assert_eq!(c.server().auth(), None);
    }

    #[test]
    fn tokens_clients_and_defaults() {
        let c = Config::from_yaml_str(&with_auth(
            "tokens:\n  - name: smo\n    file: /run/secrets/smo\n    scope: write\n    deploymentManagers: [edge, core]\n  - name: viewer\n    env: O2DMS_VIEWER_TOKEN\n    scope: read\nclientCa: /etc/o2dms/ca.pem\nclients:\n  - {name: smo-mtls, subject: smo.example.net, scope: read}\n",
        ))
        .unwrap();
        let auth = c.server().auth().unwrap();
        assert_eq!(auth.tokens().len(), 2);
        let smo = &auth.tokens()[0];
        assert_eq!(
            (smo.name(), smo.scope(), smo.key()),
            ("smo", Scope::Write, "server.auth.tokens[0]")
        );
        assert_eq!(
            smo.source(),
            &TokenSource::File(PathBuf::from("/run/secrets/smo"))
        );
        assert_eq!(
            smo.deployment_managers(),
            Some(&["edge".to_owned(), "core".to_owned()][..])
        );
        let viewer = &auth.tokens()[1];
        assert_eq!(
            viewer.source(),
            &TokenSource::Env("O2DMS_VIEWER_TOKEN".into())
        );
        assert_eq!(viewer.deployment_managers(), None);
        assert_eq!(auth.client_ca(), Some(Path::new("/etc/o2dms/ca.pem")));
        assert_eq!(auth.client_certificates(), ClientCertificates::Optional);
        assert_eq!(auth.anonymous(), Anonymous::None);
        let client = &auth.clients()[0];
        assert_eq!(
            (client.name(), client.subject(), client.scope()),
            ("smo-mtls", "smo.example.net", Scope::Read)
        );
        // the server's own checks name the key path and the entry's line
        let e = smo.invalid("file", "cannot be read");
        assert_eq!(
            e.to_string(),
            "configuration key `server.auth.tokens[0].file` (line 8): cannot be read"
        );
        let e = auth.invalid("clientCa", "not PEM");
        assert_eq!(
            e.to_string(),
            "configuration key `server.auth.clientCa` (line 7): not PEM"
        );

        let c = Config::from_yaml_str(&with_auth("anonymous: read\n")).unwrap();
        assert_eq!(c.server().auth().unwrap().anonymous(), Anonymous::Read);
        let c = Config::from_yaml_str(&with_auth(
            "clientCa: ca.pem\nclientCertificates: required\ntokens: [{name: a, env: A, scope: read}]\n",
        ))
        .unwrap();
        assert_eq!(
            c.server().auth().unwrap().client_certificates(),
            ClientCertificates::Required
        );
    }

    #[test]
    fn an_inline_token_is_refused_as_unknown_with_a_hint() {
        for key in ["token", "value", "secret"] {
            let (k, line, reason) = invalid(&with_auth(&format!(
                "tokens:\n  - name: smo\n    {key}: s3cr3t-t0ken\n    scope: write\n"
            )));
            assert_eq!(
                (k.as_str(), line),
                (format!("server.auth.tokens[0].{key}").as_str(), Some(9))
            );
            assert!(
                reason.starts_with(&format!("unknown field `{key}`")),
                "{reason}"
            );
            assert!(reason.contains("give `file` or `env`"), "{reason}");
            assert!(!reason.contains("s3cr3t"), "{reason}");
        }
        let (k, _, reason) = invalid(&format!("{PLUGINS}server:\n  auth:\n    token: s3cr3t\n"));
        assert_eq!(k, "server.auth.token");
        assert!(!reason.contains("s3cr3t"), "{reason}");
        let (k, line, _) = invalid(&format!("{PLUGINS}server:\n  listen: 1\n"));
        assert_eq!((k.as_str(), line), ("server.listen", Some(6)));
    }

    #[test]
    fn rules_name_the_key_path_and_line() {
        let cases: &[(&str, &str, Option<u64>, &str)] = &[
            (
                "tokens:\n  - {name: a, scope: read}\n",
                "server.auth.tokens[0]",
                Some(8),
                "give `file` or `env`",
            ),
            (
                "tokens:\n  - {name: a, file: f, env: E, scope: read}\n",
                "server.auth.tokens[0]",
                Some(8),
                "not both",
            ),
            (
                "tokens:\n  - {name: a, env: 1BAD, scope: read}\n",
                "server.auth.tokens[0].env",
                Some(8),
                "environment variable name",
            ),
            (
                "tokens:\n  - {name: a b, env: A, scope: read}\n",
                "server.auth.tokens[0].name",
                Some(8),
                "ASCII letters",
            ),
            (
                "tokens:\n  - {name: a, env: A, scope: read}\n  - {name: a, env: B, scope: read}\n",
                "server.auth.tokens[1].name",
                Some(9),
                "already the name of server.auth.tokens[0]",
            ),
            (
                "tokens:\n  - {name: a, env: A, scope: read, deploymentManagers: [edge, nowhere]}\n",
                "server.auth.tokens[0].deploymentManagers[1]",
                Some(8),
                "names no plugin",
            ),
            (
                "tokens:\n  - {name: a, env: A, scope: read, deploymentManagers: []}\n",
                "server.auth.tokens[0].deploymentManagers",
                Some(8),
                "leave the key out",
            ),
            (
                "tokens:\n  - {name: a, env: A, scope: admin}\n",
                "server.auth.tokens[0].scope",
                Some(8),
                "unknown variant, expected one of read, write",
            ),
            (
                "clients:\n  - {name: c, subject: x, scope: read}\n",
                "server.auth.clients",
                Some(7),
                "`clientCa`",
            ),
            (
                "clientCa: ca.pem\nclients:\n  - {name: c, subject: '', scope: read}\n",
                "server.auth.clients[0].subject",
                Some(9),
                "1 to 1024",
            ),
            (
                "clientCa: ca.pem\n",
                "server.auth.clientCa",
                Some(7),
                "no `clients`",
            ),
            (
                "clientCertificates: required\nanonymous: read\n",
                "server.auth.clientCertificates",
                Some(7),
                "needs `clientCa`",
            ),
            (
                "anonymous: none\n",
                "server.auth",
                Some(7),
                "nobody could use",
            ),
            (
                "anonymous: all\n",
                "server.auth.anonymous",
                Some(7),
                "unknown variant",
            ),
        ];
        for (auth, key, line, reason) in cases {
            let (k, l, r) = invalid(&with_auth(auth));
            assert_eq!((k.as_str(), l), (*key, *line), "{auth}: {r}");
            assert!(r.contains(reason), "{auth}: {r}");
        }
    }
}
