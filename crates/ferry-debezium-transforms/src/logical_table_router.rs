//! `io.debezium.transforms.ByLogicalTableRouter`: routes the change events of several
//! physical tables (shards) to one topic, renaming the key, row and envelope schemas after
//! the new topic and adding a field to the key that tells the source tables apart.

use std::collections::HashMap;

use ferry_core::config::Width;
use ferry_core::java::RegexReplace;
use ferry_core::{
    ConfigDef, ConfigError, ConfigMap, ConfigType, ConnectError, DataError, Importance, Record, Schema,
    SchemaBuilder, Struct, Transformation, Value,
};

use crate::envelope::{self, AFTER, BEFORE, ENVELOPE_SUFFIX};
use crate::util::{self, SchemaCache};

/// Java class name of the transform.
pub const CLASS: &str = "io.debezium.transforms.ByLogicalTableRouter";

const TOPIC_REGEX: &str = "topic.regex";
const TOPIC_REPLACEMENT: &str = "topic.replacement";
const KEY_ENFORCE_UNIQUENESS: &str = "key.enforce.uniqueness";
const KEY_FIELD_REGEX: &str = "key.field.regex";
const KEY_FIELD_NAME: &str = "key.field.name";
const KEY_FIELD_REPLACEMENT: &str = "key.field.replacement";
const SCHEMA_NAME_ADJUSTMENT_MODE: &str = "schema.name.adjustment.mode";
const LOGICAL_TABLE_CACHE_SIZE: &str = "logical.table.cache.size";
const DEFAULT_KEY_FIELD: &str = "__dbz__physicalTableIdentifier";

/// How schema names derived from the topic are adjusted (`schema.name.adjustment.mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaNameAdjustment {
    /// Names are kept.
    None,
    /// Characters Avro does not allow in a full name become `_`.
    Avro,
    /// Characters Avro does not allow become `_uXXXX`.
    AvroUnicode,
}

impl SchemaNameAdjustment {
    fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" => Some(Self::None),
            "avro" => Some(Self::Avro),
            "avro_unicode" => Some(Self::AvroUnicode),
            _ => None,
        }
    }

    /// The adjusted name (Debezium's `SchemaNameAdjuster`).
    pub fn adjust(self, name: &str) -> String {
        if self == Self::None || name.is_empty() {
            return name.to_owned();
        }
        let mut out = String::with_capacity(name.len());
        for (i, c) in name.chars().enumerate() {
            let valid = c.is_ascii_alphabetic() || c == '_' || (i > 0 && (c.is_ascii_digit() || c == '.'));
            if valid {
                out.push(c);
                continue;
            }
            match self {
                Self::AvroUnicode => {
                    let mut buf = [0u16; 2];
                    for unit in c.encode_utf16(&mut buf) {
                        out.push_str(&format!("_u{unit:04x}"));
                    }
                }
                _ => {
                    out.push('_');
                    if i == 0 && c.is_ascii_digit() {
                        out.push(c);
                    }
                }
            }
        }
        out
    }
}

#[derive(Debug, Clone)]
struct Config {
    topic: RegexReplace,
    key_field: Option<RegexReplace>,
    key_field_name: String,
    enforce_uniqueness: bool,
    names: SchemaNameAdjustment,
    cache_size: usize,
}

/// The logical-table router.
#[derive(Debug, Default)]
pub struct ByLogicalTableRouter {
    config: Option<Config>,
    caches: Option<Caches>,
}

#[derive(Debug)]
struct Caches {
    keys: SchemaCache<(Schema, String), Schema>,
    envelopes: SchemaCache<(Schema, String), Schema>,
    topics: HashMap<String, Option<String>>,
    identifiers: HashMap<String, String>,
}

impl ByLogicalTableRouter {
    /// An unconfigured router.
    pub fn new() -> Self {
        Self::default()
    }
}

fn config_def() -> ConfigDef {
    let key = |name: &str, ty: ConfigType, width: Width, display: &str, doc: &str| {
        util::debezium_field(name, ty, display)
            .width(width)
            .importance(Importance::Low)
            .doc(doc)
    };
    // Upstream's definition leaves out key.field.name and schema.name.adjustment.mode,
    // which it still reads.
    ConfigDef::new()
        .define(key(TOPIC_REGEX, ConfigType::String, Width::Long, "Topic regex",
            "Regular expression the whole original topic name must match."))
        .define(key(TOPIC_REPLACEMENT, ConfigType::String, Width::Long, "Topic replacement",
            "The new topic name; $1, $2 ... refer to the groups of topic.regex."))
        .define(key(KEY_ENFORCE_UNIQUENESS, ConfigType::Boolean, Width::Short, "Add source topic name into key",
            "Add a field to the key naming the physical table, so that equal keys of different tables stay apart.")
            .default_value("true"))
        .define(key(KEY_FIELD_REGEX, ConfigType::String, Width::Long, "Key field regex",
            "Regular expression over the original topic name extracting the physical table identifier."))
        .define(key(KEY_FIELD_REPLACEMENT, ConfigType::String, Width::Long, "Key field replacement",
            "The physical table identifier; $1, $2 ... refer to the groups of key.field.regex."))
        .define(key(LOGICAL_TABLE_CACHE_SIZE, ConfigType::Int, Width::Long, "Logical table cache size",
            "How many topics' schemas and names are kept.")
            .default_value("16"))
}

fn regex(key: &str, pattern: &str, replacement: &str) -> Result<RegexReplace, ConfigError> {
    RegexReplace::new(pattern, replacement).map_err(|e| {
        ConfigError::invalid(
            key,
            pattern,
            format!("A valid regular expressions is expected, but {e}"),
        )
    })
}

impl Config {
    fn parse(props: &ConfigMap) -> Result<Config, ConfigError> {
        let p = config_def().parse(props)?;
        let required = |key: &str| -> Result<String, ConfigError> {
            match p.string(key) {
                Some(v) if !v.trim().is_empty() => Ok(v.to_owned()),
                v => Err(ConfigError::invalid(
                    key,
                    v.unwrap_or("null"),
                    "A value is required",
                )),
            }
        };
        let topic_regex = required(TOPIC_REGEX)?;
        let topic = regex(TOPIC_REGEX, &topic_regex, &required(TOPIC_REPLACEMENT)?)?;
        let key_field = match p.string(KEY_FIELD_REGEX).map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(_) => {
                let pattern = p.string(KEY_FIELD_REGEX).unwrap_or_default();
                let replacement = p.string(KEY_FIELD_REPLACEMENT).unwrap_or_default();
                if replacement.trim().is_empty() {
                    return Err(ConfigError::invalid(
                        KEY_FIELD_REPLACEMENT,
                        "null",
                        format!("{KEY_FIELD_REPLACEMENT} must be non-empty if {KEY_FIELD_REGEX} is set."),
                    ));
                }
                Some(regex(KEY_FIELD_REGEX, pattern, replacement)?)
            }
        };
        let mode = props
            .get(SCHEMA_NAME_ADJUSTMENT_MODE)
            .map(String::as_str)
            .unwrap_or("none");
        let names = SchemaNameAdjustment::parse(mode).ok_or_else(|| {
            ConfigError::invalid(
                SCHEMA_NAME_ADJUSTMENT_MODE,
                mode,
                "Value must be one of none, avro, avro_unicode",
            )
        })?;
        let cache_size = p.int(LOGICAL_TABLE_CACHE_SIZE).unwrap_or(16);
        Ok(Config {
            topic,
            key_field,
            key_field_name: props
                .get(KEY_FIELD_NAME)
                .cloned()
                .unwrap_or_else(|| DEFAULT_KEY_FIELD.to_owned()),
            enforce_uniqueness: p.boolean(KEY_ENFORCE_UNIQUENESS),
            names,
            cache_size: usize::try_from(cache_size).unwrap_or(1).max(1),
        })
    }
}

/// `copySchemaExcludingName`: version, doc, parameters, optionality and (optionally) fields.
fn copy_excluding_name(source: &Schema, fields: bool) -> SchemaBuilder {
    let mut b = Schema::struct_builder()
        .set_version(source.version())
        .parameters(source.parameters().cloned())
        .set_optional(source.is_optional());
    if let Some(doc) = source.doc() {
        b = b.doc(doc);
    }
    if fields {
        for f in source.fields() {
            b = b.field(f.name(), f.schema().clone());
        }
    }
    b
}

fn bounded_insert<V>(map: &mut HashMap<String, V>, cap: usize, k: String, v: V) {
    if map.len() >= cap {
        map.clear();
    }
    map.insert(k, v);
}

impl ByLogicalTableRouter {
    fn new_topic(cfg: &Config, caches: &mut Caches, old: &str) -> Result<Option<String>, ConnectError> {
        if let Some(t) = caches.topics.get(old) {
            return Ok(t.clone());
        }
        let t = cfg
            .topic
            .apply(old)
            .map_err(|e| ConnectError::data(e.to_string()))?;
        if t.is_some() {
            bounded_insert(&mut caches.topics, cfg.cache_size, old.to_owned(), t.clone());
        }
        Ok(t)
    }

    fn identifier(cfg: &Config, caches: &mut Caches, old_topic: &str) -> Result<String, ConnectError> {
        let Some(re) = &cfg.key_field else {
            return Ok(old_topic.to_owned());
        };
        if let Some(id) = caches.identifiers.get(old_topic) {
            return Ok(id.clone());
        }
        match re
            .apply(old_topic)
            .map_err(|e| ConnectError::data(e.to_string()))?
        {
            Some(id) => {
                bounded_insert(
                    &mut caches.identifiers,
                    cfg.cache_size,
                    old_topic.to_owned(),
                    id.clone(),
                );
                Ok(id)
            }
            None => Ok(old_topic.to_owned()),
        }
    }

    fn update_key(
        cfg: &Config,
        caches: &mut Caches,
        key: &Value,
        old_topic: &str,
        new_topic: &str,
    ) -> Result<(Schema, Value), ConnectError> {
        let old = util::require_struct(key, "Updating schema")?;
        let cache_key = (old.schema().clone(), new_topic.to_owned());
        let schema = caches.keys.get_or_try_insert(&cache_key, || {
            let mut b =
                copy_excluding_name(old.schema(), true).name(cfg.names.adjust(&format!("{new_topic}.Key")));
            if cfg.enforce_uniqueness {
                b = b.try_field(cfg.key_field_name.clone(), Schema::string())?;
            }
            Ok::<_, DataError>(b.build())
        })?;
        let mut values: Vec<Value> = old.values().to_vec();
        if cfg.enforce_uniqueness {
            values.push(Value::String(Self::identifier(cfg, caches, old_topic)?));
        }
        let out = Struct::from_values(schema.clone(), values)?;
        Ok((schema, Value::Struct(out)))
    }

    fn update_envelope(
        cfg: &Config,
        caches: &mut Caches,
        value: Value,
        new_topic: &str,
    ) -> Result<(Schema, Value), ConnectError> {
        let old = match value {
            Value::Struct(s) => s,
            other => {
                return Err(util::require_struct(&other, "Updating schema")
                    .unwrap_err()
                    .into())
            }
        };
        let cache_key = (old.schema().clone(), new_topic.to_owned());
        let schema = caches.envelopes.get_or_try_insert(&cache_key, || {
            let row = envelope::state_field(old.schema(), BEFORE)?.schema();
            let row = copy_excluding_name(row, true)
                .name(cfg.names.adjust(&format!("{new_topic}.Value")))
                .build();
            let mut b = copy_excluding_name(old.schema(), false);
            for f in old.schema().fields() {
                let s = if f.name() == BEFORE || f.name() == AFTER {
                    row.clone()
                } else {
                    f.schema().clone()
                };
                b = b.field(f.name(), s);
            }
            Ok::<_, DataError>(
                b.name(cfg.names.adjust(&format!("{new_topic}{ENVELOPE_SUFFIX}")))
                    .build(),
            )
        })?;
        let row_schema = envelope::state_field(&schema, BEFORE)?.schema().clone();
        let defaults: Vec<Option<Value>> = old
            .schema()
            .fields()
            .iter()
            .map(|f| f.schema().default_value().cloned())
            .collect();
        let mut values = old.into_values();
        for ((f, v), d) in schema.fields().iter().zip(values.iter_mut()).zip(defaults) {
            if let (Value::Null, Some(d)) = (&*v, d) {
                *v = d;
            }
            if (f.name() == BEFORE || f.name() == AFTER) && !v.is_null() {
                let row = match std::mem::take(v) {
                    Value::Struct(s) => s,
                    other => {
                        return Err(util::require_struct(&other, "Updating schema")
                            .unwrap_err()
                            .into())
                    }
                };
                *v = Value::Struct(Struct::from_values(row_schema.clone(), row.into_values())?);
            }
        }
        let out = Struct::from_values(schema.clone(), values)?;
        Ok((schema, Value::Struct(out)))
    }
}

impl Transformation for ByLogicalTableRouter {
    fn config_def(&self) -> ConfigDef {
        config_def()
    }

    fn configure(&mut self, config: &ConfigMap) -> Result<(), ConfigError> {
        let cfg = Config::parse(config)?;
        self.caches = Some(Caches {
            keys: SchemaCache::new(cfg.cache_size),
            envelopes: SchemaCache::new(cfg.cache_size),
            topics: HashMap::new(),
            identifiers: HashMap::new(),
        });
        self.config = Some(cfg);
        Ok(())
    }

    fn apply(&mut self, mut record: Record) -> Result<Option<Record>, ConnectError> {
        let (Some(cfg), Some(caches)) = (self.config.as_ref(), self.caches.as_mut()) else {
            return Err(ConnectError::config("ByLogicalTableRouter used before configure"));
        };
        let old_topic = record.topic.clone();
        let Some(new_topic) = Self::new_topic(cfg, caches, &old_topic)? else {
            return Ok(Some(record));
        };
        if new_topic.is_empty() {
            tracing::warn!("Routing regex returned an empty topic name, propagating original record");
            return Ok(Some(record));
        }
        tracing::debug!(from = %old_topic, to = %new_topic, "Applying topic name transformation");
        if !record.key.is_null() {
            let (schema, key) = Self::update_key(cfg, caches, &record.key, &old_topic, &new_topic)?;
            record.key_schema = Some(schema);
            record.key = key;
        } else {
            record.key_schema = None;
        }
        if !record.value.is_null() && envelope::is_envelope(record.value_schema.as_ref()) {
            let (schema, value) =
                Self::update_envelope(cfg, caches, std::mem::take(&mut record.value), &new_topic)?;
            record.value_schema = Some(schema);
            record.value = value;
        }
        record.topic = new_topic.into();
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avro_adjustment_replaces_what_avro_refuses() {
        assert_eq!(SchemaNameAdjustment::Avro.adjust("a-b.c$d.Key"), "a_b.c_d.Key");
        assert_eq!(SchemaNameAdjustment::Avro.adjust("1abc"), "_1abc");
        assert_eq!(SchemaNameAdjustment::None.adjust("a-b"), "a-b");
        assert_eq!(SchemaNameAdjustment::AvroUnicode.adjust("a-b"), "a_u002db");
    }
}
