//! A release record as the adapter reads it: the decoded revision with the labels and
//! creation time of its Secret ([`StoredRelease`]), or only what the labels say
//! ([`RevisionMeta`]), and how each becomes a [`Deployment`] or a [`Revision`].

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;
use kube::api::ObjectMeta;
use o2dms_core::{Deployment, DeploymentId, Error, PackageId, Result, Revision, Timestamp, Value};

use super::record::{
    decode_release, secret_name, HelmStatus, Release, ReleaseChart, RELEASE_DATA_KEY,
};
use crate::labels::{user_labels, PACKAGE_PREFIX_LABEL, SCALE_KEY_LABEL};
use crate::manifest::{workloads, WorkloadRef};

/// One release Secret, seen through its labels only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RevisionMeta {
    /// Namespace.
    pub(crate) namespace: String,
    /// Release name (`name` label).
    pub(crate) name: String,
    /// Revision (`version` label, or the Secret name's `.vN` suffix).
    pub(crate) revision: u32,
    /// Status (`status` label).
    pub(crate) status: HelmStatus,
    /// All labels of the Secret.
    pub(crate) labels: BTreeMap<String, String>,
    /// The Secret's creation time.
    pub(crate) created: Option<Timestamp>,
}

impl RevisionMeta {
    /// From a Secret's metadata; `None` if it is not a Helm release record.
    pub(crate) fn from_meta(meta: &ObjectMeta) -> Option<RevisionMeta> {
        let labels: BTreeMap<String, String> = meta.labels.clone().unwrap_or_default();
        if labels.get("owner").map(String::as_str) != Some("helm") {
            return None;
        }
        let secret = meta.name.as_deref()?;
        let name = labels.get("name")?.clone();
        let revision = labels
            .get("version")
            .and_then(|v| v.parse().ok())
            .or_else(|| secret.rsplit_once(".v")?.1.parse().ok())?;
        if secret != secret_name(&name, revision) {
            return None;
        }
        Some(RevisionMeta {
            namespace: meta.namespace.clone().unwrap_or_default(),
            name,
            revision,
            status: HelmStatus::parse(labels.get("status").map_or("", String::as_str)),
            created: meta
                .creation_timestamp
                .as_ref()
                .map(|t| Timestamp::from_unix(t.0.as_second(), 0)),
            labels,
        })
    }

    /// The deployment id (namespace/name), unvalidated.
    pub(crate) fn key(&self) -> (String, String) {
        (self.namespace.clone(), self.name.clone())
    }
}

/// The newest revision of each release among `metas`, keyed by (namespace, name).
pub(crate) fn latest_revisions(
    metas: impl IntoIterator<Item = RevisionMeta>,
) -> BTreeMap<(String, String), RevisionMeta> {
    let mut out: BTreeMap<(String, String), RevisionMeta> = BTreeMap::new();
    for m in metas {
        match out.get(&m.key()) {
            Some(cur) if cur.revision >= m.revision => {}
            _ => {
                out.insert(m.key(), m);
            }
        }
    }
    out
}

/// A decoded revision with the labels of its Secret.
#[derive(Debug, Clone)]
pub(crate) struct StoredRelease {
    /// The record; without the chart's content and the manifest when [`slim`](Self::slim).
    pub(crate) release: Release,
    /// The Secret's labels (Helm's, the adapter's and the user's).
    pub(crate) labels: BTreeMap<String, String>,
    /// The Secret's creation time.
    pub(crate) created: Option<Timestamp>,
    /// The workloads the manifest declares (what status and logs read).
    pub(crate) workloads: Vec<WorkloadRef>,
    /// Whether the chart's content and the manifest are here (a record as decoded), or
    /// were dropped for the cache ([`slim`](Self::slim)).
    whole: bool,
}

impl StoredRelease {
    /// Whether this record has the chart's content and the manifest (writes need them).
    pub(crate) fn is_whole(&self) -> bool {
        self.whole
    }

    /// This record without what reads never need: the chart's templates, files, default
    /// values and schema, and the rendered manifest (its workloads are kept). Charts that
    /// carry dashboards or certificates make those most of a record.
    pub(crate) fn slim(&self) -> StoredRelease {
        let r = &self.release;
        StoredRelease {
            release: Release {
                name: r.name.clone(),
                namespace: r.namespace.clone(),
                version: r.version,
                info: r.info.clone(),
                chart: ReleaseChart {
                    metadata: r.chart.metadata.clone(),
                    ..ReleaseChart::default()
                },
                config: r.config.clone(),
                manifest: String::new(),
                apply_method: r.apply_method.clone(),
            },
            labels: self.labels.clone(),
            created: self.created,
            workloads: self.workloads.clone(),
            whole: false,
        }
    }

    /// About how many bytes this record holds in memory, for the cache's budget.
    pub(crate) fn weight(&self) -> u64 {
        let r = &self.release;
        let strings = r.name.len()
            + r.namespace.len()
            + r.info.description.len()
            + r.manifest.len()
            + self
                .labels
                .iter()
                .map(|(k, v)| k.len() + v.len() + 64)
                .sum::<usize>()
            + self
                .workloads
                .iter()
                .map(|w| w.name.len() + w.namespace.len() + 64)
                .sum::<usize>();
        let chart: usize = r
            .chart
            .templates
            .iter()
            .chain(&r.chart.files)
            .map(|f| f.name.len() + f.data.len())
            .sum::<usize>()
            + r.chart.values.json_len()
            + r.chart.schema.as_ref().map_or(0, String::len);
        // values are held as a tree: count their JSON size twice for the nodes
        (512 + strings + chart + 2 * r.config.json_len()) as u64
    }
    /// The deployment id.
    pub(crate) fn id(&self) -> DeploymentId {
        DeploymentId {
            namespace: self.release.namespace.clone(),
            name: self.release.name.clone(),
        }
    }

    /// The package id this revision was installed from: `prefix:name@version` when the
    /// adapter recorded a store prefix ([`PACKAGE_PREFIX_LABEL`]), else `name@version`
    /// (unprefixed ids, and releases made by the helm CLI), with the chart's name and
    /// version from the record.
    pub(crate) fn package(&self) -> PackageId {
        let m = &self.release.chart.metadata;
        let id = match self
            .labels
            .get(PACKAGE_PREFIX_LABEL)
            .filter(|p| !p.is_empty())
        {
            Some(prefix) => PackageId::new(format!("{prefix}:{}@{}", m.name, m.version)),
            None => PackageId::from_name_version(&m.name, &m.version),
        };
        id.or_else(|_| PackageId::new("unknown@unknown"))
            .expect("a constant id is valid")
    }

    /// The scale key persisted for this deployment, if any.
    pub(crate) fn scale_key(&self) -> Option<&str> {
        self.labels.get(SCALE_KEY_LABEL).map(String::as_str)
    }

    /// As a [`Deployment`] (the newest revision describes the deployment).
    pub(crate) fn to_deployment(&self) -> Deployment {
        let r = &self.release;
        let created = r
            .info
            .first_deployed
            .or(self.created)
            .unwrap_or(Timestamp::EPOCH);
        let updated = r.info.last_deployed.or(self.created).unwrap_or(created);
        let mut extensions = BTreeMap::new();
        extensions.insert("helm.releaseName".to_owned(), Value::from(r.name.as_str()));
        extensions.insert("helm.revision".to_owned(), Value::from(r.version));
        extensions.insert("helm.chart".to_owned(), Value::from(r.chart_ref()));
        extensions.insert(
            "helm.status".to_owned(),
            Value::from(r.info.status.as_str()),
        );
        if let Some(k) = self.scale_key() {
            extensions.insert("helm.scaleKey".to_owned(), Value::from(k));
        }
        if let Some(m) = r.apply_method.as_deref().filter(|m| !m.is_empty()) {
            extensions.insert("helm.applyMethod".to_owned(), Value::from(m));
        }
        Deployment {
            id: self.id(),
            package: self.package(),
            revision: r.version,
            status: r.info.status.live_status(),
            description: r.info.description.clone(),
            labels: user_labels(&self.labels),
            values: r.config.clone(),
            created_at: created,
            updated_at: updated,
            extensions,
        }
    }

    /// As one history entry.
    pub(crate) fn to_revision(&self) -> Revision {
        let r = &self.release;
        Revision {
            revision: r.version,
            package: self.package(),
            status: r.info.status.revision_status(),
            description: r.info.description.clone(),
            values: r.config.clone(),
            updated_at: r
                .info
                .last_deployed
                .or(self.created)
                .unwrap_or(Timestamp::EPOCH),
        }
    }
}

/// Decodes a release Secret.
pub(crate) fn stored(secret: &Secret) -> Result<StoredRelease> {
    let name = secret.metadata.name.as_deref().unwrap_or("?");
    if let Some(t) = secret.type_.as_deref() {
        if t != super::record::RELEASE_SECRET_TYPE {
            return Err(Error::backend(format!(
                "Secret {name} has type {t}, not a Helm release record"
            )));
        }
    }
    let data = secret
        .data
        .as_ref()
        .and_then(|d| d.get(RELEASE_DATA_KEY))
        .ok_or_else(|| Error::backend(format!("Secret {name} has no `release` data")))?;
    let release =
        decode_release(&data.0).map_err(|e| Error::backend(format!("Secret {}: {e}", name)))?;
    let workloads = workloads(&release.manifest, &release.namespace);
    Ok(StoredRelease {
        workloads,
        whole: true,
        release,
        labels: secret.metadata.labels.clone().unwrap_or_default(),
        created: secret
            .metadata
            .creation_timestamp
            .as_ref()
            .map(|t| Timestamp::from_unix(t.0.as_second(), 0)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::ByteString;

    fn meta(secret: &str, labels: &[(&str, &str)]) -> ObjectMeta {
        ObjectMeta {
            name: Some(secret.to_owned()),
            namespace: Some("ns".to_owned()),
            labels: Some(
                labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            ..Default::default()
        }
    }

    #[test]
    fn newest_revision_per_release_from_labels() {
        let m = |n: &str, v: u32, s: &str| {
            RevisionMeta::from_meta(&meta(
                &secret_name(n, v),
                &[
                    ("owner", "helm"),
                    ("name", n),
                    ("version", &v.to_string()),
                    ("status", s),
                ],
            ))
            .unwrap()
        };
        let latest = latest_revisions([
            m("a", 1, "superseded"),
            m("a", 10, "deployed"),
            m("a", 9, "superseded"),
            m("b", 1, "pending-install"),
        ]);
        assert_eq!(latest.len(), 2);
        assert_eq!(latest[&("ns".into(), "a".into())].revision, 10);
        assert_eq!(
            latest[&("ns".into(), "b".into())].status,
            HelmStatus::PendingInstall
        );
    }

    #[test]
    fn ignores_secrets_that_are_not_release_records() {
        assert!(RevisionMeta::from_meta(&meta("x", &[("owner", "helm"), ("name", "x")])).is_none());
        assert!(RevisionMeta::from_meta(&meta(
            "sh.helm.release.v1.a.v1",
            &[("owner", "someone"), ("name", "a"), ("version", "1")]
        ))
        .is_none());
        // version label missing: the Secret name still says which revision it is
        let m = RevisionMeta::from_meta(&meta(
            "sh.helm.release.v1.a.b.v3",
            &[("owner", "helm"), ("name", "a.b")],
        ))
        .unwrap();
        assert_eq!(m.revision, 3);
    }

    #[test]
    fn secret_to_deployment() {
        let json = r#"{"name":"web","namespace":"ns","version":2,"info":{"first_deployed":"2026-01-01T00:00:00Z","last_deployed":"2026-01-02T00:00:00Z","deleted":"0001-01-01T00:00:00Z","description":"Upgrade complete","status":"deployed"},"chart":{"metadata":{"name":"web","version":"1.2.0"}},"config":{"replicaCount":2}}"#;
        let encoded = super::super::record::encode_release_json(json.as_bytes());
        let secret = Secret {
            metadata: meta(
                "sh.helm.release.v1.web.v2",
                &[
                    ("owner", "helm"),
                    ("name", "web"),
                    ("version", "2"),
                    ("status", "deployed"),
                    ("tier", "edge"),
                    (SCALE_KEY_LABEL, "server.replicas"),
                ],
            ),
            type_: Some("helm.sh/release.v1".into()),
            data: Some(
                [("release".to_string(), ByteString(encoded.into_bytes()))]
                    .into_iter()
                    .collect(),
            ),
            ..Default::default()
        };
        let s = stored(&secret).unwrap();
        let d = s.to_deployment();
        assert_eq!(d.id.to_string(), "ns/web");
        assert_eq!(d.package.as_str(), "web@1.2.0");
        assert_eq!(d.revision, 2);
        assert_eq!(d.status, o2dms_core::DeploymentStatus::Deployed);
        assert_eq!(d.labels.len(), 1);
        assert_eq!(d.extensions["helm.chart"], Value::from("web-1.2.0"));
        assert_eq!(d.extensions["helm.revision"], Value::Int(2));
        assert_eq!(d.extensions["helm.status"], Value::from("deployed"));
        assert_eq!(d.extensions["helm.releaseName"], Value::from("web"));
        assert_eq!(
            d.extensions["helm.scaleKey"],
            Value::from("server.replicas")
        );
        assert_eq!(d.created_at.to_string(), "2026-01-01T00:00:00Z");
        assert_eq!(
            s.to_revision().updated_at.to_string(),
            "2026-01-02T00:00:00Z"
        );

        // The recorded store prefix gives the exact id back, in the deployment and in
        // history; it is not a user label.
        let mut prefixed = s.clone();
        prefixed
            .labels
            .insert(PACKAGE_PREFIX_LABEL.into(), "oci".into());
        assert_eq!(prefixed.package().as_str(), "oci:web@1.2.0");
        assert_eq!(prefixed.to_deployment().package.as_str(), "oci:web@1.2.0");
        assert_eq!(prefixed.to_revision().package.as_str(), "oci:web@1.2.0");
        assert_eq!(prefixed.to_deployment().labels.len(), 1);

        let mut wrong = secret.clone();
        wrong.type_ = Some("Opaque".into());
        assert!(stored(&wrong).is_err());
    }
}
