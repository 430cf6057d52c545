//! Operation resources: the list and one.

use utoipa::openapi::path::{HttpMethod, PathItemBuilder};

use super::params;
use super::responses::{errors, ok, page_of, responses, schema_of, ROUTE};
use super::{item, op, Tag};
use crate::paths;
use crate::wire::OperationOccurrence;

/// The path items of the operations.
pub(super) fn items() -> Vec<(&'static str, PathItemBuilder)> {
    vec![
        (
            paths::OPERATIONS,
            item(params::under_dm()).operation(
                HttpMethod::Get,
                op("listOperations", Tag::Operations, "List operations")
                    .description(Some(
                        "The writes in progress and the newest finished ones, in the order \
                         accepted.",
                    ))
                    .parameters(Some(params::list_operations()))
                    .responses(responses(
                        [ok(
                            "One page of operations.",
                            page_of::<OperationOccurrence>(),
                        )],
                        // a page limit out of range is 422, as the adapters answer it
                        errors(&[ROUTE, &[422]]),
                    ))
                    .build(),
            ),
        ),
        (
            paths::OPERATION,
            item(params::under_operation()).operation(
                HttpMethod::Get,
                op("getOperation", Tag::Operations, "Read an operation")
                    .responses(responses(
                        [ok(
                            "The operation; once final, with its result or its error.",
                            schema_of::<OperationOccurrence>(),
                        )],
                        errors(&[ROUTE]),
                    ))
                    .build(),
            ),
        ),
    ]
}
