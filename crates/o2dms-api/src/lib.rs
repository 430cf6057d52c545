//! # o2dms-api
//!
//! The wire contract of the O2-DMS REST API, `/o2dms/v1`: a faithful HTTP form of the
//! [`DmsAdapter`](o2dms_core::DmsAdapter) trait, shared by the server and the remote
//! adapter, so that the conformance suite sees over the wire exactly what it sees in
//! process.
//!
//! | module | concern |
//! | --- | --- |
//! | [`paths`] | route templates and the functions that build them |
//! | [`segment`] | path segment encoding and validation (ids checked before anything else) |
//! | [`wire`] | JSON bodies and query strings, with conversions to and from the core types |
//! | [`problem`] | RFC 9457 problems: every [`Error`](o2dms_core::Error) field, status mapping |
//! | [`json`] | request body decoding that names the bad field |
//! | [`prefer`] | RFC 7240 `Prefer: wait=N` and `Preference-Applied` |
//! | [`media`] | media types, header names, the API version |
//! | [`duration`] | durations as JSON numbers of seconds |
//! | [`openapi`] | the OpenAPI 3.1 document of the API (`docs/openapi.json`) |
//!
//! JSON conventions: member names are camelCase; enum values keep the core's names
//! (`rolling_back`, `scale_deployment`, `not_found`), except the operation states,
//! which are ETSI NFV-SOL 003's (`FAILED_TEMP`); durations are numbers of seconds
//! (`timeoutSeconds: 1.5`); timestamps are RFC 3339 text in UTC. Requests refuse unknown
//! members, naming them; responses tolerate them, so that servers can add members.
//!
//! Conversions from the wire to the core types check only what the core types cannot
//! hold (ids, durations): every other rule is the adapter's, so that an invalid request
//! fails over the wire with the very error (and field name) it fails with in process.
//!
//! ```
//! use o2dms_api::{paths, problem::Problem};
//! use o2dms_core::{DeploymentId, Error, Resource};
//!
//! let id = DeploymentId::new("ran", "du-1")?;
//! assert_eq!(paths::scale("edge", &id), "/o2dms/v1/deploymentManagers/edge/deployments/ran/du-1/scale");
//!
//! let err = Error::not_found(Resource::Deployment, &id);
//! let problem = Problem::from_error(&err, Some("/o2dms/v1/deploymentManagers/edge/deployments/ran/du-1"));
//! assert_eq!(problem.status, 404);
//! assert_eq!(problem.into_error(), err);
//! # Ok::<(), Error>(())
//! ```

pub mod duration;
pub mod json;
pub mod media;
pub mod openapi;
pub mod paths;
pub mod prefer;
pub mod problem;
pub mod segment;
pub mod wire;

pub use problem::{status_for, Problem};
