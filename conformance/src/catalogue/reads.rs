//! Reads of deleted, refused and failed deployments; live state.

use crate::scenario::Scenario;

pub(super) fn scenarios() -> Vec<Scenario> {
    Vec::new()
}
