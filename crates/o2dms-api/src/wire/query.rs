//! Query strings of the reads and of the writes whose body is not JSON.
//!
//! Each query type reads a query string with `from_query` (unknown parameters, repeated
//! single-valued parameters and unparsable values are [`Error::InvalidArgument`] naming
//! the parameter; answer them with [`Problem::bad_query`](crate::Problem::bad_query)) and
//! writes one with `to_query` (`form-urlencoded`, empty when nothing is set).

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Duration;

use o2dms_core::{
    DeletePackageOptions, DeploymentFilter, DeploymentStatus, Error, HistoryOptions, LogOptions,
    Operation, PackageFilter, PackageUpload, PageRequest,
};

use super::OperationState;
use crate::duration;

/// The pairs of a query string, every name one of `known`.
fn pairs(query: &str, known: &[&str]) -> Result<Vec<(String, String)>, Error> {
    let query = query.strip_prefix('?').unwrap_or(query);
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if let Some((name, _)) = pairs.iter().find(|(k, _)| !known.contains(&k.as_str())) {
        return Err(Error::invalid(
            name.clone(),
            format!(
                "is not a parameter of this request (known: {})",
                known.join(", ")
            ),
        ));
    }
    Ok(pairs)
}

/// The one value of `name`, if given; given twice is an error.
fn single(pairs: &[(String, String)], name: &str) -> Result<Option<String>, Error> {
    let mut values = pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v);
    let first = values.next().cloned();
    if values.next().is_some() {
        return Err(Error::invalid(name, "must be given at most once"));
    }
    Ok(first)
}

/// The one value of `name` as a whole number.
fn number<T: FromStr>(pairs: &[(String, String)], name: &str) -> Result<Option<T>, Error> {
    single(pairs, name)?
        .map(|v| {
            v.parse::<T>().map_err(|_| {
                Error::invalid(name, format!("must be a whole number in range (got `{v}`)"))
            })
        })
        .transpose()
}

/// The one value of `name` as seconds.
fn seconds(pairs: &[(String, String)], name: &str) -> Result<Option<Duration>, Error> {
    single(pairs, name)?
        .map(|v| {
            let s = v.parse::<f64>().map_err(|_| {
                Error::invalid(name, format!("must be a number of seconds (got `{v}`)"))
            })?;
            duration::from_seconds(name, s)
        })
        .transpose()
}

/// A query string writer.
struct Writer(form_urlencoded::Serializer<'static, String>);

impl Writer {
    fn new() -> Self {
        Writer(form_urlencoded::Serializer::new(String::new()))
    }

    fn opt(mut self, name: &str, value: Option<impl ToString>) -> Self {
        if let Some(v) = value {
            self.0.append_pair(name, &v.to_string());
        }
        self
    }

    fn finish(mut self) -> String {
        self.0.finish()
    }
}

/// `GET deployments`: `namespace`, `statuses` (repeated or comma separated core names,
/// `statuses=deployed,failed`), `labels` (repeated, each `key=value`, all must match),
/// `packageName`, `limit`, `continue`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListDeploymentsQuery {
    /// Only this namespace.
    pub namespace: Option<String>,
    /// Only these statuses (all if empty).
    pub statuses: Vec<DeploymentStatus>,
    /// Only deployments with all these labels.
    pub labels: BTreeMap<String, String>,
    /// Only deployments of this package name.
    pub package_name: Option<String>,
    /// Page size.
    pub limit: Option<u32>,
    /// The `continue` token of the previous page.
    pub continue_token: Option<String>,
}

impl ListDeploymentsQuery {
    /// Reads a query string.
    pub fn from_query(query: &str) -> Result<Self, Error> {
        let known = [
            "namespace",
            "statuses",
            "labels",
            "packageName",
            "limit",
            "continue",
        ];
        let p = pairs(query, &known)?;
        let mut statuses = Vec::new();
        for (_, v) in p.iter().filter(|(k, _)| k == "statuses") {
            for name in v.split(',') {
                let s = serde_json::from_value(serde_json::Value::String(name.to_owned()))
                    .map_err(|_| {
                        Error::invalid("statuses", format!("`{name}` is not a deployment status"))
                    })?;
                statuses.push(s);
            }
        }
        let mut labels = BTreeMap::new();
        for (_, v) in p.iter().filter(|(k, _)| k == "labels") {
            let (key, value) = v
                .split_once('=')
                .ok_or_else(|| Error::invalid("labels", format!("`{v}` is not `key=value`")))?;
            if labels.insert(key.to_owned(), value.to_owned()).is_some() {
                return Err(Error::invalid(
                    "labels",
                    format!("label `{key}` is given twice"),
                ));
            }
        }
        Ok(ListDeploymentsQuery {
            namespace: single(&p, "namespace")?,
            statuses,
            labels,
            package_name: single(&p, "packageName")?,
            limit: number(&p, "limit")?,
            continue_token: single(&p, "continue")?,
        })
    }

    /// Writes the query string.
    pub fn to_query(&self) -> String {
        let mut w = Writer::new().opt("namespace", self.namespace.as_ref());
        for s in &self.statuses {
            w.0.append_pair("statuses", s.as_str());
        }
        for (k, v) in &self.labels {
            w.0.append_pair("labels", &format!("{k}={v}"));
        }
        w.opt("packageName", self.package_name.as_ref())
            .opt("limit", self.limit)
            .opt("continue", self.continue_token.as_ref())
            .finish()
    }
}

impl From<DeploymentFilter> for ListDeploymentsQuery {
    fn from(f: DeploymentFilter) -> Self {
        ListDeploymentsQuery {
            namespace: f.namespace,
            statuses: f.statuses,
            labels: f.labels,
            package_name: f.package_name,
            limit: f.page.limit,
            continue_token: f.page.continue_token,
        }
    }
}

impl From<ListDeploymentsQuery> for DeploymentFilter {
    fn from(q: ListDeploymentsQuery) -> Self {
        let mut f = DeploymentFilter::all()
            .statuses(q.statuses)
            .labels(q.labels)
            .page(PageRequest::new(q.limit, q.continue_token));
        f.namespace = q.namespace;
        f.package_name = q.package_name;
        f
    }
}

/// `GET packages`: `name`, `limit`, `continue`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListPackagesQuery {
    /// Only packages of this name.
    pub name: Option<String>,
    /// Page size.
    pub limit: Option<u32>,
    /// The `continue` token of the previous page.
    pub continue_token: Option<String>,
}

impl ListPackagesQuery {
    /// Reads a query string.
    pub fn from_query(query: &str) -> Result<Self, Error> {
        let p = pairs(query, &["name", "limit", "continue"])?;
        Ok(ListPackagesQuery {
            name: single(&p, "name")?,
            limit: number(&p, "limit")?,
            continue_token: single(&p, "continue")?,
        })
    }

    /// Writes the query string.
    pub fn to_query(&self) -> String {
        Writer::new()
            .opt("name", self.name.as_ref())
            .opt("limit", self.limit)
            .opt("continue", self.continue_token.as_ref())
            .finish()
    }
}

impl From<PackageFilter> for ListPackagesQuery {
    fn from(f: PackageFilter) -> Self {
        ListPackagesQuery {
            name: f.name,
            limit: f.page.limit,
            continue_token: f.page.continue_token,
        }
    }
}

impl From<ListPackagesQuery> for PackageFilter {
    fn from(q: ListPackagesQuery) -> Self {
        let mut f = PackageFilter::all().page(PageRequest::new(q.limit, q.continue_token));
        f.name = q.name;
        f
    }
}

/// `GET .../history`: `limit` (the newest N revisions, still ascending).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HistoryQuery {
    /// At most this many revisions.
    pub limit: Option<u32>,
}

impl HistoryQuery {
    /// Reads a query string.
    pub fn from_query(query: &str) -> Result<Self, Error> {
        let p = pairs(query, &["limit"])?;
        Ok(HistoryQuery {
            limit: number(&p, "limit")?,
        })
    }

    /// Writes the query string.
    pub fn to_query(&self) -> String {
        Writer::new().opt("limit", self.limit).finish()
    }
}

impl From<HistoryOptions> for HistoryQuery {
    fn from(o: HistoryOptions) -> Self {
        HistoryQuery { limit: o.limit }
    }
}

impl From<HistoryQuery> for HistoryOptions {
    fn from(q: HistoryQuery) -> Self {
        let mut o = HistoryOptions::all();
        o.limit = q.limit;
        o
    }
}

/// `GET .../logs`: `container`, `tailLines`, `sinceSeconds` (a number, fraction
/// allowed), `limitBytes`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogsQuery {
    /// Only this container.
    pub container: Option<String>,
    /// Only the last N lines of each container.
    pub tail_lines: Option<u32>,
    /// Only lines newer than this.
    pub since: Option<Duration>,
    /// At most this many bytes in total.
    pub limit_bytes: Option<u64>,
}

impl LogsQuery {
    /// Reads a query string.
    pub fn from_query(query: &str) -> Result<Self, Error> {
        let p = pairs(
            query,
            &["container", "tailLines", "sinceSeconds", "limitBytes"],
        )?;
        Ok(LogsQuery {
            container: single(&p, "container")?,
            tail_lines: number(&p, "tailLines")?,
            since: seconds(&p, "sinceSeconds")?,
            limit_bytes: number(&p, "limitBytes")?,
        })
    }

    /// Writes the query string.
    pub fn to_query(&self) -> String {
        Writer::new()
            .opt("container", self.container.as_ref())
            .opt("tailLines", self.tail_lines)
            .opt("sinceSeconds", self.since.map(duration::to_seconds))
            .opt("limitBytes", self.limit_bytes)
            .finish()
    }
}

impl From<LogOptions> for LogsQuery {
    fn from(o: LogOptions) -> Self {
        LogsQuery {
            container: o.container,
            tail_lines: o.tail_lines,
            since: o.since,
            limit_bytes: o.limit_bytes,
        }
    }
}

impl From<LogsQuery> for LogOptions {
    fn from(q: LogsQuery) -> Self {
        let mut o = LogOptions::new();
        o.container = q.container;
        o.tail_lines = q.tail_lines;
        o.since = q.since;
        o.limit_bytes = q.limit_bytes;
        o
    }
}

/// `POST packages` (the body is the archive): `name` and `version`, what the archive
/// must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadPackageQuery {
    /// The archive's package name must be this.
    pub name: Option<String>,
    /// The archive's version must be this.
    pub version: Option<String>,
}

impl UploadPackageQuery {
    /// Reads a query string.
    pub fn from_query(query: &str) -> Result<Self, Error> {
        let p = pairs(query, &["name", "version"])?;
        Ok(UploadPackageQuery {
            name: single(&p, "name")?,
            version: single(&p, "version")?,
        })
    }

    /// Writes the query string.
    pub fn to_query(&self) -> String {
        Writer::new()
            .opt("name", self.name.as_ref())
            .opt("version", self.version.as_ref())
            .finish()
    }

    /// The upload of `content` (the request body) with these expectations.
    pub fn into_upload(self, content: Vec<u8>) -> PackageUpload {
        let mut u = PackageUpload::new(content);
        u.expected_name = self.name;
        u.expected_version = self.version;
        u
    }

    /// The query of an upload; its content is the request body.
    pub fn of(upload: &PackageUpload) -> Self {
        UploadPackageQuery {
            name: upload.expected_name.clone(),
            version: upload.expected_version.clone(),
        }
    }
}

/// `DELETE packages/{packageId}`: `force` (`true` or `false`; delete even while a
/// deployment uses the package).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeletePackageQuery {
    /// Delete even while in use.
    pub force: bool,
}

impl DeletePackageQuery {
    /// Reads a query string.
    pub fn from_query(query: &str) -> Result<Self, Error> {
        let p = pairs(query, &["force"])?;
        let force = match single(&p, "force")?.as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(Error::invalid(
                    "force",
                    format!("must be `true` or `false` (got `{other}`)"),
                ))
            }
        };
        Ok(DeletePackageQuery { force })
    }

    /// Writes the query string (`force=true`, or nothing).
    pub fn to_query(&self) -> String {
        Writer::new()
            .opt("force", self.force.then_some("true"))
            .finish()
    }
}

impl From<DeletePackageOptions> for DeletePackageQuery {
    fn from(o: DeletePackageOptions) -> Self {
        DeletePackageQuery { force: o.force }
    }
}

impl From<DeletePackageQuery> for DeletePackageOptions {
    fn from(q: DeletePackageQuery) -> Self {
        if q.force {
            DeletePackageOptions::forced()
        } else {
            DeletePackageOptions::new()
        }
    }
}

/// `GET operations`: `namespace` and `name` (one deployment, or one namespace),
/// `packageId` (one package), `operations` and `states` (repeated or comma separated:
/// `operations=create_deployment,scale_deployment`, `states=PROCESSING,FAILED`), `limit`,
/// `continue`. The deployment manager is the one of the path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListOperationsQuery {
    /// Only operations on deployments of this namespace.
    pub namespace: Option<String>,
    /// Only operations on deployments of this name.
    pub name: Option<String>,
    /// Only operations on this package.
    pub package_id: Option<String>,
    /// Only these trait operations (all if empty).
    pub operations: Vec<Operation>,
    /// Only operations in these states (all if empty).
    pub states: Vec<OperationState>,
    /// Page size.
    pub limit: Option<u32>,
    /// The `continue` token of the previous page.
    pub continue_token: Option<String>,
}

/// Every value of a repeated, comma separated parameter, each read as its serde name.
fn names<T: serde::de::DeserializeOwned>(
    pairs: &[(String, String)],
    name: &str,
    what: &str,
) -> Result<Vec<T>, Error> {
    let mut out = Vec::new();
    for (_, v) in pairs.iter().filter(|(k, _)| k == name) {
        for item in v.split(',') {
            let parsed = serde_json::from_value(serde_json::Value::String(item.to_owned()))
                .map_err(|_| Error::invalid(name, format!("`{item}` is not {what}")))?;
            out.push(parsed);
        }
    }
    Ok(out)
}

impl ListOperationsQuery {
    /// Reads a query string.
    pub fn from_query(query: &str) -> Result<Self, Error> {
        let known = [
            "namespace",
            "name",
            "packageId",
            "operations",
            "states",
            "limit",
            "continue",
        ];
        let p = pairs(query, &known)?;
        Ok(ListOperationsQuery {
            namespace: single(&p, "namespace")?,
            name: single(&p, "name")?,
            package_id: single(&p, "packageId")?,
            operations: names(&p, "operations", "an operation")?,
            states: names(&p, "states", "an operation state")?,
            limit: number(&p, "limit")?,
            continue_token: single(&p, "continue")?,
        })
    }

    /// Writes the query string.
    pub fn to_query(&self) -> String {
        let mut w = Writer::new()
            .opt("namespace", self.namespace.as_ref())
            .opt("name", self.name.as_ref())
            .opt("packageId", self.package_id.as_ref());
        for o in &self.operations {
            w.0.append_pair("operations", o.as_str());
        }
        for s in &self.states {
            if let Ok(serde_json::Value::String(s)) = serde_json::to_value(s) {
                w.0.append_pair("states", &s);
            }
        }
        w.opt("limit", self.limit)
            .opt("continue", self.continue_token.as_ref())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(e: Error) -> String {
        match e {
            Error::InvalidArgument { field, .. } => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn names_the_bad_parameter() {
        assert_eq!(
            field(ListDeploymentsQuery::from_query("namespce=a").unwrap_err()),
            "namespce"
        );
        assert_eq!(
            field(ListDeploymentsQuery::from_query("limit=-1").unwrap_err()),
            "limit"
        );
        assert_eq!(
            field(ListDeploymentsQuery::from_query("limit=1&limit=2").unwrap_err()),
            "limit"
        );
        assert_eq!(
            field(ListDeploymentsQuery::from_query("statuses=up").unwrap_err()),
            "statuses"
        );
        assert_eq!(
            field(ListDeploymentsQuery::from_query("labels=tier").unwrap_err()),
            "labels"
        );
        assert_eq!(
            field(LogsQuery::from_query("sinceSeconds=-3").unwrap_err()),
            "sinceSeconds"
        );
        assert_eq!(
            field(DeletePackageQuery::from_query("force=yes").unwrap_err()),
            "force"
        );
        assert_eq!(
            field(HistoryQuery::from_query("limit=x").unwrap_err()),
            "limit"
        );
    }

    #[test]
    fn reads_operation_filters() {
        let q = ListOperationsQuery::from_query(
            "namespace=ran&operations=create_deployment,scale_deployment&states=FAILED&limit=5",
        )
        .unwrap();
        assert_eq!(
            q.operations,
            [Operation::CreateDeployment, Operation::ScaleDeployment]
        );
        assert_eq!(q.states, [OperationState::Failed]);
        assert_eq!(ListOperationsQuery::from_query(&q.to_query()).unwrap(), q);
        assert_eq!(
            field(ListOperationsQuery::from_query("states=done").unwrap_err()),
            "states"
        );
    }

    #[test]
    fn reads_repeated_and_comma_separated_lists() {
        let q = ListDeploymentsQuery::from_query(
            "?statuses=deployed,failed&statuses=rolling_back&labels=tier%3Dedge&labels=app=du&limit=0",
        )
        .unwrap();
        assert_eq!(
            q.statuses,
            [
                DeploymentStatus::Deployed,
                DeploymentStatus::Failed,
                DeploymentStatus::RollingBack
            ]
        );
        assert_eq!(q.labels["tier"], "edge");
        assert_eq!(q.labels["app"], "du");
        assert_eq!(q.limit, Some(0));
        assert_eq!(
            ListDeploymentsQuery::from_query("").unwrap(),
            ListDeploymentsQuery::default()
        );
    }
}
