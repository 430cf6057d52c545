//! Many releases for the large list bench, without running helm ten thousand times.
//!
//! One real release record that `helm` wrote is the template: it is decoded, its name,
//! namespace, revision and status are rewritten, and it is stored back as Helm stores it
//! (a `helm.sh/release.v1` Secret, base64 of gzip of the JSON, with Helm's labels). Helm
//! itself lists these releases (the bench checks that `helm list` counts them).

use std::collections::BTreeMap;

use anyhow::{bail, Context};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::ByteString;
use kube::api::{ObjectMeta, PostParams};
use kube::{Api, Client};
use o2dms_helm::record::{
    decode_json as release_json, encode_json as encode_release_json, secret_name,
    DATA_KEY as RELEASE_DATA_KEY,
};

/// A release record to clone: its JSON and its Secret's labels.
pub struct Template {
    json: serde_json::Value,
    labels: BTreeMap<String, String>,
    type_: Option<String>,
}

impl Template {
    /// Reads revision `revision` of release `name` in `namespace`.
    pub async fn read(
        client: &Client,
        namespace: &str,
        name: &str,
        revision: u32,
    ) -> anyhow::Result<Template> {
        let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
        let secret = api
            .get(&secret_name(name, revision))
            .await
            .with_context(|| format!("reading release {namespace}/{name} v{revision}"))?;
        let data = secret
            .data
            .as_ref()
            .and_then(|d| d.get(RELEASE_DATA_KEY))
            .context("the release Secret has no `release` data")?;
        Ok(Template {
            json: decode_json(&data.0)?,
            labels: secret.metadata.labels.unwrap_or_default(),
            type_: secret.type_,
        })
    }

    /// This record made large the way dashboards make grafana's: `bytes` of JSON text in
    /// a chart file (repetitive, so it compresses as real dashboards do) and again in a
    /// ConfigMap of the manifest.
    pub fn enlarged(&self, bytes: usize) -> Template {
        use base64::Engine as _;
        let panel = r#"{"type":"timeseries","title":"latency p99","targets":[{"expr":"histogram_quantile(0.99, sum(rate(http_request_duration_seconds_bucket[5m])) by (le))"}]},"#;
        let dashboard = panel.repeat(bytes / panel.len() + 1);
        let mut json = self.json.clone();
        json["chart"]["files"] = serde_json::json!([{
            "name": "dashboards/app.json",
            "data": base64::engine::general_purpose::STANDARD.encode(&dashboard),
        }]);
        let manifest = json["manifest"].as_str().unwrap_or_default().to_owned();
        json["manifest"] = format!(
            "{manifest}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dashboards\ndata:\n  app.json: '{}'\n",
            dashboard.replace('\'', "''")
        )
        .into();
        Template {
            json,
            labels: self.labels.clone(),
            type_: self.type_.clone(),
        }
    }

    /// The Secret of revision `revision` of release `name` in `namespace`, superseded
    /// unless it is the newest (`latest`).
    pub fn secret(&self, namespace: &str, name: &str, revision: u32, latest: bool) -> Secret {
        let status = if latest { "deployed" } else { "superseded" };
        let mut json = self.json.clone();
        json["name"] = name.into();
        json["namespace"] = namespace.into();
        json["version"] = revision.into();
        json["info"]["status"] = status.into();
        let mut labels = self.labels.clone();
        labels.insert("name".into(), name.into());
        labels.insert("version".into(), revision.to_string());
        labels.insert("status".into(), status.into());
        let encoded = encode_release_json(json.to_string().as_bytes());
        Secret {
            metadata: ObjectMeta {
                name: Some(secret_name(name, revision)),
                namespace: Some(namespace.to_owned()),
                labels: Some(labels),
                ..ObjectMeta::default()
            },
            type_: self.type_.clone(),
            data: Some(BTreeMap::from([(
                RELEASE_DATA_KEY.to_owned(),
                ByteString(encoded.into_bytes()),
            )])),
            ..Secret::default()
        }
    }
}

/// Helm's `release` data (base64 of gzip of JSON) as JSON.
fn decode_json(data: &[u8]) -> anyhow::Result<serde_json::Value> {
    let json = release_json(data).map_err(|e| anyhow::anyhow!("{e}"))?;
    let v: serde_json::Value = serde_json::from_slice(&json).context("release data is not JSON")?;
    if !v.is_object() {
        bail!("release data is not a JSON object");
    }
    Ok(v)
}

/// How many records to make, where, and how many requests at a time.
pub struct Plan<'a> {
    /// Namespace of the records.
    pub namespace: &'a str,
    /// Release names are `{prefix}{i:04}`.
    pub prefix: &'a str,
    /// Number of releases.
    pub releases: usize,
    /// Revisions per release (the newest deployed, the others superseded).
    pub revisions: u32,
    /// Create requests in flight at once.
    pub concurrency: usize,
}

/// Creates the records of `plan`, calling `progress` with the count done.
pub async fn seed(
    client: &Client,
    template: &Template,
    plan: &Plan<'_>,
    progress: impl Fn(usize),
) -> anyhow::Result<()> {
    let api: Api<Secret> = Api::namespaced(client.clone(), plan.namespace);
    let (prefix, revisions) = (plan.prefix, plan.revisions);
    let jobs = (0..plan.releases).flat_map(move |i| {
        (1..=revisions).map(move |rev| (format!("{prefix}{i:04}"), rev, rev == revisions))
    });
    let mut done = 0usize;
    let mut stream = futures::stream::iter(jobs)
        .map(|(name, rev, latest)| {
            let api = api.clone();
            let secret = template.secret(plan.namespace, &name, rev, latest);
            async move {
                api.create(&PostParams::default(), &secret)
                    .await
                    .with_context(|| format!("creating release {name} v{rev}"))
            }
        })
        .buffer_unordered(plan.concurrency.max(1));
    while stream.try_next().await?.is_some() {
        done += 1;
        progress(done);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cloned_record_decodes_as_the_release_it_names() {
        let json = serde_json::json!({
            "name": "web", "namespace": "a", "version": 2,
            "info": {"status": "deployed", "description": "Upgrade complete"},
            "chart": {"metadata": {"name": "web", "version": "1.0.0"}},
            "config": {"replicaCount": 2},
        });
        let t = Template {
            json,
            labels: BTreeMap::from([
                ("owner".to_owned(), "helm".to_owned()),
                ("name".to_owned(), "web".to_owned()),
            ]),
            type_: Some("helm.sh/release.v1".to_owned()),
        };
        let s = t.secret("big", "l0007", 3, false);
        assert_eq!(
            s.metadata.name.as_deref(),
            Some("sh.helm.release.v1.l0007.v3")
        );
        let labels = s.metadata.labels.as_ref().unwrap();
        assert_eq!(labels["owner"], "helm");
        assert_eq!(labels["name"], "l0007");
        assert_eq!(labels["version"], "3");
        assert_eq!(labels["status"], "superseded");
        let data = &s.data.as_ref().unwrap()[RELEASE_DATA_KEY].0;
        let decoded = decode_json(data).unwrap();
        assert_eq!(decoded["name"], "l0007");
        assert_eq!(decoded["namespace"], "big");
        assert_eq!(decoded["version"], 3);
        assert_eq!(decoded["info"]["status"], "superseded");
        assert_eq!(decoded["chart"]["metadata"]["version"], "1.0.0");
        assert_eq!(decoded["config"]["replicaCount"], 2);
        assert!(decode_json(b"!!").is_err());
    }
}
