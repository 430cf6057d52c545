//! The `redactValues` setting: values whose keys match its patterns are shown as
//! [`REDACTED`] in what reads return (get, list, history, and the deployment a write
//! returns). Only what is shown changes: the release records, and the values an update
//! merges into and hands to helm, keep the real ones.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use o2dms_core::{Deployment, Error, Result, Revision, Value, Values};

/// What a masked value is shown as (the same mark as a value scrubbed from a message).
pub(crate) use crate::helm::REDACTED;

/// The compiled `redactValues` patterns; no patterns, nothing masked.
#[derive(Debug, Clone, Default)]
pub(crate) struct Redaction {
    /// `None` when there are no patterns.
    keys: Option<GlobSet>,
}

/// One pattern, case-insensitive; InvalidArgument naming `redactValues[i]` when it is
/// empty or not a glob.
fn glob(i: usize, pattern: &str) -> Result<globset::Glob> {
    let field = format!("redactValues[{i}]");
    if pattern.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    GlobBuilder::new(pattern)
        .case_insensitive(true)
        .build()
        .map_err(|e| Error::invalid(field, format!("is not a glob pattern: {}", e.kind())))
}

impl Redaction {
    /// Compiles `patterns` (globs on a value's key, the last segment of its path,
    /// case-insensitive); InvalidArgument naming `redactValues[i]` for the first bad one.
    pub(crate) fn new(patterns: &[String]) -> Result<Redaction> {
        if patterns.is_empty() {
            return Ok(Redaction::default());
        }
        let mut set = GlobSetBuilder::new();
        for (i, p) in patterns.iter().enumerate() {
            set.add(glob(i, p)?);
        }
        let keys = set
            .build()
            .map_err(|e| Error::invalid("redactValues", e.kind().to_string()))?;
        Ok(Redaction { keys: Some(keys) })
    }

    /// Checks `patterns` as [`new`](Self::new) does.
    pub(crate) fn check(patterns: &[String]) -> Result<()> {
        Self::new(patterns).map(|_| ())
    }

    /// `values` with every value whose key matches shown as [`REDACTED`] (whatever its
    /// type, a map included); maps inside lists are masked too.
    pub(crate) fn values(&self, values: &mut Values) {
        let Some(keys) = &self.keys else {
            return;
        };
        let mut map = std::mem::take(values).into_map();
        // An explicit stack: no recursion, whatever the depth.
        let mut stack: Vec<&mut Value> = Vec::new();
        for (k, v) in map.iter_mut() {
            mask_or_visit(keys, k, v, &mut stack);
        }
        while let Some(v) = stack.pop() {
            match v {
                Value::Map(m) => {
                    for (k, v) in m.iter_mut() {
                        mask_or_visit(keys, k, v, &mut stack);
                    }
                }
                Value::List(items) => stack.extend(items.iter_mut()),
                _ => {}
            }
        }
        *values = Values::from(map);
    }

    /// `d` as shown: its values masked.
    pub(crate) fn deployment(&self, mut d: Deployment) -> Deployment {
        self.values(&mut d.values);
        d
    }

    /// `r` as shown: its values masked.
    pub(crate) fn revision(&self, mut r: Revision) -> Revision {
        self.values(&mut r.values);
        r
    }
}

/// Masks `v` if `key` matches, else queues it to be looked into.
fn mask_or_visit<'a>(keys: &GlobSet, key: &str, v: &'a mut Value, stack: &mut Vec<&'a mut Value>) {
    if keys.is_match(key) {
        *v = Value::from(REDACTED);
    } else if matches!(v, Value::Map(_) | Value::List(_)) {
        stack.push(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(json: serde_json::Value) -> Values {
        serde_json::from_value(json).unwrap()
    }

    fn patterns(p: &[&str]) -> Vec<String> {
        p.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn matching_keys_are_masked_at_any_depth_and_of_any_type() {
        let r = Redaction::new(&patterns(&["*password*", "*token*", "*secret*", "*key"])).unwrap();
        let mut v = values(serde_json::json!({
            "adminPassword": "hunter2",
            "replicaCount": 2,
            "grafana": {"adminPASSWORD": 1234, "ini": {"apiToken": {"a": "b"}}},
            "secrets": {"x": "y"},
            "sshKey": ["a", "b"],
            "keyring": "kept: the pattern is *key, not *key*",
            "list": [{"clientSecret": "s"}, "plain"],
        }));
        r.values(&mut v);
        assert_eq!(
            v,
            values(serde_json::json!({
                "adminPassword": REDACTED,
                "replicaCount": 2,
                "grafana": {"adminPASSWORD": REDACTED, "ini": {"apiToken": REDACTED}},
                "secrets": REDACTED,
                "sshKey": REDACTED,
                "keyring": "kept: the pattern is *key, not *key*",
                "list": [{"clientSecret": REDACTED}, "plain"],
            }))
        );
    }

    #[test]
    fn no_patterns_mask_nothing() {
        let r = Redaction::new(&[]).unwrap();
        let before = values(serde_json::json!({"password": "x"}));
        let mut v = before.clone();
        r.values(&mut v);
        assert_eq!(v, before);
    }

    #[test]
    fn bad_patterns_are_named_by_index() {
        for (ps, field) in [
            (&["*password*", "[oops"][..], "redactValues[1]"),
            (&[""][..], "redactValues[0]"),
        ] {
            match Redaction::new(&patterns(ps)) {
                Err(Error::InvalidArgument { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{ps:?}: {other:?}"),
            }
        }
        assert!(Redaction::check(&patterns(&["{api,auth}*", "pass?ord", "[Tt]oken"])).is_ok());
    }

    #[test]
    fn deep_values_do_not_overflow_the_stack() {
        let r = Redaction::new(&patterns(&["password"])).unwrap();
        let mut inner = Value::Map([("password".to_owned(), Value::from("x"))].into());
        for _ in 0..100_000 {
            inner = Value::List(vec![inner]);
        }
        let mut v = Values::from_pairs([("deep", inner)]);
        r.values(&mut v);
        let mut cur = v.get("deep").unwrap();
        while let Value::List(l) = cur {
            cur = &l[0];
        }
        assert_eq!(cur.as_map().unwrap()["password"], Value::from(REDACTED));
        std::mem::forget(v);
    }
}
