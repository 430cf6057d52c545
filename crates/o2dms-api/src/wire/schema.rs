//! OpenAPI schemas of the core enums the wire carries as they are (their serde names).

use o2dms_core::{DeploymentStatus, Operation};
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

fn string_enum<'a>(description: &str, values: impl IntoIterator<Item = &'a str>) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .enum_values(Some(values.into_iter().map(str::to_owned)))
        .build()
}

/// The deployment statuses.
pub(crate) fn deployment_status() -> Object {
    string_enum(
        "The one status of a deployment or revision",
        DeploymentStatus::ALL.iter().map(|s| s.as_str()),
    )
}

/// The trait's operations.
pub(crate) fn operation() -> Object {
    string_enum(
        "An operation: the adapter trait method's name",
        Operation::ALL.iter().map(|o| o.as_str()),
    )
}

/// How update values combine.
pub(crate) fn values_mode() -> Object {
    string_enum(
        "merge (deep merge into the current values, the default) or replace",
        ["merge", "replace"],
    )
}

/// Where a package came from.
pub(crate) fn package_source() -> Object {
    string_enum(
        "Where a package came from",
        ["uploaded", "repository", "oci"],
    )
}

/// Overall health.
pub(crate) fn health_status() -> Object {
    string_enum("Overall health", ["healthy", "degraded", "unhealthy"])
}

/// A condition's status.
pub(crate) fn condition_status() -> Object {
    string_enum("Whether the condition holds", ["True", "False", "Unknown"])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(o: Object) -> Vec<serde_json::Value> {
        o.enum_values.unwrap_or_default()
    }

    #[test]
    fn listed_values_are_the_core_serde_names() {
        for v in listed(values_mode()) {
            serde_json::from_value::<o2dms_core::ValuesMode>(v).unwrap();
        }
        for v in listed(package_source()) {
            serde_json::from_value::<o2dms_core::PackageSource>(v).unwrap();
        }
        for v in listed(health_status()) {
            serde_json::from_value::<o2dms_core::HealthStatus>(v).unwrap();
        }
        for v in listed(condition_status()) {
            serde_json::from_value::<o2dms_core::ConditionStatus>(v).unwrap();
        }
        for v in listed(deployment_status()) {
            serde_json::from_value::<DeploymentStatus>(v).unwrap();
        }
        assert_eq!(listed(operation()).len(), Operation::ALL.len());
    }
}
