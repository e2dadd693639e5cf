//! `SetSchemaMetadata$Key` / `SetSchemaMetadata$Value`: sets the schema name and/or version.

use ferry_core::{
    ConfigDef, ConfigError, ConfigKey, ConfigMap, ConfigType, ConnectError, Importance, Record, Struct,
    Transformation, Value,
};

use crate::util::{field_value, replace_null_with_default_key, require_schema, Side};

/// Overrides `schema.name` and/or `schema.version`.
pub struct SetSchemaMetadata {
    side: Side,
    name: Option<String>,
    version: Option<i32>,
    replace_null_with_default: bool,
}

impl SetSchemaMetadata {
    /// A transform working on `side`.
    pub fn new(side: Side) -> Self {
        SetSchemaMetadata {
            side,
            name: None,
            version: None,
            replace_null_with_default: true,
        }
    }
}

impl Transformation for SetSchemaMetadata {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
            .define(
                ConfigKey::new("schema.name", ConfigType::String)
                    .default_null()
                    .importance(Importance::High)
                    .doc("Schema name to set."),
            )
            .define(
                ConfigKey::new("schema.version", ConfigType::Int)
                    .default_null()
                    .importance(Importance::High)
                    .doc("Schema version to set."),
            )
            .define(replace_null_with_default_key())
    }

    fn configure(&mut self, config: &ConfigMap) -> Result<(), ConfigError> {
        let c = self.config_def().parse(config)?;
        self.name = c.string("schema.name").map(str::to_owned);
        self.version = c.int("schema.version");
        self.replace_null_with_default = c.boolean("replace.null.with.default");
        if self.name.is_none() && self.version.is_none() {
            return Err(ConfigError::other(
                None,
                "Neither schema name nor version configured",
            ));
        }
        Ok(())
    }

    fn apply(&mut self, mut record: Record) -> Result<Option<Record>, ConnectError> {
        let side = self.side;
        if side.value(&record).is_null() && side.schema(&record).is_none() {
            return Ok(Some(record));
        }
        let schema = require_schema(side.schema(&record), "updating schema metadata")?;
        let mut b = schema.to_builder();
        if let Some(n) = &self.name {
            b = b.name(n.clone());
        }
        if let Some(v) = self.version {
            b = b.version(v);
        }
        let updated = b.build();
        let (_, value) = side.take(&mut record);
        let value = match value {
            Value::Struct(orig) => {
                let mut s = Struct::new(updated.clone());
                for f in updated.fields() {
                    let v = orig
                        .schema()
                        .field(f.name())
                        .map(|of| field_value(&orig, of, self.replace_null_with_default))
                        .unwrap_or(Value::Null);
                    s.put_unchecked(f.index(), v);
                }
                Value::Struct(s)
            }
            other => other,
        };
        side.set(&mut record, Some(updated), value);
        Ok(Some(record))
    }
}
