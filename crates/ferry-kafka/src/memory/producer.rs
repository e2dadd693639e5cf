//! The source-task producer of the in-memory cluster, with acknowledgements a test
//! can hold, release out of order or fail.

use tokio::sync::mpsc;

use super::{MemoryCluster, NewRecord};
use crate::producer::{Ack, AckReceiver, OutgoingRecord, ProduceError, RecordProducer, SendError};

#[derive(Default)]
pub(super) struct ProducerFaults {
    /// Acknowledgements wait for [`MemoryCluster::release_ack`] or [`MemoryCluster::fail_ack`].
    hold: bool,
    held: Vec<HeldSend>,
    /// The next sends report a full queue.
    queue_full: usize,
    /// Sends fail at once with this text.
    failing: Option<String>,
}

struct HeldSend {
    seq: u64,
    topic: String,
    record: NewRecord,
    acks: mpsc::UnboundedSender<Ack>,
}

impl MemoryCluster {
    /// Holds every later acknowledgement of producers until [`MemoryCluster::release_ack`]
    /// or [`MemoryCluster::fail_ack`] (`false`: acknowledge at once again).
    pub fn hold_acks(&self, hold: bool) {
        self.lock().producer.hold = hold;
    }

    /// Sequence numbers of the sends whose acknowledgement is held, in send order.
    pub fn held_acks(&self) -> Vec<u64> {
        self.lock().producer.held.iter().map(|h| h.seq).collect()
    }

    fn take_held(&self, seq: u64) -> Option<HeldSend> {
        let mut state = self.lock();
        let i = state.producer.held.iter().position(|h| h.seq == seq)?;
        Some(state.producer.held.remove(i))
    }

    /// Writes the held record `seq` and acknowledges it; false when none is held.
    pub fn release_ack(&self, seq: u64) -> bool {
        let Some(h) = self.take_held(seq) else {
            return false;
        };
        let placed = self.append(&h.topic, h.record);
        let _ = h.acks.send(Ack {
            seq,
            result: Ok(placed),
        });
        true
    }

    /// Fails the held record `seq` with `error`, without writing it; false when none is held.
    pub fn fail_ack(&self, seq: u64, error: &str) -> bool {
        let Some(h) = self.take_held(seq) else {
            return false;
        };
        let _ = h.acks.send(Ack {
            seq,
            result: Err(ProduceError(error.to_owned())),
        });
        true
    }

    /// Makes the next `sends` sends report a full queue.
    pub fn fill_queue(&self, sends: usize) {
        self.lock().producer.queue_full = sends;
    }

    /// Makes every later send fail at once with `error` (`None` heals it).
    pub fn fail_sends(&self, error: Option<&str>) {
        self.lock().producer.failing = error.map(str::to_owned);
    }
}

pub(super) fn new_record(record: &OutgoingRecord<'_>) -> NewRecord {
    NewRecord {
        partition: record.partition,
        key: record.key.map(<[u8]>::to_vec),
        value: record.value.map(<[u8]>::to_vec),
        headers: record.headers.to_vec(),
        timestamp: record.timestamp,
    }
}

/// A source-task producer writing to a [`MemoryCluster`].
pub struct MemoryProducer {
    cluster: MemoryCluster,
    acks: mpsc::UnboundedSender<Ack>,
}

impl MemoryProducer {
    /// A producer and its acknowledgement stream.
    pub fn new(cluster: &MemoryCluster) -> (Self, AckReceiver) {
        let (tx, rx) = mpsc::unbounded_channel();
        (
            MemoryProducer {
                cluster: cluster.clone(),
                acks: tx,
            },
            rx,
        )
    }
}

impl RecordProducer for MemoryProducer {
    fn send(&self, seq: u64, record: &OutgoingRecord<'_>) -> Result<(), SendError> {
        let new = new_record(record);
        {
            let mut state = self.cluster.lock();
            let faults = &mut state.producer;
            if faults.queue_full > 0 {
                faults.queue_full -= 1;
                return Err(SendError::QueueFull);
            }
            if let Some(e) = &faults.failing {
                return Err(SendError::Failed(ProduceError(e.clone())));
            }
            if faults.hold {
                faults.held.push(HeldSend {
                    seq,
                    topic: record.topic.to_owned(),
                    record: new,
                    acks: self.acks.clone(),
                });
                return Ok(());
            }
        }
        let placed = self.cluster.append(record.topic, new);
        let _ = self.acks.send(Ack {
            seq,
            result: Ok(placed),
        });
        Ok(())
    }
}
