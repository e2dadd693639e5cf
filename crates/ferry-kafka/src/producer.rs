//! The source-task producer: sends without awaiting each message and reports
//! every acknowledgement, in whatever order the broker gives them, on a channel.

use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header as KafkaHeader, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::ClientContext;
use tokio::sync::mpsc;

use crate::KafkaStoreError;

/// The outcome of one send: the sequence number given to [`DataProducer::send`], and where it landed or why not.
#[derive(Debug)]
pub struct Ack {
    /// Sequence number of the record.
    pub seq: u64,
    /// `(partition, offset)` on success.
    pub result: Result<(i32, i64), KafkaError>,
}

struct AckContext {
    acks: mpsc::UnboundedSender<Ack>,
}

impl ClientContext for AckContext {}

impl ProducerContext for AckContext {
    type DeliveryOpaque = Box<u64>;

    fn delivery(&self, result: &DeliveryResult<'_>, seq: Self::DeliveryOpaque) {
        use rdkafka::message::Message;
        let result = match result {
            Ok(m) => Ok((m.partition(), m.offset())),
            Err((e, _)) => Err(e.clone()),
        };
        // The receiver is gone only when the task is being torn down.
        let _ = self.acks.send(Ack { seq: *seq, result });
    }
}

/// One message to send.
pub struct OutgoingRecord<'a> {
    /// Destination topic.
    pub topic: &'a str,
    /// Fixed partition, if any.
    pub partition: Option<i32>,
    /// Key bytes.
    pub key: Option<&'a [u8]>,
    /// Value bytes; `None` for a tombstone.
    pub value: Option<&'a [u8]>,
    /// Timestamp (ms).
    pub timestamp: Option<i64>,
    /// Headers.
    pub headers: &'a [(String, Option<Vec<u8>>)],
}

/// An idempotent producer (acks=all, order kept per partition under retries).
pub struct DataProducer {
    inner: ThreadedProducer<AckContext>,
}

impl DataProducer {
    /// A producer from a base configuration; returns the producer and the acknowledgement stream.
    /// Idempotence, acks=all and Java's murmur2 key partitioning are set unless the user overrode them.
    pub fn new(base: &ClientConfig) -> Result<(Self, mpsc::UnboundedReceiver<Ack>), KafkaStoreError> {
        let mut cfg = base.clone();
        for (k, v) in [
            ("enable.idempotence", "true"),
            ("acks", "all"),
            ("partitioner", "murmur2_random"),
            ("linger.ms", "5"),
            // Java's producer buffer.memory default (32 MiB) instead of librdkafka's 1 GiB.
            ("queue.buffering.max.kbytes", "32768"),
        ] {
            if cfg.get(k).is_none() {
                cfg.set(k, v);
            }
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let inner = cfg.create_with_context(AckContext { acks: tx })?;
        Ok((DataProducer { inner }, rx))
    }

    /// Queues one record without blocking. `Err(QueueFull)` means librdkafka's queue is
    /// full: wait for acknowledgements and try again.
    pub fn send(&self, seq: u64, rec: &OutgoingRecord<'_>) -> Result<(), KafkaError> {
        let mut r: BaseRecord<'_, [u8], [u8], Box<u64>> =
            BaseRecord::with_opaque_to(rec.topic, Box::new(seq));
        if let Some(k) = rec.key {
            r = r.key(k);
        }
        if let Some(v) = rec.value {
            r = r.payload(v);
        }
        if let Some(p) = rec.partition {
            r = r.partition(p);
        }
        if let Some(ts) = rec.timestamp {
            r = r.timestamp(ts);
        }
        if !rec.headers.is_empty() {
            let mut headers = OwnedHeaders::new_with_capacity(rec.headers.len());
            for (k, v) in rec.headers {
                headers = headers.insert(KafkaHeader {
                    key: k,
                    value: v.as_deref(),
                });
            }
            r = r.headers(headers);
        }
        self.inner.send(r).map_err(|(e, _)| e)
    }

    /// True for the error [`DataProducer::send`] returns when the queue is full.
    pub fn is_queue_full(e: &KafkaError) -> bool {
        matches!(e, KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull))
    }

    /// Waits up to `timeout` for every queued message to be acknowledged.
    pub fn flush(&self, timeout: Duration) -> Result<(), KafkaError> {
        self.inner.flush(timeout)
    }

    /// Messages queued and not yet acknowledged.
    pub fn in_flight(&self) -> i32 {
        self.inner.in_flight_count()
    }
}
