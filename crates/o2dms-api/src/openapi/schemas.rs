//! The component schemas: every wire type a body carries, from its `ToSchema` derive.

use utoipa::openapi::schema::Components;
use utoipa::OpenApi;

use crate::problem::Problem;
use crate::wire;

/// The wire types, collected by utoipa with the types they use.
#[derive(OpenApi)]
#[openapi(components(schemas(
    wire::DeploymentManagerList,
    wire::DeploymentManager,
    wire::AdapterInfo,
    wire::Capabilities,
    wire::Health,
    wire::Deployment,
    wire::Page<wire::Deployment>,
    wire::CreateDeploymentRequest,
    wire::UpdateDeploymentRequest,
    wire::ScaleDeploymentRequest,
    wire::RollbackDeploymentRequest,
    wire::StatusDetail,
    wire::Revisions,
    wire::Logs,
    wire::Package,
    wire::Page<wire::Package>,
    wire::OperationOccurrence,
    wire::Page<wire::OperationOccurrence>,
    Problem,
)))]
struct Schemas;

/// The components with every schema.
pub(crate) fn components() -> Components {
    Schemas::openapi().components.unwrap_or_default()
}
