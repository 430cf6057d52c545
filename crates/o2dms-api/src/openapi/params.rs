//! Parameters: the path segments (with the rules of [`crate::segment`] and the core's
//! validators), the query parameters of every query type of [`crate::wire`] (written by
//! hand: the query types read raw query strings, they do not derive `IntoParams`), and
//! the `Prefer` request header.

use o2dms_core::validate::{MAX_NAMESPACE_LEN, MAX_NAME_LEN};
use o2dms_core::{DeploymentStatus, Operation, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn, ParameterStyle};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::{RefOr, Required};
use utoipa::ToSchema;

use crate::media;
use crate::segment::{MAX_DM_NAME_LEN, MAX_OPERATION_ID_LEN};
use crate::wire::OperationState;

/// A DNS-1123 label.
const DNS_LABEL: &str = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
/// A DNS-1123 subdomain: DNS-1123 labels joined by dots.
const DNS_SUBDOMAIN: &str = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
/// Longest package id (`o2dms_core::validate::package_id`).
const MAX_PACKAGE_ID_LEN: usize = 512;

/// A string that is one of `values`.
fn one_of<'a>(values: impl IntoIterator<Item = &'a str>) -> ObjectBuilder {
    string().enum_values(Some(values))
}

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn path(name: &str, description: &str, schema: ObjectBuilder) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(description))
        .schema(Some(schema))
        .build()
}

/// `{dm}`: a deployment manager name, a DNS-1123 label ([`crate::segment::deployment_manager`]).
pub(super) fn dm() -> Parameter {
    path(
        "dm",
        "The deployment manager's name (a DNS-1123 label).",
        string()
            .min_length(Some(1))
            .max_length(Some(MAX_DM_NAME_LEN))
            .pattern(Some(DNS_LABEL)),
    )
}

/// `{namespace}` and `{name}` of a deployment, as the core validates them.
fn deployment_id() -> [Parameter; 2] {
    [
        path(
            "namespace",
            "The deployment's namespace (a DNS-1123 label).",
            string()
                .min_length(Some(1))
                .max_length(Some(MAX_NAMESPACE_LEN))
                .pattern(Some(DNS_LABEL)),
        ),
        path(
            "name",
            "The deployment's name (a Helm release name: a lowercase DNS-1123 subdomain).",
            string()
                .min_length(Some(1))
                .max_length(Some(MAX_NAME_LEN))
                .pattern(Some(DNS_SUBDOMAIN)),
        ),
    ]
}

/// The parameters of a path under one deployment manager.
pub(super) fn under_dm() -> Vec<Parameter> {
    vec![dm()]
}

/// The parameters of a path under one deployment.
pub(super) fn under_deployment() -> Vec<Parameter> {
    let [namespace, name] = deployment_id();
    vec![dm(), namespace, name]
}

/// The parameters of a path of one package.
pub(super) fn under_package() -> Vec<Parameter> {
    vec![
        dm(),
        path(
            "packageId",
            "The package id (`du@1.2.0`, `oci:registry/du@1.2.0`) as one segment, \
             percent-encoded (`/` is `%2F`); 1 to 512 printable ASCII characters once decoded.",
            string()
                .min_length(Some(1))
                .max_length(Some(MAX_PACKAGE_ID_LEN))
                .pattern(Some("^[!-~]+$")),
        ),
    ]
}

/// The parameters of a path of one operation.
pub(super) fn under_operation() -> Vec<Parameter> {
    vec![
        dm(),
        path(
            "operationId",
            "The operation id, from the `Location` of the write's 202.",
            string()
                .min_length(Some(1))
                .max_length(Some(MAX_OPERATION_ID_LEN))
                .pattern(Some("^[A-Za-z0-9._-]+$")),
        ),
    ]
}

fn query(name: &str, description: &str, schema: impl Into<RefOr<Schema>>) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(schema))
        .build()
}

/// A parameter that may be repeated (`statuses=a&statuses=b`) or comma separated
/// (`statuses=a,b`).
fn query_list(name: &str, description: &str, items: impl Into<RefOr<Schema>>) -> Parameter {
    let mut p = query(
        name,
        description,
        ArrayBuilder::new().items(items.into()).build(),
    );
    p.style = Some(ParameterStyle::Form);
    p.explode = Some(true);
    p
}

fn limit() -> Parameter {
    query(
        "limit",
        "Page size.",
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1))
            .maximum(Some(MAX_PAGE_SIZE))
            .default(Some(DEFAULT_PAGE_SIZE.into())),
    )
}

fn continue_token() -> Parameter {
    query(
        "continue",
        "The `continue` member of the previous page.",
        string().min_length(Some(1)),
    )
}

/// [`crate::wire::ListDeploymentsQuery`].
pub(super) fn list_deployments() -> Vec<Parameter> {
    vec![
        query(
            "namespace",
            "Only this namespace.",
            string().pattern(Some(DNS_LABEL)),
        ),
        query_list(
            "statuses",
            "Only these statuses; repeated or comma separated.",
            one_of(DeploymentStatus::ALL.iter().map(|s| s.as_str())),
        ),
        query_list(
            "labels",
            "Only deployments with this label, as `key=value`; repeated, all must match.",
            string().pattern(Some("=")),
        ),
        query(
            "packageName",
            "Only deployments of this package name.",
            string(),
        ),
        limit(),
        continue_token(),
    ]
}

/// [`crate::wire::ListPackagesQuery`].
pub(super) fn list_packages() -> Vec<Parameter> {
    vec![
        query("name", "Only packages of this name.", string()),
        limit(),
        continue_token(),
    ]
}

/// [`crate::wire::HistoryQuery`].
pub(super) fn history() -> Vec<Parameter> {
    vec![query(
        "limit",
        "Only the newest N revisions (still oldest first).",
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(0))
            .maximum(Some(u32::MAX)),
    )]
}

/// [`crate::wire::LogsQuery`].
pub(super) fn logs() -> Vec<Parameter> {
    vec![
        query(
            "container",
            "Only this container.",
            string().pattern(Some(DNS_LABEL)),
        ),
        query(
            "tailLines",
            "Only the last N lines of each container.",
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1))
                .maximum(Some(u32::MAX)),
        ),
        query(
            "sinceSeconds",
            "Only lines newer than this many seconds (a fraction is allowed).",
            ObjectBuilder::new()
                .schema_type(Type::Number)
                .minimum(Some(0)),
        ),
        query(
            "limitBytes",
            "At most this many bytes in all; `truncated` says when it cut.",
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1)),
        ),
    ]
}

/// [`crate::wire::UploadPackageQuery`].
pub(super) fn upload_package() -> Vec<Parameter> {
    vec![
        query("name", "The package name the archive must hold.", string()),
        query("version", "The version the archive must hold.", string()),
    ]
}

/// [`crate::wire::DeletePackageQuery`].
pub(super) fn delete_package() -> Vec<Parameter> {
    vec![query(
        "force",
        "Delete even while a deployment uses the package.",
        ObjectBuilder::new()
            .schema_type(Type::Boolean)
            .default(Some(false.into())),
    )]
}

/// [`crate::wire::ListOperationsQuery`].
pub(super) fn list_operations() -> Vec<Parameter> {
    vec![
        query(
            "namespace",
            "Only operations on deployments of this namespace.",
            string(),
        ),
        query(
            "name",
            "Only operations on deployments of this name.",
            string(),
        ),
        query("packageId", "Only operations on this package.", string()),
        query_list(
            "operations",
            "Only these operations; repeated or comma separated.",
            one_of(Operation::ALL.iter().map(|o| o.as_str())),
        ),
        query_list(
            "states",
            "Only operations in these states; repeated or comma separated.",
            utoipa::openapi::Ref::from_schema_name(OperationState::name()),
        ),
        limit(),
        continue_token(),
    ]
}

/// The `Prefer` request header of the writes (RFC 7240, [`crate::prefer`]).
pub(super) fn prefer() -> Parameter {
    ParameterBuilder::new()
        .name(media::PREFER_HEADER)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "`wait=N`: answer with the final result if the write ends within N seconds \
             (capped by the server, 600 s by default), else 202 as without it.",
        ))
        .schema(Some(string()))
        .example(Some("wait=10".into()))
        .build()
}
