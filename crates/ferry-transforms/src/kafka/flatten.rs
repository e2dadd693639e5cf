//! `Flatten$Key` / `Flatten$Value`: flattens nested structs or maps into one level.

use ferry_core::java;
use ferry_core::{
    ConfigDef, ConfigError, ConfigKey, ConfigMap, ConfigType, ConnectError, DataError, Importance, Record,
    Schema, SchemaBuilder, SchemaType, Struct, Transformation, Value,
};

use crate::util::{
    cached_schema, copy_schema_basics, copy_schema_basics_same_type, field_value, map_put, require_map,
    require_struct_or_null, SchemaCache, Side,
};

const PURPOSE: &str = "flattening";

/// Flattens with `delimiter` between names.
pub struct Flatten {
    side: Side,
    delimiter: String,
    cache: SchemaCache,
}

impl Flatten {
    /// A transform working on `side`.
    pub fn new(side: Side) -> Self {
        Flatten {
            side,
            delimiter: ".".into(),
            cache: SchemaCache::new(),
        }
    }

    fn name(&self, prefix: &str, field: &str) -> String {
        if prefix.is_empty() {
            field.to_owned()
        } else {
            format!("{prefix}{}{field}", self.delimiter)
        }
    }

    fn flatten_map(
        &self,
        map: &[(Value, Value)],
        prefix: &str,
        out: &mut Vec<(Value, Value)>,
    ) -> Result<(), DataError> {
        for (k, v) in map {
            let key = match k {
                Value::String(s) => s.clone(),
                other => format!("{other:?}"),
            };
            let name = self.name(prefix, &key);
            match v {
                Value::Null
                | Value::Boolean(_)
                | Value::Int8(_)
                | Value::Int16(_)
                | Value::Int32(_)
                | Value::Int64(_)
                | Value::Float32(_)
                | Value::Float64(_)
                | Value::String(_)
                | Value::Bytes(_)
                | Value::Array(_) => map_put(out, &name, v.clone()),
                Value::Map(inner) => self.flatten_map(inner, &name, out)?,
                Value::Decimal(_) => {
                    return Err(DataError::new(format!(
                        "Flatten transformation was passed a value of type {} which is not supported by Connect's data API",
                        java::class_string(v)
                    )))
                }
                Value::Struct(_) => {
                    return Err(DataError::new(format!(
                        "Flatten transformation does not support {} for record without schemas (for field {name}).",
                        java::class_string(v)
                    )))
                }
            }
        }
        Ok(())
    }

    fn build_schema(
        &self,
        schema: &Schema,
        prefix: &str,
        mut b: SchemaBuilder,
        optional: bool,
        default_from_parent: Option<&Struct>,
    ) -> Result<SchemaBuilder, DataError> {
        for f in schema.fields() {
            let name = self.name(prefix, f.name());
            let field_optional = optional || f.schema().is_optional();
            let default = match f.schema().default_value() {
                Some(d) => Some(d.clone()),
                None => default_from_parent.map(|p| field_value(p, f, true)),
            }
            .filter(|d| !d.is_null());
            match f.schema().schema_type() {
                SchemaType::Map => {
                    return Err(DataError::new(format!(
                    "Flatten transformation does not support MAP for record with schemas (for field {name})."
                )))
                }
                SchemaType::Struct => {
                    let parent = match &default {
                        Some(Value::Struct(s)) => Some(s.clone()),
                        _ => None,
                    };
                    b = self.build_schema(f.schema(), &name, b, field_optional, parent.as_ref())?;
                }
                _ => {
                    let mut fb = copy_schema_basics_same_type(f.schema());
                    if field_optional {
                        fb = fb.optional();
                    }
                    if let Some(d) = default {
                        fb = fb.default_value(d);
                    }
                    b = b.try_field(name, fb.build())?;
                }
            }
        }
        Ok(b)
    }

    fn build_value(
        &self,
        s: Option<&Struct>,
        prefix: &str,
        updated: &Schema,
        out: &mut Struct,
    ) -> Result<(), DataError> {
        let Some(s) = s else { return Ok(()) };
        for f in s.schema().fields() {
            let name = self.name(prefix, f.name());
            match f.schema().schema_type() {
                SchemaType::Map => {
                    return Err(DataError::new(format!(
                    "Flatten transformation does not support MAP for record with schemas (for field {name})."
                )))
                }
                SchemaType::Struct => {
                    let v = field_value(s, f, true);
                    self.build_value(v.as_struct(), &name, updated, out)?;
                }
                _ => {
                    if let Some(uf) = updated.field(&name) {
                        out.put_unchecked(uf.index(), field_value(s, f, true));
                    }
                }
            }
        }
        Ok(())
    }
}

impl Transformation for Flatten {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new().define(
            ConfigKey::new("delimiter", ConfigType::String)
                .default_value(".")
                .importance(Importance::Medium)
                .doc("Delimiter to insert between field names from the input record when generating field names for the output record"),
        )
    }

    fn configure(&mut self, config: &ConfigMap) -> Result<(), ConfigError> {
        let c = self.config_def().parse(config)?;
        self.delimiter = c.string("delimiter").unwrap_or(".").to_owned();
        self.cache = SchemaCache::new();
        Ok(())
    }

    fn apply(&mut self, mut record: Record) -> Result<Option<Record>, ConnectError> {
        let side = self.side;
        if side.value(&record).is_null() {
            return Ok(Some(record));
        }
        match side.schema(&record).cloned() {
            None => {
                let map = require_map(side.value(&record), PURPOSE)?;
                let mut out = Vec::with_capacity(map.len());
                self.flatten_map(map, "", &mut out)?;
                side.set(&mut record, None, Value::Map(out));
            }
            Some(schema) => {
                let value = require_struct_or_null(side.value(&record), PURPOSE)?;
                let updated = cached_schema!(self.cache, &schema, {
                    let default = match schema.default_value() {
                        Some(Value::Struct(d)) => Some(d.clone()),
                        _ => None,
                    };
                    let b = copy_schema_basics(&schema, Schema::struct_builder());
                    self.build_schema(&schema, "", b, schema.is_optional(), default.as_ref())?
                        .build()
                });
                let mut out = Struct::new(updated.clone());
                self.build_value(value, "", &updated, &mut out)?;
                side.set(&mut record, Some(updated), Value::Struct(out));
            }
        }
        Ok(Some(record))
    }
}
