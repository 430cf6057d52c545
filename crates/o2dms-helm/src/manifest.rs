//! The workloads a release's rendered manifest declares.

use o2dms_core::Value;
use serde::Deserialize;

/// A workload kind whose live status the adapter reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum WorkloadKind {
    /// apps/v1 Deployment
    Deployment,
    /// apps/v1 StatefulSet
    StatefulSet,
    /// apps/v1 DaemonSet
    DaemonSet,
    /// batch/v1 Job
    Job,
    /// v1 Service of type LoadBalancer (ready once it has an address).
    LoadBalancer,
}

impl WorkloadKind {
    /// The Kubernetes kind.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
            WorkloadKind::Job => "Job",
            WorkloadKind::LoadBalancer => "Service",
        }
    }

    fn from_doc(api_version: &str, kind: &str, spec: Option<&Value>) -> Option<WorkloadKind> {
        let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
        match (group, kind) {
            ("apps", "Deployment") => Some(WorkloadKind::Deployment),
            ("apps", "StatefulSet") => Some(WorkloadKind::StatefulSet),
            ("apps", "DaemonSet") => Some(WorkloadKind::DaemonSet),
            ("batch", "Job") => Some(WorkloadKind::Job),
            ("", "Service")
                if spec
                    .and_then(Value::as_map)
                    .and_then(|m| m.get("type"))
                    .and_then(Value::as_str)
                    == Some("LoadBalancer") =>
            {
                Some(WorkloadKind::LoadBalancer)
            }
            _ => None,
        }
    }

    /// Whether `spec.replicas` scales it.
    pub(crate) fn has_replicas(self) -> bool {
        matches!(self, WorkloadKind::Deployment | WorkloadKind::StatefulSet)
    }
}

/// One workload named in a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct WorkloadRef {
    /// Kind.
    pub(crate) kind: WorkloadKind,
    /// Namespace (the release's unless the manifest says otherwise).
    pub(crate) namespace: String,
    /// Name.
    pub(crate) name: String,
    /// `spec.replicas` as rendered, if set.
    pub(crate) replicas: Option<i64>,
}

impl WorkloadRef {
    /// `Deployment/web`
    pub(crate) fn label(&self) -> String {
        format!("{}/{}", self.kind.as_str(), self.name)
    }
}

#[derive(Deserialize)]
struct Doc {
    #[serde(rename = "apiVersion", default)]
    api_version: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    metadata: Option<Meta>,
    #[serde(default)]
    spec: Option<Value>,
}

#[derive(Deserialize)]
struct Meta {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
}

/// The Deployments, StatefulSets, DaemonSets, Jobs and LoadBalancer Services in `manifest` (a multi-document
/// YAML stream, read by serde-saphyr), sorted by kind, namespace and name. Documents that
/// are not objects of that shape are skipped, and reading stops at a syntax error: Helm
/// applied them, but they cannot be workloads the adapter can read.
pub(crate) fn workloads(manifest: &str, release_namespace: &str) -> Vec<WorkloadRef> {
    let mut input = manifest.as_bytes();
    let mut out: Vec<WorkloadRef> = serde_saphyr::read::<_, Doc>(&mut input)
        .filter_map(Result::ok)
        .filter_map(|doc| {
            let kind = WorkloadKind::from_doc(
                doc.api_version.as_deref()?,
                doc.kind.as_deref()?,
                doc.spec.as_ref(),
            )?;
            let meta = doc.metadata?;
            let name = meta.name.filter(|n| !n.is_empty())?;
            let namespace = meta
                .namespace
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| release_namespace.to_owned());
            let replicas = doc
                .spec
                .as_ref()
                .and_then(Value::as_map)
                .and_then(|m| m.get("replicas"))
                .and_then(|r| r.as_i64().or_else(|| r.as_str()?.trim().parse().ok()));
            Some(WorkloadRef {
                kind,
                namespace,
                name,
                replicas,
            })
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = "---
# Source: web/templates/serviceaccount.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: a-web
---
# Source: web/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: a-web
  labels:
    app: web
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web
  template:
    spec:
      containers:
        - name: web
          image: nginx
---
# Source: web/templates/sts.yaml
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  namespace: other
spec:
  serviceName: db
---
apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
---
# not yaml: [
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
---
apiVersion: extensions/v1beta1
kind: Deployment
metadata:
  name: ancient
";

    #[test]
    fn finds_workloads_and_replicas() {
        let w = workloads(MANIFEST, "ran");
        let got: Vec<(String, &str, Option<i64>)> = w
            .iter()
            .map(|w| (w.label(), w.namespace.as_str(), w.replicas))
            .collect();
        assert_eq!(
            got,
            [
                ("Deployment/a-web".to_string(), "ran", Some(3)),
                ("StatefulSet/db".to_string(), "other", None),
                ("DaemonSet/agent".to_string(), "ran", None),
                ("Job/migrate".to_string(), "ran", None),
            ]
        );
    }

    #[test]
    fn block_scalars_may_hold_document_markers() {
        // A ConfigMap whose data holds a YAML stream of its own: its `---` lines are
        // content, not document boundaries.
        let m = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  x.yaml: |\n    a: 1\n    ---\n    kind: Deployment\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: real\nspec:\n  replicas: 2\n";
        let w = workloads(m, "ns");
        assert_eq!(w.len(), 1);
        assert_eq!((w[0].name.as_str(), w[0].replicas), ("real", Some(2)));
    }

    #[test]
    fn empty_and_odd_manifests() {
        assert!(workloads("", "ns").is_empty());
        assert!(workloads("---\n---\n", "ns").is_empty());
        assert!(workloads("just text", "ns").is_empty());
        let quoted = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: q\nspec:\n  replicas: \"2\"\n";
        assert_eq!(workloads(quoted, "ns")[0].replicas, Some(2));
    }
}
