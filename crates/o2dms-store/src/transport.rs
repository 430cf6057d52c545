//! HTTP transport shared by the remote stores: rustls with certificate verification
//! always on, and a plain-HTTP policy.

use std::net::IpAddr;
use std::time::Duration;

use o2dms_core::{Error, Result};

use crate::auth::Credentials;

/// When a remote store may talk plain HTTP (no TLS).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PlainHttp {
    /// Plain HTTP only to a loopback host (`127.0.0.0/8`, `::1`, `localhost`); HTTPS
    /// everywhere else. The default.
    #[default]
    LoopbackOnly,
    /// Plain HTTP to any host. Explicit opt-in: traffic (and credentials) go unencrypted.
    Always,
}

/// TLS and HTTP settings of a remote store. TLS certificates are verified against the
/// bundled web PKI roots plus any extra roots given here, unless
/// [`insecure_skip_tls_verify`](Self::insecure_skip_tls_verify) is set.
///
/// `Debug` shows no secret (the credentials are redacted).
#[derive(Clone)]
pub struct TransportOptions {
    /// Plain HTTP policy.
    pub plain_http: PlainHttp,
    /// Extra trusted root certificates: each item is PEM text holding one or more
    /// certificates (a private CA, a bundle).
    pub extra_roots_pem: Vec<Vec<u8>>,
    /// Credentials: basic (also used to get bearer tokens from a registry's token
    /// service), a bearer token, or a registry identity token.
    pub credentials: Credentials,
    /// Accept any TLS certificate, unverified. Explicit opt-in for tests and emergencies:
    /// anyone on the path can then read and change the traffic, credentials included.
    /// A warning is logged when a client is built with it.
    pub insecure_skip_tls_verify: bool,
    /// Timeout for one request.
    pub request_timeout: Duration,
    /// Largest response body accepted (an index, a manifest, an archive).
    pub max_body_bytes: u64,
}

impl Default for TransportOptions {
    fn default() -> Self {
        TransportOptions {
            plain_http: PlainHttp::default(),
            extra_roots_pem: Vec::new(),
            credentials: Credentials::Anonymous,
            insecure_skip_tls_verify: false,
            request_timeout: Duration::from_secs(60),
            max_body_bytes: 64 * 1024 * 1024,
        }
    }
}

impl std::fmt::Debug for TransportOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransportOptions")
            .field("plain_http", &self.plain_http)
            .field("extra_roots_pem", &self.extra_roots_pem.len())
            .field("credentials", &self.credentials)
            .field("insecure_skip_tls_verify", &self.insecure_skip_tls_verify)
            .field("request_timeout", &self.request_timeout)
            .field("max_body_bytes", &self.max_body_bytes)
            .finish()
    }
}

/// Whether `host` (no port, no brackets) is a loopback address.
pub(crate) fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Checks that `url`'s scheme is allowed under `policy`.
pub(crate) fn check_scheme(field: &str, url: &reqwest::Url, policy: PlainHttp) -> Result<()> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if policy == PlainHttp::Always => Ok(()),
        "http" if url.host_str().is_some_and(is_loopback) => Ok(()),
        "http" => Err(Error::invalid(
            field,
            format!(
                "plain HTTP to `{}` is allowed only for loopback hosts unless explicitly enabled (PlainHttp::Always)",
                url.host_str().unwrap_or("")
            ),
        )),
        other => Err(Error::invalid(
            field,
            format!("scheme `{other}` is not supported (use https, or http on loopback)"),
        )),
    }
}

/// Builds the client: rustls, verification on, no automatic decompression.
pub(crate) fn client(options: &TransportOptions) -> Result<reqwest::Client> {
    let policy = options.plain_http;
    // Redirects obey the same plain-HTTP rule (an HTTPS server must not be able to send
    // us to plain HTTP elsewhere); reqwest drops credentials on cross-host redirects.
    let redirects = reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() >= 10 {
            attempt.error("too many redirects")
        } else if check_scheme("redirect", attempt.url(), policy).is_err() {
            let reason = format!(
                "redirect to {} refused: plain HTTP is not allowed there",
                attempt.url()
            );
            attempt.error(reason)
        } else {
            attempt.follow()
        }
    });
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .redirect(redirects)
        .timeout(options.request_timeout)
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("o2dms-store/", env!("CARGO_PKG_VERSION")));
    for (i, pem) in options.extra_roots_pem.iter().enumerate() {
        let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
            Error::invalid(
                "extra_roots_pem",
                format!("item {i} is not PEM certificates: {e}"),
            )
        })?;
        if certs.is_empty() {
            return Err(Error::invalid(
                "extra_roots_pem",
                format!("item {i} holds no PEM certificate"),
            ));
        }
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    if options.insecure_skip_tls_verify {
        tracing::warn!(
            "TLS certificate verification is OFF for a package store (insecure_skip_tls_verify)"
        );
        builder = builder.danger_accept_invalid_certs(true);
    }
    builder
        .build()
        .map_err(|e| Error::backend(format!("cannot build HTTP client: {e}")))
}

/// Maps a transport error: unreachable or timed out is Unavailable, the rest Backend.
pub(crate) fn request_error(what: &str, e: reqwest::Error) -> Error {
    // reqwest's own message hides the cause (refused, certificate, DNS): add the chain.
    let mut message = format!("{what}: {e}");
    let mut causes = String::new();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        let text = cause.to_string();
        causes.push_str(&text);
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    // The causes only: the URL in `what` and in reqwest's own message may hold any word.
    if causes.to_ascii_lowercase().contains("certificate") {
        // A TLS verification failure: say what to do about it. Unavailable, as the
        // server cannot be used until its certificate or our trust changes.
        message.push_str(
            " (TLS certificate verification failed: trust the server's CA with extra \
             root certificates, or fix its certificate)",
        );
        return Error::Unavailable { message };
    }
    if e.is_connect() || e.is_timeout() || e.is_request() {
        Error::Unavailable { message }
    } else {
        Error::backend(message)
    }
}

/// Reads a response body up to `max` bytes.
pub(crate) async fn read_body(
    what: &str,
    mut resp: reqwest::Response,
    max: u64,
) -> Result<Vec<u8>> {
    if resp.content_length().is_some_and(|n| n > max) {
        return Err(Error::backend(format!(
            "{what}: response larger than {max} bytes"
        )));
    }
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| request_error(what, e))? {
        if out.len() as u64 + chunk.len() as u64 > max {
            return Err(Error::backend(format!(
                "{what}: response larger than {max} bytes"
            )));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_on_loopback_by_default() {
        let ok = |u: &str, p| check_scheme("url", &reqwest::Url::parse(u).unwrap(), p).is_ok();
        assert!(ok("http://127.0.0.1:5000/", PlainHttp::LoopbackOnly));
        assert!(ok("http://[::1]:5000/", PlainHttp::LoopbackOnly));
        assert!(ok("http://localhost/", PlainHttp::LoopbackOnly));
        assert!(!ok("http://charts.example.com/", PlainHttp::LoopbackOnly));
        assert!(ok("http://charts.example.com/", PlainHttp::Always));
        assert!(ok("https://charts.example.com/", PlainHttp::LoopbackOnly));
        assert!(!ok("ftp://charts.example.com/", PlainHttp::Always));
    }
}
