//! [`ArchiveError`]: one variant per reason an archive is rejected.

/// Why a chart archive was rejected.
///
/// Each variant is one rule; its message names the rule and, where there is one, the
/// offending entry path (as written in the archive, after `.` and empty components are
/// dropped). [`ArchiveError::field`] tells which part of the upload is at fault, for
/// [`o2dms_core::Error::InvalidArgument`] (see the `From` impl).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ArchiveError {
    /// The archive as uploaded is larger than [`Limits::max_compressed_bytes`](crate::Limits::max_compressed_bytes).
    #[error("archive is {size} bytes; the limit for a compressed chart archive is {limit} bytes")]
    CompressedTooLarge {
        /// Size of the upload.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Inflating the archive produced more than [`Limits::max_uncompressed_bytes`](crate::Limits::max_uncompressed_bytes).
    #[error(
        "archive inflates past {limit} bytes (the limit for an uncompressed chart) while reading `{entry}`"
    )]
    UncompressedTooLarge {
        /// The limit.
        limit: u64,
        /// The entry being read when the limit tripped (`<archive>` before the first one).
        entry: String,
    },
    /// The archive inflates at a ratio above [`Limits::max_ratio`](crate::Limits::max_ratio): a decompression bomb.
    #[error(
        "archive inflates to more than {inflated} bytes from {compressed} compressed bytes while reading `{entry}`, over the {max_ratio}:1 compression ratio limit (decompression bomb)"
    )]
    CompressionRatio {
        /// Inflated bytes when the check tripped.
        inflated: u64,
        /// Size of the compressed archive.
        compressed: u64,
        /// The ratio limit.
        max_ratio: u64,
        /// The entry being read when the limit tripped (`<archive>` before the first one).
        entry: String,
    },
    /// One entry declares a size above [`Limits::max_file_bytes`](crate::Limits::max_file_bytes).
    #[error("entry `{path}` is {size} bytes; the limit for one file is {limit} bytes")]
    FileTooLarge {
        /// The entry.
        path: String,
        /// Its declared size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// More entries than [`Limits::max_entries`](crate::Limits::max_entries).
    #[error("archive has more than {limit} entries (the limit), at entry `{path}`")]
    TooManyEntries {
        /// The first entry over the limit.
        path: String,
        /// The limit.
        limit: u64,
    },
    /// The upload is not gzip data (a chart archive is a gzipped tar, `.tgz`).
    #[error("archive is not gzip-compressed (a chart archive must be a .tgz)")]
    NotGzip,
    /// The gzip stream is corrupt or truncated.
    #[error("archive has a corrupt or truncated gzip stream near entry `{entry}`: {message}")]
    Gzip {
        /// The entry being read (`<archive>` before the first one).
        entry: String,
        /// What the decompressor reported.
        message: String,
    },
    /// The tar stream inside is corrupt or truncated.
    #[error("archive has a corrupt or truncated tar stream near entry `{entry}`: {message}")]
    Tar {
        /// The last entry read (`<archive>` before the first one).
        entry: String,
        /// What the tar reader reported.
        message: String,
    },
    /// The archive has no entries.
    #[error("archive has no entries (a chart archive holds one directory with Chart.yaml)")]
    Empty,
    /// An entry path is not valid UTF-8.
    #[error("entry path `{path}` is not valid UTF-8 (shown with replacement characters)")]
    NonUtf8Path {
        /// The path, lossily converted.
        path: String,
    },
    /// An entry path breaks a path rule other than the ones with their own variant
    /// (control characters, backslashes, drive letters, length, empty).
    #[error("entry path `{path}` is invalid: {reason}")]
    InvalidPath {
        /// The path (control characters escaped).
        path: String,
        /// The rule it breaks.
        reason: String,
    },
    /// An entry path is absolute.
    #[error("entry path `{path}` is absolute; chart entries must be relative paths")]
    AbsolutePath {
        /// The path.
        path: String,
    },
    /// An entry path has a `..` component (path traversal).
    #[error("entry path `{path}` contains a `..` component (path traversal)")]
    PathTraversal {
        /// The path.
        path: String,
    },
    /// A symbolic link.
    #[error("entry `{path}` is a symbolic link to `{target}`; only regular files and directories are allowed")]
    Symlink {
        /// The link.
        path: String,
        /// Where it points.
        target: String,
    },
    /// A hard link.
    #[error("entry `{path}` is a hard link to `{target}`; only regular files and directories are allowed")]
    HardLink {
        /// The link.
        path: String,
        /// Where it points.
        target: String,
    },
    /// A device, fifo, sparse file or other entry that is neither a regular file nor a
    /// directory.
    #[error("entry `{path}` is a {kind}; only regular files and directories are allowed")]
    SpecialEntry {
        /// The entry.
        path: String,
        /// What it is, e.g. `character device`, `fifo`, `entry of type 'V'`.
        kind: String,
    },
    /// Two regular-file entries with the same path (which one wins differs between readers).
    #[error("entry `{path}` appears more than once")]
    DuplicateEntry {
        /// The path.
        path: String,
    },
    /// A file at the top level of the archive instead of inside the chart's directory.
    #[error("entry `{path}` is outside the chart directory; every file must be inside one top-level directory")]
    NotInTopLevelDirectory {
        /// The entry.
        path: String,
    },
    /// Entries under more than one top-level directory.
    #[error("entry `{path}` is under a second top-level directory (the first is `{first}`); a chart archive has exactly one")]
    MultipleTopLevelDirectories {
        /// The first top-level directory seen.
        first: String,
        /// The entry under another one.
        path: String,
    },
    /// No `<chart>/Chart.yaml` regular file.
    #[error("`{path}` is missing; every chart needs a Chart.yaml in its top-level directory")]
    MissingChartYaml {
        /// Where it was expected.
        path: String,
    },
    /// Chart.yaml is not UTF-8, not YAML, not a mapping, or has a field of the wrong type.
    #[error("`{path}` does not parse: {message}")]
    ChartYamlSyntax {
        /// The Chart.yaml entry.
        path: String,
        /// What the parser reported.
        message: String,
    },
    /// A required Chart.yaml field is missing or empty.
    #[error("`{path}` is missing the required field `{field}`")]
    MissingChartField {
        /// The Chart.yaml entry.
        path: String,
        /// The field (`apiVersion`, `name` or `version`).
        field: &'static str,
    },
    /// `apiVersion` is neither `v1` nor `v2`.
    #[error("`{path}` has apiVersion `{found}`; charts of apiVersion `v1` or `v2` are accepted")]
    ChartApiVersion {
        /// The Chart.yaml entry.
        path: String,
        /// The value found.
        found: String,
    },
    /// `name` breaks the chart-name rule (see [`validate_chart_name`](crate::validate_chart_name)).
    #[error("`{path}` has an invalid name `{name}`: {reason}")]
    ChartName {
        /// The Chart.yaml entry.
        path: String,
        /// The name found.
        name: String,
        /// The rule it breaks.
        reason: String,
    },
    /// `version` is not SemVer 2.
    #[error("`{path}` has version `{version}`, which is not SemVer 2: {reason}")]
    ChartVersion {
        /// The Chart.yaml entry.
        path: String,
        /// The version found.
        version: String,
        /// What the SemVer parser reported.
        reason: String,
    },
    /// `type` is neither `application` nor `library`.
    #[error("`{path}` has type `{found}`; it must be `application` or `library`")]
    ChartType {
        /// The Chart.yaml entry.
        path: String,
        /// The value found.
        found: String,
    },
    /// values.yaml is present but is not UTF-8, not YAML, or not a mapping.
    #[error("`{path}` does not parse: {message}")]
    ValuesYaml {
        /// The values.yaml entry.
        path: String,
        /// What the parser reported.
        message: String,
    },
}

impl ArchiveError {
    /// The part of the upload at fault: `"archive"` (size, compression, entries and
    /// paths), `"Chart.yaml"` or `"values.yaml"`.
    pub fn field(&self) -> &'static str {
        use ArchiveError::*;
        match self {
            CompressedTooLarge { .. }
            | UncompressedTooLarge { .. }
            | CompressionRatio { .. }
            | FileTooLarge { .. }
            | TooManyEntries { .. }
            | NotGzip
            | Gzip { .. }
            | Tar { .. }
            | Empty
            | NonUtf8Path { .. }
            | InvalidPath { .. }
            | AbsolutePath { .. }
            | PathTraversal { .. }
            | Symlink { .. }
            | HardLink { .. }
            | SpecialEntry { .. }
            | DuplicateEntry { .. }
            | NotInTopLevelDirectory { .. }
            | MultipleTopLevelDirectories { .. } => "archive",
            MissingChartYaml { .. }
            | ChartYamlSyntax { .. }
            | MissingChartField { .. }
            | ChartApiVersion { .. }
            | ChartName { .. }
            | ChartVersion { .. }
            | ChartType { .. } => "Chart.yaml",
            ValuesYaml { .. } => "values.yaml",
        }
    }

    /// A short stable name for the variant (`"path_traversal"`, `"compression_ratio"`,
    /// ...), for logs, metrics and fixture tables.
    pub fn code(&self) -> &'static str {
        use ArchiveError::*;
        match self {
            CompressedTooLarge { .. } => "compressed_too_large",
            UncompressedTooLarge { .. } => "uncompressed_too_large",
            CompressionRatio { .. } => "compression_ratio",
            FileTooLarge { .. } => "file_too_large",
            TooManyEntries { .. } => "too_many_entries",
            NotGzip => "not_gzip",
            Gzip { .. } => "gzip",
            Tar { .. } => "tar",
            Empty => "empty",
            NonUtf8Path { .. } => "non_utf8_path",
            InvalidPath { .. } => "invalid_path",
            AbsolutePath { .. } => "absolute_path",
            PathTraversal { .. } => "path_traversal",
            Symlink { .. } => "symlink",
            HardLink { .. } => "hard_link",
            SpecialEntry { .. } => "special_entry",
            DuplicateEntry { .. } => "duplicate_entry",
            NotInTopLevelDirectory { .. } => "not_in_top_level_directory",
            MultipleTopLevelDirectories { .. } => "multiple_top_level_directories",
            MissingChartYaml { .. } => "missing_chart_yaml",
            ChartYamlSyntax { .. } => "chart_yaml_syntax",
            MissingChartField { .. } => "missing_chart_field",
            ChartApiVersion { .. } => "chart_api_version",
            ChartName { .. } => "chart_name",
            ChartVersion { .. } => "chart_version",
            ChartType { .. } => "chart_type",
            ValuesYaml { .. } => "values_yaml",
        }
    }
}

impl From<ArchiveError> for o2dms_core::Error {
    /// An [`o2dms_core::Error::InvalidArgument`] whose field is [`ArchiveError::field`]
    /// and whose reason is the error's message.
    fn from(e: ArchiveError) -> Self {
        o2dms_core::Error::InvalidArgument {
            field: e.field().to_string(),
            reason: e.to_string(),
        }
    }
}
