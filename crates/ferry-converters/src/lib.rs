//! Kafka Connect converters for Ferry, registered under Kafka's class names and
//! producing the same bytes: JsonConverter, StringConverter, ByteArrayConverter,
//! SimpleHeaderConverter and the primitive number/boolean converters; and Debezium's
//! CloudEventsConverter, ByteArrayConverter and BinaryDataConverter.

#![warn(missing_docs)]

pub mod bytearray;
pub mod cloudevents;
mod common;
pub mod debezium_bytes;
pub mod json;
pub mod number;
pub mod simple_header;
pub mod string;
pub mod values;

use ferry_core::{HeaderConverter, PluginDescriptor, PluginFactory};

pub use common::{ConverterType, TYPE_CONFIG};
pub use json::{
    json_to_value, parse_schemaless_json, value_to_json, write_schemaless_json, write_serde_json,
    DecimalFormat, JsonConverter, JsonOptions,
};

fn descriptor(class: &'static str, factory: PluginFactory) -> PluginDescriptor {
    PluginDescriptor {
        class,
        version: ferry_core::versions::KAFKA_CONNECT,
        factory,
    }
}

/// Debezium's converters answer with Debezium's version.
fn debezium_descriptor(class: &'static str, factory: PluginFactory) -> PluginDescriptor {
    PluginDescriptor {
        class,
        version: ferry_core::versions::DEBEZIUM,
        factory,
    }
}

/// Every converter and header converter of this crate. Classes that Kafka
/// implements as both `Converter` and `HeaderConverter` are registered once, as
/// converters; [`header_converter`] builds their header-converter side.
pub fn plugins() -> Vec<PluginDescriptor> {
    use PluginFactory::{Converter as C, HeaderConverter as H};
    vec![
        descriptor(json::CLASS, C(|| Box::new(JsonConverter::new()))),
        descriptor(string::CLASS, C(|| Box::new(string::StringConverter::new()))),
        descriptor(bytearray::CLASS, C(|| Box::new(bytearray::ByteArrayConverter))),
        descriptor(
            simple_header::CLASS,
            H(|| Box::new(simple_header::SimpleHeaderConverter)),
        ),
        descriptor(
            number::INTEGER_CLASS,
            C(|| Box::new(number::NumberConverter::integer())),
        ),
        descriptor(
            number::LONG_CLASS,
            C(|| Box::new(number::NumberConverter::long())),
        ),
        descriptor(
            number::SHORT_CLASS,
            C(|| Box::new(number::NumberConverter::short())),
        ),
        descriptor(
            number::FLOAT_CLASS,
            C(|| Box::new(number::NumberConverter::float())),
        ),
        descriptor(
            number::DOUBLE_CLASS,
            C(|| Box::new(number::NumberConverter::double())),
        ),
        descriptor(number::BOOLEAN_CLASS, C(|| Box::new(number::BooleanConverter))),
        debezium_descriptor(
            cloudevents::CLASS,
            C(|| Box::new(cloudevents::CloudEventsConverter::new())),
        ),
        debezium_descriptor(
            debezium_bytes::BYTE_ARRAY_CLASS,
            C(|| Box::new(debezium_bytes::DebeziumBytesConverter::byte_array())),
        ),
        debezium_descriptor(
            debezium_bytes::BINARY_DATA_CLASS,
            C(|| Box::new(debezium_bytes::DebeziumBytesConverter::binary_data())),
        ),
    ]
}

/// JsonConverter as a header converter (for `header.converter=...JsonConverter`).
pub fn json_header_converter() -> Box<dyn HeaderConverter> {
    Box::new(JsonConverter::new())
}

/// The header-converter side of a class registered here, by full class name or
/// simple name (`JsonConverter`, `StringConverter`, `SimpleHeaderConverter`, ...).
pub fn header_converter(class: &str) -> Option<Box<dyn HeaderConverter>> {
    let class = class.trim();
    let simple = class.rsplit('.').next().unwrap_or(class);
    let classes: Vec<&'static str> = plugins().into_iter().map(|p| p.class).collect();
    let full = match classes.iter().find(|c| **c == class) {
        Some(c) => *c,
        // A simple name must name one class (Kafka registers no ambiguous alias).
        None => {
            let mut same_simple = classes.iter().filter(|c| c.rsplit('.').next() == Some(simple));
            match (same_simple.next(), same_simple.next()) {
                (Some(c), None) => *c,
                _ => return None,
            }
        }
    };
    Some(match full {
        json::CLASS => json_header_converter(),
        string::CLASS => Box::new(string::StringConverter::new()),
        bytearray::CLASS => Box::new(bytearray::ByteArrayConverter),
        simple_header::CLASS => Box::new(simple_header::SimpleHeaderConverter),
        number::INTEGER_CLASS => Box::new(number::NumberConverter::integer()),
        number::LONG_CLASS => Box::new(number::NumberConverter::long()),
        number::SHORT_CLASS => Box::new(number::NumberConverter::short()),
        number::FLOAT_CLASS => Box::new(number::NumberConverter::float()),
        number::DOUBLE_CLASS => Box::new(number::NumberConverter::double()),
        number::BOOLEAN_CLASS => Box::new(number::BooleanConverter),
        debezium_bytes::BYTE_ARRAY_CLASS => Box::new(debezium_bytes::DebeziumBytesConverter::byte_array()),
        debezium_bytes::BINARY_DATA_CLASS => Box::new(debezium_bytes::DebeziumBytesConverter::binary_data()),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_core::{PluginKind, PluginRegistry};

    #[test]
    fn registers_kafka_class_names() {
        let mut r = PluginRegistry::new();
        r.register(plugins());
        for class in [
            "org.apache.kafka.connect.json.JsonConverter",
            "org.apache.kafka.connect.storage.StringConverter",
            "org.apache.kafka.connect.converters.ByteArrayConverter",
            "org.apache.kafka.connect.converters.IntegerConverter",
            "org.apache.kafka.connect.converters.LongConverter",
            "org.apache.kafka.connect.converters.ShortConverter",
            "org.apache.kafka.connect.converters.FloatConverter",
            "org.apache.kafka.connect.converters.DoubleConverter",
            "org.apache.kafka.connect.converters.BooleanConverter",
        ] {
            assert_eq!(
                r.find(class).map(|p| p.kind()),
                Some(PluginKind::Converter),
                "{class}"
            );
            assert!(header_converter(class).is_some(), "{class}");
        }
        let shc = "org.apache.kafka.connect.storage.SimpleHeaderConverter";
        assert_eq!(r.find(shc).map(|p| p.kind()), Some(PluginKind::HeaderConverter));
        assert!(r.find("JsonConverter").is_some());
        assert!(header_converter("JsonConverter").is_some());
        assert!(header_converter("org.example.Nope").is_none());
    }

    #[test]
    fn every_converter_reports_the_emulated_version_of_its_project() {
        for p in plugins() {
            let want = if p.class.starts_with("io.debezium.") {
                ferry_core::versions::DEBEZIUM
            } else {
                ferry_core::versions::KAFKA_CONNECT
            };
            assert_eq!(p.version, want, "{}", p.class);
        }
    }

    #[test]
    fn registers_debeziums_converters() {
        let mut r = PluginRegistry::new();
        r.register(plugins());
        for class in [
            "io.debezium.converters.CloudEventsConverter",
            "io.debezium.converters.ByteArrayConverter",
            "io.debezium.converters.BinaryDataConverter",
        ] {
            assert_eq!(
                r.find(class).map(|p| p.kind()),
                Some(PluginKind::Converter),
                "{class}"
            );
        }
        // Debezium's two bytes converters are header converters too; CloudEventsConverter is not.
        assert!(header_converter("io.debezium.converters.ByteArrayConverter").is_some());
        assert!(header_converter("io.debezium.converters.BinaryDataConverter").is_some());
        assert!(header_converter("io.debezium.converters.CloudEventsConverter").is_none());
    }
}
