//! Kubernetes API errors as the adapter's error kinds.

use o2dms_core::Error;

/// Maps a kube client error to the adapter's kinds: a 5xx or an unreachable API server
/// is Unavailable; anything else is Backend, carrying the kube error as its source.
pub(crate) fn kube_error(e: kube::Error) -> Error {
    let context = match &e {
        kube::Error::Api(s) if (500..=599).contains(&s.code) => {
            return Error::unavailable(format!("API server error {}: {}", s.code, s.message))
        }
        kube::Error::HyperError(_) | kube::Error::Service(_) => {
            return Error::unavailable(format!("Kubernetes API unreachable: {e}"))
        }
        kube::Error::Api(s) => match s.code {
            404 => "not found",
            401 | 403 => "forbidden",
            409 => "conflict",
            _ => "API error",
        },
        _ => "Kubernetes API",
    };
    Error::backend_from(context, e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    fn api(code: u16) -> kube::Error {
        kube::Error::Api(
            kube::core::Status::failure(&format!("status {code}"), "Reason")
                .with_code(code)
                .boxed(),
        )
    }

    #[test]
    fn server_errors_are_unavailable_others_keep_their_source() {
        assert_eq!(
            kube_error(api(503)).kind(),
            o2dms_core::ErrorKind::Unavailable
        );
        let e = kube_error(api(403));
        assert_eq!(e.kind(), o2dms_core::ErrorKind::Backend);
        assert!(
            e.to_string().starts_with("backend error: forbidden: "),
            "{e}"
        );
        assert!(e.source().is_some());
    }
}
