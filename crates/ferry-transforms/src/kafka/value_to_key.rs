//! `ValueToKey`: builds the key from fields of the value.

use ferry_core::{
    ConfigDef, ConfigError, ConfigKey, ConfigMap, ConfigType, ConnectError, DataError, Importance, Record,
    Schema, Struct, Transformation, Value,
};

use crate::util::{
    cached_schema, ensure_non_empty_list, field_value_by_name, map_get, non_empty_list,
    replace_null_with_default_key, require_map, require_struct, SchemaCache,
};

const PURPOSE: &str = "copying fields from value to key";

/// Replaces the key with a struct (or map) of the listed value fields.
pub struct ValueToKey {
    fields: Vec<String>,
    replace_null_with_default: bool,
    cache: SchemaCache,
}

impl Default for ValueToKey {
    fn default() -> Self {
        ValueToKey {
            fields: Vec::new(),
            replace_null_with_default: true,
            cache: SchemaCache::new(),
        }
    }
}

impl ValueToKey {
    fn key_schema(&self, value_schema: &Schema) -> Result<Schema, DataError> {
        let mut b = Schema::struct_builder();
        for f in &self.fields {
            let field = value_schema
                .field(f)
                .ok_or_else(|| DataError::new(format!("Field does not exist: {f}")))?;
            b = b.try_field(f, field.schema().clone())?;
        }
        Ok(b.build())
    }
}

impl Transformation for ValueToKey {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
            .define(
                ConfigKey::new("fields", ConfigType::List)
                    .importance(Importance::High)
                    .validator(non_empty_list())
                    .doc("Field names on the record value to extract as the record key."),
            )
            .define(replace_null_with_default_key())
    }

    fn configure(&mut self, config: &ConfigMap) -> Result<(), ConfigError> {
        if config.get("fields").is_some_and(|s| s.trim().is_empty()) {
            ensure_non_empty_list("fields", &[])?;
        }
        let c = self.config_def().parse(config)?;
        self.fields = c.list("fields").to_vec();
        self.replace_null_with_default = c.boolean("replace.null.with.default");
        self.cache = SchemaCache::new();
        Ok(())
    }

    fn apply(&mut self, mut record: Record) -> Result<Option<Record>, ConnectError> {
        if record.value_schema.is_none() {
            let value = require_map(&record.value, PURPOSE)?;
            let mut key = Vec::with_capacity(self.fields.len());
            for f in &self.fields {
                crate::util::map_put(&mut key, f, map_get(value, f).cloned().unwrap_or(Value::Null));
            }
            record.key_schema = None;
            record.key = Value::Map(key);
        } else {
            let value = require_struct(&record.value, PURPOSE)?;
            let key_schema = cached_schema!(self.cache, value.schema(), self.key_schema(value.schema())?);
            let values = self
                .fields
                .iter()
                .map(|f| field_value_by_name(value, f, self.replace_null_with_default))
                .collect();
            let key = Struct::from_values(key_schema.clone(), values)?;
            record.key_schema = Some(key_schema);
            record.key = Value::Struct(key);
        }
        Ok(Some(record))
    }
}
