//! `upload_package`: the archive is validated as untrusted input by `o2dms-chart`.

use o2dms_core::{Error, Package, PackageUpload, Result};

use crate::MockAdapter;

/// Validates and stores an uploaded archive.
pub(crate) fn upload(_mock: &MockAdapter, _upload: PackageUpload) -> Result<Package> {
    Err(Error::unsupported(
        "upload_package",
        "the mock's upload is not wired to o2dms-chart yet",
    ))
}
