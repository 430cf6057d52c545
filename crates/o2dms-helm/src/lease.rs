//! Cross-process write locks: a Kubernetes Lease (`coordination.k8s.io/v1`) per release,
//! so that two adapter processes (two DMS replicas) never write one release at once.
//!
//! Every write takes the release's Lease ([`lease_name`], in the release's namespace)
//! after the in-process [`Locks`](crate::locks) check and before it reads or runs
//! anything:
//!
//! - create it, holder = this adapter instance ([`holder_identity`]: host, pid and a
//!   random part), `leaseDurationSeconds` = `leaseDuration`;
//! - if it exists: held by another instance and not expired is a Conflict at once naming
//!   the holder; expired (its `renewTime` plus its duration is past; a crashed holder's
//!   lease ends that way), or left by this instance's own earlier write (whose release
//!   had not finished yet), it is taken over by a replace carrying the observed
//!   `resourceVersion`: whoever replaces first wins, the other's 409 is a Conflict too.
//!
//! While helm runs, a background task renews the Lease every third of its duration. If a
//! renewal finds the Lease taken by someone else (this process was stalled past the
//! duration), the running helm cannot be stopped safely midway: the write goes on and a
//! warning is logged; helm's own pending check remains the last line of defence.
//!
//! A finished write releases the Lease ([`LeaseHold::release`], or on drop in a spawned
//! task): a delete with preconditions on the Lease's uid and last `resourceVersion`, so
//! a Lease someone else took over is never deleted. Release is best effort: if it fails,
//! or the process crashes, the Lease expires after its duration.
//!
//! Times are compared as the Lease records them (`renewTime` against this machine's
//! clock), so replicas' clocks must agree to well within the duration (NTP does).

use std::collections::hash_map::RandomState;
use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::Timestamp;
use kube::api::{DeleteParams, ObjectMeta, PostParams, Preconditions};
use kube::{Api, Client};
use o2dms_core::{DeploymentId, Error, Resource, Result};
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::kube_error::kube_error;

/// What every Lease name starts with.
const PREFIX: &str = "o2dms-release-";
/// The longest object name Kubernetes accepts (a DNS-1123 subdomain).
const MAX_NAME: usize = 253;
/// Hex digits of the hash suffix of a name that had to be shortened or cleaned.
const HASH_DIGITS: usize = 12;

/// The Lease of release `id.name` (in `id.namespace`): `o2dms-release-<name>`, or, when
/// that would not be a valid DNS-1123 subdomain of at most 253 characters, the name
/// lowercased, with other characters as `-`, shortened, and a hash of the release name
/// appended (so distinct releases keep distinct Leases).
pub fn lease_name(id: &DeploymentId) -> String {
    let plain = format!("{PREFIX}{}", id.name);
    if plain.len() <= MAX_NAME && is_subdomain(&plain) {
        return plain;
    }
    let hash = hex::encode(Sha256::digest(id.name.as_bytes()));
    let hash = &hash[..HASH_DIGITS];
    let mut cleaned: String = plain
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '-' | '.') => c,
            _ => '-',
        })
        .collect();
    cleaned.truncate(MAX_NAME - HASH_DIGITS - 1);
    let mut name = cleaned
        .trim_end_matches(['-', '.'])
        .replace("..", "-")
        .replace(".-", "-")
        .replace("-.", "-");
    name.push('-');
    name.push_str(hash);
    name
}

/// Whether `s` is a DNS-1123 subdomain: dot-separated labels of lowercase letters, digits
/// and `-`, each starting and ending with a letter or digit.
fn is_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|label| {
            let b = label.as_bytes();
            !b.is_empty()
                && b.iter()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
                && b[0] != b'-'
                && b[b.len() - 1] != b'-'
        })
}

/// This adapter instance's `holderIdentity`: `<host>/<pid>/<random hex>`, distinct per
/// instance even for two adapters in one process.
pub(crate) fn holder_identity() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".to_owned());
    let host: String = host.chars().take(63).collect();
    let mut hasher = RandomState::new().build_hasher();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    hasher.write_u128(nanos);
    hasher.write_u32(std::process::id());
    format!("{host}/{}/{:016x}", std::process::id(), hasher.finish())
}

/// When a Lease stops holding (in Unix milliseconds): its `renewTime` (else
/// `acquireTime`) plus its `leaseDurationSeconds`. `None` when it records neither time
/// nor a duration: such a Lease holds nothing.
fn expires_at_ms(spec: &LeaseSpec) -> Option<i64> {
    let at = spec.renew_time.as_ref().or(spec.acquire_time.as_ref())?;
    let seconds = i64::from(spec.lease_duration_seconds?.max(0));
    Some(
        at.0.as_millisecond()
            .saturating_add(seconds.saturating_mul(1000)),
    )
}

/// Whether the Lease has stopped holding at `now_ms` (Unix milliseconds).
fn expired(spec: &LeaseSpec, now_ms: i64) -> bool {
    expires_at_ms(spec).is_none_or(|end| end <= now_ms)
}

/// Now, in Unix milliseconds.
fn now_ms() -> i64 {
    Timestamp::now().as_millisecond()
}

/// Now, as a Lease time.
fn now_micro() -> MicroTime {
    MicroTime(Timestamp::now())
}

/// Lease settings of one adapter and the identity it holds Leases under.
#[derive(Clone)]
pub(crate) struct Leases {
    client: Client,
    holder: String,
    duration: Duration,
    /// Bound of each request to the API server.
    request_timeout: Duration,
    enabled: bool,
}

impl Leases {
    /// Leases through `client`, each held for `duration` between renewals; off when
    /// `enabled` is false.
    pub(crate) fn new(
        client: Client,
        duration: Duration,
        request_timeout: Duration,
        enabled: bool,
    ) -> Leases {
        Leases {
            client,
            holder: holder_identity(),
            duration,
            request_timeout,
            enabled,
        }
    }

    /// The duration in whole seconds, as the Lease records it (at least 1).
    fn seconds(&self) -> i32 {
        i32::try_from(self.duration.as_secs().max(1)).unwrap_or(i32::MAX)
    }

    /// One API request, bounded by the request timeout (Unavailable past it).
    async fn bounded<T>(
        &self,
        what: &str,
        f: impl std::future::Future<Output = std::result::Result<T, kube::Error>>,
    ) -> std::result::Result<T, LeaseError> {
        match tokio::time::timeout(self.request_timeout, f).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(kube::Error::Api(s))) if s.code == 409 => Err(LeaseError::Conflict),
            Ok(Err(kube::Error::Api(s)))
                if s.code == 404 && s.details.as_ref().is_some_and(|d| d.kind == "namespaces") =>
            {
                Err(LeaseError::NoNamespace)
            }
            Ok(Err(e)) => Err(LeaseError::Other(kube_error(e))),
            Err(_) => Err(LeaseError::Other(Error::unavailable(format!(
                "the Kubernetes API server did not answer {what} within {:?}",
                self.request_timeout
            )))),
        }
    }

    /// Takes the Lease of `id` for one write: `None` when Lease locking is off; Conflict
    /// naming the holder when another instance holds it.
    pub(crate) async fn acquire(&self, id: &DeploymentId) -> Result<Option<LeaseHold>> {
        if !self.enabled {
            return Ok(None);
        }
        let api: Api<Lease> = Api::namespaced(self.client.clone(), &id.namespace);
        let name = lease_name(id);
        // A Lease deleted between our create and get is created again; a few turns at most.
        for _ in 0..3 {
            let fresh = self.fresh_lease(id, &name, 0);
            match self
                .bounded("a Lease create", api.create(&PostParams::default(), &fresh))
                .await
            {
                Ok(created) => return Ok(Some(self.hold(api, name, created))),
                Err(LeaseError::Conflict) => {}
                // The namespace is being deleted: the API server refuses new objects
                // there, to every writer alike, so there is no Lease to take and none
                // another writer could hold; the write goes on (a delete still works).
                // No such namespace: no release can be there to write (the write's own
                // NotFound follows), and no other writer can hold a Lease there either.
                Err(LeaseError::NoNamespace) => return Ok(None),
                Err(LeaseError::Other(e)) if namespace_terminating(&e) => {
                    tracing::debug!(
                        namespace = %id.namespace,
                        "namespace being deleted: writing without a Lease"
                    );
                    return Ok(None);
                }
                Err(LeaseError::Other(e)) => return Err(e),
            }
            let Some(existing) = self
                .bounded("a Lease read", api.get_opt(&name))
                .await
                .map_err(LeaseError::into_error)?
            else {
                continue;
            };
            let spec = existing.spec.clone().unwrap_or_default();
            let holder = spec.holder_identity.clone().unwrap_or_default();
            let ours = holder == self.holder;
            if !ours && !expired(&spec, now_ms()) {
                return Err(held_by(id, &name, &holder, &spec));
            }
            let transitions = spec.lease_transitions.unwrap_or(0);
            let mut taken = self.fresh_lease(
                id,
                &name,
                if ours {
                    transitions
                } else {
                    transitions.saturating_add(1)
                },
            );
            taken.metadata.resource_version = existing.metadata.resource_version.clone();
            return match self
                .bounded(
                    "a Lease update",
                    api.replace(&name, &PostParams::default(), &taken),
                )
                .await
            {
                Ok(replaced) => Ok(Some(self.hold(api, name, replaced))),
                Err(LeaseError::Conflict) => Err(Error::conflict(
                    Resource::Deployment,
                    id,
                    format!(
                        "another adapter took over the expired Lease {}/{name} at the same \
                         moment and is writing the deployment",
                        id.namespace
                    ),
                )),
                Err(e) => Err(e.into_error()),
            };
        }
        Err(Error::conflict(
            Resource::Deployment,
            id,
            format!(
                "the Lease {}/{name} keeps appearing and disappearing: other adapters are \
                 writing the deployment",
                id.namespace
            ),
        ))
    }

    /// A Lease held by this instance from now, for `id`.
    fn fresh_lease(&self, id: &DeploymentId, name: &str, transitions: i32) -> Lease {
        let now = now_micro();
        Lease {
            metadata: ObjectMeta {
                name: Some(name.to_owned()),
                namespace: Some(id.namespace.clone()),
                labels: Some(BTreeMap::from([(
                    crate::namespaces::CREATED_BY.0.to_owned(),
                    crate::namespaces::CREATED_BY.1.to_owned(),
                )])),
                annotations: Some(BTreeMap::from([(
                    "o2dms.io/release".to_owned(),
                    id.name.clone(),
                )])),
                ..ObjectMeta::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(self.holder.clone()),
                lease_duration_seconds: Some(self.seconds()),
                acquire_time: Some(now.clone()),
                renew_time: Some(now),
                lease_transitions: Some(transitions),
                ..LeaseSpec::default()
            }),
        }
    }

    /// Starts renewing `lease` (just taken) until released.
    fn hold(&self, api: Api<Lease>, name: String, lease: Lease) -> LeaseHold {
        let (stop, stopped) = oneshot::channel();
        let renewer = tokio::spawn(renew(
            self.clone(),
            api.clone(),
            name.clone(),
            lease,
            stopped,
        ));
        LeaseHold {
            inner: Some(Renewing {
                stop,
                renewer,
                api,
                name,
            }),
            request_timeout: self.request_timeout,
        }
    }
}

/// A Lease request's failure: a 409 (someone else changed or made it), or another error
/// already mapped to the adapter's kinds.
enum LeaseError {
    Conflict,
    /// The Lease's namespace does not exist.
    NoNamespace,
    Other(Error),
}

impl LeaseError {
    fn into_error(self) -> Error {
        match self {
            LeaseError::Conflict => Error::backend("conflict reading a Lease"),
            LeaseError::NoNamespace => Error::backend("the Lease's namespace does not exist"),
            LeaseError::Other(e) => e,
        }
    }
}

/// The Conflict of a write while another instance holds the Lease.
fn held_by(id: &DeploymentId, name: &str, holder: &str, spec: &LeaseSpec) -> Error {
    let remaining = expires_at_ms(spec)
        .map(|end| end.saturating_sub(now_ms()).max(0) / 1000)
        .unwrap_or(0);
    Error::conflict(
        Resource::Deployment,
        id,
        format!(
            "another adapter ({holder}) is writing the deployment: it holds the Lease {}/{name} \
             (renewed while it writes; if that adapter stopped, the Lease expires in {remaining}s)",
            id.namespace
        ),
    )
}

/// Renews `lease` every third of its duration until `stopped` fires; returns the Lease as
/// last written (its uid and resourceVersion are the release's preconditions), or `None`
/// once someone else took it over.
async fn renew(
    leases: Leases,
    api: Api<Lease>,
    name: String,
    mut lease: Lease,
    mut stopped: oneshot::Receiver<()>,
) -> Option<Lease> {
    let every = (leases.duration / 3).max(Duration::from_millis(500));
    loop {
        tokio::select! {
            _ = &mut stopped => return Some(lease),
            () = tokio::time::sleep(every) => {}
        }
        let mut next = lease.clone();
        if let Some(spec) = next.spec.as_mut() {
            spec.renew_time = Some(now_micro());
        }
        match leases
            .bounded(
                "a Lease renewal",
                api.replace(&name, &PostParams::default(), &next),
            )
            .await
        {
            Ok(renewed) => lease = renewed,
            Err(LeaseError::Conflict) => {
                let holder = match leases.bounded("a Lease read", api.get_opt(&name)).await {
                    Ok(Some(l)) => l.spec.and_then(|s| s.holder_identity).unwrap_or_default(),
                    Ok(None) => "nobody (it was deleted)".to_owned(),
                    Err(_) => "unknown".to_owned(),
                };
                tracing::warn!(
                    lease = %name,
                    namespace = api_namespace(&lease),
                    %holder,
                    "the write's Lease was taken over (this adapter was stalled past its \
                     duration); the running helm cannot be stopped safely, so the write goes \
                     on without the Lease"
                );
                let _ = stopped.await;
                return None;
            }
            Err(e) => {
                let e = e.into_error();
                tracing::warn!(lease = %name, error = %e, "could not renew the write's Lease; retrying");
            }
        }
    }
}

/// The namespace of `lease`, for logs.
fn api_namespace(lease: &Lease) -> String {
    lease.metadata.namespace.clone().unwrap_or_default()
}

/// One release's Lease, held for one write; renewed until released.
#[derive(Debug)]
pub(crate) struct LeaseHold {
    inner: Option<Renewing>,
    request_timeout: Duration,
}

/// A held Lease and its renewer.
#[derive(Debug)]
struct Renewing {
    /// Tells the renewer to stop.
    stop: oneshot::Sender<()>,
    /// The renewer: the Lease as last written, `None` once taken over.
    renewer: JoinHandle<Option<Lease>>,
    api: Api<Lease>,
    name: String,
}

impl LeaseHold {
    /// Stops renewing and deletes the Lease (only if it is still ours, as last written).
    /// Failures are logged: the Lease then expires.
    pub(crate) async fn release(mut self) {
        if let Some(inner) = self.inner.take() {
            release(inner, self.request_timeout).await;
        }
    }
}

impl Drop for LeaseHold {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            match tokio::runtime::Handle::try_current() {
                Ok(rt) => {
                    rt.spawn(release(inner, self.request_timeout));
                }
                // No runtime to delete it from: it expires.
                Err(_) => inner.renewer.abort(),
            }
        }
    }
}

/// Stops the renewer, then deletes the Lease with preconditions on its uid and last
/// resourceVersion.
async fn release(
    Renewing {
        stop,
        renewer,
        api,
        name,
    }: Renewing,
    request_timeout: Duration,
) {
    let _ = stop.send(());
    let Ok(Some(lease)) = renewer.await else {
        return;
    };
    let params = DeleteParams {
        preconditions: Some(Preconditions {
            uid: lease.metadata.uid.clone(),
            resource_version: lease.metadata.resource_version.clone(),
        }),
        ..DeleteParams::default()
    };
    match tokio::time::timeout(request_timeout, api.delete(&name, &params)).await {
        Ok(Ok(_)) => {}
        // Taken over or already gone: not ours to delete.
        Ok(Err(kube::Error::Api(s))) if s.code == 409 || s.code == 404 => {}
        Ok(Err(e)) => {
            tracing::warn!(lease = %name, error = %e, "could not release the write's Lease; it expires");
        }
        Err(_) => {
            tracing::warn!(lease = %name, "releasing the write's Lease timed out; it expires");
        }
    }
}

/// Whether `e` is the API server refusing a new object because its namespace is being
/// deleted (the NamespaceLifecycle admission plugin, a 403 that is not RBAC's).
fn namespace_terminating(e: &Error) -> bool {
    e.to_string().contains("because it is being terminated")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(name: &str) -> DeploymentId {
        DeploymentId {
            namespace: "ran".to_owned(),
            name: name.to_owned(),
        }
    }

    #[test]
    fn names_are_the_release_name_when_valid() {
        assert_eq!(lease_name(&id("du-1")), "o2dms-release-du-1");
        assert_eq!(lease_name(&id("a.b")), "o2dms-release-a.b");
    }

    #[test]
    fn other_names_are_cleaned_shortened_and_hashed() {
        for raw in [
            "Du_1",
            "x".repeat(300).as_str(),
            "a..b",
            "ends-",
            "",
            "ünïcode/…",
            "-",
        ] {
            let n = lease_name(&id(raw));
            assert!(n.len() <= MAX_NAME, "{raw}: {n}");
            assert!(is_subdomain(&n), "{raw}: {n}");
            assert!(n.starts_with(PREFIX), "{raw}: {n}");
        }
        // distinct releases, distinct Leases, even when cleaning makes them alike
        assert_ne!(lease_name(&id("Du_1")), lease_name(&id("du-1")));
        assert_ne!(lease_name(&id("Du_1")), lease_name(&id("DU_1")));
        let long_a = format!("{}a", "x".repeat(300));
        let long_b = format!("{}b", "x".repeat(300));
        assert_ne!(lease_name(&id(&long_a)), lease_name(&id(&long_b)));
        // and the same release, always the same Lease
        assert_eq!(lease_name(&id(&long_a)), lease_name(&id(&long_a)));
    }

    #[test]
    fn subdomains() {
        assert!(is_subdomain("a-b.c"));
        for bad in ["", "A", "a..b", "-a", "a-", "a_b", "a.-b"] {
            assert!(!is_subdomain(bad), "{bad}");
        }
    }

    fn spec(renewed_ms: Option<i64>, seconds: Option<i32>) -> LeaseSpec {
        LeaseSpec {
            renew_time: renewed_ms
                .map(|ms| MicroTime(Timestamp::from_millisecond(ms).expect("a time"))),
            lease_duration_seconds: seconds,
            ..LeaseSpec::default()
        }
    }

    #[test]
    fn a_lease_holds_for_its_duration_after_its_last_renewal() {
        let renewed = 1_700_000_000_000;
        let s = spec(Some(renewed), Some(30));
        assert!(!expired(&s, renewed));
        assert!(!expired(&s, renewed + 29_999));
        assert!(expired(&s, renewed + 30_000));
        assert!(expired(&s, renewed + 3_600_000));
        // acquireTime stands in for a missing renewTime
        let acquired = LeaseSpec {
            acquire_time: Some(MicroTime(Timestamp::from_millisecond(renewed).unwrap())),
            lease_duration_seconds: Some(10),
            ..LeaseSpec::default()
        };
        assert!(!expired(&acquired, renewed + 9_000));
        assert!(expired(&acquired, renewed + 10_000));
    }

    #[test]
    fn a_lease_without_times_or_duration_holds_nothing() {
        assert!(expired(&spec(None, Some(30)), 0));
        assert!(expired(&spec(Some(1_000), None), 0));
        // a negative duration counts as zero
        assert!(expired(&spec(Some(1_000), Some(-5)), 1_000));
    }

    #[test]
    fn holder_identities_differ_per_instance() {
        let (a, b) = (holder_identity(), holder_identity());
        assert_ne!(a, b);
        assert!(a.contains(&format!("/{}/", std::process::id())), "{a}");
    }

    #[test]
    fn the_conflict_names_the_holder() {
        let s = spec(Some(now_ms()), Some(30));
        let e = held_by(&id("du"), "o2dms-release-du", "host/7/abc", &s);
        let Error::Conflict { reason, .. } = &e else {
            panic!("{e:?}")
        };
        assert!(reason.contains("host/7/abc"), "{reason}");
        assert!(reason.contains("ran/o2dms-release-du"), "{reason}");
    }

    #[test]
    fn a_terminating_namespace_is_recognised_and_nothing_else() {
        let refused = Error::permission_denied(
            "access leases \"o2dms-release-app\"",
            "leases.coordination.k8s.io \"o2dms-release-app\" is forbidden: unable to create new content in namespace ns because it is being terminated",
        );
        assert!(namespace_terminating(&refused));
        let rbac = Error::permission_denied(
            "create leases.coordination.k8s.io in namespace ns",
            "leases.coordination.k8s.io is forbidden: User \"dms\" cannot create resource \"leases\"",
        );
        assert!(!namespace_terminating(&rbac));
    }
}
