//! The changes made to Debian's Kubernetes source before it is built: all of them remove
//! waiting from the start of a cluster, none changes what the cluster does once started.
//!
//! - The kube-apiserver's bootstrap hooks (the RBAC roles and the system priority classes)
//!   make their first attempt at once instead of after a second. Upstream 1.20 runs both
//!   under `wait.Poll(1s, 30s, ...)`, which sleeps one interval before the first try;
//!   `/readyz` cannot pass before it, so every start paid that second. `wait.PollImmediate`
//!   keeps the interval and the timeout and only drops the first sleep. Both hooks already
//!   answer "not done yet" on every failure short of a fatal one (storage not answering, a
//!   role not reconciled, the server busy), so a first attempt that comes too early is
//!   retried a second later, as before.
//! - The kube-controller-manager checks the apiserver's `/healthz` every 100 ms instead of
//!   every second while it waits for it, and waits up to five minutes instead of ten
//!   seconds. So it can be started together with the apiserver: its own start-up (≈ 0.4 s
//!   of CPU, mostly generating a key) then runs on the core the apiserver's mostly
//!   single-threaded start leaves idle, and its controllers start within 100 ms of the
//!   apiserver being ready, however long that takes on a loaded machine.
//!
//! Same API, same objects, same version string. The local cluster starts the
//! controller-manager early only with binaries that carry these changes (it reads
//! [`PATCHES_FILE`]); binaries from `KUBEBUILDER_ASSETS` or an explicit directory are used
//! as they are, and start about 1.5 s slower.

use std::path::Path;

/// One textual change to one source file, which must hold `from` exactly once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SourcePatch {
    /// The file, relative to the root of the source tree.
    pub(crate) file: &'static str,
    /// The exact text replaced.
    pub(crate) from: &'static str,
    /// Its replacement.
    pub(crate) to: &'static str,
    /// Why, in a line (written next to the binaries).
    pub(crate) why: &'static str,
}

const POLL: &str =
    "err := wait.Poll(1*time.Second, 30*time.Second, func() (done bool, err error) {";
const POLL_IMMEDIATE: &str =
    "err := wait.PollImmediate(1*time.Second, 30*time.Second, func() (done bool, err error) {";

/// The changes, applied in order.
pub(crate) const PATCHES: [SourcePatch; 4] = [
    SourcePatch {
        file: "pkg/registry/rbac/rest/storage_rbac.go",
        from: POLL,
        to: POLL_IMMEDIATE,
        why: "rbac/bootstrap-roles: first attempt at once, not after 1 s",
    },
    SourcePatch {
        file: "pkg/registry/scheduling/rest/storage_scheduling.go",
        from: POLL,
        to: POLL_IMMEDIATE,
        why: "scheduling/bootstrap-system-priority-classes: first attempt at once, not after 1 s",
    },
    SourcePatch {
        file: "staging/src/k8s.io/controller-manager/app/helper.go",
        from: "err := wait.PollImmediate(time.Second, timeout, func() (bool, error) {",
        to: "err := wait.PollImmediate(100*time.Millisecond, timeout, func() (bool, error) {",
        why: "controller-manager: checks the apiserver's /healthz every 100 ms, not every 1 s",
    },
    SourcePatch {
        file: "cmd/kube-controller-manager/app/controllermanager.go",
        from: "genericcontrollermanager.WaitForAPIServer(versionedClient, 10*time.Second)",
        to: "genericcontrollermanager.WaitForAPIServer(versionedClient, 5*time.Minute)",
        why: "controller-manager: waits up to 5 min for the apiserver, not 10 s",
    },
];

/// Names the build: the first line of [`PATCHES_FILE`] and part of the cache directory's name, so binaries built with other
/// patches (or none) are never taken for these. Change it whenever [`PATCHES`] changes.
pub const PATCH_LEVEL: &str = "o2dms1";

/// The file written next to the binaries, saying what was changed: `patch-level: LEVEL`,
/// then one line per change.
pub const PATCHES_FILE: &str = "o2dms-source-patches.txt";

/// Applies `patches` to the source tree at `root`. Every patch is checked before any file
/// is written, so a source that does not match leaves the tree untouched.
pub(crate) fn apply(root: &Path, patches: &[SourcePatch]) -> Result<(), String> {
    // One pending text per file: several patches may touch the same one.
    let mut changed: Vec<(std::path::PathBuf, String)> = Vec::with_capacity(patches.len());
    for p in patches {
        let path = root.join(p.file);
        let i = match changed.iter().position(|(f, _)| *f == path) {
            Some(i) => i,
            None => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("reading {}: {e}", path.display()))?;
                changed.push((path, text));
                changed.len() - 1
            }
        };
        let text = &mut changed[i].1;
        let found = text.matches(p.from).count();
        if found != 1 {
            return Err(format!(
                "{}: expected `{}` once, found it {found} times (not the source these \
                 patches were written for)",
                p.file, p.from
            ));
        }
        *text = text.replacen(p.from, p.to, 1);
    }
    for (path, text) in changed {
        std::fs::write(&path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    Ok(())
}

/// The text of [`PATCHES_FILE`].
pub(crate) fn describe(patches: &[SourcePatch]) -> String {
    let mut text = format!("patch-level: {PATCH_LEVEL}\n");
    for p in patches {
        text.push_str(&format!("{}: {}\n", p.file, p.why));
    }
    text
}

/// The patch level recorded beside binaries in `dir`, if they were built here.
pub(crate) fn patch_level_in(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(PATCHES_FILE)).ok()?;
    let level = text.lines().next()?.strip_prefix("patch-level:")?.trim();
    (!level.is_empty()).then(|| level.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (rel, text) in files {
            let path = dir.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    fn hook(body: &str) -> String {
        format!("func hook() {{\n\t\t{body}\n\t\t\treturn true, nil\n\t\t}})\n}}\n")
    }

    #[test]
    fn every_patch_applies_to_a_source_that_has_its_text() {
        let files: Vec<(&str, String)> = PATCHES.iter().map(|p| (p.file, hook(p.from))).collect();
        let refs: Vec<(&str, &str)> = files.iter().map(|(f, t)| (*f, t.as_str())).collect();
        let dir = tree(&refs);
        apply(dir.path(), &PATCHES).unwrap();
        for p in PATCHES {
            let text = std::fs::read_to_string(dir.path().join(p.file)).unwrap();
            assert_eq!(text, hook(p.to), "{}", p.file);
        }
        // The bootstrap hooks poll immediately, the controller-manager polls fast and long.
        assert!(PATCHES[..2]
            .iter()
            .all(|p| p.to.contains("wait.PollImmediate(1*time.Second")));
        assert!(PATCHES[2].to.contains("100*time.Millisecond"));
        assert!(PATCHES[3].to.contains("5*time.Minute"));
    }

    #[test]
    fn a_source_without_the_text_is_refused_and_nothing_is_written() {
        let other = hook("err := wait.Poll(2*time.Second, 30*time.Second, f)");
        let dir = tree(&[(PATCHES[0].file, &hook(POLL)), (PATCHES[1].file, &other)]);
        let err = apply(dir.path(), &PATCHES).unwrap_err();
        assert!(err.contains(PATCHES[1].file), "{err}");
        assert!(err.contains("found it 0 times"), "{err}");
        // The first file matched, yet is left as it was.
        let first = std::fs::read_to_string(dir.path().join(PATCHES[0].file)).unwrap();
        assert_eq!(first, hook(POLL));
    }

    #[test]
    fn a_text_found_twice_is_ambiguous() {
        let twice = hook(&format!("{POLL}\n{POLL}"));
        let dir = tree(&[(PATCHES[0].file, &twice)]);
        let err = apply(dir.path(), &PATCHES[..1]).unwrap_err();
        assert!(err.contains("found it 2 times"), "{err}");
    }

    #[test]
    fn a_missing_file_is_named() {
        let dir = tree(&[]);
        let err = apply(dir.path(), &PATCHES).unwrap_err();
        assert!(err.contains("storage_rbac.go"), "{err}");
    }

    #[test]
    fn two_patches_to_one_file_both_apply() {
        let a = SourcePatch {
            file: "x.go",
            from: "alpha",
            to: "ALPHA",
            why: "",
        };
        let b = SourcePatch {
            file: "x.go",
            from: "beta",
            to: "BETA",
            why: "",
        };
        let dir = tree(&[("x.go", "alpha beta")]);
        apply(dir.path(), &[a, b]).unwrap();
        let text = std::fs::read_to_string(dir.path().join("x.go")).unwrap();
        assert_eq!(text, "ALPHA BETA");
    }

    #[test]
    fn the_description_names_the_level_and_every_file() {
        let text = describe(&PATCHES);
        assert_eq!(text.lines().count(), 1 + PATCHES.len());
        for p in PATCHES {
            assert!(text.contains(p.file));
        }
        let dir = tree(&[(PATCHES_FILE, &text)]);
        assert_eq!(patch_level_in(dir.path()).as_deref(), Some(PATCH_LEVEL));
    }

    #[test]
    fn binaries_without_the_file_or_the_level_line_are_unpatched() {
        let none = tree(&[]);
        assert_eq!(patch_level_in(none.path()), None);
        let other = tree(&[(PATCHES_FILE, "something else\n")]);
        assert_eq!(patch_level_in(other.path()), None);
        let empty = tree(&[(PATCHES_FILE, "patch-level: \n")]);
        assert_eq!(patch_level_in(empty.path()), None);
    }
}
