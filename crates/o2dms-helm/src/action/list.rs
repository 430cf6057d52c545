//! List: `list_deployments` from the newest revision of every release, filtered, in
//! (namespace, name) order, paged with an opaque continue token.

use base64::Engine as _;
use o2dms_core::{Deployment, DeploymentFilter, Error, Page, Result};

use super::Context;
use crate::storage::Head;

/// A list, as asked for (validated by the caller).
pub(crate) struct List<'a> {
    /// The filter and page.
    pub(crate) filter: &'a DeploymentFilter,
}

impl List<'_> {
    /// One page of the deployments that match. The total is exact when no package filter
    /// is set (labels and statuses are known without reading records); with one it is
    /// not given.
    pub(crate) async fn run(self, cx: &Context) -> Result<Page<Deployment>> {
        let filter = self.filter;
        let limit = filter.page.effective_limit()?;
        let after = filter
            .page
            .continue_token
            .as_deref()
            .map(decode_token)
            .transpose()?;
        let matching: Vec<Head> = cx
            .storage
            .heads(filter.namespace.as_deref())
            .await?
            .into_iter()
            .filter(|Head { meta: m, .. }| {
                filter.statuses.is_empty() || filter.statuses.contains(&m.status.live_status())
            })
            .filter(|Head { meta: m, .. }| {
                filter
                    .labels
                    .iter()
                    .all(|(k, v)| m.labels.get(k) == Some(v))
            })
            .collect();
        let total = filter
            .package_name
            .is_none()
            .then_some(matching.len() as u64);
        let candidates: Vec<Head> = matching
            .into_iter()
            .filter(|h| after.as_ref().is_none_or(|a| h.meta.key() > *a))
            .collect();
        let mut items: Vec<Deployment> = Vec::new();
        let mut more = false;
        'pages: for chunk in candidates.chunks(limit.max(16)) {
            // A record that vanished since the index saw it (a concurrent delete or
            // history pruning) is skipped.
            for r in cx.storage.records_of(chunk).await?.into_iter().flatten() {
                if let Some(p) = &filter.package_name {
                    if r.release.chart.metadata.name != *p {
                        continue;
                    }
                }
                if items.len() == limit {
                    more = true;
                    break 'pages;
                }
                items.push(cx.shown(&r));
            }
        }
        let continue_token = if more {
            items
                .last()
                .map(|d| encode_token(&d.id.namespace, &d.id.name))
        } else {
            None
        };
        Ok(Page {
            items,
            continue_token,
            total,
        })
    }
}

/// The token after deployment `ns/name`.
fn encode_token(ns: &str, name: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{ns}/{name}"))
}

/// The deployment a token continues after; InvalidArgument naming `continue` for a
/// token this adapter did not issue.
fn decode_token(t: &str) -> Result<(String, String)> {
    let bad = || Error::invalid("continue", "is not a token this adapter issued");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(t)
        .map_err(|_| bad())?;
    let s = String::from_utf8(raw).map_err(|_| bad())?;
    let (ns, name) = s.split_once('/').ok_or_else(bad)?;
    Ok((ns.to_owned(), name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_junk() {
        let t = encode_token("ns", "web");
        assert_eq!(decode_token(&t).unwrap(), ("ns".into(), "web".into()));
        assert!(decode_token("%%%").is_err());
        assert!(
            decode_token(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("x")).is_err()
        );
    }
}
