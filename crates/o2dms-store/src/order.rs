//! The stable order of packages (name, then SemVer version) and pagination with an
//! opaque continue token.

use std::cmp::Ordering;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use o2dms_core::{Error, Package, PackageFilter, Page, Result};

/// A version as Helm orders it: SemVer (a leading `v` and missing minor/patch parts
/// tolerated), with versions that are not SemVer after all SemVer ones, by text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum VersionKey {
    /// A SemVer version.
    SemVer(semver::Version),
    /// Anything else.
    Text(String),
}

impl VersionKey {
    pub(crate) fn parse(v: &str) -> Self {
        parse_lenient(v).map_or_else(|| VersionKey::Text(v.to_string()), VersionKey::SemVer)
    }
}

fn parse_lenient(v: &str) -> Option<semver::Version> {
    let v = v.strip_prefix('v').unwrap_or(v);
    if let Ok(parsed) = semver::Version::parse(v) {
        return Some(parsed);
    }
    // `1` or `1.2`, optionally with pre-release / build parts: pad to three numbers.
    let split = v.find(['-', '+']).unwrap_or(v.len());
    let (core, rest) = v.split_at(split);
    let parts = core.split('.').count();
    if parts == 0 || parts >= 3 {
        return None;
    }
    let padded = format!("{core}{}{rest}", ".0".repeat(3 - parts));
    semver::Version::parse(&padded).ok()
}

impl Ord for VersionKey {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (VersionKey::SemVer(a), VersionKey::SemVer(b)) => a.cmp(b),
            (VersionKey::SemVer(_), VersionKey::Text(_)) => Ordering::Less,
            (VersionKey::Text(_), VersionKey::SemVer(_)) => Ordering::Greater,
            (VersionKey::Text(a), VersionKey::Text(b)) => a.cmp(b),
        }
    }
}

impl PartialOrd for VersionKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Compares two (name, version, id) triples in the stable order. Versions equal as
/// SemVer but written differently (`1.0` and `1.0.0`) are ordered by their text, and the
/// same name@version held by two stores by id, so the order is total.
pub(crate) fn compare(a: (&str, &str, &str), b: (&str, &str, &str)) -> Ordering {
    a.0.cmp(b.0)
        .then_with(|| VersionKey::parse(a.1).cmp(&VersionKey::parse(b.1)))
        .then_with(|| a.1.cmp(b.1))
        .then_with(|| a.2.cmp(b.2))
}

fn key(p: &Package) -> (&str, &str, &str) {
    (&p.name, &p.version, p.id.as_str())
}

/// Sorts packages in the stable order.
pub(crate) fn sort(items: &mut [Package]) {
    items.sort_by(|a, b| compare(key(a), key(b)));
}

fn encode_token(p: &Package) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1\n{}\n{}\n{}", p.name, p.version, p.id))
}

fn decode_token(token: &str) -> Result<(String, String, String)> {
    let bad = || {
        Error::invalid(
            "continue_token",
            "not a token returned by this store's list",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let mut parts = text.splitn(4, '\n');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("v1"), Some(name), Some(version), Some(id)) => {
            Ok((name.to_string(), version.to_string(), id.to_string()))
        }
        _ => Err(bad()),
    }
}

/// Filters by name, sorts, and cuts the page the filter asks for. `total` counts
/// every package that matches the filter, across all pages.
///
/// The token names the last package returned, so a page continues after it even if
/// packages were added or removed in between.
pub(crate) fn paginate(mut items: Vec<Package>, filter: &PackageFilter) -> Result<Page<Package>> {
    let limit = filter.page.effective_limit()?;
    if let Some(name) = &filter.name {
        items.retain(|p| &p.name == name);
    }
    sort(&mut items);
    let total = items.len() as u64;
    let start = match &filter.page.continue_token {
        None => 0,
        Some(token) => {
            let (name, version, id) = decode_token(token)?;
            items.partition_point(|p| compare(key(p), (&name, &version, &id)) != Ordering::Greater)
        }
    };
    let rest = items.split_off(start.min(items.len()));
    let more = rest.len() > limit;
    let page: Vec<Package> = rest.into_iter().take(limit).collect();
    let continue_token = match (more, page.last()) {
        (true, Some(last)) => Some(encode_token(last)),
        _ => None,
    };
    Ok(Page {
        items: page,
        continue_token,
        total: Some(total),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use o2dms_core::{ErrorKind, PackageId, PackageSource, PageRequest, Timestamp};

    fn pkg(name: &str, version: &str) -> Package {
        Package {
            id: PackageId::new(format!("{name}@{version}")).unwrap(),
            name: name.into(),
            version: version.into(),
            app_version: None,
            description: String::new(),
            source: PackageSource::Uploaded,
            digest: String::new(),
            created_at: Timestamp::EPOCH,
            extensions: Default::default(),
        }
    }

    #[test]
    fn orders_by_name_then_semver() {
        let mut v = vec![
            pkg("b", "1.0.0"),
            pkg("a", "1.10.0"),
            pkg("a", "1.2.0"),
            pkg("a", "1.2.0-rc.1"),
            pkg("a", "not-semver"),
            pkg("a", "v0.9"),
        ];
        sort(&mut v);
        let got: Vec<_> = v
            .iter()
            .map(|p| format!("{}@{}", p.name, p.version))
            .collect();
        assert_eq!(
            got,
            [
                "a@v0.9",
                "a@1.2.0-rc.1",
                "a@1.2.0",
                "a@1.10.0",
                "a@not-semver",
                "b@1.0.0"
            ]
        );
    }

    #[test]
    fn pages_cover_everything_once_with_true_total() {
        let items: Vec<_> = (0..7).map(|i| pkg("c", &format!("1.{i}.0"))).collect();
        let mut filter = PackageFilter::all().page(PageRequest::first(3));
        let mut seen = Vec::new();
        loop {
            let page = paginate(items.clone(), &filter).unwrap();
            assert_eq!(page.total, Some(7));
            assert!(page.items.len() <= 3);
            seen.extend(page.items.iter().map(|p| p.version.clone()));
            match page.continue_token {
                Some(t) => filter.page.continue_token = Some(t),
                None => break,
            }
        }
        assert_eq!(seen.len(), 7);
        assert_eq!(seen[6], "1.6.0");
    }

    #[test]
    fn bad_tokens_and_limits_are_invalid_arguments() {
        let filter = PackageFilter::all().page(PageRequest::next(Some(1), "%%%"));
        assert_eq!(
            paginate(vec![], &filter).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
        let filter = PackageFilter::all().page(PageRequest::first(0));
        assert_eq!(
            paginate(vec![], &filter).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
    }
}
