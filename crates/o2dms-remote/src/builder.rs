//! Connecting: the endpoint, TLS, the token and the time limits, then the server's
//! deployment manager, its info and capabilities.

use std::fmt;
use std::time::Duration;

use o2dms_api::media;
use o2dms_api::wire::{AdapterInfo, Capabilities, DeploymentManagerList};
use o2dms_core::Error;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, ACCEPT, AUTHORIZATION};

use crate::adapter::RemoteAdapter;
use crate::endpoint::Endpoint;
use crate::transport::Transport;

/// How a [`RemoteAdapter`] talks to its server. Build one with
/// [`RemoteAdapter::builder`].
#[derive(Clone)]
pub struct RemoteBuilder {
    endpoint: String,
    dm: Option<String>,
    root_certificates: Vec<Vec<u8>>,
    accept_invalid_certs: bool,
    token: Option<String>,
    identity: Option<Vec<u8>>,
    pub(crate) limits: Limits,
}

/// The time and size limits of a [`RemoteAdapter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// How long one HTTP exchange may take, beyond the wait a write asks for.
    pub(crate) request_timeout: Duration,
    /// The `Prefer: wait` of each write.
    pub(crate) wait: Duration,
    /// How long a write's operation is followed before the write gives up.
    pub(crate) follow_limit: Duration,
    /// The first pause between two polls of an operation (doubling up to 1 s).
    pub(crate) poll_interval: Duration,
    /// The largest response body read.
    pub(crate) max_response_bytes: usize,
    /// How long to wait for a connection.
    pub(crate) connect_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            request_timeout: Duration::from_secs(60),
            wait: Duration::from_secs(60),
            follow_limit: Duration::from_secs(3600),
            poll_interval: Duration::from_millis(25),
            max_response_bytes: 256 * 1024 * 1024,
            connect_timeout: Duration::from_secs(10),
        }
    }
}

impl fmt::Debug for RemoteBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteBuilder")
            .field("endpoint", &self.endpoint)
            .field("deployment_manager", &self.dm)
            .field("root_certificates", &self.root_certificates.len())
            .field("accept_invalid_certs", &self.accept_invalid_certs)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field(
                "client_identity",
                &self.identity.as_ref().map(|_| "<redacted>"),
            )
            .field("limits", &self.limits)
            .finish()
    }
}

impl RemoteBuilder {
    pub(crate) fn new(endpoint: impl Into<String>) -> Self {
        RemoteBuilder {
            endpoint: endpoint.into(),
            dm: None,
            root_certificates: Vec::new(),
            accept_invalid_certs: false,
            token: None,
            identity: None,
            limits: Limits::default(),
        }
    }

    /// The deployment manager to use, instead of the one the endpoint names (or the
    /// server's only one).
    pub fn deployment_manager(mut self, name: impl Into<String>) -> Self {
        self.dm = Some(name.into());
        self
    }

    /// Trusts a CA (PEM, one or more certificates) besides the built-in roots.
    pub fn root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificates.push(pem.into());
        self
    }

    /// Turns TLS certificate verification **off**. Only for tests against a server whose
    /// certificate cannot be trusted otherwise; prefer [`Self::root_certificate_pem`].
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.accept_invalid_certs = accept;
        self
    }

    /// Sends `Authorization: Bearer <token>` with every request. The token is never
    /// logged nor shown by `Debug`.
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Presents a client certificate (mutual TLS): `pem` holds the certificate chain
    /// (the client's certificate first) and its private key (PKCS#8, PKCS#1 or SEC1), in
    /// one PEM text. The key is never logged nor shown by `Debug`. A server with a client
    /// CA maps the certificate to a client with a scope; one that requires certificates
    /// refuses the handshake without it.
    pub fn client_identity_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.identity = Some(pem.into());
        self
    }

    /// How long one HTTP exchange may take beyond the wait a write asks for (default
    /// 60 s). A read that gets no answer in time is [`Error::Unavailable`].
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.limits.request_timeout = timeout;
        self
    }

    /// How long each write asks the server to wait for its final answer
    /// (`Prefer: wait`, whole seconds, default 60 s; the server may cap it). A write
    /// that is not over by then is followed through its operation resource.
    pub fn wait(mut self, wait: Duration) -> Self {
        self.limits.wait = wait;
        self
    }

    /// How long a write follows its operation before giving up with
    /// [`Error::Timeout`] (default 1 h). The operation itself goes on on the server.
    pub fn follow_limit(mut self, limit: Duration) -> Self {
        self.limits.follow_limit = limit;
        self
    }

    /// The first pause between two polls of an operation (default 25 ms, doubling up to
    /// 1 s).
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.limits.poll_interval = interval;
        self
    }

    /// The largest response body accepted (default 256 MiB); a larger one is
    /// [`Error::Backend`].
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.limits.max_response_bytes = bytes;
        self
    }

    /// How long to wait for a TCP (and TLS) connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.limits.connect_timeout = timeout;
        self
    }

    /// Connects: finds the deployment manager and reads its info and capabilities
    /// (which [`DmsAdapter::info`](o2dms_core::DmsAdapter::info) and
    /// [`capabilities`](o2dms_core::DmsAdapter::capabilities) then answer without a
    /// request).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] (field `endpoint`, `rootCertificate`, `token`,
    /// `clientIdentity`) for a bad setting or when the server hosts several deployment
    /// managers and none was named; [`Error::Unavailable`] when the server cannot be
    /// reached (or refuses the TLS handshake, as one that requires a client certificate
    /// does without one); [`Error::PermissionDenied`] when the server wants credentials
    /// (401) or refuses them (403); the server's error (e.g. [`Error::NotFound`]... as a
    /// problem) otherwise.
    pub async fn connect(self) -> Result<RemoteAdapter, Error> {
        let mut endpoint = Endpoint::parse(&self.endpoint)?;
        if let Some(dm) = &self.dm {
            o2dms_api::segment::deployment_manager(dm)
                .map_err(|e| Error::invalid("deploymentManager", e.to_string()))?;
            endpoint = endpoint.with_deployment_manager(dm.clone());
        }
        let transport = Transport::new(endpoint.clone(), self.client()?, self.limits);
        let dm = match endpoint.deployment_manager() {
            Some(dm) => dm.to_owned(),
            None => only_deployment_manager(&transport).await?,
        };
        let info: AdapterInfo = transport.get(&o2dms_api::paths::info(&dm)).await?;
        let caps: Capabilities = transport.get(&o2dms_api::paths::capabilities(&dm)).await?;
        tracing::debug!(base = %endpoint.base(), dm = %dm, "connected");
        Ok(RemoteAdapter::new(transport, dm, info.into(), caps.into()))
    }

    fn client(&self) -> Result<reqwest::Client, Error> {
        let mut headers = HeaderMap::new();
        headers.insert(
            HeaderName::from_static("version"),
            HeaderValue::from_static(media::API_VERSION),
        );
        headers.insert(
            ACCEPT,
            HeaderValue::from_static("application/json, application/problem+json"),
        );
        if let Some(token) = &self.token {
            let mut v = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                Error::invalid("token", "a token must be visible ASCII without spaces")
            })?;
            v.set_sensitive(true);
            headers.insert(AUTHORIZATION, v);
        }
        let mut builder = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!("o2dms-remote/", env!("CARGO_PKG_VERSION")))
            .tcp_nodelay(true)
            .connect_timeout(self.limits.connect_timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .danger_accept_invalid_certs(self.accept_invalid_certs);
        if let Some(pem) = &self.identity {
            // reqwest's message may quote the PEM: not passed on.
            let identity = reqwest::Identity::from_pem(pem).map_err(|_| {
                Error::invalid(
                    "clientIdentity",
                    "not a PEM certificate chain with its private key (PKCS#8, PKCS#1 or SEC1)",
                )
            })?;
            builder = builder.identity(identity);
        }
        for pem in &self.root_certificates {
            let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
                Error::invalid("rootCertificate", format!("not a PEM certificate: {e}"))
            })?;
            if certs.is_empty() {
                return Err(Error::invalid(
                    "rootCertificate",
                    "the PEM holds no certificate",
                ));
            }
            for c in certs {
                builder = builder.add_root_certificate(c);
            }
        }
        builder
            .build()
            .map_err(|e| Error::backend_from("building the HTTP client", e))
    }
}

/// The server's only deployment manager.
async fn only_deployment_manager(transport: &Transport) -> Result<String, Error> {
    let list: DeploymentManagerList = transport
        .get(&o2dms_api::paths::deployment_managers())
        .await?;
    match list.items.as_slice() {
        [one] => Ok(one.name.clone()),
        [] => Err(Error::invalid(
            "endpoint",
            "the server hosts no deployment manager",
        )),
        many => Err(Error::invalid(
            "endpoint",
            format!(
                "the server hosts several deployment managers ({}): name one, URL/<name>",
                many.iter()
                    .map(|d| d.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}
