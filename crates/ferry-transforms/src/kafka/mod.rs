//! Kafka Connect's built-in transformations (`org.apache.kafka.connect.transforms.*`).

pub mod cast;
pub mod extract_field;
pub mod flatten;
pub mod headers;
pub mod hoist_field;
pub mod insert_field;
pub mod mask_field;
pub mod replace_field;
pub mod routers;
pub mod set_schema_metadata;
pub mod timestamp_converter;
pub mod value_to_key;

pub use cast::Cast;
pub use extract_field::ExtractField;
pub use flatten::Flatten;
pub use headers::{DropHeaders, Filter, HeaderFrom, InsertHeader};
pub use hoist_field::HoistField;
pub use insert_field::InsertField;
pub use mask_field::MaskField;
pub use replace_field::ReplaceField;
pub use routers::{RegexRouter, TimestampRouter};
pub use set_schema_metadata::SetSchemaMetadata;
pub use timestamp_converter::TimestampConverter;
pub use value_to_key::ValueToKey;
