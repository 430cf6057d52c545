//! Validation every adapter shares. Each check returns
//! [`Error::InvalidArgument`] naming the field and the rule, before anything is written.
//!
//! | what | rule |
//! | --- | --- |
//! | deployment name | Helm release name: DNS-1123 subdomain, lowercase, at most [`MAX_NAME_LEN`] (53) |
//! | namespace | DNS-1123 label, at most 63 |
//! | label key | optional DNS-1123 subdomain prefix (at most 253) + `/` + name (at most 63, alphanumeric ends, `-_.` inside); Helm's storage labels are reserved |
//! | label value | empty, or at most 63, alphanumeric ends, `-_.` inside |
//! | revision | at least 1 |
//! | replicas | at most [`MAX_REPLICAS`] |
//! | values | an object, at most [`MAX_VALUES_DEPTH`] deep and [`MAX_VALUES_BYTES`] as JSON, finite numbers |
//! | scale key | dotted path of 1 to 8 segments of `[A-Za-z0-9_-]` |
//! | page limit | 1 to [`MAX_PAGE_SIZE`](crate::page::MAX_PAGE_SIZE) |
//! | timeout | more than 0, at most [`MAX_TIMEOUT`] |

use std::collections::BTreeMap;
use std::time::Duration;

use crate::deployment::{CreateDeployment, RollbackRequest, ScaleRequest, UpdateDeployment};
use crate::error::{Error, Result};
use crate::logs::LogOptions;
use crate::package::PackageFilter;
use crate::page::{DeploymentFilter, PageRequest, MAX_PAGE_SIZE};
use crate::values::{Value, Values};

/// Longest deployment (Helm release) name.
pub const MAX_NAME_LEN: usize = 53;
/// Longest namespace (DNS-1123 label).
pub const MAX_NAMESPACE_LEN: usize = 63;
/// Largest replica count accepted by scale.
pub const MAX_REPLICAS: u32 = 10_000;
/// Deepest nesting of values.
pub const MAX_VALUES_DEPTH: usize = 64;
/// Largest values any adapter accepts, as compact JSON, in bytes (adapters may set a
/// lower limit: the Helm adapter's `maxValuesBytes` defaults to 512 KiB).
pub const MAX_VALUES_BYTES: usize = 1024 * 1024;
/// Longest timeout accepted.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 3600);
/// Longest description.
pub const MAX_DESCRIPTION_LEN: usize = 1024;
/// Label keys Helm's release storage uses itself; no adapter accepts them as user labels.
pub const RESERVED_LABEL_KEYS: [&str; 6] = [
    "name",
    "owner",
    "status",
    "version",
    "createdAt",
    "modifiedAt",
];

fn fail(field: &str, reason: impl Into<String>) -> Error {
    Error::invalid(field, reason)
}

fn is_lower_alnum(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`
fn dns_label_rule(s: &str) -> Option<&'static str> {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (None, _) | (_, None) => Some("must not be empty"),
        (Some(f), Some(l)) if !is_lower_alnum(*f) || !is_lower_alnum(*l) => {
            Some("must start and end with a lowercase letter or digit")
        }
        _ if !b.iter().all(|c| is_lower_alnum(*c) || *c == b'-') => {
            Some("may contain only lowercase letters, digits and '-'")
        }
        _ => None,
    }
}

/// A DNS-1123 subdomain: dot-separated DNS-1123 labels.
fn dns_subdomain_rule(s: &str) -> Option<&'static str> {
    if s.is_empty() {
        return Some("must not be empty");
    }
    s.split('.').find_map(|part| {
        dns_label_rule(part).map(|r| {
            if part.is_empty() {
                "must not have empty parts between dots"
            } else {
                r
            }
        })
    })
}

/// Checks a deployment name against Helm's release-name rules.
pub fn deployment_name(field: &str, name: &str) -> Result<()> {
    if name.len() > MAX_NAME_LEN {
        return Err(fail(
            field,
            format!(
                "must be at most {MAX_NAME_LEN} characters (got {})",
                name.len()
            ),
        ));
    }
    match dns_subdomain_rule(name) {
        Some(rule) => Err(fail(
            field,
            format!("{rule} (a Helm release name is a lowercase DNS-1123 subdomain)"),
        )),
        None => Ok(()),
    }
}

/// Checks a namespace: a DNS-1123 label.
pub fn namespace(field: &str, ns: &str) -> Result<()> {
    if ns.len() > MAX_NAMESPACE_LEN {
        return Err(fail(
            field,
            format!(
                "must be at most {MAX_NAMESPACE_LEN} characters (got {})",
                ns.len()
            ),
        ));
    }
    match dns_label_rule(ns) {
        Some(rule) => Err(fail(
            field,
            format!("{rule} (a namespace is a DNS-1123 label)"),
        )),
        None => Ok(()),
    }
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`, at most 63.
fn qualified_name_rule(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.is_empty() {
        return Some("must not be empty".into());
    }
    if b.len() > 63 {
        return Some(format!("must be at most 63 characters (got {})", b.len()));
    }
    if !b[0].is_ascii_alphanumeric() || !b[b.len() - 1].is_ascii_alphanumeric() {
        return Some("must start and end with a letter or digit".into());
    }
    if !b
        .iter()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
    {
        return Some("may contain only letters, digits, '-', '_' and '.'".into());
    }
    None
}

/// Checks a label key (`[prefix/]name`, as Kubernetes label keys).
pub fn label_key(field: &str, key: &str) -> Result<()> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(p) = prefix {
        if p.len() > 253 {
            return Err(fail(
                field,
                format!(
                    "key prefix must be at most 253 characters (got {})",
                    p.len()
                ),
            ));
        }
        if let Some(rule) = dns_subdomain_rule(p) {
            return Err(fail(
                field,
                format!("key prefix {rule} (a DNS-1123 subdomain)"),
            ));
        }
    }
    if let Some(rule) = qualified_name_rule(name) {
        return Err(fail(field, format!("key name {rule}")));
    }
    if prefix.is_none() && RESERVED_LABEL_KEYS.contains(&name) {
        return Err(fail(
            field,
            format!("`{name}` is reserved for Helm's release storage"),
        ));
    }
    Ok(())
}

/// Checks a label value (empty, or a qualified name of at most 63).
pub fn label_value(field: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Ok(());
    }
    match qualified_name_rule(value) {
        Some(rule) => Err(fail(field, format!("value {rule}"))),
        None => Ok(()),
    }
}

/// Checks every label, naming the bad one as `field[key]`.
pub fn labels(field: &str, labels: &BTreeMap<String, String>) -> Result<()> {
    for (k, v) in labels {
        let f = format!("{field}[{k}]");
        label_key(&f, k)?;
        label_value(&f, v)?;
    }
    Ok(())
}

/// Checks a revision number (at least 1).
pub fn revision(field: &str, revision: u32) -> Result<()> {
    if revision == 0 {
        return Err(fail(field, "must be at least 1 (revisions count from 1)"));
    }
    Ok(())
}

/// Checks a replica count (at most [`MAX_REPLICAS`]; 0 is allowed).
pub fn replicas(field: &str, replicas: u32) -> Result<()> {
    if replicas > MAX_REPLICAS {
        return Err(fail(
            field,
            format!("must be at most {MAX_REPLICAS} (got {replicas})"),
        ));
    }
    Ok(())
}

/// Checks values: depth, size and finite numbers; names the offending path.
pub fn values(field: &str, values: &Values) -> Result<()> {
    let depth = values.depth();
    if depth > MAX_VALUES_DEPTH {
        return Err(fail(
            field,
            format!("must be nested at most {MAX_VALUES_DEPTH} deep (got {depth})"),
        ));
    }
    let size = values.json_len();
    if size > MAX_VALUES_BYTES {
        return Err(fail(
            field,
            format!("must be at most {MAX_VALUES_BYTES} bytes as JSON (got {size})"),
        ));
    }
    finite_values(field, values)
}

/// Checks that every number in `values` is finite (JSON has no NaN nor infinity);
/// names the offending path (`values.a.b[2]`).
///
/// ```
/// use o2dms_core::{validate, Value, Values};
/// let mut v = Values::new();
/// v.insert("ratio", Value::Float(f64::NAN));
/// let err = validate::finite_values("values", &v).unwrap_err();
/// assert!(err.to_string().contains("values.ratio"));
/// ```
pub fn finite_values(field: &str, values: &Values) -> Result<()> {
    for (k, v) in values.as_map() {
        finite_numbers(&format!("{field}.{k}"), v)?;
    }
    Ok(())
}

fn finite_numbers(path: &str, v: &Value) -> Result<()> {
    match v {
        Value::Float(f) if !f.is_finite() => Err(fail(path, "numbers must be finite")),
        Value::List(l) => l
            .iter()
            .enumerate()
            .try_for_each(|(i, x)| finite_numbers(&format!("{path}[{i}]"), x)),
        Value::Map(m) => m
            .iter()
            .try_for_each(|(k, x)| finite_numbers(&format!("{path}.{k}"), x)),
        _ => Ok(()),
    }
}

/// Checks a scale key: a dotted values path such as `replicaCount` or `server.replicas`.
pub fn scale_key(field: &str, key: &str) -> Result<()> {
    let parts: Vec<&str> = key.split('.').collect();
    if key.len() > 253 || parts.len() > 8 {
        return Err(fail(field, "must be at most 8 segments and 253 characters"));
    }
    if parts.iter().any(|p| {
        p.is_empty()
            || !p
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
    }) {
        return Err(fail(
            field,
            "must be a dotted path of non-empty segments of letters, digits, '_' and '-'",
        ));
    }
    Ok(())
}

/// Checks a page limit.
pub fn page_limit(field: &str, limit: u32) -> Result<()> {
    if limit == 0 || limit > MAX_PAGE_SIZE {
        return Err(fail(
            field,
            format!("must be between 1 and {MAX_PAGE_SIZE} (got {limit})"),
        ));
    }
    Ok(())
}

/// Checks a package id: 1 to 512 printable ASCII characters, no whitespace.
pub fn package_id(field: &str, id: &str) -> Result<()> {
    if id.is_empty() || id.len() > 512 {
        return Err(fail(field, "must be 1 to 512 characters"));
    }
    if !id.bytes().all(|c| c.is_ascii_graphic()) {
        return Err(fail(field, "must be printable ASCII without whitespace"));
    }
    Ok(())
}

/// Checks a timeout: more than 0, at most [`MAX_TIMEOUT`].
pub fn timeout(field: &str, t: Duration) -> Result<()> {
    if t.is_zero() || t > MAX_TIMEOUT {
        return Err(fail(
            field,
            format!("must be more than 0 and at most {}s", MAX_TIMEOUT.as_secs()),
        ));
    }
    Ok(())
}

/// Checks a description: at most [`MAX_DESCRIPTION_LEN`] bytes, no control characters but tab.
pub fn description(field: &str, d: &str) -> Result<()> {
    if d.len() > MAX_DESCRIPTION_LEN {
        return Err(fail(
            field,
            format!("must be at most {MAX_DESCRIPTION_LEN} bytes"),
        ));
    }
    if d.chars().any(|c| c.is_control() && c != '\t') {
        return Err(fail(field, "must not contain control characters"));
    }
    Ok(())
}

fn optional<T: Copy>(field: &str, v: Option<T>, check: fn(&str, T) -> Result<()>) -> Result<()> {
    v.map_or(Ok(()), |v| check(field, v))
}

impl CreateDeployment {
    /// Checks every field, naming the first bad one.
    pub fn validate(&self) -> Result<()> {
        namespace("id.namespace", &self.id.namespace)?;
        deployment_name("id.name", &self.id.name)?;
        labels("labels", &self.labels)?;
        values("values", &self.values)?;
        if let Some(d) = &self.description {
            description("description", d)?;
        }
        optional("timeout", self.timeout, timeout)?;
        if let Some(k) = &self.scale_key {
            scale_key("scale_key", k)?;
        }
        Ok(())
    }
}

impl UpdateDeployment {
    /// Checks every field, naming the first bad one.
    pub fn validate(&self) -> Result<()> {
        values("values", &self.values)?;
        if let Some(d) = &self.description {
            description("description", d)?;
        }
        optional("timeout", self.timeout, timeout)
    }
}

impl ScaleRequest {
    /// Checks every field, naming the first bad one.
    pub fn validate(&self) -> Result<()> {
        replicas("replicas", self.replicas)?;
        if let Some(k) = &self.key {
            scale_key("key", k)?;
        }
        optional("timeout", self.timeout, timeout)
    }
}

impl RollbackRequest {
    /// Checks every field, naming the first bad one.
    pub fn validate(&self) -> Result<()> {
        optional("revision", self.revision, revision)?;
        optional("timeout", self.timeout, timeout)
    }
}

impl PageRequest {
    /// Checks the limit and that a continue token is printable and bounded.
    pub fn validate(&self) -> Result<()> {
        optional("limit", self.limit, page_limit)?;
        if let Some(t) = &self.continue_token {
            if t.is_empty() || t.len() > 4096 || !t.bytes().all(|c| c.is_ascii_graphic()) {
                return Err(fail("continue", "is not a token this adapter issued"));
            }
        }
        Ok(())
    }
}

impl DeploymentFilter {
    /// Checks every field, naming the first bad one.
    pub fn validate(&self) -> Result<()> {
        if let Some(ns) = &self.namespace {
            namespace("namespace", ns)?;
        }
        labels("labels", &self.labels)?;
        self.page.validate()
    }
}

impl PackageFilter {
    /// Checks every field, naming the first bad one.
    pub fn validate(&self) -> Result<()> {
        self.page.validate()
    }
}

impl LogOptions {
    /// Checks every field, naming the first bad one.
    pub fn validate(&self) -> Result<()> {
        if let Some(c) = &self.container {
            namespace("container", c)?;
        }
        if self.tail_lines == Some(0) {
            return Err(fail("tail_lines", "must be at least 1"));
        }
        if self.limit_bytes == Some(0) {
            return Err(fail("limit_bytes", "must be at least 1"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn field_of(r: Result<()>) -> String {
        match r {
            Err(Error::InvalidArgument { field, .. }) => field,
            other => panic!("expected InvalidArgument, got {other:?}"),
        }
    }

    #[test]
    fn names_follow_helm_rules() {
        for ok in ["a", "web", "web-1", "a.b", "x".repeat(53).as_str(), "0abc"] {
            deployment_name("name", ok).unwrap();
        }
        for bad in [
            "",
            "Web",
            "-web",
            "web-",
            "a..b",
            "a_b",
            "x".repeat(54).as_str(),
            "wéb",
            "a b",
        ] {
            assert_eq!(field_of(deployment_name("name", bad)), "name", "{bad}");
        }
        namespace("ns", &"n".repeat(63)).unwrap();
        assert_eq!(field_of(namespace("ns", &"n".repeat(64))), "ns");
        assert_eq!(field_of(namespace("ns", "a.b")), "ns");
    }

    #[test]
    fn labels_name_the_key() {
        let mut l = BTreeMap::new();
        l.insert("app.kubernetes.io/name".to_string(), "web".to_string());
        l.insert("tier".to_string(), "".to_string());
        labels("labels", &l).unwrap();
        l.insert("owner".to_string(), "x".to_string());
        assert_eq!(field_of(labels("labels", &l)), "labels[owner]");
        let mut l = BTreeMap::new();
        l.insert("ok".to_string(), "bad value!".to_string());
        assert_eq!(field_of(labels("labels", &l)), "labels[ok]");
        assert!(label_key("k", "/x").is_err());
        assert!(label_key("k", "Pre.fix/x").is_err());
    }

    #[test]
    fn numbers_and_paths() {
        assert!(revision("revision", 0).is_err());
        revision("revision", 1).unwrap();
        replicas("replicas", 0).unwrap();
        replicas("replicas", MAX_REPLICAS).unwrap();
        assert!(replicas("replicas", MAX_REPLICAS + 1).is_err());
        scale_key("key", "server.replicas").unwrap();
        for bad in ["", ".", "a..b", "a.b.c.d.e.f.g.h.i", "a b"] {
            assert!(scale_key("key", bad).is_err(), "{bad}");
        }
        assert!(page_limit("limit", 0).is_err());
        assert!(page_limit("limit", MAX_PAGE_SIZE + 1).is_err());
        assert!(timeout("timeout", Duration::ZERO).is_err());
    }

    #[test]
    fn values_bounds_name_the_path() {
        let mut deep = Value::Int(1);
        for _ in 0..MAX_VALUES_DEPTH {
            deep = Value::Map([("k".to_string(), deep)].into_iter().collect());
        }
        let v = Values::from_pairs([("root", deep)]);
        assert_eq!(field_of(values("values", &v)), "values");
        let v = Values::from_pairs([(
            "a",
            Value::Map(
                [("b".to_string(), Value::Float(f64::NAN))]
                    .into_iter()
                    .collect(),
            ),
        )]);
        assert_eq!(field_of(values("values", &v)), "values.a.b");
        let v = Values::from_pairs([("big", Value::from("x".repeat(MAX_VALUES_BYTES)))]);
        assert_eq!(field_of(values("values", &v)), "values");
        // Measured exactly: {"big":"xx..."} is 10 bytes more than the string.
        let fits = Values::from_pairs([("big", Value::from("x".repeat(MAX_VALUES_BYTES - 10)))]);
        assert!(values("values", &fits).is_ok());
        let over = Values::from_pairs([("big", Value::from("x".repeat(MAX_VALUES_BYTES - 9)))]);
        assert!(values("values", &over).is_err());
    }

    #[test]
    fn requests_name_their_field() {
        use crate::ids::{DeploymentId, PackageId};
        let id = DeploymentId {
            namespace: "Bad".into(),
            name: "web".into(),
        };
        let req = CreateDeployment::new(id, PackageId::new("web@1.0.0").unwrap());
        assert_eq!(field_of(req.validate()), "id.namespace");
        assert_eq!(
            field_of(ScaleRequest::to(MAX_REPLICAS + 1).validate()),
            "replicas"
        );
        assert_eq!(
            field_of(
                RollbackRequest {
                    revision: Some(0),
                    timeout: None
                }
                .validate()
            ),
            "revision"
        );
        let f = DeploymentFilter {
            page: PageRequest {
                limit: Some(0),
                continue_token: None,
            },
            ..Default::default()
        };
        assert_eq!(field_of(f.validate()), "limit");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn validators_never_panic(s in "\\PC{0,80}") {
            let _ = deployment_name("name", &s);
            let _ = namespace("namespace", &s);
            let _ = label_key("k", &s);
            let _ = label_value("v", &s);
            let _ = scale_key("key", &s);
            let _ = package_id("package", &s);
            let _ = description("description", &s);
            let _ = s.parse::<crate::ids::DeploymentId>();
        }

        #[test]
        fn valid_names_round_trip(ns in "[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", name in "[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]{0,10}[a-z0-9])?){0,2}") {
            let id = crate::ids::DeploymentId::new(ns.clone(), name.clone()).unwrap();
            let back: crate::ids::DeploymentId = id.to_string().parse().unwrap();
            prop_assert_eq!(back, id);
        }

        #[test]
        fn rejections_always_name_a_field(s in "\\PC{0,80}") {
            if let Err(e) = deployment_name("name", &s) {
                let names_field = matches!(e, Error::InvalidArgument { ref field, .. } if field == "name");
                prop_assert!(names_field, "unexpected error {:?}", e);
                prop_assert!(e.to_string().contains("`name`"));
            }
        }
    }
}
