//! Pod annotations that steer the simulator.

use std::time::Duration;

/// Delays a pod's transition to Running/Ready by this many milliseconds after the
/// simulator first sees it bound, so that progress can be observed.
pub const START_DELAY_ANNOTATION: &str = "o2dms.io/start-delay-ms";

/// Newline-separated lines that every container of the pod "writes" after its
/// startup line; served through `pods/log`.
pub const LOG_LINES_ANNOTATION: &str = "o2dms.io/log-lines";

/// The longest start delay honoured; larger values are clamped to it.
pub const MAX_START_DELAY: Duration = Duration::from_secs(10 * 60);

/// Parses the value of [`START_DELAY_ANNOTATION`].
///
/// Returns `Ok(None)` for an absent, empty or zero value, the delay (clamped to
/// [`MAX_START_DELAY`]) for a non-negative integer, and an error message otherwise.
pub(crate) fn parse_start_delay(value: Option<&str>) -> Result<Option<Duration>, String> {
    let Some(raw) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let ms: u64 = raw.parse().map_err(|_| {
        format!("{START_DELAY_ANNOTATION}: expected a number of milliseconds, got {raw:?}")
    })?;
    if ms == 0 {
        return Ok(None);
    }
    Ok(Some(Duration::from_millis(ms).min(MAX_START_DELAY)))
}

/// The lines of [`LOG_LINES_ANNOTATION`]: split on newlines, a trailing `\r` dropped,
/// one trailing empty line (from a final newline) ignored.
pub(crate) fn parse_log_lines(value: Option<&str>) -> Vec<String> {
    let Some(value) = value else {
        return Vec::new();
    };
    let value = value.strip_suffix('\n').unwrap_or(value);
    if value.is_empty() {
        return Vec::new();
    }
    value
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l).to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_delay_values() {
        assert_eq!(parse_start_delay(None), Ok(None));
        assert_eq!(parse_start_delay(Some("")), Ok(None));
        assert_eq!(parse_start_delay(Some("  ")), Ok(None));
        assert_eq!(parse_start_delay(Some("0")), Ok(None));
        assert_eq!(
            parse_start_delay(Some("250")),
            Ok(Some(Duration::from_millis(250)))
        );
        assert_eq!(
            parse_start_delay(Some(" 1500 ")),
            Ok(Some(Duration::from_millis(1500)))
        );
        assert_eq!(
            parse_start_delay(Some("999999999999")),
            Ok(Some(MAX_START_DELAY))
        );
    }

    #[test]
    fn start_delay_rejects_garbage() {
        for bad in ["-5", "1.5", "10s", "abc", "0x10"] {
            let err = parse_start_delay(Some(bad)).unwrap_err();
            assert!(err.contains(START_DELAY_ANNOTATION), "{err}");
        }
    }

    #[test]
    fn log_lines() {
        assert!(parse_log_lines(None).is_empty());
        assert!(parse_log_lines(Some("")).is_empty());
        assert!(parse_log_lines(Some("\n")).is_empty());
        assert_eq!(parse_log_lines(Some("a\nb\n")), vec!["a", "b"]);
        assert_eq!(parse_log_lines(Some("a\r\n\nc")), vec!["a", "", "c"]);
    }
}
