//! `org.apache.kafka.connect.converters.{Integer,Long,Short,Float,Double,Boolean}Converter`:
//! fixed-width big-endian encodings of single primitives.

use ferry_core::java;
use ferry_core::{ConfigDef, ConfigError, ConfigMap, DataError, Schema, SchemaAndValue, SchemaType, Value};

use crate::common::{self, both_converter_traits, ConverterSides, ConverterType};

/// Java class name of the int32 converter.
pub const INTEGER_CLASS: &str = "org.apache.kafka.connect.converters.IntegerConverter";
/// Java class name of the int64 converter.
pub const LONG_CLASS: &str = "org.apache.kafka.connect.converters.LongConverter";
/// Java class name of the int16 converter.
pub const SHORT_CLASS: &str = "org.apache.kafka.connect.converters.ShortConverter";
/// Java class name of the float32 converter.
pub const FLOAT_CLASS: &str = "org.apache.kafka.connect.converters.FloatConverter";
/// Java class name of the float64 converter.
pub const DOUBLE_CLASS: &str = "org.apache.kafka.connect.converters.DoubleConverter";
/// Java class name of the boolean converter.
pub const BOOLEAN_CLASS: &str = "org.apache.kafka.connect.converters.BooleanConverter";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
}

/// One of Kafka's number converters.
#[derive(Clone, Copy, Debug)]
pub struct NumberConverter {
    kind: Kind,
}

impl NumberConverter {
    /// `IntegerConverter` (int32).
    pub fn integer() -> Self {
        NumberConverter { kind: Kind::Int32 }
    }
    /// `LongConverter` (int64).
    pub fn long() -> Self {
        NumberConverter { kind: Kind::Int64 }
    }
    /// `ShortConverter` (int16).
    pub fn short() -> Self {
        NumberConverter { kind: Kind::Int16 }
    }
    /// `FloatConverter` (float32).
    pub fn float() -> Self {
        NumberConverter { kind: Kind::Float32 }
    }
    /// `DoubleConverter` (float64).
    pub fn double() -> Self {
        NumberConverter { kind: Kind::Float64 }
    }

    fn type_name(&self) -> &'static str {
        match self.kind {
            Kind::Int16 => "short",
            Kind::Int32 => "integer",
            Kind::Int64 => "long",
            Kind::Float32 => "float",
            Kind::Float64 => "double",
        }
    }

    fn java_class(&self) -> &'static str {
        java::schema_type_class_name(match self.kind {
            Kind::Int16 => SchemaType::Int16,
            Kind::Int32 => SchemaType::Int32,
            Kind::Int64 => SchemaType::Int64,
            Kind::Float32 => SchemaType::Float32,
            Kind::Float64 => SchemaType::Float64,
        })
    }

    fn schema(&self) -> Schema {
        match self.kind {
            Kind::Int16 => Schema::optional_int16(),
            Kind::Int32 => Schema::optional_int32(),
            Kind::Int64 => Schema::optional_int64(),
            Kind::Float32 => Schema::optional_float32(),
            Kind::Float64 => Schema::optional_float64(),
        }
    }

    fn serialize(&self, value: &Value, out: &mut Vec<u8>) -> Result<bool, DataError> {
        out.clear();
        match (self.kind, value) {
            (_, Value::Null) => return Ok(false),
            (Kind::Int16, Value::Int16(v)) => out.extend_from_slice(&v.to_be_bytes()),
            (Kind::Int32, Value::Int32(v)) => out.extend_from_slice(&v.to_be_bytes()),
            (Kind::Int64, Value::Int64(v)) => out.extend_from_slice(&v.to_be_bytes()),
            (Kind::Float32, Value::Float32(v)) => out.extend_from_slice(&v.to_bits().to_be_bytes()),
            (Kind::Float64, Value::Float64(v)) => out.extend_from_slice(&v.to_bits().to_be_bytes()),
            (_, other) => {
                let class = java::class_string(other);
                return Err(DataError::new(format!(
                    "Failed to serialize to {} (was {class}): {class} cannot be cast to class {}",
                    self.type_name(),
                    self.java_class()
                )));
            }
        }
        Ok(true)
    }

    fn deserialize(&self, data: Option<&[u8]>) -> Result<SchemaAndValue, DataError> {
        let schema = Some(self.schema());
        let Some(data) = data else {
            return Ok(SchemaAndValue {
                schema,
                value: Value::Null,
            });
        };
        let (width, who) = match self.kind {
            Kind::Int16 => (2, "ShortDeserializer"),
            Kind::Int32 => (4, "IntegerDeserializer"),
            Kind::Int64 => (8, "LongDeserializer"),
            Kind::Float32 => (4, "Deserializer"),
            Kind::Float64 => (8, "Deserializer"),
        };
        if data.len() != width {
            return Err(DataError::new(format!(
                "Failed to deserialize {}: Size of data received by {who} is not {width}",
                self.type_name()
            )));
        }
        let mut b8 = [0u8; 8];
        b8[8 - width..].copy_from_slice(data);
        let raw = u64::from_be_bytes(b8);
        let value = match self.kind {
            Kind::Int16 => Value::Int16(raw as u16 as i16),
            Kind::Int32 => Value::Int32(raw as u32 as i32),
            Kind::Int64 => Value::Int64(raw as i64),
            Kind::Float32 => Value::Float32(f32::from_bits(raw as u32)),
            Kind::Float64 => Value::Float64(f64::from_bits(raw)),
        };
        Ok(SchemaAndValue { schema, value })
    }
}

/// `BooleanConverter`: one byte, 1 for true and 0 for false.
#[derive(Clone, Copy, Debug, Default)]
pub struct BooleanConverter;

impl BooleanConverter {
    fn serialize(schema: Option<&Schema>, value: &Value, out: &mut Vec<u8>) -> Result<bool, DataError> {
        out.clear();
        if let Some(s) = schema.filter(|s| s.schema_type() != SchemaType::Boolean) {
            return Err(DataError::new(format!(
                "Invalid schema type for BooleanConverter: {}",
                s.schema_type().java_name()
            )));
        }
        match value {
            Value::Null => Ok(false),
            Value::Boolean(b) => {
                out.push(u8::from(*b));
                Ok(true)
            }
            other => Err(DataError::new(format!(
                "BooleanConverter is not compatible with objects of type {}",
                java::class_string(other)
            ))),
        }
    }

    fn deserialize(data: Option<&[u8]>) -> Result<SchemaAndValue, DataError> {
        let value =
            match data {
                None => Value::Null,
                Some([1]) => Value::Boolean(true),
                Some([0]) => Value::Boolean(false),
                Some([b]) => {
                    return Err(DataError::new(format!(
                        "Failed to deserialize boolean: Unexpected byte received by BooleanDeserializer: {}",
                        *b as i8
                    )))
                }
                Some(_) => return Err(DataError::new(
                    "Failed to deserialize boolean: Size of data received by BooleanDeserializer is not 1",
                )),
            };
        Ok(SchemaAndValue {
            schema: Some(Schema::optional_boolean()),
            value,
        })
    }
}

/// `converter.type` is their only option (`ConverterConfig`).
fn configure_base(config: &ConfigMap, ty: ConverterType) -> Result<(), ConfigError> {
    common::parse_with_type(&common::base_config_def(), config, ty).map(|_| ())
}

impl ConverterSides for NumberConverter {
    fn definition(&self) -> ConfigDef {
        common::base_config_def()
    }
    fn configure_as(&mut self, config: &ConfigMap, ty: ConverterType) -> Result<(), ConfigError> {
        configure_base(config, ty)
    }
    fn write(&self, _schema: Option<&Schema>, value: &Value, out: &mut Vec<u8>) -> Result<bool, DataError> {
        self.serialize(value, out)
    }
    fn read(&self, data: Option<&[u8]>) -> Result<SchemaAndValue, DataError> {
        self.deserialize(data)
    }
}

impl ConverterSides for BooleanConverter {
    fn definition(&self) -> ConfigDef {
        common::base_config_def()
    }
    fn configure_as(&mut self, config: &ConfigMap, ty: ConverterType) -> Result<(), ConfigError> {
        configure_base(config, ty)
    }
    fn write(&self, schema: Option<&Schema>, value: &Value, out: &mut Vec<u8>) -> Result<bool, DataError> {
        Self::serialize(schema, value, out)
    }
    fn read(&self, data: Option<&[u8]>) -> Result<SchemaAndValue, DataError> {
        Self::deserialize(data)
    }
}

both_converter_traits!(NumberConverter);
both_converter_traits!(BooleanConverter);

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_core::Converter;

    #[test]
    fn numbers_are_big_endian() {
        let c = NumberConverter::integer();
        assert_eq!(
            c.from_connect("t", None, &Value::Int32(258)).unwrap(),
            Some(vec![0, 0, 1, 2])
        );
        assert_eq!(
            c.to_connect("t", Some(&[0xff, 0xff, 0xff, 0xfe])).unwrap().value,
            Value::Int32(-2)
        );
        assert_eq!(
            c.to_connect("t", None).unwrap().schema,
            Some(Schema::optional_int32())
        );
        let l = NumberConverter::long();
        assert_eq!(
            l.from_connect("t", None, &Value::Int64(1)).unwrap(),
            Some(vec![0, 0, 0, 0, 0, 0, 0, 1])
        );
        let s = NumberConverter::short();
        assert_eq!(
            s.to_connect("t", Some(&[0x80, 0])).unwrap().value,
            Value::Int16(i16::MIN)
        );
        let d = NumberConverter::double();
        let bytes = d.from_connect("t", None, &Value::Float64(1.5)).unwrap().unwrap();
        assert_eq!(bytes, 1.5f64.to_be_bytes());
        assert_eq!(
            d.to_connect("t", Some(&bytes)).unwrap().value,
            Value::Float64(1.5)
        );
        let f = NumberConverter::float();
        assert_eq!(f.from_connect("t", None, &Value::Null).unwrap(), None);
    }

    #[test]
    fn number_errors_use_kafka_wording() {
        let c = NumberConverter::integer();
        assert_eq!(
            c.to_connect("t", Some(&[1, 2])).unwrap_err().to_string(),
            "Failed to deserialize integer: Size of data received by IntegerDeserializer is not 4"
        );
        let e = c
            .from_connect("t", None, &Value::Int64(1))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("Failed to serialize to integer (was class java.lang.Long): "),
            "{e}"
        );
        let f = NumberConverter::float();
        assert_eq!(
            f.to_connect("t", Some(&[])).unwrap_err().to_string(),
            "Failed to deserialize float: Size of data received by Deserializer is not 4"
        );
    }

    #[test]
    fn booleans() {
        let c = BooleanConverter;
        assert_eq!(
            c.from_connect("t", None, &Value::Boolean(true)).unwrap(),
            Some(vec![1])
        );
        assert_eq!(
            c.to_connect("t", Some(&[0])).unwrap().value,
            Value::Boolean(false)
        );
        assert_eq!(
            c.to_connect("t", Some(&[0xff])).unwrap_err().to_string(),
            "Failed to deserialize boolean: Unexpected byte received by BooleanDeserializer: -1"
        );
        assert_eq!(
            c.from_connect("t", Some(&Schema::int8()), &Value::Int8(1))
                .unwrap_err()
                .to_string(),
            "Invalid schema type for BooleanConverter: INT8"
        );
    }
}
