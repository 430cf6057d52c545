//! The OCI store against a private registry on loopback: Debian's `docker-registry` with
//! htpasswd basic auth and TLS from a private CA (`o2dms_cluster::servers::Registry`).
//! Credentials and the CA are needed and enough; what installs is the chart layer that
//! was validated, by digest, from the store's cache; a tag moved after upload cannot
//! smuggle another chart in; an invalid chart layer is refused with the validation
//! error before anything is cached or installed.

mod common;

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use common::{chart_config, chart_tgz, hostile_tgz, raw_push, sha256_hex};
use o2dms_cluster::servers::{Registry, RegistryOptions};
use o2dms_core::{ErrorKind, PackageFilter, PackageUpload};
use o2dms_store::{
    Credentials, InstallSource, OciOptions, OciStore, PackageStore, TransportOptions,
};

const USER: &str = "o2dms";
const PASSWORD: &str = "s3cret-Pa55";

fn secured() -> Registry {
    Registry::start_with(&RegistryOptions::new().basic_auth(USER, PASSWORD).tls())
        .unwrap_or_else(|e| panic!("{e}"))
}

fn store(registry: &Registry, credentials: Credentials, ca: bool, cache: &Path) -> OciStore {
    OciStore::new(
        &registry.addr(),
        "charts",
        OciOptions {
            transport: TransportOptions {
                credentials,
                extra_roots_pem: if ca {
                    vec![registry.ca_pem().unwrap().as_bytes().to_vec()]
                } else {
                    Vec::new()
                },
                ..Default::default()
            },
            cache_dir: Some(cache.to_path_buf()),
            ..Default::default()
        },
    )
    .unwrap()
}

/// A client that trusts the registry's CA, for pushing behind the store's back.
fn raw_client(registry: &Registry) -> reqwest::Client {
    reqwest::Client::builder()
        .use_rustls_tls()
        .add_root_certificate(
            reqwest::Certificate::from_pem(registry.ca_pem().unwrap().as_bytes()).unwrap(),
        )
        .build()
        .unwrap()
}

fn archive_path(source: InstallSource) -> std::path::PathBuf {
    match source {
        InstallSource::Archive { path } => path,
        other => panic!("expected a local archive, got {other:?}"),
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn private_registry_with_basic_auth_and_a_private_ca() {
    let registry = secured();
    assert!(registry.url().starts_with("https://"));
    let caches = tempfile::tempdir().unwrap();
    let cache = |n: &str| caches.path().join(n);
    let tgz = chart_tgz("du", "1.0.0", "first");
    let creds = || Credentials::basic(USER, PASSWORD);

    // Anonymous (with the CA): refused, naming what.
    let err = store(&registry, Credentials::Anonymous, true, &cache("anon"))
        .put(PackageUpload::new(tgz.clone()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    assert!(err.to_string().contains("401"), "{err}");
    assert!(err.to_string().contains("none are configured"), "{err}");
    // Wrong password: refused, and never shown.
    let err = store(
        &registry,
        Credentials::basic(USER, "wrong-pw"),
        true,
        &cache("wrong"),
    )
    .list(&PackageFilter::named("du"))
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    assert!(!err.to_string().contains("wrong-pw"), "{err}");

    // Credentials without the CA: TLS verification fails, and the error says so.
    let err = store(&registry, creds(), false, &cache("noca"))
        .put(PackageUpload::new(tgz.clone()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    let text = err.to_string();
    assert!(text.to_lowercase().contains("certificate"), "{text}");
    assert!(text.contains("UnknownIssuer"), "{text}");
    assert!(!text.contains(PASSWORD), "{text}");

    // Credentials and the CA: upload, list, get, install.
    let s = store(&registry, creds(), true, &cache("main"));
    let shown = format!("{s:?}");
    assert!(!shown.contains(PASSWORD), "{shown}");
    let p = s.put(PackageUpload::new(tgz.clone())).await.unwrap();
    assert_eq!(p.id.as_str(), "oci:du@1.0.0");
    assert_eq!(p.digest, format!("sha256:{}", sha256_hex(&tgz)));
    let manifest_digest = p.extensions["oci.manifestDigest"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(manifest_digest.starts_with("sha256:"), "{manifest_digest}");
    let listed = s.list(&PackageFilter::default()).await.unwrap();
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0].digest, p.digest);
    assert_eq!(s.get(&p.id).await.unwrap().digest, p.digest);

    // The install source is the validated archive in the cache, named by its digest
    // only: helm never talks to the registry.
    let path = archive_path(s.install_source(&p.id).await.unwrap());
    assert_eq!(path.parent().unwrap(), s.cache_dir());
    assert_eq!(
        path.file_name().unwrap().to_str().unwrap(),
        format!("{}.tgz", sha256_hex(&tgz))
    );
    assert_eq!(std::fs::read(&path).unwrap(), tgz);
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(s.cache_dir()), 0o700);
    assert_eq!(s.archive(&p.id).await.unwrap(), tgz);

    // A fresh store (empty cache) fetches the layer by digest, validates and caches it.
    let fresh = store(&registry, creds(), true, &cache("fresh"));
    let fresh_path = archive_path(fresh.install_source(&p.id).await.unwrap());
    assert_eq!(std::fs::read(&fresh_path).unwrap(), tgz);
    assert_eq!(mode(&fresh_path), 0o600);

    // Credentials from a docker config.json (as `docker login` / `helm registry login`
    // write them) work the same.
    let config = caches.path().join("config.json");
    {
        use base64::Engine as _;
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
        std::fs::write(
            &config,
            format!(
                r#"{{"auths": {{"https://{}": {{"auth": "{auth}"}}}}}}"#,
                registry.addr()
            ),
        )
        .unwrap();
    }
    let from_file = Credentials::from_docker_config(&config, &registry.addr()).unwrap();
    assert_eq!(from_file, creds());
    let docker = store(&registry, from_file, true, &cache("docker"));
    assert_eq!(docker.get(&p.id).await.unwrap().digest, p.digest);
    archive_path(docker.install_source(&p.id).await.unwrap());

    // The tag moves after upload: someone pushes other content as du 1.0.0.
    let other = chart_tgz("du", "1.0.0", "pushed-later");
    let auth = Some((USER, PASSWORD));
    let base = registry.url();
    let client = raw_client(&registry);
    let moved = raw_push(
        &client,
        &base,
        auth,
        "charts/du",
        "1.0.0",
        &chart_config("du", "1.0.0"),
        &other,
    )
    .await;
    assert_ne!(moved, manifest_digest);
    // get reports what the registry holds now ...
    let now = s.get(&p.id).await.unwrap();
    assert_eq!(now.digest, format!("sha256:{}", sha256_hex(&other)));
    // ... but the store that uploaded du 1.0.0 (and the ones that installed it) refuse
    // to install anything but the chart they validated and pinned.
    for pinned in [&s, &fresh, &docker] {
        let err = pinned.install_source(&p.id).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
        let text = err.to_string();
        assert!(text.contains(&p.digest), "names the pinned layer: {text}");
        assert!(
            text.contains(&sha256_hex(&other)),
            "names the new layer: {text}"
        );
        assert_eq!(
            pinned.archive(&p.id).await.unwrap_err().kind(),
            ErrorKind::Conflict
        );
    }
    // Moved to an invalid chart (a path-traversal entry): still Conflict for the
    // pinned store, before anything is downloaded.
    let hostile = hostile_tgz();
    raw_push(
        &client,
        &base,
        auth,
        "charts/du",
        "1.0.0",
        &chart_config("du", "1.0.0"),
        &hostile,
    )
    .await;
    let err = s.install_source(&p.id).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert!(!s
        .cache_dir()
        .join(format!("{}.tgz", sha256_hex(&hostile)))
        .exists());

    // A store that never saw du 1.0.0 validates what it fetches: the hostile layer is
    // refused with the chart validation's error, and nothing is cached.
    let newcomer = store(&registry, creds(), true, &cache("newcomer"));
    let err = newcomer.install_source(&p.id).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
    let text = err.to_string();
    assert!(text.contains("path traversal"), "{text}");
    assert!(text.contains(&sha256_hex(&hostile)), "{text}");
    let cached: Vec<_> = std::fs::read_dir(newcomer.cache_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "tgz"))
        .collect();
    assert!(cached.is_empty(), "{cached:?}");
    assert_eq!(
        newcomer.archive(&p.id).await.unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );

    // Deleting through the store removes the pin: the moved tag's content is then
    // judged on its own (here: invalid).
    s.delete(&p.id).await.unwrap();
    assert_eq!(s.get(&p.id).await.unwrap_err().kind(), ErrorKind::NotFound);
    let good = chart_tgz("du", "1.0.0", "third");
    s.put(PackageUpload::new(good.clone())).await.unwrap();
    let path = archive_path(s.install_source(&p.id).await.unwrap());
    assert_eq!(std::fs::read(path).unwrap(), good);
    drop(registry);
}

/// TLS verification can be turned off explicitly (and only explicitly).
#[tokio::test]
async fn insecure_skip_tls_verify_is_explicit() {
    let registry =
        Registry::start_with(&RegistryOptions::new().tls()).unwrap_or_else(|e| panic!("{e}"));
    let cache = tempfile::tempdir().unwrap();
    let tgz = chart_tgz("skip", "1.0.0", "x");
    let verified = OciStore::new(
        &registry.addr(),
        "charts",
        OciOptions {
            cache_dir: Some(cache.path().join("a")),
            ..Default::default()
        },
    )
    .unwrap();
    let err = verified
        .put(PackageUpload::new(tgz.clone()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    let skipping = OciStore::new(
        &registry.addr(),
        "charts",
        OciOptions {
            transport: TransportOptions {
                insecure_skip_tls_verify: true,
                ..Default::default()
            },
            cache_dir: Some(cache.path().join("b")),
            ..Default::default()
        },
    )
    .unwrap();
    let p = skipping.put(PackageUpload::new(tgz.clone())).await.unwrap();
    assert_eq!(skipping.archive(&p.id).await.unwrap(), tgz);
    drop(registry);
}
