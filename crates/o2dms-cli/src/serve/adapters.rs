//! The adapters of the enabled plugins: settings checked first (status 2 on a mistake,
//! before anything connects), then Helm plugins connected (status 3 naming the plugin),
//! each wrapped in [`o2dms_layers::Events`] with its events logged.
//!
//! Only `Events` is layered: it changes nothing an operation does. `Timeouts` is left
//! out on purpose: a fixed limit would cut a write whose request asks for a longer
//! `timeoutSeconds` (or a Helm plugin's longer `timeout`), which changes what the API
//! promises; the server bounds each request itself and the Helm adapter bounds its
//! writes and Kubernetes reads.

use std::sync::Arc;

use o2dms_config::{Config, ConfigError, DmsPlugin, PluginKind};
use o2dms_core::{DmsAdapter, Error, EventPhase};
use o2dms_helm::{HelmAdapter, HelmConfig};
use o2dms_layers::Events;
use o2dms_mock::{MockAdapter, MockSettings};
use tokio::sync::broadcast::error::RecvError;

use crate::exit::Failure;

/// One deployment manager to host: a plugin's name, type and adapter.
pub(crate) struct Hosted {
    /// The plugin's name: the `{dm}` of its paths.
    pub(crate) name: String,
    /// The plugin's `type`.
    pub(crate) kind: PluginKind,
    /// The adapter, wrapped.
    pub(crate) adapter: Arc<dyn DmsAdapter>,
}

/// A plugin whose settings are checked, before it connects.
enum Checked {
    Helm(Box<HelmConfig>),
    Mock(MockAdapter),
}

/// The adapters of every enabled plugin of `config`, in file order.
///
/// # Errors
/// Status 2: no enabled plugin, a plugin's settings that are wrong (naming the key path
/// and line), a type `o2dms serve` cannot host. Status 3: a Helm plugin that cannot
/// connect, naming the plugin.
pub(crate) async fn build(config: &Config) -> Result<Vec<Hosted>, Failure> {
    let enabled: Vec<&DmsPlugin> = config.plugins().iter().filter(|p| p.is_enabled()).collect();
    if enabled.is_empty() {
        return Err(Failure::usage(
            "configuration key `plugins.dms`: there is no enabled plugin to serve",
        ));
    }
    let checked = enabled
        .iter()
        .map(|p| check(p).map(|c| (*p, c)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut hosted = Vec::with_capacity(checked.len());
    for (plugin, checked) in checked {
        let name = plugin.name().to_owned();
        let adapter = match checked {
            Checked::Mock(mock) => wrap(&name, mock),
            Checked::Helm(helm) => {
                tracing::info!(plugin = %name, "connecting the helm plugin");
                let adapter = HelmAdapter::connect(*helm).await.map_err(|e| {
                    Failure::unavailable(format!(
                        "plugin `{name}` ({}): cannot connect: {e}",
                        plugin.key()
                    ))
                })?;
                wrap(&name, adapter)
            }
        };
        tracing::info!(plugin = %name, r#type = %plugin.kind(), "deployment manager ready");
        hosted.push(Hosted {
            name,
            kind: plugin.kind(),
            adapter,
        });
    }
    Ok(hosted)
}

/// Reads and checks one plugin's settings.
fn check(plugin: &DmsPlugin) -> Result<Checked, Failure> {
    match plugin.kind() {
        PluginKind::Helm => HelmConfig::from_plugin(plugin)
            .map(|c| Checked::Helm(Box::new(c)))
            .map_err(invalid),
        PluginKind::Mock => {
            let settings: MockSettings = plugin.settings().map_err(config_error)?;
            MockAdapter::from_settings(&settings)
                .map(Checked::Mock)
                .map_err(|e| match e {
                    Error::InvalidArgument { field, reason } => {
                        config_error(plugin.invalid(&format!("config.{field}"), reason))
                    }
                    other => invalid(other),
                })
        }
        other => Err(config_error(plugin.invalid(
            "type",
            format!("`o2dms serve` cannot host plugins of type `{other}`"),
        ))),
    }
}

/// A configuration error, as o2dms-config words it (key path, line, reason).
fn config_error(e: ConfigError) -> Failure {
    Failure::usage(e.to_string())
}

/// A settings error of an adapter: InvalidArgument's field is the key path and its
/// reason ends with the line (`HelmConfig::from_plugin`), worded as o2dms-config words
/// its own: ``configuration key `plugins.dms[0].config.maxHistory` (line 6): reason``.
fn invalid(e: Error) -> Failure {
    match e {
        Error::InvalidArgument { field, reason } => {
            let (reason, line) = split_line(&reason);
            Failure::usage(format!("configuration key `{field}`{line}: {reason}"))
        }
        other => Failure::usage(format!("configuration: {other}")),
    }
}

/// `reason (line 6)` as `("reason", " (line 6)")`; `("reason", "")` without a line.
fn split_line(reason: &str) -> (&str, &str) {
    if let Some(at) = reason.rfind(" (line ") {
        let (text, line) = reason.split_at(at);
        let digits = line
            .strip_prefix(" (line ")
            .and_then(|l| l.strip_suffix(')'));
        if digits.is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())) {
            return (text, line);
        }
    }
    (reason, "")
}

/// `adapter` in [`Events`], its events logged at debug level (target, operation,
/// outcome kind: never an error message, which may quote what a backend said).
fn wrap<A: DmsAdapter + 'static>(name: &str, adapter: A) -> Arc<dyn DmsAdapter> {
    let adapter = Events::new(adapter);
    let mut events = adapter.subscribe();
    let dm = name.to_owned();
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(e) => match e.phase {
                    EventPhase::Started => tracing::debug!(
                        dm = %dm, operation = %e.operation, target = %e.target,
                        "adapter operation started"
                    ),
                    EventPhase::Succeeded { revision } => tracing::debug!(
                        dm = %dm, operation = %e.operation, target = %e.target, revision,
                        "adapter operation succeeded"
                    ),
                    EventPhase::Failed { kind, .. } => tracing::debug!(
                        dm = %dm, operation = %e.operation, target = %e.target, kind = %kind,
                        "adapter operation failed"
                    ),
                },
                Err(RecvError::Lagged(missed)) => {
                    tracing::debug!(dm = %dm, missed, "adapter events missed");
                }
                Err(RecvError::Closed) => break,
            }
        }
    });
    Arc::new(adapter)
}

#[cfg(test)]
mod tests {
    use super::split_line;

    #[test]
    fn the_line_moves_after_the_key() {
        assert_eq!(
            split_line("expected u32, found a string (line 6)"),
            ("expected u32, found a string", " (line 6)")
        );
        assert_eq!(split_line("no line here"), ("no line here", ""));
        assert_eq!(split_line("odd (line x)"), ("odd (line x)", ""));
        assert_eq!(split_line(" (line )"), (" (line )", ""));
    }
}
