//! Wrappers that implement [`DmsAdapter`](o2dms_core::DmsAdapter) around an inner adapter.
//!
//! - [`Events`]: operation events for every mutating operation.
//! - [`Timeouts`]: per-operation time limits.

mod events;
mod method;
mod timeouts;

pub use events::{Events, DEFAULT_EVENT_CAPACITY};
pub use method::Method;
pub use timeouts::{TimeoutLimits, Timeouts};
