//! `cargo xtask out-of-tree`: the published crates work outside this repository.
//!
//! 1. `cargo package --workspace --no-verify` (every crate meant to be published, i.e.
//!    without `publish = false`), into the workspace's target directory.
//! 2. The packages a downstream test needs are unpacked from their `.crate` files into
//!    `<target>/out-of-tree/<name>-<version>/` (the normalized `Cargo.toml` cargo wrote,
//!    and only the files the package ships).
//! 3. A small crate is generated in a temporary directory outside the workspace: it
//!    depends on `o2dms-core`, `o2dms-conformance` (feature `mock`), `o2dms-mock`,
//!    `o2dms-layers` and `tokio` by version, with `[patch.crates-io]` pointing each o2dms
//!    crate at its unpacked package, and has one test: the whole suite against the
//!    fixture mock wrapped in `o2dms_layers::Events`, from the embedded fixture charts.
//! 4. `cargo test` runs there without `O2DMS_FIXTURES`, with its target directory under
//!    the user's cache (`~/.cache/o2dms/out-of-tree-target`) so a warm machine is fast.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context as _};
use clap::Args;
use serde_json::Value;

/// What the generated crate depends on directly (besides tokio).
const DIRECT: [&str; 4] = [
    "o2dms-core",
    "o2dms-conformance",
    "o2dms-mock",
    "o2dms-layers",
];

/// Options of `cargo xtask out-of-tree`.
#[derive(Debug, Args)]
pub struct OutOfTreeArgs {
    /// Keep the generated crate (its directory is printed) instead of removing it.
    #[arg(long)]
    pub keep: bool,
}

/// A workspace package, from `cargo metadata`.
#[derive(Debug, Clone)]
struct Package {
    name: String,
    version: String,
    publish: bool,
    /// Normal and build dependencies on other workspace packages, by name.
    workspace_deps: Vec<String>,
}

/// The workspace as `cargo metadata` sees it.
struct Workspace {
    root: PathBuf,
    target_dir: PathBuf,
    packages: BTreeMap<String, Package>,
}

/// Runs the check; an error says which step failed.
pub fn run(args: OutOfTreeArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let step = |what: &str| eprintln!("out-of-tree: {what} (+{}s)", started.elapsed().as_secs());

    step("reading the workspace (cargo metadata)");
    let ws = workspace()?;

    let publishable: Vec<&Package> = ws.packages.values().filter(|p| p.publish).collect();
    let unpublishable: Vec<&Package> = ws.packages.values().filter(|p| !p.publish).collect();
    step(&format!(
        "cargo package --workspace --no-verify ({} crates; skipping publish = false: {})",
        publishable.len(),
        unpublishable
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let mut package = cargo();
    package
        .current_dir(&ws.root)
        .args(["package", "--workspace", "--no-verify", "--allow-dirty"]);
    for p in &unpublishable {
        package.args(["--exclude", &p.name]);
    }
    run_command(&mut package, "cargo package --workspace --no-verify")?;

    let needed = closure(&ws, &DIRECT)?;
    step(&format!("unpacking {}", needed.join(", ")));
    let unpack_root = ws.target_dir.join("out-of-tree");
    let mut unpacked = BTreeMap::new();
    for name in &needed {
        let p = &ws.packages[name];
        if !p.publish {
            bail!(
                "{} needs {}, which has `publish = false`: it cannot be used from a registry",
                DIRECT.join(", "),
                p.name
            );
        }
        let file = format!("{}-{}", p.name, p.version);
        let crate_file = ws.target_dir.join("package").join(format!("{file}.crate"));
        let dir = unpack_root.join(&file);
        unpack(&crate_file, &dir).with_context(|| format!("unpacking {}", crate_file.display()))?;
        unpacked.insert(name.clone(), dir);
    }

    let work = tempfile::Builder::new()
        .prefix("o2dms-out-of-tree-")
        .tempdir()
        .context("creating a temporary directory")?;
    let work_dir = work.path().canonicalize().context("temporary directory")?;
    if work_dir.starts_with(&ws.root) {
        bail!(
            "the temporary directory {} is inside the workspace {}: set TMPDIR elsewhere",
            work_dir.display(),
            ws.root.display()
        );
    }
    step(&format!(
        "generating a downstream crate in {}",
        work_dir.display()
    ));
    write_crate(&work_dir, &ws, &unpacked)?;

    let target = out_of_tree_target()?;
    step(&format!(
        "cargo test in {} (target dir {}, O2DMS_FIXTURES unset)",
        work_dir.display(),
        target.display()
    ));
    let mut test = cargo();
    test.current_dir(&work_dir)
        .args(["test", "--tests"])
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("O2DMS_FIXTURES")
        // Set by `cargo run` for xtask; the generated crate's own cargo sets its own.
        .env_remove("CARGO_MANIFEST_DIR")
        .env_remove("CARGO_MANIFEST_PATH");
    let result = run_command(&mut test, "cargo test of the downstream crate");

    if args.keep {
        let kept = work.keep();
        eprintln!(
            "out-of-tree: kept the generated crate in {}",
            kept.display()
        );
    }
    result.context(
        "the suite does not work from its published packages (see the output above; \
         --keep keeps the generated crate)",
    )?;
    step("passed: the packaged suite runs outside the repository from its embedded fixtures");
    Ok(())
}

/// The cargo that runs xtask (`$CARGO`), else `cargo` on the PATH.
fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Runs `cmd` to the end (output shown), failing with `what` unless it succeeds.
fn run_command(cmd: &mut Command, what: &str) -> anyhow::Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("starting {what} ({:?})", cmd.get_program()))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

/// The workspace's packages, root and target directory.
fn workspace() -> anyhow::Result<Workspace> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("xtask has a parent directory")?
        .to_path_buf();
    let out = cargo()
        .current_dir(&root)
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .output()
        .context("running cargo metadata")?;
    if !out.status.success() {
        bail!(
            "cargo metadata failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let meta: Value = serde_json::from_slice(&out.stdout).context("reading cargo metadata")?;
    parse_metadata(&meta)
}

fn parse_metadata(meta: &Value) -> anyhow::Result<Workspace> {
    let str_of = |v: &Value, key: &str| -> anyhow::Result<String> {
        v.get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .with_context(|| format!("cargo metadata: no `{key}`"))
    };
    let packages = meta
        .get("packages")
        .and_then(Value::as_array)
        .context("cargo metadata: no packages")?;
    let names: BTreeSet<String> = packages
        .iter()
        .filter_map(|p| p.get("name").and_then(Value::as_str).map(str::to_owned))
        .collect();
    let mut out = BTreeMap::new();
    for p in packages {
        let name = str_of(p, "name")?;
        // `publish`: null = any registry; [] = `publish = false`; a list = those registries.
        let publish = match p.get("publish") {
            None | Some(Value::Null) => true,
            Some(Value::Array(registries)) => !registries.is_empty(),
            Some(other) => bail!("cargo metadata: {name}: unexpected publish {other}"),
        };
        let workspace_deps = p
            .get("dependencies")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|d| matches!(d.get("kind").and_then(Value::as_str), None | Some("build")))
            .filter(|d| d.get("path").is_some())
            .filter_map(|d| d.get("name").and_then(Value::as_str))
            .filter(|d| names.contains(*d))
            .map(str::to_owned)
            .collect();
        out.insert(
            name.clone(),
            Package {
                version: str_of(p, "version")?,
                name,
                publish,
                workspace_deps,
            },
        );
    }
    Ok(Workspace {
        root: PathBuf::from(str_of(meta, "workspace_root")?),
        target_dir: PathBuf::from(str_of(meta, "target_directory")?),
        packages: out,
    })
}

/// `roots` and every workspace package they need (normal and build dependencies), sorted.
fn closure(ws: &Workspace, roots: &[&str]) -> anyhow::Result<Vec<String>> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<String> = roots.iter().map(|r| (*r).to_owned()).collect();
    while let Some(name) = todo.pop() {
        let p = ws
            .packages
            .get(&name)
            .with_context(|| format!("no package {name} in the workspace"))?;
        if seen.insert(name) {
            todo.extend(p.workspace_deps.iter().cloned());
        }
    }
    Ok(seen.into_iter().collect())
}

/// Unpacks `crate_file` (a gzipped tar, entries under `<name>-<version>/`) into `dir`,
/// unless `dir` already holds exactly this archive (a copy of it beside `dir`, ending in
/// `.crate.unpacked`, says so): an unchanged package keeps its files and their times,
/// so cargo does not rebuild it.
fn unpack(crate_file: &Path, dir: &Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(crate_file).context("reading the package")?;
    let mut stamp = dir.as_os_str().to_owned();
    stamp.push(".crate.unpacked");
    let stamp = PathBuf::from(stamp);
    if dir.join("Cargo.toml").is_file() && std::fs::read(&stamp).ok().as_ref() == Some(&bytes) {
        return Ok(());
    }
    let _ = std::fs::remove_file(&stamp);
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    let parent = dir.parent().context("an unpack directory has a parent")?;
    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let prefix = dir.file_name().context("an unpack directory has a name")?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
    // Files get the time of unpacking, so cargo rebuilds what changed.
    archive.set_preserve_mtime(false);
    for entry in archive.entries().context("reading the archive")? {
        let mut entry = entry.context("reading the archive")?;
        let path = entry.path().context("an entry's path")?.into_owned();
        if path.components().next().map(|c| c.as_os_str()) != Some(prefix) {
            bail!("entry {} is not under {:?}", path.display(), prefix);
        }
        // `unpack_in` refuses entries that would land outside `parent`.
        entry
            .unpack_in(parent)
            .with_context(|| format!("unpacking {}", path.display()))?;
    }
    if !dir.join("Cargo.toml").is_file() {
        bail!("the package has no Cargo.toml");
    }
    std::fs::write(&stamp, &bytes).with_context(|| format!("writing {}", stamp.display()))?;
    Ok(())
}

/// `~/.cache/o2dms/out-of-tree-target` (the user's cache directory).
fn out_of_tree_target() -> anyhow::Result<PathBuf> {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .context("no cache directory: neither XDG_CACHE_HOME nor HOME is set")?;
    Ok(cache.join("o2dms").join("out-of-tree-target"))
}

/// Writes the downstream crate into `dir`.
fn write_crate(
    dir: &Path,
    ws: &Workspace,
    unpacked: &BTreeMap<String, PathBuf>,
) -> anyhow::Result<()> {
    let write = |rel: &str, text: &str| -> anyhow::Result<()> {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
    };
    write("Cargo.toml", &manifest(ws, unpacked))?;
    write(
        "src/lib.rs",
        "//! A downstream crate: runs the o2dms conformance suite from the published packages.\n",
    )?;
    write("tests/conformance.rs", TEST)?;
    // The workspace's lock file as a starting point: the versions the workspace tests with.
    let lock = ws.root.join("Cargo.lock");
    if lock.is_file() {
        std::fs::copy(&lock, dir.join("Cargo.lock"))
            .with_context(|| format!("copying {}", lock.display()))?;
    }
    Ok(())
}

/// The generated crate's Cargo.toml.
fn manifest(ws: &Workspace, unpacked: &BTreeMap<String, PathBuf>) -> String {
    let mut m = String::from(
        "[package]\n\
         name = \"o2dms-out-of-tree-check\"\n\
         version = \"0.0.0\"\n\
         edition = \"2021\"\n\
         publish = false\n\n\
         # Not part of any workspace around the temporary directory.\n\
         [workspace]\n\n\
         [dependencies]\n",
    );
    for name in DIRECT {
        let version = &ws.packages[name].version;
        let features = if name == "o2dms-conformance" {
            ", features = [\"mock\"]"
        } else {
            ""
        };
        writeln!(m, "{name} = {{ version = \"={version}\"{features} }}").expect("in memory");
    }
    m.push_str(
        "tokio = { version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }\n\n\
         # The packages `cargo package` made, as a registry would serve them.\n\
         [patch.crates-io]\n",
    );
    for (name, dir) in unpacked {
        writeln!(m, "{name} = {{ path = {} }}", toml_string(dir.as_os_str())).expect("in memory");
    }
    m
}

/// A TOML basic string holding `s`.
fn toml_string(s: &OsStr) -> String {
    let s = s.to_string_lossy();
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                write!(out, "\\u{:04X}", u32::from(c)).expect("in memory");
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The generated crate's test.
const TEST: &str = r#"//! What an adapter author's test does, with the mock as the adapter: the whole catalogue,
//! from the fixture charts embedded in o2dms-conformance (no fixtures directory exists here).

use std::sync::Arc;

use o2dms_conformance::{FixtureSource, Outcome, Settings, Suite};
use o2dms_layers::Events;

/// A scenario installing each fixture, and the one listing them.
const FIXTURE_SCENARIOS: [&str; 7] = [
    "lifecycle.create_then_get",
    "update.package_version_change",
    "scale.custom_key_per_deployment",
    "scale.ignored_key_is_an_error",
    "status.never_ready_fails_after_timeout",
    "lifecycle.chart_with_hook_installs",
    "packages.fixtures_listed_and_get",
];

#[tokio::test(flavor = "multi_thread")]
async fn the_published_suite_passes_against_the_mock() {
    assert!(
        std::env::var_os("O2DMS_FIXTURES").is_none(),
        "O2DMS_FIXTURES must be unset: this test is about the embedded charts"
    );
    let settings = Settings {
        progress: false,
        ..o2dms_conformance::mock::mock_settings()
    };
    assert_eq!(settings.fixture_source(), FixtureSource::Embedded);
    let mock: o2dms_mock::MockAdapter =
        o2dms_conformance::mock::fixture_mock(settings.fixture_source())
            .expect("the fixture mock from the embedded charts");
    let adapter = Arc::new(Events::new(mock));
    let _: &dyn o2dms_core::DmsAdapter = &*adapter;

    let report = Suite::new(settings)
        .events(adapter.clone())
        .run(&*adapter)
        .await;
    println!("{}", report.summary());
    report.assert_passed();
    for id in FIXTURE_SCENARIOS {
        let s = report
            .scenario(id)
            .unwrap_or_else(|| panic!("scenario {id} is not in the report"));
        assert_eq!(s.outcome, Outcome::Passed, "{id}: {}", s.message);
    }
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(name: &str, publish: bool, deps: &[&str]) -> Package {
        Package {
            name: name.into(),
            version: "0.1.0".into(),
            publish,
            workspace_deps: deps.iter().map(|d| (*d).into()).collect(),
        }
    }

    #[test]
    fn metadata_publish_and_workspace_dependencies() {
        let meta = serde_json::json!({
            "workspace_root": "/ws",
            "target_directory": "/ws/target",
            "packages": [
                {"name": "a", "version": "0.1.0", "publish": null, "dependencies": [
                    {"name": "b", "kind": null, "path": "/ws/b"},
                    {"name": "c", "kind": "dev", "path": "/ws/c"},
                    {"name": "serde", "kind": null},
                ]},
                {"name": "b", "version": "0.2.0", "publish": ["crates-io"], "dependencies": []},
                {"name": "c", "version": "0.1.0", "publish": [], "dependencies": []},
            ]
        });
        let ws = parse_metadata(&meta).unwrap();
        assert_eq!(ws.root, PathBuf::from("/ws"));
        assert_eq!(ws.packages["a"].workspace_deps, ["b"]);
        assert!(ws.packages["a"].publish && ws.packages["b"].publish);
        assert!(!ws.packages["c"].publish);
        assert_eq!(ws.packages["b"].version, "0.2.0");
    }

    #[test]
    fn closure_follows_workspace_dependencies() {
        let ws = Workspace {
            root: "/ws".into(),
            target_dir: "/ws/target".into(),
            packages: [
                pkg("o2dms-core", true, &[]),
                pkg("o2dms-chart", true, &["o2dms-core"]),
                pkg("o2dms-mock", true, &["o2dms-core", "o2dms-chart"]),
                pkg("o2dms-layers", true, &["o2dms-core"]),
                pkg(
                    "o2dms-conformance",
                    true,
                    &["o2dms-core", "o2dms-chart", "o2dms-mock", "o2dms-layers"],
                ),
                pkg("o2dms-helm", true, &["o2dms-core"]),
            ]
            .into_iter()
            .map(|p| (p.name.clone(), p))
            .collect(),
        };
        assert_eq!(
            closure(&ws, &DIRECT).unwrap(),
            [
                "o2dms-chart",
                "o2dms-conformance",
                "o2dms-core",
                "o2dms-layers",
                "o2dms-mock"
            ]
        );
        let m = manifest(
            &ws,
            &[(
                "o2dms-core".to_owned(),
                PathBuf::from("/t/o2dms-core-0.1.0"),
            )]
            .into(),
        );
        assert!(m.contains("o2dms-conformance = { version = \"=0.1.0\", features = [\"mock\"] }"));
        assert!(m.contains("[patch.crates-io]\no2dms-core = { path = \"/t/o2dms-core-0.1.0\" }"));
        assert!(closure(&ws, &["nope"]).is_err());
    }

    #[test]
    fn toml_strings_escape() {
        assert_eq!(toml_string(OsStr::new(r#"/a "b"\c"#)), r#""/a \"b\"\\c""#);
    }

    #[test]
    fn unpack_extracts_once_and_refuses_foreign_entries() {
        let dir = tempfile::tempdir().unwrap();
        let archive = |files: &[(&str, &[u8])]| {
            o2dms_conformance::tgz(files.iter().map(|(p, d)| (*p, *d))).unwrap()
        };
        let crate_file = dir.path().join("x-0.1.0.crate");
        std::fs::write(
            &crate_file,
            archive(&[
                ("x-0.1.0/Cargo.toml", b"[package]\n"),
                ("x-0.1.0/src/lib.rs", b""),
            ]),
        )
        .unwrap();
        let out = dir.path().join("unpacked/x-0.1.0");
        unpack(&crate_file, &out).unwrap();
        assert!(out.join("src/lib.rs").is_file());
        // Unchanged: left alone.
        std::fs::write(out.join("marker"), b"").unwrap();
        unpack(&crate_file, &out).unwrap();
        assert!(out.join("marker").is_file());
        // Changed: unpacked afresh.
        std::fs::write(
            &crate_file,
            archive(&[("x-0.1.0/Cargo.toml", b"[package]\nname = \"x\"\n")]),
        )
        .unwrap();
        unpack(&crate_file, &out).unwrap();
        assert!(!out.join("marker").exists() && !out.join("src").exists());
        std::fs::write(&crate_file, archive(&[("y-0.1.0/Cargo.toml", b"")])).unwrap();
        assert!(unpack(&crate_file, &out).is_err());
    }
}
