//! Ferry's core: the Connect data model (schemas, values, records, headers),
//! configuration definitions, errors, and the plugin traits every connector,
//! transform, predicate and converter implements.

#![warn(missing_docs)]

pub mod config;
pub mod error;
pub mod java;
pub mod metrics;
pub mod plugin;
pub mod record;
pub mod schema;
#[cfg(feature = "tls")]
pub mod tls;
pub mod value;
pub mod versions;

pub use config::{
    ConfigDef, ConfigKey, ConfigMap, ConfigType, ConfigValue, Importance, ParsedConfig, Validator,
};
pub use error::{error_trace, ConfigError, ConnectError, DataError, ErrorKind};
pub use plugin::{
    CommittedOffset, Connector, ConnectorContext, ConnectorType, Converter, HeaderConverter,
    OffsetStorageReader, PluginDescriptor, PluginFactory, PluginKind, PluginRegistry, Predicate,
    SchemaAndValue, SinkConnector, SinkTask, SinkTaskContext, SourceConnector, SourceTask, SourceTaskContext,
    TopicPartition, Transformation,
};
pub use record::{Header, Headers, OffsetMap, Position, Record, TimestampType};
pub use schema::{logical, Field, Schema, SchemaBuilder, SchemaType};
pub use value::{Struct, Value};

/// Re-exported so plugins name the same versions.
pub use bigdecimal;
pub use bytes;
pub use indexmap;
pub use serde_json;
pub use tokio_util::sync::CancellationToken;
