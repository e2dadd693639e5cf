//! Kafka plumbing: librdkafka client settings from Java-style properties, and the
//! clients the runtime needs behind small traits — internal topics as logs
//! ([`InternalLog`]), the source-task producer ([`RecordProducer`]), the sink-task
//! consumer ([`SinkConsumer`]), topic administration ([`TopicAdmin`]) and the dead
//! letter queue ([`DeadLetterQueue`]) — with librdkafka implementations, an in-memory
//! cluster for tests (feature `memory`), and Kafka Connect's config/offset/status
//! record formats.
//!
//! Callers never name a librdkafka type: settings are [`ClientSettings`], errors
//! [`KafkaStoreError`], and records this crate's own types.

#![warn(missing_docs)]

pub mod admin;
pub mod client;
pub mod clients;
pub mod connect_group;
pub mod connect_protocol;
pub mod consumer;
pub mod dlq;
pub mod group;
pub mod log;
#[cfg(any(test, feature = "memory"))]
pub mod memory;
pub mod producer;
pub mod records;

pub use admin::{KafkaAdmin, TopicAdmin, TopicSpec};
pub use client::{ClientProps, ClientSettings};
pub use clients::{ClientFactory, KafkaClients};
pub use consumer::{ConsumeError, ConsumedRecord, KafkaSinkConsumer, KafkaTimestamp, SinkConsumer};
pub use dlq::{DeadLetterQueue, KafkaDeadLetterQueue};
pub use log::{InternalLog, KafkaLog, LogRecord};
pub use producer::{
    Ack, AckReceiver, DataProducer, OutgoingRecord, ProduceError, RecordProducer, SendError, WarmProducers,
};

/// Errors from Kafka clients and internal topics.
#[derive(Debug, thiserror::Error)]
pub enum KafkaStoreError {
    /// A client option is wrong.
    #[error("invalid value for {key}: {reason}")]
    Config {
        /// The option as the user wrote it (with its prefix).
        key: String,
        /// What librdkafka said about the value.
        reason: String,
    },
    /// An internal topic exists with the wrong cleanup policy (upstream's wording).
    #[error(
        "Topic '{topic}' supplied via the '{config_key}' property is required to have 'cleanup.policy=compact' \
         to guarantee consistency and durability of {purpose}, but found the topic currently has \
         'cleanup.policy={policy}'. Continuing would likely result in eventually losing {purpose} and \
         problems restarting this Connect cluster in the future. Change the '{config_key}' property in the \
         Connect worker configurations to use a topic with 'cleanup.policy=compact'."
    )]
    NotCompacted {
        /// The topic.
        topic: String,
        /// The worker setting that names it.
        config_key: String,
        /// What the topic keeps (`connector configurations`, ...).
        purpose: String,
        /// The policy found.
        policy: String,
    },
    /// Writing to a topic failed.
    #[error("could not write to topic {topic}: {source}")]
    Write {
        /// The topic.
        topic: String,
        /// The client's error.
        #[source]
        source: ClientError,
    },
    /// A Kafka client error.
    #[error(transparent)]
    Kafka(#[from] ClientError),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

/// An error of the librdkafka client, kept opaque.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct ClientError(#[from] rdkafka::error::KafkaError);

impl From<rdkafka::error::KafkaError> for KafkaStoreError {
    fn from(e: rdkafka::error::KafkaError) -> Self {
        KafkaStoreError::Kafka(ClientError(e))
    }
}
