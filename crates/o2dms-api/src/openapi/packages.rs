//! Packages: list, upload, read, delete.

use utoipa::openapi::path::{HttpMethod, PathItemBuilder};

use super::params;
use super::responses::{
    archive_body, errors, ok, page_of, responses, schema_of, waited, ADAPTER, BODY, ROUTE,
};
use super::{item, op, Tag};
use crate::paths;
use crate::wire::Package;

/// The path items of the packages.
pub(super) fn items() -> Vec<(&'static str, PathItemBuilder)> {
    vec![
        (
            paths::PACKAGES,
            item(params::under_dm())
                .operation(
                    HttpMethod::Get,
                    op("listPackages", Tag::Packages, "List packages")
                        .parameters(Some(params::list_packages()))
                        .responses(responses(
                            [ok("One page of packages.", page_of::<Package>())],
                            errors(&[ROUTE, ADAPTER]),
                        ))
                        .build(),
                )
                .operation(
                    HttpMethod::Post,
                    op("uploadPackage", Tag::Packages, "Upload a package")
                        .description(Some(
                            "The body is the archive; `name` and `version` say what it must hold.",
                        ))
                        .parameters(Some(params::upload_package()))
                        .parameter(params::prefer())
                        .request_body(Some(archive_body()))
                        .responses(responses(
                            waited(
                                201,
                                "The package stored (`Prefer: wait=N`, ended in time).",
                                Some(schema_of::<Package>()),
                            ),
                            errors(&[ROUTE, ADAPTER, BODY]),
                        ))
                        .build(),
                ),
        ),
        (
            paths::PACKAGE,
            item(params::under_package())
                .operation(
                    HttpMethod::Get,
                    op("getPackage", Tag::Packages, "Read a package")
                        .responses(responses(
                            [ok("The package.", schema_of::<Package>())],
                            errors(&[ROUTE, ADAPTER]),
                        ))
                        .build(),
                )
                .operation(
                    HttpMethod::Delete,
                    op("deletePackage", Tag::Packages, "Delete a package")
                        .parameters(Some(params::delete_package()))
                        .parameter(params::prefer())
                        .responses(responses(
                            waited(204, "Deleted (`Prefer: wait=N`, ended in time).", None),
                            errors(&[ROUTE, ADAPTER]),
                        ))
                        .build(),
                ),
        ),
    ]
}
