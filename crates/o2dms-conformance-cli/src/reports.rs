//! Writing the reports a run asked for.

use anyhow::Context as _;
use o2dms_conformance::Report;

use crate::args::ReportTarget;

/// Writes `report` to each target; the YAML one is the publishable conformance report,
/// whose `reproduce` field is `reproduce`.
///
/// # Errors
/// A file that cannot be written, naming it.
pub fn write_reports(
    report: &Report,
    targets: &[ReportTarget],
    reproduce: &str,
) -> anyhow::Result<()> {
    for target in targets {
        let (path, written) = match target {
            ReportTarget::Json(p) => (p, report.write_json(p)),
            ReportTarget::Junit(p) => (p, report.write_junit(p)),
            ReportTarget::Yaml(p) => (p, report.published(reproduce).write_yaml(p)),
        };
        written.with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
