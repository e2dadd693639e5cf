//! Logging: `tracing` with a filter that `/admin/loggers` can change at run time.
//!
//! The starting filter comes from `RUST_LOG`; else from the images' variables
//! (`LOG_LEVEL` of debezium/connect, `CONNECT_LOG4J_ROOT_LOGLEVEL` of cp-kafka-connect);
//! else `info`.

use std::sync::Arc;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{reload, EnvFilter, Registry};

/// The running filter, replaceable.
pub struct ReloadableFilter {
    handle: reload::Handle<EnvFilter, Registry>,
    initial: String,
}

impl ReloadableFilter {
    /// The root level as a log4j name, for `/admin/loggers`.
    pub fn root_level(&self) -> String {
        let first = self.initial.split(',').next().unwrap_or("info");
        if first.contains('=') {
            "INFO".into()
        } else {
            first.to_ascii_uppercase()
        }
    }
}

impl ferry_runtime::LogControl for ReloadableFilter {
    fn apply(&self, directives: &str) -> Result<(), String> {
        let filter = EnvFilter::try_new(directives).map_err(|e| e.to_string())?;
        self.handle.reload(filter).map_err(|e| e.to_string())
    }
}

/// Installs the global subscriber (logs to stderr).
pub fn init() -> Arc<ReloadableFilter> {
    let initial = std::env::var("RUST_LOG").unwrap_or_else(|_| {
        ["LOG_LEVEL", "CONNECT_LOG4J_ROOT_LOGLEVEL"]
            .iter()
            .find_map(|v| std::env::var(v).ok())
            .and_then(|l| log4j_to_tracing(&l))
            .unwrap_or("info")
            .to_owned()
    });
    let filter = EnvFilter::try_new(&initial).unwrap_or_else(|_| EnvFilter::new("info"));
    let (layer, handle) = reload::Layer::new(filter);
    // Colours only on a terminal: a log redirected to a file or collected by Docker
    // stays plain text (NO_COLOR turns them off on a terminal too).
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .with_target(false);
    let _ = tracing_subscriber::registry().with(layer).with(fmt).try_init();
    Arc::new(ReloadableFilter { handle, initial })
}

/// A log4j level name as a tracing level.
fn log4j_to_tracing(level: &str) -> Option<&'static str> {
    Some(match level.trim().to_ascii_uppercase().as_str() {
        "OFF" => "off",
        "FATAL" | "ERROR" => "error",
        "WARN" => "warn",
        "INFO" => "info",
        "DEBUG" => "debug",
        "TRACE" | "ALL" => "trace",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn log4j_levels_map_to_tracing() {
        assert_eq!(super::log4j_to_tracing("debug"), Some("debug"));
        assert_eq!(super::log4j_to_tracing("FATAL"), Some("error"));
        assert_eq!(super::log4j_to_tracing("loud"), None);
    }
}
