//! Container logs: what a simulated container "wrote", and the kubelet's filters over it.
//!
//! Everything here is pure: the content is derived from the pod (container name, image,
//! start time, the [`LOG_LINES_ANNOTATION`](super::annotations::LOG_LINES_ANNOTATION)),
//! so the same pod always yields the same lines.

use k8s_openapi::jiff::{SignedDuration, Timestamp};

/// One line of a container's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogLine {
    /// When the line was "written".
    pub(crate) time: Timestamp,
    /// The text, without a trailing newline.
    pub(crate) text: String,
}

/// The lines of one simulated container: a startup line at `started`, then each of
/// `extra` one millisecond after the previous one.
pub(crate) fn container_lines(
    container: &str,
    image: &str,
    started: Timestamp,
    extra: &[String],
) -> Vec<LogLine> {
    let mut lines = Vec::with_capacity(extra.len() + 1);
    lines.push(LogLine {
        time: started,
        text: format!("o2dms kubelet simulator: started container {container:?} (image {image:?})"),
    });
    for (i, text) in extra.iter().enumerate() {
        let offset = SignedDuration::from_millis(i64::try_from(i + 1).unwrap_or(i64::MAX));
        lines.push(LogLine {
            time: started.saturating_add(offset).unwrap_or(started),
            text: text.clone(),
        });
    }
    lines
}

/// The query parameters of the kubelet's `/containerLogs` endpoint that the simulator honours.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LogQuery {
    /// Only the last N lines (`tailLines`); negative means all.
    pub(crate) tail_lines: Option<i64>,
    /// Only lines at most this many seconds old (`sinceSeconds`).
    pub(crate) since_seconds: Option<i64>,
    /// Only lines at or after this time (`sinceTime`, RFC 3339).
    pub(crate) since_time: Option<Timestamp>,
    /// At most this many bytes of output (`limitBytes`).
    pub(crate) limit_bytes: Option<i64>,
    /// Prefix each line with its RFC 3339 timestamp (`timestamps`).
    pub(crate) timestamps: bool,
    /// `follow`: accepted, but the stream ends after the current content.
    pub(crate) follow: bool,
    /// `previous`: logs of a previous instance, which simulated containers never have.
    pub(crate) previous: bool,
}

/// A `/containerLogs` query parameter whose value the simulator cannot use (the kubelet
/// answers such a request with 400 Bad Request).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{parameter}: expected {expected}, got {value:?}")]
pub(crate) struct BadParameter {
    /// The parameter, as named in the query (`tailLines`, `sinceTime`, ...).
    pub(crate) parameter: &'static str,
    /// What it must be, such as `an integer`.
    pub(crate) expected: &'static str,
    /// The value given, percent-decoded.
    pub(crate) value: String,
}

impl BadParameter {
    fn new(parameter: &'static str, expected: &'static str, value: &str) -> Self {
        BadParameter {
            parameter,
            expected,
            value: value.to_string(),
        }
    }
}

impl LogQuery {
    /// Parses a URL query string (`a=b&c=d`, `application/x-www-form-urlencoded`: percent
    /// escapes, `+` for a space). Unknown keys are ignored; a repeated key's last value
    /// wins.
    pub(crate) fn parse(query: &str) -> Result<Self, BadParameter> {
        let mut q = LogQuery::default();
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            match key.as_ref() {
                "tailLines" => q.tail_lines = Some(parse_int("tailLines", &value)?),
                "sinceSeconds" => q.since_seconds = Some(parse_int("sinceSeconds", &value)?),
                "limitBytes" => q.limit_bytes = Some(parse_int("limitBytes", &value)?),
                "sinceTime" => {
                    q.since_time =
                        Some(value.parse::<Timestamp>().map_err(|_| {
                            BadParameter::new("sinceTime", "an RFC 3339 time", &value)
                        })?)
                }
                "timestamps" => q.timestamps = parse_bool("timestamps", &value)?,
                "follow" => q.follow = parse_bool("follow", &value)?,
                "previous" => q.previous = parse_bool("previous", &value)?,
                _ => {}
            }
        }
        Ok(q)
    }

    /// The earliest time a line may have to be shown, given the current time.
    fn since(&self, now: Timestamp) -> Option<Timestamp> {
        let from_seconds = self.since_seconds.filter(|s| *s > 0).map(|s| {
            now.saturating_sub(SignedDuration::from_secs(s))
                .unwrap_or(Timestamp::MIN)
        });
        match (from_seconds, self.since_time) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }
}

fn parse_int(parameter: &'static str, value: &str) -> Result<i64, BadParameter> {
    value
        .parse()
        .map_err(|_| BadParameter::new(parameter, "an integer", value))
}

/// A boolean as Go's `strconv.ParseBool` reads it; a key without a value is true.
fn parse_bool(parameter: &'static str, value: &str) -> Result<bool, BadParameter> {
    match value {
        "" | "true" | "1" | "True" | "TRUE" | "t" | "T" => Ok(true),
        "false" | "0" | "False" | "FALSE" | "f" | "F" => Ok(false),
        _ => Err(BadParameter::new(parameter, "a boolean", value)),
    }
}

/// Formats a time as the kubelet does with `timestamps=true` (RFC 3339, nanoseconds, UTC).
pub(crate) fn format_timestamp(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S.%NZ").to_string()
}

/// Applies the kubelet's filters in its order: the last `tailLines` lines, then those
/// not older than `sinceSeconds`/`sinceTime`, rendered (with timestamps if asked) and
/// cut at `limitBytes`.
pub(crate) fn render(lines: &[LogLine], query: &LogQuery, now: Timestamp) -> Vec<u8> {
    let start = match query.tail_lines {
        Some(n) if n >= 0 => lines
            .len()
            .saturating_sub(usize::try_from(n).unwrap_or(usize::MAX)),
        _ => 0,
    };
    let since = query.since(now);
    let mut out = Vec::new();
    for line in lines[start..]
        .iter()
        .filter(|l| since.is_none_or(|s| l.time >= s))
    {
        if query.timestamps {
            out.extend_from_slice(format_timestamp(line.time).as_bytes());
            out.push(b' ');
        }
        out.extend_from_slice(line.text.as_bytes());
        out.push(b'\n');
    }
    if let Some(limit) = query.limit_bytes.filter(|l| *l >= 0) {
        out.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn sample() -> Vec<LogLine> {
        container_lines(
            "web",
            "nginx:1",
            t("2026-01-02T03:04:05Z"),
            &["one".into(), "two".into(), "three".into()],
        )
    }

    fn text(lines: &[LogLine], q: &LogQuery, now: &str) -> String {
        String::from_utf8(render(lines, q, t(now))).unwrap()
    }

    #[test]
    fn content_is_deterministic() {
        let lines = sample();
        assert_eq!(lines.len(), 4);
        assert_eq!(
            lines[0].text,
            "o2dms kubelet simulator: started container \"web\" (image \"nginx:1\")"
        );
        assert_eq!(lines[3].time, t("2026-01-02T03:04:05.003Z"));
        assert_eq!(lines, sample());
    }

    #[test]
    fn everything_by_default() {
        let out = text(&sample(), &LogQuery::default(), "2026-01-02T04:00:00Z");
        assert_eq!(out.lines().count(), 4);
        assert!(out.ends_with("one\ntwo\nthree\n"));
    }

    #[test]
    fn tail_lines() {
        let mut q = LogQuery {
            tail_lines: Some(2),
            ..Default::default()
        };
        assert_eq!(text(&sample(), &q, "2026-01-02T04:00:00Z"), "two\nthree\n");
        q.tail_lines = Some(0);
        assert_eq!(text(&sample(), &q, "2026-01-02T04:00:00Z"), "");
        q.tail_lines = Some(100);
        assert_eq!(
            text(&sample(), &q, "2026-01-02T04:00:00Z").lines().count(),
            4
        );
        q.tail_lines = Some(-1);
        assert_eq!(
            text(&sample(), &q, "2026-01-02T04:00:00Z").lines().count(),
            4
        );
    }

    #[test]
    fn since_time_and_seconds() {
        let q = LogQuery {
            since_time: Some(t("2026-01-02T03:04:05.002Z")),
            ..Default::default()
        };
        assert_eq!(text(&sample(), &q, "2026-01-02T04:00:00Z"), "two\nthree\n");
        // All lines are an hour old: sinceSeconds=60 shows none, 7200 shows all.
        let mut q = LogQuery {
            since_seconds: Some(60),
            ..Default::default()
        };
        assert_eq!(text(&sample(), &q, "2026-01-02T04:04:05Z"), "");
        q.since_seconds = Some(7200);
        assert_eq!(
            text(&sample(), &q, "2026-01-02T04:04:05Z").lines().count(),
            4
        );
    }

    #[test]
    fn tail_applies_before_since() {
        let q = LogQuery {
            tail_lines: Some(3),
            since_time: Some(t("2026-01-02T03:04:05.003Z")),
            ..Default::default()
        };
        assert_eq!(text(&sample(), &q, "2026-01-02T04:00:00Z"), "three\n");
    }

    #[test]
    fn limit_bytes_and_timestamps() {
        let q = LogQuery {
            tail_lines: Some(1),
            timestamps: true,
            ..Default::default()
        };
        assert_eq!(
            text(&sample(), &q, "2026-01-02T04:00:00Z"),
            "2026-01-02T03:04:05.003000000Z three\n"
        );
        let q = LogQuery {
            tail_lines: Some(2),
            limit_bytes: Some(6),
            ..Default::default()
        };
        assert_eq!(text(&sample(), &q, "2026-01-02T04:00:00Z"), "two\nth");
    }

    #[test]
    fn query_parsing() {
        let q = LogQuery::parse(
            "tailLines=5&timestamps=true&sinceTime=2026-01-02T03%3A04%3A05%2B01%3A00&limitBytes=10&follow&x=y",
        )
        .unwrap();
        assert_eq!(q.tail_lines, Some(5));
        assert!(q.timestamps);
        assert!(q.follow);
        assert!(!q.previous);
        assert_eq!(q.limit_bytes, Some(10));
        assert_eq!(q.since_time, Some(t("2026-01-02T02:04:05Z")));
        assert_eq!(LogQuery::parse("").unwrap(), LogQuery::default());
        assert_eq!(
            LogQuery::parse("sinceSeconds=30").unwrap().since_seconds,
            Some(30)
        );
        // `+` is a space, as in any form-encoded query.
        assert_eq!(
            LogQuery::parse("sinceTime=2026-01-02T03%3A04%3A05%2B01%3A00&tailLines=+7")
                .unwrap_err(),
            BadParameter::new("tailLines", "an integer", " 7")
        );
        // A repeated key: the last value wins.
        assert_eq!(
            LogQuery::parse("tailLines=1&tailLines=2")
                .unwrap()
                .tail_lines,
            Some(2)
        );
    }

    #[test]
    fn bad_values_name_their_parameter() {
        for (query, parameter, expected, value) in [
            ("tailLines=x", "tailLines", "an integer", "x"),
            ("sinceSeconds=1.5", "sinceSeconds", "an integer", "1.5"),
            ("limitBytes=%31%30k", "limitBytes", "an integer", "10k"),
            (
                "sinceTime=yesterday",
                "sinceTime",
                "an RFC 3339 time",
                "yesterday",
            ),
            ("timestamps=maybe", "timestamps", "a boolean", "maybe"),
            ("follow=yes", "follow", "a boolean", "yes"),
            ("previous=%20", "previous", "a boolean", " "),
            // A malformed escape stays as it is, and is no integer.
            ("tailLines=%zz", "tailLines", "an integer", "%zz"),
        ] {
            let err = LogQuery::parse(query).unwrap_err();
            assert_eq!(
                err,
                BadParameter::new(parameter, expected, value),
                "{query}"
            );
            assert!(
                err.to_string().starts_with(&format!("{parameter}: ")),
                "{err}"
            );
        }
    }

    #[test]
    fn the_message_shows_the_value() {
        let err = LogQuery::parse("tailLines=ten").unwrap_err();
        assert_eq!(
            err.to_string(),
            "tailLines: expected an integer, got \"ten\""
        );
    }
}
