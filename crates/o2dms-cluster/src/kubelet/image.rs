//! Image references: which registry an image comes from, and whether it can be pulled.
//!
//! A real kubelet cannot pull from a host under the reserved `.invalid` top-level domain
//! (RFC 2606), so the simulator reports `ErrImagePull` / `ImagePullBackOff` for such images.
//! Fixture charts that must never become ready use them, and behave the same on any real
//! cluster.

/// The registry host (without port) an image reference pulls from.
///
/// Follows the reference grammar of the container tools: the first path component is a
/// registry host only if the reference has more than one component and that component
/// contains a `.` or a `:`, or is `localhost`; otherwise the image comes from Docker Hub.
pub(crate) fn registry_host(image: &str) -> &str {
    let image = image.trim();
    // The name part ends before a digest; a tag's `:` is after the last `/`.
    let name = image.split('@').next().unwrap_or(image);
    match name.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            // Strip a port; keep an IPv6 literal in brackets intact.
            if let Some(rest) = first.strip_prefix('[') {
                rest.split(']').next().unwrap_or(rest)
            } else {
                first.split(':').next().unwrap_or(first)
            }
        }
        _ => "docker.io",
    }
}

/// Whether pulling `image` must fail: its registry host is under the `.invalid` TLD.
pub(crate) fn is_unpullable(image: &str) -> bool {
    let host = registry_host(image)
        .trim_end_matches('.')
        .to_ascii_lowercase();
    host == "invalid" || host.ends_with(".invalid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_host_of_common_references() {
        assert_eq!(registry_host("nginx"), "docker.io");
        assert_eq!(registry_host("nginx:1.25"), "docker.io");
        assert_eq!(registry_host("library/nginx:1.25"), "docker.io");
        assert_eq!(registry_host("ghcr.io/org/app:v1"), "ghcr.io");
        assert_eq!(registry_host("registry.local:5000/app"), "registry.local");
        assert_eq!(registry_host("localhost/app"), "localhost");
        assert_eq!(registry_host("localhost:5000/app:1"), "localhost");
        assert_eq!(registry_host("[::1]:5000/app"), "::1");
        assert_eq!(
            registry_host("quay.io/app@sha256:0123456789abcdef"),
            "quay.io"
        );
        assert_eq!(registry_host("app@sha256:abc"), "docker.io");
    }

    #[test]
    fn invalid_hosts_are_unpullable() {
        assert!(is_unpullable("nothing.invalid/app:1"));
        assert!(is_unpullable("NOTHING.INVALID/app"));
        assert!(is_unpullable("registry.nothing.invalid:5000/org/app:1"));
        assert!(is_unpullable("invalid:5000/app"));
        assert!(is_unpullable("x.invalid/app@sha256:abcd"));
    }

    #[test]
    fn other_images_are_pullable() {
        assert!(!is_unpullable("nginx"));
        assert!(!is_unpullable("nginx:invalid"));
        assert!(!is_unpullable("invalid/app:1")); // Docker Hub user "invalid"
        assert!(!is_unpullable("docker.io/library/nginx:1.25"));
        assert!(!is_unpullable("example.invalidity.com/app"));
        assert!(!is_unpullable("app.invalid")); // a single component is a Docker Hub name
    }
}
