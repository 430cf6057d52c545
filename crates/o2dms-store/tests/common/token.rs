//! A minimal registry token service (Docker/distribution token auth) for tests: issues
//! ES256 JWTs with an `x5c` certificate the registry trusts, granting whatever scope is
//! asked, to clients that present the expected basic credentials (`GET`), or the identity
//! token `refresh-<password>` (`POST grant_type=refresh_token`, OAuth2).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use rcgen::SigningKey as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

pub const ISSUER: &str = "o2dms-test-issuer";
pub const SERVICE: &str = "o2dms-test-registry";

pub struct TokenServer {
    pub port: u16,
    /// PEM of the certificate whose key signs tokens (the registry's rootcertbundle).
    pub cert_pem: String,
    /// Tokens issued so far.
    pub issued: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// ECDSA ASN.1 DER signature to the JWS form: r || s, 32 bytes each.
fn der_to_raw(der: &[u8]) -> Vec<u8> {
    let mut i = 2;
    if der[1] & 0x80 != 0 {
        i += usize::from(der[1] & 0x7f);
    }
    let mut out = Vec::new();
    for _ in 0..2 {
        assert_eq!(der[i], 0x02);
        let len = usize::from(der[i + 1]);
        let int = &der[i + 2..i + 2 + len];
        let int = &int[int.iter().take_while(|b| **b == 0).count()..];
        out.extend(std::iter::repeat_n(0u8, 32 - int.len()));
        out.extend_from_slice(int);
        i += 2 + len;
    }
    out
}

impl TokenServer {
    pub async fn start(user: &'static str, password: &'static str) -> TokenServer {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "o2dms test token signer");
        let cert = params.self_signed(&key).unwrap();
        let x5c = STANDARD.encode(cert.der());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let issued = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&issued);
        let expected = format!("Basic {}", STANDARD.encode(format!("{user}:{password}")));
        // Identity (refresh) tokens this service accepts: `refresh-<password>`.
        let refresh = format!("refresh-{password}");
        let task = tokio::spawn(async move {
            let key = Arc::new(key);
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let (key, x5c, expected, count, refresh) = (
                    Arc::clone(&key),
                    x5c.clone(),
                    expected.clone(),
                    Arc::clone(&count),
                    refresh.clone(),
                );
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let end = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
                    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
                    // A POST (OAuth2, identity tokens) carries a form body.
                    let length: usize = head
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse().ok())?
                        })
                        .unwrap_or(0);
                    while buf.len() < end + length {
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let form = String::from_utf8_lossy(&buf[end..end + length]).into_owned();
                    let post = head.starts_with("POST ");
                    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                    let authorized = if post {
                        let pairs: Vec<(String, String)> =
                            reqwest::Url::parse(&format!("http://x/?{form}"))
                                .unwrap()
                                .query_pairs()
                                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                                .collect();
                        let has = |k: &str, v: &str| pairs.iter().any(|(a, b)| a == k && b == v);
                        has("grant_type", "refresh_token")
                            && has("refresh_token", &refresh)
                            && has("client_id", "o2dms")
                    } else {
                        head.lines().any(|l| {
                            l.split_once(':').is_some_and(|(k, v)| {
                                k.eq_ignore_ascii_case("authorization") && v.trim() == expected
                            })
                        })
                    };
                    let (status, body) = if !authorized {
                        ("401 Unauthorized", "{}".to_string())
                    } else {
                        let url = if post {
                            reqwest::Url::parse(&format!("http://x/?{form}")).unwrap()
                        } else {
                            reqwest::Url::parse(&format!("http://x{path}")).unwrap()
                        };
                        let access: Vec<serde_json::Value> = url
                            .query_pairs()
                            .filter(|(k, _)| k == "scope")
                            .filter_map(|(_, scope)| {
                                let mut parts = scope.splitn(3, ':');
                                let (t, n, a) = (parts.next()?, parts.next()?, parts.next()?);
                                Some(serde_json::json!({
                                    "type": t, "name": n,
                                    "actions": a.split(',').collect::<Vec<_>>(),
                                }))
                            })
                            .collect();
                        let now = std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .unwrap()
                            .as_secs();
                        let header =
                            serde_json::json!({"typ": "JWT", "alg": "ES256", "x5c": [x5c]});
                        let n = count.fetch_add(1, Ordering::SeqCst);
                        let claims = serde_json::json!({
                            "iss": ISSUER, "sub": "o2dms", "aud": SERVICE,
                            "exp": now + 300, "nbf": now - 10, "iat": now - 10,
                            "jti": format!("t{n}-{now}"), "access": access,
                        });
                        let signing_input = format!(
                            "{}.{}",
                            URL_SAFE_NO_PAD.encode(header.to_string()),
                            URL_SAFE_NO_PAD.encode(claims.to_string())
                        );
                        let sig = der_to_raw(&key.sign(signing_input.as_bytes()).unwrap());
                        let jwt = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig));
                        let answer = if post {
                            serde_json::json!({ "access_token": jwt, "expires_in": 300, "scope": "" })
                        } else {
                            serde_json::json!({ "token": jwt })
                        };
                        ("200 OK", answer.to_string())
                    };
                    let resp = format!(
                        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = sock.write_all(resp.as_bytes()).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        TokenServer {
            port,
            cert_pem: cert.pem(),
            issued,
            task,
        }
    }
}
