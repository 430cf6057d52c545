//! How a scenario says what went wrong: expectations and what was seen.

use std::fmt;

use o2dms_core::{Error, ErrorKind};

/// Why a scenario did not pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The adapter did something other than what the contract says.
    Mismatch {
        /// What the contract expects.
        expected: String,
        /// What the adapter did.
        seen: String,
    },
    /// The scenario cannot run against this adapter (a missing capability, no event source).
    NotSupported(String),
    /// The scenario chose not to run (with the reason).
    Skipped(String),
}

impl Failure {
    /// A mismatch between `expected` and `seen`.
    pub fn mismatch(expected: impl fmt::Display, seen: impl fmt::Display) -> Self {
        Failure::Mismatch {
            expected: expected.to_string(),
            seen: seen.to_string(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Mismatch { expected, seen } => write!(f, "expected {expected}; seen {seen}"),
            Failure::NotSupported(r) => write!(f, "not supported: {r}"),
            Failure::Skipped(r) => write!(f, "skipped: {r}"),
        }
    }
}

/// An adapter error where success was expected.
impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::mismatch("the operation to succeed", describe_error(&e))
    }
}

/// `Kind: message` for an error.
pub fn describe_error(e: &Error) -> String {
    format!("{} error: {e}", e.kind())
}

/// Fails with `expected`/`seen` unless `condition` holds.
pub fn ensure(
    condition: bool,
    expected: impl fmt::Display,
    seen: impl FnOnce() -> String,
) -> Result<(), Failure> {
    if condition {
        Ok(())
    } else {
        Err(Failure::mismatch(expected, seen()))
    }
}

/// Fails unless `seen == expected`, naming `what`.
pub fn ensure_eq<T: PartialEq + fmt::Debug>(
    what: &str,
    expected: &T,
    seen: &T,
) -> Result<(), Failure> {
    if expected == seen {
        Ok(())
    } else {
        Err(Failure::mismatch(
            format!("{what} = {expected:?}"),
            format!("{what} = {seen:?}"),
        ))
    }
}

/// Context for results of adapter calls.
pub trait ResultExt<T> {
    /// Success expected: an error becomes a mismatch naming the step.
    fn step(self, what: &str) -> Result<T, Failure>;
    /// An error of `kind` expected: success or another kind is a mismatch naming the step.
    fn expect_kind(self, kind: ErrorKind, what: &str) -> Result<Error, Failure>;
    /// InvalidArgument naming a field that contains `field` expected.
    fn expect_invalid(self, field: &str, what: &str) -> Result<Error, Failure>;
}

impl<T: fmt::Debug> ResultExt<T> for Result<T, Error> {
    fn step(self, what: &str) -> Result<T, Failure> {
        self.map_err(|e| Failure::mismatch(format!("{what} to succeed"), describe_error(&e)))
    }

    fn expect_kind(self, kind: ErrorKind, what: &str) -> Result<Error, Failure> {
        match self {
            Err(e) if e.kind() == kind => Ok(e),
            Err(e) => Err(Failure::mismatch(
                format!("{what}: {kind} error"),
                describe_error(&e),
            )),
            Ok(v) => Err(Failure::mismatch(
                format!("{what}: {kind} error"),
                format!("success ({})", short_debug(&v)),
            )),
        }
    }

    fn expect_invalid(self, field: &str, what: &str) -> Result<Error, Failure> {
        let e = self.expect_kind(ErrorKind::InvalidArgument, what)?;
        match &e {
            Error::InvalidArgument { field: f, .. } if f.contains(field) => Ok(e),
            other => Err(Failure::mismatch(
                format!("{what}: InvalidArgument naming the field `{field}`"),
                describe_error(other),
            )),
        }
    }
}

/// A debug rendering cut to a readable length.
pub fn short_debug<T: fmt::Debug>(v: &T) -> String {
    let s = format!("{v:?}");
    if s.len() > 300 {
        let mut cut = 300;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}...", &s[..cut])
    } else {
        s
    }
}
