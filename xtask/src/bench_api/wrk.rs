//! Part 2, throughput: `wrk` (Debian package `wrk`) with 2 threads and 16 keep-alive
//! connections against one deployment's `GET` on `o2dms serve`, on loopback, and its
//! report read back (requests per second, latency percentiles, errors). wrk runs on the
//! same 2 cores as the server, so the figure is what the pair reaches together.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{bail, Context};
use serde::Serialize;

/// wrk threads (`-t`).
pub const THREADS: u32 = 2;
/// Concurrent keep-alive connections (`-c`).
pub const CONNECTIONS: u32 = 16;

/// What one wrk run reported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WrkReport {
    /// The URL loaded.
    pub url: String,
    /// `-t`, `-c`, `-d` (seconds).
    pub threads: u32,
    /// Connections.
    pub connections: u32,
    /// Duration asked, in seconds.
    pub duration_s: u64,
    /// Requests completed.
    pub requests: u64,
    /// `Requests/sec`.
    pub requests_per_sec: f64,
    /// Latency percentiles of `--latency` (50, 75, 90, 99), in µs.
    pub latency_us: Vec<(u8, f64)>,
    /// `Non-2xx or 3xx responses`.
    pub non_2xx: u64,
    /// `Socket errors`, all kinds added up.
    pub socket_errors: u64,
}

/// `wrk` on `PATH`.
pub fn find_wrk() -> anyhow::Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("wrk"))
        .find(|p| p.is_file())
        .context("wrk is not on PATH; the throughput figure needs it: `apt-get install wrk`")
}

/// Runs `wrk -t2 -c16 -d<duration>s --latency <url>` (bounded: killed by its pid when it
/// overruns) and reads its report.
pub async fn run(wrk: &Path, url: &str, duration_s: u64) -> anyhow::Result<WrkReport> {
    let bound = Duration::from_secs(duration_s + 60);
    let out = tokio::time::timeout(
        bound,
        tokio::process::Command::new(wrk)
            .arg(format!("-t{THREADS}"))
            .arg(format!("-c{CONNECTIONS}"))
            .arg(format!("-d{duration_s}s"))
            .arg("--latency")
            .arg(url)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .with_context(|| format!("wrk did not finish within {bound:?}"))?
    .context("running wrk")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!(
            "wrk failed ({}): {}{}",
            out.status,
            stdout,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut report = parse(&stdout).with_context(|| format!("reading wrk's report:\n{stdout}"))?;
    report.url = url.to_owned();
    report.threads = THREADS;
    report.connections = CONNECTIONS;
    report.duration_s = duration_s;
    Ok(report)
}

/// A duration as wrk prints it (`312.00us`, `2.81ms`, `1.02s`, `1.50m`), in µs.
fn duration_us(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let n: f64 = number.parse().ok()?;
    let scale = match unit {
        "us" => 1.0,
        "ms" => 1e3,
        "s" => 1e6,
        "m" => 60e6,
        "h" => 3600e6,
        _ => return None,
    };
    Some(n * scale)
}

/// Reads wrk's report (the text it prints with `--latency`); `url`, threads,
/// connections and duration are left for the caller.
pub fn parse(text: &str) -> anyhow::Result<WrkReport> {
    let mut report = WrkReport {
        url: String::new(),
        threads: 0,
        connections: 0,
        duration_s: 0,
        requests: 0,
        requests_per_sec: f64::NAN,
        latency_us: Vec::new(),
        non_2xx: 0,
        socket_errors: 0,
    };
    let mut requests = None;
    let mut in_distribution = false;
    for line in text.lines().map(str::trim) {
        if line == "Latency Distribution" {
            in_distribution = true;
            continue;
        }
        if in_distribution {
            let mut words = line.split_whitespace();
            let percent = words
                .next()
                .and_then(|p| p.strip_suffix('%'))
                .and_then(|p| p.parse::<u8>().ok());
            match (percent, words.next().and_then(duration_us)) {
                (Some(p), Some(us)) => {
                    report.latency_us.push((p, us));
                    continue;
                }
                _ => in_distribution = false,
            }
        }
        if let Some(v) = line.strip_prefix("Requests/sec:") {
            report.requests_per_sec = v
                .trim()
                .parse()
                .with_context(|| format!("unreadable {line:?}"))?;
        } else if let Some(v) = line.strip_prefix("Non-2xx or 3xx responses:") {
            report.non_2xx = v
                .trim()
                .parse()
                .with_context(|| format!("unreadable {line:?}"))?;
        } else if let Some(v) = line.strip_prefix("Socket errors:") {
            // "connect 0, read 0, write 0, timeout 12"
            for part in v.split(',') {
                let n = part
                    .split_whitespace()
                    .nth(1)
                    .and_then(|n| n.parse::<u64>().ok())
                    .with_context(|| format!("unreadable {line:?}"))?;
                report.socket_errors += n;
            }
        } else if let Some((n, rest)) = line.split_once(" requests in ") {
            // "16319 requests in 3.01s, 6.25MB read"
            if rest.contains(" read") {
                requests = Some(
                    n.trim()
                        .parse::<u64>()
                        .with_context(|| format!("unreadable {line:?}"))?,
                );
            }
        }
    }
    report.requests = requests.context("no `N requests in` line")?;
    if report.requests_per_sec.is_nan() {
        bail!("no `Requests/sec` line");
    }
    if report.latency_us.is_empty() {
        bail!("no latency distribution (was --latency given?)");
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    impl WrkReport {
        fn latency(&self, percent: u8) -> Option<f64> {
            self.latency_us
                .iter()
                .find(|(p, _)| *p == percent)
                .map(|(_, v)| *v)
        }
    }

    /// wrk 4.1.0 (Debian 12) against a debug build of `o2dms serve`, as printed.
    const SAMPLE: &str = "Running 3s test @ http://127.0.0.1:37267/o2dms/v1/deploymentManagers/bench/deployments/ns/web
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.11ms    2.07ms  26.73ms   80.92%
    Req/Sec     2.73k   542.41     4.62k    73.33%
  Latency Distribution
     50%    2.81ms
     75%    3.97ms
     90%    5.07ms
     99%   10.38ms
  16319 requests in 3.01s, 6.25MB read
Requests/sec:   5423.28
Transfer/sec:      2.08MB
";

    /// The same against a missing deployment (404s), with socket errors added.
    const ERRORS: &str = "Running 1s test @ http://127.0.0.1:37267/o2dms/v1/deploymentManagers/bench/deployments/ns/missing
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.25ms    1.52ms  12.99ms   89.59%
    Req/Sec     4.43k   664.62     5.67k    70.00%
  Latency Distribution
     50%  764.00us
     75%    1.28ms
     90%    2.83ms
     99%    8.40ms
  4406 requests in 1.00s, 1.76MB read
  Socket errors: connect 0, read 2, write 0, timeout 12
  Non-2xx or 3xx responses: 4406
Requests/sec:   4400.47
Transfer/sec:      1.75MB
";

    #[test]
    fn reads_wrks_report() {
        let r = parse(SAMPLE).unwrap();
        assert_eq!(r.requests, 16319);
        assert_eq!(r.requests_per_sec, 5423.28);
        assert_eq!(r.latency(50), Some(2810.0));
        assert_eq!(r.latency(99), Some(10380.0));
        assert_eq!(r.latency_us.len(), 4);
        assert_eq!((r.non_2xx, r.socket_errors), (0, 0));

        let e = parse(ERRORS).unwrap();
        assert_eq!(e.latency(50), Some(764.0));
        assert_eq!((e.non_2xx, e.socket_errors), (4406, 14));
        assert_eq!(e.requests, 4406);
    }

    #[test]
    fn refuses_a_report_without_its_figures() {
        assert!(parse("").is_err());
        let no_latency: String = SAMPLE
            .lines()
            .filter(|l| !l.contains('%') || l.contains("Stdev") || l.contains("Req/Sec"))
            .filter(|l| !l.contains("Latency Distribution"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(parse(&no_latency).is_err(), "{no_latency}");
        assert!(parse(&SAMPLE.replace("Requests/sec:   5423.28", "")).is_err());
    }

    #[test]
    fn durations_in_wrks_units() {
        assert_eq!(duration_us("312.00us"), Some(312.0));
        assert_eq!(duration_us("2.5ms"), Some(2500.0));
        assert_eq!(duration_us("1.02s"), Some(1_020_000.0));
        assert_eq!(duration_us("1.50m"), Some(90e6));
        assert_eq!(duration_us("3.0x"), None);
        assert_eq!(duration_us("ms"), None);
    }
}
