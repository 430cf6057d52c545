//! A real server on loopback hosting adapters, stopped when the guard goes.

#![allow(dead_code, reason = "each test file uses a part")]

use std::net::SocketAddr;
use std::sync::Arc;

use o2dms_core::DmsAdapter;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A server on 127.0.0.1 and a free port; shut down (and awaited) by [`Running::stop`],
/// aborted on drop.
pub struct Running {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<o2dms_server::ShutdownReport>>>,
}

impl Running {
    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:PORT/<dm>`.
    pub fn endpoint(&self, dm: &str) -> String {
        format!("{}/{dm}", self.url())
    }

    /// Graceful shutdown; the report of what was left running.
    pub async fn stop(mut self) -> o2dms_server::ShutdownReport {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let task = self.task.take().expect("running");
        task.await.expect("server task").expect("serve")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Serves `adapters` (name, adapter).
pub async fn serve(adapters: Vec<(&str, Arc<dyn DmsAdapter>)>) -> Running {
    let mut builder = o2dms_server::Server::builder();
    for (name, a) in adapters {
        builder = builder.shared_adapter(name, a);
    }
    let server = builder.build().expect("valid names");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("address");
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(server.serve(listener, async move {
        let _ = rx.await;
    }));
    Running {
        addr,
        stop: Some(tx),
        task: Some(task),
    }
}
