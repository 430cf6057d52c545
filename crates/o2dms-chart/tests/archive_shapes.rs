//! Archive shapes beyond the fixtures: GNU long names and pax headers (applied by the tar
//! reader, and checked like any path), `./` prefixes, global pax headers, trailing data.

use std::io::Write;

use o2dms_chart::{validate, ArchiveError, Limits};

const CHART: &[u8] = b"apiVersion: v2\nname: demo\nversion: 1.0.0\n";

fn header(kind: tar::EntryType, size: usize) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_size(size as u64);
    h.set_mode(0o644);
    h
}

fn gzip(tar: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(tar).unwrap();
    gz.finish().unwrap()
}

/// A tar builder holding `demo/Chart.yaml` already.
fn base() -> tar::Builder<Vec<u8>> {
    let mut b = tar::Builder::new(Vec::new());
    b.append_data(
        &mut header(tar::EntryType::Regular, CHART.len()),
        "demo/Chart.yaml",
        CHART,
    )
    .unwrap();
    b
}

/// Appends a pax extended header with `records`, then a regular file named `name`.
fn pax_then_file(b: &mut tar::Builder<Vec<u8>>, records: &[(&str, &str)], name: &str) {
    let mut body = Vec::new();
    for (k, v) in records {
        // "<len> <key>=<value>\n", where len counts itself.
        let rest = format!(" {k}={v}\n");
        let mut len = rest.len() + 1;
        while format!("{len}{rest}").len() != len {
            len += 1;
        }
        body.extend(format!("{len}{rest}").into_bytes());
    }
    b.append_data(
        &mut header(tar::EntryType::XHeader, body.len()),
        "PaxHeader",
        &body[..],
    )
    .unwrap();
    b.append_data(&mut header(tar::EntryType::Regular, 2), name, &b"x\n"[..])
        .unwrap();
}

#[test]
fn gnu_long_names_are_applied_and_accepted() {
    let mut b = base();
    let long = format!("demo/templates/{}.yaml", "a".repeat(150));
    b.append_data(&mut header(tar::EntryType::Regular, 2), &long, &b"x\n"[..])
        .unwrap();
    let c = validate(&gzip(&b.into_inner().unwrap()), &Limits::default()).unwrap();
    assert!(c.files.contains(&long), "{:?}", c.files);
}

#[test]
fn gnu_long_names_are_checked_like_any_path() {
    // The builder refuses `..`, so write the long-name record by hand.
    let evil = format!("demo/{}/../../../evil", "d".repeat(120));
    let mut b = base();
    let mut h = header(tar::EntryType::GNULongName, evil.len() + 1);
    h.as_gnu_mut().unwrap().name[..13].copy_from_slice(b"././@LongLink");
    h.set_cksum();
    let mut data = evil.clone().into_bytes();
    data.push(0);
    b.append(&h, &data[..]).unwrap();
    b.append_data(
        &mut header(tar::EntryType::Regular, 2),
        "demo/short",
        &b"x\n"[..],
    )
    .unwrap();
    let e = validate(&gzip(&b.into_inner().unwrap()), &Limits::default()).unwrap_err();
    assert!(
        matches!(&e, ArchiveError::PathTraversal { path } if *path == evil),
        "{e}"
    );
}

#[test]
fn pax_paths_override_the_header_and_are_checked() {
    let mut b = base();
    pax_then_file(&mut b, &[("path", "../../etc/evil")], "demo/innocent");
    let e = validate(&gzip(&b.into_inner().unwrap()), &Limits::default()).unwrap_err();
    assert!(
        matches!(&e, ArchiveError::PathTraversal { path } if path == "../../etc/evil"),
        "{e}"
    );

    let mut b = base();
    pax_then_file(&mut b, &[("path", "demo/templates/ünïcode.yaml")], "demo/x");
    let c = validate(&gzip(&b.into_inner().unwrap()), &Limits::default()).unwrap();
    assert!(c.files.iter().any(|f| f == "demo/templates/ünïcode.yaml"));
}

#[test]
fn pax_size_is_what_the_limit_sees() {
    // A header claiming 2 bytes but a pax size of 6 MiB: the reader uses the pax size,
    // and so does the per-file check.
    let mut b = base();
    pax_then_file(&mut b, &[("size", &(6u64 << 20).to_string())], "demo/big");
    let e = validate(&gzip(&b.into_inner().unwrap()), &Limits::default()).unwrap_err();
    assert!(
        matches!(&e, ArchiveError::FileTooLarge { path, .. } if path == "demo/big"),
        "{e}"
    );
}

#[test]
fn global_pax_headers_are_skipped() {
    let mut b = tar::Builder::new(Vec::new());
    let body = b"52 comment=3c5f0f8a2b1e9d7c6b5a4f3e2d1c0b9a8f7e6d5c\n";
    b.append_data(
        &mut header(tar::EntryType::XGlobalHeader, body.len()),
        "pax_global_header",
        &body[..],
    )
    .unwrap();
    b.append_data(
        &mut header(tar::EntryType::Regular, CHART.len()),
        "demo/Chart.yaml",
        CHART,
    )
    .unwrap();
    let c = validate(&gzip(&b.into_inner().unwrap()), &Limits::default()).unwrap();
    assert_eq!(c.files, ["demo/Chart.yaml"]);
}

#[test]
fn dot_slash_prefixes_are_normalized() {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = header(tar::EntryType::Directory, 0);
    b.append_data(&mut h, "./", std::io::empty()).unwrap();
    b.append_data(
        &mut header(tar::EntryType::Regular, CHART.len()),
        "./demo/Chart.yaml",
        CHART,
    )
    .unwrap();
    let c = validate(&gzip(&b.into_inner().unwrap()), &Limits::default()).unwrap();
    assert_eq!(c.files, ["demo/Chart.yaml"]);
    assert_eq!(c.top_level_dir, "demo");
}

#[test]
fn trailing_garbage_after_the_gzip_stream_is_refused() {
    let mut bytes = gzip(&base().into_inner().unwrap());
    assert!(validate(&bytes, &Limits::default()).is_ok());
    bytes.extend_from_slice(b"trailing junk");
    let e = validate(&bytes, &Limits::default()).unwrap_err();
    assert!(matches!(e, ArchiveError::Gzip { .. }), "{e}");
}

#[test]
fn a_bomb_after_the_end_of_archive_is_still_metered() {
    let mut tar = base().into_inner().unwrap();
    tar.extend(std::iter::repeat_n(0u8, 64 << 20));
    let e = validate(&gzip(&tar), &Limits::default()).unwrap_err();
    assert!(matches!(e, ArchiveError::CompressionRatio { .. }), "{e}");
}

#[test]
fn file_digests_name_content_below_the_top_level_directory() {
    use sha2::{Digest, Sha256};
    let template = b"kind: ConfigMap\n";
    let mut b = base();
    b.append_data(
        &mut header(tar::EntryType::Regular, template.len()),
        "demo/templates/cm.yaml",
        &template[..],
    )
    .unwrap();
    let c = validate(&gzip(&b.into_inner().unwrap()), &Limits::default()).unwrap();
    let hex = |d: &[u8]| hex::encode(Sha256::digest(d));
    assert_eq!(
        c.file_digests.keys().collect::<Vec<_>>(),
        ["Chart.yaml", "templates/cm.yaml"]
    );
    assert_eq!(c.file_digests["Chart.yaml"], hex(CHART));
    assert_eq!(c.file_digests["templates/cm.yaml"], hex(template));
}
