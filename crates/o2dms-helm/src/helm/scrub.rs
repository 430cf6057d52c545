//! Scrubbing values out of what helm says before it becomes an error, an event or a log
//! line.
//!
//! helm's stderr can quote values: the API server's refusal of an object quotes the
//! field's value (`metadata.labels: Invalid value: "..."`), a template's `fail` prints
//! whatever the chart puts in its message, a schema error names what it got. A [`Scrub`]
//! is built from every [`Values`] in play for one helm run (the request's, the merged
//! values handed to helm, the revisions a rollback moves between) and replaces each
//! string among them with [`REDACTED`] wherever it appears in a text.
//!
//! What counts as a value to hide: every leaf string of at least [`MIN_CHARS`]
//! characters, each line (trimmed) of at least that many characters of a multi-line
//! string, and each of these as JSON (`serde_json`, and Go's `encoding/json`, which also
//! escapes `<`, `>`, `&`, U+2028 and U+2029) and Go's `%q` (`strconv.Quote`, the form in
//! which the API server and helm quote strings) would escape it. Matching is one pass,
//! leftmost-longest, so a value inside a longer value never leaves the rest visible.
//!
//! Limits, on purpose:
//! - Shorter strings are not hidden: three characters or fewer appear in every message
//!   (`web`, `on`, `v1`), and masking them would destroy the message while hiding little.
//! - Numbers and booleans are not hidden: their text (`1`, `80`, `true`) is everywhere in
//!   helm's messages (line numbers, ports, revisions, counts); a secret is a string.
//! - Map keys are not hidden: they name what failed (`- replicaCount: Invalid type`).
//! - A common word used as a value (`default`, `Always`) is masked wherever it appears in
//!   the message, which makes that message harder to read, never wrong.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, MatchKind};
use o2dms_core::{Value, Values};

/// What a hidden value is replaced with.
pub(crate) const REDACTED: &str = "[redacted]";

/// Strings shorter than this many characters are not hidden (see the module docs).
pub(crate) const MIN_CHARS: usize = 4;

/// The strings to hide from one helm run's messages (see the module docs). Its `Debug`
/// shows how many there are, never them.
#[derive(Default)]
pub(crate) struct Scrub {
    /// Every form of every value to hide, longest first.
    needles: Vec<String>,
    /// The matcher over `needles`, built on first use (helm failures are rare); `None`
    /// when the automaton would be too large, and then each needle is replaced in turn.
    matcher: OnceLock<Option<AhoCorasick>>,
}

impl fmt::Debug for Scrub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scrub")
            .field("needles", &self.needles.len())
            .finish()
    }
}

impl Scrub {
    /// A scrub hiding the strings of every values tree in `values`.
    pub(crate) fn of<'a>(values: impl IntoIterator<Item = &'a Values>) -> Scrub {
        let mut found = BTreeSet::new();
        for v in values {
            // An explicit stack: no recursion, whatever the depth.
            let mut stack: Vec<&Value> = v.as_map().values().collect();
            while let Some(value) = stack.pop() {
                match value {
                    Value::String(s) => text(s, &mut found),
                    Value::List(items) => stack.extend(items),
                    Value::Map(m) => stack.extend(m.values()),
                    // Numbers, booleans and nulls: see the module docs.
                    _ => {}
                }
            }
        }
        let mut needles: Vec<String> = found.into_iter().collect();
        needles.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        Scrub {
            needles,
            matcher: OnceLock::new(),
        }
    }

    /// `text` with every value replaced by [`REDACTED`].
    pub(crate) fn apply(&self, text: &str) -> String {
        if self.needles.is_empty() {
            return text.to_owned();
        }
        let matcher = self.matcher.get_or_init(|| {
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&self.needles)
                .ok()
        });
        match matcher {
            Some(ac) => {
                let mut out = String::with_capacity(text.len());
                ac.replace_all_with(text, &mut out, |_, _, dst| {
                    dst.push_str(REDACTED);
                    true
                });
                out
            }
            // Longest first, so a value inside a longer one never leaves the rest.
            None => self
                .needles
                .iter()
                .fold(text.to_owned(), |t, n| t.replace(n.as_str(), REDACTED)),
        }
    }
}

/// Adds the forms of a string value to hide: the whole string, and each line of a
/// multi-line one.
fn text(s: &str, found: &mut BTreeSet<String>) {
    forms(s, found);
    if s.contains(['\n', '\r']) {
        for line in s.split(['\n', '\r']) {
            forms(line.trim(), found);
        }
    }
}

/// Adds `s` and its escaped forms, if it is long enough to hide.
fn forms(s: &str, found: &mut BTreeSet<String>) {
    if s.chars().count() < MIN_CHARS {
        return;
    }
    let json = json_escaped(s);
    found.insert(go_json_escaped(&json));
    found.insert(json);
    found.insert(go_quoted(s));
    found.insert(s.to_owned());
}

/// `s` as inside a JSON string (serde_json's escaping, without the quotes).
fn json_escaped(s: &str) -> String {
    let quoted = serde_json::to_string(s).unwrap_or_default();
    quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .map(str::to_owned)
        .unwrap_or_default()
}

/// A JSON-escaped string as Go's `encoding/json` writes it: HTML-safe (`<`, `>`, `&` as
/// `\u003c`, `\u003e`, `\u0026`) and U+2028, U+2029 escaped.
fn go_json_escaped(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// `s` as inside Go's `%q` (`strconv.Quote`), without the quotes: `"` and `\` escaped,
/// printable characters as they are, the C escapes, then `\xNN`, `\uNNNN`, `\UNNNNNNNN`.
fn go_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if go_printable(c) => out.push(c),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if c < ' ' || c == '\u{7f}' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out
}

/// Go's `unicode.IsPrint`, approximated without Unicode tables: letters, marks, numbers,
/// punctuation, symbols and the ASCII space; not control characters, other spaces,
/// the common format characters or private use. (An unassigned code point counts as
/// printable here and not in Go; such a value keeps its `%q` form visible.)
fn go_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    let u = c as u32;
    let format = matches!(
        u,
        0xAD | 0x600..=0x605
            | 0x61C
            | 0x6DD
            | 0x70F
            | 0x180E
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x2064
            | 0x2066..=0x206F
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0xE0001
            | 0xE0020..=0xE007F
    );
    let private = matches!(u, 0xE000..=0xF8FF | 0xF0000..=0x10FFFF);
    !(format || private)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn values(json: serde_json::Value) -> Values {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn leaf_strings_anywhere_in_the_tree_are_hidden() {
        let v = values(serde_json::json!({
            "adminPassword": "hunter2!",
            "nested": {"list": ["first-secret", {"deep": "s3cr3t-deep"}]},
            "replicaCount": 1234,
            "enabled": true,
            "tag": "v1",
        }));
        let s = Scrub::of([&v]);
        let out = s.apply(
            "password hunter2! then first-secret and \"s3cr3t-deep\"; 1234 replicas, enabled: \
             true, tag v1",
        );
        assert_eq!(
            out,
            "password [redacted] then [redacted] and \"[redacted]\"; 1234 replicas, enabled: \
             true, tag v1"
        );
        assert_eq!(
            format!("{s:?}"),
            format!("Scrub {{ needles: {} }}", s.needles.len())
        );
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn short_strings_numbers_and_keys_are_kept() {
        let v = values(serde_json::json!({"web": "abc", "port": 8080, "longKeyName": "on"}));
        let s = Scrub::of([&v]);
        assert!(s.needles.is_empty());
        let t = "web abc 8080 longKeyName on";
        assert_eq!(s.apply(t), t);
        assert_eq!(Scrub::default().apply(t), t);
    }

    #[test]
    fn json_and_go_quoted_forms_are_hidden() {
        let secret = "pa\"ss\\word\tend";
        let v = values(serde_json::json!({ "p": secret }));
        let s = Scrub::of([&v]);
        // JSON (a release record, a JSON log line) and Go's %q (the API server's
        // `Invalid value: "..."`) both write `pa\"ss\\word\tend`.
        let json = serde_json::to_string(secret).unwrap();
        assert_eq!(json, r#""pa\"ss\\word\tend""#);
        assert_eq!(s.apply(&format!("value: {json}")), "value: \"[redacted]\"");
        assert_eq!(s.apply(&format!("raw {secret} raw")), "raw [redacted] raw");
        // Go's HTML-safe JSON and its %q of control and non-printing characters.
        let html = values(serde_json::json!({ "h": "<b>&amp</b>\u{1}\u{a0}" }));
        let s = Scrub::of([&html]);
        let go_json = "\\u003cb\\u003e\\u0026amp\\u003c/b\\u003e\\u0001\u{a0}";
        assert_eq!(s.apply(&format!("json {go_json} ")), "json [redacted] ");
        assert_eq!(
            s.apply(r#"Invalid value: "<b>&amp</b>\x01\u00a0""#),
            r#"Invalid value: "[redacted]""#
        );
        assert_eq!(
            go_quoted("é\u{7f}\u{200b}\u{1F600}\u{F0000}"),
            "é\\x7f\\u200b\u{1F600}\\U000f0000"
        );
        assert_eq!(
            go_quoted("a\u{7}\u{b}\u{c}\u{8}\r\n"),
            "a\\a\\v\\f\\b\\r\\n"
        );
    }

    #[test]
    fn lines_of_multi_line_strings_are_hidden_one_by_one() {
        let v = values(serde_json::json!({
            "cert": "-----BEGIN KEY-----\n  MIIEsecretline1\r\n  ab\nMIIEsecretline2\n-----END KEY-----\n"
        }));
        let s = Scrub::of([&v]);
        // helm quotes one line of it, re-indented, or the whole value escaped.
        assert_eq!(
            s.apply("line 3: MIIEsecretline2 is not base64"),
            "line 3: [redacted] is not base64"
        );
        assert_eq!(s.apply("  MIIEsecretline1 x"), "  [redacted] x");
        let escaped = serde_json::to_string(v.get("cert").unwrap().as_str().unwrap()).unwrap();
        assert_eq!(s.apply(&escaped), "\"[redacted]\"");
        // a short line stays
        assert_eq!(s.apply("ab"), "ab");
    }

    #[test]
    fn a_value_inside_a_longer_one_leaves_nothing_of_the_longer_one() {
        let v = values(serde_json::json!({"a": "secret", "b": "my-secret-value"}));
        let s = Scrub::of([&v]);
        assert_eq!(
            s.apply("x my-secret-value y secret z"),
            "x [redacted] y [redacted] z"
        );
    }

    #[test]
    fn several_values_trees_are_all_hidden() {
        let old = values(serde_json::json!({"password": "old-password"}));
        let new = values(serde_json::json!({"password": "new-password"}));
        let s = Scrub::of([&old, &new]);
        assert_eq!(
            s.apply("old-password -> new-password"),
            "[redacted] -> [redacted]"
        );
    }

    #[test]
    fn deep_values_do_not_overflow_the_stack() {
        let mut v = Value::from("bottom-secret");
        for _ in 0..100_000 {
            v = Value::List(vec![v]);
        }
        let tree = Values::from_pairs([("deep", v)]);
        let s = Scrub::of([&tree]);
        assert_eq!(s.apply("bottom-secret"), REDACTED);
        // Dropping such a tree is the Value type's business; keep the test's stack safe.
        std::mem::forget(tree);
    }

    /// Strings as values carry them: letters, digits, punctuation, quotes, backslashes,
    /// whitespace, control characters and non-ASCII; no `[` or `]`, so that no value can
    /// be made of pieces of the marker itself.
    fn leaf() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9 !\"#$%&'()*+,./:;<=>?@\\\\^_`{|}~\t\n\r\u{1}\u{7f}éλ😀\u{a0}\u{2028}-]{0,24}"
    }

    fn tree() -> impl Strategy<Value = Value> {
        let scalar = prop_oneof![
            leaf().prop_map(Value::String),
            any::<i64>().prop_map(Value::Int),
            any::<bool>().prop_map(Value::Bool),
        ];
        scalar.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::List),
                prop::collection::btree_map("[a-z]{1,6}", inner, 0..4).prop_map(Value::Map),
            ]
        })
    }

    fn strings(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::List(l) => l.iter().for_each(|x| strings(x, out)),
            Value::Map(m) => m.values().for_each(|x| strings(x, out)),
            _ => {}
        }
    }

    /// Whether `needle` could only appear in a scrubbed text by being part of the marker.
    fn part_of_marker(needle: &str) -> bool {
        REDACTED.contains(needle)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn no_leaf_string_survives(
            map in prop::collection::btree_map("[a-z]{1,6}", tree(), 1..5),
            pick in any::<prop::sample::Index>(),
            before in leaf(),
            after in leaf(),
            escape in 0u8..3,
        ) {
            let values = Values::from(map);
            let mut all = Vec::new();
            values.as_map().values().for_each(|v| strings(v, &mut all));
            let long: Vec<&String> = all
                .iter()
                .filter(|s| s.chars().count() >= MIN_CHARS && !part_of_marker(s))
                .collect();
            prop_assume!(!long.is_empty());
            let secret = long[pick.index(long.len())];
            let shown = match escape {
                0 => secret.clone(),
                1 => json_escaped(secret),
                _ => go_quoted(secret),
            };
            let text = format!("{before}{shown}{after} and again: {shown}");
            let out = Scrub::of([&values]).apply(&text);
            for s in &long {
                prop_assert!(!out.contains(s.as_str()), "{s:?} survives in {out:?}");
                let (j, q) = (json_escaped(s), go_quoted(s));
                prop_assert!(!out.contains(&j), "{j:?} survives in {out:?}");
                prop_assert!(!out.contains(&q), "{q:?} survives in {out:?}");
            }
        }

        #[test]
        fn any_text_is_scrubbed_without_panicking(
            map in prop::collection::btree_map("[a-z]{1,6}", tree(), 0..5),
            text in any::<String>(),
        ) {
            let s = Scrub::of([&Values::from(map)]);
            let _ = s.apply(&text);
        }
    }
}
