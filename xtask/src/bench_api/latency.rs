//! Part 1, the latency of a get: the mock in process (`MockAdapter::get_deployment`)
//! against the same get through `o2dms_remote::RemoteAdapter` over HTTP/1.1 keep-alive to
//! `o2dms serve` hosting a mock with the same settings. Each side holds one deployment,
//! made the same way (in process, and through the API). After a warm-up the samples are
//! interleaved, alternating which side goes first.
//!
//! The client runs twice: on a current-thread runtime of its own, where the request and
//! reqwest's connection task share one thread, so that the figure is what the server and
//! the loopback add (the judged one); and on the bench's 2-worker runtime, where each get
//! also pays for waking the client's other worker thread (reported beside it).

use std::time::Duration;

use anyhow::{bail, Context};
use o2dms_core::{CreateDeployment, DeploymentId, DmsAdapter, PackageId};
use o2dms_mock::{MockAdapter, MockSettings};
use o2dms_remote::RemoteAdapter;
use serde::Serialize;

use super::measure::{timed, Stats};

/// Untimed gets on each side before the samples.
const WARMUP: usize = 200;

/// Median, 90th and 99th percentile (nearest rank) of one side, in µs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Percentiles {
    /// Median.
    pub median_us: f64,
    /// 90th percentile.
    pub p90_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
}

impl Percentiles {
    /// Of `samples`; `None` when there are none.
    pub fn of(samples: &[Duration]) -> Option<Percentiles> {
        let stats = Stats::of(samples)?;
        let mut us: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e6).collect();
        us.sort_by(f64::total_cmp);
        // nearest rank, as Stats takes its 90th percentile
        let rank = (0.99 * us.len() as f64).ceil() as usize;
        Some(Percentiles {
            median_us: stats.median_ms * 1e3,
            p90_us: stats.p90_ms * 1e3,
            p99_us: us[rank.clamp(1, us.len()) - 1],
        })
    }
}

/// The client's Tokio runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClientRuntime {
    /// One thread: the request and the connection task never change threads.
    CurrentThread,
    /// The bench's runtime, one worker per core.
    MultiThread,
}

/// What part 1 measured on one client runtime.
#[derive(Debug, Clone, Serialize)]
pub struct GetLatency {
    /// The client's runtime (both sides ran on it).
    pub client: ClientRuntime,
    /// Timed gets per side.
    pub samples: usize,
    /// `MockAdapter::get_deployment` in process.
    pub in_process: Percentiles,
    /// `RemoteAdapter::get_deployment` against `o2dms serve` hosting the mock.
    pub remote: Percentiles,
}

impl GetLatency {
    /// What the server adds at the median: remote median − in-process median, in µs.
    pub fn overhead_us(&self) -> f64 {
        self.remote.median_us - self.in_process.median_us
    }
}

/// The deployment both sides hold.
pub fn deployment_id() -> DeploymentId {
    DeploymentId::new("bench", "web").expect("a valid deployment id")
}

/// Creates the deployment the gets read on `adapter`.
pub async fn create_one(adapter: &dyn DmsAdapter, settings: &MockSettings) -> anyhow::Result<()> {
    let package = settings
        .packages
        .first()
        .context("the mock settings have no package")?;
    let package = PackageId::new(format!("{}@{}", package.name, package.version))
        .map_err(|e| anyhow::anyhow!("package id: {e}"))?;
    adapter
        .create_deployment(CreateDeployment::new(deployment_id(), package))
        .await
        .map_err(|e| anyhow::anyhow!("creating the deployment the gets read: {e}"))?;
    Ok(())
}

/// [`measure`] and then [`measure_creates`] on a current-thread runtime of its own (in a
/// thread of its own), with its own `RemoteAdapter` connected to `endpoint`.
pub async fn measure_on_current_thread(
    settings: &MockSettings,
    endpoint: String,
    samples: usize,
) -> anyhow::Result<(GetLatency, CreateLatency)> {
    let settings = settings.clone();
    tokio::task::spawn_blocking(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting a current-thread runtime")?;
        runtime.block_on(async {
            let remote = RemoteAdapter::builder(endpoint)
                .connect()
                .await
                .map_err(|e| anyhow::anyhow!("connecting to o2dms serve: {e}"))?;
            let get = measure(&settings, &remote, samples, ClientRuntime::CurrentThread).await?;
            let create = measure_creates(&settings, &remote, samples.div_ceil(4)).await?;
            Ok((get, create))
        })
    })
    .await
    .context("the current-thread client")?
}

/// Measures `samples` gets per side on the runtime it is called on (`client` says
/// which). `remote` is connected to a server whose mock was made from `settings` and
/// holds the deployment already ([`create_one`]).
pub async fn measure(
    settings: &MockSettings,
    remote: &RemoteAdapter,
    samples: usize,
    client: ClientRuntime,
) -> anyhow::Result<GetLatency> {
    let mock = MockAdapter::from_settings(settings)
        .map_err(|e| anyhow::anyhow!("the in-process mock: {e}"))?;
    create_one(&mock, settings).await?;
    let id = deployment_id();
    let (local, served) = (
        mock.get_deployment(&id).await,
        remote.get_deployment(&id).await,
    );
    let (local, served) = (
        local.map_err(|e| anyhow::anyhow!("in-process get: {e}"))?,
        served.map_err(|e| anyhow::anyhow!("get through the server: {e}"))?,
    );
    if (&local.id, &local.package, local.revision) != (&served.id, &served.package, served.revision)
    {
        bail!("the two sides hold different deployments: {local:?} / {served:?}");
    }
    let runtime = match client {
        ClientRuntime::CurrentThread => "current-thread",
        ClientRuntime::MultiThread => "2-worker",
    };
    eprintln!(
        "get latency ({runtime} client): {WARMUP} warm-up and {samples} timed gets per side, \
         interleaved ..."
    );
    let mut ins = Vec::with_capacity(samples);
    let mut outs = Vec::with_capacity(samples);
    for i in 0..WARMUP + samples {
        let (a, b) = if i % 2 == 0 {
            let a = timed(mock.get_deployment(&id)).await;
            (a, timed(remote.get_deployment(&id)).await)
        } else {
            let b = timed(remote.get_deployment(&id)).await;
            (timed(mock.get_deployment(&id)).await, b)
        };
        a.0.map_err(|e| anyhow::anyhow!("in-process get: {e}"))?;
        b.0.map_err(|e| anyhow::anyhow!("get through the server: {e}"))?;
        if i >= WARMUP {
            ins.push(a.1);
            outs.push(b.1);
        }
    }
    Ok(GetLatency {
        client,
        samples,
        in_process: Percentiles::of(&ins).context("no samples")?,
        remote: Percentiles::of(&outs).context("no samples")?,
    })
}

/// A create on the mock in process against the same create through the server: what
/// the server's write path (the request, the operation, `Prefer: wait`, the answer) adds
/// to any adapter's create, whatever the adapter itself takes.
#[derive(Debug, Clone, Serialize)]
pub struct CreateLatency {
    /// Timed creates per side.
    pub samples: usize,
    /// `MockAdapter::create_deployment` in process.
    pub in_process: Percentiles,
    /// `RemoteAdapter::create_deployment` against `o2dms serve` hosting the mock.
    pub remote: Percentiles,
}

impl CreateLatency {
    /// Remote median − in-process median, in µs.
    pub fn overhead_us(&self) -> f64 {
        self.remote.median_us - self.in_process.median_us
    }
}

/// Times `samples` creates per side (each deleted again, untimed), alternating which
/// side goes first; deployments `bench/create-N`.
pub async fn measure_creates(
    settings: &MockSettings,
    remote: &RemoteAdapter,
    samples: usize,
) -> anyhow::Result<CreateLatency> {
    let mock = MockAdapter::from_settings(settings)
        .map_err(|e| anyhow::anyhow!("the in-process mock: {e}"))?;
    let package = settings
        .packages
        .first()
        .context("the mock settings have no package")?;
    let package = PackageId::new(format!("{}@{}", package.name, package.version))
        .map_err(|e| anyhow::anyhow!("package id: {e}"))?;
    let sides: [&dyn DmsAdapter; 2] = [&mock, remote];
    let warmup = (samples / 10).max(5);
    eprintln!(
        "create latency on the mock: {warmup} warm-up and {samples} timed creates per side ..."
    );
    let mut times: [Vec<Duration>; 2] = Default::default();
    for i in 0..warmup + samples {
        let id = DeploymentId::new("bench", format!("create-{i}"))
            .map_err(|e| anyhow::anyhow!("deployment id: {e}"))?;
        let order = if i % 2 == 0 { [0, 1] } else { [1, 0] };
        for side in order {
            let request = CreateDeployment::new(id.clone(), package.clone());
            let (r, t) = timed(sides[side].create_deployment(request)).await;
            r.map_err(|e| anyhow::anyhow!("create on the mock (side {side}): {e}"))?;
            if i >= warmup {
                times[side].push(t);
            }
        }
        for side in order {
            sides[side]
                .delete_deployment(&id)
                .await
                .map_err(|e| anyhow::anyhow!("delete on the mock (side {side}): {e}"))?;
        }
    }
    Ok(CreateLatency {
        samples,
        in_process: Percentiles::of(&times[0]).context("no samples")?,
        remote: Percentiles::of(&times[1]).context("no samples")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let samples: Vec<Duration> = (1..=200).map(Duration::from_micros).collect();
        let p = Percentiles::of(&samples).unwrap();
        assert!((p.median_us - 100.5).abs() < 1e-6, "{p:?}");
        assert!((p.p90_us - 180.0).abs() < 1e-6, "{p:?}");
        assert!((p.p99_us - 198.0).abs() < 1e-6, "{p:?}");
        let one = Percentiles::of(&[Duration::from_micros(7)]).unwrap();
        assert!((one.p99_us - 7.0).abs() < 1e-6);
        assert!(Percentiles::of(&[]).is_none());
    }
}
