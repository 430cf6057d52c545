//! What a scenario body gets besides the adapter: names, fixtures, settings, events,
//! and the record of everything it created.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use o2dms_core::validate::MAX_NAMESPACE_LEN;
use o2dms_core::{
    CreateDeployment, DeletePackageOptions, Deployment, DeploymentId, DmsAdapter, Error, ErrorKind,
    OperationEvent, Package, PackageId, PackageUpload, Values,
};
use tokio::sync::broadcast;

use crate::check::{Failure, ResultExt};
use crate::fixtures::{Fixture, Fixtures};
use crate::scenario::Scenario;
use crate::settings::Settings;

/// A source of operation events, e.g. [`o2dms_layers::Events`] around the adapter under test.
///
/// The harness passes one to [`Suite::events`](crate::Suite::events); without one the
/// `events.*` scenarios are NotSupported.
pub trait EventSource: Send + Sync {
    /// A new subscriber that sees events from now on.
    fn subscribe(&self) -> broadcast::Receiver<OperationEvent>;
}

impl<A: DmsAdapter> EventSource for o2dms_layers::Events<A> {
    fn subscribe(&self) -> broadcast::Receiver<OperationEvent> {
        o2dms_layers::Events::subscribe(self)
    }
}

/// The greatest `n` a scenario may pass to [`Context::other_namespace`]: the catalogue's
/// scenarios use at most one namespace besides their own. A run plans
/// `1 + MAX_OTHER_NAMESPACES + 1` namespaces per scenario ([`planned_namespaces`]).
pub const MAX_OTHER_NAMESPACES: u32 = 1;

/// The namespace of the scenario at `index` of a run with `prefix`: `<prefix><index>`,
/// the index in at least two digits.
pub(crate) fn scenario_namespace(prefix: &str, index: usize) -> String {
    format!("{prefix}{index:02}")
}

/// `<namespace>-<n>`.
fn other_namespace_of(namespace: &str, n: u32) -> String {
    format!("{namespace}-{n}")
}

/// `<namespace>-` padded with `n` to [`MAX_NAMESPACE_LEN`] (cut there if longer).
fn longest_namespace_of(namespace: &str) -> String {
    let mut s: String = format!("{namespace}-")
        .chars()
        .take(MAX_NAMESPACE_LEN)
        .collect();
    while s.len() < MAX_NAMESPACE_LEN {
        s.push('n');
    }
    s
}

/// Every namespace a run of `scenarios` with namespace `prefix` can use, in order: for the
/// scenario at each index, its own namespace ([`Context::namespace`], `<prefix><index>`),
/// its other namespaces (`<prefix><index>-<n>`, [`Context::other_namespace`], `n` from 1
/// to [`MAX_OTHER_NAMESPACES`]) and its longest one ([`Context::longest_namespace`]).
/// Named by the same code the runner and the context name them with, so a harness can
/// create them (and grant rights in them) before the run, and allow an adapter exactly
/// these.
///
/// ```
/// let suite = o2dms_conformance::Suite::new(o2dms_conformance::Settings::default());
/// let planned = o2dms_conformance::planned_namespaces("o2lp-", suite.scenarios());
/// assert_eq!(planned[..2], ["o2lp-00", "o2lp-00-1"]);
/// assert_eq!(planned[2].len(), 63);
/// ```
pub fn planned_namespaces(prefix: &str, scenarios: &[Scenario]) -> Vec<String> {
    (0..scenarios.len())
        .flat_map(|index| {
            let own = scenario_namespace(prefix, index);
            let others = (1..=MAX_OTHER_NAMESPACES).map({
                let own = own.clone();
                move |n| other_namespace_of(&own, n)
            });
            let longest = longest_namespace_of(&own);
            std::iter::once(own)
                .chain(others)
                .chain(std::iter::once(longest))
        })
        .collect()
}

#[derive(Debug, Default)]
struct Tracked {
    deployments: Vec<DeploymentId>,
    packages: Vec<PackageId>,
}

/// The context of one scenario run.
pub struct Context {
    scenario: &'static str,
    namespace: String,
    settings: Arc<Settings>,
    fixtures: Arc<Fixtures>,
    events: Option<Arc<dyn EventSource>>,
    tracked: Mutex<Tracked>,
}

impl Context {
    /// A context for `scenario` whose namespaces start with `namespace`.
    pub fn new(
        scenario: &'static str,
        namespace: String,
        settings: Arc<Settings>,
        fixtures: Arc<Fixtures>,
        events: Option<Arc<dyn EventSource>>,
    ) -> Self {
        Context {
            scenario,
            namespace,
            settings,
            fixtures,
            events,
            tracked: Mutex::new(Tracked::default()),
        }
    }

    /// The scenario's id.
    pub fn scenario(&self) -> &'static str {
        self.scenario
    }

    /// The scenario's own namespace (`<prefix><index>`), used by no other scenario.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// A second (third, ...) namespace of this scenario: `<namespace>-<n>`, for `n` from 1
    /// to [`MAX_OTHER_NAMESPACES`]. Any other `n` is a failure of the scenario: a run
    /// plans its namespaces in advance ([`planned_namespaces`]), and a harness that
    /// created exactly those (an adapter allowed only them) must not meet others.
    pub fn other_namespace(&self, n: u32) -> Result<String, Failure> {
        if !(1..=MAX_OTHER_NAMESPACES).contains(&n) {
            return Err(Failure::mismatch(
                format!("a scenario to use other_namespace(1..={MAX_OTHER_NAMESPACES})"),
                format!("other_namespace({n}) in scenario {}", self.scenario),
            ));
        }
        Ok(other_namespace_of(&self.namespace, n))
    }

    /// The scenario's namespace of the greatest length a namespace may have
    /// ([`MAX_NAMESPACE_LEN`], 63): `<namespace>-` padded with `n`.
    pub fn longest_namespace(&self) -> String {
        longest_namespace_of(&self.namespace)
    }

    /// The id of deployment `name` in the scenario's namespace.
    pub fn id(&self, name: &str) -> DeploymentId {
        self.id_in(&self.namespace, name)
    }

    /// The id of deployment `name` in `namespace`.
    pub fn id_in(&self, namespace: &str, name: &str) -> DeploymentId {
        DeploymentId {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        }
    }

    /// A chart or package name unique to this scenario run: `<namespace>-<suffix>`.
    pub fn unique_name(&self, suffix: &str) -> String {
        format!("{}-{suffix}", self.namespace)
    }

    /// The run's settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The package id of a fixture; a failure if the run could not prepare it.
    pub fn package(&self, fixture: Fixture) -> Result<PackageId, Failure> {
        self.fixtures
            .get(fixture)
            .cloned()
            .map_err(|why| Failure::mismatch(format!("fixture package `{fixture}`"), why))
    }

    /// A subscriber to operation events; NotSupported when the harness gave no source.
    pub fn subscribe(&self) -> Result<broadcast::Receiver<OperationEvent>, Failure> {
        match &self.events {
            Some(src) => Ok(src.subscribe()),
            None => Err(Failure::NotSupported(
                "no event source: the harness passed none (Suite::events)".into(),
            )),
        }
    }

    /// Records a deployment for cleanup (before it is created, so a failed create is cleaned too).
    pub fn track_deployment(&self, id: &DeploymentId) {
        let mut t = self.tracked.lock().unwrap_or_else(PoisonError::into_inner);
        if !t.deployments.contains(id) {
            t.deployments.push(id.clone());
        }
    }

    /// Records a package for cleanup.
    pub fn track_package(&self, id: &PackageId) {
        let mut t = self.tracked.lock().unwrap_or_else(PoisonError::into_inner);
        if !t.packages.contains(id) {
            t.packages.push(id.clone());
        }
    }

    /// Creates a deployment, tracking it first. The operation timeout of the settings
    /// applies unless the request sets one.
    pub async fn create(
        &self,
        adapter: &dyn DmsAdapter,
        mut request: CreateDeployment,
    ) -> Result<Deployment, Error> {
        if request.timeout.is_none() {
            request.timeout = self.settings.operation_timeout;
        }
        self.track_deployment(&request.id);
        adapter.create_deployment(request).await
    }

    /// Creates deployment `name` of `fixture` with `values` in the scenario's namespace;
    /// any error is a failure.
    pub async fn deploy(
        &self,
        adapter: &dyn DmsAdapter,
        name: &str,
        fixture: Fixture,
        values: Values,
    ) -> Result<Deployment, Failure> {
        let request = CreateDeployment::new(self.id(name), self.package(fixture)?).values(values);
        self.create(adapter, request)
            .await
            .step(&format!("create_deployment of `{fixture}` as `{name}`"))
    }

    /// Uploads a package, tracking it when the upload succeeds.
    pub async fn upload(
        &self,
        adapter: &dyn DmsAdapter,
        upload: PackageUpload,
    ) -> Result<Package, Error> {
        let result = adapter.upload_package(upload).await;
        if let Ok(p) = &result {
            self.track_package(&p.id);
        }
        result
    }

    /// The timeout to put in mutating requests.
    pub fn operation_timeout(&self) -> Option<Duration> {
        self.settings.operation_timeout
    }

    /// Deletes everything tracked (deployments, then packages); NotFound is fine.
    /// Returns the problems met.
    pub async fn cleanup(&self, adapter: &dyn DmsAdapter) -> Vec<String> {
        let tracked =
            std::mem::take(&mut *self.tracked.lock().unwrap_or_else(PoisonError::into_inner));
        let mut problems = Vec::new();
        // An id that breaks the validators can never have been created (the bad-input
        // scenarios track them in case an adapter wrongly accepts them): nothing to delete.
        for id in tracked
            .deployments
            .iter()
            .rev()
            .filter(|id| id.validate().is_ok())
        {
            match adapter.delete_deployment(id).await {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => problems.push(format!("deleting deployment {id}: {e}")),
            }
        }
        for id in tracked.packages.iter().rev() {
            match adapter
                .delete_package(id, DeletePackageOptions::forced())
                .await
            {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => problems.push(format!("deleting package {id}: {e}")),
            }
        }
        problems
    }
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("scenario", &self.scenario)
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}
