//! The labels of release Secrets: Helm's own, the adapter's (`o2dms.io/*`: a deployment's
//! scale key, the store prefix of its package id) and the user's.
//!
//! ## From a release back to its package id
//!
//! Helm records the chart's name and version in the release, not where the chart came
//! from. So that a deployment created from package id X reports X (and deleting X while
//! it is in use is a Conflict), the adapter writes the id's store prefix as the release
//! label [`PACKAGE_PREFIX_LABEL`] (`oci` for `oci:web@1.0.0`; store prefixes are
//! lowercase letters, digits and `-`, always a valid label value) and reads the id back as
//! `prefix:name@version` from that label and the recorded chart. An unprefixed id
//! (`web@1.0.0`, the local store) writes no label; an update to such a package removes
//! it (`--labels o2dms.io/package-prefix=null`, Helm 3 and 4). Helm carries labels over on
//! upgrade and copies the target revision's labels on rollback, so history and
//! rollbacks report each revision's own id. Releases made by the helm CLI have no label
//! and report `name@version`. Resolving name@version against the stores instead was
//! rejected: the same chart version can sit in several stores, and the answer would
//! change as stores change.

use std::collections::BTreeMap;

use o2dms_core::{validate, Error, PackageId, Result};

/// The labels Helm sets on every release Secret; everything else is a user label.
use o2dms_core::validate::RESERVED_LABEL_KEYS as SYSTEM_LABELS;

/// Label prefix the adapter uses for its own per-release settings (hidden from user labels).
pub(crate) const ADAPTER_LABEL_PREFIX: &str = "o2dms.io/";
/// The storage label that persists a deployment's scale key.
pub(crate) const SCALE_KEY_LABEL: &str = "o2dms.io/scale-key";
/// The storage label that records the store prefix of the package id a revision was
/// installed from (`oci` for `oci:web@1.0.0`); absent for unprefixed ids (`web@1.0.0`).
/// With the chart name and version of the record it gives back the exact package id.
pub(crate) const PACKAGE_PREFIX_LABEL: &str = "o2dms.io/package-prefix";

/// User labels: the Secret's labels without Helm's own and without the adapter's.
pub(crate) fn user_labels(labels: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    labels
        .iter()
        .filter(|(k, _)| {
            !SYSTEM_LABELS.contains(&k.as_str()) && !k.starts_with(ADAPTER_LABEL_PREFIX)
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Refuses user labels under the adapter's prefix, naming the label.
pub(crate) fn check_user_labels(labels: &BTreeMap<String, String>) -> Result<()> {
    match labels.keys().find(|k| k.starts_with(ADAPTER_LABEL_PREFIX)) {
        Some(k) => Err(Error::invalid(
            format!("labels[{k}]"),
            format!("the `{ADAPTER_LABEL_PREFIX}` prefix is reserved for the adapter"),
        )),
        None => Ok(()),
    }
}

/// A scale key as a storage label value (label values are at most 63 characters of
/// `[A-Za-z0-9_.-]` with alphanumeric ends).
pub(crate) fn scale_key_label(key: &str) -> Result<(String, String)> {
    validate::scale_key("scale_key", key)?;
    validate::label_value("scale_key", key).map_err(|_| {
        Error::invalid(
            "scale_key",
            "must fit a label value (at most 63 characters, alphanumeric at both ends) to be \
             stored with the release",
        )
    })?;
    Ok((SCALE_KEY_LABEL.to_owned(), key.to_owned()))
}

/// The store prefix of a package id (`oci` of `oci:web@1.0.0`), if it has one.
pub(crate) fn package_prefix(id: &PackageId) -> Option<&str> {
    id.as_str().split_once(':').map(|(p, _)| p)
}

/// The storage label recording `package`'s store prefix (see the module docs): set for
/// a prefixed id; for an unprefixed one, removed (`null`) when the current revision's
/// labels (`current`) have it.
pub(crate) fn package_label(
    package: &PackageId,
    current: Option<&BTreeMap<String, String>>,
) -> Result<Option<(String, String)>> {
    match package_prefix(package) {
        Some(prefix) => {
            // `null` is Helm's "remove this label" on upgrade.
            if prefix == "null" || validate::label_value("package", prefix).is_err() {
                return Err(Error::invalid(
                    "package",
                    format!(
                        "the store prefix `{prefix}` of `{package}` cannot be recorded as a \
                         release label (lowercase letters, digits and '-', not `null`)"
                    ),
                ));
            }
            Ok(Some((PACKAGE_PREFIX_LABEL.to_owned(), prefix.to_owned())))
        }
        None if current.is_some_and(|c| c.contains_key(PACKAGE_PREFIX_LABEL)) => {
            Ok(Some((PACKAGE_PREFIX_LABEL.to_owned(), "null".to_owned())))
        }
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_prefix_label_is_set_removed_or_refused() {
        let pid = |s: &str| PackageId::new(s).unwrap();
        assert_eq!(package_prefix(&pid("oci:web@1.0.0")), Some("oci"));
        assert_eq!(package_prefix(&pid("web@1.0.0")), None);
        assert_eq!(
            package_label(&pid("repo:web@1.0.0"), None).unwrap(),
            Some((PACKAGE_PREFIX_LABEL.to_owned(), "repo".to_owned()))
        );
        assert_eq!(package_label(&pid("web@1.0.0"), None).unwrap(), None);
        let with_prefix = BTreeMap::from([(PACKAGE_PREFIX_LABEL.to_owned(), "oci".to_owned())]);
        assert_eq!(
            package_label(&pid("web@1.0.0"), Some(&with_prefix)).unwrap(),
            Some((PACKAGE_PREFIX_LABEL.to_owned(), "null".to_owned()))
        );
        for bad in ["null:web@1", "Bad_:web@1", "x-:web@1"] {
            assert!(
                matches!(
                    package_label(&pid(bad), None),
                    Err(Error::InvalidArgument { ref field, .. }) if field == "package"
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn scale_keys_must_fit_a_label() {
        assert_eq!(
            scale_key_label("server.replicas").unwrap(),
            (SCALE_KEY_LABEL.to_owned(), "server.replicas".to_owned())
        );
        assert!(scale_key_label("_x").is_err());
        assert!(scale_key_label(&"a".repeat(64)).is_err());
        let reserved = BTreeMap::from([("o2dms.io/x".to_string(), "y".to_string())]);
        assert!(matches!(
            check_user_labels(&reserved),
            Err(Error::InvalidArgument { ref field, .. }) if field == "labels[o2dms.io/x]"
        ));
        assert!(check_user_labels(&BTreeMap::from([("tier".into(), "edge".into())])).is_ok());
    }

    #[test]
    fn user_labels_hide_helm_and_adapter_labels() {
        let labels: BTreeMap<String, String> = [
            ("name", "a"),
            ("owner", "helm"),
            ("status", "deployed"),
            ("version", "1"),
            ("createdAt", "1"),
            ("modifiedAt", "1"),
            (SCALE_KEY_LABEL, "server.replicas"),
            ("tier", "edge"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let u = user_labels(&labels);
        assert_eq!(u.len(), 1);
        assert_eq!(u["tier"], "edge");
    }
}
