//! The namespace allow-list (`namespaces`): its checks, and the one question every
//! operation asks of it.

use std::collections::HashSet;

use o2dms_core::{validate, Error, Result};

use super::HelmConfig;

impl HelmConfig {
    /// Whether the adapter serves `namespace`: always without an allow-list, otherwise
    /// when it is listed.
    pub fn serves(&self, namespace: &str) -> bool {
        self.namespaces.is_empty() || self.namespaces.iter().any(|n| n == namespace)
    }

    /// Ok when the adapter serves `namespace`; otherwise InvalidArgument naming the field
    /// `namespace` and the namespace, before anything reaches the cluster or helm.
    pub(crate) fn check_served(&self, namespace: &str) -> Result<()> {
        if self.serves(namespace) {
            return Ok(());
        }
        Err(Error::invalid(
            "namespace",
            format!(
                "namespace {namespace} is not served by this adapter: its allow-list \
                 (`namespaces`, {} entries) does not include it",
                self.namespaces.len()
            ),
        ))
    }

    /// Checks the allow-list: each entry a DNS-1123 label listed once (InvalidArgument
    /// naming `namespaces[i]`), and the default `namespace` among them (naming
    /// `namespace`).
    pub(super) fn validate_namespaces(&self) -> Result<()> {
        let mut seen = HashSet::new();
        for (i, ns) in self.namespaces.iter().enumerate() {
            let field = format!("namespaces[{i}]");
            validate::namespace(&field, ns)?;
            if !seen.insert(ns.as_str()) {
                return Err(Error::invalid(
                    field,
                    format!("namespace {ns} is listed more than once"),
                ));
            }
        }
        if !self.serves(&self.namespace) {
            return Err(Error::invalid(
                "namespace",
                format!(
                    "the default namespace {} is not in `namespaces`; set `namespace` to \
                     one of them",
                    self.namespace
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid(c: &HelmConfig) -> (String, String) {
        match c.validate() {
            Err(Error::InvalidArgument { field, reason }) => (field, reason),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn empty_serves_every_namespace() {
        let c = HelmConfig::builder().build().unwrap();
        assert!(c.serves("anything"));
        c.check_served("kube-system").unwrap();
    }

    #[test]
    fn a_list_serves_exactly_its_namespaces() {
        let c = HelmConfig::builder()
            .namespace("ran")
            .namespaces(["ran", "core"])
            .build()
            .unwrap();
        assert!(c.serves("ran") && c.serves("core"));
        assert!(!c.serves("edge") && !c.serves("ra") && !c.serves(""));
        match c.check_served("edge") {
            Err(Error::InvalidArgument { field, reason }) => {
                assert_eq!(field, "namespace");
                assert!(reason.contains("edge"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn entries_are_checked_and_named() {
        let mut c = HelmConfig::builder().build().unwrap();
        c.namespace = "a".into();
        c.namespaces = vec!["a".into(), "Bad_NS".into()];
        assert_eq!(invalid(&c).0, "namespaces[1]");
        c.namespaces = vec!["a".into(), "n".repeat(64)];
        assert_eq!(invalid(&c).0, "namespaces[1]");
        c.namespaces = vec!["a".into(), String::new()];
        assert_eq!(invalid(&c).0, "namespaces[1]");
        c.namespaces = vec!["a".into(), "b".into(), "a".into()];
        let (field, reason) = invalid(&c);
        assert_eq!(field, "namespaces[2]");
        assert!(reason.contains("more than once"), "{reason}");
        c.namespaces = vec!["b".into()];
        let (field, reason) = invalid(&c);
        assert_eq!(field, "namespace");
        assert!(reason.contains("not in `namespaces`"), "{reason}");
        c.namespaces = vec!["b".into(), "a".into()];
        c.validate().unwrap();
    }
}
