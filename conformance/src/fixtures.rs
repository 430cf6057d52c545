//! Fixture charts: the suite's six charts, embedded in the library at build time (from
//! this crate's `fixtures/charts/<dir>`, see build.rs) or read from chart directories on
//! disk, packaged in memory; and hostile archives.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;
use o2dms_core::{DmsAdapter, ErrorKind, PackageFilter, PackageId, PackageUpload, PageRequest};
use serde::{Deserialize, Serialize};

mod embedded {
    /// A chart's files: path relative to the chart directory (`/`-separated), contents.
    pub(crate) type ChartFiles = &'static [(&'static str, &'static [u8])];

    include!(concat!(env!("OUT_DIR"), "/embedded_charts.rs"));
}

/// A fixture chart's role in the catalogue. Each is a chart directory named
/// [`Fixture::dir`], embedded in the library ([`Fixture::embedded_chart`]) from
/// `conformance/fixtures/charts/<dir>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fixture {
    /// `web`: chart `web` 1.x, replicas at `replicaCount`.
    Web,
    /// `web-v2`: chart `web` 2.0.0, the same values keys.
    WebV2,
    /// `custom-key`: replicas at `server.replicas`.
    CustomKey,
    /// `ignores-scale`: replicas hard-coded to 1.
    IgnoresScale,
    /// `never-ready`: an image that never pulls.
    NeverReady,
    /// `hook`: a pre-install hook Job.
    Hook,
}

impl Fixture {
    /// Every fixture.
    pub const ALL: [Fixture; 6] = [
        Fixture::Web,
        Fixture::WebV2,
        Fixture::CustomKey,
        Fixture::IgnoresScale,
        Fixture::NeverReady,
        Fixture::Hook,
    ];

    /// Its directory under the fixtures directory.
    pub fn dir(self) -> &'static str {
        match self {
            Fixture::Web => "web",
            Fixture::WebV2 => "web-v2",
            Fixture::CustomKey => "custom-key",
            Fixture::IgnoresScale => "ignores-scale",
            Fixture::NeverReady => "never-ready",
            Fixture::Hook => "hook",
        }
    }

    /// The files of its embedded chart: path relative to the chart directory
    /// (`/`-separated) and contents.
    fn embedded_files(self) -> Option<embedded::ChartFiles> {
        embedded::EMBEDDED_CHARTS
            .iter()
            .find(|(dir, _)| *dir == self.dir())
            .map(|(_, files)| *files)
    }

    /// Its chart as embedded in the library, packaged: the same archive bytes as
    /// [`package_chart_dir`] of the directory it was embedded from.
    ///
    /// # Panics
    /// Never for a library built from a complete source tree (a test checks that every
    /// fixture is embedded and packages).
    pub fn embedded_chart(self) -> FixtureChart {
        FixtureSource::Embedded
            .chart(self)
            .unwrap_or_else(|e| panic!("the embedded fixture chart `{self}`: {e}"))
    }
}

impl fmt::Display for Fixture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.dir())
    }
}

/// The environment variable naming a fixture charts directory that replaces the
/// embedded charts when [`Settings::fixtures_dir`](crate::Settings::fixtures_dir) is `None`.
pub const FIXTURES_ENV: &str = "O2DMS_FIXTURES";

/// Where a run's fixture charts come from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FixtureSource {
    /// The charts embedded in the library at build time (the default).
    Embedded,
    /// Chart directories on disk, one per fixture, named as [`Fixture::dir`].
    Dir(PathBuf),
}

impl FixtureSource {
    /// What a run with [`Settings::fixtures_dir`](crate::Settings::fixtures_dir) `None`
    /// uses: the directory in `$O2DMS_FIXTURES` if it is set and not empty, else the
    /// embedded charts.
    pub fn from_env() -> FixtureSource {
        match std::env::var_os(FIXTURES_ENV) {
            Some(dir) if !dir.is_empty() => FixtureSource::Dir(PathBuf::from(dir)),
            _ => FixtureSource::Embedded,
        }
    }

    /// `Some(dir)`: that directory; `None`: [`FixtureSource::from_env`].
    pub fn resolve(dir: Option<&Path>) -> FixtureSource {
        match dir {
            Some(dir) => FixtureSource::Dir(dir.to_path_buf()),
            None => FixtureSource::from_env(),
        }
    }

    /// Where the chart of `fixture` is, for messages: its directory, or
    /// `embedded:<dir>`.
    pub fn location(&self, fixture: Fixture) -> String {
        match self {
            FixtureSource::Embedded => format!("embedded:{}", fixture.dir()),
            FixtureSource::Dir(dir) => dir.join(fixture.dir()).display().to_string(),
        }
    }

    /// The chart of `fixture`, packaged (same bytes from either source for the same files).
    pub fn chart(&self, fixture: Fixture) -> io::Result<FixtureChart> {
        match self {
            FixtureSource::Embedded => {
                let files = fixture
                    .embedded_files()
                    .ok_or_else(|| not_embedded(fixture))?;
                package_chart_files(
                    &self.location(fixture),
                    files
                        .iter()
                        .map(|(p, d)| ((*p).to_owned(), Cow::Borrowed(*d)))
                        .collect(),
                )
            }
            FixtureSource::Dir(dir) => package_chart_dir(&dir.join(fixture.dir())),
        }
    }

    /// One file of the chart of `fixture`, by its `/`-separated path relative to the
    /// chart directory (`values.yaml`); `Ok(None)` when the chart has no such file.
    pub fn file(&self, fixture: Fixture, path: &str) -> io::Result<Option<Cow<'static, [u8]>>> {
        match self {
            FixtureSource::Embedded => {
                let files = fixture
                    .embedded_files()
                    .ok_or_else(|| not_embedded(fixture))?;
                Ok(files
                    .iter()
                    .find(|(p, _)| *p == path)
                    .map(|(_, d)| Cow::Borrowed(*d)))
            }
            FixtureSource::Dir(dir) => match std::fs::read(dir.join(fixture.dir()).join(path)) {
                Ok(data) => Ok(Some(Cow::Owned(data))),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e),
            },
        }
    }
}

fn not_embedded(fixture: Fixture) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!("fixture chart `{fixture}` is not embedded in this build"),
    )
}

impl fmt::Display for FixtureSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FixtureSource::Embedded => {
                f.write_str("the fixture charts embedded in o2dms-conformance")
            }
            FixtureSource::Dir(dir) => write!(f, "the fixture charts in {}", dir.display()),
        }
    }
}

impl From<PathBuf> for FixtureSource {
    fn from(dir: PathBuf) -> Self {
        FixtureSource::Dir(dir)
    }
}

impl From<&PathBuf> for FixtureSource {
    fn from(dir: &PathBuf) -> Self {
        FixtureSource::Dir(dir.clone())
    }
}

impl From<&Path> for FixtureSource {
    fn from(dir: &Path) -> Self {
        FixtureSource::Dir(dir.to_path_buf())
    }
}

/// As [`Settings::fixtures_dir`](crate::Settings::fixtures_dir) means it: `None` is
/// [`FixtureSource::from_env`].
impl From<&Option<PathBuf>> for FixtureSource {
    fn from(dir: &Option<PathBuf>) -> Self {
        FixtureSource::resolve(dir.as_deref())
    }
}

/// `None` is [`FixtureSource::from_env`].
impl From<Option<&Path>> for FixtureSource {
    fn from(dir: Option<&Path>) -> Self {
        FixtureSource::resolve(dir)
    }
}

impl From<&FixtureSource> for FixtureSource {
    fn from(source: &FixtureSource) -> Self {
        source.clone()
    }
}

/// A fixture chart read from disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixtureChart {
    /// Chart name from `Chart.yaml`.
    pub name: String,
    /// Chart version from `Chart.yaml`.
    pub version: String,
    /// The `.tgz`, top-level directory = chart name.
    pub archive: Vec<u8>,
}

/// The name and version of the chart in `dir`, from its `Chart.yaml` as o2dms-chart
/// reads and checks it.
pub fn chart_name_version(dir: &Path) -> io::Result<(String, String)> {
    let path = dir.join("Chart.yaml");
    name_version(&path.display().to_string(), &std::fs::read(&path)?)
}

fn name_version(path: &str, chart_yaml: &[u8]) -> io::Result<(String, String)> {
    let meta = o2dms_chart::parse_chart_yaml(path, chart_yaml)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
    Ok((meta.name, meta.version.to_string()))
}

/// Packages a chart directory into a `.tgz` in memory, entries under `<chart name>/`,
/// in name order with fixed metadata, so the same directory gives the same bytes.
pub fn package_chart_dir(dir: &Path) -> io::Result<FixtureChart> {
    let mut files = Vec::new();
    collect_files(dir, dir, &mut files)?;
    let mut entries = Vec::with_capacity(files.len());
    for rel in files {
        let data = std::fs::read(dir.join(&rel))?;
        entries.push((rel.to_string_lossy().replace('\\', "/"), Cow::Owned(data)));
    }
    package_chart_files(&dir.display().to_string(), entries)
}

/// Packages a chart's files (path relative to the chart directory, `/`-separated) as
/// [`package_chart_dir`] does: sorted by path components, under `<chart name>/`.
/// `location` names the chart in errors.
fn package_chart_files(
    location: &str,
    mut files: Vec<(String, Cow<'_, [u8]>)>,
) -> io::Result<FixtureChart> {
    let chart_yaml = files
        .iter()
        .find(|(p, _)| p == "Chart.yaml")
        .map(|(_, d)| d)
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("{location}/Chart.yaml: no such file"),
            )
        })?;
    let (name, version) = name_version(&format!("{location}/Chart.yaml"), chart_yaml)?;
    files.sort_by(|(a, _), (b, _)| Path::new(a).cmp(Path::new(b)));
    let entries: Vec<(String, &[u8])> = files
        .iter()
        .map(|(rel, data)| (format!("{name}/{rel}"), &data[..]))
        .collect();
    let archive = tgz(entries.iter().map(|(p, d)| (p.as_str(), *d)))?;
    Ok(FixtureChart {
        name,
        version,
        archive,
    })
}

fn collect_files(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if entry.file_type()?.is_dir() {
            collect_files(root, &path, out)?;
        } else if entry.file_type()?.is_file() {
            out.push(path.strip_prefix(root).unwrap_or(&path).to_path_buf());
        }
    }
    Ok(())
}

fn header(kind: tar::EntryType, size: u64) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h
}

/// Writes `path` into the header's name field as-is (no checks), for hostile archives.
fn raw_name(h: &mut tar::Header, path: &str) {
    let name = &mut h.as_old_mut().name;
    name.fill(0);
    name[..path.len()].copy_from_slice(path.as_bytes());
}

/// A gzipped tar of regular files.
pub fn tgz<'a>(files: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> io::Result<Vec<u8>> {
    let mut b = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::default()));
    for (path, data) in files {
        let mut h = header(tar::EntryType::Regular, data.len() as u64);
        raw_name(&mut h, path);
        h.set_cksum();
        b.append(&h, data)?;
    }
    b.into_inner()?.finish()
}

/// A small valid chart named `name` at `version`: one Deployment of the pause image,
/// replicas at `replicaCount`.
pub fn tiny_chart(name: &str, version: &str) -> Vec<u8> {
    let chart = format!(
        "apiVersion: v2\nname: {name}\nversion: {version}\nappVersion: \"1.0\"\ndescription: o2dms conformance test chart\ntype: application\n"
    );
    let values = "replicaCount: 1\nimage:\n  repository: registry.k8s.io/pause\n  tag: \"3.9\"\n";
    let files = [
        (format!("{name}/Chart.yaml"), chart.into_bytes()),
        (format!("{name}/values.yaml"), values.as_bytes().to_vec()),
        (
            format!("{name}/templates/deployment.yaml"),
            TINY_DEPLOYMENT.as_bytes().to_vec(),
        ),
    ];
    tgz(files.iter().map(|(p, d)| (p.as_str(), d.as_slice())))
        .expect("writing to memory does not fail")
}

const TINY_DEPLOYMENT: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
  labels:
    app.kubernetes.io/instance: {{ .Release.Name }}
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels:
      app.kubernetes.io/instance: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app.kubernetes.io/instance: {{ .Release.Name }}
    spec:
      containers:
        - name: main
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
"#;

/// Hostile or broken archives that upload must reject with InvalidArgument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hostile {
    /// An entry `<name>/../../evil`.
    PathTraversal,
    /// An entry `/etc/evil`.
    AbsolutePath,
    /// A symlink entry pointing at `/etc/passwd`.
    Symlink,
    /// A hard link entry.
    HardLink,
    /// No `Chart.yaml` at all.
    MissingChartYaml,
    /// A `Chart.yaml` that is not YAML with a name and version.
    MalformedChartYaml,
    /// Bytes that are not gzip.
    NotGzip,
    /// A small archive that inflates to [`Settings::bomb_bytes`](crate::Settings::bomb_bytes).
    DecompressionBomb,
}

/// Builds a hostile archive for a chart named `name` (version 0.1.0).
pub fn hostile_archive(kind: Hostile, name: &str, bomb_bytes: u64) -> Vec<u8> {
    let chart = format!("apiVersion: v2\nname: {name}\nversion: 0.1.0\n");
    let chart_path = format!("{name}/Chart.yaml");
    let write = |extra: Vec<tar::Header>, body: &[u8]| -> Vec<u8> {
        let mut b = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::fast()));
        let mut h = header(tar::EntryType::Regular, chart.len() as u64);
        raw_name(&mut h, &chart_path);
        h.set_cksum();
        b.append(&h, chart.as_bytes()).expect("in memory");
        for h in extra {
            let data: &[u8] = if h.entry_type().is_file() { body } else { &[] };
            b.append(&h, data).expect("in memory");
        }
        b.into_inner()
            .expect("in memory")
            .finish()
            .expect("in memory")
    };
    let entry = |kind: tar::EntryType, path: &str, size: u64| {
        let mut h = header(kind, size);
        raw_name(&mut h, path);
        h
    };
    match kind {
        Hostile::PathTraversal => {
            let mut h = entry(tar::EntryType::Regular, &format!("{name}/../../evil"), 4);
            h.set_cksum();
            write(vec![h], b"evil")
        }
        Hostile::AbsolutePath => {
            let mut h = entry(tar::EntryType::Regular, "/etc/o2dms-evil", 4);
            h.set_cksum();
            write(vec![h], b"evil")
        }
        Hostile::Symlink | Hostile::HardLink => {
            let t = if kind == Hostile::Symlink {
                tar::EntryType::Symlink
            } else {
                tar::EntryType::Link
            };
            let mut h = entry(t, &format!("{name}/templates/passwd.yaml"), 0);
            let target = b"/etc/passwd";
            let link = &mut h.as_old_mut().linkname;
            link[..target.len()].copy_from_slice(target);
            h.set_cksum();
            write(vec![h], b"")
        }
        Hostile::MissingChartYaml => {
            let values = b"replicaCount: 1\n";
            tgz([(format!("{name}/values.yaml").as_str(), &values[..])]).expect("in memory")
        }
        Hostile::MalformedChartYaml => {
            let bad = b"apiVersion: v2\nname: [unclosed\nversion: {\n\t- :\n";
            tgz([(format!("{name}/Chart.yaml").as_str(), &bad[..])]).expect("in memory")
        }
        Hostile::NotGzip => {
            b"this is not a gzip archive, just text pretending to be a chart".repeat(8)
        }
        Hostile::DecompressionBomb => bomb(name, &chart, bomb_bytes),
    }
}

/// A gzipped tar whose second entry is `bytes` (rounded up to MiB) of spaces, built
/// without compressing them all: one MiB is deflated once, flushed to a byte boundary,
/// and its compressed form repeated; the gzip CRC is combined the same way.
fn bomb(name: &str, chart: &str, bytes: u64) -> Vec<u8> {
    const CHUNK: usize = 1024 * 1024;
    let chunks = bytes.div_ceil(CHUNK as u64).max(1);
    let mut prefix = Vec::new();
    let mut h = header(tar::EntryType::Regular, chart.len() as u64);
    raw_name(&mut h, &format!("{name}/Chart.yaml"));
    h.set_cksum();
    prefix.extend_from_slice(h.as_bytes());
    prefix.extend_from_slice(chart.as_bytes());
    prefix.resize(prefix.len().div_ceil(512) * 512, 0);
    let mut h = header(tar::EntryType::Regular, chunks * CHUNK as u64);
    raw_name(&mut h, &format!("{name}/templates/spaces.yaml"));
    h.set_cksum();
    prefix.extend_from_slice(h.as_bytes());
    let chunk = vec![b' '; CHUNK];
    let trailer = [0u8; 1024];

    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    out.extend(deflate_piece(&prefix, flate2::FlushCompress::Full));
    let packed = deflate_piece(&chunk, flate2::FlushCompress::Full);
    for _ in 0..chunks {
        out.extend_from_slice(&packed);
    }
    out.extend(deflate_piece(&trailer, flate2::FlushCompress::Finish));

    let mut crc = flate2::Crc::new();
    crc.update(&prefix);
    let mut chunk_crc = flate2::Crc::new();
    chunk_crc.update(&chunk);
    for _ in 0..chunks {
        crc.combine(&chunk_crc);
    }
    let mut trailer_crc = flate2::Crc::new();
    trailer_crc.update(&trailer);
    crc.combine(&trailer_crc);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&crc.amount().to_le_bytes());
    out
}

/// Raw deflate of `data` as a fresh stream, ended by `flush`.
fn deflate_piece(data: &[u8], flush: flate2::FlushCompress) -> Vec<u8> {
    let mut c = flate2::Compress::new(Compression::best(), false);
    let mut out = Vec::with_capacity(data.len() / 4 + 1024);
    loop {
        let consumed = usize::try_from(c.total_in()).unwrap_or(usize::MAX);
        let status = c
            .compress_vec(&data[consumed..], &mut out, flush)
            .expect("deflate in memory");
        let all_in = usize::try_from(c.total_in()).unwrap_or(0) == data.len();
        let finished =
            flush != flate2::FlushCompress::Finish || status == flate2::Status::StreamEnd;
        if all_in && out.len() < out.capacity() && finished {
            return out;
        }
        out.reserve(64 * 1024);
    }
}

/// The fixture packages of one run: the id of each role, or why it is unavailable.
#[derive(Debug, Clone, Default)]
pub struct Fixtures {
    ids: BTreeMap<Fixture, Result<PackageId, String>>,
    uploaded: Vec<PackageId>,
}

impl Fixtures {
    /// Fixtures with these ids (for tests and custom harnesses).
    pub fn from_ids(ids: impl IntoIterator<Item = (Fixture, PackageId)>) -> Self {
        Fixtures {
            ids: ids.into_iter().map(|(f, id)| (f, Ok(id))).collect(),
            uploaded: Vec::new(),
        }
    }

    /// The package id of `fixture`, or why it is unavailable.
    pub fn get(&self, fixture: Fixture) -> Result<&PackageId, String> {
        match self.ids.get(&fixture) {
            Some(Ok(id)) => Ok(id),
            Some(Err(why)) => Err(why.clone()),
            None => Err(format!("fixture `{fixture}` was not prepared")),
        }
    }

    /// Packages this run uploaded (deleted again at the end).
    pub fn uploaded(&self) -> &[PackageId] {
        &self.uploaded
    }

    /// Uploads each fixture chart of `source` when the adapter has `package_upload`, else
    /// looks each one up by chart name and version (the adapter must already have them).
    ///
    /// `source`: a [`FixtureSource`], a directory (`&Path`, `PathBuf`), or
    /// [`Settings::fixtures_dir`](crate::Settings::fixtures_dir) (`&Option<PathBuf>`: `None`
    /// is `$O2DMS_FIXTURES` or the embedded charts).
    pub async fn prepare(adapter: &dyn DmsAdapter, source: impl Into<FixtureSource>) -> Fixtures {
        let source = source.into();
        let upload = adapter.capabilities().package_upload;
        let mut out = Fixtures::default();
        for fixture in Fixture::ALL {
            let chart = match source.chart(fixture) {
                Ok(c) => c,
                Err(e) => {
                    out.ids.insert(
                        fixture,
                        Err(format!(
                            "fixture chart `{}` unreadable: {e}",
                            source.location(fixture)
                        )),
                    );
                    continue;
                }
            };
            let id = if upload {
                let mut req = PackageUpload::new(chart.archive.clone());
                req.expected_name = Some(chart.name.clone());
                req.expected_version = Some(chart.version.clone());
                match adapter.upload_package(req).await {
                    Ok(p) => {
                        out.uploaded.push(p.id.clone());
                        Ok(p.id)
                    }
                    Err(e)
                        if matches!(
                            e.kind(),
                            ErrorKind::AlreadyExists | ErrorKind::Unsupported
                        ) =>
                    {
                        find(adapter, &chart.name, &chart.version)
                            .await
                            .map_err(|why| format!("{why} (upload said: {e})"))
                    }
                    Err(e) => Err(format!(
                        "uploading fixture `{fixture}` ({}@{}) failed: {e}",
                        chart.name, chart.version
                    )),
                }
            } else {
                find(adapter, &chart.name, &chart.version).await
            };
            out.ids.insert(fixture, id);
        }
        out
    }
}

async fn find(adapter: &dyn DmsAdapter, name: &str, version: &str) -> Result<PackageId, String> {
    let filter = PackageFilter::named(name).page(PageRequest::first(o2dms_core::MAX_PAGE_SIZE));
    match adapter.list_packages(&filter).await {
        Ok(page) => page
            .items
            .into_iter()
            .find(|p| p.name == name && p.version == version)
            .map(|p| p.id)
            .ok_or_else(|| format!("the adapter has no package {name} {version}")),
        Err(e) if e.kind() == ErrorKind::Unsupported => {
            PackageId::from_name_version(name, version).map_err(|e| e.to_string())
        }
        Err(e) => Err(format!("listing packages named {name} failed: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn entries(archive: &[u8]) -> Vec<(String, u64)> {
        let mut a = tar::Archive::new(flate2::read::GzDecoder::new(archive));
        a.entries()
            .unwrap()
            .map(|e| {
                let mut e = e.unwrap();
                let path = String::from_utf8_lossy(&e.path_bytes()).into_owned();
                let mut n = 0u64;
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    let r = e.read(&mut buf).unwrap();
                    if r == 0 {
                        break;
                    }
                    n += r as u64;
                }
                (path, n)
            })
            .collect()
    }

    #[test]
    fn bomb_is_a_valid_gzip_tar_of_the_asked_size() {
        let archive = hostile_archive(Hostile::DecompressionBomb, "boom", 3 * 1024 * 1024);
        assert!(archive.len() < 64 * 1024, "{} bytes", archive.len());
        let e = entries(&archive);
        assert_eq!(e[0].0, "boom/Chart.yaml");
        assert_eq!(
            e[1],
            ("boom/templates/spaces.yaml".to_owned(), 3 * 1024 * 1024)
        );
        // The CRC and length are right: reading to the end checks them.
        let mut all = Vec::new();
        flate2::read::GzDecoder::new(&archive[..])
            .read_to_end(&mut all)
            .unwrap();
    }

    #[test]
    fn hostile_entries_are_as_named() {
        let e = entries(&hostile_archive(Hostile::PathTraversal, "x", 0));
        assert_eq!(e[1].0, "x/../../evil");
        let e = entries(&hostile_archive(Hostile::AbsolutePath, "x", 0));
        assert_eq!(e[1].0, "/etc/o2dms-evil");
        let link = hostile_archive(Hostile::Symlink, "x", 0);
        let mut a = tar::Archive::new(flate2::read::GzDecoder::new(&link[..]));
        let kinds: Vec<tar::EntryType> = a
            .entries()
            .unwrap()
            .map(|e| e.unwrap().header().entry_type())
            .collect();
        assert_eq!(kinds, [tar::EntryType::Regular, tar::EntryType::Symlink]);
    }

    #[test]
    fn fixture_charts_package_with_their_chart_name() {
        let dir = on_disk();
        for f in Fixture::ALL {
            let chart = package_chart_dir(&dir.join(f.dir())).unwrap();
            let want = if f == Fixture::WebV2 { "web" } else { f.dir() };
            assert_eq!(chart.name, want);
            let e = entries(&chart.archive);
            assert!(
                e.iter().all(|(p, _)| p.starts_with(&format!("{want}/"))),
                "{e:?}"
            );
            assert!(e.iter().any(|(p, _)| p == &format!("{want}/Chart.yaml")));
            assert_eq!(
                package_chart_dir(&dir.join(f.dir())).unwrap(),
                chart,
                "deterministic"
            );
        }
    }

    /// The directory the charts were embedded from.
    fn on_disk() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/charts")
    }

    #[test]
    fn embedded_charts_are_the_charts_on_disk() {
        // Every chart directory is embedded, and nothing else.
        let mut on_disk_dirs: Vec<String> = std::fs::read_dir(on_disk())
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| e.path().join("Chart.yaml").is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        on_disk_dirs.sort();
        let embedded_dirs: Vec<&str> = embedded::EMBEDDED_CHARTS.iter().map(|(d, _)| *d).collect();
        assert_eq!(embedded_dirs, on_disk_dirs);
        let mut fixture_dirs: Vec<&str> = Fixture::ALL.iter().map(|f| f.dir()).collect();
        fixture_dirs.sort();
        assert_eq!(embedded_dirs, fixture_dirs, "one chart per fixture");

        for f in Fixture::ALL {
            let disk = package_chart_dir(&on_disk().join(f.dir())).unwrap();
            assert_eq!(
                f.embedded_chart(),
                disk,
                "{f}: same name, version and archive bytes"
            );
            assert_eq!(FixtureSource::Embedded.chart(f).unwrap(), disk);
            assert_eq!(FixtureSource::Dir(on_disk()).chart(f).unwrap(), disk);
            for file in ["Chart.yaml", "values.yaml", "templates/deployment.yaml"] {
                let want = std::fs::read(on_disk().join(f.dir()).join(file)).unwrap();
                let embedded = FixtureSource::Embedded.file(f, file).unwrap().unwrap();
                assert_eq!(&embedded[..], &want[..], "{f}/{file}");
                let dir = FixtureSource::Dir(on_disk())
                    .file(f, file)
                    .unwrap()
                    .unwrap();
                assert_eq!(&dir[..], &want[..], "{f}/{file}");
            }
            assert_eq!(
                FixtureSource::Embedded.file(f, "missing.yaml").unwrap(),
                None
            );
            assert_eq!(
                FixtureSource::Dir(on_disk())
                    .file(f, "missing.yaml")
                    .unwrap(),
                None
            );
        }
    }

    #[test]
    fn packaging_order_is_by_path_components() {
        // `templates/x` sorts before `templates-extra/x` (component order, as a directory
        // walk sorted by path gives), although `-` sorts before `/` as bytes.
        let files = vec![
            (
                "templates-extra/a.yaml".to_owned(),
                Cow::Borrowed(&b"a"[..]),
            ),
            ("templates/b.yaml".to_owned(), Cow::Borrowed(&b"b"[..])),
            (
                "Chart.yaml".to_owned(),
                Cow::Borrowed(&b"apiVersion: v2\nname: c\nversion: 1.0.0\n"[..]),
            ),
        ];
        let chart = package_chart_files("test", files).unwrap();
        let names: Vec<String> = entries(&chart.archive)
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        assert_eq!(
            names,
            [
                "c/Chart.yaml",
                "c/templates/b.yaml",
                "c/templates-extra/a.yaml"
            ]
        );
    }

    #[test]
    fn fixture_source_resolves() {
        let dir = PathBuf::from("/somewhere");
        assert_eq!(
            FixtureSource::resolve(Some(&dir)),
            FixtureSource::Dir(dir.clone())
        );
        assert_eq!(
            FixtureSource::from(&Some(dir.clone())),
            FixtureSource::Dir(dir.clone())
        );
        assert_eq!(FixtureSource::from(dir.as_path()), FixtureSource::Dir(dir));
        // `None` follows the environment, which this test does not change.
        assert_eq!(FixtureSource::resolve(None), FixtureSource::from_env());
        assert_eq!(
            FixtureSource::from(&None::<PathBuf>),
            FixtureSource::from_env()
        );
        assert_eq!(
            FixtureSource::Embedded.location(Fixture::WebV2),
            "embedded:web-v2"
        );
    }

    #[test]
    fn chart_yaml_fields() {
        let dir = tempfile::tempdir().unwrap();
        let write = |y: &str| std::fs::write(dir.path().join("Chart.yaml"), y).unwrap();
        write("apiVersion: v2\nname: \"web\" # the name\nversion: 2.0.0\n");
        assert_eq!(
            chart_name_version(dir.path()).unwrap(),
            ("web".into(), "2.0.0".into())
        );
        write("name: x\n");
        let e = chart_name_version(dir.path()).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert!(e.to_string().contains("apiVersion"), "{e}");
    }
}
