//! Debezium's single message transforms for Ferry: the outbox `EventRouter`,
//! `ExtractNewRecordState`, `ExtractChangedRecordState`, `HeaderToValue`,
//! `ByLogicalTableRouter`, `PartitionRouting`, `TimezoneConverter`,
//! `SchemaChangeEventFilter`, `ExtractSchemaToNewRecord`, `VectorToJsonConverter`,
//! `GeometryFormatTransformer`, `SwapGeometryCoordinates`, `EnforceRecordSize`,
//! `OpenLineage` and `ActivateTracingSpan` (both pass records unchanged: Ferry has no
//! OpenLineage client or OpenTelemetry SDK) and the PostgreSQL connector's `DecodeLogicalDecodingMessageContent`, behaving as Debezium 3.6
//! does on the same records.

#![warn(missing_docs)]

pub mod changed_state;
pub mod decode_message;
pub mod enforce_record_size;
pub mod envelope;
pub mod geometry;
pub mod header_to_value;
pub mod logical_table_router;
pub mod openlineage;
pub mod outbox;
pub mod partition_routing;
pub mod schema_change_filter;
pub mod schema_to_record;
pub mod timezone_converter;
pub mod tracing_span;
pub mod unwrap;
mod util;
pub mod vector_to_json;

use ferry_core::{PluginDescriptor, PluginFactory, Transformation};

pub use changed_state::ExtractChangedRecordState;
pub use decode_message::DecodeLogicalDecodingMessageContent;
pub use enforce_record_size::EnforceRecordSize;
pub use geometry::{GeometryFormatTransformer, SwapGeometryCoordinates};
pub use header_to_value::HeaderToValue;
pub use logical_table_router::ByLogicalTableRouter;
pub use openlineage::OpenLineage;
pub use outbox::EventRouter;
pub use partition_routing::PartitionRouting;
pub use schema_change_filter::SchemaChangeEventFilter;
pub use schema_to_record::ExtractSchemaToNewRecord;
pub use timezone_converter::TimezoneConverter;
pub use tracing_span::ActivateTracingSpan;
pub use unwrap::ExtractNewRecordState;
pub use vector_to_json::VectorToJsonConverter;

fn boxed<T: Transformation + Default + 'static>() -> Box<dyn Transformation> {
    Box::new(T::default())
}

fn descriptor(class: &'static str, factory: fn() -> Box<dyn Transformation>) -> PluginDescriptor {
    PluginDescriptor {
        class,
        version: ferry_core::versions::DEBEZIUM,
        factory: PluginFactory::Transformation(factory),
    }
}

/// The transforms of this crate, registered under their Debezium class names.
pub fn plugins() -> Vec<PluginDescriptor> {
    vec![
        descriptor(outbox::CLASS, boxed::<EventRouter>),
        descriptor(unwrap::CLASS, boxed::<ExtractNewRecordState>),
        descriptor(changed_state::CLASS, boxed::<ExtractChangedRecordState>),
        descriptor(
            decode_message::CLASS,
            boxed::<DecodeLogicalDecodingMessageContent>,
        ),
        descriptor(header_to_value::CLASS, boxed::<HeaderToValue>),
        descriptor(logical_table_router::CLASS, boxed::<ByLogicalTableRouter>),
        descriptor(partition_routing::CLASS, boxed::<PartitionRouting>),
        descriptor(timezone_converter::CLASS, boxed::<TimezoneConverter>),
        descriptor(schema_change_filter::CLASS, boxed::<SchemaChangeEventFilter>),
        descriptor(schema_to_record::CLASS, boxed::<ExtractSchemaToNewRecord>),
        descriptor(vector_to_json::CLASS, boxed::<VectorToJsonConverter>),
        descriptor(geometry::FORMAT_CLASS, boxed::<GeometryFormatTransformer>),
        descriptor(geometry::SWAP_CLASS, boxed::<SwapGeometryCoordinates>),
        descriptor(enforce_record_size::CLASS, boxed::<EnforceRecordSize>),
        descriptor(openlineage::CLASS, boxed::<OpenLineage>),
        descriptor(tracing_span::CLASS, boxed::<ActivateTracingSpan>),
    ]
}

#[cfg(test)]
mod tests {
    use ferry_core::versions::DEBEZIUM;

    #[test]
    fn every_plugin_reports_the_emulated_debezium_version() {
        let plugins = super::plugins();
        assert_eq!(plugins.len(), 16);
        for p in plugins {
            assert_eq!(p.version, DEBEZIUM, "{}", p.class);
        }
    }
}
