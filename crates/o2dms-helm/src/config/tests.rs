//! The configuration: defaults, checks, and the file form.

use super::*;

#[test]
fn defaults_follow_the_spec() {
    let c = HelmConfig::builder().build().unwrap();
    assert_eq!(c.timeout, Duration::from_secs(600));
    assert_eq!(c.max_history, 10);
    assert_eq!(c.scale_key, "replicaCount");
    assert_eq!(c.helm_binary, PathBuf::from("helm"));
    assert_eq!(c.data_dir, None);
    assert!(!c.rebuild_from_release);
}

#[test]
fn packages_live_in_the_data_dir() {
    let c = HelmConfig::builder()
        .data_dir("/srv/o2dms")
        .build()
        .unwrap();
    assert_eq!(
        c.package_location().unwrap(),
        PathBuf::from("/srv/o2dms/packages")
    );
    let c = HelmConfig::builder()
        .data_dir("/srv/o2dms")
        .package_dir("/srv/charts")
        .build()
        .unwrap();
    assert_eq!(c.package_location().unwrap(), PathBuf::from("/srv/charts"));
    // unset: under the user's data directory, never the temporary work directory
    let c = HelmConfig::builder().work_dir("/tmp/w").build().unwrap();
    match HelmConfig::default_data_dir() {
        Some(d) => {
            assert!(d.ends_with("o2dms/helm"), "{}", d.display());
            assert_eq!(c.package_location().unwrap(), d.join("packages"));
        }
        None => match c.package_location() {
            Err(Error::InvalidArgument { field, .. }) => assert_eq!(field, "dataDir"),
            other => panic!("{other:?}"),
        },
    }
}

#[test]
fn bad_fields_are_named() {
    let field = |b: HelmConfigBuilder| match b.build() {
        Err(Error::InvalidArgument { field, .. }) => field,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        field(HelmConfig::builder().namespace("Bad_NS")),
        "namespace"
    );
    assert_eq!(
        field(HelmConfig::builder().timeout(Duration::ZERO)),
        "timeout"
    );
    assert_eq!(field(HelmConfig::builder().scale_key("a..b")), "scaleKey");
    assert_eq!(
        field(HelmConfig::builder().chart_repository("ftp://x")),
        "chartRepository"
    );
    assert_eq!(field(HelmConfig::builder().context("")), "context");
    assert_eq!(field(HelmConfig::builder().helm_binary("")), "helmBinary");
    assert_eq!(field(HelmConfig::builder().work_dir("")), "workDir");
    assert_eq!(field(HelmConfig::builder().package_dir("")), "packageDir");
    assert_eq!(field(HelmConfig::builder().data_dir("")), "dataDir");
    assert_eq!(field(HelmConfig::builder().kubeconfig("")), "kubeconfig");
    // plain HTTP only on loopback, as the repository store will insist at connect
    assert_eq!(
        field(HelmConfig::builder().chart_repository("http://charts.example.com/")),
        "chartRepository"
    );
    assert_eq!(
        field(HelmConfig::builder().chart_repository("not a url")),
        "chartRepository"
    );
    for ok in [
        "https://charts.example.com/stable",
        "http://127.0.0.1:8080/",
        "http://localhost/",
    ] {
        assert!(
            HelmConfig::builder().chart_repository(ok).build().is_ok(),
            "{ok}"
        );
    }
}

/// The settings of the only plugin of a file whose helm entry's `config` block is
/// `block` (indented by the caller's lines).
fn from_block(block: &str) -> Result<HelmConfig> {
    let indented: String = block.lines().map(|l| format!("        {l}\n")).collect();
    let yaml = format!(
        "plugins:\n  dms:\n    - name: helm-deployer\n      type: helm\n      config:\n{indented}"
    );
    let file = o2dms_config::Config::from_yaml_str(&yaml)?;
    HelmConfig::from_plugin(file.select(None)?)
}

fn invalid(block: &str) -> (String, String) {
    match from_block(block) {
        Err(Error::InvalidArgument { field, reason, .. }) => (field, reason),
        other => panic!("{block}: {other:?}"),
    }
}

#[test]
fn omitted_keys_take_the_defaults() {
    assert_eq!(from_block("").unwrap(), HelmConfig::default());
    let c = from_block("maxHistory: 0").unwrap();
    assert_eq!(
        c,
        HelmConfig {
            max_history: 0,
            ..HelmConfig::default()
        }
    );
}

#[test]
fn every_key_in_camel_case() {
    let c = from_block(
        "kubeconfig: /etc/kubernetes/admin.conf\n\
         context: admin@edge\n\
         chartRepository: https://charts.example.com\n\
         namespace: deployments\n\
         namespaces: [deployments, ran]\n\
         timeout: 1h30m\n\
         maxHistory: 5\n\
         helmBinary: /opt/helm/bin/helm\n\
         scaleKey: du.replicas\n\
         workDir: /var/lib/o2dms\n\
         dataDir: /var/lib/o2dms/data\n\
         rebuildFromRelease: true\n\
         packageDir: /var/lib/o2dms/charts\n\
         maxValuesBytes: 1000\n\
         readTimeout: 5s\n\
         recordCacheBytes: 2097152\n\
         createNamespace: true\n\
         deleteCreatedNamespaces: true\n\
         applyMethod: client-side\n\
         skipCrds: true\n\
         disableOpenApiValidation: true\n\
         waitStrategy: legacy\n\
         redactValues: [\"*password*\", \"*Token\"]\n\
         leaseLocking: false\n\
         leaseDuration: 15s",
    )
    .unwrap();
    assert_eq!(
        c,
        HelmConfig {
            kubeconfig: Some("/etc/kubernetes/admin.conf".into()),
            context: Some("admin@edge".into()),
            chart_repository: Some("https://charts.example.com".into()),
            registry: None,
            namespace: "deployments".into(),
            namespaces: vec!["deployments".into(), "ran".into()],
            timeout: Duration::from_secs(5400),
            max_history: 5,
            helm_binary: "/opt/helm/bin/helm".into(),
            scale_key: "du.replicas".into(),
            work_dir: Some("/var/lib/o2dms".into()),
            data_dir: Some("/var/lib/o2dms/data".into()),
            rebuild_from_release: true,
            package_dir: Some("/var/lib/o2dms/charts".into()),
            max_values_bytes: 1000,
            read_timeout: Duration::from_secs(5),
            record_cache_bytes: 2 * 1024 * 1024,
            create_namespace: true,
            delete_created_namespaces: true,
            apply_method: ApplyMethod::ClientSide,
            skip_crds: true,
            disable_open_api_validation: true,
            wait_strategy: Some(WaitStrategy::Legacy),
            redact_values: vec!["*password*".into(), "*Token".into()],
            lease_locking: false,
            lease_duration: Duration::from_secs(15),
        }
    );
    assert_eq!(
        invalid("leaseDuration: 1s").0,
        "plugins.dms[0].config.leaseDuration"
    );
    assert_eq!(
        invalid("maxValuesBytes: 0").0,
        "plugins.dms[0].config.maxValuesBytes"
    );
    // the Rust spelling is not the file's
    let (field, reason) = invalid("max_history: 5");
    assert_eq!(field, "plugins.dms[0].config.max_history");
    assert!(reason.contains("unknown field `max_history`"), "{reason}");
}

#[test]
fn the_namespace_allow_list_is_checked_in_the_file() {
    assert_eq!(
        invalid("namespace: ran\nnamespaces: [ran, Core]").0,
        "plugins.dms[0].config.namespaces[1]"
    );
    assert_eq!(
        invalid("namespace: ran\nnamespaces: [ran, ran]").0,
        "plugins.dms[0].config.namespaces[1]"
    );
    assert_eq!(
        invalid("namespaces: [ran]").0,
        "plugins.dms[0].config.namespace"
    );
}

#[test]
fn unknown_keys_are_refused_with_their_path_and_line() {
    let (field, reason) = invalid("namespace: deployments\nmaxHistroy: 3");
    assert_eq!(field, "plugins.dms[0].config.maxHistroy");
    // the line of a settings error is the `config` block's first line
    assert!(
        reason.starts_with("unknown field `maxHistroy`, expected one of")
            && reason.ends_with("(line 6)"),
        "{reason}"
    );
}

#[test]
fn bad_timeouts_are_refused() {
    for bad in [
        "timeout: 10 minutes please",
        "timeout: 600",
        "timeout: [10m]",
    ] {
        let (field, reason) = invalid(bad);
        assert_eq!(field, "plugins.dms[0].config.timeout", "{bad}");
        assert!(reason.contains("`90s`"), "{bad}: {reason}");
    }
    // parses, but breaks the rule every adapter shares
    let (field, reason) = invalid("timeout: 0s");
    assert_eq!(field, "plugins.dms[0].config.timeout");
    assert!(reason.contains("more than 0"), "{reason}");
}

#[test]
fn checks_name_the_key_path_and_quote_no_secret() {
    let (field, _) = invalid("namespace: Bad_NS");
    assert_eq!(field, "plugins.dms[0].config.namespace");
    let (field, _) = invalid("scaleKey: a..b");
    assert_eq!(field, "plugins.dms[0].config.scaleKey");
    let (field, reason) = invalid("chartRepository: https://user:s3cret@charts.example.com:99999");
    assert_eq!(field, "plugins.dms[0].config.chartRepository");
    assert!(!reason.contains("s3cret"), "{reason}");
    let (field, reason) = invalid("maxHistory: s3cret");
    assert_eq!(field, "plugins.dms[0].config.maxHistory");
    assert!(!reason.contains("s3cret"), "{reason}");
}

#[test]
fn redaction_patterns_are_checked_and_named_by_index() {
    let c =
        from_block("redactValues: [\"*password*\", \"*token*\", \"*secret*\", \"*key\"]").unwrap();
    assert_eq!(c.redact_values.len(), 4);
    assert!(
        HelmConfig::default().redact_values.is_empty(),
        "off by default"
    );
    let (field, _) = invalid("redactValues: [\"*password*\", \"[unclosed\"]");
    assert_eq!(field, "plugins.dms[0].config.redactValues[1]");
    let (field, _) = invalid("redactValues: [\"\"]");
    assert_eq!(field, "plugins.dms[0].config.redactValues[0]");
    let (field, _) = invalid("redactValues: \"*password*\"");
    assert_eq!(field, "plugins.dms[0].config.redactValues");
    match HelmConfig::builder().redact_values(["ok*", "{a,"]).build() {
        Err(Error::InvalidArgument { field, .. }) => assert_eq!(field, "redactValues[1]"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_example_file_documents_every_key() {
    // The example shows optional keys commented out; with them uncommented, every
    // field is set and every key is one the adapter knows.
    let example = include_str!("../../../../docs/config.example.yaml");
    let uncommented: String = example
        .lines()
        .map(|l| match l.strip_prefix("        # ") {
            Some(key) => format!("        {key}\n"),
            None => format!("{l}\n"),
        })
        .collect();
    let file = o2dms_config::Config::from_yaml_str(&uncommented).unwrap();
    let plugin = file.select(None).unwrap();
    let c = HelmConfig::from_plugin(plugin).unwrap_or_else(|e| panic!("{e}"));
    let mut keys: Vec<&str> = plugin.config().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "applyMethod",
            "chartRepository",
            "context",
            "createNamespace",
            "dataDir",
            "deleteCreatedNamespaces",
            "disableOpenApiValidation",
            "helmBinary",
            "kubeconfig",
            "leaseDuration",
            "leaseLocking",
            "maxHistory",
            "maxValuesBytes",
            "namespace",
            "namespaces",
            "packageDir",
            "readTimeout",
            "rebuildFromRelease",
            "recordCacheBytes",
            "redactValues",
            "registry",
            "scaleKey",
            "skipCrds",
            "timeout",
            "waitStrategy",
            "workDir"
        ]
    );
    assert!(
        c.context.is_some()
            && c.work_dir.is_some()
            && c.data_dir.is_some()
            && c.package_dir.is_some()
    );
    // the example shows the default
    assert!(!c.rebuild_from_release);
    // the registry block: one credential source uncommented (the others are exclusive)
    let r = c.registry.expect("registry");
    assert!(
        !r.namespace.is_empty()
            && !r.charts.is_empty()
            && r.id_prefix.is_some()
            && r.username.is_some()
            && r.password_file.is_some()
            && !r.ca_files.is_empty()
    );
}

#[test]
fn only_helm_plugins() {
    let file = o2dms_config::Config::from_yaml_str(
        "plugins:\n  dms:\n    - name: sim\n      type: mock\n",
    )
    .unwrap();
    match HelmConfig::from_plugin(&file.plugins()[0]) {
        Err(Error::InvalidArgument { field, reason, .. }) => {
            assert_eq!(field, "plugins.dms[0].type");
            assert!(reason.contains("`mock`"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn from_config_file_picks_the_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("o2dms.yaml");
    std::fs::write(
        &path,
        "plugins:\n  dms:\n\
         \x20   - {name: edge, type: helm, config: {namespace: edge}}\n\
         \x20   - {name: core, type: helm, default: true, config: {namespace: core}}\n\
         \x20   - {name: old, type: helm, enabled: false}\n\
         \x20   - {name: sim, type: mock}\n",
    )
    .unwrap();
    let ns = |name| HelmConfig::from_config_file(&path, name).map(|c| c.namespace);
    assert_eq!(ns(None).unwrap(), "core");
    assert_eq!(ns(Some("edge")).unwrap(), "edge");
    for (name, field) in [
        (Some("old"), "plugins.dms"),
        (Some("nope"), "plugins.dms"),
        (Some("sim"), "plugins.dms[3].type"),
    ] {
        match ns(name) {
            Err(Error::InvalidArgument { field: f, .. }) => assert_eq!(f, field, "{name:?}"),
            other => panic!("{name:?}: {other:?}"),
        }
    }
    match HelmConfig::from_config_file(dir.path().join("missing.yaml"), None) {
        Err(Error::InvalidArgument { field, .. }) => assert!(field.ends_with("missing.yaml")),
        other => panic!("{other:?}"),
    }
}
