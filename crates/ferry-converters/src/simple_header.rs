//! `org.apache.kafka.connect.storage.SimpleHeaderConverter`: header values as
//! their `Values.convertToString` text, read back with type inference.

use ferry_core::{
    ConfigDef, ConfigError, ConfigMap, DataError, HeaderConverter, Schema, SchemaAndValue, Value,
};

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
            Some(bytes) => values::parse_string(&String::from_utf8_lossy(bytes)),
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
}
