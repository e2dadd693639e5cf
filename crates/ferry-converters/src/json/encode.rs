//! Connect data to JSON bytes (`JsonConverter.convertToJson` and `asJsonSchema`),
//! written straight into the output buffer.

use ferry_core::java;
use ferry_core::schema::logical;
use ferry_core::{DataError, Schema, SchemaType, Value};

use super::text::{write_base64, write_f32, write_f64, write_i64, write_str};
use super::{DecimalFormat, JsonOptions};

/// Writes `value` as JSON following `schema` (or inferring from the value when `None`).
pub fn write_value(
    opts: &JsonOptions,
    schema: Option<&Schema>,
    value: &Value,
    out: &mut Vec<u8>,
) -> Result<(), DataError> {
    if value.is_null() {
        let Some(schema) = schema else {
            out.extend_from_slice(b"null");
            return Ok(());
        };
        if let Some(default) = schema.default_value().filter(|_| opts.replace_null_with_default) {
            return write_value(opts, Some(schema), default, out);
        }
        if schema.is_optional() {
            out.extend_from_slice(b"null");
            return Ok(());
        }
        return Err(DataError::new(
            "Conversion error: null value for field that is required and has no default value",
        ));
    }

    if let Some(name) = schema.and_then(Schema::name) {
        if let Some(done) = write_logical(opts, schema, name, value, out) {
            return done;
        }
    }

    let ty = match schema {
        Some(s) => s.schema_type(),
        None => match value {
            Value::Decimal(_) => {
                return Err(DataError::new(format!(
                    "Java class {} does not have corresponding schema type.",
                    java::class_string(value)
                )))
            }
            // A non-null value always has an inferred type.
            other => other.inferred_type().unwrap_or(SchemaType::String),
        },
    };
    let mismatch = || {
        let what = schema.map_or("unknown schema", |s| s.schema_type().java_name());
        DataError::new(format!("Invalid type for {what}: {}", java::class_string(value)))
    };

    match (ty, value) {
        (SchemaType::Int8, Value::Int8(v)) => write_i64(*v as i64, out),
        (SchemaType::Int16, Value::Int16(v)) => write_i64(*v as i64, out),
        (SchemaType::Int32, Value::Int32(v)) => write_i64(*v as i64, out),
        (SchemaType::Int64, Value::Int64(v)) => write_i64(*v, out),
        (SchemaType::Float32, Value::Float32(v)) => write_f32(*v, out),
        (SchemaType::Float64, Value::Float64(v)) => write_f64(*v, out),
        (SchemaType::Boolean, Value::Boolean(v)) => {
            out.extend_from_slice(if *v { b"true" } else { b"false" })
        }
        (SchemaType::String, Value::String(s)) => write_str(s, out),
        (SchemaType::Bytes, Value::Bytes(b)) => write_base64(b, out),
        (SchemaType::Bytes, other) => {
            return Err(DataError::new(format!(
                "Invalid type for bytes type: {}",
                java::class_string(other)
            )))
        }
        (SchemaType::Array, Value::Array(items)) => {
            let item_schema = schema.and_then(Schema::value_schema);
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(opts, item_schema, item, out)?;
            }
            out.push(b']');
        }
        (SchemaType::Map, Value::Map(entries)) => write_map(opts, schema, entries, out)?,
        (SchemaType::Struct, Value::Struct(st)) => {
            let Some(schema) = schema.filter(|s| *s == st.schema()) else {
                return Err(DataError::new("Mismatching schema."));
            };
            out.push(b'{');
            for (i, (field, v)) in schema.fields().iter().zip(st.values()).enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(field.name(), out);
                out.push(b':');
                write_value(opts, Some(field.schema()), v, out)?;
            }
            out.push(b'}');
        }
        _ => return Err(mismatch()),
    }
    Ok(())
}

fn write_map(
    opts: &JsonOptions,
    schema: Option<&Schema>,
    entries: &[(Value, Value)],
    out: &mut Vec<u8>,
) -> Result<(), DataError> {
    let key_schema = schema.and_then(Schema::key_schema);
    let value_schema = schema.and_then(Schema::value_schema);
    let object_mode = match key_schema {
        Some(ks) => ks.schema_type() == SchemaType::String,
        None => schema.is_none() && entries.iter().all(|(k, _)| matches!(k, Value::String(_))),
    };
    if object_mode {
        out.push(b'{');
        for (i, (k, v)) in entries.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            match k {
                Value::String(s) => write_str(s, out),
                // Other keys (null, or a default) become the text of their JSON form.
                _ => {
                    let mut key = Vec::new();
                    write_value(opts, key_schema, k, &mut key)?;
                    let text = String::from_utf8_lossy(&key);
                    write_str(text.trim_matches('"'), out)
                }
            }
            out.push(b':');
            write_value(opts, value_schema, v, out)?;
        }
        out.push(b'}');
    } else {
        out.push(b'[');
        for (i, (k, v)) in entries.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.push(b'[');
            write_value(opts, key_schema, k, out)?;
            out.push(b',');
            write_value(opts, value_schema, v, out)?;
            out.push(b']');
        }
        out.push(b']');
    }
    Ok(())
}

/// Writes a logical-type value; `None` when `name` is not a logical type.
fn write_logical(
    opts: &JsonOptions,
    schema: Option<&Schema>,
    name: &str,
    value: &Value,
    out: &mut Vec<u8>,
) -> Option<Result<(), DataError>> {
    let schema = schema?;
    let (label, expected) = match name {
        logical::DECIMAL => {
            let Value::Decimal(d) = value else {
                return Some(Err(DataError::new(format!(
                    "Invalid type for Decimal, expected BigDecimal but was {}",
                    java::class_string(value)
                ))));
            };
            return Some(match opts.decimal_format {
                DecimalFormat::Numeric => {
                    out.extend_from_slice(java::bigdecimal_to_string(d).as_bytes());
                    Ok(())
                }
                DecimalFormat::Base64 => decimal_scale(schema).and_then(|scale| {
                    let (unscaled, value_scale) = d.as_bigint_and_exponent();
                    if value_scale != scale as i64 {
                        return Err(DataError::new(format!(
                            "Decimal value has mismatching scale for given Decimal schema. Schema has scale {scale}, value has scale {value_scale}."
                        )));
                    }
                    write_base64(&unscaled.to_signed_bytes_be(), out);
                    Ok(())
                }),
            });
        }
        logical::DATE => ("Date", "Date"),
        logical::TIME => ("Time", "Date"),
        logical::TIMESTAMP => ("Timestamp", "Date"),
        _ => return None,
    };
    Some(match value.as_i64() {
        Some(v) => {
            write_i64(v, out);
            Ok(())
        }
        None => Err(DataError::new(format!(
            "Invalid type for {label}, expected {expected} but was {}",
            java::class_string(value)
        ))),
    })
}

/// The scale parameter of a Decimal schema (`Decimal.scale`).
pub fn decimal_scale(schema: &Schema) -> Result<i32, DataError> {
    let raw = schema
        .parameter(logical::DECIMAL_SCALE)
        .ok_or_else(|| DataError::new("Invalid Decimal schema: scale parameter not found."))?;
    raw.parse().map_err(|_| {
        DataError::new(format!(
            "Invalid scale parameter found in Decimal schema: For input string: \"{raw}\""
        ))
    })
}

/// Writes the JSON form of a schema (`asJsonSchema`): `type`, then `items` /
/// `keys`+`values` / `fields`, then `optional`, `name`, `version`, `doc`,
/// `parameters`, `default`.
pub fn write_schema(opts: &JsonOptions, schema: &Schema, out: &mut Vec<u8>) -> Result<(), DataError> {
    write_schema_body(opts, schema, out)?;
    out.push(b'}');
    Ok(())
}

/// Writes a schema object without its closing brace, so a struct field can append `"field"`.
fn write_schema_body(opts: &JsonOptions, schema: &Schema, out: &mut Vec<u8>) -> Result<(), DataError> {
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(schema.schema_type().json_name().as_bytes());
    out.push(b'"');
    match schema.schema_type() {
        SchemaType::Array => {
            out.extend_from_slice(b",\"items\":");
            write_optional_schema(opts, schema.value_schema(), out)?;
        }
        SchemaType::Map => {
            out.extend_from_slice(b",\"keys\":");
            write_optional_schema(opts, schema.key_schema(), out)?;
            out.extend_from_slice(b",\"values\":");
            write_optional_schema(opts, schema.value_schema(), out)?;
        }
        SchemaType::Struct => {
            out.extend_from_slice(b",\"fields\":[");
            for (i, field) in schema.fields().iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_schema_body(opts, field.schema(), out)?;
                out.extend_from_slice(b",\"field\":");
                write_str(field.name(), out);
                out.push(b'}');
            }
            out.push(b']');
        }
        _ => {}
    }
    out.extend_from_slice(if schema.is_optional() {
        b",\"optional\":true"
    } else {
        b",\"optional\":false"
    });
    if let Some(name) = schema.name() {
        out.extend_from_slice(b",\"name\":");
        write_str(name, out);
    }
    if let Some(version) = schema.version() {
        out.extend_from_slice(b",\"version\":");
        write_i64(version as i64, out);
    }
    if let Some(doc) = schema.doc() {
        out.extend_from_slice(b",\"doc\":");
        write_str(doc, out);
    }
    if let Some(params) = schema.parameters() {
        out.extend_from_slice(b",\"parameters\":{");
        for (i, (k, v)) in params.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_str(k, out);
            out.push(b':');
            write_str(v, out);
        }
        out.push(b'}');
    }
    if let Some(default) = schema.default_value() {
        out.extend_from_slice(b",\"default\":");
        write_value(opts, Some(schema), default, out)?;
    }
    Ok(())
}

fn write_optional_schema(
    opts: &JsonOptions,
    schema: Option<&Schema>,
    out: &mut Vec<u8>,
) -> Result<(), DataError> {
    match schema {
        Some(s) => write_schema(opts, s, out),
        None => {
            out.extend_from_slice(b"null");
            Ok(())
        }
    }
}
