//! Scopes and what a credential may do: [`Scope`] (read or write) and [`Access`] (a
//! scope, optionally limited to some deployment managers).

use std::collections::BTreeSet;
use std::fmt;

use http::Method;

/// What a credential may do: `read` (GET and HEAD) or `write` (every method, reads
/// included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// GET and HEAD requests.
    Read,
    /// Every request.
    Write,
}

impl Scope {
    /// The scope a request of `method` needs: [`Scope::Read`] for GET and HEAD,
    /// [`Scope::Write`] for any other method.
    pub fn needed_for(method: &Method) -> Scope {
        if method == Method::GET || method == Method::HEAD {
            Scope::Read
        } else {
            Scope::Write
        }
    }

    /// Its name: `read`, `write`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one credential may do: a [`Scope`], on every deployment manager or only on
/// some.
///
/// ```
/// use o2dms_server::auth::{Access, Scope};
/// let smo = Access::new(Scope::Write).only(["edge"]);
/// assert!(smo.allows(Scope::Read, Some("edge")));
/// assert!(!smo.allows(Scope::Read, Some("core")));
/// assert!(Access::new(Scope::Read).allows(Scope::Read, Some("core")));
/// assert!(!Access::new(Scope::Read).allows(Scope::Write, None));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    scope: Scope,
    deployment_managers: Option<BTreeSet<String>>,
}

impl Access {
    /// `scope` on every deployment manager.
    pub fn new(scope: Scope) -> Self {
        Access {
            scope,
            deployment_managers: None,
        }
    }

    /// Limited to the deployment managers `names` (added to those given before). A
    /// request under another deployment manager is refused (403), and the list of
    /// deployment managers shows only these.
    pub fn only<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.deployment_managers
            .get_or_insert_with(BTreeSet::new)
            .extend(names.into_iter().map(Into::into));
        self
    }

    /// Its scope.
    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// The deployment managers it is limited to; `None` for all.
    pub fn deployment_managers(&self) -> Option<&BTreeSet<String>> {
        self.deployment_managers.as_ref()
    }

    /// Whether it may use the deployment manager `name`.
    pub fn allows_deployment_manager(&self, name: &str) -> bool {
        self.deployment_managers
            .as_ref()
            .is_none_or(|dms| dms.contains(name))
    }

    /// Whether it allows a request needing `needed` on the deployment manager `dm`
    /// (`None`: a request under no deployment manager, such as their list).
    pub fn allows(&self, needed: Scope, dm: Option<&str>) -> bool {
        self.scope >= needed && dm.is_none_or(|dm| self.allows_deployment_manager(dm))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_includes_read_and_methods_map_to_scopes() {
        assert!(Scope::Write > Scope::Read);
        assert_eq!(Scope::needed_for(&Method::GET), Scope::Read);
        assert_eq!(Scope::needed_for(&Method::HEAD), Scope::Read);
        for m in [
            Method::POST,
            Method::PATCH,
            Method::DELETE,
            Method::PUT,
            Method::OPTIONS,
        ] {
            assert_eq!(Scope::needed_for(&m), Scope::Write, "{m}");
        }
        let w = Access::new(Scope::Write);
        assert!(w.allows(Scope::Read, Some("any")) && w.allows(Scope::Write, None));
        let limited = Access::new(Scope::Read).only(["a"]).only(["b"]);
        assert!(limited.allows(Scope::Read, Some("b")));
        assert!(!limited.allows(Scope::Read, Some("c")));
        assert!(!limited.allows(Scope::Write, Some("a")));
        assert!(limited.allows(Scope::Read, None));
    }
}
