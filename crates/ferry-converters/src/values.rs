//! The parts of Connect's `Values` utility that SimpleHeaderConverter needs:
//! `convertToString` and (a subset of) `parseString`.

use std::str::FromStr;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bigdecimal::num_bigint::BigInt;
use bigdecimal::BigDecimal;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use ferry_core::java;
use ferry_core::java::collections::write_joined;
use ferry_core::{Schema, SchemaAndValue, Value};

/// `Values.convertToString`: the text SimpleHeaderConverter writes. `None` for null.
pub fn convert_to_string(schema: Option<&Schema>, value: &Value) -> Option<String> {
    if value.is_null() {
        return None;
    }
    let mut out = String::new();
    append(schema, value, false, &mut out);
    Some(out)
}

fn append(schema: Option<&Schema>, value: &Value, embedded: bool, out: &mut String) {
    if let Some(millis) = java::time::logical_millis(schema, value) {
        out.push_str(&java::time::iso_format_for(millis));
        return;
    }
    if java::object::write_primitive_string(value, out) {
        return;
    }
    match value {
        Value::String(s) => {
            if embedded {
                out.push('"');
                out.push_str(&s.replace('\\', "\\\\").replace('"', "\\\""));
                out.push('"');
            } else {
                out.push_str(s);
            }
        }
        Value::Bytes(b) => {
            let encoded = STANDARD.encode(b);
            if embedded {
                out.push('"');
                out.push_str(&encoded);
                out.push('"');
            } else {
                out.push_str(&encoded);
            }
        }
        Value::Array(items) => {
            let item_schema = schema.and_then(Schema::value_schema);
            write_joined(out, ('[', ",", ']'), items, |out, item| {
                append(item_schema, item, true, out)
            });
        }
        Value::Map(entries) => {
            let (ks, vs) = (
                schema.and_then(Schema::key_schema),
                schema.and_then(Schema::value_schema),
            );
            write_joined(out, ('{', ",", '}'), entries, |out, (k, v)| {
                append(ks, k, true, out);
                out.push(':');
                append(vs, v, true, out);
            });
        }
        Value::Struct(st) => {
            write_joined(out, ('{', ",", '}'), st.schema().fields(), |out, field| {
                append(None, &Value::String(field.name().to_string()), true, out);
                out.push(':');
                let v = st.get_or_default(field.name()).unwrap_or(&Value::Null);
                append(Some(field.schema()), v, true, out);
            });
        }
        // Written above.
        _ => {}
    }
}

/// `Values.parseString` for top-level values: `null`, booleans, integers (the
/// smallest fitting type), floats (`float32` when representable, as upstream),
/// big numbers as Decimal, ISO dates/times/timestamps, and otherwise the string.
/// Array and map literals (`[..]`, `{..}`) are not parsed: they come back as strings.
pub fn parse_string(text: &str) -> SchemaAndValue {
    if text.is_empty() {
        return string(text);
    }
    let trimmed = text.trim();
    match trimmed {
        "null" => return SchemaAndValue::NULL,
        "true" => return boolean(true),
        "false" => return boolean(false),
        _ => {}
    }
    // Upstream reads the first token up to a delimiter, except that temporal
    // literals may span `:` delimiters.
    let first = first_token(text);
    let token = first.trim();
    if token.is_empty() {
        return string(first);
    }
    let c = token.as_bytes()[0];
    if c.is_ascii_digit() {
        if let Some(t) = parse_temporal(trimmed).or_else(|| parse_temporal(token)) {
            return t;
        }
    }
    if c.is_ascii_digit() || c == b'+' || c == b'-' {
        if let Some(n) = parse_number(token) {
            return n;
        }
    }
    string(text)
}

fn first_token(text: &str) -> &str {
    let mut escaped = false;
    for (i, ch) in text.char_indices() {
        match ch {
            '\\' => escaped = !escaped,
            ':' | ',' | '{' | '}' | '[' | ']' | '"' if !escaped => {
                return if i == 0 {
                    &text[..ch.len_utf8()]
                } else {
                    &text[..i]
                };
            }
            _ => escaped = false,
        }
    }
    text
}

fn string(s: &str) -> SchemaAndValue {
    SchemaAndValue {
        schema: Some(Schema::string()),
        value: Value::String(s.to_string()),
    }
}

fn boolean(b: bool) -> SchemaAndValue {
    SchemaAndValue {
        schema: Some(Schema::boolean()),
        value: Value::Boolean(b),
    }
}

fn parse_number(token: &str) -> Option<SchemaAndValue> {
    let token = token.strip_prefix('+').unwrap_or(token);
    let decimal = BigDecimal::from_str(token).ok()?;
    let (digits, scale) = decimal.as_bigint_and_exponent();
    let integral = if scale <= 0 {
        (-scale <= 19).then(|| digits.clone() * BigInt::from(10u8).pow((-scale) as u32))
    } else {
        let divisor = BigInt::from(10u8).pow(scale as u32);
        (&digits % &divisor == BigInt::from(0u8)).then(|| &digits / &divisor)
    };
    if let Some(v) = integral.and_then(|i| i64::try_from(i).ok()) {
        let (schema, value) = if let Ok(v) = i8::try_from(v) {
            (Schema::int8(), Value::Int8(v))
        } else if let Ok(v) = i16::try_from(v) {
            (Schema::int16(), Value::Int16(v))
        } else if let Ok(v) = i32::try_from(v) {
            (Schema::int32(), Value::Int32(v))
        } else {
            (Schema::int64(), Value::Int64(v))
        };
        return Some(SchemaAndValue {
            schema: Some(schema),
            value,
        });
    }
    if scale != 0 {
        if let Ok(f) = token.parse::<f32>() {
            if f.is_finite() {
                return Some(SchemaAndValue {
                    schema: Some(Schema::float32()),
                    value: Value::Float32(f),
                });
            }
        }
        if let Ok(d) = token.parse::<f64>() {
            if d.is_finite() {
                return Some(SchemaAndValue {
                    schema: Some(Schema::float64()),
                    value: Value::Float64(d),
                });
            }
        }
    }
    Some(SchemaAndValue {
        schema: Some(Schema::decimal(scale as i32).build()),
        value: Value::Decimal(decimal),
    })
}

fn parse_temporal(token: &str) -> Option<SchemaAndValue> {
    let token = token.replace("\\:", ":");
    match token.len() {
        13 => {
            let t = NaiveTime::parse_from_str(&token, "%H:%M:%S%.3fZ").ok()?;
            let millis = t.signed_duration_since(NaiveTime::MIN).num_milliseconds();
            Some(SchemaAndValue {
                schema: Some(Schema::time().build()),
                value: Value::Int32(millis as i32),
            })
        }
        24 => {
            let t = NaiveDateTime::parse_from_str(&token, "%Y-%m-%dT%H:%M:%S%.3fZ").ok()?;
            Some(SchemaAndValue {
                schema: Some(Schema::timestamp().build()),
                value: Value::Int64(t.and_utc().timestamp_millis()),
            })
        }
        10 => {
            let d = NaiveDate::parse_from_str(&token, "%Y-%m-%d").ok()?;
            let days = d
                .signed_duration_since(NaiveDate::from_ymd_opt(1970, 1, 1)?)
                .num_days();
            Some(SchemaAndValue {
                schema: Some(Schema::date().build()),
                value: Value::Int32(days as i32),
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_core::schema::logical;
    use ferry_core::{SchemaType, Struct};

    fn parsed(s: &str) -> (Option<SchemaType>, Value) {
        let sv = parse_string(s);
        (sv.schema.map(|s| s.schema_type()), sv.value)
    }

    #[test]
    fn infers_smallest_integer_types() {
        assert_eq!(parsed("12"), (Some(SchemaType::Int8), Value::Int8(12)));
        assert_eq!(parsed("-129"), (Some(SchemaType::Int16), Value::Int16(-129)));
        assert_eq!(parsed("40000"), (Some(SchemaType::Int32), Value::Int32(40000)));
        assert_eq!(
            parsed("4398046511104"),
            (Some(SchemaType::Int64), Value::Int64(4398046511104))
        );
        assert_eq!(parsed("1.0"), (Some(SchemaType::Int8), Value::Int8(1)));
        assert_eq!(parsed("+5"), (Some(SchemaType::Int8), Value::Int8(5)));
        assert_eq!(parsed("12,34"), (Some(SchemaType::Int8), Value::Int8(12)));
    }

    #[test]
    fn infers_floats_decimals_and_literals() {
        assert_eq!(parsed("1.5"), (Some(SchemaType::Float32), Value::Float32(1.5)));
        let big = "123456789012345678901234";
        assert_eq!(
            parsed(big),
            (Some(SchemaType::Bytes), Value::Decimal(big.parse().unwrap()))
        );
        assert!(parse_string(big).schema.unwrap().is_logical(logical::DECIMAL));
        assert_eq!(parsed("true"), (Some(SchemaType::Boolean), Value::Boolean(true)));
        assert_eq!(
            parsed(" false "),
            (Some(SchemaType::Boolean), Value::Boolean(false))
        );
        assert_eq!(parsed("true}"), (Some(SchemaType::String), Value::from("true}")));
        assert_eq!(parse_string("null"), SchemaAndValue::NULL);
        assert_eq!(parsed(""), (Some(SchemaType::String), Value::from("")));
        assert_eq!(
            parsed("hello world"),
            (Some(SchemaType::String), Value::from("hello world"))
        );
        assert_eq!(parsed("12abc"), (Some(SchemaType::String), Value::from("12abc")));
    }

    #[test]
    fn infers_temporal_types() {
        let d = parse_string("2024-01-02");
        assert!(d.schema.as_ref().unwrap().is_logical(logical::DATE));
        assert_eq!(d.value, Value::Int32(19724));
        let t = parse_string("12:34:56.789Z");
        assert!(t.schema.as_ref().unwrap().is_logical(logical::TIME));
        assert_eq!(t.value, Value::Int32(45_296_789));
        let ts = parse_string("2024-01-02T12:34:56.789Z");
        assert!(ts.schema.as_ref().unwrap().is_logical(logical::TIMESTAMP));
        assert_eq!(ts.value, Value::Int64(1_704_198_896_789));
    }

    #[test]
    fn converts_to_string_like_values() {
        assert_eq!(convert_to_string(None, &Value::Null), None);
        assert_eq!(convert_to_string(None, &Value::from("a\"b")).unwrap(), "a\"b");
        assert_eq!(convert_to_string(None, &Value::Float64(2.5)).unwrap(), "2.5");
        assert_eq!(
            convert_to_string(None, &Value::Bytes(b"hi".to_vec().into())).unwrap(),
            "aGk="
        );
        assert_eq!(
            convert_to_string(
                None,
                &Value::Array(vec![Value::from("a\"b"), Value::Int32(1), Value::Null])
            )
            .unwrap(),
            r#"["a\"b",1,null]"#
        );
        assert_eq!(
            convert_to_string(None, &Value::Map(vec![(Value::from("k"), Value::Boolean(true))])).unwrap(),
            r#"{"k":true}"#
        );
        let schema = Schema::struct_builder()
            .field("a", Schema::int32())
            .field(
                "b",
                Schema::string()
                    .to_builder()
                    .default_value(Value::from("d"))
                    .build(),
            )
            .build();
        let mut s = Struct::new(schema.clone());
        s.put("a", 7).unwrap();
        assert_eq!(
            convert_to_string(Some(&schema), &Value::Struct(s)).unwrap(),
            r#"{"a":7,"b":"d"}"#
        );
        assert_eq!(
            convert_to_string(Some(&Schema::date().build()), &Value::Int32(19724)).unwrap(),
            "2024-01-02"
        );
        assert_eq!(
            convert_to_string(Some(&Schema::time().build()), &Value::Int32(45_296_789)).unwrap(),
            "12:34:56.789Z"
        );
        assert_eq!(
            convert_to_string(
                Some(&Schema::timestamp().build()),
                &Value::Int64(1_704_198_896_789)
            )
            .unwrap(),
            "2024-01-02T12:34:56.789Z"
        );
    }
}
