//! Path segments: encoding, decoding and validation.
//!
//! Every path parameter is one segment, percent-encoded (RFC 3986): bytes other than
//! the unreserved characters (`A-Z a-z 0-9 - . _ ~`), `@` and `:` are written `%XX`.
//! Deployment manager names, namespaces and deployment names never need it; package ids
//! do when they hold `/` (`oci:registry/du@1.2.0` is `oci:registry%2Fdu@1.2.0`).
//!
//! The validators decode a segment and check it, giving [`Error::InvalidArgument`]
//! naming the segment (`dm`, `namespace`, `name`, `packageId`, `operationId`), so that a
//! server validates ids before anything else.

use o2dms_core::{validate, DeploymentId, Error, PackageId};

/// Longest deployment manager name (a DNS-1123 label).
pub const MAX_DM_NAME_LEN: usize = 63;
/// Longest operation id.
pub const MAX_OPERATION_ID_LEN: usize = 128;

fn keeps(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'@' | b':')
}

/// Percent-encodes `s` as one path segment.
///
/// ```
/// assert_eq!(o2dms_api::segment::encode("oci:reg/du@1.2.0"), "oci:reg%2Fdu@1.2.0");
/// ```
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if keeps(b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes a percent-encoded segment; InvalidArgument naming `field` for a bad escape or
/// text that is not UTF-8.
pub fn decode(field: &str, segment: &str) -> Result<String, Error> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| Error::invalid(field, "has a bad percent-escape (want %XX)"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| Error::invalid(field, "is not UTF-8 once decoded"))
}

/// A deployment manager name from its segment: a DNS-1123 label (field `dm`).
pub fn deployment_manager(segment: &str) -> Result<String, Error> {
    let name = decode("dm", segment)?;
    let b = name.as_bytes();
    let lower_alnum = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let ok = !b.is_empty()
        && b.len() <= MAX_DM_NAME_LEN
        && b.first().is_some_and(lower_alnum)
        && b.last().is_some_and(lower_alnum)
        && b.iter().all(|c| lower_alnum(c) || *c == b'-');
    if !ok {
        return Err(Error::invalid(
            "dm",
            format!(
                "must be a DNS-1123 label: 1 to {MAX_DM_NAME_LEN} lowercase letters, digits and '-', \
                 starting and ending with a letter or digit"
            ),
        ));
    }
    Ok(name)
}

/// A deployment id from its two segments (fields `namespace` and `name`, checked by the
/// core's validators).
pub fn deployment_id(namespace: &str, name: &str) -> Result<DeploymentId, Error> {
    let namespace = decode("namespace", namespace)?;
    let name = decode("name", name)?;
    DeploymentId::new(namespace, name)
}

/// A package id from its segment (field `packageId`).
pub fn package_id(segment: &str) -> Result<PackageId, Error> {
    let id = decode("packageId", segment)?;
    validate::package_id("packageId", &id)?;
    PackageId::new(id)
}

/// An operation id from its segment: 1 to [`MAX_OPERATION_ID_LEN`] letters, digits,
/// `-`, `_` and `.` (field `operationId`).
pub fn operation_id(segment: &str) -> Result<String, Error> {
    let id = decode("operationId", segment)?;
    let ok = !id.is_empty()
        && id.len() <= MAX_OPERATION_ID_LEN
        && id
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'));
    if !ok {
        return Err(Error::invalid(
            "operationId",
            format!("must be 1 to {MAX_OPERATION_ID_LEN} letters, digits, '-', '_' and '.'"),
        ));
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(e: Error) -> String {
        match e {
            Error::InvalidArgument { field, .. } => field,
            other => panic!("not InvalidArgument: {other:?}"),
        }
    }

    #[test]
    fn names_the_bad_segment() {
        assert_eq!(deployment_manager("edge-1").unwrap(), "edge-1");
        for bad in ["", "Edge", "-a", "a-", "a_b", &"a".repeat(64), "a%2"] {
            assert_eq!(
                field_of(deployment_manager(bad).unwrap_err()),
                "dm",
                "{bad}"
            );
        }
        assert_eq!(
            field_of(deployment_id("RAN", "du").unwrap_err()),
            "namespace"
        );
        assert_eq!(field_of(deployment_id("ran", "du_1").unwrap_err()), "name");
        assert_eq!(field_of(deployment_id("ran", "%ZZ").unwrap_err()), "name");
        assert_eq!(field_of(package_id("du%201").unwrap_err()), "packageId");
        assert_eq!(field_of(package_id("%FF").unwrap_err()), "packageId");
        assert_eq!(field_of(operation_id("a/b").unwrap_err()), "operationId");
        assert_eq!(operation_id("0f3c-9a.1_x").unwrap(), "0f3c-9a.1_x");
    }

    #[test]
    fn package_ids_with_slashes_round_trip() {
        let id = "oci:registry.local:5000/charts/du@1.2.0+build.1";
        let seg = encode(id);
        assert!(!seg.contains('/'));
        assert_eq!(package_id(&seg).unwrap().as_str(), id);
    }

    proptest::proptest! {
        #[test]
        fn encode_then_decode_is_identity(s in "\\PC{0,40}") {
            let seg = encode(&s);
            proptest::prop_assert!(!seg.contains('/'));
            proptest::prop_assert_eq!(decode("x", &seg).unwrap(), s);
        }
    }
}
