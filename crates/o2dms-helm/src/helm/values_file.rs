//! Values handed to helm through short-lived files readable only by the adapter.

use std::fs::Permissions;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use o2dms_core::{Error, Result, Values};
use tempfile::NamedTempFile;

/// A values file: created with mode 0600 before anything is written to it, removed when
/// dropped. Only its path is ever passed to helm or logged.
#[derive(Debug)]
pub(crate) struct ValuesFile(NamedTempFile);

impl ValuesFile {
    /// Writes `values` as JSON (which helm reads as YAML) into a new file in `dir`;
    /// InvalidArgument naming `values` when that is more than `limit` bytes (nothing is
    /// written then).
    pub(crate) fn write(dir: &Path, values: &Values, limit: usize) -> Result<ValuesFile> {
        let json = serde_json::to_vec(values)
            .map_err(|e| Error::invalid("values", format!("cannot encode: {e}")))?;
        if json.len() > limit {
            return Err(Error::invalid(
                "values",
                format!(
                    "are {} bytes as JSON; this adapter accepts at most {limit} \
                     (setting maxValuesBytes)",
                    json.len()
                ),
            ));
        }
        let io = |e: std::io::Error| Error::backend_from("writing the values file", e);
        let mut file = tempfile::Builder::new()
            .prefix(".values-")
            .suffix(".json")
            .permissions(Permissions::from_mode(0o600))
            .tempfile_in(dir)
            .map_err(io)?;
        // Belt and braces: the mode is 0600 before the first byte is written, whatever
        // the umask or the tempfile version did.
        file.as_file()
            .set_permissions(Permissions::from_mode(0o600))
            .map_err(io)?;
        file.write_all(&json).map_err(io)?;
        file.as_file().sync_all().map_err(io)?;
        Ok(ValuesFile(file))
    }

    /// Its path.
    pub(crate) fn path(&self) -> &Path {
        self.0.path()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_then_removed() {
        let dir = tempfile::tempdir().unwrap();
        let mut v = Values::new();
        v.insert("secret", "hunter2");
        let f = ValuesFile::write(dir.path(), &v, 1024).unwrap();
        let path = f.path().to_path_buf();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let back: Values = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(back, v);
        drop(f);
        assert!(!path.exists());
    }

    #[test]
    fn the_limit_is_the_size_written() {
        let dir = tempfile::tempdir().unwrap();
        // {"k":"vvv..."}: 8 bytes around the string.
        let v = Values::from_pairs([("k", o2dms_core::Value::from("v".repeat(92)))]);
        assert_eq!(serde_json::to_vec(&v).unwrap().len(), 100);
        assert!(ValuesFile::write(dir.path(), &v, 100).is_ok());
        let e = ValuesFile::write(dir.path(), &v, 99).unwrap_err();
        assert!(
            matches!(&e, Error::InvalidArgument { field, reason } if field == "values" && reason.contains("100 bytes")),
            "{e}"
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "nothing written"
        );
    }
}
