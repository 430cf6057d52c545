//! Kubernetes clusters for o2dms tests and conformance runs.
//!
//! Providers: a local control plane that needs no container engine (etcd,
//! kube-apiserver, kube-controller-manager, kube-scheduler and a kubelet simulator),
//! kind, k3s through testcontainers, and an existing cluster through a kubeconfig.
//! Tools (control-plane binaries, etcd, Helm 3 and 4, kubectl) are provisioned
//! automatically and cached.

mod certs;
mod error;
pub mod kubelet;
pub mod local;
mod process;
pub mod provider;
pub mod serve;
pub mod tools;

pub use error::{ClusterError, Result};
pub use local::{LocalCluster, LocalClusterOptions, LocalPorts, StartPhase};
pub use process::{process_alive, process_start_time};
pub use provider::{
    Cluster, ClusterKind, ClusterProvider, K3sProvider, KindProvider, KubeconfigProvider,
    LocalProvider, ProviderSpec,
};
pub use tools::{
    default_cache_dir, tools, ControlPlaneBinaries, HelmMajor, ProvisionOptions, Provisioner, Tools,
};
