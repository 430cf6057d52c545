//! # o2dms-conformance-cli
//!
//! The conformance suite as a program (`o2dms-conformance`), and the pieces of it that
//! other harnesses reuse (`cargo xtask conformance` does): report targets, a settings
//! file, the removal of the namespaces a run created on a Kubernetes cluster, and runs
//! over the wire against a DMS server (`--endpoint`).

mod args;
mod namespaces;
mod remote;
mod reports;
mod run;
mod settings_file;

pub use args::{AdapterKind, Cli, ReportTarget};
pub use namespaces::KubeNamespaces;
pub use remote::{connect, run_remote, EndpointOptions};
pub use reports::write_reports;
pub use run::{exit_code, run, Exit};
pub use settings_file::SettingsFile;
