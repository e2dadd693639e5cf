//! Connector config validation, as `AbstractHerder.validateConnectorConfig` does it:
//! common options, transforms and predicates, the connector's own options.

use ferry_core::config::{ConfigDef, ConfigValueInfo};
use ferry_core::java::collections::hashmap_iteration_order;
use ferry_core::{ConfigMap, ConnectorType, PluginDescriptor, PluginFactory, PluginKind, PluginRegistry};
use ferry_rest::entities::{java_map_string, ConfigInfos, NullableConfig};
use ferry_rest::HerderError;

use super::enrich::{self, WorkerConverters};
use crate::connector_config::{config_def_for, sink_cross_checks};

/// The outcome of validating a connector config.
pub struct Validated {
    /// Per-key results, as `/config/validate` shows them.
    pub infos: ConfigInfos,
    /// Source or sink.
    pub kind: ConnectorType,
    /// The config without null values.
    pub config: ConfigMap,
}

/// Connect's `PluginDesc.toString`, used in the unknown-class message.
fn plugin_desc(p: &PluginDescriptor) -> String {
    let kind = p.kind().as_str();
    format!(
        "PluginDesc{{klass=class {class}, name='{class}', version='{v}', encodedVersion={v}, type={kind}, typeName='{kind}', location='classpath'}}",
        class = p.class,
        v = p.version,
    )
}

/// The connector plugin a config names, or Connect's errors for a missing or unknown class.
pub fn connector_plugin<'a>(
    registry: &'a PluginRegistry,
    config: &NullableConfig,
) -> Result<&'a PluginDescriptor, HerderError> {
    let class = match config.get("connector.class") {
        Some(Some(c)) => c.trim(),
        _ => {
            // Connect prints the config after copying it into a java.util.HashMap.
            let entries = config
                .iter()
                .map(|(k, v)| (k, v.as_deref().unwrap_or("null").to_owned()))
                .collect();
            let shown = java_map_string(hashmap_iteration_order(entries));
            return Err(HerderError::BadRequest(format!(
                "Connector config {shown} contains no connector type"
            )));
        }
    };
    registry
        .find_kind(class, &[PluginKind::Source, PluginKind::Sink])
        .ok_or_else(|| {
            let available: Vec<String> = registry
                .all()
                .into_iter()
                .filter(|p| matches!(p.kind(), PluginKind::Source | PluginKind::Sink))
                .map(plugin_desc)
                .collect();
            HerderError::BadRequest(format!(
                "Failed to find any class that implements Connector and which name matches {class}, available connectors are: {}",
                available.join(", ")
            ))
        })
}

fn add_error(values: &mut Vec<ConfigValueInfo>, key: &str, value: Option<&str>, message: String) {
    match values.iter_mut().rev().find(|v| v.name == key) {
        Some(v) => v.errors.push(message),
        None => values.push(ConfigValueInfo {
            name: key.to_owned(),
            value: value.map(str::to_owned),
            recommended_values: Vec::new(),
            errors: vec![message],
            visible: true,
        }),
    }
}

/// Validates a connector config for create, update and `/config/validate`, against the
/// plugin's definition enriched as Connect 4.3 does ([`enrich`]).
pub fn validate(
    registry: &PluginRegistry,
    worker: &WorkerConverters,
    raw: &NullableConfig,
) -> Result<Validated, HerderError> {
    let desc = connector_plugin(registry, raw)?;
    let class_as_given = raw
        .get("connector.class")
        .and_then(|v| v.clone())
        .unwrap_or_default();
    let written: ConfigMap = raw
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k.clone(), v.clone())))
        .collect();
    // Connect validates the config with its config provider variables resolved (the
    // stored config keeps them as written).
    let config = resolve_variables(worker, &written);
    let (kind, conn_def, conn_values) = match desc.factory {
        PluginFactory::Source(make) => {
            let c = make();
            (ConnectorType::Source, c.config_def(), c.validate(&config))
        }
        PluginFactory::Sink(make) => {
            let c = make();
            (ConnectorType::Sink, c.config_def(), c.validate(&config))
        }
        _ => unreachable!("connector_plugin returns connectors"),
    };
    let common = enrich::for_validation(config_def_for(kind), desc, registry, worker, &config);
    let mut values = common.validate(&config);
    for (key, msg) in if kind == ConnectorType::Sink {
        sink_cross_checks(&config)
    } else {
        Vec::new()
    } {
        let v = config.get(&key).cloned();
        add_error(&mut values, &key, v.as_deref(), msg);
    }
    if let Some(policy) = &worker.override_policy {
        for (key, value, msg) in policy.refused_for_connector(kind == ConnectorType::Sink, &config) {
            add_error(&mut values, key, Some(value), msg);
        }
    }
    for key in ["key.converter", "value.converter", "header.converter"] {
        let Some(class) = config.get(key).map(|s| s.trim()).filter(|s| !s.is_empty()) else {
            continue;
        };
        let kinds: &[PluginKind] = if key == "header.converter" {
            &[PluginKind::HeaderConverter, PluginKind::Converter]
        } else {
            &[PluginKind::Converter]
        };
        if registry.find_kind(class, kinds).is_none() {
            add_error(
                &mut values,
                key,
                Some(class),
                format!("Invalid value {class} for configuration {key}: Class {class} could not be found."),
            );
        }
    }
    let chain_def: ConfigDef = ferry_transforms::chain_config_def(&config, registry);
    values.extend(ferry_transforms::validate_chain(&config, registry));
    for (k, v) in raw {
        if v.is_none() {
            add_error(
                &mut values,
                k,
                None,
                "Null value can not be supplied as the configuration value.".into(),
            );
        }
    }
    // Connect's recommenders and its printing of defaulted lists apply to its own and the
    // transforms' settings; a connector's validate() gives its values as it means them
    // (Debezium's leave every value null).
    let def = common.merge(&chain_def);
    enrich::recommend(&mut values, &def, desc, registry, worker);
    values.extend(conn_values);
    let def = def.merge(&conn_def);
    let infos = ConfigInfos::generate(&class_as_given, &def, &values);
    Ok(Validated {
        infos,
        kind,
        config: written,
    })
}

/// `config` with the worker's config provider variables resolved, as Connect's
/// `validateConnectorConfig` transforms it first; as written when a provider cannot read
/// what a variable names (the task then fails with the provider's error).
fn resolve_variables(worker: &WorkerConverters, config: &ConfigMap) -> ConfigMap {
    let Some(providers) = worker
        .providers
        .as_ref()
        .filter(|_| config.values().any(|v| crate::config_providers::has_variables(v)))
    else {
        return config.clone();
    };
    providers.transform(config).unwrap_or_else(|e| {
        tracing::warn!("validating the config as written: its variables could not be resolved: {e}");
        config.clone()
    })
}
