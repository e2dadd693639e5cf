//! The connector config definition as Connect 4.3 serves it for one plugin
//! (`ConnectorConfig.enrichedConfigDef`): defaults that depend on the plugin and on the
//! worker, and the values its recommenders offer.

use ferry_core::config::{ConfigDef, ConfigDefault, ConfigValueInfo};
use ferry_core::{ConfigMap, PluginDescriptor, PluginKind, PluginRegistry};

use crate::connector_config::CONNECTOR_PLUGIN_VERSION;

/// The worker's converter classes: the defaults of a connector's converter settings.
#[derive(Clone, Debug)]
pub struct WorkerConverters {
    /// `key.converter`.
    pub key: String,
    /// `value.converter`.
    pub value: String,
    /// `header.converter`.
    pub header: String,
    /// `connector.client.config.override.policy` (`None` when the worker's value is not
    /// a known policy: tasks then fail naming the key).
    pub override_policy: Option<crate::config_providers::OverridePolicy>,
    /// The worker's config providers (`None` when one cannot be set up: values are then
    /// validated as written).
    pub providers: Option<crate::config_providers::ConfigProviders>,
}

impl WorkerConverters {
    /// The converters of a worker config.
    pub fn of(config: &crate::WorkerConfig) -> Self {
        WorkerConverters {
            key: config.key_converter.clone(),
            value: config.value_converter.clone(),
            header: config.header_converter.clone(),
            override_policy: crate::config_providers::OverridePolicy::from_worker(&config.originals).ok(),
            providers: crate::config_providers::ConfigProviders::from_worker(&config.originals).ok(),
        }
    }
}

/// The three converter settings: the setting, its version setting, the worker's class,
/// and the plugin kinds its recommender lists.
fn converter_settings(w: &WorkerConverters) -> [(&'static str, &'static str, &str, PluginKind); 3] {
    [
        (
            "key.converter",
            "key.converter.plugin.version",
            &w.key,
            PluginKind::Converter,
        ),
        (
            "value.converter",
            "value.converter.plugin.version",
            &w.value,
            PluginKind::Converter,
        ),
        (
            "header.converter",
            "header.converter.plugin.version",
            &w.header,
            PluginKind::HeaderConverter,
        ),
    ]
}

fn with_default(def: ConfigDef, name: &str, default: Option<String>) -> ConfigDef {
    let Some(mut key) = def.key(name).cloned() else {
        return def;
    };
    key.default = default.map_or(ConfigDefault::Null, ConfigDefault::Value);
    def.define(key)
}

/// `GET /connector-plugins/P/config`: `connector.plugin.version` defaults to the plugin's version.
pub fn for_plugin(def: ConfigDef, plugin: &PluginDescriptor) -> ConfigDef {
    with_default(def, CONNECTOR_PLUGIN_VERSION, Some(plugin.version.to_owned()))
}

/// Validation: also the worker's converters as defaults, and the version of the converter in
/// effect (the config's or the worker's) as the default of each `*.plugin.version`.
pub fn for_validation(
    def: ConfigDef,
    plugin: &PluginDescriptor,
    registry: &PluginRegistry,
    worker: &WorkerConverters,
    config: &ConfigMap,
) -> ConfigDef {
    let mut def = for_plugin(def, plugin);
    for (setting, version_setting, worker_class, _) in converter_settings(worker) {
        def = with_default(def, setting, Some(worker_class.to_owned()));
        let class = config.get(setting).map_or(worker_class, |c| c.trim());
        let version = registry.find(class).map(|p| p.version.to_owned());
        def = with_default(def, version_setting, version);
    }
    def
}

/// Class names of every plugin of a kind, sorted (Connect's plugin recommenders); for
/// header converters, the converters that are header converters too, as Connect lists
/// every class implementing `HeaderConverter`.
pub(super) fn classes_of(registry: &PluginRegistry, kind: PluginKind) -> Vec<String> {
    let mut classes: Vec<String> = registry
        .all()
        .into_iter()
        .filter(|p| {
            p.kind() == kind
                || (kind == PluginKind::HeaderConverter
                    && p.kind() == PluginKind::Converter
                    && ferry_converters::header_converter(p.class).is_some())
        })
        .map(|p| p.class.to_owned())
        .collect();
    classes.sort();
    classes.dedup();
    classes
}

/// Fills in what Connect's recommenders offer and how it prints defaulted values: the
/// converter classes for the converter settings, the one version of the plugin (or
/// converter) for the version settings, and `""` for an empty list.
pub fn recommend(
    values: &mut [ConfigValueInfo],
    def: &ConfigDef,
    plugin: &PluginDescriptor,
    registry: &PluginRegistry,
    worker: &WorkerConverters,
) {
    for v in values.iter_mut() {
        let Some(key) = def.key(&v.name) else { continue };
        if v.value.is_none() && v.errors.is_empty() && key.ty == ferry_core::config::ConfigType::List {
            if let ConfigDefault::Value(_) = key.default {
                v.value = Some(String::new());
            }
        }
        if v.name == CONNECTOR_PLUGIN_VERSION {
            v.recommended_values = vec![plugin.version.to_owned()];
        }
        for (setting, version_setting, _, kind) in converter_settings(worker) {
            if v.name == setting {
                v.recommended_values = classes_of(registry, kind);
            } else if v.name == version_setting {
                v.recommended_values = key.default_display().into_iter().collect();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connector_config::source_config_def;

    fn registry() -> PluginRegistry {
        let mut r = PluginRegistry::new();
        r.register(ferry_converters::plugins());
        r
    }

    fn worker() -> WorkerConverters {
        WorkerConverters {
            key: "org.apache.kafka.connect.json.JsonConverter".into(),
            value: "org.apache.kafka.connect.storage.StringConverter".into(),
            header: "org.apache.kafka.connect.storage.SimpleHeaderConverter".into(),
            override_policy: None,
            providers: None,
        }
    }

    fn plugin() -> PluginDescriptor {
        *registry()
            .find("org.apache.kafka.connect.json.JsonConverter")
            .expect("JsonConverter is registered")
    }

    #[test]
    fn defaults_come_from_the_plugin_and_the_worker() {
        let p = PluginDescriptor {
            version: "9.9.9",
            ..plugin()
        };
        let listed = for_plugin(source_config_def(), &p);
        assert_eq!(
            listed
                .key(CONNECTOR_PLUGIN_VERSION)
                .unwrap()
                .default_display()
                .as_deref(),
            Some("9.9.9")
        );
        // The plugin listing leaves the converters without defaults, as Connect does.
        assert!(listed.key("key.converter").unwrap().default_display().is_none());

        let config: ConfigMap = [(
            "value.converter".to_string(),
            "org.apache.kafka.connect.json.JsonConverter".to_string(),
        )]
        .into_iter()
        .collect();
        let def = for_validation(source_config_def(), &p, &registry(), &worker(), &config);
        let default = |k: &str| def.key(k).unwrap().default_display();
        assert_eq!(
            default("key.converter").as_deref(),
            Some("org.apache.kafka.connect.json.JsonConverter")
        );
        assert_eq!(
            default("value.converter").as_deref(),
            Some("org.apache.kafka.connect.storage.StringConverter")
        );
        // The version of the converter in effect: the config's value converter, the worker's key converter.
        let json_version = registry()
            .find("org.apache.kafka.connect.json.JsonConverter")
            .unwrap()
            .version;
        assert_eq!(
            default("value.converter.plugin.version").as_deref(),
            Some(json_version)
        );
        assert_eq!(
            default("key.converter.plugin.version").as_deref(),
            Some(json_version)
        );
    }

    #[test]
    fn recommendations_list_converters_sorted_and_empty_lists_print_empty() {
        let p = plugin();
        let reg = registry();
        let def = for_validation(source_config_def(), &p, &reg, &worker(), &ConfigMap::new());
        let mut values = def.validate(&ConfigMap::new());
        for v in values.iter_mut().filter(|v| v.name == "transforms") {
            v.value = None;
        }
        recommend(&mut values, &def, &p, &reg, &worker());
        let value = |k: &str| values.iter().find(|v| v.name == k).unwrap().clone();
        let converters = value("key.converter").recommended_values;
        assert!(converters.contains(&"org.apache.kafka.connect.json.JsonConverter".to_string()));
        assert!(converters.windows(2).all(|w| w[0] < w[1]), "{converters:?}");
        assert_eq!(value(CONNECTOR_PLUGIN_VERSION).recommended_values, [p.version]);
        assert_eq!(value("transforms").value.as_deref(), Some(""));
        // Allowed values are checked, not recommended.
        assert!(value("errors.tolerance").recommended_values.is_empty());
        assert!(value("exactly.once.support").recommended_values.is_empty());
    }
}
