//! Whether a stored package is the chart a release runs: the release record keeps the
//! chart's templates, other files, default values and schema (not its subcharts), so a
//! package with the same name and version but other content (a fork, a rebuilt archive)
//! is told apart by comparing those.

use std::path::Path;

use base64::Engine as _;
use o2dms_chart::{Limits, ValidatedChart};
use o2dms_core::{Error, Result};
use sha2::{Digest, Sha256};

use crate::storage::record::ReleaseChart;

/// Whether the chart archive at `archive` has exactly the templates, default values and
/// schema of `recorded`, and every other file it recorded. Archive files the record does
/// not keep are allowed only outside `templates/` (subcharts, ignored files).
pub(super) async fn same_chart(archive: &Path, recorded: &ReleaseChart) -> Result<bool> {
    let bytes = tokio::fs::read(archive)
        .await
        .map_err(|e| Error::backend_from(format!("reading {}", archive.display()), e))?;
    let stored =
        tokio::task::spawn_blocking(move || o2dms_chart::validate(&bytes, &Limits::default()))
            .await
            .map_err(|e| Error::backend_from("validating a stored chart", e))?
            .map_err(|e| Error::backend_from("a stored chart is no longer valid", e))?;
    Ok(matches(&stored, recorded))
}

/// The comparison itself (pure).
fn matches(stored: &ValidatedChart, recorded: &ReleaseChart) -> bool {
    let digest_of = |b64: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .ok()
            .map(|data| hex::encode(Sha256::digest(data)))
    };
    let same_file = |name: &str, b64: &str| {
        digest_of(b64).is_some_and(|d| stored.file_digests.get(name) == Some(&d))
    };
    let recorded_templates = || recorded.templates.iter().map(|t| t.name.as_str());
    let stored_templates = stored
        .file_digests
        .keys()
        .filter(|p| p.starts_with("templates/"));
    let same_template_names = {
        let mut a: Vec<&str> = recorded_templates().collect();
        let mut b: Vec<&str> = stored_templates.map(String::as_str).collect();
        a.sort_unstable();
        b.sort_unstable();
        a == b
    };
    let same_schema = match recorded.schema.as_deref().filter(|s| !s.is_empty()) {
        Some(schema) => same_file("values.schema.json", schema),
        None => !stored.file_digests.contains_key("values.schema.json"),
    };
    same_template_names
        && recorded
            .templates
            .iter()
            .chain(&recorded.files)
            .all(|f| same_file(&f.name, &f.data))
        && same_schema
        && recorded_values(recorded, &stored.values).as_ref() == Some(&stored.values)
}

/// The recorded default values as the archive's `values.yaml` would read: Helm adds an
/// empty `global` map under each dependency's key (`sub: {global: {}}`) when it loads a
/// chart with dependencies; those are removed where the archive has none.
fn recorded_values(
    recorded: &ReleaseChart,
    stored: &serde_json::Value,
) -> Option<serde_json::Value> {
    let mut values = serde_json::to_value(&recorded.values).ok()?;
    let keys = recorded.metadata.dependencies.iter().filter_map(|d| {
        d.get("alias")
            .or_else(|| d.get("name"))
            .and_then(serde_json::Value::as_str)
    });
    for key in keys {
        let in_archive = stored.get(key);
        let Some(sub) = values
            .get_mut(key)
            .and_then(serde_json::Value::as_object_mut)
        else {
            continue;
        };
        let added_global = sub
            .get("global")
            .and_then(serde_json::Value::as_object)
            .is_some_and(serde_json::Map::is_empty)
            && in_archive.and_then(|v| v.get("global")).is_none();
        if added_global {
            sub.remove("global");
        }
        if sub.is_empty() && in_archive.is_none() {
            values.as_object_mut()?.remove(key);
        }
    }
    Some(values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::record::ChartFile;

    fn stored(files: &[(&str, &[u8])], values: serde_json::Value) -> ValidatedChart {
        let mut tar = tar::Builder::new(Vec::new());
        let chart = b"apiVersion: v2\nname: web\nversion: 1.0.0\n";
        let mut all: Vec<(&str, &[u8])> = vec![("Chart.yaml", chart)];
        let values_yaml = serde_json::to_vec(&values).unwrap();
        all.push(("values.yaml", &values_yaml));
        all.extend_from_slice(files);
        for (name, data) in all {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            tar.append_data(&mut h, format!("web/{name}"), data)
                .unwrap();
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &tar.into_inner().unwrap()).unwrap();
        o2dms_chart::validate(&gz.finish().unwrap(), &Limits::default()).unwrap()
    }

    fn file(name: &str, data: &[u8]) -> ChartFile {
        ChartFile {
            name: name.into(),
            data: base64::engine::general_purpose::STANDARD.encode(data),
        }
    }

    fn recorded(templates: &[(&str, &[u8])], values: serde_json::Value) -> ReleaseChart {
        ReleaseChart {
            templates: templates.iter().map(|(n, d)| file(n, d)).collect(),
            values: serde_json::from_value(values).unwrap(),
            ..ReleaseChart::default()
        }
    }

    #[test]
    fn a_fork_with_the_same_name_and_version_is_told_apart() {
        let values = serde_json::json!({"replicaCount": 1});
        let original = stored(
            &[("templates/d.yaml", b"kind: Deployment\n")],
            values.clone(),
        );
        let same = recorded(
            &[("templates/d.yaml", b"kind: Deployment\n")],
            values.clone(),
        );
        assert!(matches(&original, &same));
        // the fork has one more template
        let fork = recorded(
            &[
                ("templates/d.yaml", b"kind: Deployment\n"),
                ("templates/extra.yaml", b"kind: ConfigMap\n"),
            ],
            values.clone(),
        );
        assert!(!matches(&original, &fork));
        // same names, other content
        let edited = recorded(
            &[("templates/d.yaml", b"kind: StatefulSet\n")],
            values.clone(),
        );
        assert!(!matches(&original, &edited));
        // other default values
        let revalued = recorded(
            &[("templates/d.yaml", b"kind: Deployment\n")],
            serde_json::json!({"replicaCount": 2}),
        );
        assert!(!matches(&original, &revalued));
        // a file the templates read, changed
        let mut with_file = same.clone();
        with_file.files.push(file("conf/app.ini", b"a=1\n"));
        let archive = stored(
            &[
                ("templates/d.yaml", b"kind: Deployment\n"),
                ("conf/app.ini", b"a=2\n"),
            ],
            values,
        );
        assert!(!matches(&archive, &with_file));
    }

    #[test]
    fn the_global_maps_helm_adds_for_dependencies_are_not_a_difference() {
        let values = serde_json::json!({"replicaCount": 1});
        let archive = stored(&[("templates/d.yaml", b"kind: Deployment\n")], values);
        let mut loaded = recorded(
            &[("templates/d.yaml", b"kind: Deployment\n")],
            serde_json::json!({"replicaCount": 1, "sub": {"global": {}}}),
        );
        loaded.metadata.dependencies = vec![serde_json::json!({"name": "sub", "version": "0.1.0"})];
        assert!(matches(&archive, &loaded));
        // a value the fork set for the subchart is a difference
        let mut overridden = loaded.clone();
        overridden.values = serde_json::from_value(
            serde_json::json!({"replicaCount": 1, "sub": {"global": {}, "x": 1}}),
        )
        .unwrap();
        assert!(!matches(&archive, &overridden));
    }
}
