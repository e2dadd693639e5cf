//! The simple cases of Connect's `Values.parseString`, used by `InsertHeader` for `value.literal`.
//!
//! Handled: empty string, `null`, `true`/`false`, integers (narrowest of int8..int64),
//! decimals (float32, float64 or Decimal as upstream chooses), ISO-8601 date, time and
//! timestamp literals. Arrays, maps and text with delimiters stay strings.

use bigdecimal::{BigDecimal, ToPrimitive};
use ferry_core::java::{JavaDateFormat, MILLIS_PER_DAY};
use ferry_core::{Schema, SchemaAndValue, Value};

fn is_java_decimal_syntax(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut digits = i - int_start;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        digits += i - frac_start;
    }
    if digits == 0 {
        return false;
    }
    if i < b.len() && matches!(b[i], b'e' | b'E') {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return false;
        }
    }
    i == b.len()
}

fn parse_temporal(token: &str) -> Option<SchemaAndValue> {
    let token = token.replace("\\:", ":");
    let (pattern, kind) = match token.chars().count() {
        13 => ("HH:mm:ss.SSS'Z'", 't'),
        24 => ("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", 's'),
        10 => ("yyyy-MM-dd", 'd'),
        _ => return None,
    };
    let millis = JavaDateFormat::new(pattern).ok()?.parse(&token)?;
    Some(match kind {
        't' => SchemaAndValue {
            schema: Some(Schema::time().build()),
            value: Value::Int32(millis as i32),
        },
        's' => SchemaAndValue {
            schema: Some(Schema::timestamp().build()),
            value: Value::Int64(millis),
        },
        _ => SchemaAndValue {
            schema: Some(Schema::date().build()),
            value: Value::Int32(millis.div_euclid(MILLIS_PER_DAY) as i32),
        },
    })
}

fn parse_number(token: &str) -> Option<SchemaAndValue> {
    if !is_java_decimal_syntax(token) {
        return None;
    }
    let d: BigDecimal = token.parse().ok()?;
    let (_, scale) = d.as_bigint_and_exponent();
    if d.is_integer() {
        if let Some(v) = d.to_i64() {
            let (schema, value) = if let Ok(x) = i8::try_from(v) {
                (Schema::int8(), Value::Int8(x))
            } else if let Ok(x) = i16::try_from(v) {
                (Schema::int16(), Value::Int16(x))
            } else if let Ok(x) = i32::try_from(v) {
                (Schema::int32(), Value::Int32(x))
            } else {
                (Schema::int64(), Value::Int64(v))
            };
            return Some(SchemaAndValue {
                schema: Some(schema),
                value,
            });
        }
    }
    let f = d.to_f32().unwrap_or(f32::INFINITY);
    let g = d.to_f64().unwrap_or(f64::INFINITY);
    if f.is_finite() && scale != 0 {
        return Some(SchemaAndValue {
            schema: Some(Schema::float32()),
            value: Value::Float32(f),
        });
    }
    if g.is_finite() && scale != 0 {
        return Some(SchemaAndValue {
            schema: Some(Schema::float64()),
            value: Value::Float64(g),
        });
    }
    Some(SchemaAndValue {
        schema: Some(Schema::decimal(scale as i32).build()),
        value: Value::Decimal(d),
    })
}

/// Parses a literal into a schema and value (see the module docs for what is covered).
pub fn parse_string(s: &str) -> SchemaAndValue {
    let string = || SchemaAndValue {
        schema: Some(Schema::string()),
        value: Value::String(s.to_owned()),
    };
    if s.is_empty() {
        return string();
    }
    let t = s.trim();
    match t {
        "null" => return SchemaAndValue::NULL,
        "true" => {
            return SchemaAndValue {
                schema: Some(Schema::boolean()),
                value: Value::Boolean(true),
            }
        }
        "false" => {
            return SchemaAndValue {
                schema: Some(Schema::boolean()),
                value: Value::Boolean(false),
            }
        }
        _ => {}
    }
    let first = t.chars().next().unwrap_or(' ');
    if first.is_ascii_digit() {
        if let Some(v) = parse_temporal(t) {
            return v;
        }
    }
    if t.contains([',', ':', '[', ']', '{', '}', '"']) {
        return string();
    }
    if first.is_ascii_digit() || first == '+' || first == '-' {
        if let Some(v) = parse_number(t) {
            return v;
        }
    }
    string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> (Option<Schema>, Value) {
        let p = parse_string(s);
        (p.schema, p.value)
    }

    #[test]
    fn parses_simple_literals() {
        assert_eq!(
            v("hello"),
            (Some(Schema::string()), Value::String("hello".into()))
        );
        assert_eq!(v(""), (Some(Schema::string()), Value::String("".into())));
        assert_eq!(v("true"), (Some(Schema::boolean()), Value::Boolean(true)));
        assert_eq!(v("null"), (None, Value::Null));
        assert_eq!(v("42"), (Some(Schema::int8()), Value::Int8(42)));
        assert_eq!(v("1000"), (Some(Schema::int16()), Value::Int16(1000)));
        assert_eq!(v("-70000"), (Some(Schema::int32()), Value::Int32(-70000)));
        assert_eq!(v("1.0"), (Some(Schema::int8()), Value::Int8(1)));
        assert_eq!(v("1.5"), (Some(Schema::float32()), Value::Float32(1.5)));
        assert_eq!(
            v("2019-01-02"),
            (Some(Schema::date().build()), Value::Int32(17898))
        );
        assert_eq!(
            v("00:00:01.500Z"),
            (Some(Schema::time().build()), Value::Int32(1500))
        );
        assert_eq!(v("1,2"), (Some(Schema::string()), Value::String("1,2".into())));
        assert_eq!(
            v("12abc"),
            (Some(Schema::string()), Value::String("12abc".into()))
        );
    }
}
