//! Property tests: `validate` never panics (arbitrary bytes, mutated valid archives at the
//! gzip and at the tar level), and valid names round-trip.

use std::io::{Read, Write};

use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;
use o2dms_chart::{package_file_name, validate, validate_chart_name, ArchiveError, Limits};
use proptest::prelude::*;

fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, path, *data).unwrap();
    }
    b.into_inner().unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

fn chart(name: &str, version: &str) -> Vec<u8> {
    let chart_yaml = format!("apiVersion: v2\nname: \"{name}\"\nversion: \"{version}\"\n");
    gzip(&tar_of(&[
        (&format!("{name}/Chart.yaml"), chart_yaml.as_bytes()),
        (
            &format!("{name}/values.yaml"),
            b"replicaCount: 2\nimage:\n  tag: \"1.0\"\nlist: [a, 1, true, null]\n",
        ),
        (&format!("{name}/templates/cm.yaml"), b"kind: ConfigMap\n"),
    ]))
}

fn good_fixture() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/archives/good.tgz"
    ))
    .unwrap()
}

/// Small limits so mutated inputs reach every limit quickly.
fn small_limits() -> Limits {
    Limits {
        max_compressed_bytes: 64 * 1024,
        max_uncompressed_bytes: 256 * 1024,
        max_file_bytes: 32 * 1024,
        max_entries: 16,
        max_ratio: 50,
        ratio_grace_bytes: 16 * 1024,
        max_path_bytes: 128,
    }
}

fn check_no_panic(bytes: &[u8]) {
    for limits in [Limits::default(), small_limits()] {
        match validate(bytes, &limits) {
            Ok(c) => {
                assert!(validate_chart_name(&c.name).is_ok());
                assert!(c.values.is_object());
                assert!(c.uncompressed_bytes <= limits.inflated_budget(bytes.len() as u64));
            }
            Err(e) => {
                let _ = e.to_string();
                let _ = e.field();
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        check_no_panic(&bytes);
    }

    #[test]
    fn arbitrary_bytes_behind_a_gzip_magic_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let mut v = vec![0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0xff];
        v.extend(bytes);
        check_no_panic(&v);
    }

    #[test]
    fn gzipped_arbitrary_tar_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        check_no_panic(&gzip(&bytes));
    }

    #[test]
    fn bit_flipped_archives_never_panic(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..8), 1..8),
    ) {
        let mut bytes = good_fixture();
        for (i, bit) in flips {
            let i = i.index(bytes.len());
            bytes[i] ^= 1 << bit;
        }
        check_no_panic(&bytes);
    }

    #[test]
    fn truncated_archives_never_panic_nor_validate(cut in any::<prop::sample::Index>()) {
        let bytes = good_fixture();
        let cut = cut.index(bytes.len());
        check_no_panic(&bytes[..cut]);
        // A cut gzip stream is always refused (its trailer is missing).
        prop_assert!(validate(&bytes[..cut], &Limits::default()).is_err());
    }

    /// Flips inside the tar stream, re-compressed: exercises headers, paths, sizes and
    /// the YAML parsers rather than only the gzip decoder.
    #[test]
    fn tar_level_mutations_never_panic(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16),
        cut in proptest::option::of(any::<prop::sample::Index>()),
    ) {
        let mut tar = Vec::new();
        GzDecoder::new(&good_fixture()[..]).read_to_end(&mut tar).unwrap();
        for (i, byte) in flips {
            let i = i.index(tar.len());
            tar[i] = byte;
        }
        if let Some(cut) = cut {
            tar.truncate(cut.index(tar.len()));
        }
        check_no_panic(&gzip(&tar));
    }

    #[test]
    fn valid_names_round_trip(
        name in "[a-z0-9]([-a-z0-9]{0,51}[a-z0-9])?",
        (major, minor, patch) in (0u64..1000, 0u64..1000, 0u64..1000),
    ) {
        prop_assert_eq!(validate_chart_name(&name), Ok(()));
        let version = format!("{major}.{minor}.{patch}");
        prop_assert_eq!(package_file_name(&name, &version).unwrap(), format!("{name}-{version}.tgz"));
        let c = validate(&chart(&name, &version), &Limits::default()).unwrap();
        prop_assert_eq!(&c.name, &name);
        prop_assert_eq!(c.version.to_string(), version);
        prop_assert_eq!(c.package_file_name(), format!("{name}-{}.tgz", c.version));
        prop_assert_eq!(&c.values["replicaCount"], &serde_json::json!(2));
    }

    #[test]
    fn accepted_names_follow_the_rule(name in "\\PC{0,60}") {
        if validate_chart_name(&name).is_ok() {
            let b = name.as_bytes();
            prop_assert!(!b.is_empty() && b.len() <= 53);
            prop_assert!(b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-'));
            prop_assert!(b[0] != b'-' && b[b.len() - 1] != b'-');
        } else {
            prop_assert!(package_file_name(&name, "1.0.0").is_err());
        }
    }
}

#[test]
fn invalid_name_in_archive_is_named() {
    let err = validate(&chart("Upper", "1.0.0"), &Limits::default()).unwrap_err();
    assert!(
        matches!(&err, ArchiveError::ChartName { name, .. } if name == "Upper"),
        "{err}"
    );
    assert!(err.to_string().contains("Upper/Chart.yaml"), "{err}");
}
