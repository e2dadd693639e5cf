//! Test support for the engines: a worker over an in-memory Kafka cluster, and
//! scripted source and sink tasks that record what the engine asked of them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use ferry_core::{
    CommittedOffset, ConfigMap, ConnectError, OffsetMap, PluginRegistry, Position, Record, SinkTask,
    SinkTaskContext, SourceTask, SourceTaskContext, TopicPartition, Value,
};
use ferry_kafka::memory::{MemoryCluster, MemoryLog};
use ferry_kafka::records::{State, StatusKey};
use ferry_kafka::{InternalLog, KafkaClients};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::{TaskEnv, WorkerContext};
use crate::store::offsets::RawEntry;
use crate::store::{OffsetBackend, OffsetStore, StatusStore, StoreError};
use crate::{Mode, WorkerConfig};

/// The offsets topic of the test worker.
pub const OFFSETS_TOPIC: &str = "connect-offsets";

/// Source offsets kept in the cluster's offsets topic.
struct LogOffsets(MemoryLog);

#[async_trait]
impl OffsetBackend for LogOffsets {
    async fn load(&self) -> Result<Vec<RawEntry>, StoreError> {
        Ok(self
            .0
            .read_to_end()
            .await?
            .into_iter()
            .filter_map(|r| Some((r.key?, r.value)))
            .collect())
    }
    async fn write(&self, entries: &[RawEntry]) -> Result<(), StoreError> {
        for (k, v) in entries {
            self.0.send(k, v.as_deref()).await?;
        }
        Ok(())
    }
}

/// One task's world: the cluster, the worker around it, and the task's controls.
pub struct Harness {
    /// The in-memory cluster.
    pub cluster: MemoryCluster,
    /// The task's environment.
    pub env: TaskEnv,
    /// Pauses and resumes the connector.
    pub paused: watch::Sender<bool>,
}

impl Harness {
    /// A worker with `worker` settings over `connector` config (connector `c`, task 0).
    pub fn new(worker: &[(&str, &str)], connector: &[(&str, &str)]) -> Harness {
        let mut props = ferry_core::config::config_map(&[
            ("bootstrap.servers", "memory:9092"),
            ("offset.storage.file.filename", "/nonexistent/offsets"),
            (
                "key.converter",
                "org.apache.kafka.connect.storage.StringConverter",
            ),
            (
                "value.converter",
                "org.apache.kafka.connect.storage.StringConverter",
            ),
        ]);
        for (k, v) in worker {
            props.insert((*k).into(), (*v).into());
        }
        let config = WorkerConfig::parse(props, Mode::Standalone).expect("worker config");
        let mut registry = PluginRegistry::new();
        registry
            .register(ferry_converters::plugins())
            .register(ferry_transforms::plugins());
        let cluster = MemoryCluster::new();
        let offsets = OffsetStore::new(Box::new(LogOffsets(cluster.log(OFFSETS_TOPIC))));
        let worker = Arc::new(WorkerContext {
            config,
            registry,
            offsets: Arc::new(offsets),
            status: Arc::new(StatusStore::new(None, "worker-1".into())),
            admin: Arc::new(cluster.clone()),
            clients: KafkaClients::default(),
        });
        let (paused, paused_rx) = watch::channel(false);
        let env = TaskEnv {
            connector: "c".into(),
            task: 0,
            task_config: ConfigMap::new(),
            connector_config: ferry_core::config::config_map(connector),
            worker,
            cancel: CancellationToken::new(),
            paused: paused_rx,
        };
        Harness { cluster, env, paused }
    }

    /// The task's status: state and trace.
    pub fn status(&self) -> Option<(State, Option<String>)> {
        self.env
            .worker
            .status
            .get(&StatusKey::Task("c".into(), 0))
            .map(|r| (r.state, r.trace))
    }

    /// The committed source offset of `partition`, as the offsets store reads it back.
    pub fn stored_offset(&self, partition: &OffsetMap) -> Option<OffsetMap> {
        self.env.worker.offsets.get("c", partition)
    }

    /// A second task environment over the same worker (a restarted task).
    pub fn restarted_env(&self) -> TaskEnv {
        TaskEnv {
            connector: self.env.connector.clone(),
            task: self.env.task,
            task_config: self.env.task_config.clone(),
            connector_config: self.env.connector_config.clone(),
            worker: self.env.worker.clone(),
            cancel: CancellationToken::new(),
            paused: self.env.paused.clone(),
        }
    }
}

/// A one-entry offset map.
pub fn map(key: &str, value: i64) -> OffsetMap {
    let mut m = OffsetMap::new();
    m.insert(key.into(), value.into());
    m
}

/// A source record for `topic` with a string value, at `position` of source partition `part`.
pub fn source_record(topic: &str, part: i64, position: i64, value: &str) -> Record {
    let mut r = Record::new(topic, None, Value::String(value.into()));
    r.key = Value::String(format!("k{position}"));
    r.position = Position::Source {
        partition: Arc::new(map("part", part)),
        offset: Arc::new(map("pos", position)),
    };
    r
}

/// What a scripted task was asked to do.
#[derive(Default)]
pub struct Calls {
    /// Source: every `commit` call's offsets.
    pub commits: Vec<Vec<CommittedOffset>>,
    /// Sink: every `put` batch, as the string values it carried.
    pub puts: Vec<Vec<String>>,
    /// Sink: every `flush` call's offsets.
    pub flushes: Vec<HashMap<TopicPartition, i64>>,
    /// `stop` was called.
    pub stopped: bool,
}

/// Shared view of a scripted task's calls.
pub type CallLog = Arc<Mutex<Calls>>;

/// A source task returning queued batches from `poll`, then empty batches.
pub struct ScriptedSource {
    /// Batches `poll` returns, in order.
    pub batches: Vec<Vec<Record>>,
    /// What the engine called.
    pub calls: CallLog,
}

#[async_trait]
impl SourceTask for ScriptedSource {
    async fn start(&mut self, _config: &ConfigMap, _ctx: SourceTaskContext) -> Result<(), ConnectError> {
        Ok(())
    }
    async fn poll(&mut self) -> Result<Vec<Record>, ConnectError> {
        if self.batches.is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
            return Ok(Vec::new());
        }
        Ok(self.batches.remove(0))
    }
    async fn commit(&mut self, durable: &[CommittedOffset]) -> Result<(), ConnectError> {
        self.calls.lock().unwrap().commits.push(durable.to_vec());
        Ok(())
    }
    async fn stop(&mut self) -> Result<(), ConnectError> {
        self.calls.lock().unwrap().stopped = true;
        Ok(())
    }
}

/// How a scripted sink's next `put` or `flush` ends.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// Fails with a retriable error.
    Retriable(&'static str),
    /// Fails for good.
    Fatal(&'static str),
}

impl Outcome {
    fn error(&self) -> ConnectError {
        match self {
            Outcome::Retriable(m) => ConnectError::retriable(*m),
            Outcome::Fatal(m) => ConnectError::data(*m),
        }
    }
}

/// A sink task recording what it is given; `put` and `flush` fail as scripted.
#[derive(Default)]
pub struct ScriptedSink {
    /// What the engine called.
    pub calls: CallLog,
    /// Outcomes of the next `put` calls (then success).
    pub put_failures: Vec<Outcome>,
    /// Outcomes of the next `flush` calls (then success).
    pub flush_failures: Vec<Outcome>,
}

#[async_trait]
impl SinkTask for ScriptedSink {
    async fn start(&mut self, _config: &ConfigMap, _ctx: SinkTaskContext) -> Result<(), ConnectError> {
        Ok(())
    }
    async fn put(&mut self, records: &[Record]) -> Result<(), ConnectError> {
        if !self.put_failures.is_empty() {
            return Err(self.put_failures.remove(0).error());
        }
        let values = records
            .iter()
            .map(|r| match &r.value {
                Value::String(s) => s.clone(),
                other => format!("{other:?}"),
            })
            .collect();
        self.calls.lock().unwrap().puts.push(values);
        Ok(())
    }
    async fn flush(&mut self, offsets: &HashMap<TopicPartition, i64>) -> Result<(), ConnectError> {
        if !self.flush_failures.is_empty() {
            return Err(self.flush_failures.remove(0).error());
        }
        self.calls.lock().unwrap().flushes.push(offsets.clone());
        Ok(())
    }
    async fn stop(&mut self) -> Result<(), ConnectError> {
        self.calls.lock().unwrap().stopped = true;
        Ok(())
    }
}

/// Waits until `done` holds, for at most five seconds.
pub async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting: {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
