//! Strategies shared by the property tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use o2dms_core::*;
use proptest::prelude::*;

pub fn text() -> impl Strategy<Value = String> {
    "\\PC{0,16}|[\\x00-\\x1f\"\\\\/%&=?#]{0,4}"
}

pub fn duration() -> impl Strategy<Value = Duration> {
    (0u64..(1 << 20), 0u32..1_000_000_000).prop_map(|(s, n)| Duration::new(s, n))
}

pub fn timestamp() -> impl Strategy<Value = Timestamp> {
    (-62_135_596_800i64..253_402_300_799, 0u32..1_000_000_000)
        .prop_map(|(s, n)| Timestamp::from_unix(s, n))
}

pub fn deployment_id() -> impl Strategy<Value = DeploymentId> {
    (
        "[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?",
        "[a-z0-9]([a-z0-9.-]{0,8}[a-z0-9])?",
    )
        .prop_filter_map("valid id", |(ns, n)| DeploymentId::new(ns, n).ok())
}

pub fn package_id() -> impl Strategy<Value = PackageId> {
    "[!-~]{1,40}".prop_map(|s| PackageId::new(s).unwrap())
}

pub fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        ((i64::MAX as u64 + 1)..=u64::MAX).prop_map(Value::UInt),
        (-1e6f64..1e6).prop_map(Value::Float),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::List),
            proptest::collection::btree_map(text(), inner, 0..3).prop_map(Value::Map),
        ]
    })
}

pub fn values() -> impl Strategy<Value = Values> {
    proptest::collection::btree_map(text(), value(), 0..4).prop_map(Values::from)
}

pub fn labels() -> impl Strategy<Value = BTreeMap<String, String>> {
    proptest::collection::btree_map("[a-z./]{1,8}", "[a-zA-Z0-9._-]{0,8}", 0..3)
}

pub fn status() -> impl Strategy<Value = DeploymentStatus> {
    proptest::sample::select(DeploymentStatus::ALL.to_vec())
}

pub fn resource() -> impl Strategy<Value = Resource> {
    proptest::sample::select(vec![
        Resource::Deployment,
        Resource::Package,
        Resource::Revision,
        Resource::Workload,
        Resource::Namespace,
    ])
}

pub fn deployment() -> impl Strategy<Value = Deployment> {
    (
        (
            deployment_id(),
            package_id(),
            any::<u32>(),
            status(),
            text(),
        ),
        (labels(), values(), timestamp(), timestamp()),
        proptest::collection::btree_map(text(), value(), 0..3),
    )
        .prop_map(
            |((id, package, revision, status, description), (labels, values, c, u), extensions)| {
                Deployment {
                    id,
                    package,
                    revision,
                    status,
                    description,
                    labels,
                    values,
                    created_at: c,
                    updated_at: u,
                    extensions,
                }
            },
        )
}

pub fn package() -> impl Strategy<Value = Package> {
    (
        (
            package_id(),
            text(),
            text(),
            proptest::option::of(text()),
            text(),
        ),
        (
            proptest::sample::select(vec![
                PackageSource::Uploaded,
                PackageSource::Repository,
                PackageSource::Oci,
            ]),
            text(),
            timestamp(),
            proptest::collection::btree_map(text(), value(), 0..3),
        ),
    )
        .prop_map(
            |(
                (id, name, version, app_version, description),
                (source, digest, created_at, extensions),
            )| {
                Package {
                    id,
                    name,
                    version,
                    app_version,
                    description,
                    source,
                    digest,
                    created_at,
                    extensions,
                }
            },
        )
}

pub fn error() -> impl Strategy<Value = Error> {
    prop_oneof![
        (resource(), text()).prop_map(|(r, id)| Error::not_found(r, id)),
        (resource(), text()).prop_map(|(r, id)| Error::already_exists(r, id)),
        (resource(), text(), text()).prop_map(|(r, id, w)| Error::conflict(r, id, w)),
        (text(), text()).prop_map(|(f, w)| Error::invalid(f, w)),
        (text(), text()).prop_map(|(o, w)| Error::unsupported(o, w)),
        (text(), duration(), text()).prop_map(|(o, l, s)| Error::timeout(o, l, s)),
        text().prop_map(Error::unavailable),
        text().prop_map(Error::backend),
        (text(), text()).prop_map(|(a, m)| Error::permission_denied(a, m)),
    ]
}
