//! Header transforms: `InsertHeader`, `DropHeaders`, `HeaderFrom$Key` / `HeaderFrom$Value`,
//! and `Filter` (drops every record; used with a predicate).

use std::collections::HashSet;

use ferry_core::java::values::parse_string;
use ferry_core::{
    ConfigDef, ConfigError, ConfigKey, ConfigMap, ConfigType, ConnectError, DataError, Importance, Record,
    Schema, Struct, Transformation, Validator, Value,
};

use crate::util::{
    cached_schema, copy_schema_basics, ensure_non_empty_list, field_value, map_get, map_remove,
    non_empty_list, replace_null_with_default_key, require_map, require_struct, SchemaCache, Side,
};

/// Adds one header with a literal value to every record.
#[derive(Default)]
pub struct InsertHeader {
    header: String,
    schema: Option<Schema>,
    value: Value,
}

impl Transformation for InsertHeader {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
            .define(
                ConfigKey::new("header", ConfigType::String)
                    .importance(Importance::High)
                    .doc("The name of the header."),
            )
            .define(
                ConfigKey::new("value.literal", ConfigType::String)
                    .importance(Importance::High)
                    .doc("The literal value that is to be set as the header value on all records."),
            )
    }

    fn configure(&mut self, config: &ConfigMap) -> Result<(), ConfigError> {
        let c = self.config_def().parse(config)?;
        self.header = c.string("header").unwrap_or_default().to_owned();
        let parsed = parse_string(c.string("value.literal").unwrap_or_default());
        self.schema = parsed.schema;
        self.value = parsed.value;
        Ok(())
    }

    fn apply(&mut self, mut record: Record) -> Result<Option<Record>, ConnectError> {
        record
            .headers
            .add(self.header.clone(), self.schema.clone(), self.value.clone());
        Ok(Some(record))
    }
}

/// Removes every header with one of the listed names.
#[derive(Default)]
pub struct DropHeaders {
    headers: HashSet<String>,
}

impl Transformation for DropHeaders {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new().define(
            ConfigKey::new("headers", ConfigType::List)
                .importance(Importance::High)
                .validator(non_empty_list())
                .doc("The name of the headers to be removed."),
        )
    }

    fn configure(&mut self, config: &ConfigMap) -> Result<(), ConfigError> {
        if config.get("headers").is_some_and(|s| s.trim().is_empty()) {
            ensure_non_empty_list("headers", &[])?;
        }
        let c = self.config_def().parse(config)?;
        self.headers = c.list("headers").iter().cloned().collect();
        Ok(())
    }

    fn apply(&mut self, mut record: Record) -> Result<Option<Record>, ConnectError> {
        record.headers.retain(|h| !self.headers.contains(&h.key));
        Ok(Some(record))
    }
}

/// Drops every record (meant to be used with a predicate).
#[derive(Default)]
pub struct Filter;

impl Transformation for Filter {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
    }
    fn configure(&mut self, _config: &ConfigMap) -> Result<(), ConfigError> {
        Ok(())
    }
    fn apply(&mut self, _record: Record) -> Result<Option<Record>, ConnectError> {
        Ok(None)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Operation {
    Move,
    Copy,
}

impl Operation {
    fn as_str(self) -> &'static str {
        match self {
            Operation::Move => "move",
            Operation::Copy => "copy",
        }
    }
}

/// Moves or copies fields of the key or value into headers.
pub struct HeaderFrom {
    side: Side,
    fields: Vec<String>,
    headers: Vec<String>,
    operation: Operation,
    replace_null_with_default: bool,
    cache: SchemaCache,
}

impl HeaderFrom {
    /// A transform working on `side`.
    pub fn new(side: Side) -> Self {
        HeaderFrom {
            side,
            fields: Vec::new(),
            headers: Vec::new(),
            operation: Operation::Copy,
            replace_null_with_default: true,
            cache: SchemaCache::new(),
        }
    }

    fn move_schema(&self, schema: &Schema) -> Result<Schema, DataError> {
        let mut b = copy_schema_basics(schema, Schema::struct_builder());
        for f in schema.fields() {
            if !self.fields.iter().any(|x| x == f.name()) {
                b = b.try_field(f.name(), f.schema().clone())?;
            }
        }
        Ok(b.build())
    }
}

impl Transformation for HeaderFrom {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
            .define(
                ConfigKey::new("fields", ConfigType::List)
                    .importance(Importance::High)
                    .validator(non_empty_list())
                    .doc("Field names in the record whose values are to be copied or moved to headers."),
            )
            .define(
                ConfigKey::new("headers", ConfigType::List)
                    .importance(Importance::High)
                    .validator(non_empty_list())
                    .doc("Header names, in the same order as the field names listed in the fields configuration property."),
            )
            .define(
                ConfigKey::new("operation", ConfigType::String)
                    .importance(Importance::High)
                    .validator(Validator::one_of(["move", "copy"]))
                    .doc("Either <code>move</code> if the fields are to be moved to the headers (removed from the key/value), or <code>copy</code> if the fields are to be copied to the headers (retained in the key/value)."),
            )
            .define(replace_null_with_default_key())
    }

    fn configure(&mut self, config: &ConfigMap) -> Result<(), ConfigError> {
        for key in ["fields", "headers"] {
            if config.get(key).is_some_and(|s| s.trim().is_empty()) {
                ensure_non_empty_list(key, &[])?;
            }
        }
        let c = self.config_def().parse(config)?;
        self.fields = c.list("fields").to_vec();
        self.headers = c.list("headers").to_vec();
        if self.fields.len() != self.headers.len() {
            return Err(ConfigError::other(
                None,
                "'fields' config must have the same number of elements as 'headers' config.",
            ));
        }
        self.operation = if c.string("operation") == Some("move") {
            Operation::Move
        } else {
            Operation::Copy
        };
        self.replace_null_with_default = c.boolean("replace.null.with.default");
        self.cache = SchemaCache::new();
        Ok(())
    }

    fn apply(&mut self, mut record: Record) -> Result<Option<Record>, ConnectError> {
        let side = self.side;
        let purpose = format!("header {}", self.operation.as_str());
        match side.schema(&record).cloned() {
            None => {
                let map = require_map(side.value(&record), &purpose)?;
                let mut updated = map.clone();
                let mut new_headers = Vec::with_capacity(self.fields.len());
                for (field, header) in self.fields.iter().zip(&self.headers) {
                    let v = map_get(map, field).cloned().unwrap_or(Value::Null);
                    if self.operation == Operation::Move {
                        map_remove(&mut updated, field);
                    }
                    new_headers.push((header.clone(), v));
                }
                for (h, v) in new_headers {
                    record.headers.add(h, None, v);
                }
                side.set(&mut record, None, Value::Map(updated));
            }
            Some(schema) => {
                let value = require_struct(side.value(&record), &purpose)?;
                let mut new_headers = Vec::with_capacity(self.fields.len());
                for (field, header) in self.fields.iter().zip(&self.headers) {
                    let f = schema
                        .field(field)
                        .ok_or_else(|| DataError::new(format!("Field does not exist: {field}")))?;
                    let v = value
                        .schema()
                        .field(field)
                        .map(|vf| field_value(value, vf, self.replace_null_with_default))
                        .unwrap_or(Value::Null);
                    new_headers.push((header.clone(), f.schema().clone(), v));
                }
                if self.operation == Operation::Move {
                    let updated = cached_schema!(self.cache, &schema, self.move_schema(&schema)?);
                    let mut s = Struct::new(updated.clone());
                    for f in updated.fields() {
                        let v = value
                            .schema()
                            .field(f.name())
                            .map(|vf| field_value(value, vf, self.replace_null_with_default))
                            .unwrap_or(Value::Null);
                        s.put_unchecked(f.index(), v);
                    }
                    side.set(&mut record, Some(updated), Value::Struct(s));
                }
                for (h, s, v) in new_headers {
                    record.headers.add(h, Some(s), v);
                }
            }
        }
        Ok(Some(record))
    }
}
