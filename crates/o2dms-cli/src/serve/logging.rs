//! Structured logs on stderr with tracing-subscriber: text or JSON, filtered by
//! `--log-level`, else `RUST_LOG`, else `info`.
//!
//! What the server logs never holds a value, token or password: requests are logged by
//! method, path (no query), status and request id; operations by id, deployment manager,
//! target and outcome kind (`o2dms-server`); configuration errors name key paths only.

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;

use super::args::LogFormat;
use crate::exit::Failure;

/// The filter when neither `--log-level` nor `RUST_LOG` gives one.
const DEFAULT_FILTER: &str = "info";

/// Installs the global subscriber.
///
/// # Errors
/// A filter that does not parse (status 2).
pub(crate) fn init(format: LogFormat, level: Option<&str>) -> Result<(), Failure> {
    let (directives, source) = match level {
        Some(l) => (l.to_owned(), "--log-level"),
        None => match std::env::var("RUST_LOG") {
            Ok(env) if !env.trim().is_empty() => (env, "RUST_LOG"),
            _ => (DEFAULT_FILTER.to_owned(), "the default filter"),
        },
    };
    let filter = EnvFilter::builder()
        .parse(&directives)
        .map_err(|e| Failure::usage(format!("{source}: not a log filter: {e}")))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let installed = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    installed.map_err(|e| Failure::unavailable(format!("setting up the logs: {e}")))
}
