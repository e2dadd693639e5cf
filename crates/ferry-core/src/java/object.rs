//! `String.valueOf(Object)` of a Connect value, as `StringConverter` and `FileStreamSink`
//! print values: `[a, b]`, `{k=v}`, `Struct{f=v}`, Java's number text, and logical
//! Date/Time/Timestamp values as `java.util.Date` prints them (in UTC).

use std::fmt::Write as _;

use super::collections::write_joined;
use super::{number, time};
use crate::{Schema, Value};

/// How a byte array prints, since Java's `[B@` and an identity hash carry no content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BytesText {
    /// `[B@` and a hash of the content: Java's shape, deterministic.
    ContentHash,
    /// The bytes read as UTF-8 (invalid sequences become U+FFFD).
    Utf8,
}

/// Appends Java's `toString()` of `value` (described by `schema`, when known) to `out`.
pub fn write_value_string(schema: Option<&Schema>, value: &Value, bytes: BytesText, out: &mut String) {
    if let Some(text) = time::logical_millis(schema, value).and_then(time::date_to_string) {
        out.push_str(&text);
        return;
    }
    if write_primitive_string(value, out) {
        return;
    }
    match value {
        Value::String(s) => out.push_str(s),
        Value::Bytes(b) => match bytes {
            BytesText::ContentHash => {
                let h = b
                    .iter()
                    .fold(0x811c_9dc5u32, |h, &x| (h ^ x as u32).wrapping_mul(0x0100_0193));
                let _ = write!(out, "[B@{h:x}");
            }
            BytesText::Utf8 => out.push_str(&String::from_utf8_lossy(b)),
        },
        Value::Array(items) => {
            let item_schema = schema.and_then(Schema::value_schema);
            write_joined(out, ('[', ", ", ']'), items, |out, item| {
                write_value_string(item_schema, item, bytes, out)
            });
        }
        Value::Map(entries) => {
            let (ks, vs) = (
                schema.and_then(Schema::key_schema),
                schema.and_then(Schema::value_schema),
            );
            write_joined(out, ('{', ", ", '}'), entries, |out, (k, v)| {
                write_value_string(ks, k, bytes, out);
                out.push('=');
                write_value_string(vs, v, bytes, out);
            });
        }
        Value::Struct(st) => {
            // `Struct.toString` lists the fields that are set, without spaces.
            out.push_str("Struct");
            let set = st
                .schema()
                .fields()
                .iter()
                .zip(st.values())
                .filter(|(_, v)| !v.is_null());
            write_joined(out, ('{', ",", '}'), set, |out, (field, v)| {
                out.push_str(field.name());
                out.push('=');
                write_value_string(Some(field.schema()), v, bytes, out);
            });
        }
        // Written above.
        _ => {}
    }
}

/// Appends Java's `toString()` of a null, boolean, number or decimal and returns `true`;
/// `false` (nothing written) for strings, bytes and containers.
pub fn write_primitive_string(value: &Value, out: &mut String) -> bool {
    match value {
        Value::Null => out.push_str("null"),
        Value::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int8(v) => push_display(out, v),
        Value::Int16(v) => push_display(out, v),
        Value::Int32(v) => push_display(out, v),
        Value::Int64(v) => push_display(out, v),
        Value::Float32(v) => out.push_str(&number::float_to_string(*v)),
        Value::Float64(v) => out.push_str(&number::double_to_string(*v)),
        Value::Decimal(d) => out.push_str(&number::bigdecimal_to_string(d)),
        _ => return false,
    }
    true
}

fn push_display(out: &mut String, v: impl std::fmt::Display) {
    // Writing to a String cannot fail.
    let _ = write!(out, "{v}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Struct;

    fn text(schema: Option<&Schema>, v: &Value) -> String {
        let mut s = String::new();
        write_value_string(schema, v, BytesText::Utf8, &mut s);
        s
    }

    #[test]
    fn scalars_print_like_java() {
        assert_eq!(text(None, &Value::Null), "null");
        assert_eq!(text(None, &Value::Boolean(true)), "true");
        assert_eq!(text(None, &Value::Int64(-5)), "-5");
        assert_eq!(text(None, &Value::Float64(1.0)), "1.0");
        assert_eq!(text(None, &Value::Float64(-0.0)), "-0.0");
        assert_eq!(text(None, &Value::Float64(0.5)), "0.5");
        assert_eq!(text(None, &Value::Float64(f64::NEG_INFINITY)), "-Infinity");
        assert_eq!(text(None, &Value::Float64(1e7)), "1.0E7");
        assert_eq!(text(None, &Value::Float64(1.5e-5)), "1.5E-5");
        assert_eq!(text(None, &Value::Float32(0.1)), "0.1");
        assert_eq!(text(None, &Value::Float32(f32::NAN)), "NaN");
        assert_eq!(text(None, &Value::Decimal("1.56E+4".parse().unwrap())), "1.56E+4");
    }

    #[test]
    fn primitives_are_written_and_the_rest_left() {
        let mut out = String::new();
        assert!(write_primitive_string(&Value::Int16(-3), &mut out));
        assert!(write_primitive_string(&Value::Null, &mut out));
        assert_eq!(out, "-3null");
        for other in [
            Value::from("s"),
            Value::Array(vec![]),
            Value::Bytes(vec![1].into()),
        ] {
            assert!(!write_primitive_string(&other, &mut out));
        }
        assert_eq!(out, "-3null", "nothing written for the rest");
    }

    #[test]
    fn containers_print_like_java() {
        let list = Value::Array(vec![Value::Int32(1), Value::Null, "a".into()]);
        assert_eq!(text(None, &list), "[1, null, a]");
        let map = Value::Map(vec![("k".into(), Value::Int32(1)), ("j".into(), "v".into())]);
        assert_eq!(text(None, &map), "{k=1, j=v}");
        let schema = Schema::struct_builder()
            .field("id", Schema::int32())
            .field("nick", Schema::optional_string())
            .field("name", Schema::string())
            .build();
        let mut s = Struct::new(schema);
        s.put("id", 7).unwrap().put("name", "x").unwrap();
        assert_eq!(text(None, &Value::Struct(s)), "Struct{id=7,name=x}");
    }

    #[test]
    fn logical_dates_print_as_java_util_date() {
        let date = Schema::date().build();
        assert_eq!(
            text(Some(&date), &Value::Int32(1)),
            "Fri Jan 02 00:00:00 UTC 1970"
        );
        let ts = Schema::timestamp().build();
        let list = Schema::array(ts).build();
        assert_eq!(
            text(Some(&list), &Value::Array(vec![Value::Int64(1_700_000_000_000)])),
            "[Tue Nov 14 22:13:20 UTC 2023]"
        );
    }

    #[test]
    fn bytes_print_by_choice() {
        let v = Value::Array(vec![Value::Bytes(b"hi".to_vec().into())]);
        assert_eq!(text(None, &v), "[hi]");
        let mut hashed = String::new();
        write_value_string(None, &v, BytesText::ContentHash, &mut hashed);
        assert!(hashed.starts_with("[[B@") && hashed.ends_with(']'), "{hashed}");
        let mut again = String::new();
        write_value_string(None, &v, BytesText::ContentHash, &mut again);
        assert_eq!(hashed, again, "the same content prints the same");
    }
}
