//! `org.apache.kafka.connect.converters.ByteArrayConverter`: raw bytes in and out.

use ferry_core::java;
use ferry_core::{ConfigDef, ConfigError, ConfigMap, DataError, Schema, SchemaAndValue, SchemaType, Value};

use crate::common::{self, both_converter_traits, ConverterSides, ConverterType};

/// Java class name.
pub const CLASS: &str = "org.apache.kafka.connect.converters.ByteArrayConverter";

/// Pass-through converter for `bytes` values.
#[derive(Clone, Copy, Debug, Default)]
pub struct ByteArrayConverter;

impl ByteArrayConverter {
    fn serialize(schema: Option<&Schema>, value: &Value, out: &mut Vec<u8>) -> Result<bool, DataError> {
        out.clear();
        if let Some(s) = schema.filter(|s| s.schema_type() != SchemaType::Bytes) {
            return Err(DataError::new(format!(
                "Invalid schema type for ByteArrayConverter: {}",
                s.schema_type().java_name()
            )));
        }
        match value {
            Value::Null => Ok(false),
            Value::Bytes(b) => {
                out.extend_from_slice(b);
                Ok(true)
            }
            other => Err(DataError::new(format!(
                "ByteArrayConverter is not compatible with objects of type {}",
                java::class_string(other)
            ))),
        }
    }

    fn deserialize(data: Option<&[u8]>) -> SchemaAndValue {
        SchemaAndValue {
            schema: Some(Schema::optional_bytes()),
            value: data.map_or(Value::Null, |d| Value::Bytes(d.to_vec().into())),
        }
    }
}

impl ConverterSides for ByteArrayConverter {
    fn definition(&self) -> ConfigDef {
        common::base_config_def()
    }
    /// Kafka's `ByteArrayConverter.configure` ignores its configuration.
    fn configure_as(&mut self, _config: &ConfigMap, _ty: ConverterType) -> Result<(), ConfigError> {
        Ok(())
    }
    fn write(&self, schema: Option<&Schema>, value: &Value, out: &mut Vec<u8>) -> Result<bool, DataError> {
        Self::serialize(schema, value, out)
    }
    fn read(&self, data: Option<&[u8]>) -> Result<SchemaAndValue, DataError> {
        Ok(Self::deserialize(data))
    }
}

both_converter_traits!(ByteArrayConverter);

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_core::Converter;

    #[test]
    fn passes_bytes_through() {
        let c = ByteArrayConverter;
        let v = Value::Bytes(vec![1u8, 2, 3].into());
        assert_eq!(
            c.from_connect("t", Some(&Schema::bytes()), &v).unwrap(),
            Some(vec![1, 2, 3])
        );
        assert_eq!(c.from_connect("t", None, &v).unwrap(), Some(vec![1, 2, 3]));
        assert_eq!(c.from_connect("t", None, &Value::Null).unwrap(), None);
        let back = c.to_connect("t", Some(&[9, 8])).unwrap();
        assert_eq!(back.schema, Some(Schema::optional_bytes()));
        assert_eq!(back.value, Value::Bytes(vec![9u8, 8].into()));
        assert_eq!(c.to_connect("t", None).unwrap().value, Value::Null);
    }

    #[test]
    fn rejects_other_types_with_kafka_messages() {
        let c = ByteArrayConverter;
        let e = c
            .from_connect("t", Some(&Schema::string()), &Value::from("x"))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "Invalid schema type for ByteArrayConverter: STRING"
        );
        let e = c.from_connect("t", None, &Value::from("x")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "ByteArrayConverter is not compatible with objects of type class java.lang.String"
        );
    }
}
