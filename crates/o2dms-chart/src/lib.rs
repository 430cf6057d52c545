//! Helm chart archives as untrusted input.
//!
//! [`validate`] streams a chart `.tgz` through memory once and either rejects it with an
//! [`ArchiveError`] naming the entry and the rule it breaks, or returns a
//! [`ValidatedChart`] with the chart's metadata, default values, file list and SHA-256
//! digest. Nothing is extracted to disk and nothing is inflated past the [`Limits`].
//!
//! [`ChartIndex`] models a chart repository's `index.yaml`, and
//! [`package_file_name`] gives the `<name>-<version>.tgz` name Helm uses.
//!
//! ```
//! use o2dms_chart::{validate, ArchiveError, Limits};
//!
//! let err = validate(b"not a tgz", &Limits::default()).unwrap_err();
//! assert!(matches!(err, ArchiveError::NotGzip));
//! assert_eq!(err.field(), "archive");
//! let core: o2dms_core::Error = err.into();
//! assert_eq!(core.kind(), o2dms_core::ErrorKind::InvalidArgument);
//! ```
//!
//! See `docs/security.md` in the repository for the threat model and every check.

mod archive;
mod chart;
mod error;
mod index;
mod limits;

pub use archive::validate;
pub use chart::{
    package_file_name, parse_chart_yaml, parse_values_yaml, validate_chart_name, ChartMetadata,
    ChartType, FileNameError, ValidatedChart, CHART_API_VERSION, CHART_API_VERSIONS,
    CHART_API_VERSION_V1, MAX_CHART_NAME_LEN,
};
pub use error::ArchiveError;
pub use index::{ChartIndex, IndexEntry, IndexError, INDEX_API_VERSION};
pub use limits::Limits;
