//! The HTTP chart repository store against a real HTTP server (python3 http.server) on
//! loopback, with an index built by this crate, a hand-written one (relative and
//! absolute urls, a wrong digest), and one built by `helm repo index` when helm exists.

mod common;

use common::{chart_tgz, sha256_hex, StaticServer};
use o2dms_core::{ErrorKind, PackageFilter, PackageId, PackageSource, PackageUpload};
use o2dms_store::{HttpRepoOptions, HttpRepoStore, InstallSource, LocalDirStore, PackageStore};

fn id(s: &str) -> PackageId {
    PackageId::new(s).unwrap()
}

#[tokio::test]
async fn reads_an_index_built_by_this_crate() {
    let dir = tempfile::tempdir().unwrap();
    let local = LocalDirStore::open(dir.path()).unwrap();
    let a = chart_tgz("du", "1.0.0", "a");
    let b = chart_tgz("du", "1.10.0", "b");
    let c = chart_tgz("cu", "0.1.0", "c");
    for t in [&a, &b, &c] {
        local.put(PackageUpload::new(t.clone())).await.unwrap();
    }
    let server = StaticServer::start(dir.path());
    let repo = HttpRepoStore::new(&server.url(), HttpRepoOptions::default()).unwrap();

    let page = repo.list(&PackageFilter::default()).await.unwrap();
    let ids: Vec<_> = page.items.iter().map(|p| p.id.to_string()).collect();
    assert_eq!(ids, ["repo:cu@0.1.0", "repo:du@1.0.0", "repo:du@1.10.0"]);
    assert!(page
        .items
        .iter()
        .all(|p| p.source == PackageSource::Repository));

    let p = repo.get(&id("repo:du@1.10.0")).await.unwrap();
    assert_eq!(p.digest, format!("sha256:{}", sha256_hex(&b)));
    assert_eq!(repo.archive(&p.id).await.unwrap(), b);
    match repo.install_source(&p.id).await.unwrap() {
        InstallSource::Archive { path } => assert_eq!(std::fs::read(path).unwrap(), b),
        other => panic!("unexpected {other:?}"),
    }

    // Read-only.
    let err = repo.put(PackageUpload::new(a.clone())).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(err.to_string().contains("read-only"), "{err}");
    assert_eq!(
        repo.delete(&p.id).await.unwrap_err().kind(),
        ErrorKind::Unsupported
    );

    // Ids: missing, foreign, malformed.
    assert_eq!(
        repo.get(&id("repo:du@9.9.9")).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        repo.get(&id("du@1.0.0")).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        repo.get(&id("oci:du@1.0.0")).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        repo.get(&id("repo:du")).await.unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    drop(server);
}

#[tokio::test]
async fn relative_and_absolute_urls_and_digest_checks() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("charts")).unwrap();
    std::fs::create_dir_all(dir.path().join("elsewhere")).unwrap();
    let rel = chart_tgz("rel", "1.0.0", "r");
    let abs = chart_tgz("abs", "2.0.0", "a");
    let bad = chart_tgz("bad", "3.0.0", "b");
    std::fs::write(dir.path().join("charts/rel-1.0.0.tgz"), &rel).unwrap();
    std::fs::write(dir.path().join("elsewhere/abs-2.0.0.tgz"), &abs).unwrap();
    std::fs::write(dir.path().join("charts/bad-3.0.0.tgz"), &bad).unwrap();
    let server = StaticServer::start(dir.path());
    let index = format!(
        r#"apiVersion: v1
entries:
  rel:
  - apiVersion: v2
    name: rel
    version: 1.0.0
    description: relative
    digest: {rel_digest}
    created: "2026-01-12T10:00:00Z"
    urls:
    - charts/rel-1.0.0.tgz
  abs:
  - apiVersion: v2
    name: abs
    version: 2.0.0
    appVersion: "9.9"
    digest: {abs_digest}
    created: "2026-01-12T10:00:00.5Z"
    urls:
    - http://127.0.0.1:{port}/elsewhere/abs-2.0.0.tgz
  bad:
  - apiVersion: v2
    name: bad
    version: 3.0.0
    digest: {wrong}
    created: "2026-01-12T10:00:00Z"
    urls:
    - charts/bad-3.0.0.tgz
generated: "2026-01-12T10:00:00Z"
"#,
        rel_digest = sha256_hex(&rel),
        abs_digest = sha256_hex(&abs),
        wrong = sha256_hex(b"something else"),
        port = server.port,
    );
    std::fs::write(dir.path().join("index.yaml"), index).unwrap();

    let repo = HttpRepoStore::new(&server.url(), HttpRepoOptions::default()).unwrap();
    assert_eq!(
        repo.list(&PackageFilter::default()).await.unwrap().total,
        Some(3)
    );
    assert_eq!(repo.archive(&id("repo:rel@1.0.0")).await.unwrap(), rel);
    assert_eq!(repo.archive(&id("repo:abs@2.0.0")).await.unwrap(), abs);
    let p = repo.get(&id("repo:abs@2.0.0")).await.unwrap();
    assert_eq!(p.app_version.as_deref(), Some("9.9"));
    assert_eq!(p.created_at.to_string(), "2026-01-12T10:00:00.5Z");
    let err = repo.archive(&id("repo:bad@3.0.0")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Backend, "{err}");
    assert!(err.to_string().contains("digest"), "{err}");
    assert!(repo.install_source(&id("repo:bad@3.0.0")).await.is_err());
    drop(server);
}

#[tokio::test]
async fn reads_an_index_built_by_helm() {
    let Some(helm) = common::helm() else { return };
    let dir = tempfile::tempdir().unwrap();
    let charts = [
        chart_tgz("du", "1.0.0", "a"),
        chart_tgz("du", "1.1.0-rc.1", "b"),
        chart_tgz("cu", "0.2.0", "c"),
    ];
    for (t, f) in charts
        .iter()
        .zip(["du-1.0.0.tgz", "du-1.1.0-rc.1.tgz", "cu-0.2.0.tgz"])
    {
        std::fs::write(dir.path().join(f), t).unwrap();
    }
    let home = tempfile::tempdir().unwrap();
    common::run_helm(
        &helm,
        home.path(),
        &["repo", "index", dir.path().to_str().unwrap()],
    );
    let server = StaticServer::start(dir.path());
    let repo = HttpRepoStore::new(&server.url(), HttpRepoOptions::default()).unwrap();
    let page = repo.list(&PackageFilter::default()).await.unwrap();
    let ids: Vec<_> = page.items.iter().map(|p| p.id.to_string()).collect();
    assert_eq!(
        ids,
        ["repo:cu@0.2.0", "repo:du@1.0.0", "repo:du@1.1.0-rc.1"]
    );
    for (p, t) in page.items.iter().zip([&charts[2], &charts[0], &charts[1]]) {
        assert_eq!(p.digest, format!("sha256:{}", sha256_hex(t)));
        assert_eq!(&repo.archive(&p.id).await.unwrap(), t);
    }

    // And with absolute urls (`helm repo index --url`).
    common::run_helm(
        &helm,
        home.path(),
        &[
            "repo",
            "index",
            dir.path().to_str().unwrap(),
            "--url",
            &server.url(),
        ],
    );
    let repo = HttpRepoStore::new(&server.url(), HttpRepoOptions::default()).unwrap();
    assert_eq!(repo.archive(&id("repo:cu@0.2.0")).await.unwrap(), charts[2]);
    drop(server);
}

#[tokio::test]
async fn unreachable_repository_is_unavailable_and_remote_plain_http_is_refused() {
    let port = common::free_port();
    let repo = HttpRepoStore::new(
        &format!("http://127.0.0.1:{port}/"),
        HttpRepoOptions::default(),
    )
    .unwrap();
    let err = repo.list(&PackageFilter::default()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert!(err.to_string().to_lowercase().contains("refused"), "{err}");
    let err =
        HttpRepoStore::new("http://charts.example.com/", HttpRepoOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
}

/// A local store and a repository behind one MultiStore: uploads go local, reads are
/// routed by id, and list merges both in one order with working pages.
#[tokio::test]
async fn multi_store_routes_and_merges() {
    use o2dms_core::PageRequest;
    use o2dms_store::MultiStore;
    use std::sync::Arc;

    let served = tempfile::tempdir().unwrap();
    let remote = LocalDirStore::open(served.path()).unwrap();
    let du_remote = chart_tgz("du", "1.0.0", "remote");
    remote
        .put(PackageUpload::new(du_remote.clone()))
        .await
        .unwrap();
    remote
        .put(PackageUpload::new(chart_tgz("zz", "1.0.0", "r")))
        .await
        .unwrap();
    let server = StaticServer::start(served.path());

    let local_dir = tempfile::tempdir().unwrap();
    let multi = MultiStore::new(vec![
        Arc::new(LocalDirStore::open(local_dir.path()).unwrap()),
        Arc::new(HttpRepoStore::new(&server.url(), HttpRepoOptions::default()).unwrap()),
        Arc::new(
            HttpRepoStore::new(
                &server.url(),
                HttpRepoOptions {
                    id_prefix: "mirror".into(),
                    ..Default::default()
                },
            )
            .unwrap(),
        ),
    ])
    .unwrap();
    let du_local = chart_tgz("du", "1.0.0", "local");
    let p = multi
        .put(PackageUpload::new(du_local.clone()))
        .await
        .unwrap();
    assert_eq!(p.id.as_str(), "du@1.0.0");
    assert!(local_dir.path().join("du-1.0.0.tgz").is_file());

    let all = multi.list(&PackageFilter::default()).await.unwrap();
    let ids: Vec<_> = all.items.iter().map(|p| p.id.to_string()).collect();
    assert_eq!(
        ids,
        [
            "du@1.0.0",
            "mirror:du@1.0.0",
            "repo:du@1.0.0",
            "mirror:zz@1.0.0",
            "repo:zz@1.0.0"
        ]
    );
    // Pages of one item still see each package exactly once (same name@version twice).
    let mut filter = PackageFilter::all().page(PageRequest::first(1));
    let mut seen = Vec::new();
    loop {
        let page = multi.list(&filter).await.unwrap();
        assert_eq!(page.total, Some(5));
        seen.extend(page.items.into_iter().map(|p| p.id.to_string()));
        match page.continue_token {
            Some(t) => filter.page.continue_token = Some(t),
            None => break,
        }
    }
    assert_eq!(seen, ids);

    assert_eq!(multi.archive(&id("du@1.0.0")).await.unwrap(), du_local);
    assert_eq!(
        multi.archive(&id("repo:du@1.0.0")).await.unwrap(),
        du_remote
    );
    assert_eq!(
        multi.get(&id("oci:du@1.0.0")).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        multi.delete(&id("repo:du@1.0.0")).await.unwrap_err().kind(),
        ErrorKind::Unsupported
    );
    assert_eq!(
        multi.archive(&id("mirror:du@1.0.0")).await.unwrap(),
        du_remote
    );
    multi.delete(&id("du@1.0.0")).await.unwrap();
    assert_eq!(
        multi.list(&PackageFilter::default()).await.unwrap().total,
        Some(4)
    );
    let bad = HttpRepoOptions {
        id_prefix: "Not A Prefix".into(),
        ..Default::default()
    };
    assert_eq!(
        HttpRepoStore::new(&server.url(), bad).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    drop(server);
}

/// install_source reuses a verified cached copy, and replaces a tampered one.
#[tokio::test]
async fn install_source_cache_is_verified() {
    let dir = tempfile::tempdir().unwrap();
    let local = LocalDirStore::open(dir.path()).unwrap();
    let tgz = chart_tgz("du", "1.0.0", "a");
    local.put(PackageUpload::new(tgz.clone())).await.unwrap();
    let server = StaticServer::start(dir.path());
    let cache = tempfile::tempdir().unwrap();
    let repo = HttpRepoStore::new(
        &server.url(),
        HttpRepoOptions {
            cache_dir: Some(cache.path().to_path_buf()),
            ..Default::default()
        },
    )
    .unwrap();
    let pid = id("repo:du@1.0.0");
    let InstallSource::Archive { path } = repo.install_source(&pid).await.unwrap() else {
        panic!("expected an archive")
    };
    assert_eq!(path, cache.path().join(format!("{}.tgz", sha256_hex(&tgz))));
    // Served from the cache once the server is gone.
    drop(server);
    assert_eq!(
        repo.install_source(&pid).await.unwrap(),
        InstallSource::Archive { path: path.clone() }
    );
    // A tampered cache file is not used (and the repository is unreachable now).
    std::fs::write(&path, b"tampered").unwrap();
    assert!(repo.install_source(&pid).await.is_err());
}

/// A hostile index whose digests are paths: the archive is never read from outside the
/// cache, the entries are left out of the list, and every read of them is an error
/// naming the entry (an `IndexDigestError` as the source).
#[tokio::test]
async fn digests_that_are_paths_are_refused_before_use() {
    let dir = tempfile::tempdir().unwrap();
    let served = dir.path().join("served");
    let cache = dir.path().join("cache/repo");
    std::fs::create_dir_all(served.join("charts")).unwrap();
    std::fs::create_dir_all(&cache).unwrap();
    let good = chart_tgz("good", "1.0.0", "g");
    let evil = chart_tgz("evil", "1.0.0", "e");
    std::fs::write(served.join("charts/good-1.0.0.tgz"), &good).unwrap();
    // Planted beside the cache: `../../planted` from the cache names it.
    std::fs::write(dir.path().join("planted.tgz"), &evil).unwrap();
    let server = StaticServer::start(&served);
    let entry = |name: &str, digest: &str| {
        format!(
            "  {name}:\n  - apiVersion: v2\n    name: {name}\n    version: 1.0.0\n    digest: \"{digest}\"\n    urls:\n    - charts/{name}-1.0.0.tgz\n"
        )
    };
    let upper = sha256_hex(&good).to_ascii_uppercase();
    let index = format!(
        "apiVersion: v1\nentries:\n{}{}{}{}{}generated: \"2026-01-12T10:00:00Z\"\n",
        entry("good", &sha256_hex(&good)),
        entry("evil", "../../planted"),
        entry("prefixed", "sha256:../../planted"),
        entry("upper", &upper),
        entry("short", &sha256_hex(&good)[..40]),
    );
    std::fs::write(served.join("index.yaml"), index).unwrap();
    let repo = HttpRepoStore::new(
        &server.url(),
        HttpRepoOptions {
            cache_dir: Some(cache.clone()),
            ..HttpRepoOptions::default()
        },
    )
    .unwrap();
    let page = repo.list(&PackageFilter::default()).await.unwrap();
    let ids: Vec<_> = page.items.iter().map(|p| p.id.to_string()).collect();
    assert_eq!(ids, ["repo:good@1.0.0"]);
    for name in ["evil", "prefixed", "upper", "short"] {
        let pid = id(&format!("repo:{name}@1.0.0"));
        for err in [
            repo.get(&pid).await.unwrap_err(),
            repo.archive(&pid).await.unwrap_err(),
            repo.install_source(&pid).await.unwrap_err(),
        ] {
            assert_eq!(err.kind(), ErrorKind::Backend, "{err}");
            let text = err.to_string();
            assert!(
                text.contains(&format!("index entry \"{name}\" version \"1.0.0\"")),
                "{text}"
            );
            assert!(!text.contains("planted"), "{text}");
            // the IndexDigestError, kept as the source
            let source = std::error::Error::source(&err).expect("a source");
            assert!(source.to_string().starts_with("index entry"), "{source}");
        }
    }
    match repo.install_source(&id("repo:good@1.0.0")).await.unwrap() {
        InstallSource::Archive { path } => {
            assert_eq!(path.parent(), Some(cache.as_path()));
            assert_eq!(std::fs::read(path).unwrap(), good);
        }
        other => panic!("unexpected {other:?}"),
    }
    drop(server);
}
