//! `org.apache.kafka.connect.storage.StringConverter`: values as their Java
//! `toString()` text, read back as optional strings.

use ferry_core::config::Width;
use ferry_core::java;
use ferry_core::java::object::BytesText;
use ferry_core::{
    ConfigDef, ConfigError, ConfigKey, ConfigMap, ConfigType, DataError, Importance, Schema, SchemaAndValue,
    Value,
};

use crate::common::{self, both_converter_traits, ConverterSides, ConverterType};

/// Java class name.
pub const CLASS: &str = "org.apache.kafka.connect.storage.StringConverter";
/// Option naming the character set.
pub const ENCODING_CONFIG: &str = "converter.encoding";

/// Character sets supported by `converter.encoding`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Encoding {
    /// `UTF-8` (the default).
    #[default]
    Utf8,
    /// `US-ASCII`: other characters become `?`.
    Ascii,
    /// `ISO-8859-1`: other characters become `?`.
    Latin1,
    /// Java's `UTF-16`: writes a big-endian byte order mark, reads either order.
    Utf16,
    /// `UTF-16BE`, without a byte order mark.
    Utf16Be,
    /// `UTF-16LE`, without a byte order mark.
    Utf16Le,
}

impl Encoding {
    /// Looks a Java charset name or alias up, ignoring case.
    pub fn for_name(name: &str) -> Option<Self> {
        Some(
            match name.trim().to_ascii_uppercase().replace('_', "-").as_str() {
                "UTF-8" | "UTF8" | "UNICODE-1-1-UTF-8" => Encoding::Utf8,
                "US-ASCII" | "ASCII" | "ISO646-US" | "DEFAULT" => Encoding::Ascii,
                "ISO-8859-1" | "ISO8859-1" | "LATIN1" | "L1" | "ISO-LATIN-1" | "8859-1" | "CP819" => {
                    Encoding::Latin1
                }
                "UTF-16" | "UTF16" => Encoding::Utf16,
                "UTF-16BE" | "UNICODEBIGUNMARKED" | "X-UTF-16BE" => Encoding::Utf16Be,
                "UTF-16LE" | "UNICODELITTLEUNMARKED" | "X-UTF-16LE" => Encoding::Utf16Le,
                _ => return None,
            },
        )
    }

    /// Encodes as Java's `String.getBytes` does (unmappable characters become `?`).
    pub fn encode(self, s: &str, out: &mut Vec<u8>) {
        match self {
            Encoding::Utf8 => out.extend_from_slice(s.as_bytes()),
            Encoding::Ascii => out.extend(s.chars().map(|c| if c.is_ascii() { c as u8 } else { b'?' })),
            Encoding::Latin1 => out.extend(s.chars().map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))),
            Encoding::Utf16 | Encoding::Utf16Be => {
                if self == Encoding::Utf16 {
                    out.extend_from_slice(&[0xFE, 0xFF]);
                }
                s.encode_utf16()
                    .for_each(|u| out.extend_from_slice(&u.to_be_bytes()));
            }
            Encoding::Utf16Le => s
                .encode_utf16()
                .for_each(|u| out.extend_from_slice(&u.to_le_bytes())),
        }
    }

    /// Decodes as Java's `new String(bytes, charset)` does (malformed input becomes U+FFFD).
    pub fn decode(self, data: &[u8]) -> String {
        match self {
            Encoding::Utf8 => String::from_utf8_lossy(data).into_owned(),
            Encoding::Ascii => data
                .iter()
                .map(|&b| if b.is_ascii() { b as char } else { '\u{FFFD}' })
                .collect(),
            Encoding::Latin1 => data.iter().map(|&b| b as char).collect(),
            Encoding::Utf16 => match data {
                [0xFE, 0xFF, rest @ ..] => utf16(rest, u16::from_be_bytes),
                [0xFF, 0xFE, rest @ ..] => utf16(rest, u16::from_le_bytes),
                _ => utf16(data, u16::from_be_bytes),
            },
            Encoding::Utf16Be => utf16(data, u16::from_be_bytes),
            Encoding::Utf16Le => utf16(data, u16::from_le_bytes),
        }
    }
}

fn utf16(data: &[u8], unit: fn([u8; 2]) -> u16) -> String {
    let units = data.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    let mut s: String = char::decode_utf16(units)
        .map(|r| r.unwrap_or('\u{FFFD}'))
        .collect();
    if data.len() % 2 == 1 {
        s.push('\u{FFFD}');
    }
    s
}

/// Kafka's StringConverter.
#[derive(Clone, Debug, Default)]
pub struct StringConverter {
    encoding: Encoding,
}

impl StringConverter {
    /// A UTF-8 converter.
    pub fn new() -> Self {
        StringConverter::default()
    }

    /// The option definitions (`StringConverterConfig.configDef`).
    pub fn definition() -> ConfigDef {
        common::base_config_def().define(
            ConfigKey::new(ENCODING_CONFIG, ConfigType::String)
                .default_value("UTF-8")
                .importance(Importance::High)
                .doc("Name of the Java character set used to turn strings into bytes and back.")
                .width(Width::Medium)
                .display_name("Encoding"),
        )
    }

    fn configure_as(&mut self, config: &ConfigMap, ty: ConverterType) -> Result<(), ConfigError> {
        let parsed = common::parse_with_type(&Self::definition(), config, ty)?;
        let name = parsed.string(ENCODING_CONFIG).unwrap_or("UTF-8");
        self.encoding = Encoding::for_name(name).ok_or_else(|| {
            ConfigError::other(Some(ENCODING_CONFIG), format!("Unsupported encoding {name}"))
        })?;
        Ok(())
    }

    fn serialize(&self, schema: Option<&Schema>, value: &Value, out: &mut Vec<u8>) -> bool {
        out.clear();
        match value {
            Value::Null => false,
            Value::String(s) => {
                self.encoding.encode(s, out);
                true
            }
            // A byte array's `toString` is an identity hash in Java; the bytes themselves are more useful.
            Value::Bytes(b) => {
                out.extend_from_slice(b);
                true
            }
            other => {
                let mut s = String::new();
                java::object::write_value_string(schema, other, BytesText::ContentHash, &mut s);
                self.encoding.encode(&s, out);
                true
            }
        }
    }

    fn deserialize(&self, data: Option<&[u8]>) -> SchemaAndValue {
        SchemaAndValue {
            schema: Some(Schema::optional_string()),
            value: data.map_or(Value::Null, |d| Value::String(self.encoding.decode(d))),
        }
    }
}

impl ConverterSides for StringConverter {
    fn definition(&self) -> ConfigDef {
        Self::definition()
    }
    fn configure_as(&mut self, config: &ConfigMap, ty: ConverterType) -> Result<(), ConfigError> {
        StringConverter::configure_as(self, config, ty)
    }
    fn write(&self, schema: Option<&Schema>, value: &Value, out: &mut Vec<u8>) -> Result<bool, DataError> {
        Ok(self.serialize(schema, value, out))
    }
    fn read(&self, data: Option<&[u8]>) -> Result<SchemaAndValue, DataError> {
        Ok(self.deserialize(data))
    }
}

both_converter_traits!(StringConverter);

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_core::Converter;
    use ferry_core::Struct;

    fn text(c: &StringConverter, schema: Option<&Schema>, v: Value) -> String {
        String::from_utf8(c.from_connect("t", schema, &v).unwrap().unwrap()).unwrap()
    }

    #[test]
    fn writes_java_to_string() {
        let c = StringConverter::new();
        assert_eq!(text(&c, None, Value::from("héllo")), "héllo");
        assert_eq!(text(&c, None, Value::Int32(-12)), "-12");
        assert_eq!(text(&c, None, Value::Float64(1.0e10)), "1.0E10");
        assert_eq!(text(&c, None, Value::Float32(0.5)), "0.5");
        assert_eq!(text(&c, None, Value::Boolean(true)), "true");
        assert_eq!(text(&c, None, Value::Decimal("1.50".parse().unwrap())), "1.50");
        assert_eq!(
            text(
                &c,
                None,
                Value::Array(vec![Value::Int32(1), Value::from("a"), Value::Null])
            ),
            "[1, a, null]"
        );
        assert_eq!(
            text(&c, None, Value::Map(vec![(Value::from("k"), Value::Int64(2))])),
            "{k=2}"
        );
        let schema = Schema::struct_builder()
            .field("a", Schema::int32())
            .field("b", Schema::optional_string())
            .field("c", Schema::string())
            .build();
        let mut s = Struct::new(schema.clone());
        s.put("a", 1).unwrap().put("c", "x").unwrap();
        assert_eq!(text(&c, Some(&schema), Value::Struct(s)), "Struct{a=1,c=x}");
        assert_eq!(
            text(&c, Some(&Schema::date().build()), Value::Int32(0)),
            "Thu Jan 01 00:00:00 UTC 1970"
        );
        assert_eq!(c.from_connect("t", None, &Value::Null).unwrap(), None);
    }

    #[test]
    fn reads_optional_strings() {
        let c = StringConverter::new();
        let sv = c.to_connect("t", Some("abc".as_bytes())).unwrap();
        assert_eq!(sv.schema, Some(Schema::optional_string()));
        assert_eq!(sv.value, Value::from("abc"));
        assert_eq!(c.to_connect("t", None).unwrap().value, Value::Null);
        assert_eq!(
            c.to_connect("t", Some(&[0x61, 0xff])).unwrap().value,
            Value::from("a\u{FFFD}")
        );
    }

    #[test]
    fn honours_encoding() {
        let mut c = StringConverter::new();
        let conf: ConfigMap = [(ENCODING_CONFIG.to_string(), "UTF-16".to_string())]
            .into_iter()
            .collect();
        Converter::configure(&mut c, &conf, false).unwrap();
        assert_eq!(
            c.from_connect("t", None, &Value::from("A")).unwrap(),
            Some(vec![0xFE, 0xFF, 0, 0x41])
        );
        assert_eq!(
            c.to_connect("t", Some(&[0xFF, 0xFE, 0x41, 0])).unwrap().value,
            Value::from("A")
        );
        let conf: ConfigMap = [(ENCODING_CONFIG.to_string(), "latin1".to_string())]
            .into_iter()
            .collect();
        Converter::configure(&mut c, &conf, true).unwrap();
        assert_eq!(
            c.from_connect("t", None, &Value::from("é€")).unwrap(),
            Some(vec![0xE9, b'?'])
        );
        let conf: ConfigMap = [(ENCODING_CONFIG.to_string(), "EBCDIC-X".to_string())]
            .into_iter()
            .collect();
        assert!(Converter::configure(&mut c, &conf, true).is_err());
    }
}
