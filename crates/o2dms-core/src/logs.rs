//! Logs of a deployment's workloads.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Which log lines to read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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
