//! TLS: the certificate and key from PEM files, client certificates verified against
//! the client CA (mutual TLS), and [`TlsListener`], which completes each handshake in a
//! task of its own before the server sees the connection, with the names of the
//! client's verified certificate.

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use o2dms_server::auth::ClientIdentity;
use o2dms_server::{Listener, Peer};
use rustls::pki_types::pem::{self, PemObject as _};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::ServerConfig;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use x509_parser::extensions::GeneralName;

use super::auth::ClientCa;
use crate::exit::Failure;

/// How long a client may take to complete its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshakes in progress at once; a connection beyond that is closed at once.
const MAX_HANDSHAKES: usize = 1024;
/// Connections with a completed handshake waiting for the server to take them.
const READY_QUEUE: usize = 128;

/// The TLS settings of `--tls-cert` and `--tls-key`: TLS 1.2 and 1.3 (rustls's safe
/// defaults, ring), ALPN `http/1.1`; with a client CA, client certificates are asked
/// for and verified against it (webpki: chain, validity, the client-auth usage), and
/// required or optional.
///
/// # Errors
/// Status 2: a file that cannot be read, holds no PEM certificate or private key, or a
/// key that does not match the certificate. Messages never quote the files' content.
pub(crate) fn server_config(
    cert: &Path,
    key: &Path,
    client_ca: Option<&ClientCa>,
) -> Result<Arc<ServerConfig>, Failure> {
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| pem_failure("--tls-cert", cert, &e))?;
    if certs.is_empty() {
        return Err(pem_failure("--tls-cert", cert, &pem::Error::NoItemsFound));
    }
    let private_key =
        PrivateKeyDer::from_pem_file(key).map_err(|e| pem_failure("--tls-key", key, &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Failure::usage(format!("TLS: {e}")))?;
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let verifier = WebPkiClientVerifier::builder_with_provider(ca.roots.clone(), provider);
            let verifier = if ca.required {
                verifier
            } else {
                verifier.allow_unauthenticated()
            };
            let verifier = verifier
                .build()
                .map_err(|e| Failure::usage(format!("the client CA: {e}")))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_single_cert(certs, private_key).map_err(|e| {
        Failure::usage(format!(
            "--tls-cert {} and --tls-key {}: {e}",
            cert.display(),
            key.display()
        ))
    })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A PEM file that could not be used, without quoting what is in it.
fn pem_failure(flag: &str, path: &Path, e: &pem::Error) -> Failure {
    let what = match flag {
        "--tls-key" => "a PEM private key (PKCS#8, PKCS#1 or SEC1)",
        _ => "PEM certificates",
    };
    Failure::usage(format!(
        "{flag} {}: {}",
        path.display(),
        pem_reason(e, what)
    ))
}

/// Why a PEM file holding `what` could not be read, without quoting what is in it.
pub(crate) fn pem_reason(e: &pem::Error, what: &str) -> String {
    match e {
        pem::Error::Io(io) => io.to_string(),
        pem::Error::NoItemsFound => format!("it holds no {what}"),
        pem::Error::MissingSectionEnd { .. } => "a PEM section has no END line".to_owned(),
        pem::Error::IllegalSectionStart { .. } => "a PEM BEGIN line is malformed".to_owned(),
        pem::Error::Base64Decode(_) => "a PEM section is not valid base64".to_owned(),
        _ => format!("it is not {what}"),
    }
}

/// A TLS listener for [`o2dms_server::Server::serve_with`]: accepts TCP connections,
/// completes each TLS handshake in a task of its own (at most 10 s, at most 1024 at
/// once), and hands the server only connections whose handshake succeeded. A failed or
/// timed-out handshake is logged (info, with the peer's address and rustls's reason)
/// and the connection dropped; the server goes on. Dropping the listener stops
/// accepting and abandons handshakes in progress.
///
/// Each connection comes with its [`Peer`]: the address and, when the client presented
/// a certificate that the configuration's client verifier accepted, the certificate's
/// names (subject common names, DNS and URI names) for access control.
pub struct TlsListener {
    local_addr: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, Peer)>,
    acceptor: JoinHandle<()>,
}

impl TlsListener {
    /// TLS with `config` over `listener`. Needs a Tokio runtime (it spawns the task
    /// that accepts).
    ///
    /// # Errors
    /// The listener's address cannot be read.
    pub fn new(listener: TcpListener, config: Arc<ServerConfig>) -> io::Result<Self> {
        let local_addr = listener.local_addr()?;
        let (tx, ready) = mpsc::channel(READY_QUEUE);
        let acceptor = tokio::spawn(accept_loop(listener, TlsAcceptor::from(config), tx));
        Ok(TlsListener {
            local_addr,
            ready,
            acceptor,
        })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        // Its JoinSet goes with it, aborting the handshakes in progress.
        self.acceptor.abort();
    }
}

impl std::fmt::Debug for TlsListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsListener")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = Peer;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            // The accepting task ended (it does not, short of a panic): accept no more.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(Peer::new(self.local_addr))
    }
}

/// Accepts TCP connections and spawns their handshakes until the listener is dropped.
async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    ready: mpsc::Sender<(TlsStream<TcpStream>, Peer)>,
) {
    let mut handshakes = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    if handshakes.len() >= MAX_HANDSHAKES {
                        tracing::warn!(%peer, "too many TLS handshakes in progress: connection closed");
                        continue;
                    }
                    handshakes.spawn(handshake(acceptor.clone(), stream, peer, ready.clone()));
                }
                Err(e) => accept_failed(e).await,
            },
            Some(_) = handshakes.join_next(), if !handshakes.is_empty() => {}
            () = ready.closed() => return,
        }
    }
}

/// One handshake; a connection that completes it goes to the server.
async fn handshake(
    acceptor: TlsAcceptor,
    stream: TcpStream,
    peer: SocketAddr,
    ready: mpsc::Sender<(TlsStream<TcpStream>, Peer)>,
) {
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => {
            // The verifier accepted the chain during the handshake: its first
            // certificate is the client's.
            let client = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|chain| chain.first())
                .map(identity_of);
            let peer = match client {
                Some(identity) => Peer::new(peer).with_client_identity(identity),
                None => Peer::new(peer),
            };
            // Fails only when the server stopped accepting: the connection is dropped.
            let _ = ready.send((tls, peer)).await;
        }
        Ok(Err(e)) => {
            tracing::info!(%peer, error = %e, "TLS handshake failed: connection closed");
        }
        Err(_) => {
            tracing::info!(%peer, timeout = ?HANDSHAKE_TIMEOUT, "TLS handshake timed out: connection closed");
        }
    }
}

/// The names of a verified client certificate: its subject's common names, its DNS and
/// URI subject alternative names. A certificate that does not parse (the verifier
/// parsed it already, so it does not happen) has none, and matches no client.
pub(crate) fn identity_of(cert: &CertificateDer<'_>) -> ClientIdentity {
    let mut identity = ClientIdentity::new();
    let Ok((_, parsed)) = x509_parser::parse_x509_certificate(cert.as_ref()) else {
        return identity;
    };
    for cn in parsed.subject().iter_common_name() {
        if let Ok(name) = cn.as_str() {
            identity = identity.with_common_name(name);
        }
    }
    if let Ok(Some(san)) = parsed.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(dns) => identity = identity.with_dns_name(*dns),
                GeneralName::URI(uri) => identity = identity.with_uri(*uri),
                _ => {}
            }
        }
    }
    identity
}

/// An error of `accept`: one connection's (it went away) is skipped; anything else
/// (out of file descriptors) is logged and accepting pauses for a second.
async fn accept_failed(e: io::Error) {
    use io::ErrorKind as K;
    if matches!(
        e.kind(),
        K::ConnectionAborted | K::ConnectionReset | K::ConnectionRefused | K::Interrupted
    ) {
        tracing::debug!(error = %e, "a connection went away before it was accepted");
        return;
    }
    tracing::warn!(error = %e, "accepting connections failed; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
