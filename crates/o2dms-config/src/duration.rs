//! Durations as the configuration spells them: humantime text such as `90s`, `10m`,
//! `1h30m`.
//!
//! Plugin settings use it on their duration fields:
//!
//! ```
//! use std::time::Duration;
//!
//! #[derive(serde::Deserialize)]
//! struct Settings {
//!     #[serde(deserialize_with = "o2dms_config::duration::deserialize")]
//!     timeout: Duration,
//! }
//! ```

use std::fmt;
use std::time::Duration;

use serde::de::{Deserializer, Visitor};

/// Reads a humantime duration (`90s`, `10m`, `1h30m`); a bare number, with no unit, is
/// refused.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    d.deserialize_str(Humantime)
}

struct Humantime;

impl Visitor<'_> for Humantime {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration such as `90s`, `10m` or `1h30m`")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Duration, E> {
        humantime::parse_duration(text.trim()).map_err(|e| {
            E::custom(format!(
                "not a duration: {}; use e.g. `90s`, `10m` or `1h30m`",
                why(&e)
            ))
        })
    }
}

/// What is wrong, without repeating the text (as humantime's own message would).
fn why(e: &humantime::DurationError) -> String {
    use humantime::DurationError as E;
    match e {
        E::InvalidCharacter(at) => format!("invalid character at byte {at}"),
        E::NumberExpected(at) => format!("a number expected at byte {at}"),
        E::UnknownUnit { unit, .. } if unit.is_empty() => "a number without a unit".to_owned(),
        E::UnknownUnit { start, .. } => format!("unknown unit at byte {start}"),
        E::NumberOverflow => "too large, or finer than a nanosecond".to_owned(),
        E::Empty => "empty".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::value::{Error, StrDeserializer, U64Deserializer};
    use serde::de::IntoDeserializer;

    fn parse(text: &str) -> Result<Duration, Error> {
        let d: StrDeserializer<'_, Error> = text.into_deserializer();
        deserialize(d)
    }

    #[test]
    fn humantime_text() {
        assert_eq!(parse("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(parse(" 1h30m ").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse("90s").unwrap(), Duration::from_secs(90));
        let e = parse("10 minutes please").unwrap_err().to_string();
        assert!(e.starts_with("not a duration: "), "{e}");
        assert!(!e.contains("please"), "the text is not repeated: {e}");
        let e = parse("10 fortnights").unwrap_err().to_string();
        assert_eq!(
            e,
            "not a duration: unknown unit at byte 3; use e.g. `90s`, `10m` or `1h30m`"
        );
        let e = parse("600").unwrap_err().to_string();
        assert!(e.contains("a number without a unit"), "{e}");
    }

    #[test]
    fn a_bare_number_needs_a_unit() {
        let d: U64Deserializer<Error> = 90u64.into_deserializer();
        let e = deserialize(d).unwrap_err().to_string();
        assert!(e.contains("a duration such as `90s`"), "{e}");
    }
}
