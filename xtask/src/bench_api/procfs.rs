//! A process's figures from `/proc`: its memory from `/proc/PID/status` (the resident
//! set now, `VmRSS`, and its peak, `VmHWM`, the high-water mark since it started) and the
//! CPU time it has used from `/proc/PID/stat`.

use anyhow::Context;
use serde::Serialize;

/// Resident set of a process, in MiB.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rss {
    /// `VmRSS`: resident now.
    pub now_mib: f64,
    /// `VmHWM`: the peak so far.
    pub peak_mib: f64,
}

impl Rss {
    /// Reads `/proc/<pid>/status`.
    pub fn of_pid(pid: u32) -> anyhow::Result<Rss> {
        let path = format!("/proc/{pid}/status");
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
        Rss::parse(&text).with_context(|| format!("reading VmRSS and VmHWM of {path}"))
    }

    /// `VmRSS` and `VmHWM` of a `/proc/PID/status` text (values in kB, as the kernel
    /// writes them).
    pub fn parse(status: &str) -> anyhow::Result<Rss> {
        let field = |name: &str| -> anyhow::Result<f64> {
            let line = status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .with_context(|| format!("no {name} line"))?;
            let mut words = line.split_whitespace();
            let kib: f64 = words
                .next()
                .and_then(|v| v.parse().ok())
                .with_context(|| format!("unreadable {name}{line}"))?;
            if words.next() != Some("kB") {
                anyhow::bail!("{name}{line}: not in kB");
            }
            Ok(kib / 1024.0)
        };
        Ok(Rss {
            now_mib: field("VmRSS:")?,
            peak_mib: field("VmHWM:")?,
        })
    }
}

/// Clock ticks per second of `/proc/PID/stat` (`USER_HZ`, 100 on Linux whatever the
/// kernel's own tick).
const USER_HZ: f64 = 100.0;

/// CPU time (user + system) process `pid` has used so far, in seconds.
pub fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let path = format!("/proc/{pid}/stat");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    parse_cpu_seconds(&text).with_context(|| format!("reading utime and stime of {path}"))
}

/// `utime` + `stime` (fields 14 and 15) of a `/proc/PID/stat` line, in seconds.
fn parse_cpu_seconds(stat: &str) -> anyhow::Result<f64> {
    // The command name (field 2) is in parentheses and may hold spaces and parentheses:
    // the fields after it start after its last `)`.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .context("no `)` after the command name")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state): utime is field 14, stime field 15.
    let tick = |i: usize| -> anyhow::Result<f64> {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .map(|t| t as f64 / USER_HZ)
            .with_context(|| format!("field {} missing or unreadable", i + 3))
    };
    Ok(tick(11)? + tick(12)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_resident_set_and_its_peak() {
        let status = "Name:\to2dms\nVmPeak:\t  612340 kB\nVmHWM:\t   25028 kB\nVmRSS:\t   20480 kB\nThreads:\t3\n";
        let rss = Rss::parse(status).unwrap();
        assert_eq!(rss.now_mib, 20.0);
        assert!((rss.peak_mib - 24.441).abs() < 1e-3, "{rss:?}");
        assert!(Rss::parse("VmRSS:\t1 kB\n").is_err());
        assert!(Rss::parse("VmRSS:\tx kB\nVmHWM:\t1 kB\n").is_err());
        assert!(Rss::parse("VmRSS:\t1 MB\nVmHWM:\t1 kB\n").is_err());
    }

    #[test]
    fn reads_this_process() {
        let rss = Rss::of_pid(std::process::id()).unwrap();
        assert!(rss.now_mib > 0.0 && rss.peak_mib >= rss.now_mib, "{rss:?}");
        assert!(cpu_seconds(std::process::id()).unwrap() >= 0.0);
    }

    #[test]
    fn reads_user_and_system_time() {
        let stat = "4242 (o2 (dms) x) S 1 4242 4242 0 -1 4194560 1180 0 0 0 250 75 0 0 20 0 3 0 123 1000 200 18446744073709551615";
        assert!((parse_cpu_seconds(stat).unwrap() - 3.25).abs() < 1e-9);
        assert!(parse_cpu_seconds("4242 (o2dms) S 1").is_err());
        assert!(parse_cpu_seconds("no parenthesis").is_err());
    }
}
