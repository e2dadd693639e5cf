//! Kafka Connect's built-in single message transforms and predicates, and the
//! transformation chain a connector configures with `transforms=` / `predicates=`.
//!
//! Every plugin is registered under its upstream Java class name (for example
//! `org.apache.kafka.connect.transforms.InsertField$Value`) by [`plugins`].

#![warn(missing_docs)]

pub mod chain;
pub mod field_path;
pub mod kafka;
pub mod predicates;
pub mod util;

pub use chain::{chain_config_def, validate_chain, ChainConfigError, TransformChain, TransformError};
pub use util::Side;

use ferry_core::{PluginDescriptor, PluginFactory};

/// Package of the built-in transforms.
pub const TRANSFORMS_PACKAGE: &str = "org.apache.kafka.connect.transforms";

macro_rules! key_value {
    ($out:ident, $name:literal, $ty:ty) => {
        $out.push(PluginDescriptor {
            class: concat!("org.apache.kafka.connect.transforms.", $name, "$Key"),
            version: ferry_core::versions::KAFKA_CONNECT,
            factory: PluginFactory::Transformation(|| Box::new(<$ty>::new(Side::Key))),
        });
        $out.push(PluginDescriptor {
            class: concat!("org.apache.kafka.connect.transforms.", $name, "$Value"),
            version: ferry_core::versions::KAFKA_CONNECT,
            factory: PluginFactory::Transformation(|| Box::new(<$ty>::new(Side::Value))),
        });
    };
}

macro_rules! single {
    ($out:ident, $name:literal, $ty:ty) => {
        $out.push(PluginDescriptor {
            class: concat!("org.apache.kafka.connect.transforms.", $name),
            version: ferry_core::versions::KAFKA_CONNECT,
            factory: PluginFactory::Transformation(|| Box::new(<$ty>::default())),
        });
    };
}

macro_rules! predicate {
    ($out:ident, $name:literal, $ty:ty) => {
        $out.push(PluginDescriptor {
            class: concat!("org.apache.kafka.connect.transforms.predicates.", $name),
            version: ferry_core::versions::KAFKA_CONNECT,
            factory: PluginFactory::Predicate(|| Box::new(<$ty>::default())),
        });
    };
}

/// Every transform and predicate of this crate, under its Java class name.
pub fn plugins() -> Vec<PluginDescriptor> {
    use kafka::*;
    let mut out = Vec::with_capacity(32);
    key_value!(out, "Cast", Cast);
    key_value!(out, "ExtractField", ExtractField);
    key_value!(out, "Flatten", Flatten);
    key_value!(out, "HeaderFrom", HeaderFrom);
    key_value!(out, "HoistField", HoistField);
    key_value!(out, "InsertField", InsertField);
    key_value!(out, "MaskField", MaskField);
    key_value!(out, "ReplaceField", ReplaceField);
    key_value!(out, "SetSchemaMetadata", SetSchemaMetadata);
    key_value!(out, "TimestampConverter", TimestampConverter);
    single!(out, "DropHeaders", DropHeaders);
    single!(out, "Filter", Filter);
    single!(out, "InsertHeader", InsertHeader);
    single!(out, "RegexRouter", RegexRouter);
    single!(out, "TimestampRouter", TimestampRouter);
    single!(out, "ValueToKey", ValueToKey);
    predicate!(out, "TopicNameMatches", predicates::TopicNameMatches);
    predicate!(out, "HasHeaderKey", predicates::HasHeaderKey);
    predicate!(out, "RecordIsTombstone", predicates::RecordIsTombstone);
    out
}

#[cfg(test)]
mod tests {
    use ferry_core::versions::KAFKA_CONNECT;

    #[test]
    fn every_plugin_reports_the_emulated_kafka_connect_version() {
        let plugins = super::plugins();
        assert!(!plugins.is_empty());
        for p in plugins {
            assert_eq!(p.version, KAFKA_CONNECT, "{}", p.class);
        }
    }
}
