//! A minimal local package store: validated chart archives in one directory.
//!
//! `<name>-<version>.tgz` holds the archive, `<name>-<version>.json` the [`Package`]
//! record. Package ids are `name@version`. Archives are validated with `o2dms-chart` as
//! untrusted input before anything is written; files are written to a temporary name and
//! renamed into place.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use o2dms_core::{
    Error, Package, PackageFilter, PackageId, PackageSource, PackageUpload, Page, Resource, Result,
    Timestamp, Value,
};

/// The local store.
#[derive(Debug, Clone)]
pub struct LocalPackages {
    dir: PathBuf,
}

fn io(what: &str) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::backend(format!("package store: {what}: {e}"))
}

/// Orders versions as SemVer when both parse (pre-releases before releases), else as text.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    match (semver::Version::parse(a), semver::Version::parse(b)) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.cmp(b),
    }
}

fn encode_token(id: &PackageId) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id.as_str())
}

fn decode_token(t: &str) -> Result<(String, String)> {
    let bad = || Error::invalid("continue", "is not a token this adapter issued");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(t)
        .map_err(|_| bad())?;
    let s = String::from_utf8(raw).map_err(|_| bad())?;
    let (n, v) = s.rsplit_once('@').ok_or_else(bad)?;
    Ok((n.to_owned(), v.to_owned()))
}

impl LocalPackages {
    /// A store in `dir` (created if missing).
    pub fn open(dir: impl Into<PathBuf>) -> Result<LocalPackages> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(io("creating the store directory"))?;
        Ok(LocalPackages { dir })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn split(id: &PackageId) -> Result<(String, String)> {
        let (n, v) = id
            .name_version()
            .ok_or_else(|| Error::invalid("package", "must be `name@version`"))?;
        o2dms_chart::validate_chart_name(n)
            .map_err(|r| Error::invalid("package", format!("chart name {r}")))?;
        if v.is_empty() || v.contains(['/', '\\']) || v.starts_with('.') {
            return Err(Error::invalid(
                "package",
                "version is not a valid chart version",
            ));
        }
        Ok((n.to_owned(), v.to_owned()))
    }

    /// The archive of `id`, if stored.
    pub fn archive_path(&self, id: &PackageId) -> Result<Option<PathBuf>> {
        let (n, v) = Self::split(id)?;
        let p = self.dir.join(format!("{n}-{v}.tgz"));
        Ok(p.is_file().then_some(p))
    }

    fn record_path(&self, name: &str, version: &str) -> PathBuf {
        self.dir.join(format!("{name}-{version}.json"))
    }

    fn write_atomic(&self, target: &Path, bytes: &[u8]) -> Result<()> {
        let mut f = tempfile::Builder::new()
            .prefix(".upload-")
            .tempfile_in(&self.dir)
            .map_err(io("creating a temporary file"))?;
        f.write_all(bytes).map_err(io("writing"))?;
        f.as_file().sync_all().map_err(io("syncing"))?;
        f.persist(target)
            .map_err(|e| io("renaming into place")(e.error))?;
        Ok(())
    }

    /// Validates and stores an archive. Uploading the same archive again returns the
    /// stored package; a different archive under an existing `name@version` is AlreadyExists.
    pub fn upload(&self, upload: &PackageUpload) -> Result<Package> {
        let chart = o2dms_chart::validate(&upload.content, &o2dms_chart::Limits::default())?;
        let version = chart.version.to_string();
        if let Some(n) = &upload.expected_name {
            if *n != chart.name {
                return Err(Error::invalid(
                    "expected_name",
                    format!("the archive's chart is `{}`, not `{n}`", chart.name),
                ));
            }
        }
        if let Some(v) = &upload.expected_version {
            if *v != version {
                return Err(Error::invalid(
                    "expected_version",
                    format!("the archive's version is `{version}`, not `{v}`"),
                ));
            }
        }
        let id = PackageId::from_name_version(&chart.name, &version)?;
        if let Some(existing) = self.read_record(&chart.name, &version)? {
            if existing.digest == chart.digest_ref() {
                return Ok(existing);
            }
            return Err(Error::already_exists(Resource::Package, &id));
        }
        let mut extensions = BTreeMap::new();
        extensions.insert(
            "helm.chart".to_owned(),
            Value::from(format!("{}-{version}", chart.name)),
        );
        extensions.insert(
            "helm.apiVersion".to_owned(),
            Value::from(chart.api_version.as_str()),
        );
        if let Some(k) = &chart.kube_version {
            extensions.insert("helm.kubeVersion".to_owned(), Value::from(k.as_str()));
        }
        let package = Package {
            id,
            name: chart.name.clone(),
            version: version.clone(),
            app_version: chart.app_version.clone(),
            description: chart.description.clone().unwrap_or_default(),
            source: PackageSource::Uploaded,
            digest: chart.digest_ref(),
            created_at: Timestamp::now(),
            extensions,
        };
        self.write_atomic(&self.dir.join(chart.package_file_name()), &upload.content)?;
        let record = serde_json::to_vec_pretty(&package)
            .map_err(|e| Error::backend(format!("package store: encoding record: {e}")))?;
        self.write_atomic(&self.record_path(&chart.name, &version), &record)?;
        Ok(package)
    }

    fn read_record(&self, name: &str, version: &str) -> Result<Option<Package>> {
        let p = self.record_path(name, version);
        match std::fs::read(&p) {
            Ok(b) => serde_json::from_slice(&b).map(Some).map_err(|e| {
                Error::backend(format!("package store: {} is corrupt: {e}", p.display()))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io("reading a record")(e)),
        }
    }

    /// One package.
    pub fn get(&self, id: &PackageId) -> Result<Package> {
        let (n, v) = Self::split(id).map_err(|_| Error::not_found(Resource::Package, id))?;
        self.read_record(&n, &v)?
            .ok_or_else(|| Error::not_found(Resource::Package, id))
    }

    fn all(&self) -> Result<Vec<Package>> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(&self.dir).map_err(io("listing"))? {
            let e = e.map_err(io("listing"))?;
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !name.ends_with(".json") {
                continue;
            }
            let b = std::fs::read(e.path()).map_err(io("reading a record"))?;
            if let Ok(p) = serde_json::from_slice::<Package>(&b) {
                out.push(p);
            }
        }
        out.sort_by(|a, b| {
            a.name
                .cmp(&b.name)
                .then_with(|| compare_versions(&a.version, &b.version))
        });
        Ok(out)
    }

    /// Lists packages by name, then version.
    pub fn list(&self, filter: &PackageFilter) -> Result<Page<Package>> {
        filter.validate()?;
        let limit = filter.page.effective_limit()?;
        let mut all = self.all()?;
        if let Some(n) = &filter.name {
            all.retain(|p| p.name == *n);
        }
        let total = all.len() as u64;
        let start = match &filter.page.continue_token {
            Some(t) => {
                let (n, v) = decode_token(t)?;
                all.iter()
                    .position(|p| {
                        p.name
                            .cmp(&n)
                            .then_with(|| compare_versions(&p.version, &v))
                            == Ordering::Greater
                    })
                    .unwrap_or(all.len())
            }
            None => 0,
        };
        let items: Vec<Package> = all.into_iter().skip(start).take(limit + 1).collect();
        let (items, continue_token) = if items.len() > limit {
            let items: Vec<Package> = items.into_iter().take(limit).collect();
            let t = items.last().map(|p| encode_token(&p.id));
            (items, t)
        } else {
            (items, None)
        };
        Ok(Page {
            items,
            continue_token,
            total: Some(total),
        })
    }

    /// Removes a package (the caller checks that no deployment uses it).
    pub fn delete(&self, id: &PackageId) -> Result<()> {
        let p = self.get(id)?;
        let archive = self.dir.join(format!("{}-{}.tgz", p.name, p.version));
        std::fs::remove_file(self.record_path(&p.name, &p.version)).map_err(io("deleting"))?;
        match std::fs::remove_file(archive) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io("deleting")(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart_tgz(name: &str, version: &str) -> Vec<u8> {
        let mut tar = tar_builder();
        let chart_yaml =
            format!("apiVersion: v2\nname: {name}\nversion: {version}\nappVersion: \"1.0\"\n");
        add(
            &mut tar,
            &format!("{name}/Chart.yaml"),
            chart_yaml.as_bytes(),
        );
        add(
            &mut tar,
            &format!("{name}/values.yaml"),
            b"replicaCount: 1\n",
        );
        let gz = tar.into_inner().unwrap();
        gz.finish().unwrap()
    }

    fn tar_builder() -> ::tar::Builder<flate2::write::GzEncoder<Vec<u8>>> {
        ::tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::default(),
        ))
    }

    fn add(t: &mut ::tar::Builder<flate2::write::GzEncoder<Vec<u8>>>, path: &str, data: &[u8]) {
        let mut h = ::tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        t.append_data(&mut h, path, data).unwrap();
    }

    #[test]
    fn upload_list_get_delete() {
        let dir = tempfile::tempdir().unwrap();
        let s = LocalPackages::open(dir.path()).unwrap();
        let p = s
            .upload(&PackageUpload::new(chart_tgz("web", "1.10.0")))
            .unwrap();
        assert_eq!(p.id.as_str(), "web@1.10.0");
        assert!(p.digest.starts_with("sha256:"));
        s.upload(&PackageUpload::new(chart_tgz("web", "1.9.0")))
            .unwrap();
        s.upload(&PackageUpload::new(chart_tgz("api", "0.1.0")))
            .unwrap();
        // same bytes again: the same package; other bytes under the same id: AlreadyExists
        let again = s
            .upload(&PackageUpload::new(chart_tgz("web", "1.10.0")))
            .unwrap();
        assert_eq!(again.digest, p.digest);
        assert!(dir.path().join("web-1.10.0.tgz").is_file());
        assert!(s.archive_path(&p.id).unwrap().is_some());

        let page = s
            .list(&PackageFilter {
                name: None,
                page: o2dms_core::PageRequest::first(2),
            })
            .unwrap();
        let ids: Vec<&str> = page.items.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["api@0.1.0", "web@1.9.0"]);
        assert_eq!(page.total, Some(3));
        let next = s
            .list(&PackageFilter {
                name: None,
                page: o2dms_core::PageRequest {
                    limit: Some(2),
                    continue_token: page.continue_token.clone(),
                },
            })
            .unwrap();
        assert_eq!(next.items.len(), 1);
        assert_eq!(next.items[0].id.as_str(), "web@1.10.0");
        assert_eq!(next.continue_token, None);

        let missing = PackageId::new("web@9.9.9").unwrap();
        assert!(matches!(
            s.get(&missing),
            Err(Error::NotFound {
                resource: Resource::Package,
                ..
            })
        ));
        s.delete(&p.id).unwrap();
        assert!(s.get(&p.id).is_err());
        assert!(!dir.path().join("web-1.10.0.tgz").exists());
    }

    #[test]
    fn rejects_bad_archives_and_expectations() {
        let dir = tempfile::tempdir().unwrap();
        let s = LocalPackages::open(dir.path()).unwrap();
        let e = s
            .upload(&PackageUpload::new(b"not a tarball".to_vec()))
            .unwrap_err();
        assert!(matches!(e, Error::InvalidArgument { .. }), "{e:?}");
        let mut up = PackageUpload::new(chart_tgz("web", "1.0.0"));
        up.expected_version = Some("2.0.0".into());
        assert!(matches!(
            s.upload(&up),
            Err(Error::InvalidArgument { ref field, .. }) if field == "expected_version"
        ));
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "nothing written"
        );
    }
}
