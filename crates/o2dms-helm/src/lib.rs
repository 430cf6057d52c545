//! # o2dms-helm
//!
//! The Helm adapter for o2dms: writes go through the `helm` binary (Helm 3.x or 4.x,
//! detected once), reads come straight from the cluster through `kube` by decoding
//! Helm's release Secrets, with no helm process.
//!
//! The crate is laid out like Helm's own `pkg/action` and storage driver:
//!
//! - `connect` — [`HelmAdapter`]: construction, and what it offers beyond the trait;
//! - `adapter` — the [`DmsAdapter`](o2dms_core::DmsAdapter) impl: validate, run the
//!   action, read back;
//! - `action` — one file per verb (install, upgrade, scale, rollback, uninstall,
//!   recover, and the reads), each an options struct and a `run`;
//! - `helm` — the helm process: version, argv (pure functions), values files, the
//!   runner, the stderr classifier;
//! - `storage` — release records behind one type: decoding, point reads, the live index,
//!   the record cache, "in use" queries, and the consistency rules between them;
//! - `chart`, `labels`, `manifest`, `workloads`, `locks` — what the actions share;
//! - `lease` — a Kubernetes Lease per release held by every write, so that two adapter
//!   processes never write one release at once;
//! - `redact` — the `redactValues` setting: values masked in what reads return.
//!
//! [`record`] is public for tools that read or seed Helm's release records directly.

#![warn(unreachable_pub)]

mod action;
mod adapter;
mod chart;
mod config;
mod connect;
mod deadline;
mod helm;
mod kube_error;
mod labels;
mod lease;
mod locks;
mod manifest;
mod namespaces;
pub mod record;
mod redact;
mod storage;
mod workloads;

pub use action::recover::Recovery;
pub use config::{ApplyMethod, HelmConfig, HelmConfigBuilder, RegistryConfig, WaitStrategy};
pub use connect::HelmAdapter;
pub use helm::{HelmMajor, HelmVersion};
pub use lease::lease_name;
pub use namespaces::CREATED_BY as CREATED_NAMESPACE_LABEL;
