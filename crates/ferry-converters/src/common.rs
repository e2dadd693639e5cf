//! Pieces every converter shares: the `converter.type` option and config parsing.

use ferry_core::{
    ConfigDef, ConfigError, ConfigKey, ConfigMap, ConfigType, Importance, ParsedConfig, Validator,
};

/// Name of the option saying how a converter is used (`key`, `value` or `header`).
pub const TYPE_CONFIG: &str = "converter.type";

/// How a converter instance is used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConverterType {
    /// Converts record keys.
    Key,
    /// Converts record values.
    Value,
    /// Converts header values.
    Header,
}

/// A definition holding only `converter.type` (`ConverterConfig.newConfigDef`).
pub fn base_config_def() -> ConfigDef {
    ConfigDef::new().define(
        ConfigKey::new(TYPE_CONFIG, ConfigType::String)
            .importance(Importance::Low)
            .doc("Whether the converter handles record keys, record values or headers.")
            .validator(Validator::one_of(["key", "value", "header"])),
    )
}

/// Parses `config` against `def` after setting `converter.type` to `ty`
/// (the runtime's `configure(map, isKey)` does the same).
pub fn parse_with_type(
    def: &ConfigDef,
    config: &ConfigMap,
    ty: ConverterType,
) -> Result<ParsedConfig, ConfigError> {
    let mut conf = config.clone();
    let name = match ty {
        ConverterType::Key => "key",
        ConverterType::Value => "value",
        ConverterType::Header => "header",
    };
    if ty != ConverterType::Header || !conf.contains_key(TYPE_CONFIG) {
        conf.insert(TYPE_CONFIG.to_string(), name.to_string());
    }
    def.parse(&conf)
}
