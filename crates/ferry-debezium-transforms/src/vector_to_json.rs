//! `io.debezium.transforms.VectorToJsonConverter`: rewrites vector fields
//! (`io.debezium.data.DoubleVector`, `FloatVector`, `SparseDoubleVector`) anywhere in a
//! struct value into `io.debezium.data.Json` strings, as Debezium writes them:
//! `{ "values": [1.0, 2.5] }` and `{ "dimensions": 5, "vector": { "1": 0.5, "3": 2.0 } }`.
//! Every other field keeps its schema and value (a null field with a default gets the
//! default, as Connect's `Struct.get` gives it).

use ferry_core::java::object::write_primitive_string;
use ferry_core::{
    ConfigDef, ConfigError, ConfigMap, ConnectError, DataError, Record, Schema, SchemaType, Struct,
    Transformation, Value,
};

use crate::util::{self, SchemaCache};

/// Java class name of the transform.
pub const CLASS: &str = "io.debezium.transforms.VectorToJsonConverter";

const DOUBLE_VECTOR: &str = "io.debezium.data.DoubleVector";
const FLOAT_VECTOR: &str = "io.debezium.data.FloatVector";
const SPARSE_DOUBLE_VECTOR: &str = "io.debezium.data.SparseDoubleVector";
const JSON: &str = "io.debezium.data.Json";

/// The vector-to-JSON transform.
#[derive(Debug)]
pub struct VectorToJsonConverter {
    /// Output schema per input value schema.
    schemas: SchemaCache<Schema, Schema>,
}

impl Default for VectorToJsonConverter {
    fn default() -> Self {
        VectorToJsonConverter {
            schemas: SchemaCache::new(64),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum FieldKind {
    Vector,
    SparseVector,
    Struct,
    Other,
}

fn kind(schema: &Schema) -> FieldKind {
    match schema.name() {
        Some(DOUBLE_VECTOR | FLOAT_VECTOR) => FieldKind::Vector,
        Some(SPARSE_DOUBLE_VECTOR) => FieldKind::SparseVector,
        _ if schema.schema_type() == SchemaType::Struct => FieldKind::Struct,
        _ => FieldKind::Other,
    }
}

fn json_schema(optional: bool) -> Schema {
    Schema::builder(SchemaType::String)
        .name(JSON)
        .version(1)
        .set_optional(optional)
        .build()
}

/// Debezium's schema rewrite: the struct's basics (optionality included), vectors as Json.
fn transform_schema(schema: &Schema) -> Schema {
    let mut builder =
        util::copy_schema_basics(schema, schema.schema_type()).set_optional(schema.is_optional());
    for f in schema.fields() {
        let s = f.schema();
        let out = match kind(s) {
            FieldKind::Vector | FieldKind::SparseVector => json_schema(s.is_optional()),
            FieldKind::Struct => transform_schema(s),
            FieldKind::Other => s.clone(),
        };
        builder = builder.field(f.name(), out);
    }
    builder.build()
}

/// Java's `String.valueOf` of a vector element.
fn push_number(v: &Value, out: &mut String) {
    if v.is_null() || !write_primitive_string(v, out) {
        out.push_str("null");
    }
}

fn vector_json(value: &Value) -> Result<Value, DataError> {
    let items = match value {
        Value::Null => return Ok(Value::Null),
        Value::Array(items) => items,
        other => {
            return Err(DataError::new(format!(
                "class {} cannot be cast to class java.util.Collection",
                ferry_core::java::class_name(other)
            )))
        }
    };
    let mut out = String::from("{ \"values\": [");
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        push_number(v, &mut out);
    }
    out.push_str("] }");
    Ok(Value::String(out))
}

fn sparse_vector_json(value: &Value) -> Result<Value, DataError> {
    let sparse = match value {
        Value::Null => return Ok(Value::Null),
        Value::Struct(s) => s,
        other => return Err(not_a_struct("SparseDoubleVector should be a struct.", other)),
    };
    let mut out = String::from("{ \"dimensions\": ");
    push_number(util::get(sparse, "dimensions")?, &mut out);
    out.push_str(", \"vector\": { ");
    // A TreeMap: entries in key order.
    let mut entries: Vec<(&Value, &Value)> = match util::get(sparse, "vector")? {
        Value::Map(entries) => entries.iter().map(|(k, v)| (k, v)).collect(),
        _ => Vec::new(),
    };
    entries.sort_by_key(|(k, _)| k.as_i64().unwrap_or(i64::MIN));
    for (i, (k, v)) in entries.into_iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push('"');
        push_number(k, &mut out);
        out.push_str("\": ");
        push_number(v, &mut out);
    }
    out.push_str(" } }");
    Ok(Value::String(out))
}

fn not_a_struct(purpose: &str, value: &Value) -> DataError {
    DataError::new(format!(
        "Only Struct objects supported for [{purpose}], found: {}",
        ferry_core::java::class_name(value)
    ))
}

/// The value rewrite, walking the input and output schemas side by side.
fn transform_struct(
    input: &Struct,
    input_schema: &Schema,
    output_schema: &Schema,
) -> Result<Struct, DataError> {
    let mut out = Struct::new(output_schema.clone());
    for (f, of) in input_schema.fields().iter().zip(output_schema.fields()) {
        let value = util::get(input, f.name())?;
        let new_value = match kind(f.schema()) {
            FieldKind::Vector => vector_json(value)?,
            FieldKind::SparseVector => sparse_vector_json(value)?,
            FieldKind::Struct => match value {
                Value::Null => Value::Null,
                Value::Struct(inner) => Value::Struct(transform_struct(inner, f.schema(), of.schema())?),
                other => return Err(not_a_struct("Should be a struct.", other)),
            },
            FieldKind::Other => value.clone(),
        };
        out.put(f.name(), new_value)?;
    }
    Ok(out)
}

impl Transformation for VectorToJsonConverter {
    /// Debezium's definition is empty.
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
    }

    fn configure(&mut self, _config: &ConfigMap) -> Result<(), ConfigError> {
        Ok(())
    }

    fn apply(&mut self, mut record: Record) -> Result<Option<Record>, ConnectError> {
        if record.value.is_null() {
            return Ok(Some(record));
        }
        let value = util::require_struct(&record.value, "Value should be a struct")?;
        let input_schema = record
            .value_schema
            .clone()
            .unwrap_or_else(|| value.schema().clone());
        let output_schema = self.schemas.get_or_try_insert(&input_schema, || {
            Ok::<_, DataError>(transform_schema(&input_schema))
        })?;
        let new_value = transform_struct(value, &input_schema, &output_schema)?;
        record.value_schema = Some(output_schema);
        record.value = Value::Struct(new_value);
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector(name: &str, optional: bool, item: Schema) -> Schema {
        Schema::array(item)
            .name(name)
            .version(1)
            .set_optional(optional)
            .build()
    }

    fn sparse() -> Schema {
        Schema::struct_builder()
            .name(SPARSE_DOUBLE_VECTOR)
            .version(1)
            .optional()
            .field("dimensions", Schema::int16())
            .field("vector", Schema::map(Schema::int16(), Schema::float64()).build())
            .build()
    }

    fn row() -> Schema {
        Schema::struct_builder()
            .name("s.public.v.Value")
            .optional()
            .field("id", Schema::int32())
            .field("d", vector(DOUBLE_VECTOR, true, Schema::float64()))
            .field("f", vector(FLOAT_VECTOR, false, Schema::float32()))
            .field("s", sparse())
            .build()
    }

    fn envelope() -> Schema {
        Schema::struct_builder()
            .name("s.public.v.Envelope")
            .field("before", row())
            .field("after", row())
            .field("op", Schema::string())
            .build()
    }

    #[test]
    fn vectors_become_debeziums_json_text() {
        let sparse_value = Struct::from_values(
            sparse(),
            vec![
                Value::Int16(5),
                Value::Map(vec![
                    (Value::Int16(3), Value::Float64(2.0)),
                    (Value::Int16(1), Value::Float64(0.5)),
                ]),
            ],
        )
        .unwrap();
        let after = Struct::from_values(
            row(),
            vec![
                Value::Int32(7),
                Value::Array(vec![Value::Float64(1.0), Value::Float64(2.5)]),
                Value::Array(vec![Value::Float32(0.1), Value::Float32(3.0)]),
                Value::Struct(sparse_value),
            ],
        )
        .unwrap();
        let value = Struct::from_values(
            envelope(),
            vec![Value::Null, Value::Struct(after), Value::from("c")],
        )
        .unwrap();
        let mut t = VectorToJsonConverter::default();
        let out = t
            .apply(Record::new("t", Some(envelope()), Value::Struct(value)))
            .unwrap()
            .unwrap();
        let schema = out.value_schema.unwrap();
        let after_schema = schema.field("after").unwrap().schema();
        assert!(after_schema.is_optional(), "optionality is kept");
        let d = after_schema.field("d").unwrap().schema();
        assert_eq!(
            (d.name(), d.schema_type(), d.is_optional()),
            (Some(JSON), SchemaType::String, true)
        );
        assert!(!after_schema.field("f").unwrap().schema().is_optional());
        let value = out.value.as_struct().unwrap();
        assert_eq!(value.get("before"), Some(&Value::Null));
        let after = value.get("after").unwrap().as_struct().unwrap();
        assert_eq!(after.get("id"), Some(&Value::Int32(7)));
        assert_eq!(after.get("d"), Some(&Value::from("{ \"values\": [1.0, 2.5] }")));
        assert_eq!(after.get("f"), Some(&Value::from("{ \"values\": [0.1, 3.0] }")));
        assert_eq!(
            after.get("s"),
            Some(&Value::from(
                "{ \"dimensions\": 5, \"vector\": { \"1\": 0.5, \"3\": 2.0 } }"
            ))
        );
    }

    #[test]
    fn records_without_vectors_keep_their_schema_and_values() {
        let schema = Schema::struct_builder()
            .name("x.Value")
            .field("a", Schema::optional_string())
            .field("n", Schema::int64())
            .build();
        let value = Struct::from_values(schema.clone(), vec![Value::Null, Value::Int64(4)]).unwrap();
        let r = Record::new("t", Some(schema), Value::Struct(value));
        let mut t = VectorToJsonConverter::default();
        assert_eq!(t.apply(r.clone()).unwrap(), Some(r));
        let tombstone = Record::new("t", None, Value::Null);
        assert_eq!(t.apply(tombstone.clone()).unwrap(), Some(tombstone));
        let e = t.apply(Record::new("t", None, Value::from("x"))).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Only Struct objects supported for [Value should be a struct], found: java.lang.String"
        );
    }
}
