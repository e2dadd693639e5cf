//! The herder against an in-memory Kafka cluster: what each REST change writes to the
//! config and status topics, what a restarted worker restores (`lifecycle`), and how
//! failing or hung plugins and a failing config topic are handled (`failures`).

mod failures;
mod lifecycle;
mod plugins;
mod validate;

use std::sync::Arc;
use std::time::{Duration, Instant};

use ferry_core::SourceTask;
use ferry_kafka::memory::MemoryCluster;
use ferry_kafka::records::{ConfigRecord, StatusKey, StatusRecord};
use ferry_kafka::KafkaClients;
use ferry_rest::entities::{NullableConfig, State};
use ferry_rest::Herder;
use tokio::task::JoinHandle;

use super::actor::{EngineSpawner, StopLimits, Supervision};
use super::start::LoadedStores;
use super::{Loggers, Worker};
use crate::engine::{self, TaskEnv, WorkerContext};
use crate::store::{ConfigStore, OffsetStore, StatusStore};
use crate::{Mode, WorkerConfig};
use plugins::registry;

const CONFIGS: &str = "test-configs";
const OFFSETS: &str = "test-offsets";
const STATUSES: &str = "test-statuses";

/// Short stop limits, so tests with hung plugins finish quickly.
const LIMITS: StopLimits = StopLimits {
    connector: Duration::from_millis(300),
    task: Duration::from_millis(300),
};

/// Task engines whose Kafka clients are the in-memory cluster's.
struct MemoryEngines(MemoryCluster);

impl EngineSpawner for MemoryEngines {
    fn spawn_source(&self, env: TaskEnv, task: Box<dyn SourceTask>) -> JoinHandle<()> {
        let cluster = self.0.clone();
        tokio::spawn(async move { engine::source::run_with(env, task, &cluster).await })
    }
    fn spawn_sink(&self, env: TaskEnv, task: Box<dyn ferry_core::SinkTask>) -> JoinHandle<()> {
        let cluster = self.0.clone();
        tokio::spawn(async move { engine::sink::run_with(env, task, &cluster).await })
    }
}

fn worker_config() -> WorkerConfig {
    let props = [
        ("bootstrap.servers", "memory:9092"),
        ("group.id", "test"),
        ("config.storage.topic", CONFIGS),
        ("offset.storage.topic", OFFSETS),
        ("status.storage.topic", STATUSES),
        (
            "key.converter",
            "org.apache.kafka.connect.storage.StringConverter",
        ),
        (
            "value.converter",
            "org.apache.kafka.connect.storage.StringConverter",
        ),
        ("offset.flush.interval.ms", "100"),
        ("rest.advertised.host.name", "test-worker"),
    ];
    let props = props
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut config = WorkerConfig::parse(props, Mode::Distributed).expect("test worker config");
    // The in-memory cluster has no coordinator for Connect's group protocol (that is
    // tested against brokers in crates/ferry/tests/cluster.rs): the worker runs alone.
    config.group.join_group = false;
    config
}

/// Starts a worker whose internal topics live in `cluster`.
async fn start_worker(cluster: &MemoryCluster) -> Arc<Worker> {
    let config = worker_config();
    let status = StatusStore::new(Some(Arc::new(cluster.log(STATUSES))), config.worker_id.clone());
    let stores = LoadedStores::load(
        ConfigStore::on_log(cluster.log(CONFIGS)),
        OffsetStore::new(Box::new(cluster.log(OFFSETS))),
        status,
    )
    .await
    .expect("stores load");
    let ctx = Arc::new(WorkerContext {
        config,
        registry: registry(),
        offsets: stores.offsets,
        status: stores.status,
        admin: Arc::new(cluster.clone()),
        clients: KafkaClients::default(),
    });
    let supervision = Supervision {
        limits: LIMITS,
        engines: Arc::new(MemoryEngines(cluster.clone())),
    };
    let loggers = Loggers::new("INFO", None);
    Worker::launch(ctx, stores.config, stores.state, loggers, None, supervision)
        .await
        .expect("worker starts")
}

/// A connector config as the REST layer hands it on (with its name).
fn config(name: &str, class: &str, extra: &[(&str, &str)]) -> NullableConfig {
    let mut c = NullableConfig::new();
    c.insert("name".into(), Some(name.into()));
    c.insert("connector.class".into(), Some(class.into()));
    for (k, v) in extra {
        c.insert((*k).into(), Some((*v).into()));
    }
    c
}

/// The config topic as records, oldest first.
fn config_records(cluster: &MemoryCluster) -> Vec<ConfigRecord> {
    cluster
        .records(CONFIGS)
        .into_iter()
        .map(|r| {
            let key = String::from_utf8(r.key.expect("config records have keys")).unwrap();
            ConfigRecord::decode(&key, r.value.as_deref()).expect("a record Connect can read")
        })
        .collect()
}

fn config_keys(cluster: &MemoryCluster) -> Vec<String> {
    config_records(cluster).iter().map(ConfigRecord::key).collect()
}

/// The last status record of `key` on the status topic (`None` value: a tombstone).
fn last_status(cluster: &MemoryCluster, key: &StatusKey) -> Option<Option<StatusRecord>> {
    let key = key.encode();
    cluster
        .records(STATUSES)
        .into_iter()
        .rfind(|r| r.key.as_deref() == Some(key.as_bytes()))
        .map(|r| {
            r.value
                .map(|v| StatusRecord::decode(&key, &v).expect("a status Connect can read"))
        })
}

/// Waits up to 5 s for `check` to hold.
async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn connector_state(w: &Worker, name: &str) -> Option<State> {
    w.connector_status(name).await.ok().map(|s| s.connector.state)
}

async fn wait_for_state(w: &Worker, name: &str, want: State) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let now = connector_state(w, name).await;
        if now == Some(want) {
            return;
        }
        assert!(Instant::now() < deadline, "{name} is {now:?}, not {want:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn wait_for_tasks(w: &Worker, name: &str, want: &[State]) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let now: Vec<State> = match w.connector_status(name).await {
            Ok(s) => s.tasks.iter().map(|t| t.state).collect(),
            Err(_) => Vec::new(),
        };
        if now == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{name}'s tasks are {now:?}, not {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
