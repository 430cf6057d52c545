//! The wire types make an OpenAPI 3.1 document, with the core enums' values listed.

use o2dms_api::{wire, Problem};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(components(schemas(
    wire::Deployment,
    wire::Package,
    wire::Page<wire::Deployment>,
    wire::StatusDetail,
    wire::Revisions,
    wire::Logs,
    wire::AdapterInfo,
    wire::Capabilities,
    wire::Health,
    wire::DeploymentManagerList,
    wire::OperationOccurrence,
    wire::CreateDeploymentRequest,
    wire::UpdateDeploymentRequest,
    wire::ScaleDeploymentRequest,
    wire::RollbackDeploymentRequest,
    Problem,
)))]
struct Doc;

#[test]
fn schemas_list_the_enum_values() {
    let json = Doc::openapi().to_json().unwrap();
    assert!(json.starts_with("{\"openapi\":\"3.1"), "{}", &json[..40]);
    for needle in [
        "\"rolling_back\"",
        "\"FAILED_TEMP\"",
        "\"scale_deployment\"",
        "\"replace\"",
        "\"oci\"",
        "\"degraded\"",
        "\"timeoutSeconds\"",
        "\"limitSeconds\"",
        "\"continue\"",
    ] {
        assert!(json.contains(needle), "{needle} missing");
    }
}
