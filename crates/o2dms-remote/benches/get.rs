//! What the REST API adds to a read: `get_deployment` on the mock in process against the
//! same get through [`RemoteAdapter`] over HTTP/1.1 keep-alive to an
//! [`o2dms_server::Server`] on 127.0.0.1 in this process, hosting an identical mock.
//!
//! Client and server share one current-thread runtime, so a get never waits for another
//! thread to wake up: the figure is the CPU work of the whole exchange (client, loopback,
//! server), steady from run to run. `cargo xtask bench-api` measures the latency against
//! the `o2dms serve` program, which has worker threads of its own.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use o2dms_core::{CreateDeployment, DeploymentId, DmsAdapter, PackageId};
use o2dms_mock::{MockAdapter, PackageSpec};
use o2dms_remote::RemoteAdapter;
use tokio::runtime::Runtime;

/// A mock holding one deployment, `id`, of `web@1.0.0`.
fn mock_with_one(rt: &Runtime, id: &DeploymentId) -> MockAdapter {
    let mock = MockAdapter::builder()
        .package(PackageSpec::new("web", "1.0.0"))
        .build();
    let create = CreateDeployment::new(id.clone(), PackageId::new("web@1.0.0").unwrap());
    rt.block_on(mock.create_deployment(create)).unwrap();
    mock
}

fn get(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let id = DeploymentId::new("bench", "web").unwrap();
    let local = mock_with_one(&rt, &id);

    let server = o2dms_server::Server::builder()
        .adapter("bench", mock_with_one(&rt, &id))
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = rt.spawn(server.serve(listener, async move {
        let _ = stopped.await;
    }));
    let remote = rt
        .block_on(RemoteAdapter::builder(format!("http://{addr}/bench")).connect())
        .unwrap();

    let mut group = c.benchmark_group("get_deployment");
    group.bench_function("in process (mock)", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(local.get_deployment(&id).await.unwrap()) })
    });
    group.bench_function("RemoteAdapter -> Server -> mock", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(remote.get_deployment(&id).await.unwrap()) })
    });
    group.finish();

    drop(remote);
    let _ = stop.send(());
    rt.block_on(serving).unwrap().unwrap();
}

criterion_group!(benches, get);
criterion_main!(benches);
