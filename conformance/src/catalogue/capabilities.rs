//! Capabilities, info and health.

use crate::scenario::Scenario;

pub(super) fn scenarios() -> Vec<Scenario> {
    Vec::new()
}
