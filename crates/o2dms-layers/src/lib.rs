//! Wrappers around an inner adapter, each an [`o2dms_core::Wrapper`] (and so a
//! [`DmsAdapter`](o2dms_core::DmsAdapter)); per-operation settings are keyed by
//! [`o2dms_core::Operation`].
//!
//! - [`Events`]: operation events for every mutating operation.
//! - [`Timeouts`]: per-operation time limits.

mod events;
mod timeouts;

pub use events::{Events, DEFAULT_EVENT_CAPACITY};
pub use timeouts::{TimeoutLimits, Timeouts};
