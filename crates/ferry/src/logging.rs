//! Logging: `tracing` with a filter that `/admin/loggers` can change at run time.
//!
//! The starting filter comes from `RUST_LOG`; else from the images' variables
//! (`LOG_LEVEL` of debezium/connect, `CONNECT_LOG4J_ROOT_LOGLEVEL` of cp-kafka-connect);
//! else `info`.
//!
//! `LOG_FORMAT=json` writes one JSON object a line instead of text: `timestamp`, `level`,
//! `target`, `message`, the event's fields, and the fields of every span it runs in
//! (so `connector` and `task` on everything a task logs), innermost span winning.

use std::sync::Arc;

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
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
    let json = std::env::var("LOG_FORMAT").is_ok_and(|f| f.trim().eq_ignore_ascii_case("json"));
    let registry = tracing_subscriber::registry().with(layer);
    if json {
        let fmt = tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .fmt_fields(JsonFields::new())
            .event_format(FlatJson);
        let _ = registry.with(fmt).try_init();
    } else {
        let fmt = tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(colour)
            .with_target(false);
        let _ = registry.with(fmt).try_init();
    }
    Arc::new(ReloadableFilter { handle, initial })
}

/// One flat JSON object per event: span fields (`connector`, `task`) beside the event's own.
struct FlatJson;

impl<S, N> FormatEvent<S, N> for FlatJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let meta = event.metadata();
        let mut line = serde_json::Map::new();
        line.insert("timestamp".into(), timestamp().into());
        line.insert("level".into(), meta.level().as_str().into());
        line.insert("target".into(), meta.target().into());
        if let Some(scope) = ctx.event_scope() {
            let mut spans = Vec::new();
            for span in scope.from_root() {
                spans.push(span.name());
                let ext = span.extensions();
                let Some(fields) = ext.get::<FormattedFields<N>>() else {
                    continue;
                };
                if let Ok(serde_json::Value::Object(map)) = serde_json::from_str(fields.as_str()) {
                    line.extend(map);
                }
            }
            if !spans.is_empty() {
                line.insert("span".into(), spans.join(":").into());
            }
        }
        let mut visitor = JsonVisitor(&mut line);
        event.record(&mut visitor);
        let text = serde_json::to_string(&line).map_err(|_| std::fmt::Error)?;
        writeln!(writer, "{text}")
    }
}

/// Event fields into the line's map (`message` included).
struct JsonVisitor<'a>(&'a mut serde_json::Map<String, serde_json::Value>);

impl Visit for JsonVisitor<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().into(), format!("{value:?}").into());
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), value.into());
    }
}

/// Now as RFC 3339 UTC with milliseconds (`2026-01-02T03:04:05.678Z`).
fn timestamp() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
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
