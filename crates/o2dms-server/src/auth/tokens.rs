//! Bearer tokens: each kept only as its SHA-256 digest, found by comparing the digest of
//! the presented token with every configured digest in constant time.
//!
//! Hashing first makes every comparison the same length (32 bytes), whatever the
//! lengths of the tokens, and [`subtle`]'s `ct_eq` compares without an early exit. The
//! loop visits every configured token and selects the match with a conditional
//! assignment, so how long a lookup takes says nothing about which token (if any)
//! matched, nor how much of it.

use http::header::AUTHORIZATION;
use http::HeaderMap;
use sha2::{Digest as _, Sha256};
use subtle::{Choice, ConditionallySelectable as _, ConstantTimeEq as _};

use super::scope::Access;

/// A SHA-256 digest.
pub(crate) type Digest = [u8; 32];

/// The SHA-256 digest of `token`.
pub(crate) fn digest(token: &[u8]) -> Digest {
    Sha256::digest(token).into()
}

/// Whether `token` can be sent as a bearer token: visible ASCII, no spaces, not empty.
pub(crate) fn is_sendable(token: &[u8]) -> bool {
    !token.is_empty() && token.iter().all(|b| (0x21..=0x7e).contains(b))
}

/// One configured token: its name (what the logs say), its digest, what it may do.
#[derive(Clone)]
pub(crate) struct TokenEntry {
    pub(crate) name: String,
    pub(crate) digest: Digest,
    pub(crate) access: Access,
    /// Whether the token could be sent at all (checked when the server is built).
    pub(crate) sendable: bool,
}

/// The index of the digest equal to `wanted`, comparing with every one of `digests` in
/// constant time, and how many were compared (all of them, whatever matched).
pub(crate) fn find(digests: &[&Digest], wanted: &Digest) -> (Option<usize>, usize) {
    let mut index = 0u64;
    let mut found = Choice::from(0);
    let mut compared = 0;
    for (i, d) in digests.iter().enumerate() {
        let equal = d.ct_eq(wanted);
        index.conditional_assign(&(i as u64), equal);
        found |= equal;
        compared += 1;
    }
    let found = bool::from(found).then(|| usize::try_from(index).ok());
    (found.flatten(), compared)
}

/// The entry whose token is `presented`, if any; every entry is compared.
pub(crate) fn lookup<'a>(entries: &'a [TokenEntry], presented: &[u8]) -> Option<&'a TokenEntry> {
    let digests: Vec<&Digest> = entries.iter().map(|e| &e.digest).collect();
    find(&digests, &digest(presented))
        .0
        .and_then(|i| entries.get(i))
}

/// What the `Authorization` header of a request holds.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Presented<'a> {
    /// No `Authorization` header.
    Nothing,
    /// `Authorization: Bearer <token>`.
    Bearer(&'a [u8]),
    /// Something else: another scheme, no token, several headers.
    Malformed,
}

/// The bearer token of `headers` (RFC 6750: `Bearer`, case-insensitive, then one or
/// more spaces and the token).
pub(crate) fn presented(headers: &HeaderMap) -> Presented<'_> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return if headers.contains_key(AUTHORIZATION) {
            Presented::Malformed
        } else {
            Presented::Nothing
        };
    };
    let bytes = value.as_bytes();
    let Some(space) = bytes.iter().position(|b| *b == b' ') else {
        return Presented::Malformed;
    };
    let (scheme, rest) = bytes.split_at(space);
    let token = rest.trim_ascii_start();
    if scheme.eq_ignore_ascii_case(b"bearer") && is_sendable(token) {
        Presented::Bearer(token)
    } else {
        Presented::Malformed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Scope;
    use http::HeaderValue;

    fn entry(name: &str, token: &str) -> TokenEntry {
        TokenEntry {
            name: name.into(),
            digest: digest(token.as_bytes()),
            access: Access::new(Scope::Read),
            sendable: true,
        }
    }

    #[test]
    fn every_token_is_compared_whatever_matches() {
        let tokens: Vec<Digest> = ["alpha-token", "beta-token", "gamma-token"]
            .iter()
            .map(|t| digest(t.as_bytes()))
            .collect();
        let refs: Vec<&Digest> = tokens.iter().collect();
        for (presented, want) in [
            ("alpha-token", Some(0)),
            ("beta-token", Some(1)),
            ("gamma-token", Some(2)),
            ("delta-token", None),
            // a prefix, or the token with more after it, is another digest
            ("alpha-toke", None),
            ("alpha-token2", None),
            ("", None),
        ] {
            let (found, compared) = find(&refs, &digest(presented.as_bytes()));
            assert_eq!(found, want, "{presented:?}");
            assert_eq!(compared, 3, "{presented:?}: every token is compared");
        }
        assert_eq!(find(&[], &digest(b"x")), (None, 0));
    }

    #[test]
    fn lookup_finds_the_entry_by_its_token() {
        let entries = [entry("a", "token-a"), entry("b", "token-b")];
        assert_eq!(
            lookup(&entries, b"token-b").map(|e| e.name.as_str()),
            Some("b")
        );
        assert!(lookup(&entries, b"token-c").is_none());
        // the digest, not the token, is what is kept
        assert_ne!(&entries[0].digest[..], b"token-a");
    }

    #[test]
    fn the_authorization_header_is_read_strictly() {
        let with = |values: &[&[u8]]| {
            let mut h = HeaderMap::new();
            for v in values {
                h.append(AUTHORIZATION, HeaderValue::from_bytes(v).unwrap());
            }
            h
        };
        assert_eq!(presented(&HeaderMap::new()), Presented::Nothing);
        let h = with(&[b"Bearer abc.def"]);
        assert_eq!(presented(&h), Presented::Bearer(b"abc.def"));
        let h = with(&[b"bearer   abc"]);
        assert_eq!(presented(&h), Presented::Bearer(b"abc"));
        for bad in [
            &b"Basic YWxhZGRpbjpvcGVuc2VzYW1l"[..],
            b"Bearer",
            b"Bearer ",
            b"Bearer a b",
            b"Token abc",
            b"abc",
            b"Bearer \xff\xfe",
        ] {
            assert_eq!(presented(&with(&[bad])), Presented::Malformed, "{bad:?}");
        }
        let h = with(&[b"Bearer a", b"Bearer b"]);
        assert_eq!(presented(&h), Presented::Malformed);
        assert!(is_sendable(b"a~Z-._+/="));
        assert!(!is_sendable(b"") && !is_sendable(b"a b") && !is_sendable("é".as_bytes()));
    }
}
