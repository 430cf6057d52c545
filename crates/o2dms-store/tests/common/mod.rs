//! Test support: fixture charts, real servers on loopback (started on free ports, killed
//! by pid when the guard drops, also when a test fails), and locating helm.

#![allow(dead_code, missing_docs)]

pub mod token;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A tiny valid chart archive: `<name>/Chart.yaml`, `values.yaml`, one template.
/// `salt` changes the content (and so the digest) without changing name or version.
pub fn chart_tgz(name: &str, version: &str, salt: &str) -> Vec<u8> {
    let chart_yaml = format!(
        "apiVersion: v2\nname: {name}\nversion: {version}\nappVersion: \"1.0.{}\"\ndescription: Fixture chart {name} {salt}\ntype: application\n",
        salt.len()
    );
    let values = format!("replicaCount: 1\nsalt: \"{salt}\"\n");
    let template = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\ndata:\n  salt: {{ .Values.salt | quote }}\n";
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::default(),
    ));
    for (path, body) in [
        ("Chart.yaml", chart_yaml.as_str()),
        ("values.yaml", values.as_str()),
        ("templates/cm.yaml", template),
    ] {
        let mut header = tar::Header::new_gnu();
        header.set_size(body.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(1_700_000_000);
        header.set_entry_type(tar::EntryType::Regular);
        builder
            .append_data(&mut header, format!("{name}/{path}"), body.as_bytes())
            .unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

/// An archive with a path-traversal entry: must be rejected.
pub fn hostile_tgz() -> Vec<u8> {
    let mut raw = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::default(),
    ));
    let body = b"apiVersion: v2\nname: evil\nversion: 1.0.0\n";
    let mut header = tar::Header::new_gnu();
    header.set_size(body.len() as u64);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    // Write the name bytes directly: the tar crate refuses `..` through set_path.
    {
        let name = b"evil/../../escape/Chart.yaml";
        let gnu = header.as_gnu_mut().unwrap();
        gnu.name[..name.len()].copy_from_slice(name);
    }
    header.set_cksum();
    raw.append(&header, &body[..]).unwrap();
    raw.into_inner().unwrap().finish().unwrap()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    o2dms_cluster::servers::free_port().unwrap()
}

/// `python3 -m http.server` over `dir` on a free loopback port.
pub struct StaticServer {
    pub port: u16,
    _server: o2dms_cluster::servers::StaticServer,
}

impl StaticServer {
    pub fn start(dir: &Path) -> StaticServer {
        let server =
            o2dms_cluster::servers::StaticServer::start(dir).unwrap_or_else(|e| panic!("{e}"));
        StaticServer {
            port: server.port(),
            _server: server,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }
}

/// Debian's `docker-registry` (distribution), installed if missing (as root), with
/// storage in a temporary directory and deletes enabled, on a free loopback port.
pub struct Registry {
    pub port: u16,
    _registry: o2dms_cluster::servers::Registry,
}

fn which(name: &str) -> Result<PathBuf, ()> {
    let path = std::env::var_os("PATH").ok_or(())?;
    for dir in std::env::split_paths(&path).chain([PathBuf::from("/usr/bin")]) {
        let p = dir.join(name);
        if p.is_file() {
            return Ok(p);
        }
    }
    Err(())
}

/// TLS material for a loopback server: a test CA (PEM, to trust) and a server
/// certificate and key for 127.0.0.1 and localhost, written into `dir`.
pub struct TestTls {
    pub ca_pem: String,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TestTls {
    pub fn generate(dir: &Path) -> TestTls {
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "o2dms-store test CA");
        let ca =
            rcgen::CertifiedIssuer::self_signed(ca_params, rcgen::KeyPair::generate().unwrap())
                .unwrap();
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".into()])
            .unwrap()
            .signed_by(&leaf_key, &ca)
            .unwrap();
        let cert = dir.join("server.pem");
        let key = dir.join("server.key");
        std::fs::write(&cert, leaf.pem()).unwrap();
        std::fs::write(&key, leaf_key.serialize_pem()).unwrap();
        TestTls {
            ca_pem: ca.pem(),
            cert,
            key,
        }
    }
}

impl Registry {
    pub fn start() -> Registry {
        Registry::start_with(None, None)
    }

    /// A registry that requires bearer tokens from `tokens`.
    pub fn start_token_auth(tokens: &token::TokenServer) -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let bundle = dir.path().join("token-signer.pem");
        std::fs::write(&bundle, &tokens.cert_pem).unwrap();
        let auth = format!(
            "auth:\n  token:\n    realm: http://127.0.0.1:{}/token\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
            tokens.port,
            token::SERVICE,
            token::ISSUER,
            bundle.display()
        );
        let registry = o2dms_cluster::servers::Registry::start_configured("", |_| auth.clone())
            .unwrap_or_else(|e| panic!("{e}"))
            .keep(dir);
        Registry::wrap(registry)
    }

    /// A registry serving HTTPS with `tls`'s certificate.
    pub fn start_tls(tls: &TestTls) -> Registry {
        Registry::start_with(Some(tls), None)
    }

    /// A registry that requires basic auth (htpasswd) as `user` / `password`.
    pub fn start_basic_auth(user: &str, password: &str) -> Registry {
        Registry::start_with(None, Some((user, password)))
    }

    fn wrap(registry: o2dms_cluster::servers::Registry) -> Registry {
        Registry {
            port: registry.port(),
            _registry: registry,
        }
    }

    fn start_with(tls: Option<&TestTls>, basic: Option<(&str, &str)>) -> Registry {
        let http_extra = tls
            .map(|t| {
                format!(
                    "  tls:\n    certificate: {}\n    key: {}\n",
                    t.cert.display(),
                    t.key.display()
                )
            })
            .unwrap_or_default();
        let registry =
            o2dms_cluster::servers::Registry::start_configured(&http_extra, |dir| match basic {
                None => String::new(),
                Some((user, password)) => {
                    let file = dir.join("htpasswd");
                    let hash = bcrypt::hash(password, 4).unwrap();
                    std::fs::write(&file, format!("{user}:{hash}\n")).unwrap();
                    format!(
                        "auth:\n  htpasswd:\n    realm: o2dms-test\n    path: {}\n",
                        file.display()
                    )
                }
            })
            .unwrap_or_else(|e| panic!("{e}"));
        Registry::wrap(registry)
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

/// helm for the cross-checks, from (first found) `O2DMS_HELM`, `O2DMS_HELM4`,
/// `O2DMS_HELM3`, PATH, or the tools `cargo xtask cluster provision` caches in
/// `${XDG_CACHE_HOME:-~/.cache}/o2dms/bin/helm-v*/helm`. None, with the reason printed,
/// if there is none: only the helm cross-check is then skipped.
pub fn helm() -> Option<PathBuf> {
    for var in ["O2DMS_HELM", "O2DMS_HELM4", "O2DMS_HELM3"] {
        if let Some(p) = std::env::var_os(var) {
            let p = PathBuf::from(p);
            if p.is_file() {
                eprintln!("helm cross-check uses {var}={}", p.display());
                return Some(p);
            }
            eprintln!("{var}={} is not a file; ignored", p.display());
        }
    }
    if let Ok(p) = which("helm") {
        eprintln!("helm cross-check uses {}", p.display());
        return Some(p);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")));
    if let Some(bin) = cache.map(|c| c.join("o2dms/bin")) {
        let mut found: Vec<PathBuf> = std::fs::read_dir(&bin)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("helm-v"))
            .map(|e| e.path().join("helm"))
            .filter(|p| p.is_file())
            .collect();
        found.sort();
        if let Some(p) = found.pop() {
            eprintln!("helm cross-check uses the provisioned {}", p.display());
            return Some(p);
        }
    }
    eprintln!(
        "SKIPPING the helm cross-check only: no helm (set O2DMS_HELM, put helm on PATH, \
         or run `cargo xtask cluster provision`)"
    );
    None
}

/// Runs helm with its config, cache and data in `home`; panics with its output on failure.
pub fn run_helm(helm: &Path, home: &Path, args: &[&str]) -> String {
    let out = Command::new(helm)
        .args(args)
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_DATA_HOME", home.join("data"))
        .env("HELM_REGISTRY_CONFIG", home.join("registry.json"))
        .stdin(Stdio::null())
        .output()
        .expect("run helm");
    assert!(
        out.status.success(),
        "helm {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Pushes a chart manifest around `layer` to `repo:tag` with plain HTTP calls, the way
/// another client (or an attacker with push rights) would, bypassing every check of the
/// store: `config` is the config blob. Returns the manifest digest (`sha256:...`).
pub async fn raw_push(
    client: &reqwest::Client,
    base: &str,
    auth: Option<(&str, &str)>,
    repo: &str,
    tag: &str,
    config: &[u8],
    layer: &[u8],
) -> String {
    let with_auth = |b: reqwest::RequestBuilder| match auth {
        Some((u, p)) => b.basic_auth(u, Some(p)),
        None => b,
    };
    let mut descriptors = Vec::new();
    for (media, bytes) in [
        ("application/vnd.cncf.helm.config.v1+json", config),
        ("application/vnd.cncf.helm.chart.content.v1.tar+gzip", layer),
    ] {
        let digest = format!("sha256:{}", sha256_hex(bytes));
        let start = with_auth(client.post(format!("{base}/v2/{repo}/blobs/uploads/")))
            .send()
            .await
            .unwrap();
        assert_eq!(start.status(), 202, "start upload");
        let location = start.headers()["location"].to_str().unwrap().to_string();
        let mut url = reqwest::Url::parse(base).unwrap().join(&location).unwrap();
        url.query_pairs_mut().append_pair("digest", &digest);
        let put = with_auth(client.put(url))
            .header("content-type", "application/octet-stream")
            .body(bytes.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), 201, "blob upload");
        descriptors.push(serde_json::json!({
            "mediaType": media, "digest": digest, "size": bytes.len(),
        }));
    }
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": descriptors[0],
        "layers": [descriptors[1]],
    });
    let body = serde_json::to_vec(&manifest).unwrap();
    let put = with_auth(client.put(format!("{base}/v2/{repo}/manifests/{tag}")))
        .header("content-type", "application/vnd.oci.image.manifest.v1+json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 201, "manifest upload");
    format!("sha256:{}", sha256_hex(&body))
}

/// The Helm config blob for `name@version`.
pub fn chart_config(name: &str, version: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "apiVersion": "v2", "name": name, "version": version,
    }))
    .unwrap()
}
