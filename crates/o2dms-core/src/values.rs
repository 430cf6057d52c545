//! Deployment values: a JSON-like tree whose top level is always an object.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One value in a values tree (the JSON data model).
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// `null`; in an update, removes the key (see [`Values::merge`]).
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A signed integer.
    Int(i64),
    /// An unsigned integer above `i64::MAX`.
    UInt(u64),
    /// A floating-point number.
    Float(f64),
    /// Text.
    String(String),
    /// A list.
    List(Vec<Value>),
    /// A map with text keys, kept in key order.
    Map(BTreeMap<String, Value>),
}

impl Value {
    /// The integer in this value, if it is one (floats with no fraction count).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::UInt(u) => i64::try_from(*u).ok(),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
            _ => None,
        }
    }

    /// The text in this value, if it is text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The map in this value, if it is a map.
    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// Nesting depth: scalars are 0, an empty list or map is 1.
    pub fn depth(&self) -> usize {
        match self {
            Value::List(l) => 1 + l.iter().map(Value::depth).max().unwrap_or(0),
            Value::Map(m) => 1 + m.values().map(Value::depth).max().unwrap_or(0),
            _ => 0,
        }
    }

    /// The size of this value as compact JSON (what `serde_json::to_vec` writes), in
    /// bytes, computed without writing it. Exact, but for floats whose shortest form
    /// differs between Rust and serde_json (within a few bytes).
    pub fn json_len(&self) -> usize {
        match self {
            Value::Null => 4,
            Value::Bool(true) => 4,
            Value::Bool(false) => 5,
            Value::Int(i) => i.to_string().len(),
            Value::UInt(u) => u.to_string().len(),
            Value::Float(f) if f.is_finite() => format!("{f:?}").len(),
            Value::Float(_) => 4,
            Value::String(s) => json_string_len(s),
            Value::List(l) => {
                2 + l.len().saturating_sub(1) + l.iter().map(Value::json_len).sum::<usize>()
            }
            Value::Map(m) => map_json_len(m),
        }
    }
}

macro_rules! from_scalar {
    ($($t:ty => $v:ident),*) => {$(
        impl From<$t> for Value {
            fn from(x: $t) -> Self { Value::$v(x.into()) }
        }
    )*};
}
from_scalar!(bool => Bool, i64 => Int, i32 => Int, u32 => Int, f64 => Float, String => String, &str => String);

impl From<Values> for Value {
    fn from(v: Values) -> Self {
        Value::Map(v.0)
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            Value::UInt(u) => s.serialize_u64(*u),
            Value::Float(f) => s.serialize_f64(*f),
            Value::String(t) => s.serialize_str(t),
            Value::List(l) => l.serialize(s),
            Value::Map(m) => m.serialize(s),
        }
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON-like value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
        Ok(Value::Int(i))
    }
    fn visit_u64<E>(self, u: u64) -> Result<Value, E> {
        Ok(i64::try_from(u).map_or(Value::UInt(u), Value::Int))
    }
    fn visit_f64<E>(self, f: f64) -> Result<Value, E> {
        Ok(Value::Float(f))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }
    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(v) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::List(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = BTreeMap::new();
        while let Some((k, v)) = map.next_entry::<String, Value>()? {
            out.insert(k, v);
        }
        Ok(Value::Map(out))
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

/// The values of a deployment: always an object at the top level.
///
/// ```
/// use o2dms_core::{Values, Value};
/// let mut base = Values::new();
/// base.insert("replicaCount", 2);
/// base.insert("image", Values::from_pairs([("tag", Value::from("1.0"))]));
/// let update = Values::from_pairs([("image", Value::from(Values::from_pairs([("pullPolicy", Value::from("Always"))])))]);
/// let merged = base.merged(&update);
/// assert_eq!(merged.get_path("image.tag"), Some(&Value::from("1.0")));
/// assert_eq!(merged.get_path("image.pullPolicy"), Some(&Value::from("Always")));
/// assert_eq!(merged.get_path("replicaCount"), Some(&Value::Int(2)));
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(transparent)]
pub struct Values(BTreeMap<String, Value>);

/// The compact JSON size of a map: `{"k":v,...}`.
fn map_json_len(m: &BTreeMap<String, Value>) -> usize {
    2 + m.len().saturating_sub(1)
        + m.iter()
            .map(|(k, v)| json_string_len(k) + 1 + v.json_len())
            .sum::<usize>()
}

/// The size of `s` as a JSON string: quotes, `\"` and `\\`, the two-character escapes of
/// control characters JSON has, `\u00XX` for the others; everything else as UTF-8.
fn json_string_len(s: &str) -> usize {
    2 + s
        .bytes()
        .map(|b| match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 2,
            0..=0x1f => 6,
            _ => 1,
        })
        .sum::<usize>()
}

impl Values {
    /// No values.
    pub fn new() -> Self {
        Values(BTreeMap::new())
    }

    /// Values from `(key, value)` pairs.
    pub fn from_pairs<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Value)>) -> Self {
        Values(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// Sets a top-level key.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<Value>) {
        self.0.insert(key.into(), value.into());
    }

    /// A top-level key.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    /// The value at a dotted path such as `server.replicas`.
    pub fn get_path(&self, path: &str) -> Option<&Value> {
        let mut parts = path.split('.');
        let mut cur = self.0.get(parts.next()?)?;
        for p in parts {
            cur = cur.as_map()?.get(p)?;
        }
        Some(cur)
    }

    /// Sets the value at a dotted path, creating maps on the way and replacing
    /// anything on the path that is not a map.
    pub fn set_path(&mut self, path: &str, value: impl Into<Value>) {
        let parts: Vec<&str> = path.split('.').collect();
        let (last, init) = parts.split_last().expect("split yields at least one part");
        let mut map = &mut self.0;
        for p in init {
            let entry = map
                .entry((*p).to_owned())
                .or_insert_with(|| Value::Map(BTreeMap::new()));
            if !matches!(entry, Value::Map(_)) {
                *entry = Value::Map(BTreeMap::new());
            }
            map = match entry {
                Value::Map(m) => m,
                _ => unreachable!("entry was just made a map"),
            };
        }
        map.insert((*last).to_owned(), value.into());
    }

    /// The top-level map.
    pub fn as_map(&self) -> &BTreeMap<String, Value> {
        &self.0
    }

    /// Consumes the values, giving the top-level map.
    pub fn into_map(self) -> BTreeMap<String, Value> {
        self.0
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The size of these values as compact JSON, in bytes (see [`Value::json_len`]).
    pub fn json_len(&self) -> usize {
        map_json_len(&self.0)
    }

    /// Nesting depth (1 for a flat object of scalars).
    pub fn depth(&self) -> usize {
        1 + self.0.values().map(Value::depth).max().unwrap_or(0)
    }

    /// Merges `update` into these values, the way every adapter merges on update:
    /// maps merge key by key, recursively; any other value in `update` replaces the
    /// current one; a `null` in `update` removes the key.
    pub fn merged(&self, update: &Values) -> Values {
        let mut out = self.0.clone();
        merge_into(&mut out, &update.0);
        Values(out)
    }
}

fn merge_into(base: &mut BTreeMap<String, Value>, update: &BTreeMap<String, Value>) {
    for (k, v) in update {
        match (base.get_mut(k), v) {
            (_, Value::Null) => {
                base.remove(k);
            }
            (Some(Value::Map(b)), Value::Map(u)) => merge_into(b, u),
            (_, Value::Map(u)) => {
                let mut fresh = BTreeMap::new();
                merge_into(&mut fresh, u);
                base.insert(k.clone(), Value::Map(fresh));
            }
            (_, other) => {
                base.insert(k.clone(), other.clone());
            }
        }
    }
}

impl From<BTreeMap<String, Value>> for Values {
    fn from(m: BTreeMap<String, Value>) -> Self {
        Values(m)
    }
}

impl<'de> Deserialize<'de> for Values {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Map(m) => Ok(Values(m)),
            Value::Null => Ok(Values::new()),
            _ => Err(de::Error::custom(
                "values must be an object (a map of keys to values)",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(json: &str) -> Values {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn merge_is_deep_and_null_removes() {
        let base = v(r#"{"a":1,"m":{"x":1,"y":2},"l":[1,2],"gone":true}"#);
        let upd = v(r#"{"m":{"y":3,"z":4},"l":[9],"gone":null,"new":"n"}"#);
        assert_eq!(
            base.merged(&upd),
            v(r#"{"a":1,"m":{"x":1,"y":3,"z":4},"l":[9],"new":"n"}"#)
        );
    }

    #[test]
    fn top_level_must_be_an_object() {
        assert!(serde_json::from_str::<Values>("[1]").is_err());
        assert!(serde_json::from_str::<Values>("3").is_err());
        assert_eq!(
            serde_json::from_str::<Values>("null").unwrap(),
            Values::new()
        );
    }

    #[test]
    fn paths_create_and_replace() {
        let mut x = v(r#"{"server":"flat"}"#);
        x.set_path("server.replicas", 3);
        assert_eq!(
            x.get_path("server.replicas").and_then(Value::as_i64),
            Some(3)
        );
        assert_eq!(x, v(r#"{"server":{"replicas":3}}"#));
    }

    #[test]
    fn json_round_trip_keeps_numbers() {
        let x = v(r#"{"i":-3,"u":18446744073709551615,"f":1.5,"s":"t","b":false,"n":null}"#);
        let back: Values = serde_json::from_str(&serde_json::to_string(&x).unwrap()).unwrap();
        assert_eq!(x, back);
        assert_eq!(x.get("u"), Some(&Value::UInt(u64::MAX)));
    }

    #[test]
    fn json_len_is_the_written_size() {
        let x = v(
            r#"{"i":-3,"u":18446744073709551615,"f":1.5,"s":"t\"\\\n\u0001é","b":false,"t":true,"n":null,"l":[],"m":{},"ll":[1,[2]]}"#,
        );
        assert_eq!(x.json_len(), serde_json::to_vec(&x).unwrap().len());
        assert_eq!(Values::new().json_len(), 2);
    }

    fn value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::Int),
            any::<u64>().prop_map(Value::UInt),
            (-1e6f64..1e6).prop_map(Value::Float),
            "\\PC{0,12}|[\\x00-\\x1f\"\\\\]{0,4}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::List),
                proptest::collection::btree_map("\\PC{0,6}", inner, 0..4).prop_map(Value::Map),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn json_len_matches_serde_json(m in proptest::collection::btree_map("\\PC{0,6}", value(), 0..5)) {
            let x = Values(m);
            proptest::prop_assert_eq!(x.json_len(), serde_json::to_vec(&x).unwrap().len());
        }
    }
}
