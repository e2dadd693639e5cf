//! Debezium's `io.debezium.converters.ByteArrayConverter` and
//! `io.debezium.converters.BinaryDataConverter`: bytes pass through as they are (an outbox
//! payload serialized by the application), anything else goes to an optional delegate
//! converter named by `delegate.converter.type`.
//!
//! The two differ on `java.nio.ByteBuffer` values, which is what Debezium's connectors give
//! for binary columns (and what Ferry's [`Value::Bytes`] stands for in a source pipeline):
//! BinaryDataConverter passes them through, ByteArrayConverter accepts only `byte[]` and
//! hands a buffer to the delegate (or fails without one), as upstream.

use ferry_core::java::object::{write_value_string, BytesText};
use ferry_core::{
    ConfigDef, ConfigError, ConfigKey, ConfigMap, ConfigType, Converter, DataError, HeaderConverter,
    Importance, PluginFactory, Schema, SchemaAndValue, SchemaType, Value,
};

use crate::common;

/// Java class name of Debezium's ByteArrayConverter.
pub const BYTE_ARRAY_CLASS: &str = "io.debezium.converters.ByteArrayConverter";
/// Java class name of Debezium's BinaryDataConverter.
pub const BINARY_DATA_CLASS: &str = "io.debezium.converters.BinaryDataConverter";
/// The option naming the converter that handles values that are not bytes.
pub const DELEGATE_CONVERTER_TYPE_CONFIG: &str = "delegate.converter.type";

/// Debezium's pass-through bytes converters.
pub struct DebeziumBytesConverter {
    delegate: Option<Box<dyn Converter>>,
    /// BinaryDataConverter: bytes (a `ByteBuffer`) pass through; ByteArrayConverter: they
    /// go to the delegate.
    passes_buffers: bool,
}

impl DebeziumBytesConverter {
    /// Debezium's ByteArrayConverter, without delegate (as before `configure`).
    pub fn byte_array() -> Self {
        DebeziumBytesConverter {
            delegate: None,
            passes_buffers: false,
        }
    }

    /// Debezium's BinaryDataConverter, without delegate (as before `configure`).
    pub fn binary_data() -> Self {
        DebeziumBytesConverter {
            delegate: None,
            passes_buffers: true,
        }
    }

    /// `converter.type` plus `delegate.converter.type` (no default, not required).
    pub fn definition() -> ConfigDef {
        common::base_config_def().define(
            ConfigKey::new(DELEGATE_CONVERTER_TYPE_CONFIG, ConfigType::String)
                .default_null()
                .importance(Importance::Low)
                .doc("Class of the converter that serializes values that are not bytes."),
        )
    }

    fn delegate_or_error(
        &self,
        topic: &str,
        schema: Option<&Schema>,
        value: &Value,
    ) -> Result<&dyn Converter, DataError> {
        self.delegate.as_deref().ok_or_else(|| {
            let mut text = String::new();
            match value {
                Value::Null => text.push_str("null"),
                // A heap ByteBuffer as Debezium's connectors wrap a column's bytes.
                Value::Bytes(b) => text.push_str(&format!(
                    "java.nio.HeapByteBuffer[pos=0 lim={0} cap={0}]",
                    b.len()
                )),
                _ => write_value_string(schema, value, BytesText::ContentHash, &mut text),
            }
            DataError::new(format!(
                "A {topic} of type '{text}' requires a {DELEGATE_CONVERTER_TYPE_CONFIG} to be configured"
            ))
        })
    }

    fn write(
        &self,
        topic: &str,
        schema: Option<&Schema>,
        value: &Value,
        out: &mut Vec<u8>,
    ) -> Result<bool, DataError> {
        out.clear();
        let bytes_schema = schema.is_none_or(|s| s.schema_type() == SchemaType::Bytes);
        match value {
            Value::Bytes(b) if bytes_schema && self.passes_buffers => {
                out.extend_from_slice(b);
                Ok(true)
            }
            Value::Null if bytes_schema => Ok(false),
            _ => self
                .delegate_or_error(topic, schema, value)?
                .from_connect_into(topic, schema, value, out),
        }
    }

    fn read(data: Option<&[u8]>) -> SchemaAndValue {
        SchemaAndValue {
            schema: Some(Schema::optional_bytes()),
            value: data.map_or(Value::Null, |d| Value::Bytes(d.to_vec().into())),
        }
    }
}

/// A converter of this crate by exact class name, as Debezium's `Instantiator` loads one.
fn instantiate_converter(class: &str) -> Result<Box<dyn Converter>, ConfigError> {
    let desc = crate::plugins()
        .into_iter()
        .find(|p| p.class == class)
        .ok_or_else(|| {
            ConfigError::other(
                Some(DELEGATE_CONVERTER_TYPE_CONFIG),
                format!("Unable to find class {class}"),
            )
        })?;
    match desc.factory {
        PluginFactory::Converter(make) => Ok(make()),
        _ => Err(ConfigError::other(
            Some(DELEGATE_CONVERTER_TYPE_CONFIG),
            format!("class {class} cannot be cast to class org.apache.kafka.connect.storage.Converter"),
        )),
    }
}

impl Converter for DebeziumBytesConverter {
    fn config_def(&self) -> ConfigDef {
        Self::definition()
    }

    /// Debezium reads `delegate.converter.type` raw (no parsing against the definition) and
    /// configures the delegate with the options under `delegate.converter.type.`.
    fn configure(&mut self, config: &ConfigMap, is_key: bool) -> Result<(), ConfigError> {
        self.delegate = None;
        let Some(class) = config.get(DELEGATE_CONVERTER_TYPE_CONFIG) else {
            return Ok(());
        };
        let mut delegate = instantiate_converter(class)?;
        let prefix = format!("{DELEGATE_CONVERTER_TYPE_CONFIG}.");
        let options: ConfigMap = config
            .iter()
            .filter_map(|(k, v)| k.strip_prefix(&prefix).map(|k| (k.to_owned(), v.clone())))
            .collect();
        delegate.configure(&options, is_key)?;
        self.delegate = Some(delegate);
        Ok(())
    }

    fn from_connect_into(
        &self,
        topic: &str,
        schema: Option<&Schema>,
        value: &Value,
        out: &mut Vec<u8>,
    ) -> Result<bool, DataError> {
        self.write(topic, schema, value, out)
    }

    fn to_connect(&self, _topic: &str, data: Option<&[u8]>) -> Result<SchemaAndValue, DataError> {
        Ok(Self::read(data))
    }
}

/// As a header converter Debezium's `configure(Map)` does nothing, so there is never a delegate.
impl HeaderConverter for DebeziumBytesConverter {
    fn config_def(&self) -> ConfigDef {
        Self::definition()
    }

    fn configure(&mut self, _config: &ConfigMap) -> Result<(), ConfigError> {
        self.delegate = None;
        Ok(())
    }

    fn from_connect_header(
        &self,
        topic: &str,
        _header_key: &str,
        schema: Option<&Schema>,
        value: &Value,
    ) -> Result<Option<Vec<u8>>, DataError> {
        let mut out = Vec::new();
        Ok(self.write(topic, schema, value, &mut out)?.then_some(out))
    }

    fn to_connect_header(
        &self,
        _topic: &str,
        _header_key: &str,
        data: Option<&[u8]>,
    ) -> Result<SchemaAndValue, DataError> {
        Ok(Self::read(data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_core::Struct;

    fn configured(options: &[(&str, &str)]) -> Result<DebeziumBytesConverter, ConfigError> {
        let mut c = DebeziumBytesConverter::binary_data();
        let map: ConfigMap = options
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Converter::configure(&mut c, &map, false)?;
        Ok(c)
    }

    #[test]
    fn bytes_pass_through_and_read_back_as_optional_bytes() {
        let c = configured(&[]).unwrap();
        let v = Value::Bytes(vec![0u8, 255, 7].into());
        assert_eq!(
            c.from_connect("t", Some(&Schema::bytes()), &v).unwrap(),
            Some(vec![0, 255, 7])
        );
        assert_eq!(c.from_connect("t", None, &v).unwrap(), Some(vec![0, 255, 7]));
        assert_eq!(
            c.from_connect("t", Some(&Schema::optional_bytes()), &Value::Null)
                .unwrap(),
            None
        );
        assert_eq!(c.from_connect("t", None, &Value::Null).unwrap(), None);
        let back = c.to_connect("t", Some(b"ab")).unwrap();
        assert_eq!(back.schema, Some(Schema::optional_bytes()));
        assert_eq!(back.value, Value::Bytes(b"ab".to_vec().into()));
        assert_eq!(c.to_connect("t", None).unwrap().value, Value::Null);
    }

    #[test]
    fn byte_array_converter_hands_buffers_to_the_delegate() {
        let mut c = DebeziumBytesConverter::byte_array();
        Converter::configure(&mut c, &ConfigMap::new(), false).unwrap();
        let v = Value::Bytes(vec![0u8, 255, 7].into());
        let e = c
            .from_connect("outbox.event.Order", Some(&Schema::optional_bytes()), &v)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "A outbox.event.Order of type 'java.nio.HeapByteBuffer[pos=0 lim=3 cap=3]' requires a \
             delegate.converter.type to be configured"
        );
        assert_eq!(
            c.from_connect("t", Some(&Schema::optional_bytes()), &Value::Null)
                .unwrap(),
            None
        );
        let map: ConfigMap = [(
            "delegate.converter.type",
            "org.apache.kafka.connect.converters.ByteArrayConverter",
        )]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        Converter::configure(&mut c, &map, false).unwrap();
        assert_eq!(c.from_connect("t", None, &v).unwrap(), Some(vec![0, 255, 7]));
    }

    #[test]
    fn other_values_need_a_delegate() {
        let c = configured(&[]).unwrap();
        let e = c
            .from_connect("orders", Some(&Schema::string()), &Value::from("x"))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "A orders of type 'x' requires a delegate.converter.type to be configured"
        );
        // A null with a schema that is not bytes goes to the delegate too.
        let e = c
            .from_connect("t", Some(&Schema::optional_string()), &Value::Null)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "A t of type 'null' requires a delegate.converter.type to be configured"
        );
        let schema = Schema::struct_builder().field("id", Schema::int32()).build();
        let mut s = Struct::new(schema.clone());
        s.put("id", Value::Int32(5)).unwrap();
        let e = c.from_connect("t", Some(&schema), &Value::Struct(s)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "A t of type 'Struct{id=5}' requires a delegate.converter.type to be configured"
        );
    }

    #[test]
    fn the_delegate_gets_its_prefixed_options() {
        let c = configured(&[
            (
                "delegate.converter.type",
                "org.apache.kafka.connect.json.JsonConverter",
            ),
            ("delegate.converter.type.schemas.enable", "false"),
        ])
        .unwrap();
        let schema = Schema::struct_builder().field("id", Schema::int32()).build();
        let mut s = Struct::new(schema.clone());
        s.put("id", Value::Int32(5)).unwrap();
        assert_eq!(
            c.from_connect("t", Some(&schema), &Value::Struct(s)).unwrap(),
            Some(br#"{"id":5}"#.to_vec())
        );
        // Bytes still pass through untouched.
        let v = Value::Bytes(b"raw".to_vec().into());
        assert_eq!(c.from_connect("t", None, &v).unwrap(), Some(b"raw".to_vec()));
    }

    #[test]
    fn an_unknown_delegate_is_a_configuration_error() {
        let e = configured(&[("delegate.converter.type", "com.example.Nope")])
            .err()
            .unwrap();
        assert_eq!(e.to_string(), "Unable to find class com.example.Nope");
        let e = configured(&[(
            "delegate.converter.type",
            "org.apache.kafka.connect.storage.SimpleHeaderConverter",
        )])
        .err()
        .unwrap();
        assert!(e.to_string().contains("cannot be cast"), "{e}");
    }

    #[test]
    fn as_header_converter_there_is_no_delegate() {
        let mut c = DebeziumBytesConverter::binary_data();
        let map: ConfigMap = [(
            "delegate.converter.type".to_string(),
            "org.apache.kafka.connect.json.JsonConverter".to_string(),
        )]
        .into_iter()
        .collect();
        HeaderConverter::configure(&mut c, &map).unwrap();
        let v = Value::Bytes(b"h".to_vec().into());
        assert_eq!(
            c.from_connect_header("t", "k", None, &v).unwrap(),
            Some(b"h".to_vec())
        );
        assert!(c
            .from_connect_header("t", "k", Some(&Schema::string()), &Value::from("s"))
            .is_err());
    }
}
