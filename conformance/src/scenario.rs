//! Scenarios as data: an id, a description, what they need, and an async body.

use std::fmt;

use futures::future::BoxFuture;
use o2dms_core::DmsAdapter;
use serde::{Deserialize, Serialize};

use crate::check::Failure;
use crate::context::Context;

/// What a scenario body returns: `Ok(())` when it passed.
pub type ScenarioResult = Result<(), Failure>;

/// A scenario body: an async function over the adapter and the scenario's context.
///
/// Write an `async fn` and wrap it with [`body!`](crate::body):
///
/// ```
/// use o2dms_conformance::{body, Context, Scenario, ScenarioResult};
/// use o2dms_core::DmsAdapter;
///
/// async fn health_is_reported(adapter: &dyn DmsAdapter, _cx: &Context) -> ScenarioResult {
///     adapter.health().await?;
///     Ok(())
/// }
///
/// let scenario = Scenario::new("custom.health", "health answers", body!(health_is_reported));
/// assert_eq!(scenario.group(), "custom");
/// ```
pub type Body = for<'a> fn(&'a dyn DmsAdapter, &'a Context) -> BoxFuture<'a, ScenarioResult>;

/// Turns an `async fn(&dyn DmsAdapter, &Context) -> ScenarioResult` into a [`Body`].
#[macro_export]
macro_rules! body {
    ($f:path) => {
        |adapter, cx| ::std::boxed::Box::pin($f(adapter, cx))
    };
}

/// Which profile a scenario belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// What every adapter must pass.
    Core,
    /// Optional behaviour (events, logs, hostile archives, ...).
    Extended,
}

impl Profile {
    /// `core` or `extended`.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Core => "core",
            Profile::Extended => "extended",
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Properties of a scenario a runner may filter on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// Waits for a timeout to pass or makes many objects; runs under
    /// [`Settings::slow_scenario_timeout`](crate::Settings::slow_scenario_timeout).
    Slow,
    /// Leaves a deployment in Failed or uploads hostile input on purpose.
    Destructive,
    /// Reads operation events; NotSupported without an event source.
    NeedsEvents,
}

impl Flag {
    /// The flag's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Flag::Slow => "slow",
            Flag::Destructive => "destructive",
            Flag::NeedsEvents => "needs_events",
        }
    }
}

/// One scenario of the catalogue.
#[derive(Clone)]
pub struct Scenario {
    /// `group.name`, e.g. `rollback.creates_new_revision`.
    pub id: &'static str,
    /// What it checks, one sentence.
    pub description: &'static str,
    /// Capability names (as in [`Capabilities::named`](o2dms_core::Capabilities::named)) it needs.
    pub requires: &'static [&'static str],
    /// Core or extended.
    pub profile: Profile,
    /// Slow, destructive, ...
    pub flags: &'static [Flag],
    /// Ids of the [promises](crate::PROMISES) it checks.
    pub covers: &'static [&'static str],
    /// The body.
    pub body: Body,
}

impl Scenario {
    /// A core scenario needing nothing, with no flags.
    pub fn new(id: &'static str, description: &'static str, body: Body) -> Self {
        Scenario {
            id,
            description,
            requires: &[],
            profile: Profile::Core,
            flags: &[],
            covers: &[],
            body,
        }
    }

    /// Needing these capabilities.
    pub fn requires(mut self, capabilities: &'static [&'static str]) -> Self {
        self.requires = capabilities;
        self
    }

    /// In this profile.
    pub fn profile(mut self, profile: Profile) -> Self {
        self.profile = profile;
        self
    }

    /// With these flags.
    pub fn flags(mut self, flags: &'static [Flag]) -> Self {
        self.flags = flags;
        self
    }

    /// Checking these [promises](crate::PROMISES) (their ids).
    pub fn covers(mut self, promises: &'static [&'static str]) -> Self {
        self.covers = promises;
        self
    }

    /// The group: the id up to the first dot.
    pub fn group(&self) -> &'static str {
        self.id.split_once('.').map_or(self.id, |(g, _)| g)
    }

    /// Whether it carries `flag`.
    pub fn has_flag(&self, flag: Flag) -> bool {
        self.flags.contains(&flag)
    }
}

impl fmt::Debug for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scenario")
            .field("id", &self.id)
            .field("profile", &self.profile)
            .field("requires", &self.requires)
            .field("flags", &self.flags)
            .field("covers", &self.covers)
            .finish_non_exhaustive()
    }
}
