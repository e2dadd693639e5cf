//! Pieces every converter shares: the `converter.type` option and config parsing.

use ferry_core::{
    ConfigDef, ConfigError, ConfigKey, ConfigMap, ConfigType, DataError, Importance, ParsedConfig, Schema,
    SchemaAndValue, Validator, Value,
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

/// A Kafka converter that is both a `Converter` and a `HeaderConverter` writing the
/// same bytes; [`both_converter_traits!`] implements the two plugin traits from it.
pub(crate) trait ConverterSides {
    /// The options it accepts.
    fn definition(&self) -> ConfigDef;
    /// Applies `config` for use as `ty`.
    fn configure_as(&mut self, config: &ConfigMap, ty: ConverterType) -> Result<(), ConfigError>;
    /// Serializes into `out`; `false` when the result is null (nothing written).
    fn write(&self, schema: Option<&Schema>, value: &Value, out: &mut Vec<u8>) -> Result<bool, DataError>;
    /// Deserializes (`None` is a null record part or header).
    fn read(&self, data: Option<&[u8]>) -> Result<SchemaAndValue, DataError>;
}

/// Implements `Converter` and `HeaderConverter` for a [`ConverterSides`] type.
macro_rules! both_converter_traits {
    ($ty:ty) => {
        impl ferry_core::Converter for $ty {
            fn config_def(&self) -> ferry_core::ConfigDef {
                <$ty as $crate::common::ConverterSides>::definition(self)
            }
            fn configure(
                &mut self,
                config: &ferry_core::ConfigMap,
                is_key: bool,
            ) -> Result<(), ferry_core::ConfigError> {
                let ty = if is_key {
                    $crate::common::ConverterType::Key
                } else {
                    $crate::common::ConverterType::Value
                };
                <$ty as $crate::common::ConverterSides>::configure_as(self, config, ty)
            }
            fn from_connect_into(
                &self,
                _topic: &str,
                schema: Option<&ferry_core::Schema>,
                value: &ferry_core::Value,
                out: &mut Vec<u8>,
            ) -> Result<bool, ferry_core::DataError> {
                <$ty as $crate::common::ConverterSides>::write(self, schema, value, out)
            }
            fn to_connect(
                &self,
                _topic: &str,
                data: Option<&[u8]>,
            ) -> Result<ferry_core::SchemaAndValue, ferry_core::DataError> {
                <$ty as $crate::common::ConverterSides>::read(self, data)
            }
        }

        impl ferry_core::HeaderConverter for $ty {
            fn config_def(&self) -> ferry_core::ConfigDef {
                <$ty as $crate::common::ConverterSides>::definition(self)
            }
            fn configure(&mut self, config: &ferry_core::ConfigMap) -> Result<(), ferry_core::ConfigError> {
                let ty = $crate::common::ConverterType::Header;
                <$ty as $crate::common::ConverterSides>::configure_as(self, config, ty)
            }
            fn from_connect_header(
                &self,
                _topic: &str,
                _header_key: &str,
                schema: Option<&ferry_core::Schema>,
                value: &ferry_core::Value,
            ) -> Result<Option<Vec<u8>>, ferry_core::DataError> {
                let mut out = Vec::new();
                let written = <$ty as $crate::common::ConverterSides>::write(self, schema, value, &mut out)?;
                Ok(written.then_some(out))
            }
            fn to_connect_header(
                &self,
                _topic: &str,
                _header_key: &str,
                data: Option<&[u8]>,
            ) -> Result<ferry_core::SchemaAndValue, ferry_core::DataError> {
                <$ty as $crate::common::ConverterSides>::read(self, data)
            }
        }
    };
}
pub(crate) use both_converter_traits;
