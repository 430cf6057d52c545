//! Embeds the fixture charts of `fixtures/charts/` in the library: every chart directory
//! (one with a `Chart.yaml`) and every regular file under it (dot files skipped, as
//! `package_chart_dir` skips them) becomes an `include_bytes!` entry of
//! `$OUT_DIR/embedded_charts.rs`, so the suite needs no files at run time.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest.join("fixtures").join("charts");
    // A directory: cargo checks every file under it (added, removed or changed).
    println!("cargo:rerun-if-changed=fixtures/charts");
    println!("cargo:rerun-if-changed=build.rs");

    let mut charts: Vec<(String, PathBuf)> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("reading {}: {e}", root.display()))
        .map(|e| e.unwrap_or_else(|e| panic!("reading {}: {e}", root.display())))
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .filter(|e| e.path().join("Chart.yaml").is_file())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .collect();
    charts.sort();

    let mut out = String::from(
        "/// The charts of `fixtures/charts/`, embedded by build.rs: (directory name,\n\
         /// [(path relative to the chart directory, `/`-separated, contents)]).\n\
         pub(crate) static EMBEDDED_CHARTS: &[(&str, ChartFiles)] = &[\n",
    );
    for (name, dir) in &charts {
        let mut files = Vec::new();
        collect_files(dir, dir, &mut files);
        files.sort();
        writeln!(out, "    ({name:?}, &[").unwrap();
        for rel in files {
            let abs = dir.join(&rel);
            let rel = rel.to_string_lossy().replace('\\', "/");
            let abs = abs.to_str().unwrap_or_else(|| {
                panic!("fixture path {} is not UTF-8", abs.display());
            });
            writeln!(out, "        ({rel:?}, include_bytes!({abs:?})),").unwrap();
        }
        out.push_str("    ]),\n");
    }
    out.push_str("];\n");

    let dest = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"))
        .join("embedded_charts.rs");
    std::fs::write(&dest, out).unwrap_or_else(|e| panic!("writing {}: {e}", dest.display()));
}

/// Regular files under `dir`, relative to `root`; dot files and directories skipped,
/// symbolic links not followed (the same walk as `package_chart_dir`).
fn collect_files(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    for entry in entries {
        let entry = entry.unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        let kind = entry
            .file_type()
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        if kind.is_dir() {
            collect_files(root, &path, out);
        } else if kind.is_file() {
            out.push(path.strip_prefix(root).unwrap_or(&path).to_path_buf());
        }
    }
}
