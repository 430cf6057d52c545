//! The OCI store against a real registry (Debian's `docker-registry`, distribution 2.x)
//! on loopback, and helm pulling what it pushed (and the other way round) when helm
//! exists.

mod common;

use common::{chart_tgz, sha256_hex, Registry};
use o2dms_core::{ErrorKind, PackageFilter, PackageId, PackageSource, PackageUpload, PageRequest};
use o2dms_store::{Credentials, InstallSource, OciOptions, OciStore, PackageStore};

fn id(s: &str) -> PackageId {
    PackageId::new(s).unwrap()
}

fn store(registry: &Registry, catalog: bool) -> OciStore {
    OciStore::new(
        &format!("http://{}", registry.addr()),
        "charts",
        OciOptions {
            use_catalog: catalog,
            ..OciOptions::default()
        },
    )
    .unwrap()
}

#[tokio::test]
async fn push_list_pull_delete() {
    let registry = Registry::start();
    let store = store(&registry, false);
    let v1 = chart_tgz("du", "1.0.0", "a");
    let v2 = chart_tgz("du", "1.10.0+build.7", "b");
    let other = chart_tgz("cu", "0.1.0", "c");

    let p1 = store.put(PackageUpload::new(v1.clone())).await.unwrap();
    assert_eq!(p1.id.as_str(), "oci:du@1.0.0");
    assert_eq!(p1.source, PackageSource::Oci);
    assert_eq!(p1.digest, format!("sha256:{}", sha256_hex(&v1)));
    assert_eq!(p1.app_version.as_deref(), Some("1.0.1"));
    let p2 = store.put(PackageUpload::new(v2.clone())).await.unwrap();
    assert_eq!(p2.id.as_str(), "oci:du@1.10.0+build.7");
    store.put(PackageUpload::new(other.clone())).await.unwrap();

    // Same content again: idempotent; other content at the same version: AlreadyExists.
    assert_eq!(
        store
            .put(PackageUpload::new(v1.clone()))
            .await
            .unwrap()
            .digest,
        p1.digest
    );
    let err = store
        .put(PackageUpload::new(chart_tgz("du", "1.0.0", "zzz")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{err}");
    let err = store
        .put(PackageUpload::new(b"not a chart".to_vec()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");

    // List: tags are versions, ordered by name then SemVer.
    let all = store.list(&PackageFilter::default()).await.unwrap();
    let ids: Vec<_> = all.items.iter().map(|p| p.id.to_string()).collect();
    assert_eq!(
        ids,
        ["oci:cu@0.1.0", "oci:du@1.0.0", "oci:du@1.10.0+build.7"]
    );
    let page = store
        .list(&PackageFilter::named("du").page(PageRequest::first(1)))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.total, Some(2));
    assert!(page.continue_token.is_some());

    // Pull and compare digests; the id round-trips.
    let got = store.get(&p2.id).await.unwrap();
    assert_eq!(got.digest, p2.digest);
    let pulled = store.archive(&id(p2.id.as_str())).await.unwrap();
    assert_eq!(sha256_hex(&pulled), sha256_hex(&v2));
    // Install from the validated archive in the cache, named by its digest.
    match store.install_source(&p1.id).await.unwrap() {
        InstallSource::Archive { path } => {
            assert_eq!(
                path,
                store.cache_dir().join(format!("{}.tgz", sha256_hex(&v1)))
            );
            assert_eq!(std::fs::read(path).unwrap(), v1);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        store.reference("du"),
        format!("oci://{}/charts/du", registry.addr())
    );

    // A store that knows no names finds charts by name, and all of them via _catalog.
    let fresh = self::store(&registry, false);
    assert_eq!(
        fresh.list(&PackageFilter::default()).await.unwrap().total,
        Some(0)
    );
    assert_eq!(fresh.get(&p1.id).await.unwrap().digest, p1.digest);
    let by_name = PackageFilter::named("cu");
    assert_eq!(fresh.list(&by_name).await.unwrap().total, Some(1));
    let with_catalog = self::store(&registry, true);
    assert_eq!(
        with_catalog
            .list(&PackageFilter::default())
            .await
            .unwrap()
            .total,
        Some(3)
    );

    // Ids: missing, foreign, malformed.
    assert_eq!(
        store.get(&id("oci:du@9.9.9")).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        store.get(&id("oci:nosuch@1.0.0")).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        store.get(&id("du@1.0.0")).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        store.get(&id("repo:du@1.0.0")).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        store.get(&id("oci:du")).await.unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        store.get(&id("oci:DU@1.0.0")).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );

    // Delete by manifest digest.
    store.delete(&p1.id).await.unwrap();
    assert_eq!(
        store.get(&p1.id).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        store.archive(&p1.id).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        store.delete(&p1.id).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    let ids: Vec<_> = store
        .list(&PackageFilter::default())
        .await
        .unwrap()
        .items
        .iter()
        .map(|p| p.id.to_string())
        .collect();
    assert_eq!(ids, ["oci:cu@0.1.0", "oci:du@1.10.0+build.7"]);
    drop(registry);
}

#[tokio::test]
async fn helm_interoperates() {
    let Some(helm) = common::helm() else { return };
    let registry = Registry::start();
    let store = store(&registry, false);
    let tgz = chart_tgz("du", "2.3.4", "h");
    let p = store.put(PackageUpload::new(tgz.clone())).await.unwrap();

    // helm pulls what the store pushed.
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let (reference, version) = (store.reference("du"), p.version.clone());
    common::run_helm(
        &helm,
        home.path(),
        &[
            "pull",
            &reference,
            "--version",
            &version,
            "--plain-http",
            "--destination",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(
        sha256_hex(&std::fs::read(out.join("du-2.3.4.tgz")).unwrap()),
        sha256_hex(&tgz)
    );
    let shown = common::run_helm(
        &helm,
        home.path(),
        &[
            "show",
            "chart",
            &reference,
            "--version",
            &version,
            "--plain-http",
        ],
    );
    assert!(shown.contains("name: du"), "{shown}");

    // The store reads what helm pushed.
    let pushed = chart_tgz("hp", "0.0.1", "helm-pushed");
    let file = home.path().join("hp-0.0.1.tgz");
    std::fs::write(&file, &pushed).unwrap();
    common::run_helm(
        &helm,
        home.path(),
        &[
            "push",
            file.to_str().unwrap(),
            &format!("oci://{}/charts", registry.addr()),
            "--plain-http",
        ],
    );
    let got = store.get(&id("oci:hp@0.0.1")).await.unwrap();
    assert_eq!(got.digest, format!("sha256:{}", sha256_hex(&pushed)));
    assert_eq!(store.archive(&got.id).await.unwrap(), pushed);
    store.delete(&got.id).await.unwrap();
    drop(registry);
}

/// Over HTTPS, certificates are verified: a registry with a certificate from an unknown
/// CA is refused, the same registry works once that CA is trusted, and plain HTTP to it
/// does not silently work.
#[tokio::test]
async fn tls_is_verified() {
    let dir = tempfile::tempdir().unwrap();
    let tls = common::TestTls::generate(dir.path());
    let registry = Registry::start_tls(&tls);
    let tgz = chart_tgz("sec", "1.0.0", "tls");

    let untrusted = OciStore::new(&registry.addr(), "charts", OciOptions::default()).unwrap();
    assert!(!untrusted.plain_http());
    let err = untrusted
        .put(PackageUpload::new(tgz.clone()))
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Unavailable | ErrorKind::Backend)
            && err.to_string().to_lowercase().contains("certificate"),
        "{err}"
    );

    let trusted = OciStore::new(
        &registry.addr(),
        "charts",
        OciOptions {
            transport: o2dms_store::TransportOptions {
                extra_roots_pem: vec![tls.ca_pem.clone().into_bytes()],
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .unwrap();
    let p = trusted.put(PackageUpload::new(tgz.clone())).await.unwrap();
    assert_eq!(trusted.archive(&p.id).await.unwrap(), tgz);
    assert_eq!(
        trusted.install_source(&p.id).await.unwrap(),
        InstallSource::Archive {
            path: trusted
                .cache_dir()
                .join(format!("{}.tgz", sha256_hex(&tgz)))
        }
    );

    let plain = OciStore::new(
        &format!("http://{}", registry.addr()),
        "charts",
        OciOptions::default(),
    )
    .unwrap();
    assert!(plain.get(&p.id).await.is_err());
    drop(registry);
}

/// A registry that requires basic auth (htpasswd): anonymous and wrong credentials are
/// refused, the right ones push, list (with the catalog), pull and delete.
#[tokio::test]
async fn basic_auth() {
    let registry = Registry::start_basic_auth("o2dms", "s3cret");
    let with = |creds: Option<(&str, &str)>| {
        OciStore::new(
            &format!("http://{}", registry.addr()),
            "charts",
            OciOptions {
                transport: o2dms_store::TransportOptions {
                    credentials: creds
                        .map_or(Credentials::Anonymous, |(u, p)| Credentials::basic(u, p)),
                    ..Default::default()
                },
                use_catalog: true,
                ..Default::default()
            },
        )
        .unwrap()
    };
    let tgz = chart_tgz("auth", "1.0.0", "a");
    for creds in [None, Some(("o2dms", "wrong"))] {
        let err = with(creds)
            .put(PackageUpload::new(tgz.clone()))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
        assert!(err.to_string().contains("401"), "{err}");
    }
    let store = with(Some(("o2dms", "s3cret")));
    let p = store.put(PackageUpload::new(tgz.clone())).await.unwrap();
    let fresh = with(Some(("o2dms", "s3cret")));
    let ids: Vec<_> = fresh
        .list(&PackageFilter::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|p| p.id.to_string())
        .collect();
    assert_eq!(ids, ["oci:auth@1.0.0"]);
    assert_eq!(store.archive(&p.id).await.unwrap(), tgz);
    store.delete(&p.id).await.unwrap();
    assert_eq!(
        store.get(&p.id).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    drop(registry);
}

/// A registry with token auth (the scheme Harbor, GHCR and Docker Hub use): the store
/// answers the `WWW-Authenticate: Bearer` challenge with a token from the realm, using
/// its basic credentials there, and works end to end; without credentials it is refused.
#[tokio::test]
async fn bearer_token_auth() {
    let tokens = common::token::TokenServer::start("o2dms", "t0ken").await;
    let registry = Registry::start_token_auth(&tokens);
    let with = |creds: Option<(&str, &str)>| {
        OciStore::new(
            &format!("http://{}", registry.addr()),
            "charts",
            OciOptions {
                transport: o2dms_store::TransportOptions {
                    credentials: creds
                        .map_or(Credentials::Anonymous, |(u, p)| Credentials::basic(u, p)),
                    ..Default::default()
                },
                use_catalog: true,
                ..Default::default()
            },
        )
        .unwrap()
    };
    let tgz = chart_tgz("tok", "1.0.0", "t");
    let err = with(None)
        .put(PackageUpload::new(tgz.clone()))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");

    let store = with(Some(("o2dms", "t0ken")));
    let p = store.put(PackageUpload::new(tgz.clone())).await.unwrap();
    assert_eq!(store.archive(&p.id).await.unwrap(), tgz);
    let listed = with(Some(("o2dms", "t0ken")))
        .list(&PackageFilter::default())
        .await
        .unwrap();
    assert_eq!(
        listed.total,
        Some(1),
        "found through the catalog with a token"
    );
    store.delete(&p.id).await.unwrap();
    assert_eq!(
        store.get(&p.id).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert!(tokens.issued.load(std::sync::atomic::Ordering::SeqCst) > 0);

    // An identity token (docker config `identitytoken`) is exchanged at the realm with
    // OAuth2 (`POST grant_type=refresh_token`).
    let with_creds = |credentials: Credentials| {
        OciStore::new(
            &format!("http://{}", registry.addr()),
            "charts",
            OciOptions {
                transport: o2dms_store::TransportOptions {
                    credentials,
                    ..Default::default()
                },
                ..Default::default()
            },
        )
        .unwrap()
    };
    let identity = with_creds(Credentials::IdentityToken {
        token: "refresh-t0ken".into(),
    });
    let tgz2 = chart_tgz("tok2", "1.0.0", "i");
    let p2 = identity
        .put(PackageUpload::new(tgz2.clone()))
        .await
        .unwrap();
    assert_eq!(identity.archive(&p2.id).await.unwrap(), tgz2);
    let err = with_creds(Credentials::IdentityToken {
        token: "refresh-wrong".into(),
    })
    .get(&p2.id)
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");

    // A bearer token obtained elsewhere (docker config `registrytoken`) is sent as is.
    let url = format!(
        "http://127.0.0.1:{}/token?service={}&scope=repository:charts/tok2:pull",
        tokens.port,
        common::token::SERVICE
    );
    let body = reqwest::Client::new()
        .get(url)
        .basic_auth("o2dms", Some("t0ken"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let token: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let bearer = with_creds(Credentials::bearer(token["token"].as_str().unwrap()));
    assert_eq!(bearer.archive(&p2.id).await.unwrap(), tgz2);
    // ... and not exchanged for another when it does not cover a request.
    let err = bearer
        .put(PackageUpload::new(chart_tgz("tok3", "1.0.0", "b")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    assert!(err.to_string().contains("bearer token"), "{err}");
    drop(registry);
}
