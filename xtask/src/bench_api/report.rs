//! What a `cargo xtask bench-api` run found, each figure with its target and whether it
//! was met: a Markdown table, JSON, and the table spliced into `docs/performance.md`
//! between `<!-- bench-api:start -->` and `<!-- bench-api:end -->`. A target that is not
//! met is reported, never failed.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use serde::Serialize;

use super::helm::CreateOverhead;
use super::latency::{CreateLatency, GetLatency, Percentiles};
use super::measure::Stats;
use super::procfs::Rss;
use super::wrk::WrkReport;

/// Target 1: what the server adds to a get at the median, in µs.
pub const GET_OVERHEAD_TARGET_US: f64 = 100.0;
/// Target 2: gets per second with 16 concurrent clients.
pub const THROUGHPUT_TARGET: f64 = 20_000.0;
/// Target 3: the idle resident set, in bytes (30 MB).
pub const IDLE_RSS_TARGET_BYTES: f64 = 30e6;
/// Target 4: what the server adds to a Helm create, as a fraction.
pub const CREATE_OVERHEAD_TARGET: f64 = 0.02;

/// The mock server's memory.
#[derive(Debug, Clone, Serialize)]
pub struct ServerMemory {
    /// Right after it printed its address (nothing served yet).
    pub after_start: Rss,
    /// Idle again, a second after the load.
    pub after_load: Rss,
}

/// A whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Results {
    /// When the run started (UTC, RFC 3339).
    pub started: String,
    /// `release` or `debug` (`--debug-build`): the build of `o2dms` and of the bench.
    pub build: String,
    /// 1-minute load average when the run started and ended.
    pub load: (Option<f64>, Option<f64>),
    /// Part 1, the client on a current-thread runtime (judged).
    pub get: GetLatency,
    /// Part 1 again, the client on the bench's 2-worker runtime (reported).
    pub get_multi_thread: GetLatency,
    /// A create on the mock, in process and through the server (current-thread client):
    /// the server's own share of any create.
    pub mock_create: CreateLatency,
    /// Part 2.
    pub throughput: WrkReport,
    /// CPU the server used while wrk ran, in cores (CPU seconds / wall seconds).
    pub server_cores_under_load: f64,
    /// Part 3.
    pub memory: ServerMemory,
    /// Part 4; `None` with `--skip-helm`.
    pub create: Option<CreateOverhead>,
}

fn us(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0} µs")
    } else if v.abs() >= 10.0 {
        format!("{v:.1} µs")
    } else {
        format!("{v:.2} µs")
    }
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

/// A latency in µs, in ms from 1 ms on.
fn time_us(v: f64) -> String {
    if v >= 1000.0 {
        ms(v / 1000.0)
    } else {
        us(v)
    }
}

fn mib(v: f64) -> String {
    format!("{v:.1} MiB")
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn percentiles(p: &Percentiles) -> String {
    format!(
        "{} ({}, {})",
        time_us(p.median_us),
        time_us(p.p90_us),
        time_us(p.p99_us)
    )
}

fn stats(s: &Stats) -> String {
    format!("{} ({})", ms(s.median_ms), ms(s.p90_ms))
}

fn met(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "**not met**"
    }
}

impl Results {
    /// Whether target 1 is met.
    pub fn get_met(&self) -> bool {
        self.get.overhead_us() < GET_OVERHEAD_TARGET_US
    }

    /// Whether target 2 is met.
    pub fn throughput_met(&self) -> bool {
        self.throughput.requests_per_sec >= THROUGHPUT_TARGET
    }

    /// Whether target 3 is met by a reading.
    pub fn idle_met(rss: &Rss) -> bool {
        rss.now_mib * 1024.0 * 1024.0 < IDLE_RSS_TARGET_BYTES
    }

    /// Whether target 4 is met; `None` when it was not measured.
    pub fn create_met(&self) -> Option<bool> {
        self.create
            .as_ref()
            .map(|c| c.overhead() < CREATE_OVERHEAD_TARGET)
    }

    /// Whether every target measured is met.
    pub fn all_met(&self) -> bool {
        self.get_met()
            && self.throughput_met()
            && Self::idle_met(&self.memory.after_start)
            && Self::idle_met(&self.memory.after_load)
            && self.create_met() != Some(false)
    }

    /// A line on the setting, the table, and a note on how wrk shares the machine.
    pub fn markdown(&self) -> String {
        let load = |l: Option<f64>| l.map_or("?".to_owned(), |l| format!("{l:.2}"));
        let mut out = String::new();
        let helm = self.create.as_ref().map_or(String::new(), |c| {
            format!("; creates with Helm {} on {}", c.helm, c.cluster)
        });
        let _ =
            writeln!(
            out,
            "{} build of `o2dms serve` hosting the mock{helm}; run started {}, load average {} \
             at the start, {} at the end.\n",
            if self.build == "release" { "Release" } else { "Debug" },
            self.started,
            load(self.load.0),
            load(self.load.1),
        );
        out.push_str(
            "| measurement | in process | through `o2dms serve` | figure | target | met |\n\
             | --- | --- | --- | --- | --- | --- |\n",
        );
        let g = &self.get;
        let _ = writeln!(
            out,
            "| get of one deployment, {} interleaved samples per side, client on a current-thread runtime: median (p90, p99) | {} | {} | **{:+.1} µs** at the median | < {GET_OVERHEAD_TARGET_US:.0} µs added | {} |",
            thousands(g.samples as u64),
            percentiles(&g.in_process),
            percentiles(&g.remote),
            g.overhead_us(),
            met(self.get_met()),
        );
        let m = &self.get_multi_thread;
        let _ = writeln!(
            out,
            "| same, client on a 2-worker runtime (each get also wakes the client's other thread) | {} | {} | {:+.1} µs at the median | – | – |",
            percentiles(&m.in_process),
            percentiles(&m.remote),
            m.overhead_us(),
        );
        let w = &self.throughput;
        let latency: Vec<String> = w
            .latency_us
            .iter()
            .map(|(p, v)| format!("p{p} {}", time_us(*v)))
            .collect();
        let _ = writeln!(
            out,
            "| gets/s, `wrk -t{} -c{} -d{}s --latency` on loopback ({} keep-alive connections) | – | {} requests; latency {} | **{}/s** | ≥ {}/s | {} |",
            w.threads,
            w.connections,
            w.duration_s,
            w.connections,
            thousands(w.requests),
            latency.join(", "),
            thousands(w.requests_per_sec.round() as u64),
            thousands(THROUGHPUT_TARGET as u64),
            met(self.throughput_met()),
        );
        let target_mib = IDLE_RSS_TARGET_BYTES / 1024.0 / 1024.0;
        for (what, rss) in [
            (
                "resident set, idle right after start",
                &self.memory.after_start,
            ),
            ("resident set, idle after the load", &self.memory.after_load),
        ] {
            let _ = writeln!(
                out,
                "| {what} (VmRSS) | – | {} | **{}** | < 30 MB ({target_mib:.1} MiB) | {} |",
                mib(rss.now_mib),
                mib(rss.now_mib),
                met(Self::idle_met(rss)),
            );
        }
        let _ = writeln!(
            out,
            "| resident set, peak over the run (VmHWM) | – | {} | {} | – | – |",
            mib(self.memory.after_load.peak_mib),
            mib(self.memory.after_load.peak_mib),
        );
        let mc = &self.mock_create;
        let _ = writeln!(
            out,
            "| create on the mock (the server's own share of a write: request, operation, `Prefer: wait`, answer), {} samples per side: median (p90, p99) | {} | {} | {:+.1} µs at the median{} | – | – |",
            thousands(mc.samples as u64),
            percentiles(&mc.in_process),
            percentiles(&mc.remote),
            mc.overhead_us(),
            self.create.as_ref().map_or(String::new(), |c| format!(
                " = {:+.3} % of the in-process Helm create's median",
                mc.overhead_us() / 1e3 / c.in_process_create.median_ms * 100.0
            )),
        );
        match &self.create {
            Some(c) => {
                let medians =
                    (c.server_create.median_ms / c.in_process_create.median_ms - 1.0) * 100.0;
                let figure = match c.paired_create_ratio {
                    Some(p) => format!(
                        "**{:+.1} %** paired ({medians:+.1} % of medians)",
                        (p - 1.0) * 100.0
                    ),
                    None => format!("**{medians:+.1} %** of medians"),
                };
                let _ = writeln!(
                    out,
                    "| create with Helm (web chart, 2 replicas, `--wait`), {} cycle{} per side: median (p90) | {} | {} | {figure} | < +{:.0} % | {} |",
                    c.cycles,
                    if c.cycles == 1 { "" } else { "s" },
                    stats(&c.in_process_create),
                    stats(&c.server_create),
                    CREATE_OVERHEAD_TARGET * 100.0,
                    met(c.overhead() < CREATE_OVERHEAD_TARGET),
                );
                let _ = writeln!(
                    out,
                    "| delete with Helm, same cycles: median (p90) | {} | {} | {:+.1} % of medians | – | – |",
                    stats(&c.in_process_delete),
                    stats(&c.server_delete),
                    (c.server_delete.median_ms / c.in_process_delete.median_ms - 1.0) * 100.0,
                );
                let _ = writeln!(
                    out,
                    "| resident set of `o2dms serve` with a helm plugin: connected; after the cycles (peak) | – | {}; {} ({}) | – | – | – |",
                    mib(c.server_rss_connected.now_mib),
                    mib(c.server_rss_after.now_mib),
                    mib(c.server_rss_after.peak_mib),
                );
            }
            None => out
                .push_str("| create with Helm | – | – | skipped (`--skip-helm`) | < +2 % | – |\n"),
        }
        let _ = writeln!(
            out,
            "\nwrk and the server share the machine's 2 cores: the server used {:.2} of them \
             while wrk ran, wrk (and anything else running) the rest, so the gets/s figure is \
             what the pair reaches together on this machine, not the server's own ceiling.",
            self.server_cores_under_load
        );
        out
    }
}

const START: &str = "<!-- bench-api:start -->";
const END: &str = "<!-- bench-api:end -->";

/// `doc` with the text between the bench-api markers replaced by `section` (a heading
/// and the markers appended when they are missing).
pub fn splice(doc: &str, section: &str) -> String {
    if let (Some(b), Some(e)) = (doc.find(START), doc.find(END)) {
        if b < e {
            return format!("{}{START}\n{section}{}", &doc[..b], &doc[e..]);
        }
    }
    let mut out = doc.trim_end().to_owned();
    let _ = write!(
        out,
        "\n\n## REST API (`o2dms serve`)\n\n{START}\n{section}{END}\n"
    );
    out
}

/// Rewrites the bench-api section of the performance document at `path`.
pub fn write_docs(path: &Path, results: &Results) -> anyhow::Result<()> {
    let doc =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    std::fs::write(path, splice(&doc, &results.markdown()))
        .with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::super::latency::ClientRuntime;
    use super::*;

    fn results(remote_median_us: f64, rps: f64, idle_mib: f64) -> Results {
        let p = |m: f64| Percentiles {
            median_us: m,
            p90_us: m * 1.5,
            p99_us: m * 3.0,
        };
        Results {
            started: "2026-12-01T23:00:00Z".into(),
            build: "release".into(),
            load: (Some(0.5), None),
            get: GetLatency {
                client: ClientRuntime::CurrentThread,
                samples: 2000,
                in_process: p(0.4),
                remote: p(remote_median_us),
            },
            get_multi_thread: GetLatency {
                client: ClientRuntime::MultiThread,
                samples: 2000,
                in_process: p(0.3),
                remote: p(150.0),
            },
            throughput: WrkReport {
                url: "http://127.0.0.1:1/x".into(),
                threads: 2,
                connections: 16,
                duration_s: 10,
                requests: 250_000,
                requests_per_sec: rps,
                latency_us: vec![(50, 500.0), (99, 2500.0)],
                non_2xx: 0,
                socket_errors: 0,
            },
            server_cores_under_load: 1.2,
            mock_create: CreateLatency {
                samples: 500,
                in_process: p(2.0),
                remote: p(100.0),
            },
            memory: ServerMemory {
                after_start: Rss {
                    now_mib: idle_mib,
                    peak_mib: idle_mib,
                },
                after_load: Rss {
                    now_mib: idle_mib,
                    peak_mib: 2.0 * idle_mib,
                },
            },
            create: None,
        }
    }

    #[test]
    fn every_figure_carries_its_target_and_verdict() {
        let r = results(80.4, 25_000.4, 10.0);
        assert!(r.all_met());
        let md = r.markdown();
        assert!(
            md.contains("| 0.40 µs (0.60 µs, 1.20 µs) | 80.4 µs (121 µs, 241 µs) | **+80.0 µs** at the median | < 100 µs added | met |"),
            "{md}"
        );
        assert!(
            md.contains("| 0.30 µs (0.45 µs, 0.90 µs) | 150 µs (225 µs, 450 µs) | +149.7 µs at the median | – | – |"),
            "{md}"
        );
        assert!(md.contains("| **25,000/s** | ≥ 20,000/s | met |"), "{md}");
        assert!(md.contains("latency p50 500 µs, p99 2.50 ms"), "{md}");
        assert!(
            md.contains("| **10.0 MiB** | < 30 MB (28.6 MiB) | met |"),
            "{md}"
        );
        assert!(md.contains("| 20.0 MiB | 20.0 MiB | – | – |"), "{md}");
        assert!(md.contains("skipped (`--skip-helm`)"), "{md}");
        assert!(md.contains("load average 0.50 at the start, ? at the end"));

        let r = results(120.0, 19_000.0, 29.0);
        assert!(!r.all_met());
        let md = r.markdown();
        assert_eq!(md.matches("**not met**").count(), 4, "{md}");
    }

    #[test]
    fn the_create_row_judges_the_paired_ratio() {
        let s = |median: f64| Stats {
            samples: 5,
            median_ms: median,
            p90_ms: median * 1.2,
            min_ms: median * 0.9,
        };
        let rss = Rss {
            now_mib: 12.0,
            peak_mib: 14.0,
        };
        let mut r = results(50.0, 30_000.0, 10.0);
        let mut create = CreateOverhead {
            helm: "v4.1.4".into(),
            cluster: "local cluster, Kubernetes v1.20.2".into(),
            cycles: 1,
            in_process_create: s(300.0),
            server_create: s(309.0),
            in_process_delete: s(200.0),
            server_delete: s(200.0),
            paired_create_ratio: Some(1.01),
            in_process_creates_ms: vec![300.0],
            server_creates_ms: vec![309.0],
            server_rss_connected: rss,
            server_rss_after: rss,
        };
        r.create = Some(create.clone());
        assert_eq!(r.create_met(), Some(true));
        let md = r.markdown();
        assert!(
            md.contains("creates with Helm v4.1.4 on local cluster"),
            "{md}"
        );
        assert!(
            md.contains("| 2.00 µs (3.00 µs, 6.00 µs) | 100 µs (150 µs, 300 µs) | +98.0 µs at the median = +0.033 % of the in-process Helm create's median | – | – |"),
            "{md}"
        );
        assert!(
            md.contains("1 cycle per side: median (p90) | 300 ms (360 ms) | 309 ms (371 ms) | **+1.0 %** paired (+3.0 % of medians) | < +2 % | met |"),
            "{md}"
        );
        create.paired_create_ratio = Some(1.025);
        create.cycles = 5;
        r.create = Some(create);
        assert!(!r.all_met());
        assert!(r.markdown().contains("5 cycles per side"));
    }

    #[test]
    fn numbers_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn splicing_replaces_only_the_section() {
        let doc = "# P\n\n<!-- bench-api:start -->\nold\n<!-- bench-api:end -->\ntail\n";
        assert_eq!(
            splice(doc, "new\n"),
            "# P\n\n<!-- bench-api:start -->\nnew\n<!-- bench-api:end -->\ntail\n"
        );
        let added = splice("# P\n", "t\n");
        assert_eq!(
            added,
            "# P\n\n## REST API (`o2dms serve`)\n\n<!-- bench-api:start -->\nt\n<!-- bench-api:end -->\n"
        );
    }
}
