//! An in-memory Kafka cluster for unit tests of the logic above the clients
//! (stores, herder, task engines): topics with partitions and offsets, keyed
//! appends partitioned as Java's producer does, and failures a test can inject.
//!
//! Only for tests (feature `memory`): integration tests use a real broker.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use regex::Regex;
use tokio::sync::mpsc;

use crate::admin::{TopicAdmin, TopicSpec};
use crate::clients::ClientFactory;
use crate::consumer::{ConsumeError, ConsumedRecord, KafkaTimestamp, SinkConsumer};
use crate::dlq::DeadLetterQueue;
use crate::group::GroupOffset;
use crate::log::{InternalLog, LogRecord};
use crate::producer::{Ack, AckReceiver, OutgoingRecord, ProduceError, RecordProducer, SendError};
use crate::{ClientSettings, KafkaStoreError};

/// A record as the in-memory cluster stores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredRecord {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Offset within the partition.
    pub offset: i64,
    /// Key bytes.
    pub key: Option<Vec<u8>>,
    /// Value bytes; `None` is a tombstone.
    pub value: Option<Vec<u8>>,
    /// Headers in order.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
    /// Timestamp (ms), when the producer gave one.
    pub timestamp: Option<i64>,
}

/// One record to append with [`MemoryCluster::append`].
#[derive(Clone, Debug, Default)]
pub struct NewRecord {
    /// Fixed partition; `None` partitions by key (murmur2) or round-robin without one.
    pub partition: Option<i32>,
    /// Key bytes.
    pub key: Option<Vec<u8>>,
    /// Value bytes.
    pub value: Option<Vec<u8>>,
    /// Headers.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
    /// Timestamp (ms).
    pub timestamp: Option<i64>,
}

/// How a topic was created: what [`MemoryCluster::topic_layout`] reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicLayout {
    /// Partition count.
    pub partitions: usize,
    /// Replication factor asked for (`None`: the broker's default).
    pub replication_factor: Option<i32>,
    /// Topic configs.
    pub configs: Vec<(String, String)>,
}

impl TopicLayout {
    /// A layout, for comparisons in tests.
    pub fn new(partitions: usize, replication_factor: Option<i32>, configs: &[(&str, &str)]) -> Self {
        TopicLayout {
            partitions,
            replication_factor,
            configs: configs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }
}

#[derive(Default)]
pub(crate) struct MemTopic {
    pub(crate) partitions: Vec<Vec<StoredRecord>>,
    pub(crate) replication_factor: Option<i32>,
    pub(crate) configs: Vec<(String, String)>,
    round_robin: usize,
}

#[derive(Default)]
pub(crate) struct State {
    pub(crate) topics: BTreeMap<String, MemTopic>,
    /// Committed offsets per consumer group: `(topic, partition)` → next offset to read.
    pub(crate) groups: HashMap<String, BTreeMap<(String, i32), i64>>,
    /// Topics whose writes fail, with the error text.
    failing_writes: HashMap<String, String>,
    /// Topics whose writes take this long.
    slow_writes: HashMap<String, Duration>,
    pub(crate) cluster_id: Option<String>,
    /// Partitions a topic created by a write (not through the admin) gets.
    auto_partitions: i32,
    /// Producer faults.
    producer: ProducerFaults,
    /// Failures of the next consumer polls, in order.
    consume_errors: Vec<String>,
    /// Offset commits fail with this text.
    failing_commits: Option<String>,
    /// Admin requests fail with this text.
    failing_admin: Option<String>,
    /// Settings of every client made through [`ClientFactory`], by role, in order.
    clients: Vec<(&'static str, ClientSettings)>,
}

#[derive(Default)]
struct ProducerFaults {
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

/// A shared in-memory cluster; clones share the same topics.
#[derive(Clone)]
pub struct MemoryCluster {
    pub(crate) state: Arc<Mutex<State>>,
    /// Woken on every append, for consumers waiting for records.
    pub(crate) appended: Arc<tokio::sync::Notify>,
}

impl Default for MemoryCluster {
    fn default() -> Self {
        MemoryCluster::new()
    }
}

impl MemoryCluster {
    /// An empty cluster with id `memory-cluster`.
    pub fn new() -> Self {
        let state = State {
            cluster_id: Some("memory-cluster".into()),
            auto_partitions: 1,
            ..State::default()
        };
        MemoryCluster {
            state: Arc::new(Mutex::new(state)),
            appended: Arc::new(tokio::sync::Notify::new()),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking test thread must not hide the cluster from the others.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Creates a topic with `partitions` partitions; returns false when it already existed.
    pub fn create_topic(&self, name: &str, partitions: i32) -> bool {
        self.create_topic_with(name, partitions, None, Vec::new())
    }

    pub(crate) fn create_topic_with(
        &self,
        name: &str,
        partitions: i32,
        replication_factor: Option<i32>,
        configs: Vec<(String, String)>,
    ) -> bool {
        let mut state = self.lock();
        if state.topics.contains_key(name) {
            return false;
        }
        state.topics.insert(
            name.to_owned(),
            MemTopic {
                partitions: vec![Vec::new(); partitions.max(1) as usize],
                replication_factor,
                configs,
                round_robin: 0,
            },
        );
        true
    }

    /// True when the topic exists.
    pub fn has_topic(&self, name: &str) -> bool {
        self.lock().topics.contains_key(name)
    }

    /// Every topic name, sorted.
    pub fn topic_names(&self) -> Vec<String> {
        self.lock().topics.keys().cloned().collect()
    }

    /// Partition count, replication factor and configs of a topic as it was created.
    pub fn topic_layout(&self, name: &str) -> Option<TopicLayout> {
        self.lock().topics.get(name).map(|t| TopicLayout {
            partitions: t.partitions.len(),
            replication_factor: t.replication_factor,
            configs: t.configs.clone(),
        })
    }

    /// Sets one config of an existing topic (e.g. `cleanup.policy`).
    pub fn set_topic_config(&self, topic: &str, key: &str, value: &str) {
        let mut state = self.lock();
        if let Some(t) = state.topics.get_mut(topic) {
            t.configs.retain(|(k, _)| k != key);
            t.configs.push((key.to_owned(), value.to_owned()));
        }
    }

    /// Sets the cluster id the admin reports (`None`: the broker reports none).
    pub fn set_cluster_id(&self, id: Option<&str>) {
        self.lock().cluster_id = id.map(str::to_owned);
    }

    /// Makes every later write to `topic` fail with `error` (`None` heals it).
    pub fn fail_writes(&self, topic: &str, error: Option<&str>) {
        let mut state = self.lock();
        match error {
            Some(e) => state.failing_writes.insert(topic.to_owned(), e.to_owned()),
            None => state.failing_writes.remove(topic),
        };
    }

    /// Makes every later write to `topic` take `delay` before it is durable (`None`: at once).
    pub fn slow_writes(&self, topic: &str, delay: Option<Duration>) {
        let mut state = self.lock();
        match delay {
            Some(d) => state.slow_writes.insert(topic.to_owned(), d),
            None => state.slow_writes.remove(topic),
        };
    }

    /// The injected failure and delay of writes to `topic`.
    pub(crate) fn write_faults(&self, topic: &str) -> (Option<String>, Option<Duration>) {
        let state = self.lock();
        (
            state.failing_writes.get(topic).cloned(),
            state.slow_writes.get(topic).copied(),
        )
    }

    /// Appends a record (creating the topic with one partition when missing);
    /// returns its partition and offset.
    pub fn append(&self, topic: &str, record: NewRecord) -> (i32, i64) {
        let placed = {
            let mut state = self.lock();
            let auto = state.auto_partitions;
            let t = state.topics.entry(topic.to_owned()).or_insert_with(|| MemTopic {
                partitions: vec![Vec::new(); auto.max(1) as usize],
                ..MemTopic::default()
            });
            let count = t.partitions.len();
            let partition = match (record.partition, &record.key) {
                (Some(p), _) => p.clamp(0, count as i32 - 1) as usize,
                (None, Some(key)) => (to_positive(murmur2(key)) as usize) % count,
                (None, None) => {
                    t.round_robin = (t.round_robin + 1) % count;
                    t.round_robin
                }
            };
            let log = &mut t.partitions[partition];
            let offset = log.len() as i64;
            log.push(StoredRecord {
                topic: topic.to_owned(),
                partition: partition as i32,
                offset,
                key: record.key,
                value: record.value,
                headers: record.headers,
                timestamp: record.timestamp,
            });
            (partition as i32, offset)
        };
        self.appended.notify_waiters();
        placed
    }

    /// Every record of a topic, partition by partition, in offset order.
    pub fn records(&self, topic: &str) -> Vec<StoredRecord> {
        self.lock()
            .topics
            .get(topic)
            .map(|t| t.partitions.iter().flatten().cloned().collect())
            .unwrap_or_default()
    }

    /// The offsets committed by a consumer group: `(topic, partition, next offset)`, sorted.
    pub fn committed(&self, group: &str) -> Vec<(String, i32, i64)> {
        self.lock()
            .groups
            .get(group)
            .map(|g| g.iter().map(|((t, p), o)| (t.clone(), *p, *o)).collect())
            .unwrap_or_default()
    }

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

    /// Waits out an injected delay, then fails with an injected error, for a write to `topic`.
    pub(crate) async fn before_write(&self, topic: &str) -> Result<(), String> {
        let (fail, delay) = self.write_faults(topic);
        if let Some(d) = delay {
            tokio::time::sleep(d).await;
        }
        match fail {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
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

    /// Makes the next consumer poll fail with `error` (queued after earlier ones).
    pub fn fail_next_poll(&self, error: &str) {
        self.lock().consume_errors.push(error.to_owned());
    }

    /// Makes every later offset commit fail with `error` (`None` heals it).
    pub fn fail_commits(&self, error: Option<&str>) {
        self.lock().failing_commits = error.map(str::to_owned);
    }

    /// Makes every later admin request fail with `error` (`None` heals it).
    pub fn fail_admin(&self, error: Option<&str>) {
        self.lock().failing_admin = error.map(str::to_owned);
    }

    /// Settings of the clients made for `role` (`producer`, `consumer`, `dlq`), oldest first.
    pub fn client_settings(&self, role: &str) -> Vec<ClientSettings> {
        self.lock()
            .clients
            .iter()
            .filter(|(r, _)| *r == role)
            .map(|(_, s)| s.clone())
            .collect()
    }

    fn admin_check(&self) -> Result<(), KafkaStoreError> {
        match &self.lock().failing_admin {
            Some(e) => Err(KafkaStoreError::Other(e.clone())),
            None => Ok(()),
        }
    }
}

fn new_record(record: &OutgoingRecord<'_>) -> NewRecord {
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

enum Subscription {
    Name(String),
    Pattern(Regex),
}

/// A sink-task consumer of one group in a [`MemoryCluster`]; the only member of its group.
pub struct MemoryConsumer {
    cluster: MemoryCluster,
    group: String,
    subscription: Vec<Subscription>,
    /// Next offset to read per partition, once reading started there.
    positions: HashMap<(String, i32), i64>,
    paused: bool,
}

impl MemoryConsumer {
    /// A consumer in `group`, not yet subscribed.
    pub fn new(cluster: &MemoryCluster, group: &str) -> Self {
        MemoryConsumer {
            cluster: cluster.clone(),
            group: group.to_owned(),
            subscription: Vec::new(),
            positions: HashMap::new(),
            paused: false,
        }
    }

    fn subscribed(&self, topic: &str) -> bool {
        self.subscription.iter().any(|s| match s {
            Subscription::Name(n) => n == topic,
            Subscription::Pattern(r) => r.is_match(topic),
        })
    }

    /// The next unread record of any assigned partition, or the next injected error.
    fn next(&mut self) -> Option<Result<ConsumedRecord, ConsumeError>> {
        let state = self.cluster.lock();
        let mut state = state;
        if !state.consume_errors.is_empty() {
            return Some(Err(ConsumeError(state.consume_errors.remove(0))));
        }
        if self.paused {
            return None;
        }
        let committed = state.groups.get(&self.group);
        for (name, topic) in &state.topics {
            if !self.subscribed(name) {
                continue;
            }
            for (p, log) in topic.partitions.iter().enumerate() {
                let key = (name.clone(), p as i32);
                let pos = *self
                    .positions
                    .entry(key.clone())
                    .or_insert_with(|| committed.and_then(|c| c.get(&key)).copied().unwrap_or(0));
                if let Some(r) = log.get(pos as usize) {
                    self.positions.insert(key, pos + 1);
                    return Some(Ok(ConsumedRecord {
                        topic: r.topic.clone(),
                        partition: r.partition,
                        offset: r.offset,
                        key: r.key.clone(),
                        value: r.value.clone(),
                        headers: r.headers.clone(),
                        timestamp: r
                            .timestamp
                            .map_or(KafkaTimestamp::NotAvailable, KafkaTimestamp::CreateTime),
                    }));
                }
            }
        }
        None
    }
}

impl SinkConsumer for MemoryConsumer {
    fn subscribe(&mut self, topics: &[String]) -> Result<(), KafkaStoreError> {
        self.subscription = topics
            .iter()
            .map(|t| {
                if t.starts_with('^') {
                    Regex::new(t)
                        .map(Subscription::Pattern)
                        .map_err(|e| KafkaStoreError::Other(format!("invalid pattern {t}: {e}")))
                } else {
                    Ok(Subscription::Name(t.clone()))
                }
            })
            .collect::<Result<_, _>>()?;
        Ok(())
    }

    async fn recv(&mut self, wait: Duration) -> Option<Result<ConsumedRecord, ConsumeError>> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Registered before looking, so an append in between still wakes us.
            let appended = self.cluster.appended.clone();
            let notified = appended.notified();
            if let Some(r) = self.next() {
                return Some(r);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return None;
            }
        }
    }

    async fn commit(&mut self, offsets: &[GroupOffset]) -> Result<(), KafkaStoreError> {
        let mut state = self.cluster.lock();
        if let Some(e) = &state.failing_commits {
            return Err(KafkaStoreError::Other(e.clone()));
        }
        let group = state.groups.entry(self.group.clone()).or_default();
        for (t, p, o) in offsets {
            group.insert((t.clone(), *p), *o);
        }
        Ok(())
    }

    fn set_paused(&mut self, paused: bool) -> Result<(), KafkaStoreError> {
        self.paused = paused;
        Ok(())
    }
}

#[async_trait]
impl DeadLetterQueue for MemoryCluster {
    async fn send(&self, record: &OutgoingRecord<'_>) -> Result<(), ProduceError> {
        self.before_write(record.topic).await.map_err(ProduceError)?;
        self.append(record.topic, new_record(record));
        Ok(())
    }
}

#[async_trait]
impl TopicAdmin for MemoryCluster {
    async fn partition_count(&self, topic: &str) -> Result<Option<usize>, KafkaStoreError> {
        self.admin_check()?;
        Ok(self.lock().topics.get(topic).map(|t| t.partitions.len()))
    }

    async fn cluster_id(&self) -> Option<String> {
        self.lock().cluster_id.clone()
    }

    async fn create(&self, spec: &TopicSpec) -> Result<bool, KafkaStoreError> {
        self.admin_check()?;
        // The broker's default is one partition.
        Ok(self.create_topic_with(
            &spec.name,
            spec.partitions.unwrap_or(1),
            spec.replication_factor,
            spec.configs.clone(),
        ))
    }

    async fn cleanup_policy(&self, topic: &str) -> Result<Option<String>, KafkaStoreError> {
        self.admin_check()?;
        let state = self.lock();
        let configs = state
            .topics
            .get(topic)
            .map(|t| t.configs.as_slice())
            .unwrap_or_default();
        // Brokers report their default, `delete`, for a topic created without one.
        Ok(Some(
            configs
                .iter()
                .find(|(k, _)| k == "cleanup.policy")
                .map_or_else(|| "delete".to_owned(), |(_, v)| v.clone()),
        ))
    }

    async fn delete_group(&self, group: &str) -> Result<(), KafkaStoreError> {
        self.admin_check()?;
        self.lock().groups.remove(group);
        Ok(())
    }

    async fn alter_configs(&self, topic: &str, configs: &[(&str, &str)]) -> Result<(), KafkaStoreError> {
        self.admin_check()?;
        for (k, v) in configs {
            self.set_topic_config(topic, k, v);
        }
        Ok(())
    }
}

impl ClientFactory for MemoryCluster {
    type Producer = MemoryProducer;
    type Consumer = MemoryConsumer;

    fn producer(&self, settings: &ClientSettings) -> Result<(MemoryProducer, AckReceiver), KafkaStoreError> {
        self.lock().clients.push(("producer", settings.clone()));
        Ok(MemoryProducer::new(self))
    }

    fn sink_consumer(&self, settings: &ClientSettings) -> Result<MemoryConsumer, KafkaStoreError> {
        self.lock().clients.push(("consumer", settings.clone()));
        Ok(MemoryConsumer::new(
            self,
            settings.get("group.id").unwrap_or_default(),
        ))
    }

    fn dead_letter_queue(
        &self,
        settings: &ClientSettings,
    ) -> Result<Box<dyn DeadLetterQueue>, KafkaStoreError> {
        self.lock().clients.push(("dlq", settings.clone()));
        Ok(Box::new(self.clone()))
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

/// Java's `Utils.murmur2`, which the default partitioner hashes keys with.
pub(crate) fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let length = data.len();
    let mut h: u32 = SEED ^ (length as u32);
    let chunks = data.chunks_exact(4);
    let tail = chunks.remainder();
    for c in chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    if !tail.is_empty() {
        if tail.len() >= 3 {
            h ^= u32::from(tail[2]) << 16;
        }
        if tail.len() >= 2 {
            h ^= u32::from(tail[1]) << 8;
        }
        h ^= u32::from(tail[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// Java's `Utils.toPositive`.
pub(crate) fn to_positive(n: i32) -> i32 {
    n & 0x7fff_ffff
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur2_matches_javas() {
        // Kafka's UtilsTest.testMurmur2.
        for (input, want) in [
            (&b"21"[..], -973_932_308),
            (b"foobar", -790_332_482),
            (b"a-little-bit-long-string", -985_981_536),
            (b"a-little-bit-longer-string", -1_486_304_829),
            (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58_897_971),
            (b"abc", 479_470_107),
        ] {
            assert_eq!(murmur2(input), want, "{}", String::from_utf8_lossy(input));
        }
    }

    #[tokio::test]
    async fn a_log_reads_back_what_was_written_in_order_per_partition() {
        let cluster = MemoryCluster::new();
        cluster.create_topic("offsets", 5);
        let log = cluster.log("offsets");
        for i in 0..20u8 {
            log.send(&[b'k', i % 4], Some(&[i])).await.unwrap();
        }
        log.send(b"gone", None).await.unwrap();
        let read = log.read_to_end().await.unwrap();
        assert_eq!(read.len(), 21);
        // Equal keys land in one partition, in the order written.
        let k1: Vec<(i32, u8)> = read
            .iter()
            .filter(|r| r.key.as_deref() == Some(&[b'k', 1][..]))
            .map(|r| (r.partition, r.value.as_ref().unwrap()[0]))
            .collect();
        assert_eq!(
            k1.iter().map(|(_, v)| *v).collect::<Vec<_>>(),
            vec![1, 5, 9, 13, 17]
        );
        assert!(k1.iter().all(|(p, _)| *p == k1[0].0));
        let tomb = read
            .iter()
            .find(|r| r.key.as_deref() == Some(&b"gone"[..]))
            .unwrap();
        assert_eq!(tomb.value, None);
        for p in 0..5 {
            let offsets: Vec<i64> = read
                .iter()
                .filter(|r| r.partition == p)
                .map(|r| r.offset)
                .collect();
            assert_eq!(offsets, (0..offsets.len() as i64).collect::<Vec<_>>());
        }
    }

    #[tokio::test]
    async fn injected_write_failures_fail_sends_until_healed() {
        let cluster = MemoryCluster::new();
        let log = cluster.log("status");
        cluster.fail_writes("status", Some("Broker: Not enough in-sync replicas"));
        let err = log.send(b"k", Some(b"v")).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "could not write to topic status: Broker: Not enough in-sync replicas"
        );
        assert!(log.read_to_end().await.unwrap().is_empty());
        cluster.fail_writes("status", None);
        log.send(b"k", Some(b"v")).await.unwrap();
        assert_eq!(log.read_to_end().await.unwrap().len(), 1);
    }

    fn outgoing<'a>(topic: &'a str, key: &'a [u8], value: &'a [u8]) -> OutgoingRecord<'a> {
        OutgoingRecord {
            topic,
            partition: None,
            key: Some(key),
            value: Some(value),
            timestamp: Some(42),
            headers: &[],
        }
    }

    #[tokio::test]
    async fn held_acknowledgements_arrive_in_the_order_the_test_releases_them() {
        let cluster = MemoryCluster::new();
        cluster.hold_acks(true);
        let (producer, mut acks) = MemoryProducer::new(&cluster);
        for (seq, v) in [(7u64, &b"a"[..]), (8, b"b"), (9, b"c")] {
            producer.send(seq, &outgoing("t", b"k", v)).unwrap();
        }
        assert_eq!(cluster.held_acks(), vec![7, 8, 9]);
        assert!(acks.try_recv().is_err(), "nothing acknowledged yet");
        assert!(cluster.release_ack(9));
        assert!(cluster.fail_ack(7, "Broker: Request timed out"));
        assert!(!cluster.release_ack(7), "already answered");
        let first = acks.recv().await.unwrap();
        assert_eq!((first.seq, first.result), (9, Ok((0, 0))));
        let second = acks.recv().await.unwrap();
        assert_eq!(second.seq, 7);
        assert_eq!(
            second.result,
            Err(ProduceError("Broker: Request timed out".into()))
        );
        assert_eq!(cluster.held_acks(), vec![8]);
        let stored = cluster.records("t");
        assert_eq!(stored.len(), 1, "a failed record is not written");
        assert_eq!(stored[0].value.as_deref(), Some(&b"c"[..]));
        assert_eq!(stored[0].timestamp, Some(42));

        cluster.fill_queue(1);
        assert_eq!(
            producer.send(10, &outgoing("t", b"k", b"d")),
            Err(SendError::QueueFull)
        );
        cluster.fail_sends(Some("Local: Invalid argument"));
        assert_eq!(
            producer.send(11, &outgoing("t", b"k", b"e")),
            Err(SendError::Failed(ProduceError("Local: Invalid argument".into())))
        );
    }

    #[tokio::test]
    async fn a_consumer_starts_at_its_groups_committed_offsets_and_pauses() {
        let cluster = MemoryCluster::new();
        cluster.create_topic("in", 2);
        for p in [0, 1, 0] {
            cluster.append(
                "in",
                NewRecord {
                    partition: Some(p),
                    value: Some(vec![p as u8]),
                    ..NewRecord::default()
                },
            );
        }
        let mut first = MemoryConsumer::new(&cluster, "g");
        first.subscribe(&["in".into()]).unwrap();
        let r = first.recv(Duration::from_millis(10)).await.unwrap().unwrap();
        assert_eq!((r.partition, r.offset), (0, 0));
        first.commit(&[("in".into(), 0, 1)]).await.unwrap();
        assert_eq!(cluster.committed("g"), vec![("in".to_string(), 0, 1)]);

        let mut second = MemoryConsumer::new(&cluster, "g");
        second.subscribe(&["^i.*".into()]).unwrap();
        let mut read = Vec::new();
        while let Some(r) = second.recv(Duration::from_millis(10)).await {
            let r = r.unwrap();
            read.push((r.partition, r.offset));
        }
        assert_eq!(
            read,
            vec![(0, 1), (1, 0)],
            "partition 0 resumes after its committed offset"
        );

        second.set_paused(true).unwrap();
        cluster.append("in", NewRecord::default());
        assert!(second.recv(Duration::from_millis(10)).await.is_none());
        second.set_paused(false).unwrap();
        assert!(second.recv(Duration::from_millis(10)).await.is_some());

        cluster.fail_next_poll("Broker: Unknown topic or partition");
        assert_eq!(
            second.recv(Duration::from_millis(10)).await,
            Some(Err(ConsumeError("Broker: Unknown topic or partition".into())))
        );
    }

    #[tokio::test]
    async fn a_waiting_consumer_wakes_for_a_new_record() {
        let cluster = MemoryCluster::new();
        cluster.create_topic("in", 1);
        let mut consumer = MemoryConsumer::new(&cluster, "g");
        consumer.subscribe(&["in".into()]).unwrap();
        let writer = cluster.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            writer.append("in", NewRecord::default());
        });
        let started = std::time::Instant::now();
        assert!(consumer.recv(Duration::from_secs(5)).await.is_some());
        assert!(started.elapsed() < Duration::from_secs(4));
    }

    #[tokio::test]
    async fn an_internal_topic_with_another_cleanup_policy_is_refused_in_connects_words() {
        let cluster = MemoryCluster::new();
        let spec = TopicSpec::compacted("connect-configs", 1, Some(1));
        cluster
            .ensure_internal_topic(&spec, "config.storage.topic", "connector configurations")
            .await
            .unwrap();
        assert_eq!(
            cluster.topic_layout("connect-configs"),
            Some(TopicLayout::new(1, Some(1), &[("cleanup.policy", "compact")]))
        );
        // Existing and compacted: accepted as is.
        cluster
            .ensure_internal_topic(&spec, "config.storage.topic", "connector configurations")
            .await
            .unwrap();

        cluster.create_topic("statuses", 5);
        let err = cluster
            .ensure_internal_topic(
                &TopicSpec::compacted("statuses", 5, None),
                "status.storage.topic",
                "connector and task statuses",
            )
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Topic 'statuses' supplied via the 'status.storage.topic' property is required to have \
             'cleanup.policy=compact' to guarantee consistency and durability of connector and task \
             statuses, but found the topic currently has 'cleanup.policy=delete'. Continuing would likely \
             result in eventually losing connector and task statuses and problems restarting this Connect \
             cluster in the future. Change the 'status.storage.topic' property in the Connect worker \
             configurations to use a topic with 'cleanup.policy=compact'."
        );
        cluster.set_topic_config("statuses", "cleanup.policy", "compact,delete");
        assert!(cluster
            .ensure_internal_topic(&TopicSpec::compacted("statuses", 5, None), "k", "p")
            .await
            .is_err());
    }
}
