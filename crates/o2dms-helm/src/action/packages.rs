//! Packages: upload and delete through the package store, with the checks that need the
//! releases (a package a deployment runs is not deleted without force).

use o2dms_core::{
    DeletePackageOptions, Error, Package, PackageId, PackageUpload, Resource, Result,
};

use super::Context;

/// Stores an untrusted archive (the store validates it); Unsupported for a read-only
/// store.
pub(crate) async fn upload(cx: &Context, upload: PackageUpload) -> Result<Package> {
    if !cx.store.accepts_uploads() {
        return Err(Error::unsupported(
            "upload_package",
            format!(
                "the adapter's package store (`{}`) is read-only: publish charts to it \
                 directly, or configure a writable store (local directory or OCI registry)",
                cx.store.kind()
            ),
        ));
    }
    cx.store.put(upload).await
}

/// Deletes a package: NotFound if no store has it, Conflict while a deployment's newest
/// revision runs it (unless forced).
pub(crate) async fn delete(
    cx: &Context,
    id: &PackageId,
    options: DeletePackageOptions,
) -> Result<()> {
    cx.store.get(id).await?;
    if !options.force {
        if let Some(user) = cx.storage.in_use(id).await? {
            return Err(Error::conflict(
                Resource::Package,
                id,
                format!("deployment {user} uses it (delete with force to remove anyway)"),
            ));
        }
    }
    cx.store.delete(id).await
}
