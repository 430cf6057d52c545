//! The Helm adapter with Helm 4 on a real local cluster.

mod common;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helm4_adapter_on_a_local_cluster() {
    common::run_all(o2dms_cluster::HelmMajor::V4).await;
}
