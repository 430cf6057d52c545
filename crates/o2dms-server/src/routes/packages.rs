//! Packages: list, get, upload and delete (operations).

use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use futures::FutureExt;
use http::StatusCode;
use o2dms_api::media;
use o2dms_api::wire::{self, DeletePackageQuery, ListPackagesQuery, UploadPackageQuery};
use o2dms_core::{DeletePackageOptions, Operation, PackageFilter};

use crate::context::{json_response, AppState, Ctx};
use crate::operations::Outcome;
use crate::problem_response::ApiError;
use crate::routes::write::{on_package, submit};

/// `GET packages`: `name`, `limit`, `continue`.
pub(crate) async fn list(ctx: Ctx) -> Result<Response, ApiError> {
    let dm = ctx.dm()?;
    let filter = PackageFilter::from(ctx.query(ListPackagesQuery::from_query)?);
    let page = dm
        .adapter
        .list_packages(&filter)
        .await
        .map_err(|e| ctx.fail(&e))?;
    Ok(json_response(
        StatusCode::OK,
        &wire::Page::<wire::Package>::from(page),
    ))
}

/// `GET packages/{packageId}`.
pub(crate) async fn get(ctx: Ctx) -> Result<Response, ApiError> {
    let (dm, id) = (ctx.dm()?, ctx.package()?);
    ctx.no_query()?;
    let p = dm
        .adapter
        .get_package(&id)
        .await
        .map_err(|e| ctx.fail(&e))?;
    Ok(json_response(StatusCode::OK, &wire::Package::from(p)))
}

/// `POST packages`: the body is the archive; `name` and `version` say what it must
/// hold. An operation.
pub(crate) async fn upload(
    State(s): State<AppState>,
    ctx: Ctx,
    body: Body,
) -> Result<Response, ApiError> {
    let dm = ctx.dm()?;
    let q = ctx.query(UploadPackageQuery::from_query)?;
    let content = ctx
        .body(body, s.limits.upload_bytes, &media::UPLOAD_MEDIA_TYPES)
        .await?;
    let upload = q.into_upload(content.to_vec());
    let adapter = dm.adapter.clone();
    let work = async move { adapter.upload_package(upload).await.map(Outcome::Package) };
    let target = (wire::OperationTarget::Package { id: None }, None);
    Ok(submit(
        &s,
        &ctx,
        &dm,
        Operation::UploadPackage,
        target,
        work.boxed(),
    )
    .await)
}

/// `DELETE packages/{packageId}`: `force`. An operation.
pub(crate) async fn delete(State(s): State<AppState>, ctx: Ctx) -> Result<Response, ApiError> {
    let (dm, id) = (ctx.dm()?, ctx.package()?);
    let options = DeletePackageOptions::from(ctx.query(DeletePackageQuery::from_query)?);
    let target = on_package(&id);
    let adapter = dm.adapter.clone();
    let work = async move {
        adapter
            .delete_package(&id, options)
            .await
            .map(|()| Outcome::Deleted)
    };
    Ok(submit(
        &s,
        &ctx,
        &dm,
        Operation::DeletePackage,
        target,
        work.boxed(),
    )
    .await)
}
