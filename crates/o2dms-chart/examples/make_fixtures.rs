//! Writes the hostile (and one good) chart archives to a directory, deterministically:
//! fixed mtimes, owners and modes, gzip without a timestamp or file name, and a fixed
//! pseudo-random generator, so rerunning produces byte-identical files.
//!
//! ```text
//! cargo run -p o2dms-chart --example make_fixtures -- fixtures/archives
//! ```
//!
//! Headers the `tar` builder refuses to write (`..` paths, absolute paths) are written by
//! setting the header's name bytes directly.

use std::io::Write;
use std::path::Path;

use flate2::write::GzEncoder;
use flate2::{Compression, GzBuilder};
use tar::{EntryType, Header};

/// 2026-01-01T00:00:00Z.
const MTIME: u64 = 1_767_225_600;

const CHART_YAML: &str = "apiVersion: v2
name: good
description: A small well-formed chart for o2dms tests
type: application
version: 0.1.0
appVersion: \"1.16.0\"
";

const VALUES_YAML: &str = "replicaCount: 1
image:
  repository: nginx
  tag: \"1.27\"
service:
  type: ClusterIP
  port: 80
";

const DEPLOYMENT_YAML: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels:
      app: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app: {{ .Release.Name }}
    spec:
      containers:
        - name: web
          image: \"{{ .Values.image.repository }}:{{ .Values.image.tag }}\"
";

/// A tar stream being built, gzipped deterministically at the end.
struct Tgz {
    builder: tar::Builder<Vec<u8>>,
}

impl Tgz {
    fn new() -> Self {
        let mut builder = tar::Builder::new(Vec::new());
        builder.mode(tar::HeaderMode::Deterministic);
        Tgz { builder }
    }

    fn header(kind: EntryType, size: u64) -> Header {
        let mut h = Header::new_gnu();
        h.set_entry_type(kind);
        h.set_size(size);
        h.set_mode(if kind == EntryType::Directory {
            0o755
        } else {
            0o644
        });
        h.set_mtime(MTIME);
        h.set_uid(0);
        h.set_gid(0);
        h
    }

    fn dir(mut self, path: &str) -> Self {
        let mut h = Self::header(EntryType::Directory, 0);
        self.builder
            .append_data(&mut h, path, std::io::empty())
            .unwrap();
        self
    }

    fn file(mut self, path: &str, data: &[u8]) -> Self {
        let mut h = Self::header(EntryType::Regular, data.len() as u64);
        self.builder.append_data(&mut h, path, data).unwrap();
        self
    }

    /// An entry whose name is written into the header bytes as is (no checks).
    fn raw(mut self, kind: EntryType, path: &str, link: Option<&str>, data: &[u8]) -> Self {
        let mut h = Self::header(kind, data.len() as u64);
        let name = &mut h.as_old_mut().name;
        assert!(path.len() < name.len(), "raw path too long: {path}");
        name.fill(0);
        name[..path.len()].copy_from_slice(path.as_bytes());
        if let Some(link) = link {
            h.set_link_name(link).unwrap();
        }
        h.set_cksum();
        self.builder.append(&h, data).unwrap();
        self
    }

    /// The chart `good` without the files `skip` names.
    fn good_chart_except(skip: &[&str]) -> Self {
        let mut t = Tgz::new().dir("good/");
        for (path, data) in [
            ("good/Chart.yaml", CHART_YAML),
            ("good/values.yaml", VALUES_YAML),
            ("good/templates/deployment.yaml", DEPLOYMENT_YAML),
        ] {
            if !skip.contains(&path) {
                t = t.file(path, data.as_bytes());
            }
        }
        t
    }

    fn good_chart() -> Self {
        Self::good_chart_except(&[])
    }

    fn finish(self) -> Vec<u8> {
        let tar = self.builder.into_inner().unwrap();
        let mut gz: GzEncoder<Vec<u8>> = GzBuilder::new()
            .mtime(0)
            .write(Vec::new(), Compression::best());
        gz.write_all(&tar).unwrap();
        gz.finish().unwrap()
    }
}

/// Deterministic pseudo-random bytes (xorshift64*).
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

fn chart_yaml_with(replace: &str, with: &str) -> Vec<u8> {
    assert!(CHART_YAML.contains(replace));
    CHART_YAML.replacen(replace, with, 1).into_bytes()
}

fn fixtures() -> Vec<(&'static str, Vec<u8>)> {
    const MIB: usize = 1024 * 1024;
    let mut out = vec![
        ("good.tgz", Tgz::good_chart().finish()),
        (
            "traversal.tgz",
            Tgz::good_chart()
                .raw(EntryType::Regular, "good/../../evil", None, b"owned\n")
                .finish(),
        ),
        (
            "traversal-leading.tgz",
            Tgz::good_chart()
                .raw(EntryType::Regular, "../evil", None, b"owned\n")
                .finish(),
        ),
        (
            "absolute-path.tgz",
            Tgz::good_chart()
                .raw(
                    EntryType::Regular,
                    "/etc/cron.d/evil",
                    None,
                    b"* * * * * root id\n",
                )
                .finish(),
        ),
        (
            "symlink.tgz",
            Tgz::good_chart()
                .raw(
                    EntryType::Symlink,
                    "good/templates/passwd",
                    Some("/etc/passwd"),
                    b"",
                )
                .finish(),
        ),
        (
            "hardlink.tgz",
            Tgz::good_chart()
                .raw(
                    EntryType::Link,
                    "good/templates/shadow",
                    Some("/etc/shadow"),
                    b"",
                )
                .finish(),
        ),
        (
            "char-device.tgz",
            Tgz::good_chart()
                .raw(EntryType::Char, "good/templates/null", None, b"")
                .finish(),
        ),
        (
            "fifo.tgz",
            Tgz::good_chart()
                .raw(EntryType::Fifo, "good/templates/pipe", None, b"")
                .finish(),
        ),
        (
            "missing-chart-yaml.tgz",
            Tgz::good_chart_except(&["good/Chart.yaml"]).finish(),
        ),
        (
            "chart-yaml-bad-yaml.tgz",
            Tgz::good_chart_except(&["good/Chart.yaml"])
                .file(
                    "good/Chart.yaml",
                    b"apiVersion: v2\nname: [good\nversion: 0.1.0\n",
                )
                .finish(),
        ),
        (
            "chart-yaml-api-v3.tgz",
            Tgz::good_chart_except(&["good/Chart.yaml"])
                .file(
                    "good/Chart.yaml",
                    &chart_yaml_with("apiVersion: v2", "apiVersion: v3"),
                )
                .finish(),
        ),
        (
            "chart-yaml-bad-version.tgz",
            Tgz::good_chart_except(&["good/Chart.yaml"])
                .file(
                    "good/Chart.yaml",
                    &chart_yaml_with("version: 0.1.0", "version: 1.2.three"),
                )
                .finish(),
        ),
        (
            "chart-yaml-bad-name.tgz",
            Tgz::good_chart_except(&["good/Chart.yaml"])
                .file(
                    "good/Chart.yaml",
                    &chart_yaml_with("name: good", "name: Bad_Name"),
                )
                .finish(),
        ),
        (
            "bad-values-yaml.tgz",
            Tgz::good_chart_except(&["good/values.yaml"])
                .file(
                    "good/values.yaml",
                    b"replicaCount: 1\nimage: {repository: nginx\n",
                )
                .finish(),
        ),
        (
            "two-top-level-dirs.tgz",
            Tgz::good_chart()
                .dir("other/")
                .file(
                    "other/Chart.yaml",
                    &chart_yaml_with("name: good", "name: other"),
                )
                .finish(),
        ),
        (
            "file-at-top-level.tgz",
            Tgz::good_chart()
                .file("README.md", b"outside the chart\n")
                .finish(),
        ),
        (
            "duplicate-entry.tgz",
            Tgz::good_chart()
                .file(
                    "good/Chart.yaml",
                    &chart_yaml_with("version: 0.1.0", "version: 6.6.6"),
                )
                .finish(),
        ),
        ("non-utf8-path.tgz", {
            let mut t = Tgz::good_chart();
            let mut h = Tgz::header(EntryType::Regular, 3);
            let name = &mut h.as_old_mut().name;
            name.fill(0);
            name[..14].copy_from_slice(b"good/caf\xe9.yaml");
            h.set_cksum();
            t.builder.append(&h, &b"x: "[..]).unwrap();
            t.finish()
        }),
        ("not-gzip.tgz", {
            // A plain (uncompressed) tar of the good chart.
            Tgz::good_chart().builder.into_inner().unwrap()
        }),
        ("truncated.tgz", {
            let good = Tgz::good_chart()
                .file("good/README.md", &noise(4096, 7))
                .finish();
            good[..good.len() / 2].to_vec()
        }),
    ];

    // Oversized: one template of 6 MiB, over the 5 MiB per-file limit. The data is
    // repetitive so the fixture stays small; the header's declared size trips the limit
    // before any of the data is inflated.
    let big: Vec<u8> = b"# padding line for an oversized template\n"
        .iter()
        .copied()
        .cycle()
        .take(6 * MIB)
        .collect();
    out.push((
        "oversized-file.tgz",
        Tgz::good_chart()
            .file("good/templates/big.yaml", &big)
            .finish(),
    ));

    // Gzip bomb: 12 files of 4 MiB of zeros (48 MiB inflated, each file under the
    // per-file limit and the total under the 50 MiB cap) in about 50 KiB: only the
    // 100:1 ratio check stops it, after about 5 MiB.
    let zeros = vec![0u8; 4 * MIB];
    let mut bomb = Tgz::good_chart();
    for i in 0..12 {
        bomb = bomb.file(&format!("good/files/zero-{i:02}.bin"), &zeros);
    }
    out.push(("gzip-bomb.tgz", bomb.finish()));

    // Too many entries: 5001 empty files.
    let mut many = Tgz::good_chart();
    for i in 0..5001 {
        many = many.file(&format!("good/files/{i:05}"), b"");
    }
    out.push(("too-many-entries.tgz", many.finish()));

    out
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "fixtures/archives".to_string());
    let dir = Path::new(&dir);
    std::fs::create_dir_all(dir).unwrap();
    for (name, bytes) in fixtures() {
        std::fs::write(dir.join(name), &bytes).unwrap();
        println!("{name}: {} bytes", bytes.len());
    }
}
