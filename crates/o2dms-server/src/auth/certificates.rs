//! Client certificates (mutual TLS): the names of a certificate the listener verified
//! ([`ClientIdentity`]), and the configured clients they map to.
//!
//! The server does not do TLS: a TLS listener verifies the certificate against its CA
//! during the handshake, reads its names, and hands them over with the connection
//! ([`Peer`](crate::Peer)). Here they only meet the rules: a client rule's `subject` is
//! compared with the certificate's subject common names, its DNS names (ignoring ASCII
//! case, as DNS does) and its URI names (exactly); the first rule that matches, in the
//! order they were added, decides.

use std::fmt;

use super::scope::Access;

/// The names of a client certificate that a TLS listener verified against the client
/// CA: the common names of its subject, its DNS names and URI names (subject
/// alternative names). `Debug` shows how many there are, never the names.
///
/// ```
/// use o2dms_server::auth::ClientIdentity;
/// let id = ClientIdentity::new()
///     .with_common_name("smo")
///     .with_dns_name("smo.example.net")
///     .with_uri("spiffe://example.net/smo");
/// assert!(id.matches("smo") && id.matches("SMO.example.net") && id.matches("spiffe://example.net/smo"));
/// assert!(!id.matches("Smo") && !id.matches("example.net"));
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ClientIdentity {
    common_names: Vec<String>,
    dns_names: Vec<String>,
    uris: Vec<String>,
}

impl ClientIdentity {
    /// No names yet.
    pub fn new() -> Self {
        ClientIdentity::default()
    }

    /// With a common name (CN) of the certificate's subject.
    pub fn with_common_name(mut self, name: impl Into<String>) -> Self {
        self.common_names.push(name.into());
        self
    }

    /// With a DNS name (a `dNSName` subject alternative name).
    pub fn with_dns_name(mut self, name: impl Into<String>) -> Self {
        self.dns_names.push(name.into());
        self
    }

    /// With a URI (a `uniformResourceIdentifier` subject alternative name, such as a
    /// SPIFFE id).
    pub fn with_uri(mut self, uri: impl Into<String>) -> Self {
        self.uris.push(uri.into());
        self
    }

    /// The common names of its subject.
    pub fn common_names(&self) -> &[String] {
        &self.common_names
    }

    /// Its DNS names.
    pub fn dns_names(&self) -> &[String] {
        &self.dns_names
    }

    /// Its URI names.
    pub fn uris(&self) -> &[String] {
        &self.uris
    }

    /// Whether `subject` is one of its names: a common name or a URI exactly, a DNS name
    /// ignoring ASCII case.
    pub fn matches(&self, subject: &str) -> bool {
        self.common_names.iter().any(|n| n == subject)
            || self.uris.iter().any(|n| n == subject)
            || self
                .dns_names
                .iter()
                .any(|n| n.eq_ignore_ascii_case(subject))
    }
}

impl fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientIdentity")
            .field(
                "names",
                &(self.common_names.len() + self.dns_names.len() + self.uris.len()),
            )
            .finish_non_exhaustive()
    }
}

/// A configured client: its name (what the logs say), the subject it matches, what it
/// may do.
#[derive(Debug, Clone)]
pub(crate) struct ClientRule {
    pub(crate) name: String,
    pub(crate) subject: String,
    pub(crate) access: Access,
}

/// The first rule whose subject `identity` matches.
pub(crate) fn lookup<'a>(
    rules: &'a [ClientRule],
    identity: &ClientIdentity,
) -> Option<&'a ClientRule> {
    rules.iter().find(|r| identity.matches(&r.subject))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Scope;

    #[test]
    fn the_first_matching_rule_decides_and_debug_hides_names() {
        let rules = [
            ClientRule {
                name: "by-uri".into(),
                subject: "spiffe://o2dms/smo".into(),
                access: Access::new(Scope::Write),
            },
            ClientRule {
                name: "by-dns".into(),
                subject: "smo.example.net".into(),
                access: Access::new(Scope::Read),
            },
        ];
        let id = ClientIdentity::new()
            .with_common_name("secret-looking-cn")
            .with_dns_name("SMO.Example.NET");
        assert_eq!(lookup(&rules, &id).map(|r| r.name.as_str()), Some("by-dns"));
        let both = id.clone().with_uri("spiffe://o2dms/smo");
        assert_eq!(
            lookup(&rules, &both).map(|r| r.name.as_str()),
            Some("by-uri")
        );
        assert!(lookup(&rules, &ClientIdentity::new().with_common_name("x")).is_none());
        // URIs and common names are exact
        assert!(!ClientIdentity::new()
            .with_uri("SPIFFE://o2dms/smo")
            .matches("spiffe://o2dms/smo"));
        let shown = format!("{both:?}");
        assert!(
            !shown.contains("secret-looking-cn") && !shown.contains("SMO"),
            "{shown}"
        );
    }
}
