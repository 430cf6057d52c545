//! Rebuilding a chart directory from a stored release, for upgrading a release whose
//! chart archive the adapter does not have (for example one installed with the helm CLI
//! from a local directory).
//!
//! A release stores its chart's metadata, default values, schema, templates and files,
//! but not its subcharts: a chart with dependencies cannot be rebuilt and is refused.

use std::path::{Component, Path, PathBuf};

use base64::Engine as _;
use o2dms_core::{Error, Result};

use crate::storage::record::{ChartFile, ReleaseChart};

/// A relative path inside the chart, refusing absolute paths and `..`.
fn safe_relative(name: &str) -> Option<PathBuf> {
    let p = Path::new(name);
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(x) => out.push(x),
            Component::CurDir => {}
            _ => return None,
        }
    }
    (!out.as_os_str().is_empty()).then_some(out)
}

fn write_file(root: &Path, f: &ChartFile) -> Result<()> {
    let rel = safe_relative(&f.name).ok_or_else(|| {
        Error::backend(format!("stored chart has an unsafe file name {:?}", f.name))
    })?;
    let data = base64::engine::general_purpose::STANDARD
        .decode(f.data.as_bytes())
        .map_err(|e| Error::backend(format!("stored chart file {}: {e}", f.name)))?;
    let path = root.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| Error::backend(format!("rebuilding chart: {e}")))?;
    }
    std::fs::write(&path, data).map_err(|e| Error::backend(format!("rebuilding chart: {e}")))
}

/// Writes `chart` as a chart directory under `parent`; returns its path.
pub(crate) fn rebuild(chart: &ReleaseChart, parent: &Path) -> Result<PathBuf> {
    let m = &chart.metadata;
    if !m.dependencies.is_empty() {
        return Err(Error::invalid(
            "package",
            format!(
                "chart {}-{} has dependencies, which Helm does not store in the release; \
                 upload the chart and pass its package id",
                m.name, m.version
            ),
        ));
    }
    if m.name.is_empty() || safe_relative(&m.name).is_none() || m.name.contains('/') {
        return Err(Error::backend("stored chart has no usable name"));
    }
    let root = parent.join(&m.name);
    std::fs::create_dir_all(&root).map_err(|e| Error::backend(format!("rebuilding chart: {e}")))?;
    let mut meta = m.extra.clone();
    meta.insert("name".into(), m.name.clone().into());
    meta.insert("version".into(), m.version.clone().into());
    if !m.description.is_empty() {
        meta.insert("description".into(), m.description.clone().into());
    }
    if let Some(a) = &m.app_version {
        meta.insert("appVersion".into(), a.clone().into());
    }
    meta.insert(
        "apiVersion".into(),
        m.api_version.clone().unwrap_or_else(|| "v2".into()).into(),
    );
    std::fs::write(root.join("Chart.yaml"), to_json(&meta))
        .and_then(|_| std::fs::write(root.join("values.yaml"), to_json(&chart.values)))
        .map_err(|e| Error::backend(format!("rebuilding chart: {e}")))?;
    if let Some(schema) = chart.schema.as_deref().filter(|s| !s.is_empty()) {
        write_file(
            &root,
            &ChartFile {
                name: "values.schema.json".into(),
                data: schema.to_owned(),
            },
        )?;
    }
    for f in chart.templates.iter().chain(chart.files.iter()) {
        write_file(&root, f)?;
    }
    Ok(root)
}

/// JSON text (which Helm reads as YAML).
fn to_json<T: serde::Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec_pretty(v).unwrap_or_else(|_| b"{}".to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rebuilds_files_and_refuses_escapes() {
        let json = r#"{"metadata":{"name":"web","version":"1.0.0","apiVersion":"v2","type":"application","keywords":["a"]},
            "values":{"replicaCount":1},"schema":"e30=",
            "templates":[{"name":"templates/d.yaml","data":"a2luZDogQ29uZmlnTWFw"}],
            "files":[{"name":"README.md","data":"aGk="}]}"#;
        let chart: ReleaseChart = serde_json::from_str(json).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let root = rebuild(&chart, dir.path()).unwrap();
        let meta: serde_json::Value =
            serde_json::from_slice(&std::fs::read(root.join("Chart.yaml")).unwrap()).unwrap();
        assert_eq!(meta["name"], "web");
        assert_eq!(meta["type"], "application");
        assert_eq!(meta["keywords"][0], "a");
        assert_eq!(
            std::fs::read_to_string(root.join("templates/d.yaml")).unwrap(),
            "kind: ConfigMap"
        );
        assert_eq!(
            std::fs::read_to_string(root.join("values.schema.json")).unwrap(),
            "{}"
        );

        let bad: ReleaseChart = serde_json::from_str(
            r#"{"metadata":{"name":"web","version":"1"},"templates":[{"name":"../x","data":""}]}"#,
        )
        .unwrap();
        assert!(rebuild(&bad, dir.path()).is_err());
        let deps: ReleaseChart = serde_json::from_str(
            r#"{"metadata":{"name":"web","version":"1","dependencies":[{"name":"db"}]}}"#,
        )
        .unwrap();
        assert!(matches!(
            rebuild(&deps, dir.path()),
            Err(Error::InvalidArgument { .. })
        ));
    }
}
