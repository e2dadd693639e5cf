//! `org.apache.kafka.connect.storage.SimpleHeaderConverter`: header values as
//! their `Values.convertToString` text, read back with type inference.

use ferry_core::{
    ConfigDef, ConfigError, ConfigMap, DataError, HeaderConverter, Schema, SchemaAndValue, Value,
};

use ferry_core::java::values::parse_string;

use crate::values;

/// Java class name.
pub const CLASS: &str = "org.apache.kafka.connect.storage.SimpleHeaderConverter";

/// Kafka's default header converter.
#[derive(Clone, Copy, Debug, Default)]
pub struct SimpleHeaderConverter;

impl HeaderConverter for SimpleHeaderConverter {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
    }

    fn configure(&mut self, _config: &ConfigMap) -> Result<(), ConfigError> {
        Ok(())
    }

    fn from_connect_header(
        &self,
        _topic: &str,
        _header_key: &str,
        schema: Option<&Schema>,
        value: &Value,
    ) -> Result<Option<Vec<u8>>, DataError> {
        Ok(values::convert_to_string(schema, value).map(String::into_bytes))
    }

    fn to_connect_header(
        &self,
        _topic: &str,
        _header_key: &str,
        data: Option<&[u8]>,
    ) -> Result<SchemaAndValue, DataError> {
        Ok(match data {
            None => SchemaAndValue::NULL,
            Some(bytes) => parse_string(&String::from_utf8_lossy(bytes)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_core::SchemaType;

    #[test]
    fn round_trips_primitives() {
        let c = SimpleHeaderConverter;
        let bytes = c
            .from_connect_header("t", "h", Some(&Schema::int32()), &Value::Int32(42))
            .unwrap();
        assert_eq!(bytes.as_deref(), Some(&b"42"[..]));
        let back = c.to_connect_header("t", "h", bytes.as_deref()).unwrap();
        assert_eq!(back.schema.map(|s| s.schema_type()), Some(SchemaType::Int8));
        assert_eq!(back.value, Value::Int8(42));
        let s = c.to_connect_header("t", "h", Some(b"some text")).unwrap();
        assert_eq!(s.value, Value::from("some text"));
        assert_eq!(c.to_connect_header("t", "h", None).unwrap(), SchemaAndValue::NULL);
        assert_eq!(c.from_connect_header("t", "h", None, &Value::Null).unwrap(), None);
    }

    /// Connect 4.3 reads only the first value of a header (`Values.parseString("12,34")`
    /// is the int8 12) and types arrays and maps (see ferry-core's parse table).
    #[test]
    fn reads_headers_as_connect_4_3_does() {
        let c = SimpleHeaderConverter;
        let read = |text: &str| c.to_connect_header("t", "h", Some(text.as_bytes())).unwrap();
        assert_eq!(read("12,34").value, Value::Int8(12));
        assert_eq!(read("true}").value, Value::from("true}"));
        let array = read("[1,1000]");
        assert_eq!(array.schema, Some(Schema::array(Schema::int16()).build()));
        assert_eq!(
            array.value,
            Value::Array(vec![Value::Int16(1), Value::Int16(1000)])
        );
        let date = read("2024-13-45");
        assert_eq!(date.schema, Some(Schema::date().build()));
        assert_eq!(date.value, Value::Int32(20133));
        assert_eq!(read("").value, Value::from(""));
        assert_eq!(read("null"), SchemaAndValue::NULL);
    }
}
