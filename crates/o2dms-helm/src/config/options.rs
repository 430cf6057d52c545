//! How helm applies a chart: typed options, never free-form argv.

use serde::Deserialize;

/// How helm applies a chart's objects to the cluster.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ApplyMethod {
    /// helm's own default: Helm 4 installs with server-side apply and upgrades or rolls
    /// back the way the release was applied; Helm 3 applies client-side.
    #[default]
    Auto,
    /// Server-side apply (Helm 4 `--server-side=true`; Helm 3 cannot).
    ServerSide,
    /// Client-side apply (Helm 4 `--server-side=false`; what Helm 3 always does). For
    /// charts that server-side apply refuses, e.g. duplicate list entries (ingress-nginx
    /// 4.10 on a Kubernetes 1.20 API server).
    ClientSide,
}

/// How Helm 4 waits for a release to be ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum WaitStrategy {
    /// Watch the objects' status (kstatus): `--wait=watcher`. Helm 3 cannot.
    Watcher,
    /// Poll as Helm 3 does: `--wait=legacy` (Helm 3: `--wait`).
    Legacy,
}
