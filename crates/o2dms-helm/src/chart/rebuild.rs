//! Rebuilding a chart archive from a stored release, for upgrading a release whose
//! chart archive the adapter does not have (for example one installed with the helm CLI
//! from a local directory), when `rebuildFromRelease` allows it.
//!
//! A release stores its chart's metadata, default values, schema, templates and files,
//! but not its subcharts: a chart with dependencies cannot be rebuilt and is refused. The
//! record is only as trustworthy as whoever can write Secrets in its namespace, so the
//! rebuilt archive goes through the same validation as an upload before helm sees it.

use std::collections::BTreeMap;
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

/// A chart file's bytes, at its safe relative path.
fn chart_file(f: &ChartFile) -> Result<(PathBuf, Vec<u8>)> {
    let rel = safe_relative(&f.name).ok_or_else(|| {
        Error::backend(format!("stored chart has an unsafe file name {:?}", f.name))
    })?;
    let data = base64::engine::general_purpose::STANDARD
        .decode(f.data.as_bytes())
        .map_err(|e| Error::backend(format!("stored chart file {}: {e}", f.name)))?;
    Ok((rel, data))
}

/// Packs `chart` as a chart archive, validates it exactly as an upload is validated
/// ([`o2dms_chart::validate`] with the default limits, then the same name and version as
/// the record), and writes it under `parent`; returns the archive's path. helm is given
/// these validated bytes, never a directory.
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
    let archive = pack(chart)?;
    let refused = |reason: String| {
        Error::invalid(
            "package",
            format!(
                "chart {} {} rebuilt from the release record is refused as an upload would \
                 be: {reason}; upload a valid chart and pass its package id",
                m.name, m.version
            ),
        )
    };
    let checked = o2dms_chart::validate(&archive, &o2dms_chart::Limits::default())
        .map_err(|e| refused(e.to_string()))?;
    if checked.name != m.name || checked.version.to_string() != m.version {
        return Err(refused(format!(
            "it validates as {} {}",
            checked.name, checked.version
        )));
    }
    let path = parent.join(checked.package_file_name());
    std::fs::write(&path, &archive)
        .map_err(|e| Error::backend_from(format!("writing {}", path.display()), e))?;
    Ok(path)
}

/// The chart as a `.tgz` in memory: `<name>/Chart.yaml`, `values.yaml`, the schema, the
/// templates and files (a later file of the same path replaces an earlier one, as writing
/// them to disk would).
fn pack(chart: &ReleaseChart) -> Result<Vec<u8>> {
    let m = &chart.metadata;
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
    let mut files: BTreeMap<PathBuf, Vec<u8>> = BTreeMap::new();
    files.insert("Chart.yaml".into(), to_json(&meta));
    files.insert("values.yaml".into(), to_json(&chart.values));
    if let Some(schema) = chart.schema.as_deref().filter(|s| !s.is_empty()) {
        let (rel, data) = chart_file(&ChartFile {
            name: "values.schema.json".into(),
            data: schema.to_owned(),
        })?;
        files.insert(rel, data);
    }
    for f in chart.templates.iter().chain(chart.files.iter()) {
        let (rel, data) = chart_file(f)?;
        files.insert(rel, data);
    }
    let packing = |e: std::io::Error| Error::backend_from("packing the rebuilt chart", e);
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::default(),
    ));
    for (rel, data) in &files {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, Path::new(&m.name).join(rel), data.as_slice())
            .map_err(packing)?;
    }
    tar.into_inner().and_then(|gz| gz.finish()).map_err(packing)
}

/// JSON text (which Helm reads as YAML).
fn to_json<T: serde::Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec_pretty(v).unwrap_or_else(|_| b"{}".to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The archive's files: path → content.
    fn unpack(path: &Path) -> BTreeMap<String, String> {
        let gz = flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap());
        let mut out = BTreeMap::new();
        for e in tar::Archive::new(gz).entries().unwrap() {
            let mut e = e.unwrap();
            let name = e.path().unwrap().display().to_string();
            let mut text = String::new();
            std::io::Read::read_to_string(&mut e, &mut text).unwrap();
            out.insert(name, text);
        }
        out
    }

    fn refused(chart: &ReleaseChart, dir: &Path) -> String {
        match rebuild(chart, dir) {
            Err(Error::InvalidArgument { field, reason }) => {
                assert_eq!(field, "package");
                reason
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rebuilds_a_validated_archive_and_refuses_escapes() {
        let json = r#"{"metadata":{"name":"web","version":"1.0.0","apiVersion":"v2","type":"application","keywords":["a"]},
            "values":{"replicaCount":1},"schema":"e30=",
            "templates":[{"name":"templates/d.yaml","data":"a2luZDogQ29uZmlnTWFw"}],
            "files":[{"name":"README.md","data":"aGk="}]}"#;
        let chart: ReleaseChart = serde_json::from_str(json).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = rebuild(&chart, dir.path()).unwrap();
        assert_eq!(path, dir.path().join("web-1.0.0.tgz"));
        let checked = o2dms_chart::validate(&std::fs::read(&path).unwrap(), &Default::default())
            .expect("an archive an upload would accept");
        assert_eq!(
            (checked.name.as_str(), checked.version.to_string()),
            ("web", "1.0.0".into())
        );
        let files = unpack(&path);
        let meta: serde_json::Value = serde_json::from_str(&files["web/Chart.yaml"]).unwrap();
        assert_eq!(meta["name"], "web");
        assert_eq!(meta["type"], "application");
        assert_eq!(meta["keywords"][0], "a");
        assert_eq!(files["web/templates/d.yaml"], "kind: ConfigMap");
        assert_eq!(files["web/values.schema.json"], "{}");
        assert_eq!(files["web/README.md"], "hi");

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

    #[test]
    fn a_record_an_upload_would_refuse_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        // Helm installs these; an upload of them is refused, so is their rebuild.
        let loose_version: ReleaseChart =
            serde_json::from_str(r#"{"metadata":{"name":"web","version":"v1.0"}}"#).unwrap();
        let reason = refused(&loose_version, dir.path());
        assert!(
            reason.contains("chart web v1.0 rebuilt from the release record"),
            "{reason}"
        );
        let upper: ReleaseChart =
            serde_json::from_str(r#"{"metadata":{"name":"Web","version":"1.0.0"}}"#).unwrap();
        refused(&upper, dir.path());
        let big = base64::engine::general_purpose::STANDARD.encode(vec![b'#'; 6 * 1024 * 1024]);
        let huge: ReleaseChart = serde_json::from_str(&format!(
            r#"{{"metadata":{{"name":"web","version":"1.0.0"}},"templates":[{{"name":"templates/big.yaml","data":"{big}"}}]}}"#
        ))
        .unwrap();
        let reason = refused(&huge, dir.path());
        assert!(reason.contains("templates/big.yaml"), "{reason}");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "nothing written"
        );
    }
}
