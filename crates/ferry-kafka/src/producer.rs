//! The source-task producer: sends without awaiting each message and reports
//! every acknowledgement, in whatever order the broker gives them, on a channel.
//!
//! [`RecordProducer`] is what the source engine needs; [`DataProducer`] implements it
//! with librdkafka, `memory::MemoryProducer` (feature `memory`) in memory.

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header as KafkaHeader, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, ProducerContext, ThreadedProducer};
use rdkafka::ClientContext;
use tokio::sync::mpsc;

use crate::{ClientSettings, KafkaStoreError};

/// Why the broker did not take a record: the client's error text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ProduceError(pub String);

/// Why [`RecordProducer::send`] did not queue a record.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The client's queue is full: wait for acknowledgements and send again.
    #[error("the producer queue is full")]
    QueueFull,
    /// The record cannot be sent.
    #[error(transparent)]
    Failed(#[from] ProduceError),
}

/// The outcome of one send: the sequence number given to [`RecordProducer::send`], and where it landed or why not.
#[derive(Debug)]
pub struct Ack {
    /// Sequence number of the record.
    pub seq: u64,
    /// `(partition, offset)` on success.
    pub result: Result<(i32, i64), ProduceError>,
}

/// Where a producer reports its acknowledgements.
pub type AckReceiver = mpsc::UnboundedReceiver<Ack>;

/// Sends records without waiting for each; every record's [`Ack`] arrives later on the
/// producer's [`AckReceiver`], in whatever order the broker gives them.
pub trait RecordProducer: Send + Sync + 'static {
    /// Queues one record without blocking; `seq` comes back in its [`Ack`].
    fn send(&self, seq: u64, record: &OutgoingRecord<'_>) -> Result<(), SendError>;
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
            Err((e, _)) => Err(ProduceError(e.to_string())),
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
    pub fn new(base: &ClientSettings) -> Result<(Self, AckReceiver), KafkaStoreError> {
        let mut cfg = base.rdkafka().clone();
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
}

impl RecordProducer for DataProducer {
    fn send(&self, seq: u64, rec: &OutgoingRecord<'_>) -> Result<(), SendError> {
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
        self.inner.send(r).map_err(|(e, _)| match e {
            KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull) => SendError::QueueFull,
            e => SendError::Failed(ProduceError(e.to_string())),
        })
    }
}

/// A producer with its acknowledgement stream, as [`DataProducer::new`] returns them.
pub type ProducerWithAcks = (DataProducer, AckReceiver);

/// Keeps one idle [`DataProducer`] warm for the next task that starts.
///
/// librdkafka's idempotent producer asks for its producer id only once a broker
/// connection is up, and retries every 500 ms until then: a producer created when a task
/// starts holds that task's first records back for 0.5–1 s. A spare created ahead of time
/// has its id by the time a task takes it. The spare is used only when the task's
/// producer configuration is exactly the spare's (no `producer.override.*` that differs).
#[derive(Default)]
pub struct WarmProducers {
    spare: std::sync::Mutex<Option<Spare>>,
}

struct Spare {
    config: Vec<(String, String)>,
    producer: ProducerWithAcks,
}

fn fingerprint(cfg: &ClientSettings) -> Vec<(String, String)> {
    cfg.entries()
}

impl WarmProducers {
    /// Creates a spare for `cfg` if there is none (connections open in the background).
    pub fn prepare(&self, cfg: &ClientSettings) -> Result<(), KafkaStoreError> {
        if self.spare.lock().expect("spare producer lock").is_some() {
            return Ok(());
        }
        let producer = DataProducer::new(cfg)?;
        let mut spare = self.spare.lock().expect("spare producer lock");
        if spare.is_none() {
            *spare = Some(Spare {
                config: fingerprint(cfg),
                producer,
            });
        }
        Ok(())
    }

    /// A producer for `cfg`: the warm spare when it was built from the same
    /// configuration (then the flag is true), else a new one. A new spare for `cfg` takes
    /// the place of the one handed out, ready for the next task.
    pub fn take(&self, cfg: &ClientSettings) -> Result<(ProducerWithAcks, bool), KafkaStoreError> {
        let wanted = fingerprint(cfg);
        let taken = {
            let mut spare = self.spare.lock().expect("spare producer lock");
            match spare.take() {
                Some(s) if s.config == wanted => Some(s.producer),
                other => {
                    *spare = other;
                    None
                }
            }
        };
        let warm = taken.is_some();
        let producer = match taken {
            Some(p) => p,
            None => DataProducer::new(cfg)?,
        };
        if warm {
            // Ready for the next task; a failure here only costs that task the warm start.
            if let Err(e) = self.prepare(cfg) {
                tracing::debug!("no spare producer: {e}");
            }
        }
        Ok((producer, warm))
    }

    /// True when a spare is waiting.
    pub fn has_spare(&self) -> bool {
        self.spare.lock().expect("spare producer lock").is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(client_id: &str) -> ClientSettings {
        let mut c = ClientSettings::new();
        // No broker is contacted until a record is sent.
        c.set("bootstrap.servers", "127.0.0.1:1")
            .set("client.id", client_id);
        c
    }

    #[test]
    fn the_spare_goes_to_a_task_with_the_same_configuration_and_is_replaced() {
        let pool = WarmProducers::default();
        assert!(!pool.has_spare());
        pool.prepare(&cfg("a")).unwrap();
        assert!(pool.has_spare());

        let (_, warm) = pool.take(&cfg("a")).unwrap();
        assert!(warm, "same configuration: the spare");
        assert!(pool.has_spare(), "a new spare replaces the one taken");
        let (_, warm) = pool.take(&cfg("a")).unwrap();
        assert!(warm, "the replacement is used by the next task");

        let (_, warm) = pool.take(&cfg("b")).unwrap();
        assert!(!warm, "another configuration gets a new producer");
        let (_, warm) = pool.take(&cfg("a")).unwrap();
        assert!(warm, "the spare for the worker's configuration is still there");
    }
}
