//! # o2dms-helm
//!
//! The Helm adapter for o2dms: writes go through the `helm` binary (Helm 3.x or 4.x,
//! detected once), reads come straight from the cluster through `kube` by decoding
//! Helm's release Secrets, with no helm process.

mod adapter;
pub mod chartdir;
pub mod classify;
pub mod cli;
pub mod config;
pub mod index;
pub mod manifest;
pub mod reader;
pub mod release;
pub mod values_file;
pub mod workloads;

pub use adapter::{HelmAdapter, Recovery};
pub use cli::{HelmMajor, HelmVersion};
pub use config::{HelmConfig, HelmConfigBuilder};
