//! Text of a value as Java's `String.valueOf(record.value())` prints it.

use std::fmt::{Display, LowerExp, Write};

use ferry_core::Value;

/// Appends the line the sink writes for `value`, without the line separator.
///
/// Strings are written as is and top-level bytes raw; other values follow
/// Java's `toString` (`null`, `[a, b]`, `{k=v}`, `Struct{f=v}`, `1.0E7`).
pub(crate) fn write_line(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::String(s) => out.extend_from_slice(s.as_bytes()),
        Value::Bytes(b) => out.extend_from_slice(b),
        other => {
            let mut s = String::new();
            java_string(other, &mut s);
            out.extend_from_slice(s.as_bytes());
        }
    }
}

/// Java's `toString` of a Connect value (maps in insertion order, nested bytes as UTF-8).
pub(crate) fn java_string(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int8(v) => push(out, v),
        Value::Int16(v) => push(out, v),
        Value::Int32(v) => push(out, v),
        Value::Int64(v) => push(out, v),
        Value::Float32(v) => java_float(*v, f64::from(v.abs()), v.is_nan(), out),
        Value::Float64(v) => java_float(*v, v.abs(), v.is_nan(), out),
        Value::String(s) => out.push_str(s),
        Value::Bytes(b) => out.push_str(&String::from_utf8_lossy(b)),
        Value::Decimal(d) => push(out, d),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                java_string(item, out);
            }
            out.push(']');
        }
        Value::Map(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                java_string(k, out);
                out.push('=');
                java_string(v, out);
            }
            out.push('}');
        }
        Value::Struct(s) => {
            out.push_str("Struct{");
            let mut first = true;
            for (field, v) in s.schema().fields().iter().zip(s.values()) {
                if v.is_null() {
                    continue;
                }
                if !first {
                    out.push(',');
                }
                first = false;
                out.push_str(field.name());
                out.push('=');
                java_string(v, out);
            }
            out.push('}');
        }
    }
}

fn push(out: &mut String, v: impl Display) {
    // Writing to a String cannot fail.
    let _ = write!(out, "{v}");
}

/// `Double.toString`/`Float.toString`: plain between 10^-3 and 10^7, otherwise `d.dE±n`.
fn java_float<F: Display + LowerExp + PartialOrd + Default>(v: F, abs: f64, nan: bool, out: &mut String) {
    if nan {
        out.push_str("NaN");
        return;
    }
    if abs.is_infinite() {
        out.push_str(if v < F::default() { "-Infinity" } else { "Infinity" });
        return;
    }
    if abs == 0.0 || (1e-3..1e7).contains(&abs) {
        let s = v.to_string();
        out.push_str(&s);
        if !s.contains('.') {
            out.push_str(".0");
        }
        return;
    }
    let s = format!("{v:e}");
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    out.push_str(mantissa);
    if !mantissa.contains('.') {
        out.push_str(".0");
    }
    out.push('E');
    out.push_str(exp);
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_core::{Schema, Struct};

    fn text(v: &Value) -> String {
        let mut s = String::new();
        java_string(v, &mut s);
        s
    }

    #[test]
    fn scalars_print_like_java() {
        assert_eq!(text(&Value::Null), "null");
        assert_eq!(text(&Value::Boolean(true)), "true");
        assert_eq!(text(&Value::Int64(-5)), "-5");
        assert_eq!(text(&Value::Float64(1.0)), "1.0");
        assert_eq!(text(&Value::Float64(-0.0)), "-0.0");
        assert_eq!(text(&Value::Float64(0.5)), "0.5");
        assert_eq!(text(&Value::Float64(1e7)), "1.0E7");
        assert_eq!(text(&Value::Float64(1.5e-5)), "1.5E-5");
        assert_eq!(text(&Value::Float64(f64::NEG_INFINITY)), "-Infinity");
        assert_eq!(text(&Value::Float32(0.1)), "0.1");
        assert_eq!(text(&Value::Float32(f32::NAN)), "NaN");
    }

    #[test]
    fn containers_print_like_java() {
        let list = Value::Array(vec![Value::Int32(1), Value::Null, "a".into()]);
        assert_eq!(text(&list), "[1, null, a]");
        let map = Value::Map(vec![("k".into(), Value::Int32(1)), ("j".into(), "v".into())]);
        assert_eq!(text(&map), "{k=1, j=v}");
        let schema = Schema::struct_builder()
            .field("id", Schema::int32())
            .field("nick", Schema::optional_string())
            .field("name", Schema::string())
            .build();
        let mut s = Struct::new(schema);
        s.put("id", 7).unwrap().put("name", "x").unwrap();
        assert_eq!(text(&Value::Struct(s)), "Struct{id=7,name=x}");
    }

    #[test]
    fn top_level_bytes_are_raw() {
        let mut out = Vec::new();
        write_line(&Value::Bytes(vec![0xff, b'a'].into()), &mut out);
        assert_eq!(out, [0xff, b'a']);
    }
}
