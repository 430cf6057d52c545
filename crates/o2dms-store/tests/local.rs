//! The local directory store, on a real directory, and helm reading its index over HTTP.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::{chart_tgz, hostile_tgz, sha256_hex};
use o2dms_core::{ErrorKind, PackageFilter, PackageId, PackageUpload, PageRequest};
use o2dms_store::{HttpRepoOptions, HttpRepoStore, InstallSource, LocalDirStore, PackageStore};

fn listing(dir: &std::path::Path) -> BTreeSet<(String, Vec<u8>)> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap_or_default(),
            )
        })
        .collect()
}

#[tokio::test]
async fn put_get_list_archive_install_delete() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn PackageStore> = Arc::new(LocalDirStore::open(dir.path()).unwrap());
    let tgz = chart_tgz("du", "1.2.0", "a");

    let p = store.put(PackageUpload::new(tgz.clone())).await.unwrap();
    assert_eq!(p.id.as_str(), "du@1.2.0");
    assert_eq!((p.name.as_str(), p.version.as_str()), ("du", "1.2.0"));
    assert_eq!(p.digest, format!("sha256:{}", sha256_hex(&tgz)));
    assert_eq!(p.app_version.as_deref(), Some("1.0.1"));
    assert!(dir.path().join("du-1.2.0.tgz").is_file());

    // The id round-trips through get, archive and install_source.
    let again: PackageId = p.id.as_str().parse().unwrap();
    assert_eq!(store.get(&again).await.unwrap(), p);
    assert_eq!(store.archive(&again).await.unwrap(), tgz);
    match store.install_source(&again).await.unwrap() {
        InstallSource::Archive { path } => assert_eq!(std::fs::read(path).unwrap(), tgz),
        other => panic!("unexpected {other:?}"),
    }
    let page = store.list(&PackageFilter::default()).await.unwrap();
    assert_eq!(page.items, vec![p.clone()]);
    assert_eq!(page.total, Some(1));

    // A reopened store sees the same index.
    let reopened = LocalDirStore::open(dir.path()).unwrap();
    assert_eq!(reopened.get(&p.id).await.unwrap(), p);

    store.delete(&p.id).await.unwrap();
    assert!(!dir.path().join("du-1.2.0.tgz").exists());
    assert_eq!(
        store.get(&p.id).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        store.archive(&p.id).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        store.delete(&p.id).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        store.list(&PackageFilter::default()).await.unwrap().total,
        Some(0)
    );
}

#[tokio::test]
async fn reupload_is_idempotent_and_other_content_is_already_exists() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalDirStore::open(dir.path()).unwrap();
    let first = store
        .put(PackageUpload::new(chart_tgz("du", "1.0.0", "a")))
        .await
        .unwrap();
    let second = store
        .put(PackageUpload::new(chart_tgz("du", "1.0.0", "a")))
        .await
        .unwrap();
    assert_eq!(first, second);
    let before = listing(dir.path());
    let err = store
        .put(PackageUpload::new(chart_tgz("du", "1.0.0", "other")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{err}");
    assert_eq!(listing(dir.path()), before, "nothing may change");
    assert_eq!(
        store.archive(&first.id).await.unwrap(),
        chart_tgz("du", "1.0.0", "a")
    );
}

#[tokio::test]
async fn rejected_uploads_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalDirStore::open(dir.path()).unwrap();
    store
        .put(PackageUpload::new(chart_tgz("ok", "0.1.0", "x")))
        .await
        .unwrap();
    let before = listing(dir.path());

    for (what, upload) in [
        ("path traversal", PackageUpload::new(hostile_tgz())),
        (
            "not gzip",
            PackageUpload::new(b"definitely not a chart".to_vec()),
        ),
        ("empty", PackageUpload::new(Vec::new())),
        (
            "wrong expected name",
            PackageUpload::new(chart_tgz("du", "1.0.0", "a")).expected_name("cu"),
        ),
        (
            "wrong expected version",
            PackageUpload::new(chart_tgz("du", "1.0.0", "a")).expected_version("2.0.0"),
        ),
    ] {
        let err = store.put(upload).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{what}: {err}");
        assert_eq!(
            listing(dir.path()),
            before,
            "{what}: nothing may be written"
        );
    }
}

#[tokio::test]
async fn foreign_and_malformed_ids() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalDirStore::open(dir.path()).unwrap();
    for foreign in ["oci:du@1.0.0", "repo:du@1.0.0", "du@9.9.9"] {
        let id = PackageId::new(foreign).unwrap();
        assert_eq!(
            store.get(&id).await.unwrap_err().kind(),
            ErrorKind::NotFound,
            "{foreign}"
        );
        assert_eq!(
            store.delete(&id).await.unwrap_err().kind(),
            ErrorKind::NotFound,
            "{foreign}"
        );
        assert_eq!(
            store.install_source(&id).await.unwrap_err().kind(),
            ErrorKind::NotFound
        );
    }
    for bad in ["du", "../../etc/passwd@1", "du@1.0.0/../../x", "@1.0.0"] {
        let id = PackageId::new(bad).unwrap();
        assert_eq!(
            store.get(&id).await.unwrap_err().kind(),
            ErrorKind::InvalidArgument,
            "{bad}"
        );
        assert_eq!(
            store.archive(&id).await.unwrap_err().kind(),
            ErrorKind::InvalidArgument,
            "{bad}"
        );
    }
    assert!(store.owns(&PackageId::new("du@1.0.0").unwrap()));
    assert!(!store.owns(&PackageId::new("oci:du@1.0.0").unwrap()));
}

#[tokio::test]
async fn list_order_filter_and_pages() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalDirStore::open(dir.path()).unwrap();
    for (n, v) in [
        ("zeta", "1.0.0"),
        ("alpha", "1.10.0"),
        ("alpha", "1.2.0"),
        ("alpha", "1.2.0-rc.1"),
        ("alpha", "0.9.0"),
        ("mid", "2.0.0"),
    ] {
        store
            .put(PackageUpload::new(chart_tgz(n, v, "s")))
            .await
            .unwrap();
    }
    let all = store.list(&PackageFilter::default()).await.unwrap();
    let ids: Vec<_> = all.items.iter().map(|p| p.id.to_string()).collect();
    assert_eq!(
        ids,
        [
            "alpha@0.9.0",
            "alpha@1.2.0-rc.1",
            "alpha@1.2.0",
            "alpha@1.10.0",
            "mid@2.0.0",
            "zeta@1.0.0"
        ]
    );
    assert_eq!(all.total, Some(6));
    assert_eq!(all.continue_token, None);

    let mut filter = PackageFilter::named("alpha").page(PageRequest::first(3));
    let first = store.list(&filter).await.unwrap();
    assert_eq!(first.items.len(), 3);
    assert_eq!(
        first.total,
        Some(4),
        "total counts all matches, not the page"
    );
    filter.page.continue_token = first.continue_token.clone();
    assert!(filter.page.continue_token.is_some());
    let second = store.list(&filter).await.unwrap();
    assert_eq!(second.items.len(), 1);
    assert_eq!(second.items[0].id.as_str(), "alpha@1.10.0");
    assert_eq!(second.continue_token, None);

    filter.page.continue_token = Some("garbage!".into());
    assert_eq!(
        store.list(&filter).await.unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    filter.page = PageRequest::first(0);
    assert_eq!(
        store.list(&filter).await.unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
}

#[tokio::test]
async fn concurrent_puts_all_land_in_the_index() {
    let dir = tempfile::tempdir().unwrap();
    let a = LocalDirStore::open(dir.path()).unwrap();
    let b = LocalDirStore::open(dir.path()).unwrap();
    let mut tasks = Vec::new();
    for i in 0..12 {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            store
                .put(PackageUpload::new(chart_tgz("c", &format!("1.{i}.0"), "x")))
                .await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let page = a.list(&PackageFilter::default()).await.unwrap();
    assert_eq!(page.total, Some(12));
}

#[tokio::test]
async fn missing_index_is_rebuilt_from_archives() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalDirStore::open(dir.path()).unwrap();
    let p = store
        .put(PackageUpload::new(chart_tgz("du", "1.0.0", "a")))
        .await
        .unwrap();
    std::fs::write(dir.path().join("junk-1.0.0.tgz"), b"not a chart").unwrap();
    std::fs::remove_file(store.index_path()).unwrap();
    let reopened = LocalDirStore::open(dir.path()).unwrap();
    let page = reopened.list(&PackageFilter::default()).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].digest, p.digest);
}

/// helm itself accepts the directory as a chart repository, and so does the HTTP store.
#[tokio::test]
async fn served_directory_is_a_helm_repository() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalDirStore::open(dir.path()).unwrap();
    let tgz = chart_tgz("du", "1.2.3", "a");
    store.put(PackageUpload::new(tgz.clone())).await.unwrap();
    store
        .put(PackageUpload::new(chart_tgz("du", "1.3.0", "b")))
        .await
        .unwrap();
    let server = common::StaticServer::start(dir.path());

    let repo = HttpRepoStore::new(&server.url(), HttpRepoOptions::default()).unwrap();
    let page = repo.list(&PackageFilter::default()).await.unwrap();
    assert_eq!(page.total, Some(2));
    let id = PackageId::new("repo:du@1.2.3").unwrap();
    assert_eq!(repo.archive(&id).await.unwrap(), tgz);

    let Some(helm) = common::helm() else { return };
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    common::run_helm(
        &helm,
        home.path(),
        &[
            "pull",
            "du",
            "--repo",
            &server.url(),
            "--version",
            "1.2.3",
            "--destination",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(std::fs::read(out.join("du-1.2.3.tgz")).unwrap(), tgz);
    drop(server);
}

#[tokio::test]
async fn limits_are_configurable() {
    let dir = tempfile::tempdir().unwrap();
    let limits = o2dms_store::Limits {
        max_compressed_bytes: 64,
        ..Default::default()
    };
    let store = LocalDirStore::open_with_limits(dir.path(), limits).unwrap();
    let before = listing(dir.path());
    let err = store
        .put(PackageUpload::new(chart_tgz("du", "1.0.0", "a")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
    assert_eq!(listing(dir.path()), before);
}
