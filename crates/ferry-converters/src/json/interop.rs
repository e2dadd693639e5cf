//! Schemaless JSON helpers for the runtime's internal topics (offsets, configs,
//! status), which use JsonConverter with `schemas.enable=false`, and conversions
//! between [`ferry_core::Value`] and [`serde_json::Value`].

use ferry_core::{DataError, Value};

use super::decode::read_schemaless;
use super::encode::write_value;
use super::parse::{parse, Node, Number};
use super::JsonOptions;

/// Appends `value` as schemaless JSON, exactly as JsonConverter with
/// `schemas.enable=false` writes it. Fails for values that need a schema
/// (Decimal, Struct).
pub fn write_schemaless_json(value: &Value, out: &mut Vec<u8>) -> Result<(), DataError> {
    write_value(&JsonOptions::schemaless(), None, value, out)
}

/// Parses schemaless JSON as JsonConverter with `schemas.enable=false` does:
/// integral numbers become `Int64`, other numbers `Float64`, objects maps with
/// string keys. Blank input is `Value::Null`.
pub fn parse_schemaless_json(bytes: &[u8]) -> Result<Value, DataError> {
    let parsed = parse(bytes).map_err(|e| {
        DataError::new(format!(
            "Converting byte[] to Kafka Connect data failed due to serialization error: {e}"
        ))
    })?;
    Ok(parsed.root.as_ref().map_or(Value::Null, read_schemaless))
}

/// A serde JSON value as the Connect value JsonConverter would read from it.
pub fn json_to_value(json: &serde_json::Value) -> Value {
    match json {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Boolean(*b),
        serde_json::Value::Number(n) => {
            let text = n.to_string();
            let integral = !text.contains(['.', 'e', 'E']);
            read_schemaless(&Node::Number(Number {
                text: &text,
                integral,
            }))
        }
        serde_json::Value::String(s) => Value::String(s.clone()),
        serde_json::Value::Array(items) => Value::Array(items.iter().map(json_to_value).collect()),
        serde_json::Value::Object(map) => Value::Map(
            map.iter()
                .map(|(k, v)| (Value::String(k.clone()), json_to_value(v)))
                .collect(),
        ),
    }
}

/// A Connect value as serde JSON (schemaless rules). serde_json re-renders
/// numbers, so use [`write_schemaless_json`] when the exact bytes matter.
/// Fails for Decimal and Struct.
pub fn value_to_json(value: &Value) -> Result<serde_json::Value, DataError> {
    let mut out = Vec::new();
    write_schemaless_json(value, &mut out)?;
    serde_json::from_slice(&out).map_err(|e| DataError::new(e.to_string()))
}

/// Appends a serde JSON value the way JsonConverter writes it after reading it
/// back as Connect data (Java number formatting, Jackson escaping).
pub fn write_serde_json(json: &serde_json::Value, out: &mut Vec<u8>) {
    // Values read from JSON never hold Decimal or Struct, so writing cannot fail.
    let _ = write_schemaless_json(&json_to_value(json), out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemaless_round_trip() {
        let bytes = br#"{"a":1,"b":[1.5,"x",null,true],"c":{"d":-3}}"#;
        let v = parse_schemaless_json(bytes).unwrap();
        assert_eq!(v.map_get("a"), Some(&Value::Int64(1)));
        let mut out = Vec::new();
        write_schemaless_json(&v, &mut out).unwrap();
        assert_eq!(out, bytes);
        assert_eq!(parse_schemaless_json(b"").unwrap(), Value::Null);
    }

    #[test]
    fn serde_interop_uses_java_number_text() {
        let j: serde_json::Value = serde_json::from_str(r#"{"lsn":123,"f":1e10,"g":0.5}"#).unwrap();
        let mut out = Vec::new();
        write_serde_json(&j, &mut out);
        assert_eq!(out, br#"{"lsn":123,"f":1.0E10,"g":0.5}"#);
        let v = json_to_value(&j);
        assert_eq!(v.map_get("f"), Some(&Value::Float64(1e10)));
        let back = value_to_json(&v).unwrap();
        assert_eq!(back["lsn"].as_i64(), Some(123));
        assert_eq!(back["f"].as_f64(), Some(1e10));
        assert_eq!(json_to_value(&back), v);
    }
}
