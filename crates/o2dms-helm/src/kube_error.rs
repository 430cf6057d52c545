//! Kubernetes API errors as the adapter's error kinds.

use o2dms_core::Error;

/// Maps a kube client error to the adapter's kinds.
pub(crate) fn kube_error(e: kube::Error) -> Error {
    match e {
        kube::Error::Api(s) => match s.code {
            404 => Error::backend(format!("not found: {}", s.message)),
            401 | 403 => Error::backend(format!("forbidden ({}): {}", s.code, s.message)),
            409 => Error::backend(format!("conflict: {}", s.message)),
            500..=599 => Error::Unavailable {
                message: format!("API server error {}: {}", s.code, s.message),
            },
            _ => Error::backend(format!("API error {}: {}", s.code, s.message)),
        },
        kube::Error::HyperError(_) | kube::Error::Service(_) => Error::Unavailable {
            message: format!("Kubernetes API unreachable: {e}"),
        },
        other => Error::backend(format!("Kubernetes API: {other}")),
    }
}
