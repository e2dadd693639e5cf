//! Connect's `Values.convertToString`, what SimpleHeaderConverter writes (it reads back
//! with `ferry_core::java::values::parse_string`).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ferry_core::java;
use ferry_core::java::collections::write_joined;
use ferry_core::{Schema, Value};

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

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_core::Struct;

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
