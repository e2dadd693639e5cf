//! Kafka plumbing: librdkafka client settings from Java-style properties, topic
//! administration, internal topics as logs, the source-task producer, and Kafka
//! Connect's config/offset/status record formats.

pub mod admin;
pub mod client;
pub mod group;
pub mod log;
#[cfg(feature = "memory")]
pub mod memory;
pub mod producer;
pub mod records;

pub use admin::{TopicAdmin, TopicSpec};
pub use client::ClientProps;
pub use log::{InternalLog, KafkaLog, LogRecord};
pub use producer::{Ack, DataProducer, OutgoingRecord, WarmProducers};
pub use rdkafka;

/// Errors from Kafka clients and internal topics.
#[derive(Debug, thiserror::Error)]
pub enum KafkaStoreError {
    /// A client option is wrong.
    #[error("invalid value for {key}: {reason}")]
    Config { key: String, reason: String },
    /// An internal topic exists with the wrong cleanup policy (upstream's wording).
    #[error(
        "Topic '{topic}' supplied via the '{config_key}' property is required to have 'cleanup.policy=compact' \
         to guarantee consistency and durability of {purpose}, but found the topic currently has \
         'cleanup.policy={policy}'. Continuing would likely result in eventually losing {purpose} and \
         problems restarting this Connect cluster in the future. Change the '{config_key}' property in the \
         Connect worker configurations to use a topic with 'cleanup.policy=compact'."
    )]
    NotCompacted {
        topic: String,
        config_key: String,
        purpose: String,
        policy: String,
    },
    /// Writing to a topic failed.
    #[error("could not write to topic {topic}: {source}")]
    Write {
        topic: String,
        #[source]
        source: rdkafka::error::KafkaError,
    },
    /// A Kafka client error.
    #[error(transparent)]
    Kafka(#[from] rdkafka::error::KafkaError),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}
