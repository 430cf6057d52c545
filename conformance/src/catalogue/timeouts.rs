//! Timeouts of every write and what they leave.

use crate::scenario::Scenario;

pub(super) fn scenarios() -> Vec<Scenario> {
    Vec::new()
}
