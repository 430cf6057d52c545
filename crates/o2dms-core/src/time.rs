//! Timestamps, serialized as RFC 3339 text in UTC (by `jiff`).

use std::fmt;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time with nanosecond precision, printed as RFC 3339 in UTC
/// (`2026-01-12T10:00:00Z`, with a fraction only when there is one).
///
/// The range is jiff's, years -9999 to 9999; constructors saturate at its ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(jiff::Timestamp);

impl Timestamp {
    /// The Unix epoch.
    pub const EPOCH: Timestamp = Timestamp(jiff::Timestamp::UNIX_EPOCH);
    /// The earliest timestamp there is.
    pub const MIN: Timestamp = Timestamp(jiff::Timestamp::MIN);
    /// The latest timestamp there is.
    pub const MAX: Timestamp = Timestamp(jiff::Timestamp::MAX);

    /// The current time from the system clock.
    pub fn now() -> Self {
        Timestamp::from(SystemTime::now())
    }

    /// A timestamp from seconds and nanoseconds since the Unix epoch
    /// (nanoseconds above one second carry into the seconds).
    pub fn from_unix(secs: i64, nanos: u32) -> Self {
        let secs = secs.saturating_add(i64::from(nanos / 1_000_000_000));
        let nanos = (nanos % 1_000_000_000) as i32;
        match jiff::Timestamp::new(secs, nanos) {
            Ok(t) => Timestamp(t),
            Err(_) if secs < 0 => Timestamp::MIN,
            Err(_) => Timestamp::MAX,
        }
    }

    /// Whole seconds since the Unix epoch, rounded down (-0.75 s is -1 s + 0.25 s).
    pub fn unix_seconds(&self) -> i64 {
        self.parts().0
    }

    /// The sub-second part in nanoseconds (0 to 999,999,999, counted forward from
    /// [`unix_seconds`](Self::unix_seconds), also before the epoch).
    pub fn subsec_nanos(&self) -> u32 {
        self.parts().1
    }

    /// jiff keeps the fraction with the sign of the whole; this floors the seconds.
    fn parts(&self) -> (i64, u32) {
        let (secs, nanos) = (self.0.as_second(), self.0.subsec_nanosecond());
        if nanos < 0 {
            (secs - 1, (nanos + 1_000_000_000).unsigned_abs())
        } else {
            (secs, nanos.unsigned_abs())
        }
    }

    /// This timestamp moved forward by `d` (saturating).
    pub fn saturating_add(&self, d: Duration) -> Self {
        match jiff::SignedDuration::try_from(d) {
            Ok(d) => Timestamp(self.0.saturating_add(d).unwrap_or(jiff::Timestamp::MAX)),
            Err(_) => Timestamp::MAX,
        }
    }

    /// Parses RFC 3339 (`YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`): the date, the time
    /// and the offset are required.
    pub fn parse_rfc3339(s: &str) -> Option<Self> {
        // jiff also takes the wider ISO 8601 / RFC 9557 forms (`+01`, `[Europe/Paris]`);
        // RFC 3339 says `Z` or `±HH:MM` and nothing after.
        let tail = s.get(s.len().saturating_sub(6)..)?;
        let offset_ok = s.ends_with(['Z', 'z'])
            || (tail.len() == 6 && tail.starts_with(['+', '-']) && tail.as_bytes()[3] == b':');
        if !offset_ok {
            return None;
        }
        s.parse::<jiff::Timestamp>().ok().map(Timestamp)
    }

    /// Formats as RFC 3339 in UTC, with a fraction only when non-zero.
    pub fn to_rfc3339(&self) -> String {
        self.to_string()
    }

    /// As a `jiff` timestamp.
    pub fn as_jiff(&self) -> jiff::Timestamp {
        self.0
    }
}

impl From<jiff::Timestamp> for Timestamp {
    fn from(t: jiff::Timestamp) -> Self {
        Timestamp(t)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl From<SystemTime> for Timestamp {
    fn from(t: SystemTime) -> Self {
        match jiff::Timestamp::try_from(t) {
            Ok(t) => Timestamp(t),
            Err(_) if t < SystemTime::UNIX_EPOCH => Timestamp::MIN,
            Err(_) => Timestamp::MAX,
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse_rfc3339(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("not an RFC 3339 timestamp: {s:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_known_instants() {
        let t = Timestamp::parse_rfc3339("2026-01-12T10:30:05Z").unwrap();
        assert_eq!(t.unix_seconds(), 1_768_213_805);
        assert_eq!(t.to_string(), "2026-01-12T10:30:05Z");
        let t = Timestamp::parse_rfc3339("2024-02-29T23:59:59.5+01:00").unwrap();
        assert_eq!(t.to_string(), "2024-02-29T22:59:59.5Z");
        assert_eq!(t.subsec_nanos(), 500_000_000);
        assert_eq!(Timestamp::EPOCH.to_string(), "1970-01-01T00:00:00Z");
        assert_eq!(
            Timestamp::parse_rfc3339("0001-01-01T00:00:00Z")
                .unwrap()
                .unix_seconds(),
            -62_135_596_800
        );
        let before = Timestamp::from_unix(-1, 250_000_000);
        assert_eq!(
            (before.unix_seconds(), before.subsec_nanos()),
            (-1, 250_000_000)
        );
        assert_eq!(Timestamp::from_unix(i64::MAX, 0), Timestamp::MAX);
        assert_eq!(
            Timestamp::MAX.saturating_add(Duration::from_secs(1)),
            Timestamp::MAX
        );
    }

    #[test]
    fn rejects_malformed_text() {
        for s in [
            "",
            "2026-13-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-01-01T00:00:00",
            "2026-01-01T00:00:00.Z",
            "x026-01-01T00:00:00Z",
            "2026-01-01T00:00:00+0100",
            "2026-01-01T00:00:00+01",
            "2026-01-01T00:00:00Z[Europe/Paris]",
        ] {
            assert!(Timestamp::parse_rfc3339(s).is_none(), "{s}");
        }
    }

    proptest::proptest! {
        #[test]
        fn round_trips(secs in -62_135_596_800i64..253_402_300_799, nanos in 0u32..1_000_000_000) {
            let t = Timestamp::from_unix(secs, nanos);
            proptest::prop_assert_eq!((t.unix_seconds(), t.subsec_nanos()), (secs, nanos));
            proptest::prop_assert_eq!(Timestamp::parse_rfc3339(&t.to_string()), Some(t));
        }

        #[test]
        fn never_panics(s in ".{0,40}") {
            let _ = Timestamp::parse_rfc3339(&s);
        }
    }
}
