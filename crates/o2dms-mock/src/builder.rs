//! Building a mock: packages, settings and the clock.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use o2dms_core::{Error, Package, PackageId, PackageSource, Result, Timestamp, Values};
use sha2::{Digest, Sha256};

use crate::clock::{Clock, SystemClock};
use crate::state::{Config, PackageKey, Shared, State, StoredPackage};
use crate::MockAdapter;

/// The scale key used when neither the deployment nor the builder sets one.
pub const DEFAULT_SCALE_KEY: &str = "replicaCount";
/// Revisions kept per deployment unless the builder says otherwise (Helm's default).
pub const DEFAULT_MAX_HISTORY: usize = 10;
/// How long create, update, scale and rollback wait for readiness by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// A package to preload: a chart's metadata and its default values.
///
/// Its id is `name@version`. The default values are what the simulated workload
/// merges the user's values into (for example the chart's `replicaCount`).
#[derive(Debug, Clone, PartialEq)]
pub struct PackageSpec {
    /// Package (chart) name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Application version, if any.
    pub app_version: Option<String>,
    /// Description.
    pub description: String,
    /// The chart's default values.
    pub values: Values,
}

impl PackageSpec {
    /// A package `name@version` with no default values.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        PackageSpec {
            name: name.into(),
            version: version.into(),
            app_version: None,
            description: String::new(),
            values: Values::new(),
        }
    }

    /// With these default values.
    pub fn values(mut self, values: Values) -> Self {
        self.values = values;
        self
    }

    /// With this application version.
    pub fn app_version(mut self, app_version: impl Into<String>) -> Self {
        self.app_version = Some(app_version.into());
        self
    }

    /// With this description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    pub(crate) fn into_stored(self, now: Timestamp) -> Result<(PackageKey, StoredPackage)> {
        if self.name.is_empty() || self.name.contains('@') {
            return Err(Error::invalid("name", "must be non-empty and without '@'"));
        }
        if self.version.is_empty() {
            return Err(Error::invalid("version", "must not be empty"));
        }
        let id = PackageId::from_name_version(&self.name, &self.version)?;
        let mut hasher = Sha256::new();
        let canonical = serde_json::json!({
            "name": self.name,
            "version": self.version,
            "app_version": self.app_version,
            "description": self.description,
            "values": self.values,
        });
        hasher.update(canonical.to_string().as_bytes());
        let digest = format!("sha256:{}", hex::encode(hasher.finalize()));
        let key = PackageKey::new(&self.name, &self.version);
        let package = Package {
            id,
            name: self.name,
            version: self.version,
            app_version: self.app_version,
            description: self.description,
            source: PackageSource::Repository,
            digest,
            created_at: now,
            extensions: BTreeMap::new(),
        };
        Ok((
            key,
            StoredPackage {
                package,
                defaults: Arc::new(self.values),
            },
        ))
    }
}

/// Builds a [`MockAdapter`].
///
/// ```
/// use std::time::Duration;
/// use o2dms_mock::{ManualClock, MockAdapter, PackageSpec};
///
/// let clock = ManualClock::default();
/// let mock = MockAdapter::builder()
///     .package(PackageSpec::new("web", "1.0.0").app_version("2.4"))
///     .scale_key("server.replicas")
///     .max_history(5)
///     .default_timeout(Duration::from_secs(60))
///     .clock(clock.clone())
///     .build();
/// # let _ = mock;
/// ```
pub struct MockBuilder {
    packages: Vec<PackageSpec>,
    clock: Arc<dyn Clock>,
    config: Config,
}

impl Default for MockBuilder {
    fn default() -> Self {
        MockBuilder {
            packages: Vec::new(),
            clock: Arc::new(SystemClock),
            config: Config {
                default_scale_key: DEFAULT_SCALE_KEY.to_owned(),
                max_history: DEFAULT_MAX_HISTORY,
                default_timeout: DEFAULT_TIMEOUT,
            },
        }
    }
}

impl MockBuilder {
    /// Preloads a package (source `repository`).
    pub fn package(mut self, spec: PackageSpec) -> Self {
        self.packages.push(spec);
        self
    }

    /// The scale key for deployments created without one (default `replicaCount`);
    /// a dotted path such as `server.replicas`.
    pub fn scale_key(mut self, key: impl Into<String>) -> Self {
        self.config.default_scale_key = key.into();
        self
    }

    /// Revisions kept per deployment, as Helm's `--history-max` (default 10; 0 keeps all).
    pub fn max_history(mut self, max: usize) -> Self {
        self.config.max_history = max;
        self
    }

    /// How long writes wait for readiness when the request sets no timeout (default
    /// 5 minutes). The wait is simulated on the clock, never slept.
    pub fn default_timeout(mut self, timeout: Duration) -> Self {
        self.config.default_timeout = timeout;
        self
    }

    /// The clock every timestamp comes from (default [`SystemClock`]).
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The mock.
    ///
    /// # Panics
    /// If the scale key is not a valid dotted path, or a package's name or version is
    /// empty, contains `@` (names) or makes an invalid package id.
    pub fn build(self) -> MockAdapter {
        o2dms_core::validate::scale_key("scale_key", &self.config.default_scale_key)
            .expect("MockBuilder::scale_key");
        let now = self.clock.now();
        let mut state = State::default();
        for spec in self.packages {
            let (key, stored) = spec.into_stored(now).expect("MockBuilder::package");
            state.packages.insert(key, stored);
        }
        MockAdapter {
            shared: Arc::new(Shared {
                state: RwLock::new(state),
                faults: Mutex::default(),
                faults_armed: AtomicBool::new(false),
                clock: self.clock,
                config: self.config,
            }),
        }
    }
}
