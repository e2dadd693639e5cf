//! `io.debezium.transforms.ExtractSchemaToNewRecord`: adds a `sourceSchema` block to each
//! change event, describing the table's columns (name, type name, length, scale, comment)
//! from the `__debezium.source.column.*` parameters that `column.propagate.source.type` or
//! `datatype.propagate.source.type` set on the row schema's fields.
//!
//! As Debezium, the block is computed once per envelope schema (from the first event with
//! that schema) and reused.

use ferry_core::{
    ConfigDef, ConfigError, ConfigMap, ConnectError, DataError, Record, Schema, SchemaType, Struct,
    Transformation, Value,
};

use crate::envelope::{self, AFTER, BEFORE, SOURCE};
use crate::util::{self, SchemaCache};

/// Java class name of the transform.
pub const CLASS: &str = "io.debezium.transforms.ExtractSchemaToNewRecord";

/// Name of the added field.
pub const SOURCE_SCHEMA_KEY: &str = "sourceSchema";

const SCHEMA_NAME_ADJUSTMENT_MODE: &str = "schema.name.adjustment.mode";
const COLUMN_NAME: &str = "__debezium.source.column.name";
const COLUMN_TYPE: &str = "__debezium.source.column.type";
const COLUMN_LENGTH: &str = "__debezium.source.column.length";
const COLUMN_SCALE: &str = "__debezium.source.column.scale";
const COLUMN_COMMENT: &str = "__debezium.source.column.comment";

/// The output schema for one envelope schema, and its `sourceSchema` value.
type Metadata = (Schema, Value);

/// The schema-block transform.
#[derive(Debug)]
pub struct ExtractSchemaToNewRecord {
    cache: SchemaCache<Schema, Metadata>,
}

impl Default for ExtractSchemaToNewRecord {
    fn default() -> Self {
        ExtractSchemaToNewRecord {
            cache: SchemaCache::new(64),
        }
    }
}

fn column_schema() -> Schema {
    Schema::struct_builder()
        .name("io.debezium.connector.source.schema.Column")
        .version(1)
        .field("name", Schema::string())
        .field("typeName", Schema::string())
        .field("length", Schema::optional_int32())
        .field("scale", Schema::optional_int32())
        .field("comment", Schema::optional_string())
        .build()
}

fn table_schema() -> Schema {
    Schema::struct_builder()
        .name("io.debezium.connector.source.schema.Table")
        .version(1)
        .field("columns", Schema::array(column_schema()).build())
        .build()
}

fn source_schema_block() -> Schema {
    Schema::struct_builder()
        .name("io.debezium.connector.source.Schema")
        .version(1)
        .field("id", Schema::string())
        .field("table", table_schema())
        .build()
}

fn int_parameter(schema: &Schema, key: &str) -> Result<Value, DataError> {
    match schema.parameter(key) {
        None => Ok(Value::Null),
        Some(text) => text
            .parse::<i32>()
            .map(Value::Int32)
            .map_err(|_| DataError::new(format!("For input string: \"{text}\""))),
    }
}

/// Debezium's `makeUpdatedSchema`: the envelope schema plus `sourceSchema`, and the block's
/// value for the table of `envelope_value`.
fn make_metadata(
    envelope_schema: &Schema,
    envelope_value: &Struct,
    row_schema: &Schema,
) -> Result<Metadata, DataError> {
    let block_schema = source_schema_block();
    let mut builder = util::copy_schema_basics(envelope_schema, SchemaType::Struct)
        .set_optional(envelope_schema.is_optional());
    for f in envelope_schema.fields() {
        builder = builder.field(f.name(), f.schema().clone());
    }
    let schema = builder.field(SOURCE_SCHEMA_KEY, block_schema.clone()).build();

    let table_id = match util::get(envelope_value, SOURCE)? {
        Value::Struct(source) => util::get(source, "table")?.clone(),
        _ => return Err(DataError::new("The event has no source block")),
    };
    let column = column_schema();
    let mut columns = Vec::with_capacity(row_schema.fields().len());
    for f in row_schema.fields() {
        let s = f.schema();
        let (Some(name), Some(type_name)) = (s.parameter(COLUMN_NAME), s.parameter(COLUMN_TYPE)) else {
            return Err(DataError::new(
                "Ensure that enable configurations \"column.propagate.source.type\" or \
                 \"datatype.propagate.source.type\" and the value is set to \".*\"",
            ));
        };
        let comment = s.parameter(COLUMN_COMMENT).map_or(Value::Null, Value::from);
        let values = vec![
            Value::from(name),
            Value::from(type_name),
            int_parameter(s, COLUMN_LENGTH)?,
            int_parameter(s, COLUMN_SCALE)?,
            comment,
        ];
        columns.push(Value::Struct(Struct::from_values(column.clone(), values)?));
    }
    let table = Struct::from_values(table_schema(), vec![Value::Array(columns)])?;
    let block = Struct::from_values(block_schema, vec![table_id, Value::Struct(table)])?;
    Ok((schema, Value::Struct(block)))
}

impl Transformation for ExtractSchemaToNewRecord {
    /// Debezium's definition is empty.
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
    }

    fn configure(&mut self, config: &ConfigMap) -> Result<(), ConfigError> {
        if let Some(mode) = config.get(SCHEMA_NAME_ADJUSTMENT_MODE) {
            if !["avro", "avro_unicode", "none"]
                .iter()
                .any(|m| mode.trim().eq_ignore_ascii_case(m))
            {
                return Err(ConfigError::invalid(
                    SCHEMA_NAME_ADJUSTMENT_MODE,
                    mode,
                    "must be one of avro, avro_unicode, none",
                ));
            }
        }
        self.cache = SchemaCache::new(64);
        Ok(())
    }

    fn apply(&mut self, mut record: Record) -> Result<Option<Record>, ConnectError> {
        if record.value.is_null() || !envelope::is_envelope(record.value_schema.as_ref()) {
            return Ok(Some(record));
        }
        let Some(envelope_schema) = record.value_schema.clone() else {
            return Ok(Some(record));
        };
        let Value::Struct(value) = &record.value else {
            return Err(DataError::new(format!(
                "Only Struct objects supported for [field extraction], found: {}",
                ferry_core::java::class_name(&record.value)
            ))
            .into());
        };
        let row_schema = envelope_schema
            .field(AFTER)
            .ok_or_else(|| DataError::new(format!("Unknown field: {AFTER}")))?
            .schema()
            .clone();
        envelope_schema
            .field(BEFORE)
            .ok_or_else(|| DataError::new(format!("Unknown field: {BEFORE}")))?;
        // A truncate event (neither state) passes unchanged.
        if util::get_raw(value, AFTER)?.is_null() && util::get_raw(value, BEFORE)?.is_null() {
            return Ok(Some(record));
        }
        let (schema, block) = self.cache.get_or_try_insert(&envelope_schema, || {
            make_metadata(&envelope_schema, value, &row_schema)
        })?;
        let mut values = Vec::with_capacity(schema.fields().len());
        for f in envelope_schema.fields() {
            let v = value.get_or_default(f.name()).cloned().unwrap_or_default();
            values.push(v);
        }
        values.push(block);
        let new_value = Struct::from_values(schema.clone(), values)?;
        record.value_schema = Some(schema);
        record.value = Value::Struct(new_value);
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(name: &str, ty: &str, length: Option<&str>, scale: Option<&str>) -> Schema {
        let mut b = Schema::builder(SchemaType::Int32)
            .optional()
            .parameter(COLUMN_NAME, name)
            .parameter(COLUMN_TYPE, ty);
        if let Some(l) = length {
            b = b.parameter(COLUMN_LENGTH, l);
        }
        if let Some(s) = scale {
            b = b.parameter(COLUMN_SCALE, s);
        }
        b.build()
    }

    fn envelope(row: Schema) -> Schema {
        let source = Schema::struct_builder()
            .name("io.debezium.connector.postgresql.Source")
            .field("table", Schema::string())
            .build();
        Schema::struct_builder()
            .name("s.public.t.Envelope")
            .version(2)
            .field("before", row.clone())
            .field("after", row)
            .field("source", source)
            .field("op", Schema::string())
            .build()
    }

    fn event(schema: &Schema, before: Value, after: Value) -> Record {
        let source_schema = schema.field("source").unwrap().schema().clone();
        let source = Struct::from_values(source_schema, vec![Value::from("t")]).unwrap();
        let value = Struct::from_values(
            schema.clone(),
            vec![before, after, Value::Struct(source), Value::from("c")],
        )
        .unwrap();
        Record::new("t", Some(schema.clone()), Value::Struct(value))
    }

    #[test]
    fn adds_the_columns_of_the_row_schema() {
        let row = Schema::struct_builder()
            .name("s.public.t.Value")
            .optional()
            .field("id", column("id", "INT4", Some("10"), Some("0")))
            .field(
                "qty",
                Schema::builder(SchemaType::Int32)
                    .optional()
                    .parameter(COLUMN_NAME, "qty")
                    .parameter(COLUMN_TYPE, "INT4")
                    .parameter(COLUMN_COMMENT, "how many")
                    .build(),
            )
            .build();
        let schema = envelope(row);
        let mut t = ExtractSchemaToNewRecord::default();
        t.configure(&ConfigMap::new()).unwrap();
        let out = t
            .apply(event(&schema, Value::Null, row_value(&schema, 1)))
            .unwrap()
            .unwrap();
        let out_schema = out.value_schema.as_ref().unwrap();
        out_schema.validate_value(&out.value).unwrap();
        assert_eq!(out_schema.name(), Some("s.public.t.Envelope"));
        assert_eq!(out_schema.version(), Some(2));
        let names: Vec<&str> = out_schema.fields().iter().map(|f| f.name()).collect();
        assert_eq!(names, ["before", "after", "source", "op", "sourceSchema"]);
        let value = out.value.as_struct().unwrap();
        assert_eq!(value.get("op"), Some(&Value::from("c")));
        let block = value.get("sourceSchema").unwrap().as_struct().unwrap();
        assert_eq!(block.get("id"), Some(&Value::from("t")));
        let table = block.get("table").unwrap().as_struct().unwrap();
        let Some(Value::Array(columns)) = table.get("columns") else {
            panic!("no columns")
        };
        let first = columns[0].as_struct().unwrap();
        assert_eq!(first.get("name"), Some(&Value::from("id")));
        assert_eq!(first.get("typeName"), Some(&Value::from("INT4")));
        assert_eq!(first.get("length"), Some(&Value::Int32(10)));
        assert_eq!(first.get("scale"), Some(&Value::Int32(0)));
        assert_eq!(first.get("comment"), Some(&Value::Null));
        let second = columns[1].as_struct().unwrap();
        assert_eq!(second.get("length"), Some(&Value::Null));
        assert_eq!(second.get("comment"), Some(&Value::from("how many")));
    }

    fn row_value(schema: &Schema, id: i32) -> Value {
        let row_schema = schema.field("after").unwrap().schema().clone();
        let values = row_schema.fields().iter().map(|_| Value::Int32(id)).collect();
        Value::Struct(Struct::from_values(row_schema, values).unwrap())
    }

    #[test]
    fn needs_propagated_source_types() {
        let row = Schema::struct_builder()
            .name("s.public.t.Value")
            .optional()
            .field("id", Schema::int32())
            .field("x", Schema::optional_int32())
            .build();
        let schema = envelope(row);
        let mut t = ExtractSchemaToNewRecord::default();
        let e = t
            .apply(event(&schema, Value::Null, row_value(&schema, 1)))
            .unwrap_err();
        assert!(e.to_string().contains("column.propagate.source.type"), "{e}");
    }

    #[test]
    fn tombstones_truncates_and_other_records_pass() {
        let row = Schema::struct_builder()
            .name("s.public.t.Value")
            .optional()
            .field("id", column("id", "INT4", None, None))
            .build();
        let schema = envelope(row);
        let mut t = ExtractSchemaToNewRecord::default();
        let truncate = event(&schema, Value::Null, Value::Null);
        assert_eq!(t.apply(truncate.clone()).unwrap(), Some(truncate));
        let tombstone = Record::new("t", None, Value::Null);
        assert_eq!(t.apply(tombstone.clone()).unwrap(), Some(tombstone));
        let plain = Record::new("t", Some(Schema::string()), Value::from("x"));
        assert_eq!(t.apply(plain.clone()).unwrap(), Some(plain));
        let config: ConfigMap = [(SCHEMA_NAME_ADJUSTMENT_MODE.to_owned(), "bogus".to_owned())]
            .into_iter()
            .collect();
        assert!(t.configure(&config).is_err());
    }
}
