//! `HoistField$Key` / `HoistField$Value`: wraps the key or value in a single-field struct or map.

use ferry_core::{
    ConfigDef, ConfigError, ConfigKey, ConfigMap, ConfigType, ConnectError, Importance, Record, Schema,
    Struct, Transformation, Value,
};

use crate::util::{cached_schema, SchemaCache, Side};

/// Wraps data under `field`.
pub struct HoistField {
    side: Side,
    field: String,
    cache: SchemaCache,
}

impl HoistField {
    /// A transform working on `side`.
    pub fn new(side: Side) -> Self {
        HoistField {
            side,
            field: String::new(),
            cache: SchemaCache::new(),
        }
    }
}

impl Transformation for HoistField {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new().define(
            ConfigKey::new("field", ConfigType::String)
                .importance(Importance::Medium)
                .doc("Field name for the single field that will be created in the resulting Struct or Map."),
        )
    }

    fn configure(&mut self, config: &ConfigMap) -> Result<(), ConfigError> {
        let c = self.config_def().parse(config)?;
        self.field = c.string("field").unwrap_or_default().to_owned();
        self.cache = SchemaCache::new();
        Ok(())
    }

    fn apply(&mut self, mut record: Record) -> Result<Option<Record>, ConnectError> {
        let side = self.side;
        let (schema, value) = side.take(&mut record);
        match schema {
            None => {
                let map = vec![(Value::String(self.field.clone()), value)];
                side.set(&mut record, None, Value::Map(map));
            }
            Some(schema) => {
                let updated = cached_schema!(
                    self.cache,
                    &schema,
                    Schema::struct_builder()
                        .field(self.field.clone(), schema.clone())
                        .build()
                );
                // Java's Struct.put validates the value against the wrapped schema.
                let mut s = Struct::new(updated.clone());
                s.put(&self.field, value)?;
                side.set(&mut record, Some(updated), Value::Struct(s));
            }
        }
        Ok(Some(record))
    }
}
