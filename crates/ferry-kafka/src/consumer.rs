//! The sink-task consumer: reads the connector's topics in its consumer group
//! (`connect-NAME`) and commits offsets once the task flushed.
//!
//! [`SinkConsumer`] is what the sink engine needs; [`KafkaSinkConsumer`] implements it
//! with librdkafka's asynchronous consumer, `memory::MemoryConsumer` (feature `memory`)
//! in memory.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Headers as _, Message};
use rdkafka::{Offset, Timestamp, TopicPartitionList};

use crate::group::GroupOffset;
use crate::{ClientSettings, KafkaStoreError};

/// A record's timestamp and what it means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KafkaTimestamp {
    /// The record has none.
    NotAvailable,
    /// Set by the producer (ms).
    CreateTime(i64),
    /// Set by the broker when appended (ms).
    LogAppendTime(i64),
}

/// One consumed record, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumedRecord {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// Key bytes.
    pub key: Option<Vec<u8>>,
    /// Value bytes.
    pub value: Option<Vec<u8>>,
    /// Headers in order.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
    /// Timestamp.
    pub timestamp: KafkaTimestamp,
}

/// A consumer error the client retries by itself: the client's error text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConsumeError(pub String);

/// Reads the subscribed topics as a member of one consumer group.
pub trait SinkConsumer: Send + 'static {
    /// Subscribes to topic names, or to one pattern when a name starts with `^`.
    fn subscribe(&mut self, topics: &[String]) -> Result<(), KafkaStoreError>;

    /// The next record, waiting at most `wait`; `None` when none arrived in time.
    fn recv(
        &mut self,
        wait: Duration,
    ) -> impl Future<Output = Option<Result<ConsumedRecord, ConsumeError>>> + Send;

    /// Commits `(topic, partition, next offset)` positions for the group and waits for the broker.
    fn commit(&mut self, offsets: &[GroupOffset])
        -> impl Future<Output = Result<(), KafkaStoreError>> + Send;

    /// Pauses (or resumes) fetching from every assigned partition.
    fn set_paused(&mut self, paused: bool) -> Result<(), KafkaStoreError>;
}

/// [`SinkConsumer`] over librdkafka's asynchronous consumer.
pub struct KafkaSinkConsumer {
    consumer: Arc<StreamConsumer>,
}

impl KafkaSinkConsumer {
    /// A consumer from settings that name its `group.id`.
    pub fn new(settings: &ClientSettings) -> Result<Self, KafkaStoreError> {
        Ok(KafkaSinkConsumer {
            consumer: Arc::new(settings.rdkafka().create()?),
        })
    }
}

fn owned(msg: &BorrowedMessage<'_>) -> ConsumedRecord {
    let headers = msg
        .headers()
        .map(|hs| {
            hs.iter()
                .map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec)))
                .collect()
        })
        .unwrap_or_default();
    ConsumedRecord {
        topic: msg.topic().to_owned(),
        partition: msg.partition(),
        offset: msg.offset(),
        key: msg.key().map(<[u8]>::to_vec),
        value: msg.payload().map(<[u8]>::to_vec),
        headers,
        timestamp: match msg.timestamp() {
            Timestamp::NotAvailable => KafkaTimestamp::NotAvailable,
            Timestamp::CreateTime(t) => KafkaTimestamp::CreateTime(t),
            Timestamp::LogAppendTime(t) => KafkaTimestamp::LogAppendTime(t),
        },
    }
}

impl SinkConsumer for KafkaSinkConsumer {
    fn subscribe(&mut self, topics: &[String]) -> Result<(), KafkaStoreError> {
        let refs: Vec<&str> = topics.iter().map(String::as_str).collect();
        Ok(self.consumer.subscribe(&refs)?)
    }

    async fn recv(&mut self, wait: Duration) -> Option<Result<ConsumedRecord, ConsumeError>> {
        // `recv` is cancellation safe: a timeout loses no message.
        match tokio::time::timeout(wait, self.consumer.recv()).await {
            Err(_) => None,
            Ok(Ok(msg)) => Some(Ok(owned(&msg))),
            Ok(Err(e)) => Some(Err(ConsumeError(e.to_string()))),
        }
    }

    async fn commit(&mut self, offsets: &[GroupOffset]) -> Result<(), KafkaStoreError> {
        let mut tpl = TopicPartitionList::new();
        for (topic, partition, offset) in offsets {
            tpl.add_partition_offset(topic, *partition, Offset::Offset(*offset))?;
        }
        // A synchronous commit waits for the coordinator: on a blocking thread.
        let consumer = self.consumer.clone();
        tokio::task::spawn_blocking(move || consumer.commit(&tpl, CommitMode::Sync))
            .await
            .map_err(|e| KafkaStoreError::Other(format!("committing consumer offsets failed: {e}")))??;
        Ok(())
    }

    fn set_paused(&mut self, paused: bool) -> Result<(), KafkaStoreError> {
        let assignment = self.consumer.assignment().unwrap_or_default();
        if paused {
            self.consumer.pause(&assignment)?;
        } else {
            self.consumer.resume(&assignment)?;
        }
        Ok(())
    }
}
