//! The injectable clock every timestamp of the mock comes from.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use o2dms_core::Timestamp;

/// Where the mock gets the time from.
///
/// Every timestamp the mock writes (package `created_at`, deployment `created_at` /
/// `updated_at`, revision `updated_at`, condition times) comes from [`Clock::now`].
/// When an operation has to wait (a create whose workload never becomes ready waits
/// for its whole timeout) the mock never sleeps: it calls [`Clock::wait`], which a
/// [`ManualClock`] answers by moving forward and the [`SystemClock`] ignores.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> Timestamp;

    /// A simulated wait of `d`. The default does nothing.
    fn wait(&self, d: Duration) {
        let _ = d;
    }
}

/// The system's wall clock. Simulated waits take no time.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that only moves when told to; clones share the same time.
///
/// ```
/// use std::time::Duration;
/// use o2dms_mock::{Clock, ManualClock};
/// use o2dms_core::Timestamp;
///
/// let clock = ManualClock::new(Timestamp::from_unix(1_000, 0));
/// let handle = clock.clone();
/// handle.advance(Duration::from_secs(30));
/// assert_eq!(clock.now(), Timestamp::from_unix(1_030, 0));
/// clock.wait(Duration::from_secs(5)); // a simulated wait moves it too
/// assert_eq!(handle.now().unix_seconds(), 1_035);
/// ```
#[derive(Clone)]
pub struct ManualClock {
    now: Arc<Mutex<Timestamp>>,
}

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: Timestamp) -> Self {
        ManualClock {
            now: Arc::new(Mutex::new(start)),
        }
    }

    /// Moves the clock forward by `d`.
    pub fn advance(&self, d: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now = now.saturating_add(d);
    }

    /// Sets the clock to `t` (it may go backwards).
    pub fn set(&self, t: Timestamp) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = t;
    }
}

impl Default for ManualClock {
    /// A clock standing at 2026-01-01T00:00:00Z.
    fn default() -> Self {
        ManualClock::new(Timestamp::from_unix(1_767_225_600, 0))
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManualClock")
            .field("now", &self.now())
            .finish()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait(&self, d: Duration) {
        self.advance(d);
    }
}
