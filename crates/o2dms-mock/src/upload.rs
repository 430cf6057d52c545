//! `upload_package`: the archive is validated as untrusted input by `o2dms-chart`.

use std::collections::BTreeMap;
use std::sync::Arc;

use o2dms_chart::{validate, Limits};
use o2dms_core::{
    Error, Package, PackageId, PackageSource, PackageUpload, Resource, Result, Value, Values,
};

use crate::state::{PackageKey, StoredPackage};
use crate::MockAdapter;

/// Validates an uploaded archive (size limits, paths, links, bombs, Chart.yaml,
/// values.yaml: every check of [`o2dms_chart::validate`] with [`Limits::default`]) and
/// stores it as `name@version`, outside the lock. Re-uploading the same bytes returns
/// the stored package; other bytes under the same id are [`Error::AlreadyExists`].
pub(crate) fn upload(mock: &MockAdapter, upload: PackageUpload) -> Result<Package> {
    let chart = validate(&upload.content, &Limits::default())?;
    let version = chart.version.to_string();
    if let Some(want) = &upload.expected_name {
        if *want != chart.name {
            return Err(Error::invalid(
                "expected_name",
                format!("the archive is chart `{}`, not `{want}`", chart.name),
            ));
        }
    }
    if let Some(want) = &upload.expected_version {
        if *want != version {
            return Err(Error::invalid(
                "expected_version",
                format!("the archive is version `{version}`, not `{want}`"),
            ));
        }
    }
    let defaults: Values = serde_json::from_value(chart.values.clone())
        .map_err(|e| Error::invalid("values.yaml", format!("is not a values object: {e}")))?;
    let id = PackageId::from_name_version(&chart.name, &version)?;
    let digest = chart.digest_ref();
    let key = PackageKey::new(&chart.name, &version);
    let mut st = mock.shared.write();
    if let Some(existing) = st.packages.get(&key) {
        if existing.package.digest == digest {
            return Ok(existing.package.clone());
        }
        return Err(Error::already_exists(Resource::Package, &id));
    }
    let mut extensions = BTreeMap::new();
    extensions.insert(
        "chart.apiVersion".to_owned(),
        Value::from(chart.api_version.as_str()),
    );
    extensions.insert(
        "chart.type".to_owned(),
        Value::from(chart.chart_type.to_string()),
    );
    let package = Package {
        id,
        name: chart.name,
        version,
        app_version: chart.app_version,
        description: chart.description.unwrap_or_default(),
        source: PackageSource::Uploaded,
        digest,
        created_at: mock.shared.clock.now(),
        extensions,
    };
    st.packages.insert(
        key,
        StoredPackage {
            package: package.clone(),
            defaults: Arc::new(defaults),
        },
    );
    Ok(package)
}
