//! Text of a value as Java's `String.valueOf(record.value())` prints it.

use ferry_core::java::object::{write_value_string, BytesText};
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
            write_value_string(None, other, BytesText::Utf8, &mut s);
            out.extend_from_slice(s.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_core::{Schema, Struct};

    fn line(v: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        write_line(v, &mut out);
        out
    }

    #[test]
    fn values_print_as_java_to_string() {
        assert_eq!(line(&Value::Null), b"null");
        assert_eq!(line(&Value::Float64(1e7)), b"1.0E7");
        let schema = Schema::struct_builder().field("id", Schema::int32()).build();
        let mut s = Struct::new(schema);
        s.put("id", 7).unwrap();
        assert_eq!(line(&Value::Struct(s)), b"Struct{id=7}");
    }

    #[test]
    fn top_level_strings_and_bytes_are_raw() {
        assert_eq!(line(&Value::Bytes(vec![0xff, b'a'].into())), [0xff, b'a']);
        assert_eq!(line(&"a\"b".into()), b"a\"b");
        // Nested bytes read as UTF-8 rather than Java's identity hash.
        assert_eq!(
            line(&Value::Array(vec![Value::Bytes(b"hi".to_vec().into())])),
            b"[hi]"
        );
    }
}
