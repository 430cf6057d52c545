//! One `o2dms serve`: set up, listen, serve until a signal, report, exit.

use std::process::ExitCode;

use o2dms_config::Config;
use o2dms_server::{Auth, BuildError, Server, ShutdownReport};
use tokio::net::TcpListener;

use super::args::ServeArgs;
use super::signals::Signals;
use super::tls::{self, TlsListener};
use super::{adapters, auth, logging};
use crate::exit::{Failure, UNFINISHED};

/// Runs `o2dms serve` in a runtime of its own and gives the exit status
/// ([`crate::exit`]): 0 after a signal with every operation finished, 1 when operations
/// were still running at the end of the grace period, 2 for a configuration mistake, 3
/// when a plugin cannot connect or the address cannot be bound. Errors go to stderr.
pub fn run(args: ServeArgs) -> ExitCode {
    match run_to_end(&args) {
        Ok(code) => code,
        Err(failure) => failure.report(),
    }
}

fn run_to_end(args: &ServeArgs) -> Result<ExitCode, Failure> {
    logging::init(args.log_format, args.log_level.as_deref())?;
    let config = Config::from_path(&args.config).map_err(|e| Failure::usage(e.to_string()))?;
    let wants_client_ca = args.client_ca.is_some()
        || config
            .server()
            .auth()
            .is_some_and(|a| a.client_ca().is_some());
    if wants_client_ca && args.tls_cert.is_none() {
        return Err(Failure::usage(
            "client certificates (`server.auth.clientCa`, --client-ca) need TLS: give --tls-cert and --tls-key",
        ));
    }
    let access = auth::load(&config, args)?;
    auth::check_exposure(&access, args.listen, args.allow_unauthenticated)?;
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(tls::server_config(cert, key, access.client_ca.as_ref())?),
        (None, None) => None,
        _ => return Err(Failure::usage("--tls-cert and --tls-key go together")),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::unavailable(format!("starting the async runtime: {e}")))?;
    let code = runtime.block_on(serve(args, &config, access.auth, tls))?;
    // Tasks still running (idle connections past the grace) are not waited for.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    Ok(code)
}

async fn serve(
    args: &ServeArgs,
    config: &Config,
    auth: Option<Auth>,
    tls: Option<std::sync::Arc<rustls::ServerConfig>>,
) -> Result<ExitCode, Failure> {
    let hosted = adapters::build(config).await?;
    let names: Vec<String> = hosted.iter().map(|h| h.name.clone()).collect();
    let mut builder = Server::builder().shutdown_grace(args.shutdown_grace);
    if let Some(auth) = auth {
        builder = builder.auth(auth);
    }
    for h in hosted {
        builder = builder.deployment_manager(h.name, h.kind.as_str(), h.adapter);
    }
    // The configuration checked the names already (DNS-1123 labels, unique).
    let server = builder.build().map_err(|e| match e {
        BuildError::Auth(reason) => {
            Failure::usage(format!("configuration key `server.auth`: {reason}"))
        }
        other => Failure::usage(format!("configuration key `plugins.dms`: {other}")),
    })?;
    let signals = Signals::install()?;
    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(|e| Failure::unavailable(format!("listening on {}: {e}", args.listen)))?;
    let address = listener
        .local_addr()
        .map_err(|e| Failure::unavailable(format!("the listening address: {e}")))?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(
        address = %address,
        tls = tls.is_some(),
        deployment_managers = %names.join(","),
        "listening"
    );
    // The one line scripts and tests read to find the address (port 0).
    eprintln!("listening on {scheme}://{address}");
    let shutdown = signals.shutdown();
    let served = match tls {
        Some(config) => {
            let listener = TlsListener::new(listener, config)
                .map_err(|e| Failure::unavailable(format!("TLS listener: {e}")))?;
            server.serve_with(listener, shutdown).await
        }
        None => server.serve(listener, shutdown).await,
    };
    let report = served.map_err(|e| Failure::unavailable(format!("serving: {e}")))?;
    Ok(exit_status(&report))
}

/// Logs what the shutdown left behind and gives the exit status: 0, or 1 when
/// operations were still running.
fn exit_status(report: &ShutdownReport) -> ExitCode {
    if !report.connections_closed {
        tracing::warn!("connections still open at the end of the grace period were closed");
    }
    if report.unfinished.is_empty() {
        tracing::info!(connections_closed = report.connections_closed, "stopped");
        return ExitCode::SUCCESS;
    }
    for o in &report.unfinished {
        tracing::warn!(
            dm = %o.deployment_manager,
            id = %o.id,
            operation = %o.operation,
            state = ?o.state,
            "left unfinished: its outcome is unknown"
        );
    }
    tracing::error!(
        unfinished = report.unfinished.len(),
        "stopped with operations still running"
    );
    ExitCode::from(UNFINISHED)
}
