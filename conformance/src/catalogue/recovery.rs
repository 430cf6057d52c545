//! Writes to Failed and pending deployments: the recovery path.

use crate::scenario::Scenario;

pub(super) fn scenarios() -> Vec<Scenario> {
    Vec::new()
}
