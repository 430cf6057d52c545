//! The shared state behind every clone of a [`MockAdapter`](crate::MockAdapter).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use o2dms_core::{
    Deployment, DeploymentId, DeploymentStatus, Error, Package, PackageId, Resource, Revision,
    Timestamp, Values,
};

use crate::clock::Clock;
use o2dms_core::Operation;

/// Settings fixed when the mock is built.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub default_scale_key: String,
    pub max_history: usize,
    pub default_timeout: Duration,
}

/// Everything the clones share.
pub(crate) struct Shared {
    pub state: RwLock<State>,
    pub faults: Mutex<FaultState>,
    /// Set once any failure or latency was ever injected; keeps the fast path lock-free.
    pub faults_armed: AtomicBool,
    pub clock: Arc<dyn Clock>,
    pub config: Config,
}

impl Shared {
    pub fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    pub fn faults(&self) -> MutexGuard<'_, FaultState> {
        self.faults.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Injected failures and latencies.
#[derive(Debug, Default)]
pub(crate) struct FaultState {
    pub failures: HashMap<Operation, VecDeque<Error>>,
    pub latency: HashMap<Operation, Duration>,
}

/// Deployments, packages and package behaviours.
#[derive(Default)]
pub(crate) struct State {
    pub deployments: BTreeMap<DeploymentId, Record>,
    /// Deployments per namespace, so a namespace-only list knows its total without a scan.
    pub ns_counts: HashMap<String, u64>,
    pub packages: BTreeMap<PackageKey, StoredPackage>,
    pub ignores_scale: HashSet<String>,
    pub never_ready: HashSet<String>,
    /// How long a never-ready install stays pending in real time (None: it settles at
    /// once, the wait simulated on the clock).
    pub install_hold: Option<Duration>,
}

impl State {
    pub fn insert_deployment(&mut self, rec: Record) {
        let id = rec.view.id.clone();
        *self.ns_counts.entry(id.namespace.clone()).or_default() += 1;
        self.deployments.insert(id, rec);
    }

    pub fn remove_deployment(&mut self, id: &DeploymentId) -> Option<Record> {
        let rec = self.deployments.remove(id)?;
        if let Some(n) = self.ns_counts.get_mut(&id.namespace) {
            *n -= 1;
            if *n == 0 {
                self.ns_counts.remove(&id.namespace);
            }
        }
        Some(rec)
    }

    pub fn deployment(&self, id: &DeploymentId) -> Result<&Record, Error> {
        self.deployments
            .get(id)
            .ok_or_else(|| Error::not_found(Resource::Deployment, id))
    }

    pub fn deployment_mut(&mut self, id: &DeploymentId) -> Result<&mut Record, Error> {
        self.deployments
            .get_mut(id)
            .ok_or_else(|| Error::not_found(Resource::Deployment, id))
    }

    pub fn package(&self, id: &PackageId) -> Result<&StoredPackage, Error> {
        id.name_version()
            .and_then(|(n, v)| self.packages.get(&PackageKey::new(n, v)))
            .filter(|p| p.package.id == *id)
            .ok_or_else(|| Error::not_found(Resource::Package, id))
    }
}

/// A stored package and the default values of its chart.
#[derive(Debug, Clone)]
pub(crate) struct StoredPackage {
    pub package: Package,
    pub defaults: Arc<Values>,
}

/// Sort key of a package: name, then version.
///
/// Versions of the simple SemVer shape `MAJOR.MINOR.PATCH[-PRE][+BUILD]` (numeric
/// parts) sort numerically, a pre-release before its release, pre-releases compared
/// by SemVer's rules (dot-separated identifiers, numeric ones numerically and before
/// alphanumeric ones: `rc.2` < `rc.10` < `rc.a`); every other version sorts after
/// those, as text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct PackageKey {
    name: String,
    class: u8,
    nums: [u64; 3],
    release: u8,
    pre: Vec<PreId>,
    raw: String,
}

/// One dot-separated identifier of a SemVer pre-release: numeric identifiers sort
/// numerically and before alphanumeric ones (the variant order), which sort as text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum PreId {
    Num(u64),
    Text(String),
}

fn pre_ids(pre: &str) -> Vec<PreId> {
    pre.split('.')
        .map(|p| match p.parse::<u64>() {
            Ok(n) if p.bytes().all(|c| c.is_ascii_digit()) => PreId::Num(n),
            _ => PreId::Text(p.to_owned()),
        })
        .collect()
}

impl PackageKey {
    pub fn new(name: &str, version: &str) -> Self {
        let semver = parse_semver(version);
        let (class, nums, release, pre) = match semver {
            Some((nums, pre)) => (
                0,
                nums,
                u8::from(pre.is_none()),
                pre.as_deref().map(pre_ids).unwrap_or_default(),
            ),
            None => (1, [0; 3], 0, Vec::new()),
        };
        PackageKey {
            name: name.to_owned(),
            class,
            nums,
            release,
            pre,
            raw: version.to_owned(),
        }
    }

    /// Where a package listing of `name` starts.
    pub fn first_of(name: &str) -> Self {
        PackageKey {
            name: name.to_owned(),
            class: 0,
            nums: [0; 3],
            release: 0,
            pre: Vec::new(),
            raw: String::new(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    #[cfg(test)]
    pub fn version(&self) -> &str {
        &self.raw
    }
}

fn parse_semver(v: &str) -> Option<([u64; 3], Option<String>)> {
    let core_pre = v.split_once('+').map_or(v, |(c, _)| c);
    let (core, pre) = match core_pre.split_once('-') {
        Some((c, p)) => (c, Some(p.to_owned())),
        None => (core_pre, None),
    };
    let mut nums = [0u64; 3];
    let mut parts = core.split('.');
    for n in &mut nums {
        let p = parts.next()?;
        if p.is_empty() || !p.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        *n = p.parse().ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some((nums, pre))
}

/// One stored revision.
#[derive(Debug, Clone)]
pub(crate) struct Rev {
    pub revision: u32,
    pub package: PackageId,
    pub package_name: String,
    pub package_version: String,
    /// The chart's default values, kept with the revision as Helm keeps the chart.
    pub defaults: Arc<Values>,
    pub values: Values,
    pub status: DeploymentStatus,
    pub description: String,
    pub updated_at: Timestamp,
}

impl Rev {
    pub fn to_revision(&self) -> Revision {
        Revision {
            revision: self.revision,
            package: self.package.clone(),
            status: self.status,
            description: self.description.clone(),
            values: self.values.clone(),
            updated_at: self.updated_at,
        }
    }
}

/// One deployment: its revisions (ascending, oldest pruned) and a ready-made view.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub scale_key: String,
    pub revisions: Vec<Rev>,
    pub view: Deployment,
}

impl Record {
    pub fn new(
        id: DeploymentId,
        labels: BTreeMap<String, String>,
        scale_key: String,
        rev: Rev,
    ) -> Self {
        let at = rev.updated_at;
        let mut rec = Record {
            scale_key,
            revisions: vec![rev],
            view: Deployment {
                id,
                package: PackageId::new("x").expect("static id is valid"),
                revision: 0,
                status: DeploymentStatus::Pending,
                description: String::new(),
                labels,
                values: Values::new(),
                created_at: at,
                updated_at: at,
                extensions: BTreeMap::new(),
            },
        };
        rec.refresh();
        rec
    }

    pub fn current(&self) -> &Rev {
        self.revisions.last().expect("a record has a revision")
    }

    pub fn current_mut(&mut self) -> &mut Rev {
        self.revisions.last_mut().expect("a record has a revision")
    }

    /// Adds `rev` as the new current revision: the previous one becomes Superseded, and
    /// the oldest are pruned to `max_history` (0 = unlimited), as Helm's `--history-max`.
    pub fn push(&mut self, rev: Rev, max_history: usize) {
        self.current_mut().status = DeploymentStatus::Superseded;
        self.revisions.push(rev);
        if max_history > 0 && self.revisions.len() > max_history {
            let excess = self.revisions.len() - max_history;
            self.revisions.drain(..excess);
        }
        self.refresh();
    }

    /// Rebuilds the view after a change of the current revision. The mock sets no
    /// backend `extensions`: every clone of the view is paid by get and list.
    pub fn refresh(&mut self) {
        let cur = self.revisions.last().expect("a record has a revision");
        let v = &mut self.view;
        v.package = cur.package.clone();
        v.revision = cur.revision;
        v.status = cur.status;
        v.description = cur.description.clone();
        v.values = cur.values.clone();
        v.updated_at = cur.updated_at;
    }
}

/// The Helm status string for a status.
pub(crate) fn helm_status(s: DeploymentStatus) -> &'static str {
    match s {
        DeploymentStatus::Pending => "unknown",
        DeploymentStatus::Deploying => "pending-install",
        DeploymentStatus::Upgrading => "pending-upgrade",
        DeploymentStatus::RollingBack => "pending-rollback",
        DeploymentStatus::Deployed => "deployed",
        DeploymentStatus::Failed => "failed",
        DeploymentStatus::Deleting => "uninstalling",
        DeploymentStatus::Deleted => "uninstalled",
        DeploymentStatus::Superseded => "superseded",
        // A status added to o2dms-core after this mock: Helm has no name for it.
        _ => "unknown",
    }
}

/// Continue tokens: the last key of the page, hex-encoded behind a version tag.
pub(crate) mod token {
    use o2dms_core::{DeploymentId, Error};

    const DEPLOYMENTS: &str = "d1";
    const PACKAGES: &str = "p1";

    fn encode(tag: &str, a: &str, b: &str) -> String {
        format!("{tag}.{}.{}", hex::encode(a), hex::encode(b))
    }

    fn decode(tag: &str, token: &str) -> Result<(String, String), Error> {
        let bad = || Error::invalid("continue", "is not a token this adapter issued");
        let mut parts = token.split('.');
        if parts.next() != Some(tag) {
            return Err(bad());
        }
        let mut field = || -> Result<String, Error> {
            let bytes = hex::decode(parts.next().ok_or_else(bad)?).map_err(|_| bad())?;
            String::from_utf8(bytes).map_err(|_| bad())
        };
        let (a, b) = (field()?, field()?);
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok((a, b))
    }

    pub fn deployment(id: &DeploymentId) -> String {
        encode(DEPLOYMENTS, &id.namespace, &id.name)
    }

    pub fn parse_deployment(token: &str) -> Result<DeploymentId, Error> {
        let (namespace, name) = decode(DEPLOYMENTS, token)?;
        Ok(DeploymentId { namespace, name })
    }

    pub fn package(name: &str, version: &str) -> String {
        encode(PACKAGES, name, version)
    }

    pub fn parse_package(token: &str) -> Result<(String, String), Error> {
        decode(PACKAGES, token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_sort_semver_first_then_text() {
        let mut v: Vec<PackageKey> = ["1.10.0", "1.2.0", "1.2.0-rc.1", "latest", "1.2", "0.9.9"]
            .iter()
            .map(|v| PackageKey::new("a", v))
            .collect();
        v.sort();
        let order: Vec<&str> = v.iter().map(PackageKey::version).collect();
        assert_eq!(
            order,
            ["0.9.9", "1.2.0-rc.1", "1.2.0", "1.10.0", "1.2", "latest"]
        );
        assert!(PackageKey::first_of("a") <= PackageKey::new("a", "0.0.0-a"));
        let mut v: Vec<PackageKey> = [
            "1.0.0-rc.10",
            "1.0.0",
            "1.0.0-rc.2",
            "1.0.0-rc",
            "1.0.0-rc.a",
        ]
        .iter()
        .map(|v| PackageKey::new("a", v))
        .collect();
        v.sort();
        let order: Vec<&str> = v.iter().map(PackageKey::version).collect();
        assert_eq!(
            order,
            [
                "1.0.0-rc",
                "1.0.0-rc.2",
                "1.0.0-rc.10",
                "1.0.0-rc.a",
                "1.0.0"
            ]
        );
    }

    #[test]
    fn tokens_round_trip_and_reject_junk() {
        let id = DeploymentId::new("ns", "web").unwrap();
        assert_eq!(
            token::parse_deployment(&token::deployment(&id)).unwrap(),
            id
        );
        for bad in [
            "",
            "d1",
            "d1.zz.00",
            "p1.6e73.776562",
            "d1.6e73.776562.00",
            "d1.ff.00",
        ] {
            assert!(
                matches!(token::parse_deployment(bad), Err(Error::InvalidArgument { ref field, .. }) if field == "continue"),
                "{bad}"
            );
        }
    }
}
