//! The dead letter queue of sink connectors (`errors.deadletterqueue.topic.name`).
//!
//! [`DeadLetterQueue`] is what the error handler needs; [`KafkaDeadLetterQueue`]
//! implements it with librdkafka, `memory::MemoryCluster` (feature `memory`) in memory.

use std::time::Duration;

use async_trait::async_trait;
use rdkafka::message::{Header as KafkaHeader, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::producer::{OutgoingRecord, ProduceError};
use crate::{ClientSettings, KafkaStoreError};

/// Writes failed records to a dead letter queue topic.
#[async_trait]
pub trait DeadLetterQueue: Send + Sync {
    /// Sends one record and waits until the broker acknowledged it.
    async fn send(&self, record: &OutgoingRecord<'_>) -> Result<(), ProduceError>;
}

/// [`DeadLetterQueue`] over a librdkafka producer.
pub struct KafkaDeadLetterQueue {
    producer: FutureProducer,
}

impl KafkaDeadLetterQueue {
    /// A producer from client settings.
    pub fn new(settings: &ClientSettings) -> Result<Self, KafkaStoreError> {
        Ok(KafkaDeadLetterQueue {
            producer: settings.rdkafka().create()?,
        })
    }
}

#[async_trait]
impl DeadLetterQueue for KafkaDeadLetterQueue {
    async fn send(&self, record: &OutgoingRecord<'_>) -> Result<(), ProduceError> {
        let mut headers = OwnedHeaders::new_with_capacity(record.headers.len());
        for (k, v) in record.headers {
            headers = headers.insert(KafkaHeader {
                key: k,
                value: v.as_deref(),
            });
        }
        let mut rec: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(record.topic).headers(headers);
        if let Some(k) = record.key {
            rec = rec.key(k);
        }
        if let Some(v) = record.value {
            rec = rec.payload(v);
        }
        if let Some(p) = record.partition {
            rec = rec.partition(p);
        }
        if let Some(ts) = record.timestamp {
            rec = rec.timestamp(ts);
        }
        self.producer
            .send(rec, Duration::from_secs(30))
            .await
            .map(|_| ())
            .map_err(|(e, _)| ProduceError(e.to_string()))
    }
}
