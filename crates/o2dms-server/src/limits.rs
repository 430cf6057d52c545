//! The server's limits: body sizes, waits, timeouts, operation retention.

use std::time::Duration;

/// Limits of a [`Server`](crate::Server); [`Limits::default`] gives the values below.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest JSON request body, in bytes (default 2 MiB: the largest valid values,
    /// [`MAX_VALUES_BYTES`](o2dms_core::validate::MAX_VALUES_BYTES), and room for the
    /// other members, so that values past their bound reach the adapter and fail as
    /// they do in process, naming `values`); larger is 413.
    pub body_bytes: usize,
    /// Largest package archive an upload may send, in bytes (default 20 MiB); larger is 413.
    pub upload_bytes: usize,
    /// Longest `Prefer: wait=N` honoured (default 600 s); a longer wait is cut to this.
    pub wait_cap: Duration,
    /// How long a request may take, besides the wait it asked for (default 30 s); then
    /// 504. An accepted write goes on in its operation.
    pub request_timeout: Duration,
    /// How many finished operations are kept, the newest (default 10,000); running
    /// operations are always kept.
    pub operation_retention: usize,
    /// How long [`Server::serve`](crate::Server::serve) waits, once shut down, for open
    /// connections to close and then for running operations to finish (default 30 s
    /// each).
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            body_bytes: o2dms_core::validate::MAX_VALUES_BYTES + 1024 * 1024,
            upload_bytes: 20 * 1024 * 1024,
            wait_cap: Duration::from_secs(600),
            request_timeout: Duration::from_secs(30),
            operation_retention: 10_000,
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

impl Limits {
    /// The wait to honour for a request that asked for `asked`: at most
    /// [`wait_cap`](Self::wait_cap); `None` for no wait (none asked, or zero).
    pub fn wait_for(&self, asked: Option<Duration>) -> Option<Duration> {
        asked.map(|w| w.min(self.wait_cap)).filter(|w| !w.is_zero())
    }
}
