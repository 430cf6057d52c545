//! Timing samples and their summary (median and 90th percentile).

use std::future::Future;
use std::time::{Duration, Instant};

use serde::Serialize;

/// Summary of one set of timings.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Stats {
    /// Number of samples.
    pub samples: usize,
    /// Median, in milliseconds.
    pub median_ms: f64,
    /// 90th percentile (nearest rank), in milliseconds.
    pub p90_ms: f64,
    /// Fastest sample, in milliseconds.
    pub min_ms: f64,
}

impl Stats {
    /// Summarises `samples`; `None` when there are none.
    pub fn of(samples: &[Duration]) -> Option<Stats> {
        if samples.is_empty() {
            return None;
        }
        let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        ms.sort_by(f64::total_cmp);
        let n = ms.len();
        let median = if n % 2 == 1 {
            ms[n / 2]
        } else {
            (ms[n / 2 - 1] + ms[n / 2]) / 2.0
        };
        // nearest rank: the smallest value with at least 90% of samples at or below it
        let rank = (0.9 * n as f64).ceil() as usize;
        Some(Stats {
            samples: n,
            median_ms: median,
            p90_ms: ms[rank.clamp(1, n) - 1],
            min_ms: ms[0],
        })
    }
}

/// The median of `a[i] / b[i]` over the pairs; `None` without pairs.
pub fn paired_median_ratio(a: &[Duration], b: &[Duration]) -> Option<f64> {
    let mut r: Vec<f64> = a
        .iter()
        .zip(b)
        .filter(|(_, y)| !y.is_zero())
        .map(|(x, y)| x.as_secs_f64() / y.as_secs_f64())
        .collect();
    if r.is_empty() {
        return None;
    }
    r.sort_by(f64::total_cmp);
    let n = r.len();
    Some(if n % 2 == 1 {
        r[n / 2]
    } else {
        (r[n / 2 - 1] + r[n / 2]) / 2.0
    })
}

/// Runs `op` `warmup` times untimed, then `samples` times timed; `op` gets the sample's
/// index (warm-up runs count from 0 too). The first error ends the run.
pub async fn sample<F, Fut, T, E>(
    warmup: usize,
    samples: usize,
    mut op: F,
) -> Result<Vec<Duration>, E>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    for i in 0..warmup {
        op(i).await?;
    }
    let mut out = Vec::with_capacity(samples);
    for i in 0..samples {
        let start = Instant::now();
        let r = op(i).await;
        out.push(start.elapsed());
        r?;
    }
    Ok(out)
}

/// Times one future.
pub async fn timed<T>(f: impl Future<Output = T>) -> (T, Duration) {
    let start = Instant::now();
    let out = f.await;
    (out, start.elapsed())
}

/// The 1-minute load average, if the OS says.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: &[u64]) -> Vec<Duration> {
        v.iter().map(|&m| Duration::from_millis(m)).collect()
    }

    #[test]
    fn median_and_p90() {
        let s = Stats::of(&ms(&[5, 1, 4, 2, 3])).unwrap();
        assert_eq!(s.samples, 5);
        assert_eq!(s.median_ms, 3.0);
        assert_eq!(s.p90_ms, 5.0);
        assert_eq!(s.min_ms, 1.0);

        let s = Stats::of(&ms(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10])).unwrap();
        assert_eq!(s.median_ms, 5.5);
        assert_eq!(s.p90_ms, 9.0);

        let s = Stats::of(&ms(&[7])).unwrap();
        assert_eq!((s.median_ms, s.p90_ms), (7.0, 7.0));
        assert!(Stats::of(&[]).is_none());
    }

    #[test]
    fn paired_ratios() {
        let r = paired_median_ratio(&ms(&[110, 300, 90]), &ms(&[100, 100, 100])).unwrap();
        assert!((r - 1.1).abs() < 1e-9, "{r}");
        let r = paired_median_ratio(&ms(&[2, 4]), &ms(&[1, 1])).unwrap();
        assert!((r - 3.0).abs() < 1e-9, "{r}");
        assert!(paired_median_ratio(&[], &[]).is_none());
        assert!(paired_median_ratio(&ms(&[1]), &ms(&[0])).is_none());
    }

    #[tokio::test]
    async fn sampling_runs_warmup_untimed_and_stops_at_an_error() {
        let mut calls = 0;
        let out = sample(2, 3, |_| {
            calls += 1;
            async { Ok::<_, ()>(()) }
        })
        .await
        .unwrap();
        assert_eq!(out.len(), 3);
        assert_eq!(calls, 5);

        let r = sample(0, 5, |i| async move {
            if i == 2 {
                Err(i)
            } else {
                Ok(())
            }
        })
        .await;
        assert_eq!(r, Err(2));
    }
}
