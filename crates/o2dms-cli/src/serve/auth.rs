//! Access control from the configuration's `server.auth` (and the flags that override
//! its files): tokens read from their files or environment variables at start, the
//! client CA read for the TLS listener, and the rule that an unauthenticated server
//! listens on loopback only.
//!
//! Nothing here ever prints or logs a token: errors name the key path, the line, the
//! file or the variable, and what is wrong with the content (empty, not one line), never
//! the content.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use o2dms_config::{
    Anonymous, AuthSettings, ClientCertificates, Config, ConfigError, TokenSettings, TokenSource,
};
use o2dms_server::{Access, Auth, Scope};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::CertificateDer;
use rustls::RootCertStore;

use super::args::ServeArgs;
use crate::exit::Failure;

/// The CA of client certificates, for the TLS listener.
#[derive(Debug, Clone)]
pub(crate) struct ClientCa {
    /// Its certificates.
    pub(crate) roots: Arc<RootCertStore>,
    /// Whether a client must present a certificate to complete the handshake.
    pub(crate) required: bool,
}

/// What access control needs from the start: the policy for the server, the client CA
/// for the TLS listener.
#[derive(Debug, Default)]
pub(crate) struct Setup {
    /// The policy; `None` without `server.auth`.
    pub(crate) auth: Option<Auth>,
    /// The client CA, when certificates are configured.
    pub(crate) client_ca: Option<ClientCa>,
}

/// Reads the tokens and the client CA of `config`'s `server.auth`, with the overrides of
/// `args`.
///
/// # Errors
/// Status 2: a token file that cannot be read or does not hold one token, a variable
/// that is not set, a client CA that holds no certificate, a flag naming what the
/// configuration does not have.
pub(crate) fn load(config: &Config, args: &ServeArgs) -> Result<Setup, Failure> {
    let Some(settings) = config.server().auth() else {
        if !args.token_file.is_empty() || args.client_ca.is_some() {
            return Err(Failure::usage(
                "--token-file and --client-ca override files of the configuration's `server.auth`, which it does not have",
            ));
        }
        return Ok(Setup::default());
    };
    for (name, _) in &args.token_file {
        if !settings.tokens().iter().any(|t| t.name() == name) {
            return Err(Failure::usage(format!(
                "--token-file {name}=...: `server.auth.tokens` has no token named `{name}`"
            )));
        }
    }
    let mut auth = Auth::new().anonymous(match settings.anonymous() {
        Anonymous::Read => Some(Scope::Read),
        Anonymous::None => None,
    });
    for t in settings.tokens() {
        let flag = args
            .token_file
            .iter()
            .rev()
            .find(|(name, _)| name == t.name())
            .map(|(_, file)| file.as_path());
        let token = match (flag, t.source()) {
            (Some(file), _) => read_token_file(t, file, true)?,
            (None, TokenSource::File(file)) => read_token_file(t, file, false)?,
            (None, TokenSource::Env(var)) => read_token_env(t, var)?,
        };
        auth = auth.token(t.name(), token, access(t.scope(), t.deployment_managers()));
    }
    for c in settings.clients() {
        auth = auth.client(
            c.name(),
            c.subject(),
            access(c.scope(), c.deployment_managers()),
        );
    }
    let ca_file = match (&args.client_ca, settings.client_ca()) {
        (Some(flag), Some(_)) => Some((flag.clone(), true)),
        (Some(_), None) => {
            return Err(Failure::usage(
                "--client-ca: `server.auth` has no `clientCa` (and `clients`) to override",
            ))
        }
        (None, Some(file)) => Some((file.to_owned(), false)),
        (None, None) => None,
    };
    let client_ca = match ca_file {
        Some((file, from_flag)) => Some(ClientCa {
            roots: read_client_ca(settings, &file, from_flag)?,
            required: settings.client_certificates() == ClientCertificates::Required,
        }),
        None => None,
    };
    tracing::info!(
        tokens = settings.tokens().len(),
        clients = settings.clients().len(),
        anonymous = ?settings.anonymous(),
        client_certificates = ?client_ca.as_ref().map(|c| if c.required { "required" } else { "optional" }),
        "access control"
    );
    Ok(Setup {
        auth: Some(auth),
        client_ca,
    })
}

/// Without access control, only a loopback address (unless `--allow-unauthenticated`).
///
/// # Errors
/// Status 2: no `server.auth`, an address that is not loopback, and no
/// `--allow-unauthenticated`.
pub(crate) fn check_exposure(
    setup: &Setup,
    listen: SocketAddr,
    allow: bool,
) -> Result<(), Failure> {
    if setup.auth.is_some() || listen.ip().is_loopback() {
        return Ok(());
    }
    if allow {
        tracing::warn!(
            address = %listen,
            "serving without access control on an address that is not loopback (--allow-unauthenticated): anyone who can reach it can write"
        );
        return Ok(());
    }
    Err(Failure::usage(format!(
        "--listen {listen}: not a loopback address, and the configuration has no `server.auth`: \
         anyone who could reach it could deploy; configure `server.auth` (tokens or client \
         certificates), or pass --allow-unauthenticated to serve behind something that authenticates"
    )))
}

fn access(scope: o2dms_config::Scope, dms: Option<&[String]>) -> Access {
    let access = Access::new(match scope {
        o2dms_config::Scope::Read => Scope::Read,
        o2dms_config::Scope::Write => Scope::Write,
    });
    match dms {
        Some(dms) => access.only(dms.iter().cloned()),
        None => access,
    }
}

/// A configuration error as a usage failure.
fn usage(e: ConfigError) -> Failure {
    Failure::usage(e.to_string())
}

/// The token in `file` (one line; surrounding whitespace dropped), the configuration's
/// or `--token-file`'s. A file readable by group or others is used with a warning.
fn read_token_file(t: &TokenSettings, file: &Path, from_flag: bool) -> Result<String, Failure> {
    let fail = |why: String| {
        if from_flag {
            Failure::usage(format!(
                "--token-file {}={}: {why}",
                t.name(),
                file.display()
            ))
        } else {
            usage(t.invalid("file", format!("{}: {why}", file.display())))
        }
    };
    let bytes = std::fs::read(file).map_err(|e| fail(e.to_string()))?;
    warn_if_shared(t.name(), file);
    let text = String::from_utf8(bytes).map_err(|_| fail("is not UTF-8 text".to_owned()))?;
    one_token(text.trim()).map_err(fail)
}

/// The token in the environment variable `var`.
fn read_token_env(t: &TokenSettings, var: &str) -> Result<String, Failure> {
    let fail = |why: String| usage(t.invalid("env", format!("`{var}` {why}")));
    let value = std::env::var_os(var).ok_or_else(|| fail("is not set".to_owned()))?;
    let text = value
        .into_string()
        .map_err(|_| fail("is not UTF-8 text".to_owned()))?;
    one_token(text.trim()).map_err(fail)
}

/// `text` if it is one token that can be sent (visible ASCII, no spaces); why not.
fn one_token(text: &str) -> Result<String, String> {
    if text.is_empty() {
        return Err("holds no token".to_owned());
    }
    if !text.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(
            "must hold one token on one line: visible ASCII characters without spaces".to_owned(),
        );
    }
    Ok(text.to_owned())
}

/// Warns when a secret file can be read by group or others.
#[cfg(unix)]
fn warn_if_shared(name: &str, file: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    if let Ok(meta) = std::fs::metadata(file) {
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(
                token = %name,
                file = %file.display(),
                mode = %format!("{:o}", mode & 0o777),
                "the token file can be read by group or others: make it 0600 (or 0400)"
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_shared(_: &str, _: &Path) {}

/// The certificates of the client CA file.
fn read_client_ca(
    settings: &AuthSettings,
    file: &Path,
    from_flag: bool,
) -> Result<Arc<RootCertStore>, Failure> {
    let fail = |why: String| {
        if from_flag {
            Failure::usage(format!("--client-ca {}: {why}", file.display()))
        } else {
            usage(settings.invalid("clientCa", format!("{}: {why}", file.display())))
        }
    };
    let certs = CertificateDer::pem_file_iter(file)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| fail(super::tls::pem_reason(&e, "PEM certificates")))?;
    if certs.is_empty() {
        return Err(fail("it holds no PEM certificate".to_owned()));
    }
    let mut roots = RootCertStore::empty();
    for cert in certs {
        roots
            .add(cert)
            .map_err(|e| fail(format!("not a CA certificate: {e}")))?;
    }
    Ok(Arc::new(roots))
}

#[cfg(test)]
mod tests {
    use super::one_token;

    #[test]
    fn one_token_per_file() {
        assert_eq!(
            one_token("abc.DEF-123_~+/="),
            Ok("abc.DEF-123_~+/=".to_owned())
        );
        for bad in ["", "two words", "line\nline", "tab\there", "é"] {
            let why = one_token(bad).unwrap_err();
            assert!(
                why.starts_with("holds no token") || why.starts_with("must hold"),
                "{why}"
            );
        }
    }
}
