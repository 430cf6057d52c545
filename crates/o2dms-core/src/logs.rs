//! Logs of a deployment's workloads.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Which log lines to read.
///
/// ```
/// use o2dms_core::LogOptions;
/// let o = LogOptions::new().container("app").tail_lines(10);
/// assert_eq!(o.tail_lines, Some(10));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LogOptions {
    /// Only this container (every container if unset).
    pub container: Option<String>,
    /// Only the last N lines of each container.
    pub tail_lines: Option<u32>,
    /// Only lines newer than this.
    pub since: Option<Duration>,
    /// Stop after this many bytes in total.
    pub limit_bytes: Option<u64>,
}

impl LogOptions {
    /// Every line of every container.
    pub fn new() -> Self {
        LogOptions::default()
    }

    /// Only this container.
    pub fn container(mut self, container: impl Into<String>) -> Self {
        self.container = Some(container.into());
        self
    }

    /// Only the last `lines` lines of each container.
    pub fn tail_lines(mut self, lines: u32) -> Self {
        self.tail_lines = Some(lines);
        self
    }

    /// Only lines newer than `age`.
    pub fn since(mut self, age: Duration) -> Self {
        self.since = Some(age);
        self
    }

    /// At most `bytes` bytes in total.
    pub fn limit_bytes(mut self, bytes: u64) -> Self {
        self.limit_bytes = Some(bytes);
        self
    }
}

/// One log line and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    /// Pod name.
    pub pod: String,
    /// Container name.
    pub container: String,
    /// The line, without its newline.
    pub line: String,
}

/// The lines read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Logs {
    /// Lines, grouped by pod and container in name order.
    pub lines: Vec<LogLine>,
    /// Whether `limit_bytes` cut the output short.
    pub truncated: bool,
}
