//! What the wrappers cost: one read and one write on the mock, bare and wrapped in
//! `Events<Timeouts<_>>` (every call goes through two `Wrapper::around`s, the events
//! layer sends two broadcast events per write).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use o2dms_core::{CreateDeployment, DeploymentId, DmsAdapter, PackageId, ScaleRequest};
use o2dms_layers::{Events, TimeoutLimits, Timeouts};
use o2dms_mock::{MockAdapter, PackageSpec};
use tokio::runtime::Runtime;

fn current_thread() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn mock_with_one(rt: &Runtime, id: &DeploymentId) -> MockAdapter {
    let mock = MockAdapter::builder()
        .package(PackageSpec::new("web", "1.0.0"))
        .max_history(3)
        .build();
    let create = CreateDeployment::new(id.clone(), PackageId::new("web@1.0.0").unwrap());
    rt.block_on(mock.create_deployment(create)).unwrap();
    mock
}

fn bench_pair(
    c: &mut Criterion,
    name: &str,
    adapters: [(&str, &dyn DmsAdapter); 2],
    rt: &Runtime,
    id: &DeploymentId,
) {
    let mut group = c.benchmark_group(name);
    for (label, adapter) in adapters {
        group.bench_function(label, |b| match name {
            "get_deployment" => b
                .to_async(rt)
                .iter(|| async { black_box(adapter.get_deployment(id).await.unwrap()) }),
            _ => b.to_async(rt).iter(|| async {
                black_box(
                    adapter
                        .scale_deployment(id, ScaleRequest::to(2))
                        .await
                        .unwrap(),
                )
            }),
        });
    }
    group.finish();
}

fn wrapped_vs_bare(c: &mut Criterion) {
    let rt = current_thread();
    let id = DeploymentId::new("ns", "web").unwrap();
    let bare = mock_with_one(&rt, &id);
    let wrapped = Events::new(Timeouts::new(
        mock_with_one(&rt, &id),
        TimeoutLimits::default(),
    ));
    // A subscriber that never reads: sending must not wait for it.
    let _idle = wrapped.subscribe();
    for op in ["get_deployment", "scale_deployment"] {
        bench_pair(
            c,
            op,
            [("bare", &bare), ("Events<Timeouts<_>>", &wrapped)],
            &rt,
            &id,
        );
    }
}

criterion_group!(benches, wrapped_vs_bare);
criterion_main!(benches);
