//! The limits [`validate`](crate::validate) enforces, with documented defaults.

use serde::{Deserialize, Serialize};

const MIB: u64 = 1024 * 1024;

/// Resource limits for validating one chart archive.
///
/// Every limit is checked while the archive streams through memory, before anything is
/// stored; a limit that trips aborts validation at once (nothing is inflated past it).
///
/// | setting | default | what it bounds |
/// | --- | --- | --- |
/// | [`max_compressed_bytes`](Limits::max_compressed_bytes) | 10 MiB | the `.tgz` as uploaded |
/// | [`max_uncompressed_bytes`](Limits::max_uncompressed_bytes) | 50 MiB | the inflated tar stream (headers, padding and file data) |
/// | [`max_file_bytes`](Limits::max_file_bytes) | 5 MiB | the declared size of any one entry |
/// | [`max_entries`](Limits::max_entries) | 5000 | entries (files, directories, other headers) |
/// | [`max_ratio`](Limits::max_ratio) | 100 | inflated bytes per compressed byte of the whole archive |
/// | [`ratio_grace_bytes`](Limits::ratio_grace_bytes) | 1 MiB | inflated bytes below which the ratio is not checked |
/// | [`max_path_bytes`](Limits::max_path_bytes) | 1024 | the length of one entry path |
///
/// The grace amount exists because a tar stream pads every entry to 512 bytes and ends in
/// 1 KiB of zeros, which compress almost to nothing: a small legitimate chart can inflate
/// at more than 100:1. Below the grace amount the ratio cannot do harm anyway.
///
/// Deserializes with defaults for missing keys, so a configuration file can set only
/// what it changes:
///
/// ```
/// let limits: o2dms_chart::Limits = serde_json::from_str(r#"{"max_entries": 100}"#).unwrap();
/// assert_eq!(limits.max_entries, 100);
/// assert_eq!(limits.max_ratio, o2dms_chart::Limits::default().max_ratio);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest archive accepted, in bytes, as uploaded (compressed). Default 10 MiB.
    pub max_compressed_bytes: u64,
    /// Largest inflated tar stream, in bytes, counting headers and padding.
    /// Default 50 MiB.
    pub max_uncompressed_bytes: u64,
    /// Largest size any single entry may declare, in bytes. Default 5 MiB
    /// (Helm's own loader uses the same per-file figure).
    pub max_file_bytes: u64,
    /// Most entries in the archive (regular files, directories and any other header that
    /// reaches the validator). Default 5000.
    pub max_entries: u64,
    /// Largest ratio of inflated bytes to the archive's compressed size. Default 100
    /// (a typical chart inflates 3:1 to 10:1; a gzip bomb over 1000:1).
    pub max_ratio: u64,
    /// Inflated bytes allowed before [`max_ratio`](Limits::max_ratio) applies.
    /// Default 1 MiB.
    pub ratio_grace_bytes: u64,
    /// Longest entry path, in bytes. Default 1024.
    pub max_path_bytes: usize,
}

impl Limits {
    /// Default for [`Limits::max_compressed_bytes`]: 10 MiB.
    pub const DEFAULT_MAX_COMPRESSED_BYTES: u64 = 10 * MIB;
    /// Default for [`Limits::max_uncompressed_bytes`]: 50 MiB.
    pub const DEFAULT_MAX_UNCOMPRESSED_BYTES: u64 = 50 * MIB;
    /// Default for [`Limits::max_file_bytes`]: 5 MiB.
    pub const DEFAULT_MAX_FILE_BYTES: u64 = 5 * MIB;
    /// Default for [`Limits::max_entries`]: 5000.
    pub const DEFAULT_MAX_ENTRIES: u64 = 5000;
    /// Default for [`Limits::max_ratio`]: 100.
    pub const DEFAULT_MAX_RATIO: u64 = 100;
    /// Default for [`Limits::ratio_grace_bytes`]: 1 MiB.
    pub const DEFAULT_RATIO_GRACE_BYTES: u64 = MIB;
    /// Default for [`Limits::max_path_bytes`]: 1024.
    pub const DEFAULT_MAX_PATH_BYTES: usize = 1024;

    /// The most inflated bytes an archive of `compressed_len` bytes may produce under
    /// these limits: the smaller of the total cap and the ratio bound (but at least the
    /// grace amount).
    pub fn inflated_budget(&self, compressed_len: u64) -> u64 {
        let by_ratio = compressed_len
            .saturating_mul(self.max_ratio)
            .max(self.ratio_grace_bytes);
        by_ratio.min(self.max_uncompressed_bytes)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_compressed_bytes: Self::DEFAULT_MAX_COMPRESSED_BYTES,
            max_uncompressed_bytes: Self::DEFAULT_MAX_UNCOMPRESSED_BYTES,
            max_file_bytes: Self::DEFAULT_MAX_FILE_BYTES,
            max_entries: Self::DEFAULT_MAX_ENTRIES,
            max_ratio: Self::DEFAULT_MAX_RATIO,
            ratio_grace_bytes: Self::DEFAULT_RATIO_GRACE_BYTES,
            max_path_bytes: Self::DEFAULT_MAX_PATH_BYTES,
        }
    }
}
