//! Benchmarks of the mock: get, a 100-item list page out of 10,000 deployments, and
//! four tasks hammering one mock.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use o2dms_core::{
    CreateDeployment, DeploymentFilter, DeploymentId, DmsAdapter, PackageId, PageRequest,
    ScaleRequest, UpdateDeployment, Value, Values,
};
use o2dms_mock::{MockAdapter, PackageSpec};
use tokio::runtime::Runtime;

fn current_thread() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A mock with `n` deployments spread over 10 namespaces, each with a few values and labels.
fn populated(rt: &Runtime, n: usize) -> MockAdapter {
    let mock = MockAdapter::builder()
        .package(
            PackageSpec::new("web", "1.0.0")
                .values(Values::from_pairs([("replicaCount", Value::from(1))])),
        )
        .build();
    rt.block_on(async {
        for i in 0..n {
            let id = DeploymentId::new(format!("ns-{}", i % 10), format!("web-{i:05}")).unwrap();
            let mut values = Values::new();
            values.insert("replicaCount", 2);
            values.insert("image", Values::from_pairs([("tag", Value::from("1.25"))]));
            let req = CreateDeployment::new(id, PackageId::new("web@1.0.0").unwrap())
                .values(values)
                .label("app", "web");
            mock.create_deployment(req).await.unwrap();
        }
    });
    mock
}

fn get(c: &mut Criterion) {
    let rt = current_thread();
    let mock = populated(&rt, 10_000);
    let id = DeploymentId::new("ns-3", "web-05003").unwrap();
    c.bench_function("get_deployment (10k stored)", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(mock.get_deployment(black_box(&id)).await.unwrap()) })
    });
}

fn list(c: &mut Criterion) {
    let rt = current_thread();
    let mock = populated(&rt, 10_000);
    let first = DeploymentFilter::all().page(PageRequest::first(100));
    let mut middle = first.clone();
    for _ in 0..50 {
        let page = rt.block_on(mock.list_deployments(&middle)).unwrap();
        middle.page.continue_token = page.continue_token;
    }
    let in_ns = DeploymentFilter::all()
        .namespace("ns-7")
        .page(PageRequest::first(100));
    let mut group = c.benchmark_group("list_deployments 100 of 10k");
    group.throughput(Throughput::Elements(100));
    for (name, filter) in [
        ("first page", &first),
        ("page 51 via continue token", &middle),
        ("namespace filter", &in_ns),
    ] {
        group.bench_function(name, |b| {
            b.to_async(&rt).iter(|| async {
                let page = mock.list_deployments(black_box(filter)).await.unwrap();
                assert_eq!(page.items.len(), 100);
                black_box(page)
            })
        });
    }
    group.finish();
}

fn hammer(c: &mut Criterion) {
    const OPS_PER_TASK: u64 = 1_000;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let mock = MockAdapter::builder()
        .package(PackageSpec::new("web", "1.0.0"))
        .build();
    let shared = DeploymentId::new("ns", "shared").unwrap();
    rt.block_on(mock.create_deployment(CreateDeployment::new(
        shared.clone(),
        PackageId::new("web@1.0.0").unwrap(),
    )))
    .unwrap();
    let mut group = c.benchmark_group("hammer");
    group.throughput(Throughput::Elements(4 * OPS_PER_TASK));
    group.sample_size(20);
    group.bench_function("4 tasks, mixed ops on one mock", |b| {
        b.to_async(&rt).iter(|| async {
            let mut tasks = Vec::new();
            for t in 0..4u64 {
                let mock = mock.clone();
                let shared = shared.clone();
                tasks.push(tokio::spawn(async move {
                    for i in 0..OPS_PER_TASK {
                        match (i + t) % 4 {
                            0 => {
                                let _ = mock
                                    .scale_deployment(&shared, ScaleRequest::to((i % 5) as u32))
                                    .await;
                            }
                            1 => {
                                let _ = mock
                                    .update_deployment(&shared, UpdateDeployment::default())
                                    .await;
                            }
                            _ => {
                                black_box(mock.get_deployment(&shared).await.unwrap());
                            }
                        }
                    }
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
        })
    });
    group.finish();
}

criterion_group!(benches, get, list, hammer);
criterion_main!(benches);
