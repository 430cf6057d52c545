//! Package ids: `[prefix:]name@version`, one prefix per kind of store.
//!
//! | store | id |
//! | --- | --- |
//! | [`LocalDirStore`](crate::LocalDirStore) | `name@version` |
//! | [`HttpRepoStore`](crate::HttpRepoStore) | `repo:name@version` |
//! | [`OciStore`](crate::OciStore) | `oci:name@version` |
//!
//! The remote stores' prefixes are configurable (`HttpRepoOptions::id_prefix`,
//! `OciOptions::id_prefix`: lowercase letters, digits and `-`), so several repositories
//! or registries can sit side by side in a `MultiStore`.
//!
//! A store given an id of another store's shape answers NotFound (the package is not
//! in this store); an id with no `name@version` shape, or a name or version with
//! characters no chart has, is InvalidArgument. Parsing never panics.

use o2dms_core::{Error, PackageId, Resource, Result};

/// The field named in InvalidArgument errors about ids.
pub(crate) const ID_FIELD: &str = "package_id";

/// Longest chart name accepted in an id.
const MAX_NAME: usize = 250;
/// Longest version accepted in an id.
const MAX_VERSION: usize = 128;

/// Checks a chart name as it may appear in an id, a file name and a registry path:
/// `[A-Za-z0-9][A-Za-z0-9._-]*`, no `..`.
pub(crate) fn check_name(field: &str, name: &str) -> Result<()> {
    let b = name.as_bytes();
    if b.is_empty() || b.len() > MAX_NAME {
        return Err(Error::invalid(
            field,
            format!("chart name must be 1 to {MAX_NAME} characters"),
        ));
    }
    if !b[0].is_ascii_alphanumeric()
        || !b
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
        || name.contains("..")
    {
        return Err(Error::invalid(
            field,
            format!("chart name `{name}` may contain only letters, digits, '.', '_' and '-', starting with a letter or digit"),
        ));
    }
    Ok(())
}

/// Checks a chart version as it may appear in an id and a file name:
/// `[A-Za-z0-9][A-Za-z0-9.+_-]*`, no `..`.
pub(crate) fn check_version(field: &str, version: &str) -> Result<()> {
    let b = version.as_bytes();
    if b.is_empty() || b.len() > MAX_VERSION {
        return Err(Error::invalid(
            field,
            format!("chart version must be 1 to {MAX_VERSION} characters"),
        ));
    }
    if !b[0].is_ascii_alphanumeric()
        || !b
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'+' | b'_' | b'-'))
        || version.contains("..")
    {
        return Err(Error::invalid(
            field,
            format!("chart version `{version}` may contain only letters, digits, '.', '+', '_' and '-', starting with a letter or digit"),
        ));
    }
    Ok(())
}

/// Checks a store's id prefix: 1 to 32 of `[a-z0-9-]`, starting with a letter and ending
/// with a letter or digit (so that a prefix is also a valid Kubernetes label value: the
/// Helm adapter records it on releases).
pub(crate) fn check_prefix(field: &str, prefix: &str) -> Result<()> {
    let b = prefix.as_bytes();
    if b.is_empty()
        || b.len() > 32
        || !b[0].is_ascii_lowercase()
        || !b[b.len() - 1].is_ascii_alphanumeric()
        || !b
            .iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
    {
        return Err(Error::invalid(
            field,
            format!("id prefix `{prefix}` must be 1 to 32 of lowercase letters, digits and '-', starting with a letter and ending with a letter or digit"),
        ));
    }
    Ok(())
}

/// Whether `id` starts with `prefix:`.
pub(crate) fn has_prefix(id: &PackageId, prefix: &str) -> bool {
    id.as_str()
        .strip_prefix(prefix)
        .is_some_and(|rest| rest.starts_with(':'))
}

/// Splits an id of this store's shape: `prefix` is `None` for the local store (ids with
/// no prefix), else e.g. `Some("oci")`.
///
/// Another store's prefix gives NotFound; a malformed id gives InvalidArgument.
pub(crate) fn parse(id: &PackageId, prefix: Option<&str>) -> Result<(String, String)> {
    let s = id.as_str();
    let rest = match (prefix, s.split_once(':')) {
        (None, None) => s,
        (None, Some(_)) => return Err(Error::not_found(Resource::Package, id)),
        (Some(p), Some((q, rest))) if p == q => rest,
        (Some(_), _) => return Err(Error::not_found(Resource::Package, id)),
    };
    let Some((name, version)) = rest.rsplit_once('@') else {
        return Err(Error::invalid(
            ID_FIELD,
            format!(
                "`{s}` is not a package id of the form `{}name@version`",
                prefix.map(|p| format!("{p}:")).unwrap_or_default()
            ),
        ));
    };
    check_name(ID_FIELD, name)?;
    check_version(ID_FIELD, version)?;
    Ok((name.to_string(), version.to_string()))
}

/// The id of `name@version` in a store with `prefix`.
pub(crate) fn format(prefix: Option<&str>, name: &str, version: &str) -> Result<PackageId> {
    match prefix {
        None => PackageId::new(format!("{name}@{version}")),
        Some(p) => PackageId::new(format!("{p}:{name}@{version}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use o2dms_core::ErrorKind;

    fn id(s: &str) -> PackageId {
        PackageId::new(s).unwrap()
    }

    #[test]
    fn round_trips_each_shape() {
        for prefix in [None, Some("repo"), Some("oci")] {
            let pid = format(prefix, "du", "1.2.3+build.1").unwrap();
            assert_eq!(
                parse(&pid, prefix).unwrap(),
                ("du".into(), "1.2.3+build.1".into())
            );
        }
    }

    #[test]
    fn other_stores_ids_are_not_found_and_garbage_is_invalid() {
        assert_eq!(
            parse(&id("oci:du@1.0.0"), None).unwrap_err().kind(),
            ErrorKind::NotFound
        );
        assert_eq!(
            parse(&id("du@1.0.0"), Some("oci")).unwrap_err().kind(),
            ErrorKind::NotFound
        );
        assert_eq!(
            parse(&id("repo:du@1.0.0"), Some("oci")).unwrap_err().kind(),
            ErrorKind::NotFound
        );
        for bad in [
            "du",
            "@1.0.0",
            "du@",
            "../x@1.0.0",
            "a/b@1",
            "du@1/2",
            "du@..",
            ".x@1",
        ] {
            assert_eq!(
                parse(&id(bad), None).unwrap_err().kind(),
                ErrorKind::InvalidArgument,
                "{bad}"
            );
        }
        assert_eq!(
            parse(&id("oci:x"), Some("oci")).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
    }

    #[test]
    fn prefixes_fit_a_label_value() {
        for good in ["oci", "repo", "x-1", "a"] {
            assert!(check_prefix("id_prefix", good).is_ok(), "{good}");
        }
        for bad in ["", "1x", "x-", "Oci", "a_b", &"a".repeat(33)] {
            assert_eq!(
                check_prefix("id_prefix", bad).unwrap_err().kind(),
                ErrorKind::InvalidArgument,
                "{bad}"
            );
        }
    }

    proptest::proptest! {
        /// Any printable id: parsing never panics, and whatever parses formats back to
        /// the same id.
        #[test]
        fn parsing_never_panics_and_round_trips(s in "(oci:|repo:|x-1:)?[a-zA-Z0-9._@:/-]{1,12}@[a-zA-Z0-9.+_@-]{1,12}|[!-~]{1,80}", prefix in "(oci|repo|x-1)") {
            if let Ok(pid) = PackageId::new(s) {
                for p in [None, Some(prefix.as_str())] {
                    if let Ok((name, version)) = parse(&pid, p) {
                        proptest::prop_assert_eq!(format(p, &name, &version).unwrap(), pid.clone());
                    }
                }
            }
        }
    }
}
