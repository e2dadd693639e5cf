//! An in-memory Kafka cluster for unit tests of the logic above the clients
//! (stores, herder, task engines): topics with partitions and offsets, keyed
//! appends partitioned as Java's producer does, and failures a test can inject.
//!
//! Only for tests (feature `memory`): integration tests use a real broker.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::ClientSettings;

mod admin;
mod consumer;
mod log;
mod partitioner;
mod producer;
#[cfg(test)]
mod tests;

pub use consumer::MemoryConsumer;
pub use log::MemoryLog;
pub use producer::MemoryProducer;

use partitioner::{murmur2, to_positive};
use producer::ProducerFaults;

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
