//! Ferry's PostgreSQL source connector: a drop-in for Debezium's
//! `io.debezium.connector.postgresql.PostgresConnector`, producing the same
//! topics, keys, envelopes and offsets from logical replication (pgoutput).
//!
//! Layers, each usable on its own:
//! - [`replication`]: the replication client (slot, publication, stream) behind
//!   the [`replication::ReplicationStream`] trait;
//! - [`pgoutput`]: a pure, zero-copy pgoutput v1 decoder;
//! - [`types`], [`geometry`] and [`schema`]: PostgreSQL types and tables to Connect schemas
//!   and values;
//! - [`event`]: Debezium envelopes, keys, source blocks and heartbeats;
//! - [`headers`]: Debezium's context headers and the key-change headers;
//! - [`offset`]: Debezium-compatible offsets and the resume/flush bookkeeping;
//! - [`decoder`]: the pure state machine from replication events and snapshot rows to
//!   records and offsets (no I/O; it asks for the table schemas it lacks);
//! - [`cleanup`]: the rules of the built-in outbox cleanup (`outbox.cleanup.*`);
//! - [`snapshot`], [`task`] (the I/O shell around the decoder), [`connector`]: the Connect plugin.

#![warn(missing_docs)]

pub mod cleanup;
pub mod config;
pub mod connector;
pub mod decoder;
pub mod defaults;
pub mod error;
pub mod event;
pub mod geometry;
pub mod headers;
pub mod incremental;
pub mod lsn;
pub mod metrics;
pub mod offset;
pub mod pgoutput;
pub mod postprocess;
pub mod replication;
pub mod schema;
pub mod snapshot;
pub mod task;
pub mod tls;
pub mod transforms;
pub mod types;

pub use config::PostgresConfig;
pub use connector::PostgresConnector;
pub use lsn::Lsn;
pub use task::PostgresSourceTask;

/// Java class name the connector registers under.
pub const CONNECTOR_CLASS: &str = "io.debezium.connector.postgresql.PostgresConnector";

/// Debezium version reported in `source.version` and `/connector-plugins`: the one Ferry
/// emulates, stated in [`ferry_core::versions::DEBEZIUM`].
pub const DEBEZIUM_VERSION: &str = ferry_core::versions::DEBEZIUM;

/// The plugins this crate provides.
pub fn plugins() -> Vec<ferry_core::PluginDescriptor> {
    vec![
        ferry_core::PluginDescriptor {
            class: CONNECTOR_CLASS,
            version: DEBEZIUM_VERSION,
            factory: ferry_core::PluginFactory::Source(connector::new_connector),
        },
        ferry_core::PluginDescriptor {
            class: transforms::timescaledb::CLASS,
            version: DEBEZIUM_VERSION,
            factory: ferry_core::PluginFactory::Transformation(|| {
                Box::new(transforms::timescaledb::TimescaleDb::default())
            }),
        },
    ]
}
