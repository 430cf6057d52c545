//! Test tooling for o2dms: Kubernetes clusters and loopback servers for tests,
//! benchmarks and conformance runs.
//!
//! This crate is not published (`publish = false`) and is never a normal dependency of a
//! published crate: use it from `[dev-dependencies]`, xtask, or your own test harness.
//!
//! - Providers ([`provider`], [`local`]): a local control plane that needs no container
//!   engine (etcd, kube-apiserver, kube-controller-manager, kube-scheduler and a kubelet
//!   simulator), kind, k3s through testcontainers, and an existing cluster through a
//!   kubeconfig.
//! - Tools ([`tools`](mod@tools)): control-plane binaries, etcd, Helm 3 and 4, kubectl and
//!   docker-registry, provisioned automatically and cached.
//! - Loopback servers ([`servers`]): a static HTTP server over a chart repository and an
//!   OCI registry, on free ports of 127.0.0.1.
//! - Least-privilege identities ([`rbac`]): the repository's RBAC manifests
//!   (`deploy/rbac/`) applied for a ServiceAccount, its token, a kubeconfig holding it.
//!
//! Every process it supervises (cluster components, servers) is stopped by the pid it was
//! started with, never by name, and reaped, also when a test panics; only a cluster
//! started on purpose to outlive its caller ([`serve::spawn_detached`]) runs on.

mod certs;
mod error;
pub mod kubelet;
pub mod local;
mod ports;
mod process;
pub mod provider;
pub mod rbac;
pub mod serve;
pub mod servers;
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
