//! JSON trees to Connect data (`JsonConverter.asConnectSchema` and `convertToConnect`).

use std::str::FromStr;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use bigdecimal::num_bigint::BigInt;
use bigdecimal::BigDecimal;
use ferry_core::schema::logical;
use ferry_core::{DataError, Schema, SchemaBuilder, SchemaType, Struct, Value};

use super::encode::decimal_scale;
use super::parse::{Node, Number};
use super::JsonOptions;

/// Base64 as Jackson reads it: standard alphabet, padding optional.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

fn get<'n, 'a>(node: &'n Node<'a>, key: &str) -> Option<&'n Node<'a>> {
    match node {
        Node::Object(map) => map.get(key),
        _ => None,
    }
}

/// Parses the JSON form of a schema; JSON `null` is no schema.
pub fn read_schema(opts: &JsonOptions, node: &Node<'_>) -> Result<Option<Schema>, DataError> {
    if matches!(node, Node::Null) {
        return Ok(None);
    }
    let Some(Node::Str(ty)) = get(node, "type") else {
        return Err(DataError::new("Schema must contain 'type' field"));
    };
    let mut builder = match ty.as_ref() {
        "array" => {
            let items = match get(node, "items") {
                None | Some(Node::Null) => {
                    return Err(DataError::new("Array schema did not specify the element type"))
                }
                Some(items) => required_schema(opts, items, "valueSchema")?,
            };
            Schema::array(items)
        }
        "map" => {
            let keys =
                get(node, "keys").ok_or_else(|| DataError::new("Map schema did not specify the key type"))?;
            let values = get(node, "values")
                .ok_or_else(|| DataError::new("Map schema did not specify the value type"))?;
            Schema::map(
                required_schema(opts, keys, "keySchema")?,
                required_schema(opts, values, "valueSchema")?,
            )
        }
        "struct" => {
            let Some(Node::Array(fields)) = get(node, "fields") else {
                return Err(DataError::new(
                    "Struct schema's \"fields\" argument is not an array.",
                ));
            };
            let mut b = Schema::struct_builder();
            for field in fields {
                let Some(Node::Str(name)) = get(field, "field") else {
                    return Err(DataError::new(
                        "Struct schema's field name not specified properly",
                    ));
                };
                let field_schema = required_schema(opts, field, "fieldSchema")?;
                b = b.try_field(name.as_ref(), field_schema)?;
            }
            b
        }
        other => match SchemaType::from_json_name(other) {
            Some(t) => SchemaBuilder::new(t),
            None => return Err(DataError::new(format!("Unknown schema type: {other}"))),
        },
    };

    builder = builder.set_optional(matches!(get(node, "optional"), Some(Node::Bool(true))));
    if let Some(Node::Str(name)) = get(node, "name") {
        builder = builder.name(name.as_ref());
    }
    if let Some(Node::Number(n)) = get(node, "version") {
        if n.integral {
            builder = builder.version(long_value(n) as i32);
        }
    }
    if let Some(Node::Str(doc)) = get(node, "doc") {
        builder = builder.doc(doc.as_ref());
    }
    if let Some(Node::Object(params)) = get(node, "parameters") {
        for (k, v) in params {
            let Node::Str(v) = v else {
                return Err(DataError::new("Schema parameters must have string values."));
            };
            builder = builder.parameter(k.as_ref(), v.as_ref());
        }
    }
    let schema = builder.build();
    match get(node, "default") {
        None => Ok(Some(schema)),
        Some(default) => {
            let value = read_value(opts, Some(&schema), Some(default))?;
            if value.is_null() {
                return Ok(Some(schema));
            }
            Ok(Some(schema.to_builder().default_value(value).build()))
        }
    }
}

fn required_schema(opts: &JsonOptions, node: &Node<'_>, what: &str) -> Result<Schema, DataError> {
    read_schema(opts, node)?.ok_or_else(|| DataError::new(format!("{what} cannot be null.")))
}

/// Converts a JSON value to Connect data following `schema`, or inferring a
/// schemaless value when `schema` is `None`. `node` is `None` when absent.
pub fn read_value(
    opts: &JsonOptions,
    schema: Option<&Schema>,
    node: Option<&Node<'_>>,
) -> Result<Value, DataError> {
    let Some(schema) = schema else {
        return Ok(node.map_or(Value::Null, read_schemaless));
    };
    let node = match node {
        None | Some(Node::Null) => {
            if let Some(d) = schema.default_value().filter(|_| opts.replace_null_with_default) {
                return Ok(d.clone());
            }
            if schema.is_optional() {
                return Ok(Value::Null);
            }
            return Err(DataError::new(format!(
                "Invalid null value for required {} field",
                schema.schema_type().java_name()
            )));
        }
        Some(n) => n,
    };
    if let Some(name) = schema.name() {
        if let Some(v) = read_logical(schema, name, node) {
            return v;
        }
    }
    Ok(match schema.schema_type() {
        SchemaType::Boolean => Value::Boolean(matches!(node, Node::Bool(true))),
        SchemaType::Int8 => Value::Int8(int_value(node) as i8),
        SchemaType::Int16 => Value::Int16(int_value(node) as i16),
        SchemaType::Int32 => Value::Int32(int_value(node) as i32),
        SchemaType::Int64 => Value::Int64(int_value(node)),
        SchemaType::Float32 => Value::Float32(match node {
            Node::Number(n) => n.text.parse().unwrap_or(0.0),
            _ => 0.0,
        }),
        SchemaType::Float64 => Value::Float64(match node {
            Node::Number(n) => n.text.parse().unwrap_or(0.0),
            _ => 0.0,
        }),
        SchemaType::String => match node {
            Node::Str(s) => Value::String(s.clone().into_owned()),
            _ => Value::Null,
        },
        SchemaType::Bytes => match node {
            Node::Str(s) => Value::Bytes(
                BASE64
                    .decode(s.as_bytes())
                    .map_err(|_| DataError::new("Invalid bytes field"))?
                    .into(),
            ),
            _ => Value::Null,
        },
        SchemaType::Array => {
            let items = schema.value_schema();
            let mut out = Vec::new();
            for elem in children(node) {
                out.push(read_value(opts, items, Some(elem))?);
            }
            Value::Array(out)
        }
        SchemaType::Map => read_map(opts, schema, node)?,
        SchemaType::Struct => {
            let Node::Object(obj) = node else {
                return Err(DataError::new(format!(
                    "Structs should be encoded as JSON objects, but found {}",
                    node.type_name()
                )));
            };
            let mut values = Vec::with_capacity(schema.fields().len());
            for field in schema.fields() {
                let v = read_value(opts, Some(field.schema()), obj.get(field.name()))?;
                if v.is_null() && !field.schema().is_optional() {
                    return Err(DataError::new(format!(
                        "Invalid value: null used for required field: \"{}\", schema type: {}",
                        field.name(),
                        field.schema().schema_type().java_name()
                    )));
                }
                values.push(v);
            }
            Value::Struct(Struct::from_values(schema.clone(), values)?)
        }
    })
}

/// Elements a Jackson node iterates over: array items, object values, nothing otherwise.
fn children<'n, 'a>(node: &'n Node<'a>) -> Box<dyn Iterator<Item = &'n Node<'a>> + 'n> {
    match node {
        Node::Array(items) => Box::new(items.iter()),
        Node::Object(map) => Box::new(map.values()),
        _ => Box::new(std::iter::empty()),
    }
}

fn read_map(opts: &JsonOptions, schema: &Schema, node: &Node<'_>) -> Result<Value, DataError> {
    let key_schema = schema.key_schema();
    let value_schema = schema.value_schema();
    let mut entries = Vec::new();
    if key_schema.is_none_or(|k| k.schema_type() == SchemaType::String) {
        let Node::Object(obj) = node else {
            return Err(DataError::new(format!(
                "Maps with string fields should be encoded as JSON objects, but found {}",
                node.type_name()
            )));
        };
        for (k, v) in obj {
            entries.push((
                Value::String(k.clone().into_owned()),
                read_value(opts, value_schema, Some(v))?,
            ));
        }
    } else {
        let Node::Array(items) = node else {
            return Err(DataError::new(format!(
                "Maps with non-string fields should be encoded as JSON array of tuples, but found {}",
                node.type_name()
            )));
        };
        for entry in items {
            let Node::Array(pair) = entry else {
                return Err(DataError::new(format!(
                    "Found invalid map entry instead of array tuple: {}",
                    entry.type_name()
                )));
            };
            if pair.len() != 2 {
                return Err(DataError::new(format!(
                    "Found invalid map entry, expected length 2 but found :{}",
                    pair.len()
                )));
            }
            entries.push((
                read_value(opts, key_schema, Some(&pair[0]))?,
                read_value(opts, value_schema, Some(&pair[1]))?,
            ));
        }
    }
    Ok(Value::Map(entries))
}

fn read_logical(schema: &Schema, name: &str, node: &Node<'_>) -> Option<Result<Value, DataError>> {
    let (label, int32) = match name {
        logical::DECIMAL => return Some(read_decimal(schema, node)),
        logical::DATE => ("Date", true),
        logical::TIME => ("Time", true),
        logical::TIMESTAMP => ("Timestamp", false),
        _ => return None,
    };
    Some(match node {
        Node::Number(n) if int32 && n.integral => match n.text.parse::<i32>() {
            Ok(v) => Ok(Value::Int32(v)),
            Err(_) => Err(DataError::new(format!(
                "Invalid type for {label}, underlying representation should be integer but was NUMBER"
            ))),
        },
        Node::Number(n) if !int32 && n.integral => Ok(Value::Int64(long_value(n))),
        other if int32 => Err(DataError::new(format!(
            "Invalid type for {label}, underlying representation should be integer but was {}",
            other.type_name()
        ))),
        other => Err(DataError::new(format!(
            "Invalid type for {label}, underlying representation should be integral but was {}",
            other.type_name()
        ))),
    })
}

fn read_decimal(schema: &Schema, node: &Node<'_>) -> Result<Value, DataError> {
    match node {
        Node::Number(n) => {
            let d = BigDecimal::from_str(n.text)
                .map_err(|e| DataError::new(format!("Invalid number for Decimal field: {e}")))?;
            // Java's BigDecimal keeps its scale in an int.
            if i32::try_from(d.as_bigint_and_exponent().1).is_err() {
                return Err(DataError::new(format!(
                    "Invalid number for Decimal field: scale out of range in {}",
                    n.text
                )));
            }
            Ok(Value::Decimal(d))
        }
        Node::Str(s) => {
            let invalid = || DataError::new("Invalid bytes for Decimal field");
            let bytes = BASE64.decode(s.as_bytes()).map_err(|_| invalid())?;
            if bytes.is_empty() {
                return Err(invalid());
            }
            let scale = decimal_scale(schema)?;
            Ok(Value::Decimal(BigDecimal::new(
                BigInt::from_signed_bytes_be(&bytes),
                scale as i64,
            )))
        }
        other => Err(DataError::new(format!(
            "Invalid type for Decimal, underlying representation should be numeric or bytes but was {}",
            other.type_name()
        ))),
    }
}

/// Schemaless inference: integral numbers are `Int64`, other numbers `Float64`,
/// objects maps with string keys.
pub fn read_schemaless(node: &Node<'_>) -> Value {
    match node {
        Node::Null => Value::Null,
        Node::Bool(b) => Value::Boolean(*b),
        Node::Number(n) if n.integral => Value::Int64(long_value(n)),
        Node::Number(n) => Value::Float64(n.text.parse().unwrap_or(0.0)),
        Node::Str(s) => Value::String(s.clone().into_owned()),
        Node::Array(items) => Value::Array(items.iter().map(read_schemaless).collect()),
        Node::Object(map) => Value::Map(
            map.iter()
                .map(|(k, v)| (Value::String(k.clone().into_owned()), read_schemaless(v)))
                .collect(),
        ),
    }
}

/// Jackson's `intValue`/`longValue` widened to i64: numbers truncated toward
/// zero and wrapped to 64 bits, anything else 0. Callers narrow with `as`.
fn int_value(node: &Node<'_>) -> i64 {
    match node {
        Node::Number(n) => long_value(n),
        _ => 0,
    }
}

/// `longValue()` of a number node: the low 64 bits of its integer part.
fn long_value(n: &Number<'_>) -> i64 {
    if n.integral {
        if let Ok(v) = n.text.parse::<i64>() {
            return v;
        }
    }
    let Ok(d) = BigDecimal::from_str(n.text) else {
        return 0;
    };
    let (digits, scale) = d.as_bigint_and_exponent();
    let int_part = if scale >= 0 {
        let len = digits.magnitude().to_string().len() as i64;
        if scale >= len {
            return 0;
        }
        digits / BigInt::from(10u8).pow(scale as u32)
    } else {
        if scale.unsigned_abs() >= 64 {
            return 0;
        }
        digits * BigInt::from(10u8).pow(scale.unsigned_abs() as u32)
    };
    low_64(&int_part)
}

fn low_64(v: &BigInt) -> i64 {
    let bytes = v.to_signed_bytes_le();
    let fill = if v.sign() == bigdecimal::num_bigint::Sign::Minus {
        0xff
    } else {
        0
    };
    let mut buf = [fill; 8];
    for (b, src) in buf.iter_mut().zip(bytes.iter()) {
        *b = *src;
    }
    i64::from_le_bytes(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(text: &str) -> Number<'_> {
        Number {
            text,
            integral: !text.contains(['.', 'e', 'E']),
        }
    }

    #[test]
    fn long_value_truncates_and_wraps() {
        assert_eq!(long_value(&num("12")), 12);
        assert_eq!(long_value(&num("0012")), 12);
        assert_eq!(long_value(&num("-7.9")), -7);
        assert_eq!(long_value(&num("1.5e3")), 1500);
        assert_eq!(long_value(&num("1e-5")), 0);
        assert_eq!(long_value(&num("18446744073709551617")), 1);
        assert_eq!(long_value(&num("-18446744073709551617")), -1);
        assert_eq!(long_value(&num("1e100")), 0);
        assert_eq!(long_value(&num("9223372036854775808")), i64::MIN);
        // An exponent of i64's extreme: 0, no overflow in negating the scale.
        assert_eq!(long_value(&num("1e9223372036854775808")), 0);
    }
}
