//! Internal-topic logs in the in-memory cluster.

use async_trait::async_trait;

use super::{MemoryCluster, NewRecord};
use crate::log::{InternalLog, LogRecord};
use crate::KafkaStoreError;

impl MemoryCluster {
    /// An internal-topic log over `topic` (created with one partition when missing).
    pub fn log(&self, topic: &str) -> MemoryLog {
        if !self.has_topic(topic) {
            self.create_topic(topic, 1);
        }
        MemoryLog {
            cluster: self.clone(),
            topic: topic.to_owned(),
        }
    }
}

/// An internal-topic log in a [`MemoryCluster`].
#[derive(Clone)]
pub struct MemoryLog {
    cluster: MemoryCluster,
    topic: String,
}

#[async_trait]
impl InternalLog for MemoryLog {
    fn topic(&self) -> &str {
        &self.topic
    }

    async fn read_to_end(&self) -> Result<Vec<LogRecord>, KafkaStoreError> {
        Ok(self
            .cluster
            .records(&self.topic)
            .into_iter()
            .map(|r| LogRecord {
                partition: r.partition,
                offset: r.offset,
                key: r.key,
                value: r.value,
            })
            .collect())
    }

    async fn send(&self, key: &[u8], value: Option<&[u8]>) -> Result<(), KafkaStoreError> {
        self.cluster
            .before_write(&self.topic)
            .await
            .map_err(|e| KafkaStoreError::Other(format!("could not write to topic {}: {e}", self.topic)))?;
        self.cluster.append(
            &self.topic,
            NewRecord {
                key: Some(key.to_vec()),
                value: value.map(<[u8]>::to_vec),
                ..NewRecord::default()
            },
        );
        Ok(())
    }
}
