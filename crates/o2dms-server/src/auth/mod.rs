//! Access control: who may do what. An [`Auth`] policy, set with
//! [`ServerBuilder::auth`](crate::ServerBuilder::auth), names the credentials the
//! server accepts, each with an [`Access`]: a [`Scope`] (`read` for GET and HEAD,
//! `write` for everything) and optionally the deployment managers it is limited to.
//!
//! | file | concern |
//! | --- | --- |
//! | `tokens` | bearer tokens: kept as SHA-256 digests, compared in constant time |
//! | `certificates` | client certificates: [`ClientIdentity`] and the clients it maps to |
//! | `scope` | [`Scope`] and [`Access`] |
//! | `middleware` | the layer every request goes through: 401, 403, the [`Principal`] |
//!
//! Every request, to any route (unknown routes included: an unauthenticated client
//! learns nothing, not even which paths exist), is authenticated first:
//!
//! 1. With an `Authorization` header, the header decides: `Bearer <token>` with a
//!    configured token is that token's principal; any other value (an unknown token,
//!    another scheme, several headers) is 401, even over a connection with a valid
//!    client certificate.
//! 2. Without one, a client certificate the TLS listener verified (see
//!    [`Peer`](crate::Peer)) is the principal of the first configured client whose
//!    subject it matches; a certificate no client matches is 401.
//! 3. Without either, the request is anonymous: allowed with the anonymous scope if one
//!    is set ([`Auth::anonymous`]), else 401.
//!
//! A 401 is the `urn:o2dms:problem:unauthenticated` problem with `WWW-Authenticate:
//! Bearer realm="o2dms"` (`, error="invalid_token"` when credentials were sent). Then
//! the request is authorised: a request needing `write` from an anonymous request
//! allowed to read is 401 (credentials would help); from a principal with scope `read`,
//! 403 (`permission_denied`, `action` the method and path). A principal limited to some
//! deployment managers gets 403 under any other (`deploymentManagers/{dm}/...`, before
//! the server looks the name up, so it learns nothing about other names either); the
//! list of deployment managers is filtered to its own rather than refused. Unknown
//! routes and wrong methods answer 404 and 405 once authenticated.
//!
//! Tokens are never kept (only their digests), never logged and never shown by `Debug`;
//! the logs name the token's or client's configured name (the `principal` field of the
//! request's span) and the reason of a refusal, never the credential.
//!
//! ```
//! use o2dms_server::auth::{Access, Auth, Scope};
//! let auth = Auth::new()
//!     .token("smo", "a-long-random-token", Access::new(Scope::Write).only(["edge"]))
//!     .token("dashboard", "another-long-token", Access::new(Scope::Read))
//!     .client("smo-mtls", "smo.example.net", Access::new(Scope::Write));
//! let server = o2dms_server::Server::builder()
//!     .adapter("edge", o2dms_mock::MockAdapter::new())
//!     .auth(auth)
//!     .build()
//!     .expect("valid");
//! # drop(server);
//! ```

mod certificates;
pub(crate) mod middleware;
mod scope;
mod tokens;

use std::fmt;

use http::{HeaderMap, Method};
use o2dms_api::segment;

pub use certificates::ClientIdentity;
pub use scope::{Access, Scope};

use certificates::ClientRule;
use tokens::{Presented, TokenEntry};

/// The name of the [`Principal`] of an anonymous request.
pub const ANONYMOUS: &str = "anonymous";

/// The access control of a [`Server`](crate::Server): the bearer tokens and client
/// certificates it accepts, and what requests without credentials may do. See the
/// [module](self) for the rules.
///
/// A policy with nothing in it refuses every request (401). `Debug` shows the names
/// only.
#[derive(Clone, Default)]
pub struct Auth {
    tokens: Vec<TokenEntry>,
    clients: Vec<ClientRule>,
    anonymous: Option<Scope>,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tokens: Vec<&str> = self.tokens.iter().map(|t| t.name.as_str()).collect();
        let clients: Vec<&str> = self.clients.iter().map(|c| c.name.as_str()).collect();
        f.debug_struct("Auth")
            .field("tokens", &tokens)
            .field("clients", &clients)
            .field("anonymous", &self.anonymous)
            .finish()
    }
}

impl Auth {
    /// A policy that accepts nothing yet.
    pub fn new() -> Self {
        Auth::default()
    }

    /// Accepts `Authorization: Bearer <token>` as the principal `name` with `access`.
    /// Only the token's SHA-256 digest is kept. The token must be visible ASCII without
    /// spaces, and unique; names are unique among tokens and clients
    /// ([`ServerBuilder::build`](crate::ServerBuilder::build) checks).
    pub fn token(
        mut self,
        name: impl Into<String>,
        token: impl AsRef<[u8]>,
        access: Access,
    ) -> Self {
        let token = token.as_ref();
        self.tokens.push(TokenEntry {
            name: name.into(),
            digest: tokens::digest(token),
            access,
            sendable: tokens::is_sendable(token),
        });
        self
    }

    /// Accepts a verified client certificate whose subject common name, DNS name or URI
    /// name is `subject` (see [`ClientIdentity::matches`]) as the principal `name` with
    /// `access`. The certificate is verified by the TLS listener, against its client CA.
    pub fn client(
        mut self,
        name: impl Into<String>,
        subject: impl Into<String>,
        access: Access,
    ) -> Self {
        self.clients.push(ClientRule {
            name: name.into(),
            subject: subject.into(),
            access,
        });
        self
    }

    /// What requests without credentials may do: `Some(Scope::Read)` lets them read;
    /// `None` (the default) refuses them (401).
    pub fn anonymous(mut self, scope: Option<Scope>) -> Self {
        self.anonymous = scope;
        self
    }

    /// What is wrong with the policy, if anything: an empty or duplicate name, a token
    /// that cannot be sent or is given twice, an empty subject, a deployment manager
    /// name that is not one.
    pub(crate) fn problem(&self) -> Option<String> {
        let names = self
            .tokens
            .iter()
            .map(|t| (t.name.as_str(), "token", t.access.deployment_managers()))
            .chain(
                self.clients
                    .iter()
                    .map(|c| (c.name.as_str(), "client", c.access.deployment_managers())),
            );
        let mut seen: Vec<&str> = Vec::new();
        for (name, what, dms) in names {
            if name.is_empty() || name.chars().any(char::is_control) {
                return Some(format!(
                    "a {what} has an empty name or one with control characters"
                ));
            }
            if seen.contains(&name) {
                return Some(format!("the name `{name}` is given twice"));
            }
            seen.push(name);
            for dm in dms.into_iter().flatten() {
                if segment::deployment_manager(&segment::encode(dm)).is_err() {
                    return Some(format!(
                        "{what} `{name}`: `{dm}` is not a deployment manager name"
                    ));
                }
            }
        }
        for (i, t) in self.tokens.iter().enumerate() {
            if !t.sendable {
                return Some(format!(
                    "token `{}`: a token is visible ASCII without spaces, and not empty",
                    t.name
                ));
            }
            if let Some(first) = self.tokens[..i].iter().find(|u| u.digest == t.digest) {
                return Some(format!(
                    "tokens `{}` and `{}` are the same token",
                    first.name, t.name
                ));
            }
        }
        if let Some(c) = self.clients.iter().find(|c| c.subject.is_empty()) {
            return Some(format!("client `{}` has an empty subject", c.name));
        }
        None
    }

    /// Who sent a request with `headers` over a connection with `client` (a verified
    /// certificate's names); why not, when nobody.
    fn authenticate(
        &self,
        headers: &HeaderMap,
        client: Option<&ClientIdentity>,
    ) -> Result<Principal, Unauthenticated> {
        match tokens::presented(headers) {
            Presented::Bearer(token) => tokens::lookup(&self.tokens, token)
                .map(|t| Principal::new(&t.name, Credential::BearerToken, t.access.clone()))
                .ok_or(Unauthenticated::UnknownToken),
            Presented::Malformed => Err(Unauthenticated::Malformed),
            Presented::Nothing => match client {
                Some(identity) => certificates::lookup(&self.clients, identity)
                    .map(|c| {
                        Principal::new(&c.name, Credential::ClientCertificate, c.access.clone())
                    })
                    .ok_or(Unauthenticated::UnknownCertificate),
                None => self
                    .anonymous
                    .map(|scope| {
                        Principal::new(ANONYMOUS, Credential::Anonymous, Access::new(scope))
                    })
                    .ok_or(Unauthenticated::Missing),
            },
        }
    }

    /// The decision on one request: its principal, or why it is refused.
    pub(crate) fn decide(
        &self,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
        client: Option<&ClientIdentity>,
    ) -> Result<Principal, Refusal> {
        let principal = self
            .authenticate(headers, client)
            .map_err(Refusal::Unauthenticated)?;
        let needed = Scope::needed_for(method);
        if principal.access.scope() < needed {
            return Err(if principal.credential == Credential::Anonymous {
                Refusal::Unauthenticated(Unauthenticated::Missing)
            } else {
                Refusal::Forbidden {
                    reason: format!(
                        "`{}` has scope {}; this request needs {needed}",
                        principal.name,
                        principal.access.scope()
                    ),
                    principal: principal.name,
                }
            });
        }
        if let Some(dms) = principal.access.deployment_managers() {
            let allowed = match deployment_manager_of(path) {
                Segment::NotUnder => true,
                Segment::Named(dm) => dms.contains(&dm),
                Segment::Invalid => false,
            };
            if !allowed {
                let list: Vec<&str> = dms.iter().map(String::as_str).collect();
                return Err(Refusal::Forbidden {
                    reason: format!(
                        "`{}` may use the deployment managers {} only",
                        principal.name,
                        list.join(", ")
                    ),
                    principal: principal.name,
                });
            }
        }
        Ok(principal)
    }

    /// Whether client certificates can mean anything to this policy.
    pub(crate) fn has_clients(&self) -> bool {
        !self.clients.is_empty()
    }
}

/// Who sent a request, as access control decided: a configured token or client, or an
/// anonymous request. Set as a request extension for the routes (and any layer of the
/// embedding application inside the server's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    name: String,
    credential: Credential,
    access: Access,
}

/// How a [`Principal`] proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credential {
    /// A configured bearer token.
    BearerToken,
    /// A verified client certificate matching a configured client.
    ClientCertificate,
    /// Nothing: an anonymous request the policy lets in.
    Anonymous,
}

impl Principal {
    fn new(name: &str, credential: Credential, access: Access) -> Self {
        Principal {
            name: name.to_owned(),
            credential,
            access,
        }
    }

    /// The configured name of its token or client ([`ANONYMOUS`] for an anonymous
    /// request).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How it proved who it is.
    pub fn credential(&self) -> Credential {
        self.credential
    }

    /// What it may do.
    pub fn access(&self) -> &Access {
        &self.access
    }
}

/// Why a request has no principal (401).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unauthenticated {
    /// No credentials (or an anonymous request that needs more than anonymous may do).
    Missing,
    /// An `Authorization` header that is not one bearer token.
    Malformed,
    /// A bearer token the server does not know.
    UnknownToken,
    /// A verified client certificate no configured client matches.
    UnknownCertificate,
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// 401.
    Unauthenticated(Unauthenticated),
    /// 403: the principal (its configured name) and why, for the client.
    Forbidden { principal: String, reason: String },
}

/// Where a path stands with respect to deployment managers.
#[derive(Debug, PartialEq, Eq)]
enum Segment {
    /// Not under `deploymentManagers/{dm}` (their list, an unknown route).
    NotUnder,
    /// Under the deployment manager of this (decoded) name.
    Named(String),
    /// Under a segment that is no deployment manager name.
    Invalid,
}

/// The deployment manager of `path` (as sent, percent-encoded).
fn deployment_manager_of(path: &str) -> Segment {
    let Some(rest) = path
        .strip_prefix(o2dms_api::paths::DEPLOYMENT_MANAGERS)
        .and_then(|r| r.strip_prefix('/'))
    else {
        return Segment::NotUnder;
    };
    let raw = rest.split('/').next().unwrap_or_default();
    match segment::deployment_manager(raw) {
        Ok(name) => Segment::Named(name),
        Err(_) => Segment::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::AUTHORIZATION;
    use http::HeaderValue;

    fn bearer(token: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
        );
        h
    }

    fn policy() -> Auth {
        Auth::new()
            .token("writer", "writer-token", Access::new(Scope::Write))
            .token("reader", "reader-token", Access::new(Scope::Read))
            .token(
                "edge-only",
                "edge-token",
                Access::new(Scope::Write).only(["edge"]),
            )
            .client("smo", "smo.example.net", Access::new(Scope::Read))
    }

    #[test]
    fn decisions() {
        let p = policy();
        let dms = o2dms_api::paths::DEPLOYMENT_MANAGERS;
        let edge = o2dms_api::paths::deployments("edge");
        let core = o2dms_api::paths::deployments("core");
        let none = HeaderMap::new();
        let decide = |m: Method, path: &str, h: &HeaderMap, c: Option<&ClientIdentity>| {
            p.decide(&m, path, h, c)
        };
        let unauth = |u| Err(Refusal::Unauthenticated(u));
        assert_eq!(
            decide(Method::GET, dms, &none, None),
            unauth(Unauthenticated::Missing)
        );
        assert_eq!(
            decide(Method::GET, dms, &bearer("nope"), None),
            unauth(Unauthenticated::UnknownToken)
        );
        let w = decide(Method::POST, &edge, &bearer("writer-token"), None).unwrap();
        assert_eq!(
            (w.name(), w.credential()),
            ("writer", Credential::BearerToken)
        );
        assert!(decide(Method::GET, &edge, &bearer("reader-token"), None).is_ok());
        assert!(matches!(
            decide(Method::DELETE, &edge, &bearer("reader-token"), None),
            Err(Refusal::Forbidden { principal, .. }) if principal == "reader"
        ));
        assert!(decide(Method::POST, &edge, &bearer("edge-token"), None).is_ok());
        assert!(matches!(
            decide(Method::GET, &core, &bearer("edge-token"), None),
            Err(Refusal::Forbidden { .. })
        ));
        // a bad segment is no deployment manager of a limited token; the list is allowed
        assert!(matches!(
            decide(
                Method::GET,
                &format!("{dms}/%2e%2e/info"),
                &bearer("edge-token"),
                None
            ),
            Err(Refusal::Forbidden { .. })
        ));
        assert!(decide(Method::GET, dms, &bearer("edge-token"), None).is_ok());
        assert!(decide(Method::GET, "/elsewhere", &bearer("edge-token"), None).is_ok());

        // certificates: only without an Authorization header
        let smo = ClientIdentity::new().with_dns_name("smo.example.net");
        let other = ClientIdentity::new().with_common_name("intruder");
        let c = decide(Method::GET, &edge, &none, Some(&smo)).unwrap();
        assert_eq!(
            (c.name(), c.credential()),
            ("smo", Credential::ClientCertificate)
        );
        assert!(matches!(
            decide(Method::POST, &edge, &none, Some(&smo)),
            Err(Refusal::Forbidden { .. })
        ));
        assert_eq!(
            decide(Method::GET, &edge, &none, Some(&other)),
            unauth(Unauthenticated::UnknownCertificate)
        );
        assert_eq!(
            decide(Method::GET, &edge, &bearer("nope"), Some(&smo)),
            unauth(Unauthenticated::UnknownToken)
        );
    }

    #[test]
    fn anonymous_reads_and_writes_need_credentials() {
        let p = policy().anonymous(Some(Scope::Read));
        let edge = o2dms_api::paths::deployments("edge");
        let a = p
            .decide(&Method::GET, &edge, &HeaderMap::new(), None)
            .unwrap();
        assert_eq!(
            (a.name(), a.credential()),
            (ANONYMOUS, Credential::Anonymous)
        );
        assert_eq!(
            p.decide(&Method::POST, &edge, &HeaderMap::new(), None),
            Err(Refusal::Unauthenticated(Unauthenticated::Missing))
        );
    }

    #[test]
    fn problems_of_a_policy_and_debug_without_tokens() {
        assert_eq!(policy().problem(), None);
        let twice = policy().token("again", "writer-token", Access::new(Scope::Read));
        assert!(twice.problem().unwrap().contains("same token"));
        let name = policy().token("reader", "x-token", Access::new(Scope::Read));
        assert!(name.problem().unwrap().contains("twice"));
        let spaces = Auth::new().token("a", "with space", Access::new(Scope::Read));
        assert!(spaces.problem().unwrap().contains("visible ASCII"));
        let empty = Auth::new().token("a", "", Access::new(Scope::Read));
        assert!(empty.problem().is_some());
        let dm = Auth::new().token("a", "t", Access::new(Scope::Read).only(["Not_A_Name"]));
        assert!(dm
            .problem()
            .unwrap()
            .contains("not a deployment manager name"));
        let shown = format!("{:?}", policy());
        assert!(
            shown.contains("writer") && !shown.contains("writer-token"),
            "{shown}"
        );
    }

    #[test]
    fn the_deployment_manager_of_a_path() {
        assert_eq!(
            deployment_manager_of("/o2dms/v1/deploymentManagers"),
            Segment::NotUnder
        );
        assert_eq!(
            deployment_manager_of("/o2dms/v1/deploymentManagersX/a"),
            Segment::NotUnder
        );
        assert_eq!(deployment_manager_of("/x"), Segment::NotUnder);
        assert_eq!(
            deployment_manager_of("/o2dms/v1/deploymentManagers/edge/deployments/a/b"),
            Segment::Named("edge".into())
        );
        assert_eq!(
            deployment_manager_of("/o2dms/v1/deploymentManagers/edge"),
            Segment::Named("edge".into())
        );
        assert_eq!(
            deployment_manager_of("/o2dms/v1/deploymentManagers/"),
            Segment::Invalid
        );
        assert_eq!(
            deployment_manager_of("/o2dms/v1/deploymentManagers/%65dge"),
            Segment::Named("edge".into())
        );
    }
}
