//! Deployments this adapter process is writing right now: a second write to one of them
//! through the same adapter is a Conflict at once instead of a race inside helm.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use o2dms_core::{DeploymentId, Error, Resource, Result};

/// The set of deployments being written.
#[derive(Debug, Default)]
pub(crate) struct Locks {
    busy: Arc<Mutex<HashSet<DeploymentId>>>,
}

/// One deployment held for one write; released when dropped (also on error or panic).
#[derive(Debug)]
pub(crate) struct Held {
    busy: Arc<Mutex<HashSet<DeploymentId>>>,
    id: DeploymentId,
}

impl Locks {
    /// Holds `id` for one write, or Conflict if a write through this adapter holds it.
    pub(crate) fn hold(&self, id: &DeploymentId) -> Result<Held> {
        let mut busy = self
            .busy
            .lock()
            .map_err(|_| Error::backend("adapter lock poisoned"))?;
        if !busy.insert(id.clone()) {
            return Err(Error::conflict(
                Resource::Deployment,
                id,
                "another operation through this adapter is in progress",
            ));
        }
        Ok(Held {
            busy: self.busy.clone(),
            id: id.clone(),
        })
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Ok(mut busy) = self.busy.lock() {
            busy.remove(&self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_write_per_deployment_until_released() {
        let locks = Locks::default();
        let a = DeploymentId::new("ns", "a").unwrap();
        let b = DeploymentId::new("ns", "b").unwrap();
        let held = locks.hold(&a).unwrap();
        assert!(matches!(locks.hold(&a), Err(Error::Conflict { .. })));
        let _other = locks.hold(&b).unwrap();
        drop(held);
        assert!(locks.hold(&a).is_ok());
    }
}
