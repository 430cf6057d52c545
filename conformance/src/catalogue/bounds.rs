//! Every bounded field at and past its bound.

use crate::scenario::Scenario;

pub(super) fn scenarios() -> Vec<Scenario> {
    Vec::new()
}
