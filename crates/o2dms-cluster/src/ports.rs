//! Free loopback ports for the servers this crate starts.

use std::collections::HashSet;
use std::net::TcpListener;
use std::sync::Mutex;

use crate::error::{ClusterError, Result};

static HANDED_OUT: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

/// A TCP port on 127.0.0.1 that was free a moment ago, never handed out twice by this
/// process (so concurrent callers in one test binary do not collide). Another process may
/// still take it before the caller binds it: callers retry with a new port when a start
/// fails.
pub fn free_port() -> Result<u16> {
    let mut guard = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
    let used = guard.get_or_insert_with(HashSet::new);
    for _ in 0..200 {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .map_err(|e| ClusterError::io("binding 127.0.0.1:0 to find a free port", e))?;
        let port = listener
            .local_addr()
            .map_err(|e| ClusterError::io("reading a bound address", e))?
            .port();
        if used.insert(port) {
            return Ok(port);
        }
    }
    Err(ClusterError::Config(
        "could not find a free port on 127.0.0.1".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_bindable_and_never_repeat() {
        let ports: Vec<u16> = (0..50).map(|_| free_port().unwrap()).collect();
        let distinct: HashSet<u16> = ports.iter().copied().collect();
        assert_eq!(distinct.len(), ports.len(), "{ports:?}");
        assert!(ports.iter().all(|p| *p != 0));
        TcpListener::bind(("127.0.0.1", ports[0])).expect("a handed-out port is bindable");
    }
}
