//! Kubernetes API errors as the adapter's error kinds.

use o2dms_core::Error;

/// Maps a kube client error to the adapter's kinds: a 5xx or an unreachable API server
/// is Unavailable; a 403 (RBAC refused the adapter's identity) is PermissionDenied naming
/// what was refused; anything else is Backend, carrying the kube error as its source.
pub(crate) fn kube_error(e: kube::Error) -> Error {
    let context = match &e {
        kube::Error::Api(s) if (500..=599).contains(&s.code) => {
            return Error::unavailable(format!("API server error {}: {}", s.code, s.message))
        }
        kube::Error::HyperError(_) | kube::Error::Service(_) => {
            return Error::unavailable(format!("Kubernetes API unreachable: {e}"))
        }
        kube::Error::Api(s) if s.code == 403 => {
            let action = forbidden_action(&s.message).unwrap_or_else(|| {
                // No RBAC sentence (an admission plugin's refusal, say): what the status
                // names, else only that a request was refused.
                match &s.details {
                    Some(d) if !d.kind.is_empty() && !d.name.is_empty() => {
                        format!("access {} {:?}", d.kind, d.name)
                    }
                    Some(d) if !d.kind.is_empty() => format!("access {}", d.kind),
                    _ => "perform a Kubernetes API request".to_owned(),
                }
            });
            return Error::permission_denied(action, s.message.clone());
        }
        kube::Error::Api(s) => match s.code {
            404 => "not found",
            401 => "unauthorized",
            409 => "conflict",
            _ => "API error",
        },
        _ => "Kubernetes API",
    };
    Error::backend_from(context, e)
}

/// What Kubernetes RBAC refused, from the API server's message (which helm also prints):
/// `... is forbidden: User "<user>" cannot <verb> resource "<resource>" in API group
/// "<group>" in the namespace "<ns>"` (or `at the cluster scope`) becomes
/// `<verb> <resource>[.<group>] in namespace <ns>` (or `... at the cluster scope`).
/// `None` when `text` holds no such sentence.
pub(crate) fn forbidden_action(text: &str) -> Option<String> {
    let (_, rest) = text.split_once("is forbidden: User \"")?;
    let (_, rest) = rest.split_once("\" cannot ")?;
    let (verb, rest) = rest.split_once(' ')?;
    let rest = rest.strip_prefix("resource \"")?;
    let (resource, rest) = rest.split_once('"')?;
    let (group, rest) = rest
        .strip_prefix(" in API group \"")
        .and_then(|g| g.split_once('"'))
        .unwrap_or(("", rest));
    let mut action = if group.is_empty() {
        format!("{verb} {resource}")
    } else {
        format!("{verb} {resource}.{group}")
    };
    if let Some(ns) = rest
        .strip_prefix(" in the namespace \"")
        .and_then(|r| r.split_once('"'))
        .map(|(ns, _)| ns)
    {
        action.push_str(" in namespace ");
        action.push_str(ns);
    } else if rest.starts_with(" at the cluster scope") {
        action.push_str(" at the cluster scope");
    }
    Some(action)
}

#[cfg(test)]
mod tests {
    use super::*;
    use o2dms_core::ErrorKind;
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
        assert_eq!(kube_error(api(503)).kind(), ErrorKind::Unavailable);
        let e = kube_error(api(409));
        assert_eq!(e.kind(), ErrorKind::Backend);
        assert!(
            e.to_string().starts_with("backend error: conflict: "),
            "{e}"
        );
        assert!(e.source().is_some());
    }

    #[test]
    fn forbidden_is_permission_denied_naming_the_refused_action() {
        let message = "secrets is forbidden: User \"system:serviceaccount:o2-pd:dms\" cannot list resource \"secrets\" in API group \"\" in the namespace \"ran\"";
        let e = kube_error(kube::Error::Api(
            kube::core::Status::failure(message, "Forbidden")
                .with_code(403)
                .boxed(),
        ));
        assert_eq!(
            e,
            Error::permission_denied("list secrets in namespace ran", message)
        );
        // A 403 without the RBAC sentence is still PermissionDenied, never Backend.
        let e = kube_error(api(403));
        assert_eq!(e.kind(), ErrorKind::PermissionDenied);
        assert_eq!(
            e,
            Error::permission_denied("perform a Kubernetes API request", "status 403")
        );
    }

    #[test]
    fn forbidden_actions_as_the_api_server_words_them() {
        for (message, action) in [
            (
                "namespaces \"ran\" is forbidden: User \"system:serviceaccount:o2-pd:dms\" cannot get resource \"namespaces\" in API group \"\" in the namespace \"ran\"",
                Some("get namespaces in namespace ran"),
            ),
            (
                "secrets is forbidden: User \"system:serviceaccount:o2-pd:dms\" cannot watch resource \"secrets\" in API group \"\" at the cluster scope",
                Some("watch secrets at the cluster scope"),
            ),
            (
                "deployments.apps \"du-1\" is forbidden: User \"bob\" cannot get resource \"deployments\" in API group \"apps\" in the namespace \"ran\": RBAC: clusterrole.rbac.authorization.k8s.io \"view\" not found",
                Some("get deployments.apps in namespace ran"),
            ),
            (
                "pods \"p\" is forbidden: User \"bob\" cannot get resource \"pods/log\" in API group \"\" in the namespace \"ran\"",
                Some("get pods/log in namespace ran"),
            ),
            (
                "pods \"p\" is forbidden: exceeded quota: compute-resources",
                None,
            ),
            ("Unauthorized", None),
        ] {
            assert_eq!(forbidden_action(message).as_deref(), action, "{message}");
        }
    }
}
