//! Logging: `tracing` with a filter that `/admin/loggers` can change at run time.
//!
//! The starting filter comes from `RUST_LOG`, else `info`.

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
    let initial = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into());
    let filter = EnvFilter::try_new(&initial).unwrap_or_else(|_| EnvFilter::new("info"));
    let (layer, handle) = reload::Layer::new(filter);
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = tracing_subscriber::registry().with(layer).with(fmt).try_init();
    Arc::new(ReloadableFilter { handle, initial })
}
