//! Packages: upload, get, list, delete, hostile archives, in-use conflicts.

use o2dms_core::{
    CreateDeployment, DeletePackageOptions, DeploymentStatus, DmsAdapter, ErrorKind, PackageFilter,
    PackageId, PackageSource, PackageUpload, PageRequest,
};
use sha2::{Digest, Sha256};

use super::caps;
use crate::body;
use crate::check::{ensure, ensure_eq, Failure, ResultExt};
use crate::context::Context;
use crate::fixtures::{hostile_archive, tiny_chart, Fixture, Hostile};
use crate::scenario::{Flag, Profile, Scenario, ScenarioResult};

pub(super) fn scenarios() -> Vec<Scenario> {
    let hostile = |id, description, body| {
        Scenario::new(id, description, body)
            .requires(caps::UPLOAD)
            .profile(Profile::Extended)
            .flags(&[Flag::Destructive])
    };
    vec![
        Scenario::new(
            "packages.upload_then_get",
            "upload returns the chart's name and version, source uploaded (or oci, when the adapter keeps uploads in an OCI registry) and the sha256 of the archive; get returns the same",
            body!(upload_then_get),
        )
        .requires(caps::UPLOAD)
        .profile(Profile::Extended)
        .covers(&["packages.upload", "packages.metadata"]),
        Scenario::new(
            "packages.list_by_name",
            "after uploading versions 0.1.0 and 0.2.0, a name filter lists exactly those two, in version order",
            body!(list_by_name),
        )
        .requires(caps::UPLOAD)
        .profile(Profile::Extended)
        .covers(&["packages.order"]),
        Scenario::new(
            "packages.delete_removes",
            "after delete, get is NotFound, list omits the package, and a second delete is NotFound",
            body!(delete_removes),
        )
        .requires(caps::UPLOAD)
        .profile(Profile::Extended)
        .covers(&["packages.delete", "trait.not_found"]),
        Scenario::new(
            "packages.uploaded_id_installs",
            "the id returned by upload, and the id returned by list, are accepted by create",
            body!(uploaded_id_installs),
        )
        .requires(caps::UPLOAD_LIFECYCLE)
        .profile(Profile::Extended)
        .covers(&["packages.upload", "packages.id_round_trip"]),
        Scenario::new(
            "packages.delete_in_use_is_conflict",
            "deleting a package a deployment uses is Conflict and keeps it; after the deployment is gone it can be deleted",
            body!(delete_in_use),
        )
        .requires(caps::UPLOAD_LIFECYCLE)
        .profile(Profile::Extended)
        .covers(&["packages.in_use"]),
        Scenario::new(
            "packages.fixtures_listed_and_get",
            "the run's fixture packages of chart `web` (1.x and 2.0.0) are listed under that name in version order, and get returns what list returned",
            body!(fixtures_listed_and_get),
        )
        .requires(caps::PACKAGES)
        .covers(&["packages.order", "packages.id_round_trip"]),
        Scenario::new(
            "packages.list_one_per_page",
            "listing chart `web` one package per page, following continue tokens, returns the ids of a single page, in order, each once",
            body!(list_one_per_page),
        )
        .requires(caps::PACKAGES)
        .covers(&["packages.order"]),
        Scenario::new(
            "packages.listed_id_installs",
            "the id list returns for a fixture package is accepted by create, and the deployment reports that id",
            body!(listed_id_installs),
        )
        .requires(caps::PACKAGES_LIFECYCLE)
        .covers(&["packages.id_round_trip"]),
        Scenario::new(
            "packages.get_missing_is_not_found",
            "get of a package that does not exist is NotFound",
            body!(get_missing),
        )
        .requires(caps::PACKAGES)
        .covers(&["trait.not_found"]),
        Scenario::new(
            "packages.expected_name_is_checked",
            "an upload whose archive does not match the expected name is InvalidArgument and stores nothing",
            body!(expected_name_checked),
        )
        .requires(caps::UPLOAD)
        .profile(Profile::Extended)
        .covers(&["packages.expected"]),
        hostile(
            "packages.hostile_path_traversal",
            "an archive with a `../` entry is InvalidArgument and stores nothing",
            body!(path_traversal),
        )
        .covers(&["packages.validated"]),
        hostile(
            "packages.hostile_absolute_path",
            "an archive with an absolute path entry is InvalidArgument and stores nothing",
            body!(absolute_path),
        )
        .covers(&["packages.validated"]),
        hostile(
            "packages.hostile_symlink",
            "an archive with a symlink entry is InvalidArgument and stores nothing",
            body!(symlink),
        )
        .covers(&["packages.validated"]),
        hostile(
            "packages.hostile_hard_link",
            "an archive with a hard-link entry is InvalidArgument and stores nothing",
            body!(hard_link),
        )
        .covers(&["packages.validated"]),
        hostile(
            "packages.hostile_missing_chart_yaml",
            "an archive without Chart.yaml is InvalidArgument and stores nothing",
            body!(missing_chart_yaml),
        )
        .covers(&["packages.validated"]),
        hostile(
            "packages.hostile_malformed_chart_yaml",
            "an archive whose Chart.yaml is not valid YAML is InvalidArgument and stores nothing",
            body!(malformed_chart_yaml),
        )
        .covers(&["packages.validated"]),
        hostile(
            "packages.hostile_not_gzip",
            "bytes that are not a gzip archive are InvalidArgument and store nothing",
            body!(not_gzip),
        )
        .covers(&["packages.validated"]),
        hostile(
            "packages.hostile_decompression_bomb",
            "an archive that inflates far beyond any chart is InvalidArgument and stores nothing",
            body!(bomb),
        )
        .flags(&[Flag::Destructive, Flag::Slow])
        .covers(&["packages.validated"]),
        Scenario::new(
            "packages.semver_order",
            "versions of one name uploaded shuffled (1.0.0, 0.10.0, 1.0.0-rc.10, 0.9.0, 1.0.0-rc.2, 1.0.0-rc.1) are listed in SemVer order, 0.9.0 < 0.10.0 < 1.0.0-rc.1 < 1.0.0-rc.2 < 1.0.0-rc.10 < 1.0.0, by name and across pages of 2; a second name sorts after the first, in a list of every package",
            body!(semver_order),
        )
        .requires(caps::UPLOAD)
        .profile(Profile::Extended)
        .covers(&["packages.order"]),
        Scenario::new(
            "packages.metadata_of_upload",
            "an uploaded chart reports its name, version, appVersion and description from Chart.yaml, source uploaded (or oci), and digest `sha256:` + 64 lowercase hex equal to the SHA-256 of the bytes uploaded; get and list report the same",
            body!(metadata_of_upload),
        )
        .requires(caps::UPLOAD)
        .profile(Profile::Extended)
        .covers(&["packages.metadata"]),
        Scenario::new(
            "packages.forced_delete_in_use",
            "a forced delete of a package a deployment uses succeeds: get is NotFound and list omits it, while the deployment still reads (get, and status when declared) Deployed with that package, and can be deleted",
            body!(forced_delete_in_use),
        )
        .requires(caps::UPLOAD_LIFECYCLE)
        .profile(Profile::Extended)
        .covers(&["packages.forced_delete", "packages.delete"]),
        Scenario::new(
            "packages.expected_version_is_checked",
            "an upload whose archive has another version than expected is InvalidArgument naming `expected_version`, another name than expected InvalidArgument naming `expected_name`, and stores nothing; matching expectations upload",
            body!(expected_version_checked),
        )
        .requires(caps::UPLOAD)
        .profile(Profile::Extended)
        .covers(&["packages.expected", "input.invalid_field"]),
        Scenario::new(
            "packages.id_round_trip_build_metadata",
            "for a chart at version 0.1.0-rc.1+build.7, the id upload returns is the one get and list return, survives printing and parsing, and is accepted by create; the deployment reports it",
            body!(id_round_trip_build_metadata),
        )
        .requires(caps::UPLOAD_LIFECYCLE)
        .profile(Profile::Extended)
        .covers(&["packages.id_round_trip"]),
    ]
}

async fn listed(a: &dyn DmsAdapter, name: &str) -> Result<Vec<PackageId>, Failure> {
    Ok(listed_packages(a, name)
        .await?
        .into_iter()
        .map(|p| p.id)
        .collect())
}

async fn upload_tiny(
    a: &dyn DmsAdapter,
    cx: &Context,
    name: &str,
    version: &str,
) -> Result<o2dms_core::Package, Failure> {
    cx.upload(a, PackageUpload::new(tiny_chart(name, version)))
        .await
        .step(&format!("upload_package of {name} {version}"))
}

async fn upload_then_get(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let name = cx.unique_name("pkg");
    let archive = tiny_chart(&name, "0.1.0");
    let digest = format!("sha256:{}", hex::encode(Sha256::digest(&archive)));
    let p = cx
        .upload(a, PackageUpload::new(archive))
        .await
        .step("upload_package")?;
    ensure_eq("upload: name", &name, &p.name)?;
    ensure_eq("upload: version", &"0.1.0".to_owned(), &p.version)?;
    // Where the upload landed: an adapter whose upload target is an OCI registry
    // reports the package as an OCI one (that is also how it installs it). A repository
    // source would be wrong: nothing was taken from a chart repository.
    if !matches!(p.source, PackageSource::Uploaded | PackageSource::Oci) {
        return Err(Failure::mismatch(
            "upload: source = Uploaded (or Oci)",
            format!("upload: source = {:?}", p.source),
        ));
    }
    ensure_eq("upload: digest", &digest, &p.digest)?;
    let g = a
        .get_package(&p.id)
        .await
        .step("get_package of the uploaded id")?;
    ensure_eq(
        "get: (id, name, version, source, digest)",
        &(&p.id, &name, &p.version, &p.source, &digest),
        &(&g.id, &g.name, &g.version, &g.source, &g.digest),
    )
}

async fn list_by_name(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let name = cx.unique_name("pkg");
    let p2 = upload_tiny(a, cx, &name, "0.2.0").await?;
    let p1 = upload_tiny(a, cx, &name, "0.1.0").await?;
    ensure_eq(
        "ids listed by name",
        &vec![p1.id, p2.id],
        &listed(a, &name).await?,
    )
}

async fn delete_removes(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let name = cx.unique_name("pkg");
    let p = upload_tiny(a, cx, &name, "0.1.0").await?;
    a.delete_package(&p.id, DeletePackageOptions::default())
        .await
        .step("delete_package")?;
    a.get_package(&p.id)
        .await
        .expect_kind(ErrorKind::NotFound, "get_package after delete")?;
    ensure_eq(
        "ids listed after delete",
        &Vec::<PackageId>::new(),
        &listed(a, &name).await?,
    )?;
    a.delete_package(&p.id, DeletePackageOptions::default())
        .await
        .expect_kind(ErrorKind::NotFound, "second delete_package")?;
    Ok(())
}

async fn uploaded_id_installs(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let name = cx.unique_name("pkg");
    let p = upload_tiny(a, cx, &name, "0.1.0").await?;
    let d = cx
        .create(a, CreateDeployment::new(cx.id("from-upload"), p.id.clone()))
        .await
        .step("create_deployment with the id upload returned")?;
    ensure_eq("package of the deployment", &p.id, &d.package)?;
    ensure_eq("status", &DeploymentStatus::Deployed, &d.status)?;
    let from_list = listed(a, &name).await?;
    let id = from_list
        .first()
        .cloned()
        .ok_or_else(|| Failure::mismatch(format!("list_packages to list {name}"), "nothing"))?;
    let d = cx
        .create(a, CreateDeployment::new(cx.id("from-list"), id.clone()))
        .await
        .step("create_deployment with the id list returned")?;
    ensure_eq("package of the second deployment", &id, &d.package)
}

async fn delete_in_use(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let name = cx.unique_name("pkg");
    let p = upload_tiny(a, cx, &name, "0.1.0").await?;
    cx.create(a, CreateDeployment::new(cx.id("user"), p.id.clone()))
        .await
        .step("create_deployment")?;
    a.delete_package(&p.id, DeletePackageOptions::default())
        .await
        .expect_kind(ErrorKind::Conflict, "delete_package of a package in use")?;
    a.get_package(&p.id)
        .await
        .step("get_package after the refused delete")?;
    a.delete_deployment(&cx.id("user"))
        .await
        .step("delete_deployment")?;
    a.delete_package(&p.id, DeletePackageOptions::default())
        .await
        .step("delete_package once no deployment uses it")
}

/// Packages of chart `name` in one page, as list returns them.
async fn listed_packages(
    a: &dyn DmsAdapter,
    name: &str,
) -> Result<Vec<o2dms_core::Package>, Failure> {
    let filter = PackageFilter::named(name).page(PageRequest::first(o2dms_core::MAX_PAGE_SIZE));
    Ok(a.list_packages(&filter)
        .await
        .step(&format!("list_packages named {name}"))?
        .items)
}

async fn fixtures_listed_and_get(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let (v1, v2) = (cx.package(Fixture::Web)?, cx.package(Fixture::WebV2)?);
    let listed = listed_packages(a, "web").await?;
    let ids: Vec<&PackageId> = listed.iter().map(|p| &p.id).collect();
    // The adapter may hold other versions of `web`; the two fixtures must be there, in
    // version order.
    match (
        ids.iter().position(|i| **i == v1),
        ids.iter().position(|i| **i == v2),
    ) {
        (Some(i), Some(j)) if i < j => {}
        _ => {
            return Err(Failure::mismatch(
                format!("`{v1}` then `{v2}` listed under chart `web`"),
                format!("listed {ids:?}"),
            ))
        }
    }
    for p in listed.iter().filter(|p| p.id == v1 || p.id == v2) {
        ensure_eq("listed: chart name", &"web".to_owned(), &p.name)?;
        let got = a
            .get_package(&p.id)
            .await
            .step(&format!("get_package of listed `{}`", p.id))?;
        ensure_eq(
            "get: (id, name, version, source, digest)",
            &(&p.id, &p.name, &p.version, &p.source, &p.digest),
            &(&got.id, &got.name, &got.version, &got.source, &got.digest),
        )?;
    }
    Ok(())
}

async fn list_one_per_page(a: &dyn DmsAdapter, _cx: &Context) -> ScenarioResult {
    let whole = listed(a, "web").await?;
    let mut filter = PackageFilter::named("web").page(PageRequest::first(1));
    let mut walked = Vec::new();
    // One page per package, plus one: a token chain longer than that never ends.
    for _ in 0..=whole.len() {
        let page = a
            .list_packages(&filter)
            .await
            .step("list_packages named web, limit 1")?;
        if page.items.len() > 1 {
            return Err(Failure::mismatch(
                "at most 1 package per page with limit 1",
                format!("{} packages", page.items.len()),
            ));
        }
        walked.extend(page.items.into_iter().map(|p| p.id));
        match page.continue_token {
            Some(t) => filter.page.continue_token = Some(t),
            None => return ensure_eq("ids walked one per page", &whole, &walked),
        }
    }
    Err(Failure::mismatch(
        format!("the last of {} pages without a continue token", whole.len()),
        "continue tokens that do not end",
    ))
}

async fn listed_id_installs(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let listed = listed_packages(a, "web").await?;
    let want = cx.package(Fixture::Web)?;
    let id = listed
        .into_iter()
        .map(|p| p.id)
        .find(|i| *i == want)
        .ok_or_else(|| Failure::mismatch(format!("`{want}` listed"), "not listed"))?;
    let d = cx
        .create(a, CreateDeployment::new(cx.id("listed"), id.clone()))
        .await
        .step("create_deployment from the listed id")?;
    ensure_eq("create: package", &id, &d.package)?;
    let g = a.get_deployment(&d.id).await.step("get_deployment")?;
    ensure_eq("get: package", &id, &g.package)
}

async fn get_missing(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let id = PackageId::from_name_version(&cx.unique_name("missing"), "9.9.9")?;
    a.get_package(&id)
        .await
        .expect_kind(ErrorKind::NotFound, "get_package of a missing package")?;
    Ok(())
}

async fn expected_name_checked(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let name = cx.unique_name("pkg");
    let mut up = PackageUpload::new(tiny_chart(&name, "0.1.0"));
    up.expected_name = Some(format!("{name}-other"));
    cx.upload(a, up).await.expect_kind(
        ErrorKind::InvalidArgument,
        "upload_package with a different expected name",
    )?;
    ensure_eq(
        "ids listed after the refused upload",
        &Vec::<PackageId>::new(),
        &listed(a, &name).await?,
    )
}

async fn refuse(a: &dyn DmsAdapter, cx: &Context, kind: Hostile) -> ScenarioResult {
    let name = cx.unique_name("evil");
    let archive = hostile_archive(kind, &name, cx.settings().bomb_bytes);
    cx.upload(a, PackageUpload::new(archive))
        .await
        .expect_kind(
            ErrorKind::InvalidArgument,
            &format!("upload_package of a {kind:?} archive"),
        )?;
    ensure_eq(
        "ids listed after the refused upload",
        &Vec::<PackageId>::new(),
        &listed(a, &name).await?,
    )
}

async fn path_traversal(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    refuse(a, cx, Hostile::PathTraversal).await
}
async fn absolute_path(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    refuse(a, cx, Hostile::AbsolutePath).await
}
async fn symlink(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    refuse(a, cx, Hostile::Symlink).await
}
async fn hard_link(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    refuse(a, cx, Hostile::HardLink).await
}
async fn missing_chart_yaml(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    refuse(a, cx, Hostile::MissingChartYaml).await
}
async fn malformed_chart_yaml(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    refuse(a, cx, Hostile::MalformedChartYaml).await
}
async fn not_gzip(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    refuse(a, cx, Hostile::NotGzip).await
}
async fn bomb(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    refuse(a, cx, Hostile::DecompressionBomb).await
}

/// Every package of every name, following continue tokens (at most 10 000 pages).
async fn list_every_package(
    a: &dyn DmsAdapter,
    mut filter: PackageFilter,
) -> Result<Vec<o2dms_core::Package>, Failure> {
    let mut out = Vec::new();
    for _ in 0..10_000 {
        let page = a.list_packages(&filter).await.step("list_packages")?;
        out.extend(page.items);
        match page.continue_token {
            Some(t) => filter.page = PageRequest::next(filter.page.limit, t),
            None => return Ok(out),
        }
    }
    Err(Failure::mismatch(
        "list_packages to end within 10000 pages",
        "continue tokens never ran out",
    ))
}

fn name_versions(packages: &[o2dms_core::Package]) -> Vec<(String, String)> {
    packages
        .iter()
        .map(|p| (p.name.clone(), p.version.clone()))
        .collect()
}

async fn semver_order(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let first = cx.unique_name("order-a");
    let second = cx.unique_name("order-b");
    let shuffled = [
        "1.0.0",
        "0.10.0",
        "1.0.0-rc.10",
        "0.9.0",
        "1.0.0-rc.2",
        "1.0.0-rc.1",
    ];
    for (i, v) in shuffled.iter().enumerate() {
        upload_tiny(a, cx, &first, v).await?;
        if i == 2 {
            upload_tiny(a, cx, &second, "0.2.0").await?;
            upload_tiny(a, cx, &second, "0.1.0").await?;
        }
    }
    let ordered = [
        "0.9.0",
        "0.10.0",
        "1.0.0-rc.1",
        "1.0.0-rc.2",
        "1.0.0-rc.10",
        "1.0.0",
    ];
    let want: Vec<(String, String)> = ordered
        .iter()
        .map(|v| (first.clone(), (*v).to_owned()))
        .collect();
    ensure_eq(
        "versions listed by name",
        &want,
        &name_versions(&listed_packages(a, &first).await?),
    )?;
    let paged =
        list_every_package(a, PackageFilter::named(&first).page(PageRequest::first(2))).await?;
    ensure_eq(
        "versions listed by name in pages of 2",
        &want,
        &name_versions(&paged),
    )?;
    let mut want_all = want;
    want_all.push((second.clone(), "0.1.0".to_owned()));
    want_all.push((second.clone(), "0.2.0".to_owned()));
    let every = list_every_package(
        a,
        PackageFilter::all().page(PageRequest::first(o2dms_core::MAX_PAGE_SIZE)),
    )
    .await?;
    let ours: Vec<o2dms_core::Package> = every
        .into_iter()
        .filter(|p| p.name == first || p.name == second)
        .collect();
    ensure_eq(
        "this scenario's packages in the list of every package",
        &want_all,
        &name_versions(&ours),
    )
}

/// A chart with its own appVersion and description (and no workload).
fn described_chart(name: &str, version: &str, app_version: &str, description: &str) -> Vec<u8> {
    let chart = format!(
        "apiVersion: v2\nname: {name}\nversion: {version}\nappVersion: \"{app_version}\"\ndescription: {description}\ntype: application\n"
    );
    let values = "conformance: {}\n";
    let config_map = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-meta\ndata:\n  chart: {{ .Chart.Name }}\n";
    let files = [
        (format!("{name}/Chart.yaml"), chart.into_bytes()),
        (format!("{name}/values.yaml"), values.as_bytes().to_vec()),
        (
            format!("{name}/templates/configmap.yaml"),
            config_map.as_bytes().to_vec(),
        ),
    ];
    crate::fixtures::tgz(files.iter().map(|(p, d)| (p.as_str(), d.as_slice())))
        .expect("writing to memory does not fail")
}

fn is_sha256_ref(digest: &str) -> bool {
    digest.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
    })
}

/// What a package says about itself, without its creation time.
fn metadata(
    p: &o2dms_core::Package,
) -> (
    &PackageId,
    &str,
    &str,
    Option<&str>,
    &str,
    PackageSource,
    &str,
) {
    (
        &p.id,
        &p.name,
        &p.version,
        p.app_version.as_deref(),
        &p.description,
        p.source,
        &p.digest,
    )
}

async fn metadata_of_upload(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let name = cx.unique_name("meta");
    let app_version = "7.3.1-conformance";
    let description = format!("metadata of {name}, as Chart.yaml says");
    let archive = described_chart(&name, "1.2.3", app_version, &description);
    let digest = format!("sha256:{}", hex::encode(Sha256::digest(&archive)));
    let p = cx
        .upload(a, PackageUpload::new(archive))
        .await
        .step("upload_package")?;
    ensure(
        is_sha256_ref(&p.digest),
        "digest `sha256:` + 64 lowercase hex digits",
        || format!("digest {:?}", p.digest),
    )?;
    ensure_eq(
        "upload: (name, version, appVersion, description, digest)",
        &(
            name.as_str(),
            "1.2.3",
            Some(app_version),
            description.as_str(),
            digest.as_str(),
        ),
        &(
            p.name.as_str(),
            p.version.as_str(),
            p.app_version.as_deref(),
            p.description.as_str(),
            p.digest.as_str(),
        ),
    )?;
    ensure(
        matches!(p.source, PackageSource::Uploaded | PackageSource::Oci),
        "upload: source = Uploaded (or Oci)",
        || format!("upload: source = {:?}", p.source),
    )?;
    let g = a
        .get_package(&p.id)
        .await
        .step("get_package of the uploaded id")?;
    ensure_eq("get: metadata", &metadata(&p), &metadata(&g))?;
    let listed = listed_packages(a, &name).await?;
    let l = listed
        .first()
        .ok_or_else(|| Failure::mismatch(format!("list_packages to list {name}"), "nothing"))?;
    ensure_eq("packages listed by name", &1, &listed.len())?;
    ensure_eq("list: metadata", &metadata(&p), &metadata(l))
}

async fn forced_delete_in_use(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let name = cx.unique_name("pkg");
    let p = upload_tiny(a, cx, &name, "0.1.0").await?;
    let id = cx.id("user");
    cx.create(a, CreateDeployment::new(id.clone(), p.id.clone()))
        .await
        .step("create_deployment")?;
    a.delete_package(&p.id, DeletePackageOptions::forced())
        .await
        .step("forced delete_package of a package in use")?;
    a.get_package(&p.id)
        .await
        .expect_kind(ErrorKind::NotFound, "get_package after the forced delete")?;
    ensure_eq(
        "ids listed after the forced delete",
        &Vec::<PackageId>::new(),
        &listed(a, &name).await?,
    )?;
    let d = a
        .get_deployment(&id)
        .await
        .step("get_deployment after its package was deleted")?;
    ensure_eq(
        "(package, revision, status) of the deployment",
        &(&p.id, 1, DeploymentStatus::Deployed),
        &(&d.package, d.revision, d.status),
    )?;
    if a.capabilities().status_detail {
        let s = a
            .deployment_status(&id)
            .await
            .step("deployment_status after its package was deleted")?;
        ensure_eq("status", &DeploymentStatus::Deployed, &s.status)?;
    }
    a.delete_deployment(&id)
        .await
        .step("delete_deployment after its package was deleted")
}

async fn expected_version_checked(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let name = cx.unique_name("pkg");
    let archive = tiny_chart(&name, "0.1.0");
    let wrong_version = PackageUpload::new(archive.clone())
        .expected_name(&name)
        .expected_version("0.1.1");
    cx.upload(a, wrong_version).await.expect_invalid(
        "expected_version",
        "upload_package of 0.1.0 expecting version 0.1.1",
    )?;
    let wrong_name = PackageUpload::new(archive.clone())
        .expected_name(format!("{name}-other"))
        .expected_version("0.1.0");
    cx.upload(a, wrong_name)
        .await
        .expect_invalid("expected_name", "upload_package expecting another name")?;
    ensure_eq(
        "ids listed after the refused uploads",
        &Vec::<PackageId>::new(),
        &listed(a, &name).await?,
    )?;
    let right = PackageUpload::new(archive)
        .expected_name(&name)
        .expected_version("0.1.0");
    let p = cx
        .upload(a, right)
        .await
        .step("upload_package with matching expectations")?;
    ensure_eq(
        "(name, version) uploaded",
        &(name.as_str(), "0.1.0"),
        &(p.name.as_str(), p.version.as_str()),
    )
}

async fn id_round_trip_build_metadata(a: &dyn DmsAdapter, cx: &Context) -> ScenarioResult {
    let name = cx.unique_name("build");
    let version = "0.1.0-rc.1+build.7";
    let p = upload_tiny(a, cx, &name, version).await?;
    ensure_eq("upload: version", &version, &p.version.as_str())?;
    let parsed: PackageId =
        p.id.to_string()
            .parse()
            .map_err(|e| Failure::mismatch("the package id to parse from its printed form", e))?;
    ensure_eq("id printed and parsed", &p.id, &parsed)?;
    let g = a
        .get_package(&parsed)
        .await
        .step("get_package of the printed-and-parsed id")?;
    ensure_eq("id get returns", &p.id, &g.id)?;
    ensure_eq(
        "ids listed by name",
        &vec![p.id.clone()],
        &listed(a, &name).await?,
    )?;
    let listed_id = listed(a, &name).await?.remove(0);
    let d = cx
        .create(a, CreateDeployment::new(cx.id("app"), listed_id))
        .await
        .step("create_deployment with the id list returned")?;
    ensure_eq("package of the deployment", &p.id, &d.package)?;
    ensure_eq(
        "package read back",
        &p.id,
        &a.get_deployment(&cx.id("app"))
            .await
            .step("get_deployment")?
            .package,
    )
}
