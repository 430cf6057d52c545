//! Where a DMS server is: `URL[/deployment-manager]`.

use o2dms_api::{paths, segment};
use o2dms_core::Error;
use reqwest::Url;

/// A parsed endpoint: the server's base URL and, when named, a deployment manager.
///
/// Accepted forms (a trailing `/` is ignored):
/// - `http://host:port`: the server at its root; the deployment manager is found by
///   asking the server (it must host exactly one);
/// - `http://host:port/edge`: the deployment manager `edge`, the server at the root;
/// - `https://host/prefix/edge`: behind a reverse proxy that serves the API under
///   `/prefix`;
/// - `http://host:port/o2dms/v1/deploymentManagers/edge`: the deployment manager's own
///   URL (anything before `/o2dms/v1` is the prefix).
///
/// ```
/// let e = o2dms_remote::Endpoint::parse("http://127.0.0.1:8080/edge")?;
/// assert_eq!(e.base().as_str(), "http://127.0.0.1:8080/");
/// assert_eq!(e.deployment_manager(), Some("edge"));
/// let e = o2dms_remote::Endpoint::parse("https://dms.example/o2dms/v1/deploymentManagers/core")?;
/// assert_eq!(e.deployment_manager(), Some("core"));
/// # Ok::<(), o2dms_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    base: Url,
    dm: Option<String>,
}

impl Endpoint {
    /// Parses `URL[/deployment-manager]`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] on field `endpoint`: not an absolute `http`/`https`
    /// URL, a query or fragment, credentials in the URL, or a deployment manager name
    /// that is not a valid path segment.
    pub fn parse(text: &str) -> Result<Endpoint, Error> {
        let invalid = |reason: &str| Error::invalid("endpoint", reason.to_owned());
        let url = Url::parse(text.trim()).map_err(|e| invalid(&format!("not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https"));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid("the URL has no host"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(invalid("the URL must not have a query or a fragment"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid(
                "the URL must not carry credentials; use a bearer token",
            ));
        }
        let segments: Vec<String> = url
            .path_segments()
            .map(|s| s.filter(|s| !s.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default();
        let api: Vec<&str> = paths::DEPLOYMENT_MANAGERS
            .split('/')
            .filter(|s| !s.is_empty())
            .collect();
        let api_at = segments
            .windows(api.len())
            .position(|w| w.iter().map(String::as_str).eq(api.iter().copied()));
        let (prefix, dm) =
            match api_at {
                Some(at) => {
                    let rest = &segments[at + api.len()..];
                    match rest {
                        [] => (&segments[..at], None),
                        [dm] => (&segments[..at], Some(dm.clone())),
                        _ => return Err(invalid(
                            "after /deploymentManagers/ only a deployment manager name may follow",
                        )),
                    }
                }
                None => match segments.split_last() {
                    Some((dm, prefix)) => (prefix, Some(dm.clone())),
                    None => (&segments[..], None),
                },
            };
        let dm = dm
            .map(|d| decode_dm(&d))
            .transpose()
            .map_err(|reason| invalid(&reason))?;
        let mut base = url.clone();
        let mut path = String::from("/");
        for s in prefix {
            path.push_str(s);
            path.push('/');
        }
        base.set_path(&path);
        Ok(Endpoint { base, dm })
    }

    /// This endpoint with deployment manager `dm`.
    pub fn with_deployment_manager(mut self, dm: impl Into<String>) -> Endpoint {
        self.dm = Some(dm.into());
        self
    }

    /// The server's base URL, ending in `/`: API paths are appended to it.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// The deployment manager, when the endpoint names one.
    pub fn deployment_manager(&self) -> Option<&str> {
        self.dm.as_deref()
    }

    /// The absolute URL of an API path (`/o2dms/v1/...`, from [`o2dms_api::paths`]).
    pub(crate) fn url(&self, path: &str) -> String {
        let base = self.base.as_str().trim_end_matches('/');
        format!("{base}{path}")
    }
}

/// A deployment manager name from a URL segment (percent-decoded, then validated as
/// the server validates it: a DNS-1123 label).
fn decode_dm(segment_text: &str) -> Result<String, String> {
    segment::deployment_manager(segment_text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(text: &str) -> (String, Option<String>) {
        let e = Endpoint::parse(text).unwrap();
        (e.base.to_string(), e.dm)
    }

    #[test]
    fn reads_every_form() {
        assert_eq!(
            parts("http://127.0.0.1:8080"),
            ("http://127.0.0.1:8080/".into(), None)
        );
        assert_eq!(
            parts("http://127.0.0.1:8080/"),
            ("http://127.0.0.1:8080/".into(), None)
        );
        assert_eq!(
            parts("http://127.0.0.1:8080/edge/"),
            ("http://127.0.0.1:8080/".into(), Some("edge".into()))
        );
        assert_eq!(
            parts("https://dms.example/api/edge"),
            ("https://dms.example/api/".into(), Some("edge".into()))
        );
        assert_eq!(
            parts("https://dms.example/p/o2dms/v1/deploymentManagers/core"),
            ("https://dms.example/p/".into(), Some("core".into()))
        );
        assert_eq!(
            parts("https://dms.example/o2dms/v1/deploymentManagers"),
            ("https://dms.example/".into(), None)
        );
    }

    #[test]
    fn refuses_what_is_not_an_endpoint() {
        for bad in [
            "",
            "127.0.0.1:8080",
            "ftp://host/edge",
            "http://host/edge?x=1",
            "http://host/edge#top",
            "http://user:secret@host/edge",
            "http://host/o2dms/v1/deploymentManagers/edge/deployments",
        ] {
            let err = Endpoint::parse(bad).unwrap_err();
            assert!(
                matches!(&err, Error::InvalidArgument { field, .. } if field == "endpoint"),
                "{bad}: {err:?}"
            );
        }
    }

    #[test]
    fn builds_api_urls_under_the_prefix() {
        let e = Endpoint::parse("https://dms.example/p/edge").unwrap();
        assert_eq!(
            e.url(&paths::deployments("edge")),
            "https://dms.example/p/o2dms/v1/deploymentManagers/edge/deployments"
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,80}") {
            let _ = Endpoint::parse(&s);
        }
    }
}
