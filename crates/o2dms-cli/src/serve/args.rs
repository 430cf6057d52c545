//! The command line of `o2dms serve`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

/// The arguments of `o2dms serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// The configuration file (the spec's `plugins.dms[]`); every enabled plugin is
    /// served as the deployment manager of its name
    #[arg(
        long,
        short = 'c',
        env = "O2DMS_CONFIG",
        hide_env_values = true,
        value_name = "FILE"
    )]
    pub config: PathBuf,

    /// The IP address and port to listen on; with port 0 any free port, and the
    /// `listening on` line on stderr says which
    #[arg(
        long,
        env = "O2DMS_LISTEN",
        hide_env_values = true,
        default_value = "127.0.0.1:8080",
        value_name = "ADDR"
    )]
    pub listen: SocketAddr,

    /// Serve HTTPS with this certificate chain (PEM, the server's certificate first);
    /// needs --tls-key
    #[arg(long, requires = "tls_key", value_name = "PEM")]
    pub tls_cert: Option<PathBuf>,

    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1); needs --tls-cert
    #[arg(long, requires = "tls_cert", value_name = "PEM")]
    pub tls_key: Option<PathBuf>,

    /// The CA of client certificates (PEM), instead of the configuration's
    /// `server.auth.clientCa`; needs TLS
    #[arg(long, value_name = "PEM")]
    pub client_ca: Option<PathBuf>,

    /// Read the token `NAME` of `server.auth.tokens` from FILE instead of where the
    /// configuration says (repeatable)
    #[arg(long, value_name = "NAME=FILE", value_parser = token_file)]
    pub token_file: Vec<(String, PathBuf)>,

    /// Serve without access control on an address that is not loopback (without
    /// `server.auth` in the configuration, `o2dms serve` refuses to, since anyone who
    /// can reach the address could then write); only behind something that
    /// authenticates
    #[arg(long)]
    pub allow_unauthenticated: bool,

    /// How log lines are written to stderr
    #[arg(long, value_enum, default_value_t = LogFormat::Text, value_name = "FORMAT")]
    pub log_format: LogFormat,

    /// Which logs to write: a level (`info`, `debug`) or a tracing filter
    /// (`info,o2dms_server=debug`); RUST_LOG when absent, else `info`
    #[arg(long, value_name = "FILTER")]
    pub log_level: Option<String>,

    /// How long shutdown waits for open requests, then again for running operations
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub shutdown_grace: Duration,
}

/// `NAME=FILE` of `--token-file`.
fn token_file(value: &str) -> Result<(String, PathBuf), String> {
    match value.split_once('=') {
        Some((name, file)) if !name.is_empty() && !file.is_empty() => {
            Ok((name.to_owned(), PathBuf::from(file)))
        }
        _ => Err("expected NAME=FILE: a token name of `server.auth.tokens` and a file".to_owned()),
    }
}

/// The format of log lines (`--log-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One human-readable line per event.
    Text,
    /// One JSON object per line (fields flattened, with the span of the request).
    Json,
}
