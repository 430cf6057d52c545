//! Settings of a mock as data (the `config` block of a `type: mock` plugin), and the
//! mock they describe ([`MockAdapter::from_settings`]).

use o2dms_core::{validate, Error, Result, Values};
use serde::{Deserialize, Serialize};

use crate::builder::PackageSpec;
use crate::MockAdapter;

/// What a mock holds and how it misbehaves, as data: the `config` block of a
/// `type: mock` plugin in the configuration file, read with serde.
///
/// Keys are camelCase, unknown keys are refused, and every key is optional: an empty
/// mapping (`config: {}`) is a mock with no packages and no faults, as
/// [`MockAdapter::new`].
///
/// ```
/// use o2dms_mock::{MockAdapter, MockSettings};
///
/// let settings: MockSettings = serde_json::from_value(serde_json::json!({
///     "packages": [
///         { "name": "web", "version": "0.1.0", "values": { "replicaCount": 1 } },
///         { "name": "never-ready", "version": "0.1.0" }
///     ],
///     "faults": { "neverReady": ["never-ready"] }
/// }))
/// .unwrap();
/// let mock = MockAdapter::from_settings(&settings)?;
/// # let _ = mock;
/// # Ok::<(), o2dms_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "camelCase",
    default,
    expecting = "the mock plugin's settings (a mapping)"
)]
#[non_exhaustive]
pub struct MockSettings {
    /// Packages preloaded (`packages`), as [`MockBuilder::package`](crate::MockBuilder::package).
    pub packages: Vec<MockPackage>,
    /// Packages that misbehave (`faults`).
    pub faults: MockFaults,
    /// The scale key for deployments created without one (`scaleKey`, a dotted path);
    /// [`DEFAULT_SCALE_KEY`](crate::DEFAULT_SCALE_KEY) when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale_key: Option<String>,
    /// Revisions kept per deployment (`maxHistory`; 0 keeps all);
    /// [`DEFAULT_MAX_HISTORY`](crate::DEFAULT_MAX_HISTORY) when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_history: Option<usize>,
}

/// A package to preload (`packages[]`): a [`PackageSpec`] as data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "camelCase",
    expecting = "a package: a mapping with `name` and `version`"
)]
#[non_exhaustive]
pub struct MockPackage {
    /// Package (chart) name (`name`); its id is `name@version`.
    pub name: String,
    /// Version (`version`, a string: quote `"1.0"`).
    pub version: String,
    /// Application version (`appVersion`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
    /// Description (`description`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The chart's default values (`values`, a mapping; empty when absent).
    #[serde(default)]
    pub values: Values,
}

impl MockPackage {
    /// A package `name@version` with no default values.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        MockPackage {
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

    /// The package as the builder takes it.
    pub fn spec(&self) -> PackageSpec {
        let mut spec = PackageSpec::new(&self.name, &self.version)
            .values(self.values.clone())
            .description(&self.description);
        if let Some(app_version) = &self.app_version {
            spec = spec.app_version(app_version);
        }
        spec
    }
}

/// Packages that misbehave (`faults`), by package name, every version: the data form of
/// [`Faults::package_never_ready`](crate::Faults::package_never_ready) and
/// [`Faults::package_ignores_scale`](crate::Faults::package_ignores_scale). A name
/// need not be preloaded (it applies to an upload of that name too).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "camelCase",
    default,
    expecting = "the mock's faults (a mapping)"
)]
#[non_exhaustive]
pub struct MockFaults {
    /// Packages that never become ready (`neverReady`): writes onto them time out and
    /// leave the deployment Failed.
    pub never_ready: Vec<String>,
    /// Packages that ignore the scale key (`ignoresScale`): scale fails and leaves the
    /// deployment Failed.
    pub ignores_scale: Vec<String>,
    /// How long, in milliseconds of real time, a never-ready install stays visible as
    /// pending before it fails (`holdPendingInstallMs`, at most the create's timeout):
    /// [`Faults::hold_pending_install`](crate::Faults::hold_pending_install). Absent or
    /// 0: it fails at once, its wait simulated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hold_pending_install_ms: Option<u64>,
}

impl MockAdapter {
    /// The mock `settings` describe: its packages preloaded, its faults set, with the
    /// builder's defaults for everything else ([`SystemClock`](crate::SystemClock), a
    /// 5-minute default timeout).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the key in the settings (`scaleKey`,
    /// `packages[1].version`, `faults.neverReady[0]`): a scale key that is not a dotted
    /// path, a package whose name or version is empty, whose name contains `@`, or whose
    /// id is invalid, an empty fault package name. Never a panic.
    pub fn from_settings(settings: &MockSettings) -> Result<MockAdapter> {
        let mut builder = MockAdapter::builder();
        if let Some(key) = &settings.scale_key {
            validate::scale_key("scaleKey", key)?;
            builder = builder.scale_key(key);
        }
        if let Some(max) = settings.max_history {
            builder = builder.max_history(max);
        }
        // Packages are added after `build`, which would panic on an invalid one.
        let mock = builder.build();
        for (i, package) in settings.packages.iter().enumerate() {
            mock.add_package(package.spec())
                .map_err(|e| within(&format!("packages[{i}]"), e))?;
        }
        let faults = mock.faults();
        for (key, names) in [
            ("neverReady", &settings.faults.never_ready),
            ("ignoresScale", &settings.faults.ignores_scale),
        ] {
            if let Some(i) = names.iter().position(String::is_empty) {
                return Err(Error::invalid(
                    format!("faults.{key}[{i}]"),
                    "a package name must not be empty",
                ));
            }
        }
        for name in &settings.faults.never_ready {
            faults.package_never_ready(name.clone());
        }
        for name in &settings.faults.ignores_scale {
            faults.package_ignores_scale(name.clone());
        }
        if let Some(ms) = settings.faults.hold_pending_install_ms {
            faults.hold_pending_install(std::time::Duration::from_millis(ms));
        }
        Ok(mock)
    }
}

/// `e` with its field under `prefix` (`name` in `packages[0]` is `packages[0].name`).
fn within(prefix: &str, e: Error) -> Error {
    match e {
        Error::InvalidArgument { field, reason } => {
            Error::invalid(format!("{prefix}.{field}"), reason)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use o2dms_core::{
        CreateDeployment, DeploymentId, DeploymentStatus, DmsAdapter, ErrorKind, HistoryOptions,
        PackageFilter, ScaleRequest, Value,
    };

    fn settings(json: serde_json::Value) -> MockSettings {
        serde_json::from_value(json).expect("settings")
    }

    #[test]
    fn empty_settings_are_an_empty_mock() {
        let s = settings(serde_json::json!({}));
        assert_eq!(s, MockSettings::default());
        let mock = MockAdapter::from_settings(&s).unwrap();
        assert_eq!(mock.deployment_count(), 0);
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_refused() {
        for bad in [
            serde_json::json!({"package": []}),
            serde_json::json!({"packages": [{"name": "a", "version": "1", "colour": 1}]}),
            serde_json::json!({"packages": [{"name": "a"}]}),
            serde_json::json!({"packages": [{"name": "a", "version": "1", "values": [1]}]}),
            serde_json::json!({"faults": {"neverready": ["a"]}}),
            serde_json::json!({"maxHistory": -1}),
        ] {
            assert!(
                serde_json::from_value::<MockSettings>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn invalid_settings_are_errors_naming_the_key_never_panics() {
        for (json, field) in [
            (serde_json::json!({"scaleKey": "a..b"}), "scaleKey"),
            (
                serde_json::json!({"packages": [{"name": "ok", "version": "1"}, {"name": "a@b", "version": "1"}]}),
                "packages[1].name",
            ),
            (
                serde_json::json!({"packages": [{"name": "a", "version": ""}]}),
                "packages[0].version",
            ),
            (
                serde_json::json!({"faults": {"ignoresScale": ["x", ""]}}),
                "faults.ignoresScale[1]",
            ),
        ] {
            let err = MockAdapter::from_settings(&settings(json.clone())).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{json}");
            match err {
                Error::InvalidArgument { field: f, .. } => assert_eq!(f, field, "{json}"),
                other => panic!("{other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn settings_make_the_same_mock_as_the_builder() {
        let s = settings(serde_json::json!({
            "packages": [
                {"name": "web", "version": "0.1.0", "appVersion": "2.4",
                 "values": {"replicaCount": 2, "image": {"tag": "1"}}},
                {"name": "ignores-scale", "version": "0.1.0"},
                {"name": "never-ready", "version": "0.1.0"}
            ],
            "faults": {"neverReady": ["never-ready"], "ignoresScale": ["ignores-scale"]},
            "maxHistory": 3
        }));
        let mock = MockAdapter::from_settings(&s).unwrap();
        let packages = mock
            .list_packages(&PackageFilter::default())
            .await
            .unwrap()
            .items;
        let names: Vec<&str> = packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["ignores-scale", "never-ready", "web"]);
        assert_eq!(packages[2].app_version.as_deref(), Some("2.4"));

        let id = DeploymentId::new("ns", "web").unwrap();
        let d = mock
            .create_deployment(CreateDeployment::new(
                id.clone(),
                "web@0.1.0".parse().unwrap(),
            ))
            .await
            .unwrap();
        assert_eq!(d.status, DeploymentStatus::Deployed);
        assert_eq!(
            mock.deployment_status(&id).await.unwrap().replicas.desired,
            2
        );
        for n in 3..=6 {
            mock.scale_deployment(&id, ScaleRequest::to(n))
                .await
                .unwrap();
        }
        let history = mock
            .deployment_history(&id, HistoryOptions::all())
            .await
            .unwrap();
        assert_eq!(history.len(), 3, "maxHistory: 3");

        let stuck = DeploymentId::new("ns", "stuck").unwrap();
        let err = mock
            .create_deployment(CreateDeployment::new(
                stuck,
                "never-ready@0.1.0".parse().unwrap(),
            ))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);

        let ign = DeploymentId::new("ns", "ign").unwrap();
        mock.create_deployment(CreateDeployment::new(
            ign.clone(),
            "ignores-scale@0.1.0".parse().unwrap(),
        ))
        .await
        .unwrap();
        let err = mock
            .scale_deployment(&ign, ScaleRequest::to(3))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Backend);
    }

    #[test]
    fn yaml_shaped_settings_round_trip() {
        let s = MockSettings {
            packages: vec![MockPackage::new("du", "1.2.0")
                .values(Values::from_pairs([("replicaCount", Value::from(1))]))],
            ..MockSettings::default()
        };
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(serde_json::from_value::<MockSettings>(json).unwrap(), s);
    }
}
