//! What a bench run found: rows of adapter vs helm CLI timings with their targets, as a
//! Markdown table, as JSON, and spliced into `docs/performance.md`.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use serde::Serialize;

use super::measure::Stats;

/// What a row must show to meet the target.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// The helm CLI takes at least this many times as long as the adapter.
    FasterBy(f64),
    /// The adapter takes at most this fraction longer than the helm CLI (0.05 = 5 %).
    SlowerAtMost(f64),
    /// The adapter's median is under this many milliseconds.
    UnderMs(f64),
    /// Reported only.
    None,
}

/// One measured operation.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The data set, e.g. `100 releases × 2 revisions`.
    pub set: String,
    /// What the adapter did, e.g. `get`.
    pub operation: String,
    /// The adapter's timings.
    pub adapter: Stats,
    /// The helm command it is compared with, if any.
    pub cli_command: Option<String>,
    /// The helm CLI's timings, if any.
    pub cli: Option<Stats>,
    /// The target.
    pub target: Target,
    /// For interleaved runs: the median over pairs of adapter time / CLI time. Each pair
    /// ran back to back, so this ratio is far less noisy than the ratio of medians.
    pub paired_ratio: Option<f64>,
}

impl Row {
    /// helm CLI median / adapter median.
    pub fn speedup(&self) -> Option<f64> {
        let cli = self.cli?;
        (self.adapter.median_ms > 0.0).then(|| cli.median_ms / self.adapter.median_ms)
    }

    /// adapter / CLI: the paired ratio when there is one, else the ratio of medians.
    pub fn slowdown(&self) -> Option<f64> {
        self.paired_ratio
            .or_else(|| self.speedup().map(|s| 1.0 / s))
    }

    /// Whether the target is met; `None` when there is none (or nothing to compare).
    pub fn met(&self) -> Option<bool> {
        match self.target {
            Target::FasterBy(x) => self.speedup().map(|s| s >= x),
            Target::SlowerAtMost(f) => self.slowdown().map(|r| r <= 1.0 + f),
            Target::UnderMs(ms) => Some(self.adapter.median_ms < ms),
            Target::None => None,
        }
    }

    fn ratio_text(&self) -> String {
        match (self.target, self.speedup()) {
            (Target::SlowerAtMost(_), Some(_)) => {
                let medians = self.speedup().map_or(0.0, |s| (1.0 / s - 1.0) * 100.0);
                match self.paired_ratio {
                    Some(p) => format!(
                        "{:+.1} % paired ({medians:+.1} % of medians)",
                        (p - 1.0) * 100.0
                    ),
                    None => format!("{medians:+.1} %"),
                }
            }
            (_, Some(s)) => format!("{s:.1}× faster"),
            (_, None) => "–".to_owned(),
        }
    }

    fn target_text(&self) -> String {
        match self.target {
            Target::FasterBy(x) => format!("≥ {x}× faster"),
            Target::SlowerAtMost(f) => format!("≤ +{} %", f * 100.0),
            Target::UnderMs(ms) => format!("< {ms} ms"),
            Target::None => "–".to_owned(),
        }
    }
}

/// A whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Results {
    /// `helm version` of the CLI (and of the adapter's writes).
    pub helm: String,
    /// The cluster's kind and Kubernetes version.
    pub cluster: String,
    /// 1-minute load average when the run started and ended.
    pub load: (Option<f64>, Option<f64>),
    /// The rows, in the order measured.
    pub rows: Vec<Row>,
    /// The memory run, if there was one.
    pub memory: Option<super::memory::Memory>,
}

/// Peak resident set the memory run must stay under.
const MEMORY_TARGET_MIB: f64 = 150.0;

fn stats_text(s: &Stats) -> String {
    format!("{} ({})", ms(s.median_ms), ms(s.p90_ms))
}

fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0} ms")
    } else if v >= 10.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.2} ms")
    }
}

impl Results {
    /// Whether every row with a target meets it, and memory stays under its target.
    pub fn all_met(&self) -> bool {
        self.rows.iter().all(|r| r.met() != Some(false))
            && self
                .memory
                .as_ref()
                .is_none_or(|m| m.peak_rss_mib < MEMORY_TARGET_MIB)
    }

    /// A Markdown section: a line on the setting, then one table.
    pub fn markdown(&self) -> String {
        let load = |l: Option<f64>| l.map_or("?".to_owned(), |l| format!("{l:.2}"));
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Helm {} on {}; load average {} at the start, {} at the end. \
             Medians with the 90th percentile in brackets.\n",
            self.helm,
            self.cluster,
            load(self.load.0),
            load(self.load.1)
        );
        out.push_str(
            "| data set | adapter operation | adapter | helm CLI | helm command | ratio | target | met |\n\
             | --- | --- | --- | --- | --- | --- | --- | --- |\n",
        );
        if let Some(m) = &self.memory {
            let rounds: Vec<String> = m.rss_mib.iter().map(|r| format!("{r:.0}")).collect();
            let _ = writeln!(
                out,
                "Memory of a fresh adapter process (reading the history of {} revisions of \
                 large records and listing {} releases, per round): {:.0} MiB after \
                 connecting; after each round {} MiB; peak {:.0} MiB (target < {MEMORY_TARGET_MIB:.0} \
                 MiB and flat: {}).\n",
                m.per_round.0,
                m.per_round.1,
                m.start_rss_mib,
                rounds.join(", "),
                m.peak_rss_mib,
                if m.peak_rss_mib < MEMORY_TARGET_MIB { "met" } else { "**not met**" },
            );
        }
        for r in &self.rows {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                r.set,
                r.operation,
                stats_text(&r.adapter),
                r.cli.as_ref().map_or("–".to_owned(), stats_text),
                r.cli_command
                    .as_deref()
                    .map_or("–".to_owned(), |c| format!("`{c}`")),
                r.ratio_text(),
                r.target_text(),
                match r.met() {
                    Some(true) => "yes",
                    Some(false) => "**no**",
                    None => "–",
                }
            );
        }
        out
    }
}

fn markers(helm_major: u8) -> (String, String) {
    (
        format!("<!-- xtask-bench:helm{helm_major}:begin -->"),
        format!("<!-- xtask-bench:helm{helm_major}:end -->"),
    )
}

/// `doc` with the text between the run's markers replaced by `section` (markers and a
/// heading appended when missing).
pub fn splice(doc: &str, helm_major: u8, section: &str) -> String {
    let (begin, end) = markers(helm_major);
    if let (Some(b), Some(e)) = (doc.find(&begin), doc.find(&end)) {
        if b < e {
            return format!("{}{begin}\n{section}{}", &doc[..b], &doc[e..]);
        }
    }
    let mut out = doc.trim_end().to_owned();
    let _ = write!(
        out,
        "\n\n### `cargo xtask bench --helm {helm_major}`\n\n{begin}\n{section}{end}\n"
    );
    out
}

/// Rewrites the run's section of the performance document at `path`.
pub fn write_docs(path: &Path, helm_major: u8, results: &Results) -> anyhow::Result<()> {
    let doc =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    std::fs::write(path, splice(&doc, helm_major, &results.markdown()))
        .with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(median: f64) -> Stats {
        Stats {
            samples: 10,
            median_ms: median,
            p90_ms: median * 1.5,
            min_ms: median / 2.0,
        }
    }

    fn row(adapter: f64, cli: Option<f64>, target: Target) -> Row {
        Row {
            set: "100 × 2".into(),
            operation: "get".into(),
            adapter: stats(adapter),
            cli_command: cli.map(|_| "helm status -o json".into()),
            cli: cli.map(stats),
            target,
            paired_ratio: None,
        }
    }

    #[test]
    fn targets_are_judged_by_medians() {
        assert_eq!(
            row(2.0, Some(60.0), Target::FasterBy(20.0)).met(),
            Some(true)
        );
        assert_eq!(
            row(4.0, Some(60.0), Target::FasterBy(20.0)).met(),
            Some(false)
        );
        assert_eq!(
            row(1040.0, Some(1000.0), Target::SlowerAtMost(0.05)).met(),
            Some(true)
        );
        assert_eq!(
            row(1060.0, Some(1000.0), Target::SlowerAtMost(0.05)).met(),
            Some(false)
        );
        // a paired ratio, when present, decides a slowdown target
        let mut paired = row(1100.0, Some(1000.0), Target::SlowerAtMost(0.05));
        paired.paired_ratio = Some(1.02);
        assert_eq!(paired.met(), Some(true));
        assert!(paired
            .ratio_text()
            .starts_with("+2.0 % paired (+10.0 % of medians)"));
        paired.paired_ratio = Some(1.06);
        assert_eq!(paired.met(), Some(false));
        assert_eq!(row(99.0, None, Target::UnderMs(100.0)).met(), Some(true));
        assert_eq!(row(101.0, None, Target::UnderMs(100.0)).met(), Some(false));
        assert_eq!(row(1.0, None, Target::None).met(), None);
        assert_eq!(row(1.0, None, Target::FasterBy(20.0)).met(), None);
    }

    #[test]
    fn markdown_table() {
        let r = Results {
            helm: "v4.1.4".into(),
            cluster: "local, Kubernetes v1.20.2".into(),
            load: (Some(0.5), None),
            rows: vec![
                row(2.0, Some(60.0), Target::FasterBy(20.0)),
                row(1060.0, Some(1000.0), Target::SlowerAtMost(0.05)),
            ],
            memory: Some(super::super::memory::Memory {
                first_list_ms: 800.0,
                start_rss_mib: 30.0,
                rss_mib: vec![60.0, 61.0],
                peak_rss_mib: 70.0,
                per_round: (1000, 1000),
            }),
        };
        assert!(!r.all_met());
        let md = r.markdown();
        assert!(
            md.contains(
                "after each round 60, 61 MiB; peak 70 MiB (target < 150 MiB and flat: met)"
            ),
            "{md}"
        );
        assert!(md.contains("load average 0.50 at the start, ? at the end"));
        assert!(md.contains(
            "| 100 × 2 | get | 2.00 ms (3.00 ms) | 60.0 ms (90.0 ms) | `helm status -o json` | 30.0× faster | ≥ 20× faster | yes |"
        ));
        assert!(md.contains("| +6.0 % | ≤ +5 % | **no** |"), "{md}");
    }

    #[test]
    fn splicing_replaces_only_the_runs_section() {
        let doc =
            "# P\n\n<!-- xtask-bench:helm4:begin -->\nold\n<!-- xtask-bench:helm4:end -->\ntail\n";
        let out = splice(doc, 4, "new\n");
        assert_eq!(
            out,
            "# P\n\n<!-- xtask-bench:helm4:begin -->\nnew\n<!-- xtask-bench:helm4:end -->\ntail\n"
        );
        let added = splice(doc, 3, "three\n");
        assert!(added.starts_with(doc.trim_end()));
        assert!(added.ends_with(
            "### `cargo xtask bench --helm 3`\n\n<!-- xtask-bench:helm3:begin -->\nthree\n<!-- xtask-bench:helm3:end -->\n"
        ));
    }
}
