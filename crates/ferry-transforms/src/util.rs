//! Helpers shared by the transforms: key/value side selection, the `require*`
//! checks with Connect's messages, schemaless map access and a small schema cache.

use ferry_core::java;
use ferry_core::{
    ConfigError, ConfigValue, DataError, Field, Record, Schema, SchemaBuilder, SchemaType, Struct, Validator,
    Value,
};

/// The part of a record a `$Key`/`$Value` transform works on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The record key.
    Key,
    /// The record value.
    Value,
}

impl Side {
    /// The schema of this side.
    pub fn schema(self, r: &Record) -> Option<&Schema> {
        match self {
            Side::Key => r.key_schema.as_ref(),
            Side::Value => r.value_schema.as_ref(),
        }
    }
    /// The value of this side.
    pub fn value(self, r: &Record) -> &Value {
        match self {
            Side::Key => &r.key,
            Side::Value => &r.value,
        }
    }
    /// Takes schema and value out of the record, leaving nulls behind.
    pub fn take(self, r: &mut Record) -> (Option<Schema>, Value) {
        match self {
            Side::Key => (r.key_schema.take(), std::mem::take(&mut r.key)),
            Side::Value => (r.value_schema.take(), std::mem::take(&mut r.value)),
        }
    }
    /// Stores schema and value.
    pub fn set(self, r: &mut Record, schema: Option<Schema>, value: Value) {
        match self {
            Side::Key => {
                r.key_schema = schema;
                r.key = value;
            }
            Side::Value => {
                r.value_schema = schema;
                r.value = value;
            }
        }
    }
}

/// Connect's `requireStruct`.
pub fn require_struct<'a>(value: &'a Value, purpose: &str) -> Result<&'a Struct, DataError> {
    match value {
        Value::Struct(s) => Ok(s),
        other => Err(DataError::new(format!(
            "Only Struct objects supported for [{purpose}], found: {}",
            java::class_name(other)
        ))),
    }
}

/// Connect's `requireStructOrNull`.
pub fn require_struct_or_null<'a>(value: &'a Value, purpose: &str) -> Result<Option<&'a Struct>, DataError> {
    if value.is_null() {
        Ok(None)
    } else {
        require_struct(value, purpose).map(Some)
    }
}

/// Entries of a schemaless map.
pub type MapEntries = Vec<(Value, Value)>;

/// Connect's `requireMap`.
pub fn require_map<'a>(value: &'a Value, purpose: &str) -> Result<&'a MapEntries, DataError> {
    match value {
        Value::Map(m) => Ok(m),
        other => Err(DataError::new(format!(
            "Only Map objects supported in absence of schema for [{purpose}], found: {}",
            java::class_name(other)
        ))),
    }
}

/// Connect's `requireMapOrNull`.
pub fn require_map_or_null<'a>(value: &'a Value, purpose: &str) -> Result<Option<&'a MapEntries>, DataError> {
    if value.is_null() {
        Ok(None)
    } else {
        require_map(value, purpose).map(Some)
    }
}

/// Connect's `requireSchema`.
pub fn require_schema<'a>(schema: Option<&'a Schema>, purpose: &str) -> Result<&'a Schema, DataError> {
    schema.ok_or_else(|| DataError::new(format!("Schema required for [{purpose}]")))
}

/// Value under a string key of a schemaless map (`Map.get`, null when absent).
pub fn map_get<'a>(map: &'a MapEntries, key: &str) -> Option<&'a Value> {
    map.iter().find(|(k, _)| k.as_str() == Some(key)).map(|(_, v)| v)
}

/// `Map.put` with a string key: replaces in place or appends.
pub fn map_put(map: &mut MapEntries, key: &str, value: Value) {
    if let Some(slot) = map.iter_mut().find(|(k, _)| k.as_str() == Some(key)) {
        slot.1 = value;
    } else {
        map.push((Value::String(key.to_owned()), value));
    }
}

/// `Map.remove` with a string key.
pub fn map_remove(map: &mut MapEntries, key: &str) -> Option<Value> {
    let i = map.iter().position(|(k, _)| k.as_str() == Some(key))?;
    Some(map.remove(i).1)
}

/// A struct field's value, with (`Struct.get`) or without (`getWithoutDefault`) the field default.
pub fn field_value(s: &Struct, field: &Field, with_default: bool) -> Value {
    let v = s.get_index(field.index()).cloned().unwrap_or(Value::Null);
    if with_default && v.is_null() {
        if let Some(d) = field.schema().default_value() {
            return d.clone();
        }
    }
    v
}

/// A struct field's value by name (null when the field does not exist).
pub fn field_value_by_name(s: &Struct, name: &str, with_default: bool) -> Value {
    match s.schema().field(name) {
        Some(f) => field_value(s, f, with_default),
        None => Value::Null,
    }
}

/// Connect's `SchemaUtil.copySchemaBasics`: name, version, doc and parameters onto `builder`.
pub fn copy_schema_basics(source: &Schema, builder: SchemaBuilder) -> SchemaBuilder {
    let mut b = builder
        .set_name(source.name().map(str::to_owned))
        .set_version(source.version());
    if let Some(doc) = source.doc() {
        b = b.doc(doc);
    }
    if let Some(p) = source.parameters() {
        b = b.parameters(Some(p.clone()));
    }
    b
}

/// A builder of the same type as `source` (arrays and maps keep their element schemas) with its basics.
pub fn copy_schema_basics_same_type(source: &Schema) -> SchemaBuilder {
    let builder = match source.schema_type() {
        SchemaType::Array => match source.value_schema() {
            Some(items) => Schema::array(items.clone()),
            None => SchemaBuilder::new(SchemaType::Array),
        },
        SchemaType::Map => match (source.key_schema(), source.value_schema()) {
            (Some(k), Some(v)) => Schema::map(k.clone(), v.clone()),
            _ => SchemaBuilder::new(SchemaType::Map),
        },
        ty => SchemaBuilder::new(ty),
    };
    copy_schema_basics(source, builder)
}

/// Rebuilt schemas keyed by their input schema (Connect keeps an LRU of 16).
#[derive(Debug, Default)]
pub struct SchemaCache {
    entries: Vec<(Schema, Schema)>,
}

const SCHEMA_CACHE_SIZE: usize = 16;

impl SchemaCache {
    /// An empty cache.
    pub fn new() -> Self {
        SchemaCache::default()
    }

    /// The cached schema for `key`, or builds, stores and returns it.
    pub fn get_or_try_insert<E>(
        &mut self,
        key: &Schema,
        build: impl FnOnce(&Schema) -> Result<Schema, E>,
    ) -> Result<Schema, E> {
        if let Some(s) = self.get(key) {
            return Ok(s);
        }
        let built = build(key)?;
        self.insert(key.clone(), built.clone());
        Ok(built)
    }

    /// Stores a rebuilt schema, evicting the oldest entry when full.
    pub fn insert(&mut self, key: Schema, built: Schema) {
        if self.entries.len() >= SCHEMA_CACHE_SIZE {
            self.entries.remove(0);
        }
        self.entries.push((key, built));
    }

    /// The rebuilt schema stored for `key`.
    pub fn get(&self, key: &Schema) -> Option<Schema> {
        // Schema equality checks pointer identity first, so the hot path is cheap.
        self.entries
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }
}

/// Kafka's `NonEmptyListValidator`.
pub fn non_empty_list() -> Validator {
    Validator::custom(|_, v| match v {
        ConfigValue::List(l) if !l.is_empty() => Ok(()),
        _ => Err("Empty list".to_string()),
    })
}

/// Checks a list option is non-empty with Kafka's message (`Invalid value [] ...: Empty list`).
pub fn ensure_non_empty_list(key: &str, list: &[String]) -> Result<(), ConfigError> {
    if list.is_empty() {
        Err(ConfigError::invalid(
            key,
            java::collections::list_to_string(list),
            "Empty list",
        ))
    } else {
        Ok(())
    }
}

/// Kafka's `RegexValidator`: the value must compile (`Invalid regex: ...`).
pub fn regex_validator() -> Validator {
    Validator::custom(|_, v| match v {
        ConfigValue::String(s) => ferry_core::java::JavaPattern::compile(s)
            .map(|_| ())
            .map_err(|e| format!("Invalid regex: {e}")),
        _ => Ok(()),
    })
}

/// The `replace.null.with.default` option most transforms share.
pub fn replace_null_with_default_key() -> ferry_core::ConfigKey {
    ferry_core::ConfigKey::new("replace.null.with.default", ferry_core::ConfigType::Boolean)
        .default_value("true")
        .importance(ferry_core::Importance::Medium)
        .doc("Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used.")
}

/// The cached rebuilt schema for `$key`, or `$build` (an expression that may use `?`) stored and returned.
macro_rules! cached_schema {
    ($cache:expr, $key:expr, $build:expr) => {
        match $cache.get($key) {
            Some(s) => s,
            None => {
                let built: ferry_core::Schema = $build;
                $cache.insert($key.clone(), built.clone());
                built
            }
        }
    };
}
pub(crate) use cached_schema;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_reuses_built_schema() {
        let mut c = SchemaCache::new();
        let s = Schema::struct_builder().field("a", Schema::int32()).build();
        let mut builds = 0;
        for _ in 0..3 {
            let out = c
                .get_or_try_insert::<()>(&s, |s| {
                    builds += 1;
                    Ok(s.to_builder().name("x").build())
                })
                .unwrap();
            assert_eq!(out.name(), Some("x"));
        }
        assert_eq!(builds, 1);
    }
}
