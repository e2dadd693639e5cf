//! An in-memory Kafka cluster for unit tests of the logic above the clients
//! (stores, herder, task engines): topics with partitions and offsets, keyed
//! appends partitioned as Java's producer does, and failures a test can inject.
//!
//! Only for tests (feature `memory`): integration tests use a real broker.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;

use crate::log::{InternalLog, LogRecord};
use crate::KafkaStoreError;

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
    pub fn topic_layout(&self, name: &str) -> Option<(usize, Option<i32>, Vec<(String, String)>)> {
        self.lock()
            .topics
            .get(name)
            .map(|t| (t.partitions.len(), t.replication_factor, t.configs.clone()))
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
        assert_eq!(k1.iter().map(|(_, v)| *v).collect::<Vec<_>>(), vec![1, 5, 9, 13, 17]);
        assert!(k1.iter().all(|(p, _)| *p == k1[0].0));
        let tomb = read.iter().find(|r| r.key.as_deref() == Some(&b"gone"[..])).unwrap();
        assert_eq!(tomb.value, None);
        for p in 0..5 {
            let offsets: Vec<i64> = read.iter().filter(|r| r.partition == p).map(|r| r.offset).collect();
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
}
