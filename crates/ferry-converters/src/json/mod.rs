//! `org.apache.kafka.connect.json.JsonConverter`: JSON with an optional
//! `{"schema":…,"payload":…}` envelope, byte-compatible with Kafka's.

mod decode;
mod encode;
mod interop;
mod parse;
mod text;

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use ferry_core::config::Width;
use ferry_core::{
    ConfigDef, ConfigError, ConfigKey, ConfigMap, ConfigType, DataError, Importance, Schema, SchemaAndValue,
    Validator, Value,
};

use crate::common::{self, both_converter_traits, ConverterSides, ConverterType};
use parse::Node;

pub use encode::{write_schema, write_value};
pub use interop::{
    json_to_value, parse_schemaless_json, value_to_json, write_schemaless_json, write_serde_json,
};
pub(crate) use text::write_str;

/// Java class name of the JSON converter.
pub const CLASS: &str = "org.apache.kafka.connect.json.JsonConverter";

/// Option enabling the schema envelope.
pub const SCHEMAS_ENABLE_CONFIG: &str = "schemas.enable";
/// Option sizing the schema caches.
pub const SCHEMAS_CACHE_SIZE_CONFIG: &str = "schemas.cache.size";
/// Option choosing how decimals are written.
pub const DECIMAL_FORMAT_CONFIG: &str = "decimal.format";
/// Option choosing whether nulls become schema defaults.
pub const REPLACE_NULL_WITH_DEFAULT_CONFIG: &str = "replace.null.with.default";

const ENVELOPE_ERROR: &str = "JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.";

/// How Decimal values are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DecimalFormat {
    /// Base64 of the unscaled value's two's complement bytes.
    #[default]
    Base64,
    /// A JSON number.
    Numeric,
}

/// The options that shape JSON output and input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JsonOptions {
    /// Write and expect the schema envelope.
    pub schemas_enable: bool,
    /// Decimal representation.
    pub decimal_format: DecimalFormat,
    /// Use a schema's default in place of null.
    pub replace_null_with_default: bool,
}

impl Default for JsonOptions {
    fn default() -> Self {
        JsonOptions {
            schemas_enable: true,
            decimal_format: DecimalFormat::Base64,
            replace_null_with_default: true,
        }
    }
}

impl JsonOptions {
    /// The options of the runtime's internal topics: no envelope.
    pub fn schemaless() -> Self {
        JsonOptions {
            schemas_enable: false,
            ..JsonOptions::default()
        }
    }
}

/// Schema JSON per schema, keyed by a cheap fingerprint and confirmed by equality
/// (pointer equality first, so reused schemas hit in O(1)).
/// Schemas sharing one fingerprint, each with its JSON.
type Bucket = Vec<(Schema, Arc<[u8]>)>;

#[derive(Default)]
struct SchemaJsonCache {
    buckets: HashMap<u64, Bucket>,
    len: usize,
}

fn fingerprint(schema: &Schema) -> u64 {
    let mut h = DefaultHasher::new();
    schema.schema_type().json_name().hash(&mut h);
    schema.name().hash(&mut h);
    schema.version().hash(&mut h);
    schema.is_optional().hash(&mut h);
    for f in schema.fields() {
        f.name().hash(&mut h);
    }
    h.finish()
}

/// Kafka's JsonConverter, usable as key, value or header converter.
pub struct JsonConverter {
    opts: JsonOptions,
    cache_size: usize,
    from_connect_cache: Mutex<SchemaJsonCache>,
    to_connect_cache: Mutex<HashMap<Box<[u8]>, Option<Schema>>>,
}

impl Default for JsonConverter {
    fn default() -> Self {
        JsonConverter::with_options(JsonOptions::default())
    }
}

impl JsonConverter {
    /// A converter with default options (schemas enabled), as before `configure`.
    pub fn new() -> Self {
        JsonConverter::default()
    }

    /// A converter with the given options.
    pub fn with_options(opts: JsonOptions) -> Self {
        JsonConverter {
            opts,
            cache_size: 1000,
            from_connect_cache: Mutex::default(),
            to_connect_cache: Mutex::default(),
        }
    }

    /// The current options.
    pub fn options(&self) -> JsonOptions {
        self.opts
    }

    /// The option definitions (`JsonConverterConfig.configDef`).
    pub fn definition() -> ConfigDef {
        common::base_config_def()
            .define(
                ConfigKey::new(SCHEMAS_ENABLE_CONFIG, ConfigType::Boolean)
                    .default_value("true")
                    .importance(Importance::High)
                    .doc("Whether each serialized key and value carries its schema in an envelope.")
                    .group("Schemas", 0)
                    .width(Width::Medium)
                    .display_name("Enable Schemas"),
            )
            .define(
                ConfigKey::new(SCHEMAS_CACHE_SIZE_CONFIG, ConfigType::Int)
                    .default_value("1000")
                    .importance(Importance::High)
                    .doc("How many schemas one converter instance keeps cached.")
                    .group("Schemas", 1)
                    .width(Width::Medium)
                    .display_name("Schema Cache Size"),
            )
            .define(
                ConfigKey::new(DECIMAL_FORMAT_CONFIG, ConfigType::String)
                    .default_value("BASE64")
                    .validator(Validator::one_of_ignore_case(["BASE64", "NUMERIC"]))
                    .importance(Importance::Low)
                    .doc("How decimals are serialized, case insensitive: 'BASE64' (the default) or 'NUMERIC'.")
                    .group("Serialization", 0)
                    .width(Width::Medium)
                    .display_name("Decimal Format"),
            )
            .define(
                ConfigKey::new(REPLACE_NULL_WITH_DEFAULT_CONFIG, ConfigType::Boolean)
                    .default_value("true")
                    .importance(Importance::Low)
                    .doc("When true, a null field with a default value is written and read as that default; when false, as null.")
                    .group("Serialization", 1)
                    .width(Width::Medium)
                    .display_name("Replace null with default"),
            )
    }

    fn configure_as(&mut self, config: &ConfigMap, ty: ConverterType) -> Result<(), ConfigError> {
        let parsed = common::parse_with_type(&Self::definition(), config, ty)?;
        self.opts = JsonOptions {
            schemas_enable: parsed.boolean(SCHEMAS_ENABLE_CONFIG),
            decimal_format: if parsed
                .string(DECIMAL_FORMAT_CONFIG)
                .is_some_and(|s| s.eq_ignore_ascii_case("NUMERIC"))
            {
                DecimalFormat::Numeric
            } else {
                DecimalFormat::Base64
            },
            replace_null_with_default: parsed.boolean(REPLACE_NULL_WITH_DEFAULT_CONFIG),
        };
        self.cache_size = parsed.int(SCHEMAS_CACHE_SIZE_CONFIG).unwrap_or(1000).max(0) as usize;
        self.from_connect_cache = Mutex::default();
        self.to_connect_cache = Mutex::default();
        Ok(())
    }

    fn write_cached_schema(&self, schema: &Schema, out: &mut Vec<u8>) -> Result<(), DataError> {
        if self.cache_size == 0 {
            return write_schema(&self.opts, schema, out);
        }
        let key = fingerprint(schema);
        if let Ok(cache) = self.from_connect_cache.lock() {
            if let Some((_, json)) = cache
                .buckets
                .get(&key)
                .and_then(|b| b.iter().find(|(s, _)| s == schema))
            {
                out.extend_from_slice(json);
                return Ok(());
            }
        }
        let start = out.len();
        write_schema(&self.opts, schema, out)?;
        if let Ok(mut cache) = self.from_connect_cache.lock() {
            if cache.len >= self.cache_size {
                cache.buckets.clear();
                cache.len = 0;
            }
            cache
                .buckets
                .entry(key)
                .or_default()
                .push((schema.clone(), Arc::from(&out[start..])));
            cache.len += 1;
        }
        Ok(())
    }

    fn cached_connect_schema(&self, raw: &[u8], node: &Node<'_>) -> Result<Option<Schema>, DataError> {
        if self.cache_size == 0 {
            return decode::read_schema(&self.opts, node);
        }
        if let Ok(cache) = self.to_connect_cache.lock() {
            if let Some(s) = cache.get(raw) {
                return Ok(s.clone());
            }
        }
        let schema = decode::read_schema(&self.opts, node)?;
        if let Ok(mut cache) = self.to_connect_cache.lock() {
            if cache.len() >= self.cache_size {
                cache.clear();
            }
            cache.insert(raw.into(), schema.clone());
        }
        Ok(schema)
    }

    /// `fromConnectData`: serializes into `out`; false for a null result.
    pub fn serialize_into(
        &self,
        schema: Option<&Schema>,
        value: &Value,
        out: &mut Vec<u8>,
    ) -> Result<bool, DataError> {
        out.clear();
        if schema.is_none() && value.is_null() {
            return Ok(false);
        }
        let res = if self.opts.schemas_enable {
            out.extend_from_slice(b"{\"schema\":");
            match schema {
                Some(s) => self.write_cached_schema(s, out),
                None => {
                    out.extend_from_slice(b"null");
                    Ok(())
                }
            }
            .and_then(|()| {
                out.extend_from_slice(b",\"payload\":");
                write_value(&self.opts, schema, value, out)
            })
            .map(|()| out.push(b'}'))
        } else {
            write_value(&self.opts, schema, value, out)
        };
        if res.is_err() {
            out.clear();
        }
        res.map(|()| true)
    }

    /// `toConnectData`: deserializes; `None` is a tombstone.
    pub fn deserialize(&self, data: Option<&[u8]>) -> Result<SchemaAndValue, DataError> {
        let Some(data) = data else {
            return Ok(SchemaAndValue::NULL);
        };
        let parsed = parse::parse(data).map_err(|e| {
            DataError::new(format!(
                "Converting byte[] to Kafka Connect data failed due to serialization error: {e}"
            ))
        })?;
        if !self.opts.schemas_enable {
            let value = decode::read_value(&self.opts, None, parsed.root.as_ref())?;
            return Ok(SchemaAndValue { schema: None, value });
        }
        let envelope = match &parsed.root {
            Some(Node::Object(m))
                if m.len() == 2 && m.contains_key("schema") && m.contains_key("payload") =>
            {
                m
            }
            _ => return Err(DataError::new(ENVELOPE_ERROR)),
        };
        let schema_node = &envelope["schema"];
        let schema = match parsed.schema_span {
            Some((start, end)) => self.cached_connect_schema(&data[start..end], schema_node)?,
            None => decode::read_schema(&self.opts, schema_node)?,
        };
        let value = decode::read_value(&self.opts, schema.as_ref(), envelope.get("payload"))?;
        Ok(SchemaAndValue { schema, value })
    }
}

/// Reads member `field` of the JSON object `bytes` as Connect data: with `enveloped`, a
/// `{"schema":…,"payload":…}` pair (Kafka's `asConnectSchema` and `convertToConnect`),
/// else a schemaless value. `None` when the document is not an object or lacks `field`.
pub(crate) fn read_object_member(
    opts: &JsonOptions,
    bytes: &[u8],
    field: &str,
    enveloped: bool,
) -> Result<Option<SchemaAndValue>, DataError> {
    let parsed = parse::parse(bytes).map_err(|e| {
        DataError::new(format!(
            "Converting byte[] to Kafka Connect data failed due to serialization error: {e}"
        ))
    })?;
    let Some(Node::Object(root)) = &parsed.root else {
        return Ok(None);
    };
    let Some(member) = root.get(field) else {
        return Ok(None);
    };
    if !enveloped {
        return Ok(Some(SchemaAndValue {
            schema: None,
            value: decode::read_value(opts, None, Some(member))?,
        }));
    }
    let schema = match member {
        Node::Object(m) => match m.get("schema") {
            Some(node) => decode::read_schema(opts, node)?,
            None => None,
        },
        _ => None,
    };
    let payload = match member {
        Node::Object(m) => m.get("payload"),
        _ => None,
    };
    let value = decode::read_value(opts, schema.as_ref(), payload)?;
    Ok(Some(SchemaAndValue { schema, value }))
}

impl ConverterSides for JsonConverter {
    fn definition(&self) -> ConfigDef {
        Self::definition()
    }
    fn configure_as(&mut self, config: &ConfigMap, ty: ConverterType) -> Result<(), ConfigError> {
        JsonConverter::configure_as(self, config, ty)
    }
    fn write(&self, schema: Option<&Schema>, value: &Value, out: &mut Vec<u8>) -> Result<bool, DataError> {
        self.serialize_into(schema, value, out)
    }
    fn read(&self, data: Option<&[u8]>) -> Result<SchemaAndValue, DataError> {
        self.deserialize(data)
    }
}

both_converter_traits!(JsonConverter);

#[cfg(test)]
mod tests;
