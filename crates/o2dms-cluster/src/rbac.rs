//! Least-privilege identities for tests and conformance runs: the repository's RBAC
//! manifests (`deploy/rbac/`, the one source of truth for the rights the Helm adapter
//! needs) read into k8s-openapi types, rendered for a namespace and a ServiceAccount and
//! applied; a ServiceAccount's token (TokenRequest); and a kubeconfig holding only that
//! token.
//!
//! ```no_run
//! # async fn demo(admin: kube::Client, admin_kubeconfig: &std::path::Path) -> o2dms_cluster::Result<()> {
//! use std::time::Duration;
//! use o2dms_cluster::rbac::{self, RbacManifest, ServiceAccountRef};
//! let account = ServiceAccountRef::new("o2dms", "dms");
//! rbac::ensure_service_account(&admin, &account).await?;
//! RbacManifest::namespaced()?
//!     .bound_to(&account)
//!     .in_namespace("ran")
//!     .apply(&admin)
//!     .await?;
//! let token = rbac::service_account_token(&admin, &account, Duration::from_secs(3600)).await?;
//! rbac::token_kubeconfig(admin_kubeconfig, &token, std::path::Path::new("/tmp/dms.kubeconfig"))?;
//! # Ok(()) }
//! ```

use std::path::Path;
use std::time::Duration;

use futures::{FutureExt, StreamExt, TryStreamExt};
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding};
use kube::api::{ObjectMeta, Patch, PatchParams, PostParams};
use kube::config::Kubeconfig;
use kube::{Api, Client};
use serde::de::DeserializeOwned;

use crate::error::{ClusterError, Result};

/// `deploy/rbac/namespaced.yaml`: the Role (and its RoleBinding) the Helm adapter needs in
/// each namespace it serves with a namespace allow-list.
pub const NAMESPACED_YAML: &str = include_str!("../../../deploy/rbac/namespaced.yaml");

/// `deploy/rbac/cluster-wide.yaml`: the ClusterRoles (and bindings) the Helm adapter needs
/// without an allow-list.
pub const CLUSTER_WIDE_YAML: &str = include_str!("../../../deploy/rbac/cluster-wide.yaml");

/// The field manager of what [`RbacManifest::apply`] writes.
const FIELD_MANAGER: &str = "o2dms-cluster";

/// Objects applied at once.
const IN_FLIGHT: usize = 8;

/// A ServiceAccount, by namespace and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAccountRef {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
}

impl ServiceAccountRef {
    /// The ServiceAccount `name` in `namespace`.
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        ServiceAccountRef {
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// Its user name as the API server names it in a refusal:
    /// `system:serviceaccount:<namespace>:<name>`.
    pub fn user_name(&self) -> String {
        format!("system:serviceaccount:{}:{}", self.namespace, self.name)
    }
}

/// The RBAC objects of one manifest file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RbacManifest {
    /// Roles (namespaced).
    pub roles: Vec<Role>,
    /// RoleBindings (namespaced).
    pub role_bindings: Vec<RoleBinding>,
    /// ClusterRoles.
    pub cluster_roles: Vec<ClusterRole>,
    /// ClusterRoleBindings.
    pub cluster_role_bindings: Vec<ClusterRoleBinding>,
}

/// One document as its typed object.
fn typed<T: DeserializeOwned>(doc: serde_json::Value, index: usize, kind: &str) -> Result<T> {
    serde_json::from_value(doc)
        .map_err(|e| ClusterError::Config(format!("RBAC manifest document {index} ({kind}): {e}")))
}

impl RbacManifest {
    /// The objects of a multi-document YAML manifest. Only Role, RoleBinding, ClusterRole
    /// and ClusterRoleBinding documents are accepted; empty documents are skipped.
    pub fn parse(yaml: &str) -> Result<RbacManifest> {
        let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(yaml)
            .map_err(|e| ClusterError::Config(format!("RBAC manifest: {e}")))?;
        let mut m = RbacManifest::default();
        for (index, doc) in docs.into_iter().enumerate() {
            if doc.is_null() {
                continue;
            }
            let kind = doc
                .get("kind")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_owned();
            match kind.as_str() {
                "Role" => m.roles.push(typed(doc, index, &kind)?),
                "RoleBinding" => m.role_bindings.push(typed(doc, index, &kind)?),
                "ClusterRole" => m.cluster_roles.push(typed(doc, index, &kind)?),
                "ClusterRoleBinding" => m.cluster_role_bindings.push(typed(doc, index, &kind)?),
                other => {
                    return Err(ClusterError::Config(format!(
                        "RBAC manifest document {index}: kind `{other}` is not an RBAC object"
                    )))
                }
            }
        }
        Ok(m)
    }

    /// `deploy/rbac/namespaced.yaml` ([`NAMESPACED_YAML`]).
    pub fn namespaced() -> Result<RbacManifest> {
        RbacManifest::parse(NAMESPACED_YAML)
    }

    /// `deploy/rbac/cluster-wide.yaml` ([`CLUSTER_WIDE_YAML`]).
    pub fn cluster_wide() -> Result<RbacManifest> {
        RbacManifest::parse(CLUSTER_WIDE_YAML)
    }

    /// The same objects with every ServiceAccount subject of every binding replaced by
    /// `account`.
    pub fn bound_to(mut self, account: &ServiceAccountRef) -> RbacManifest {
        let subjects = self
            .role_bindings
            .iter_mut()
            .filter_map(|b| b.subjects.as_mut())
            .chain(
                self.cluster_role_bindings
                    .iter_mut()
                    .filter_map(|b| b.subjects.as_mut()),
            );
        for list in subjects {
            for s in list.iter_mut().filter(|s| s.kind == "ServiceAccount") {
                s.name.clone_from(&account.name);
                s.namespace = Some(account.namespace.clone());
            }
        }
        self
    }

    /// The same objects with every namespaced one (Roles, RoleBindings) in `namespace`.
    pub fn in_namespace(mut self, namespace: &str) -> RbacManifest {
        let metas = self
            .roles
            .iter_mut()
            .map(|r| &mut r.metadata)
            .chain(self.role_bindings.iter_mut().map(|b| &mut b.metadata));
        for meta in metas {
            meta.namespace = Some(namespace.to_owned());
        }
        self
    }

    /// Every rule of the manifest's Roles and ClusterRoles.
    pub fn rules(&self) -> Vec<&PolicyRule> {
        self.roles
            .iter()
            .filter_map(|r| r.rules.as_ref())
            .chain(self.cluster_roles.iter().filter_map(|r| r.rules.as_ref()))
            .flatten()
            .collect()
    }

    /// Applies every object (server-side apply, so applying again is harmless), a few at
    /// a time. Namespaced objects go to the namespace in their metadata, which must be
    /// set (see [`in_namespace`](Self::in_namespace)).
    pub async fn apply(&self, client: &Client) -> Result<()> {
        let pp = PatchParams::apply(FIELD_MANAGER).force();
        let mut writes = Vec::new();
        for r in &self.roles {
            let (ns, name) = placed(&r.metadata, "Role")?;
            let api: Api<Role> = Api::namespaced(client.clone(), ns);
            let (pp, r) = (pp.clone(), r.clone());
            let name = name.to_owned();
            writes.push(
                async move { api.patch(&name, &pp, &Patch::Apply(&r)).await.map(drop) }.boxed(),
            );
        }
        for b in &self.role_bindings {
            let (ns, name) = placed(&b.metadata, "RoleBinding")?;
            let api: Api<RoleBinding> = Api::namespaced(client.clone(), ns);
            let (pp, b) = (pp.clone(), b.clone());
            let name = name.to_owned();
            writes.push(
                async move { api.patch(&name, &pp, &Patch::Apply(&b)).await.map(drop) }.boxed(),
            );
        }
        for r in &self.cluster_roles {
            let name = named(&r.metadata, "ClusterRole")?.to_owned();
            let api: Api<ClusterRole> = Api::all(client.clone());
            let (pp, r) = (pp.clone(), r.clone());
            writes.push(
                async move { api.patch(&name, &pp, &Patch::Apply(&r)).await.map(drop) }.boxed(),
            );
        }
        for b in &self.cluster_role_bindings {
            let name = named(&b.metadata, "ClusterRoleBinding")?.to_owned();
            let api: Api<ClusterRoleBinding> = Api::all(client.clone());
            let (pp, b) = (pp.clone(), b.clone());
            writes.push(
                async move { api.patch(&name, &pp, &Patch::Apply(&b)).await.map(drop) }.boxed(),
            );
        }
        futures::stream::iter(writes)
            .buffer_unordered(IN_FLIGHT)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }
}

/// The name of an object; a Config error naming `kind` without one.
fn named<'a>(meta: &'a ObjectMeta, kind: &str) -> Result<&'a str> {
    meta.name
        .as_deref()
        .ok_or_else(|| ClusterError::Config(format!("a {kind} of the RBAC manifest has no name")))
}

/// The namespace and name of a namespaced object.
fn placed<'a>(meta: &'a ObjectMeta, kind: &str) -> Result<(&'a str, &'a str)> {
    let name = named(meta, kind)?;
    let ns = meta.namespace.as_deref().ok_or_else(|| {
        ClusterError::Config(format!(
            "{kind} {name} of the RBAC manifest has no namespace"
        ))
    })?;
    Ok((ns, name))
}

/// Creates the ServiceAccount (its namespace must exist); one that exists is kept.
pub async fn ensure_service_account(client: &Client, account: &ServiceAccountRef) -> Result<()> {
    let api: Api<ServiceAccount> = Api::namespaced(client.clone(), &account.namespace);
    let sa = ServiceAccount {
        metadata: ObjectMeta {
            name: Some(account.name.clone()),
            namespace: Some(account.namespace.clone()),
            ..ObjectMeta::default()
        },
        ..ServiceAccount::default()
    };
    match api.create(&PostParams::default(), &sa).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// A token for the ServiceAccount from the TokenRequest API, valid for `ttl` (the API
/// server may shorten it).
pub async fn service_account_token(
    client: &Client,
    account: &ServiceAccountRef,
    ttl: Duration,
) -> Result<String> {
    let request = TokenRequest {
        metadata: ObjectMeta {
            name: Some(account.name.clone()),
            namespace: Some(account.namespace.clone()),
            ..ObjectMeta::default()
        },
        spec: TokenRequestSpec {
            expiration_seconds: Some(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX)),
            ..TokenRequestSpec::default()
        },
        status: None,
    };
    let api: Api<ServiceAccount> = Api::namespaced(client.clone(), &account.namespace);
    let made = api
        .create_token_request(&account.name, &PostParams::default(), &request)
        .await?;
    made.status
        .map(|s| s.token)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ClusterError::Kubeconfig(format!(
                "the TokenRequest for {} returned no token",
                account.user_name()
            ))
        })
}

/// Writes (mode 0600) a kubeconfig at `path` that reaches the API server of the admin
/// kubeconfig's current context (its server and CA) with `token` and nothing else.
pub fn token_kubeconfig(admin: &Path, token: &str, path: &Path) -> Result<()> {
    let kc = Kubeconfig::read_from(admin)
        .map_err(|e| ClusterError::Kubeconfig(format!("reading {}: {e}", admin.display())))?;
    let cluster_name = kc
        .current_context
        .as_ref()
        .and_then(|c| kc.contexts.iter().find(|n| &n.name == c))
        .and_then(|c| c.context.as_ref())
        .map(|c| c.cluster.clone());
    let cluster = kc
        .clusters
        .iter()
        .find(|c| cluster_name.as_ref().is_none_or(|n| &c.name == n))
        .and_then(|c| c.cluster.clone())
        .ok_or_else(|| ClusterError::Kubeconfig(format!("{} names no cluster", admin.display())))?;
    let mut entry = serde_json::Map::new();
    if let Some(server) = cluster.server {
        entry.insert("server".into(), server.into());
    }
    if let Some(ca) = cluster.certificate_authority_data {
        entry.insert("certificate-authority-data".into(), ca.into());
    }
    if let Some(ca) = cluster.certificate_authority {
        entry.insert("certificate-authority".into(), ca.into());
    }
    if cluster.insecure_skip_tls_verify == Some(true) {
        entry.insert("insecure-skip-tls-verify".into(), true.into());
    }
    let doc = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "cluster", "cluster": entry}],
        "users": [{"name": "service-account", "user": {"token": token}}],
        "contexts": [{"name": "service-account", "context": {"cluster": "cluster", "user": "service-account"}}],
        "current-context": "service-account",
    });
    let text = serde_json::to_string_pretty(&doc)
        .map_err(|e| ClusterError::Kubeconfig(format!("writing the kubeconfig: {e}")))?;
    crate::local::write_private(path, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(apiGroup, resource, verb)` triples a manifest's rules grant.
    fn grants(m: &RbacManifest) -> std::collections::BTreeSet<(String, String, String)> {
        let mut out = std::collections::BTreeSet::new();
        for r in m.rules() {
            for g in r.api_groups.iter().flatten() {
                for res in r.resources.iter().flatten() {
                    for v in &r.verbs {
                        out.insert((g.clone(), res.clone(), v.clone()));
                    }
                }
            }
        }
        out
    }

    #[test]
    fn the_shipped_manifests_parse_and_grant_no_wildcards() {
        for (file, m) in [
            ("namespaced", RbacManifest::namespaced().unwrap()),
            ("cluster-wide", RbacManifest::cluster_wide().unwrap()),
        ] {
            assert!(!m.rules().is_empty(), "{file}");
            for (g, r, v) in grants(&m) {
                assert!(
                    !g.contains('*') && !r.contains('*') && !v.contains('*'),
                    "{file}: wildcard in ({g}, {r}, {v})"
                );
            }
            for r in m.rules() {
                assert!(
                    r.resource_names.is_none() && r.non_resource_urls.is_none(),
                    "{file}: {r:?}"
                );
            }
        }
        let ns = RbacManifest::namespaced().unwrap();
        assert_eq!((ns.roles.len(), ns.role_bindings.len()), (1, 1));
        assert!(ns.cluster_roles.is_empty() && ns.cluster_role_bindings.is_empty());
    }

    #[test]
    fn cluster_wide_grants_what_each_namespace_gets_and_namespaces_besides() {
        let namespaced = grants(&RbacManifest::namespaced().unwrap());
        let cluster = grants(&RbacManifest::cluster_wide().unwrap());
        let missing: Vec<_> = namespaced.difference(&cluster).collect();
        assert!(missing.is_empty(), "cluster-wide lacks {missing:?}");
        let extra: Vec<_> = cluster
            .difference(&namespaced)
            .map(|(g, r, v)| format!("{v} {g}/{r}"))
            .collect();
        assert_eq!(extra, ["create /namespaces", "delete /namespaces"]);
    }

    #[test]
    fn rendering_moves_objects_and_rebinds_subjects() {
        let account = ServiceAccountRef::new("home", "dms");
        let m = RbacManifest::namespaced()
            .unwrap()
            .bound_to(&account)
            .in_namespace("o2lp-07");
        assert_eq!(m.roles[0].metadata.namespace.as_deref(), Some("o2lp-07"));
        let b = &m.role_bindings[0];
        assert_eq!(b.metadata.namespace.as_deref(), Some("o2lp-07"));
        assert_eq!(b.role_ref.kind, "Role");
        assert_eq!(Some(&b.role_ref.name), m.roles[0].metadata.name.as_ref());
        let s = &b.subjects.as_ref().unwrap()[0];
        assert_eq!(
            (s.kind.as_str(), s.name.as_str(), s.namespace.as_deref()),
            ("ServiceAccount", "dms", Some("home"))
        );
        assert_eq!(account.user_name(), "system:serviceaccount:home:dms");
        let c = RbacManifest::cluster_wide().unwrap().bound_to(&account);
        for b in &c.cluster_role_bindings {
            let s = &b.subjects.as_ref().unwrap()[0];
            assert_eq!(
                (s.name.as_str(), s.namespace.as_deref()),
                ("dms", Some("home"))
            );
        }
    }

    #[test]
    fn other_kinds_and_bad_documents_are_refused() {
        let e =
            RbacManifest::parse("apiVersion: v1\nkind: Secret\nmetadata: {name: x}\n").unwrap_err();
        assert!(e.to_string().contains("Secret"), "{e}");
        let e = RbacManifest::parse(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: x}\nrules: 3\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("document 0 (Role)"), "{e}");
        assert!(RbacManifest::parse(": : :\n- [").is_err());
        assert_eq!(RbacManifest::parse("").unwrap(), RbacManifest::default());
    }
}
