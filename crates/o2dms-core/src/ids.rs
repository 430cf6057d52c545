//! Identifiers: deployments are namespace + name, packages have a printable id.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::validate;

/// A deployment's identity: its namespace and its name. A name alone is not unique.
///
/// Printed and parsed as `namespace/name`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DeploymentId {
    /// The namespace the deployment (and, for Helm, the release) lives in.
    pub namespace: String,
    /// The deployment's name (for Helm, the release name).
    pub name: String,
}

impl DeploymentId {
    /// A deployment id, validated: the namespace is a DNS-1123 label and the name follows
    /// Helm's release-name rules.
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Result<Self, Error> {
        let id = DeploymentId {
            namespace: namespace.into(),
            name: name.into(),
        };
        id.validate()?;
        Ok(id)
    }

    /// Checks both parts, naming the one that is wrong.
    pub fn validate(&self) -> Result<(), Error> {
        validate::namespace("namespace", &self.namespace)?;
        validate::deployment_name("name", &self.name)
    }
}

impl fmt::Display for DeploymentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

impl FromStr for DeploymentId {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match s.split_once('/') {
            Some((ns, name)) => DeploymentId::new(ns, name),
            None => Err(Error::invalid("deployment_id", "must be `namespace/name`")),
        }
    }
}

/// A package's id: stable, printable, and what create accepts.
///
/// The format belongs to the adapter (the mock and the Helm adapter use
/// `name@version`, optionally prefixed by a store); callers treat it as opaque.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PackageId(String);

impl PackageId {
    /// A package id, checked to be non-empty printable ASCII without whitespace,
    /// at most 512 bytes.
    pub fn new(id: impl Into<String>) -> Result<Self, Error> {
        let id = id.into();
        validate::package_id("package", &id)?;
        Ok(PackageId(id))
    }

    /// The id of `name` at `version`, as `name@version`.
    pub fn from_name_version(name: &str, version: &str) -> Result<Self, Error> {
        PackageId::new(format!("{name}@{version}"))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Splits a `[store:]name@version` id into name and version, if it has that shape.
    pub fn name_version(&self) -> Option<(&str, &str)> {
        let rest = self.0.rsplit_once(':').map_or(self.0.as_str(), |(_, r)| r);
        rest.rsplit_once('@')
    }
}

impl fmt::Display for PackageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for PackageId {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        PackageId::new(s)
    }
}
