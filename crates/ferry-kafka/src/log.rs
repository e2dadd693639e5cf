//! A compacted Kafka topic used as a replicated log of key/value records
//! (Kafka Connect's `KafkaBasedLog`): read it to its end on start, write through it after.
//!
//! [`InternalLog`] is what the config, offset and status stores need; [`KafkaLog`]
//! implements it over a topic, `memory::MemoryLog` (feature `memory`) in memory.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};

use crate::{ClientSettings, KafkaStoreError};

/// One record read back from the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogRecord {
    /// Partition it was read from.
    pub partition: i32,
    /// Offset within the partition.
    pub offset: i64,
    /// Key bytes.
    pub key: Option<Vec<u8>>,
    /// Value bytes; `None` is a tombstone.
    pub value: Option<Vec<u8>>,
}

/// One internal topic as a log of keyed records.
#[async_trait]
pub trait InternalLog: Send + Sync {
    /// The topic name.
    fn topic(&self) -> &str;

    /// Reads every record from the beginning to the current end of every partition,
    /// in offset order within each partition.
    async fn read_to_end(&self) -> Result<Vec<LogRecord>, KafkaStoreError>;

    /// Appends one record and waits until it is durable. `None` writes a tombstone.
    async fn send(&self, key: &[u8], value: Option<&[u8]>) -> Result<(), KafkaStoreError>;
}

/// Reads and writes one internal topic of a Kafka cluster.
pub struct KafkaLog {
    topic: String,
    consumer_config: ClientConfig,
    producer: FutureProducer,
    timeout: Duration,
}

impl KafkaLog {
    /// A log over `topic`; `consumer` and `producer` are base client configurations.
    pub fn new(
        topic: &str,
        consumer: &ClientSettings,
        producer: &ClientSettings,
    ) -> Result<Self, KafkaStoreError> {
        let mut consumer_config = consumer.rdkafka().clone();
        consumer_config
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("group.id", format!("ferry-internal-reader-{topic}"))
            .set("enable.partition.eof", "false");
        let mut p = producer.rdkafka().clone();
        p.set("acks", "all")
            .set("partitioner", "murmur2_random")
            .set("message.timeout.ms", "30000");
        Ok(KafkaLog {
            topic: topic.to_owned(),
            consumer_config,
            producer: p.create()?,
            timeout: Duration::from_secs(30),
        })
    }
}

#[async_trait]
impl InternalLog for KafkaLog {
    fn topic(&self) -> &str {
        &self.topic
    }

    async fn read_to_end(&self) -> Result<Vec<LogRecord>, KafkaStoreError> {
        let cfg = self.consumer_config.clone();
        let topic = self.topic.clone();
        let timeout = self.timeout;
        tokio::task::spawn_blocking(move || read_all(&cfg, &topic, timeout))
            .await
            .map_err(|e| KafkaStoreError::Other(format!("reading {} failed: {e}", "log")))?
    }

    async fn send(&self, key: &[u8], value: Option<&[u8]>) -> Result<(), KafkaStoreError> {
        let mut rec: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(&self.topic).key(key);
        if let Some(v) = value {
            rec = rec.payload(v);
        }
        self.producer
            .send(rec, self.timeout)
            .await
            .map_err(|(e, _)| KafkaStoreError::Write {
                topic: self.topic.clone(),
                source: e.into(),
            })?;
        Ok(())
    }
}

fn read_all(cfg: &ClientConfig, topic: &str, timeout: Duration) -> Result<Vec<LogRecord>, KafkaStoreError> {
    let consumer: BaseConsumer = cfg.create()?;
    let md = consumer.fetch_metadata(Some(topic), timeout)?;
    let partitions: Vec<i32> = md
        .topics()
        .iter()
        .find(|t| t.name() == topic)
        .map(|t| t.partitions().iter().map(|p| p.id()).collect())
        .unwrap_or_default();
    let mut ends: HashMap<i32, i64> = HashMap::new();
    let mut tpl = TopicPartitionList::new();
    for p in &partitions {
        let (low, high) = consumer.fetch_watermarks(topic, *p, timeout)?;
        if high > low {
            ends.insert(*p, high);
            tpl.add_partition_offset(topic, *p, Offset::Beginning)?;
        }
    }
    let mut out = Vec::new();
    if ends.is_empty() {
        return Ok(out);
    }
    consumer.assign(&tpl)?;
    let deadline = Instant::now() + timeout * 4;
    while !ends.is_empty() {
        if Instant::now() > deadline {
            return Err(KafkaStoreError::Other(format!(
                "timed out reading topic {topic} to its end ({} partitions left)",
                ends.len()
            )));
        }
        let Some(msg) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        let msg = msg?;
        let p = msg.partition();
        out.push(LogRecord {
            partition: p,
            offset: msg.offset(),
            key: msg.key().map(<[u8]>::to_vec),
            value: msg.payload().map(<[u8]>::to_vec),
        });
        if let Some(end) = ends.get(&p) {
            if msg.offset() + 1 >= *end {
                ends.remove(&p);
            }
        }
    }
    // Dropping a consumer can block while librdkafka shuts down; we are on a blocking thread.
    drop(consumer);
    Ok(out)
}
