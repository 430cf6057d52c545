//! The kubelet's HTTPS endpoint, as far as the apiserver needs it: container logs.
//!
//! The apiserver proxies `pods/log` to `https://<node InternalIP>:<kubeletEndpoint port>
//! /containerLogs/{namespace}/{pod}/{container}`. It does not verify the kubelet's serving
//! certificate unless started with `--kubelet-certificate-authority`, so a self-signed
//! certificate generated at start suffices.

use std::convert::Infallible;
use std::sync::Arc;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use k8s_openapi::api::core::v1::{ContainerStatus, Pod};
use k8s_openapi::jiff::Timestamp;
use kube::api::Api;
use kube::runtime::reflector::{ObjectRef, Store};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use super::annotations::{parse_log_lines, LOG_LINES_ANNOTATION};
use super::logs::{container_lines, render, LogQuery};
use super::status::annotation;
use crate::ClusterError;

/// A TLS acceptor with a fresh self-signed certificate for `localhost` and `127.0.0.1`.
pub(crate) fn tls_acceptor() -> Result<TlsAcceptor, ClusterError> {
    let err = |what: &str, e: &dyn std::fmt::Display| {
        ClusterError::Kubelet(format!("serving certificate: {what}: {e}"))
    };
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .map_err(|e| err("generating", &e))?;
    let cert: CertificateDer<'static> = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| err("TLS versions", &e))?
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .map_err(|e| err("TLS configuration", &e))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// What the request handlers need.
#[derive(Clone)]
pub(crate) struct LogSource {
    /// The pods bound to the node, kept by the pod watch.
    pub(crate) store: Store<Pod>,
    /// For pods that the store has not caught up with yet.
    pub(crate) client: kube::Client,
}

/// Accepts connections until `shutdown` turns true; then drops every open connection.
pub(crate) async fn serve(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    source: LogSource,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = super::stopped(&mut shutdown) => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => {
                let (tcp, _) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!(error = %e, "kubelet simulator: accept failed");
                        continue;
                    }
                };
                let acceptor = acceptor.clone();
                let source = source.clone();
                connections.spawn(async move {
                    let tls = match acceptor.accept(tcp).await {
                        Ok(tls) => tls,
                        Err(e) => {
                            tracing::debug!(error = %e, "kubelet simulator: TLS handshake failed");
                            return;
                        }
                    };
                    let service = hyper::service::service_fn(move |req| {
                        let source = source.clone();
                        async move { Ok::<_, Infallible>(handle(&source, req).await) }
                    });
                    if let Err(e) = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), service)
                        .await
                    {
                        tracing::debug!(error = %e, "kubelet simulator: connection ended with an error");
                    }
                });
            }
        }
    }
    connections.shutdown().await;
}

fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(body.into()));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

async fn handle(source: &LogSource, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_owned();
    if path == "/healthz" {
        return text(StatusCode::OK, "ok");
    }
    let Some(rest) = path.strip_prefix("/containerLogs/") else {
        return text(
            StatusCode::NOT_FOUND,
            format!("404 page not found: {path}\n"),
        );
    };
    if req.method() != Method::GET {
        return text(StatusCode::METHOD_NOT_ALLOWED, "only GET is supported\n");
    }
    let parts: Vec<&str> = rest.split('/').collect();
    let [namespace, pod, container] = parts.as_slice() else {
        return text(
            StatusCode::NOT_FOUND,
            "expected /containerLogs/{namespace}/{pod}/{container}\n",
        );
    };
    let query = match LogQuery::parse(req.uri().query().unwrap_or_default()) {
        Ok(q) => q,
        Err(e) => return text(StatusCode::BAD_REQUEST, format!("{e}\n")),
    };
    match container_logs(source, namespace, pod, container, &query).await {
        Ok(body) => text(StatusCode::OK, body),
        Err((status, message)) => text(status, format!("{message}\n")),
    }
}

/// The logs of one container, or the status and message of the kubelet's refusal.
async fn container_logs(
    source: &LogSource,
    namespace: &str,
    pod_name: &str,
    container: &str,
    query: &LogQuery,
) -> Result<Vec<u8>, (StatusCode, String)> {
    let mut pod = source
        .store
        .get(&ObjectRef::new(pod_name).within(namespace))
        .map(|p| (*p).clone());
    if pod
        .as_ref()
        .and_then(|p| started_at(p, container))
        .is_none()
    {
        // The watch may lag behind the client that saw the pod run: ask the apiserver.
        let api: Api<Pod> = Api::namespaced(source.client.clone(), namespace);
        if let Ok(Some(fresh)) = api.get_opt(pod_name).await {
            pod = Some(fresh);
        }
    }
    let Some(pod) = pod else {
        return Err((
            StatusCode::NOT_FOUND,
            format!("pod \"{namespace}/{pod_name}\" not found on this node"),
        ));
    };
    let spec = pod.spec.clone().unwrap_or_default();
    let Some(image) = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .find(|c| c.name == container)
        .map(|c| c.image.clone().unwrap_or_default())
    else {
        return Err((
            StatusCode::NOT_FOUND,
            format!("container {container:?} is not valid for pod {pod_name:?}"),
        ));
    };
    if query.previous {
        return Err((
            StatusCode::BAD_REQUEST,
            format!("previous terminated container {container:?} in pod {pod_name:?} not found"),
        ));
    }
    let Some(started) = started_at(&pod, container) else {
        let reason = container_status(&pod, container)
            .and_then(|s| s.state.as_ref()?.waiting.as_ref()?.reason.clone())
            .unwrap_or_else(|| "ContainerCreating".to_owned());
        return Err((
            StatusCode::BAD_REQUEST,
            format!("container {container:?} in pod {pod_name:?} is waiting to start: {reason}"),
        ));
    };
    let extra = parse_log_lines(annotation(&pod, LOG_LINES_ANNOTATION));
    let lines = container_lines(container, &image, started, &extra);
    Ok(render(&lines, query, Timestamp::now()))
}

fn container_status<'a>(pod: &'a Pod, container: &str) -> Option<&'a ContainerStatus> {
    let status = pod.status.as_ref()?;
    status
        .container_statuses
        .iter()
        .chain(status.init_container_statuses.iter())
        .flatten()
        .find(|c| c.name == container)
}

/// When the container started, if it has (it runs or has terminated).
fn started_at(pod: &Pod, container: &str) -> Option<Timestamp> {
    let state = container_status(pod, container)?.state.as_ref()?;
    let started = match (&state.running, &state.terminated) {
        (Some(r), _) => r.started_at.clone(),
        (None, Some(t)) => t.started_at.clone(),
        (None, None) => None,
    };
    started.map(|t| t.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::runtime::watcher;

    fn source_with(pod: Pod) -> LogSource {
        let (store, mut writer) = kube::runtime::reflector::store::<Pod>();
        writer.apply_watcher_event(&watcher::Event::Apply(pod));
        // Nothing listens there: the fallback lookup fails and the store decides.
        let config = kube::Config::new("http://127.0.0.1:9".parse().expect("a URL"));
        LogSource {
            store,
            client: kube::Client::try_from(config).expect("a client"),
        }
    }

    fn running_pod(annotations: serde_json::Value, state: serde_json::Value) -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": { "name": "p", "namespace": "ns", "annotations": annotations },
            "spec": { "containers": [{ "name": "c", "image": "nginx:1" }] },
            "status": {
                "phase": "Running",
                "containerStatuses": [{
                    "name": "c", "image": "nginx:1", "imageID": "", "ready": true,
                    "restartCount": 0, "state": state
                }]
            }
        }))
        .expect("a valid pod")
    }

    #[tokio::test]
    async fn logs_of_a_running_container() {
        let pod = running_pod(
            serde_json::json!({ LOG_LINES_ANNOTATION: "x\ny" }),
            serde_json::json!({ "running": { "startedAt": "2026-01-01T00:00:00Z" } }),
        );
        let source = source_with(pod);
        let query = LogQuery::parse("tailLines=1&timestamps=true").expect("a query");
        let body = container_logs(&source, "ns", "p", "c", &query)
            .await
            .expect("logs");
        assert_eq!(
            String::from_utf8(body).expect("UTF-8"),
            "2026-01-01T00:00:00.002000000Z y\n"
        );
    }

    #[tokio::test]
    async fn unknown_pods_and_containers_are_404() {
        let pod = running_pod(
            serde_json::json!({}),
            serde_json::json!({ "running": { "startedAt": "2026-01-01T00:00:00Z" } }),
        );
        let source = source_with(pod);
        let q = LogQuery::default();
        let (status, _) = container_logs(&source, "ns", "other", "c", &q)
            .await
            .unwrap_err();
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = container_logs(&source, "other-ns", "p", "c", &q)
            .await
            .unwrap_err();
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, message) = container_logs(&source, "ns", "p", "nope", &q)
            .await
            .unwrap_err();
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(message.contains("nope"), "{message}");
    }

    #[tokio::test]
    async fn waiting_containers_and_previous_are_400() {
        let pod = running_pod(
            serde_json::json!({}),
            serde_json::json!({ "waiting": { "reason": "ImagePullBackOff" } }),
        );
        let source = source_with(pod);
        let (status, message) = container_logs(&source, "ns", "p", "c", &LogQuery::default())
            .await
            .unwrap_err();
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(message.contains("ImagePullBackOff"), "{message}");
        let previous = LogQuery {
            previous: true,
            ..LogQuery::default()
        };
        let (status, _) = container_logs(&source, "ns", "p", "c", &previous)
            .await
            .unwrap_err();
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
}
