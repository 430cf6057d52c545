//! RFC 7240 preferences: `Prefer: wait=N` asks a write to answer with its final result
//! within N seconds instead of 202 at once.
//!
//! Parsing refuses nothing: preferences are comma separated, names are matched without
//! regard to case, values may be tokens or quoted strings, parameters after `;` are
//! ignored, unknown preferences are ignored, and only the first instance of a preference
//! counts (RFC 7240, section 2). A `wait` that is not a number of seconds is ignored.

use std::time::Duration;

/// The preferences this API understands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Preferences {
    /// `wait=N`: how long the client is willing to wait for the final answer.
    pub wait: Option<Duration>,
    /// `respond-async`: the client wants 202 at once.
    pub respond_async: bool,
}

/// Parses every `Prefer` header value of a request (a request may carry several).
///
/// ```
/// use std::time::Duration;
/// let p = o2dms_api::prefer::parse(["foo; bar", "WAIT=\"10\", wait=3"]);
/// assert_eq!(p.wait, Some(Duration::from_secs(10)));
/// ```
pub fn parse<'a>(headers: impl IntoIterator<Item = &'a str>) -> Preferences {
    let mut out = Preferences::default();
    let mut seen_wait = false;
    for header in headers {
        for preference in split_outside_quotes(header, ',') {
            let head = split_outside_quotes(preference, ';')
                .into_iter()
                .next()
                .unwrap_or_default();
            let (name, value) = match head.split_once('=') {
                Some((n, v)) => (n.trim(), Some(unquote(v.trim()))),
                None => (head.trim(), None),
            };
            if name.eq_ignore_ascii_case("wait") && !seen_wait {
                seen_wait = true;
                out.wait = value.as_deref().and_then(delta_seconds);
            } else if name.eq_ignore_ascii_case("respond-async") {
                out.respond_async = true;
            }
        }
    }
    out
}

/// The `Preference-Applied` value for a wait that was honoured: `wait=N`, N in whole
/// seconds.
pub fn wait_applied(wait: Duration) -> String {
    format!("wait={}", wait.as_secs())
}

/// Delta-seconds: digits only; too large saturates.
fn delta_seconds(v: &str) -> Option<Duration> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(Duration::from_secs(v.parse::<u64>().unwrap_or(u64::MAX)))
}

fn split_outside_quotes(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == sep && !quoted => {
                parts.push(&s[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

fn unquote(v: &str) -> String {
    match v.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(inner) => {
            let mut out = String::with_capacity(inner.len());
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                out.push(if c == '\\' {
                    chars.next().unwrap_or(c)
                } else {
                    c
                });
            }
            out
        }
        None => v.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wait(headers: &[&str]) -> Option<u64> {
        parse(headers.iter().copied()).wait.map(|d| d.as_secs())
    }

    #[test]
    fn reads_wait_among_other_preferences() {
        assert_eq!(wait(&["wait=5"]), Some(5));
        assert_eq!(wait(&["respond-async, Wait = 7"]), Some(7));
        assert_eq!(wait(&["handling=lenient; x=\"a,b\", wait=9;foo"]), Some(9));
        assert_eq!(wait(&["return=minimal", "wait=\"12\""]), Some(12));
        assert_eq!(wait(&["wait=1", "wait=2"]), Some(1));
        assert_eq!(wait(&["WAIT=99999999999999999999999"]), Some(u64::MAX));
        assert!(parse(["respond-async"]).respond_async);
    }

    #[test]
    fn ignores_what_it_does_not_understand() {
        assert_eq!(wait(&[]), None);
        assert_eq!(wait(&[""]), None);
        assert_eq!(wait(&["wait"]), None);
        assert_eq!(wait(&["wait=-1"]), None);
        assert_eq!(wait(&["wait=1.5"]), None);
        assert_eq!(wait(&["wait=abc, wait=3"]), None);
        assert_eq!(wait(&["waiting=3"]), None);
        assert_eq!(wait(&[",,;=\"unterminated"]), None);
        assert_eq!(wait_applied(Duration::from_millis(10_900)), "wait=10");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,60}") {
            let _ = parse([s.as_str()]);
        }
    }
}
