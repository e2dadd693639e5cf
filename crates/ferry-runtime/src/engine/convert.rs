//! A task's converters: key, value and header, from the connector's overrides or the worker's defaults.

use ferry_core::config::with_prefix;
use ferry_core::{ConfigMap, Converter, HeaderConverter, PluginFactory, PluginKind, PluginRegistry};

use crate::engine::EngineError;
use crate::WorkerConfig;

/// The three converters a task uses.
pub struct Converters {
    /// Converts keys.
    pub key: Box<dyn Converter>,
    /// Converts values.
    pub value: Box<dyn Converter>,
    /// Converts header values.
    pub header: Box<dyn HeaderConverter>,
    /// Class names of the three, for error reports.
    pub classes: [String; 3],
}

fn converter(
    registry: &PluginRegistry,
    key: &str,
    class: &str,
    options: &ConfigMap,
    is_key: bool,
) -> Result<Box<dyn Converter>, EngineError> {
    let desc = registry
        .find_kind(class, &[PluginKind::Converter])
        .ok_or_else(|| {
            EngineError::Config(format!(
                "Invalid value {class} for configuration {key}: Class {class} could not be found."
            ))
        })?;
    let PluginFactory::Converter(make) = desc.factory else {
        unreachable!("find_kind returned a converter")
    };
    let mut c = make();
    c.configure(options, is_key).map_err(|e| {
        EngineError::ConverterConfig(match e.java_class() {
            // The first line of Connect's trace: the exception the converter threw.
            Some(class) => format!("{class}: {}", e.message()),
            None => format!("{key}: {e}"),
        })
    })?;
    Ok(c)
}

/// Builds a header converter: registered header converters first, then converters that double as one.
pub fn header_converter(
    registry: &PluginRegistry,
    class: &str,
    options: &ConfigMap,
) -> Result<Box<dyn HeaderConverter>, EngineError> {
    let mut h = match registry.find_kind(class, &[PluginKind::HeaderConverter]) {
        Some(desc) => match desc.factory {
            PluginFactory::HeaderConverter(make) => make(),
            _ => unreachable!("find_kind returned a header converter"),
        },
        None => ferry_converters::header_converter(class).ok_or_else(|| {
            EngineError::Config(format!(
                "Invalid value {class} for configuration header.converter: Class {class} could not be found."
            ))
        })?,
    };
    let mut opts = options.clone();
    opts.entry("converter.type".into())
        .or_insert_with(|| "header".into());
    h.configure(&opts)
        .map_err(|e| EngineError::Config(format!("header.converter: {e}")))?;
    Ok(h)
}

impl Converters {
    /// Converters for a connector: its `key.converter`/`value.converter`/`header.converter`
    /// (with their prefixed options) when set, else the worker's.
    pub fn for_connector(
        registry: &PluginRegistry,
        worker: &WorkerConfig,
        connector: &ConfigMap,
    ) -> Result<Converters, EngineError> {
        let pick = |key: &str, worker_class: &str| -> (String, ConfigMap) {
            let prefix = format!("{key}.");
            match connector.get(key).map(|s| s.trim()).filter(|s| !s.is_empty()) {
                Some(class) => (class.to_owned(), with_prefix(connector, &prefix)),
                None => (worker_class.to_owned(), worker.with_prefix(&prefix)),
            }
        };
        let (kc, ko) = pick("key.converter", &worker.key_converter);
        let (vc, vo) = pick("value.converter", &worker.value_converter);
        let (hc, ho) = pick("header.converter", &worker.header_converter);
        let full = |c: &str| {
            registry
                .find(c)
                .map_or_else(|| c.to_owned(), |d| d.class.to_owned())
        };
        Ok(Converters {
            key: converter(registry, "key.converter", &kc, &ko, true)?,
            value: converter(registry, "value.converter", &vc, &vo, false)?,
            header: header_converter(registry, &hc, &ho)?,
            classes: [full(&kc), full(&vc), full(&hc)],
        })
    }
}
