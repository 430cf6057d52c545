//! Helm's release record format (the `helm.sh/release.v1` Secret driver), for tools that
//! read or seed releases without helm: one Secret per revision, named by
//! [`secret_name`], whose [`DATA_KEY`] holds base64 of gzip of the release JSON.
//!
//! ```
//! let json = br#"{"name":"web","version":1}"#;
//! let data = o2dms_helm::record::encode_json(json);
//! assert_eq!(o2dms_helm::record::decode_json(data.as_bytes()).unwrap(), json);
//! assert_eq!(o2dms_helm::record::secret_name("web", 1), "sh.helm.release.v1.web.v1");
//! ```

use o2dms_core::Result;

use crate::storage::record;

/// The data key of a release Secret that holds the encoded release.
pub const DATA_KEY: &str = record::RELEASE_DATA_KEY;

/// The name of the Secret holding `revision` of release `name`.
pub fn secret_name(name: &str, revision: u32) -> String {
    record::secret_name(name, revision)
}

/// The release JSON in a Secret's [`DATA_KEY`] data (after Kubernetes' own base64 layer):
/// base64, then gunzip when gzipped, with a size limit. A malformed record is
/// [`Backend`](o2dms_core::Error::Backend).
pub fn decode_json(data: &[u8]) -> Result<Vec<u8>> {
    Ok(record::release_json(data)?)
}

/// A release JSON encoded the way Helm stores it (base64 of gzip).
pub fn encode_json(json: &[u8]) -> String {
    record::encode_release_json(json)
}
