//! Every archive in `fixtures/archives/` is rejected with the expected rule, and the good
//! one validates (regenerate them with the `make_fixtures` example).

use std::path::PathBuf;

use o2dms_chart::{validate, ArchiveError, ChartType, Limits};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/archives")
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Fixture file name -> the check it must fail.
fn expected(name: &str, e: &ArchiveError) -> bool {
    use ArchiveError::*;
    match name {
        "traversal.tgz" => matches!(e, PathTraversal { path } if path == "good/../../evil"),
        "traversal-leading.tgz" => matches!(e, PathTraversal { path } if path == "../evil"),
        "absolute-path.tgz" => matches!(e, AbsolutePath { path } if path == "/etc/cron.d/evil"),
        "symlink.tgz" => matches!(e, Symlink { path, target }
            if path == "good/templates/passwd" && target == "/etc/passwd"),
        "hardlink.tgz" => matches!(e, HardLink { path, target }
            if path == "good/templates/shadow" && target == "/etc/shadow"),
        "char-device.tgz" => matches!(e, SpecialEntry { path, kind }
            if path == "good/templates/null" && kind == "character device"),
        "fifo.tgz" => matches!(e, SpecialEntry { path, kind }
            if path == "good/templates/pipe" && kind == "fifo"),
        "missing-chart-yaml.tgz" => {
            matches!(e, MissingChartYaml { path } if path == "good/Chart.yaml")
        }
        "chart-yaml-bad-yaml.tgz" => {
            matches!(e, ChartYamlSyntax { path, .. } if path == "good/Chart.yaml")
        }
        "chart-yaml-api-v3.tgz" => matches!(e, ChartApiVersion { found, .. } if found == "v3"),
        "chart-yaml-bad-version.tgz" => {
            matches!(e, ChartVersion { version, .. } if version == "1.2.three")
        }
        "chart-yaml-bad-name.tgz" => matches!(e, ChartName { name, .. } if name == "Bad_Name"),
        "bad-values-yaml.tgz" => matches!(e, ValuesYaml { path, .. } if path == "good/values.yaml"),
        "two-top-level-dirs.tgz" => matches!(e, MultipleTopLevelDirectories { first, path }
            if first == "good" && path == "other/"),
        "file-at-top-level.tgz" => {
            matches!(e, NotInTopLevelDirectory { path } if path == "README.md")
        }
        "duplicate-entry.tgz" => matches!(e, DuplicateEntry { path } if path == "good/Chart.yaml"),
        "non-utf8-path.tgz" => matches!(e, NonUtf8Path { path } if path == "good/caf\u{FFFD}.yaml"),
        "not-gzip.tgz" => matches!(e, NotGzip),
        "truncated.tgz" => matches!(e, Gzip { .. }),
        "oversized-file.tgz" => matches!(e, FileTooLarge { path, size, limit }
            if path == "good/templates/big.yaml" && *size == 6 * 1024 * 1024 && *limit == 5 * 1024 * 1024),
        "gzip-bomb.tgz" => matches!(e, CompressionRatio { max_ratio: 100, .. }),
        "too-many-entries.tgz" => matches!(e, TooManyEntries { limit: 5000, .. }),
        other => panic!("fixture {other} has no expectation in tests/fixtures.rs"),
    }
}

#[test]
fn good_fixture_validates() {
    let bytes = read("good.tgz");
    let c = validate(&bytes, &Limits::default()).unwrap();
    assert_eq!(c.name, "good");
    assert_eq!(c.version, semver::Version::new(0, 1, 0));
    assert_eq!(c.app_version.as_deref(), Some("1.16.0"));
    assert_eq!(
        c.description.as_deref(),
        Some("A small well-formed chart for o2dms tests")
    );
    assert_eq!(c.api_version, "v2");
    assert_eq!(c.chart_type, ChartType::Application);
    assert_eq!(c.top_level_dir, "good");
    assert_eq!(
        c.files,
        [
            "good/Chart.yaml",
            "good/values.yaml",
            "good/templates/deployment.yaml"
        ]
    );
    assert_eq!(c.values["replicaCount"], serde_json::json!(1));
    assert_eq!(c.values["image"]["tag"], serde_json::json!("1.27"));
    assert_eq!(c.digest.len(), 64);
    assert_eq!(c.digest_ref(), format!("sha256:{}", c.digest));
    assert_eq!(c.package_file_name(), "good-0.1.0.tgz");
    assert_eq!(c.compressed_bytes, bytes.len() as u64);
}

#[test]
fn every_hostile_fixture_is_rejected_with_its_rule() {
    let mut names: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".tgz"))
        .collect();
    names.sort();
    assert!(names.len() >= 20, "fixtures missing: {names:?}");
    for name in names.iter().filter(|n| *n != "good.tgz") {
        let err = validate(&read(name), &Limits::default())
            .err()
            .unwrap_or_else(|| panic!("{name} validated"));
        assert!(expected(name, &err), "{name}: unexpected {err:?} ({err})");
        // Every message names the rule; field() and the core conversion agree.
        let core: o2dms_core::Error = err.clone().into();
        match core {
            o2dms_core::Error::InvalidArgument { field, reason } => {
                assert_eq!(field, err.field());
                assert_eq!(reason, err.to_string());
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn fields_name_the_part_at_fault() {
    let field = |n: &str| validate(&read(n), &Limits::default()).unwrap_err().field();
    assert_eq!(field("traversal.tgz"), "archive");
    assert_eq!(field("gzip-bomb.tgz"), "archive");
    assert_eq!(field("chart-yaml-bad-name.tgz"), "Chart.yaml");
    assert_eq!(field("missing-chart-yaml.tgz"), "Chart.yaml");
    assert_eq!(field("bad-values-yaml.tgz"), "values.yaml");
}

#[test]
fn bomb_is_stopped_early_not_inflated() {
    // The ratio bound for this archive is 100 x its size (about 5 MiB); the bomb holds
    // 48 MiB. The error reports the bound, which is where inflation stopped.
    let bytes = read("gzip-bomb.tgz");
    match validate(&bytes, &Limits::default()).unwrap_err() {
        ArchiveError::CompressionRatio {
            inflated,
            compressed,
            ..
        } => {
            assert_eq!(compressed, bytes.len() as u64);
            assert_eq!(inflated, 100 * compressed);
            assert!(inflated < 6 * 1024 * 1024);
        }
        e => panic!("{e:?}"),
    }
}

#[test]
fn other_limits_trip_with_tighter_settings() {
    let good = read("good.tgz");
    let e = validate(
        &good,
        &Limits {
            max_compressed_bytes: 100,
            ..Limits::default()
        },
    )
    .unwrap_err();
    assert!(
        matches!(e, ArchiveError::CompressedTooLarge { limit: 100, .. }),
        "{e}"
    );

    let e = validate(
        &good,
        &Limits {
            max_uncompressed_bytes: 2048,
            ..Limits::default()
        },
    )
    .unwrap_err();
    assert!(
        matches!(e, ArchiveError::UncompressedTooLarge { limit: 2048, .. }),
        "{e}"
    );

    // With the ratio check relaxed, the bomb hits the total cap instead.
    let e = validate(
        &read("gzip-bomb.tgz"),
        &Limits {
            max_ratio: 100_000,
            max_uncompressed_bytes: 20 * 1024 * 1024,
            ..Limits::default()
        },
    )
    .unwrap_err();
    assert!(
        matches!(e, ArchiveError::UncompressedTooLarge { .. }),
        "{e}"
    );

    let e = validate(
        &good,
        &Limits {
            max_entries: 2,
            ..Limits::default()
        },
    )
    .unwrap_err();
    assert!(
        matches!(&e, ArchiveError::TooManyEntries { limit: 2, path } if path == "good/values.yaml"),
        "{e}"
    );

    let e = validate(
        &good,
        &Limits {
            max_file_bytes: 100,
            ..Limits::default()
        },
    )
    .unwrap_err();
    assert!(
        matches!(&e, ArchiveError::FileTooLarge { path, .. } if path == "good/Chart.yaml"),
        "{e}"
    );
}

#[test]
fn empty_and_garbage_inputs() {
    let l = Limits::default();
    assert!(matches!(validate(b"", &l), Err(ArchiveError::NotGzip)));
    assert!(matches!(
        validate(b"\x1f\x8b", &l),
        Err(ArchiveError::Gzip { .. })
    ));
    // A gzipped empty tar (just the end-of-archive blocks).
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &[0u8; 1024]).unwrap();
    assert!(matches!(
        validate(&gz.finish().unwrap(), &l),
        Err(ArchiveError::Empty)
    ));
}
