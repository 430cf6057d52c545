//! Exit statuses of `o2dms`, and [`Failure`], a command that could not do its job.
//!
//! | status | meaning |
//! | --- | --- |
//! | 0 | done; for `serve`: stopped by a signal, every operation finished |
//! | 1 | `serve` stopped with operations still running after the grace period ([`UNFINISHED`]) |
//! | 2 | bad command line or configuration ([`USAGE`]): the message names the key path and line |
//! | 3 | could not start or keep serving ([`UNAVAILABLE`]): a Helm plugin that cannot connect (named), an address that cannot be bound |

use std::fmt;
use std::process::ExitCode;

/// `serve` stopped, but operations were still running when the grace period ended:
/// what they were doing is unknown (each is logged with its id).
pub const UNFINISHED: u8 = 1;
/// A usage or configuration error (clap's usage errors have this status too).
pub const USAGE: u8 = 2;
/// Something the command needs is not there: a backend it cannot connect to, an
/// address it cannot listen on, a listener that fails.
pub const UNAVAILABLE: u8 = 3;

/// The exit statuses of `o2dms serve`, for its `--help`.
pub const SERVE_EXIT_STATUS: &str = "\
Exit status:
  0  stopped by SIGINT or SIGTERM, every operation finished
  1  stopped with operations still running after the grace period (each is logged)
  2  bad command line or configuration (the message names the key path and line)
  3  a Helm plugin cannot connect (named), or the address cannot be bound

The address is printed to stderr as one line, `listening on http(s)://ADDR`, before serving.";

/// Why a command stopped before doing its job: an exit status and what to tell the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The exit status.
    pub code: u8,
    /// The message for stderr (never a configuration value).
    pub message: String,
}

impl Failure {
    /// A usage or configuration error (status [`USAGE`]).
    pub fn usage(message: impl Into<String>) -> Self {
        Failure {
            code: USAGE,
            message: message.into(),
        }
    }

    /// Something needed is unavailable (status [`UNAVAILABLE`]).
    pub fn unavailable(message: impl Into<String>) -> Self {
        Failure {
            code: UNAVAILABLE,
            message: message.into(),
        }
    }

    /// Prints the message to stderr and gives the exit status.
    pub fn report(&self) -> ExitCode {
        eprintln!("o2dms: error: {}", self.message);
        ExitCode::from(self.code)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}
