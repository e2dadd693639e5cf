//! The herder against an in-memory Kafka cluster: what each REST change writes to the
//! config and status topics, what a restarted worker restores, and how failing or hung
//! plugins are handled.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use ferry_core::config::ConfigDef;
use ferry_core::{
    ConfigMap, ConnectError, Connector, ConnectorContext, PluginDescriptor, PluginFactory, PluginRegistry,
    Record, SourceConnector, SourceTask, SourceTaskContext,
};
use ferry_kafka::memory::MemoryCluster;
use ferry_kafka::records::{ConfigRecord, State as StoredState, StatusKey, StatusRecord, TargetState};
use ferry_kafka::KafkaClients;
use ferry_rest::entities::{InitialState, NullableConfig, RestartRequest, State};
use ferry_rest::{Herder, HerderError};
use tokio::task::JoinHandle;

use super::actor::{EngineSpawner, StopLimits, Supervision};
use super::start::LoadedStores;
use super::{Loggers, Worker};
use crate::engine::{self, TaskEnv, WorkerContext};
use crate::store::{ConfigStore, OffsetStore, StatusStore};
use crate::{Mode, WorkerConfig};

const CONFIGS: &str = "test-configs";
const OFFSETS: &str = "test-offsets";
const STATUSES: &str = "test-statuses";

/// Short stop limits, so tests with hung plugins finish quickly.
const LIMITS: StopLimits = StopLimits {
    connector: Duration::from_millis(300),
    task: Duration::from_millis(300),
};

// ---- test plugins -------------------------------------------------------------------

/// How many connector instances have been stopped (by any test; compare differences).
static STOPPED: AtomicUsize = AtomicUsize::new(0);

/// A source connector with `tasks.max` tasks that produce nothing.
#[derive(Default)]
struct QuietSource {
    config: ConfigMap,
}

#[async_trait]
impl Connector for QuietSource {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
    }
    async fn start(
        &mut self,
        config: &ConfigMap,
        _ctx: Arc<dyn ConnectorContext>,
    ) -> Result<(), ConnectError> {
        self.config = config.clone();
        Ok(())
    }
    fn task_configs(&self, max_tasks: usize) -> Result<Vec<ConfigMap>, ConnectError> {
        let generation = self.config.get("generation").cloned().unwrap_or_default();
        Ok((0..max_tasks)
            .map(|i| {
                [
                    ("n".to_owned(), i.to_string()),
                    ("generation".to_owned(), generation.clone()),
                ]
                .into_iter()
                .collect()
            })
            .collect())
    }
    async fn stop(&mut self) -> Result<(), ConnectError> {
        STOPPED.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

impl SourceConnector for QuietSource {
    fn create_task(&self) -> Box<dyn SourceTask> {
        Box::new(QuietTask { hang_on_stop: false })
    }
}

/// A source task that waits for records that never come.
struct QuietTask {
    hang_on_stop: bool,
}

#[async_trait]
impl SourceTask for QuietTask {
    async fn start(&mut self, _config: &ConfigMap, _ctx: SourceTaskContext) -> Result<(), ConnectError> {
        Ok(())
    }
    async fn poll(&mut self) -> Result<Vec<Record>, ConnectError> {
        tokio::time::sleep(Duration::from_millis(20)).await;
        Ok(Vec::new())
    }
    async fn stop(&mut self) -> Result<(), ConnectError> {
        if self.hang_on_stop {
            std::future::pending::<()>().await;
        }
        Ok(())
    }
}

/// A connector whose `stop()` never returns.
struct HungStopSource;

#[async_trait]
impl Connector for HungStopSource {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
    }
    async fn start(
        &mut self,
        _config: &ConfigMap,
        _ctx: Arc<dyn ConnectorContext>,
    ) -> Result<(), ConnectError> {
        Ok(())
    }
    fn task_configs(&self, _max_tasks: usize) -> Result<Vec<ConfigMap>, ConnectError> {
        Ok(Vec::new())
    }
    async fn stop(&mut self) -> Result<(), ConnectError> {
        std::future::pending().await
    }
}

impl SourceConnector for HungStopSource {
    fn create_task(&self) -> Box<dyn SourceTask> {
        Box::new(QuietTask { hang_on_stop: false })
    }
}

/// A connector with one task whose `stop()` never returns.
#[derive(Default)]
struct HungTaskSource(QuietSource);

#[async_trait]
impl Connector for HungTaskSource {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
    }
    async fn start(
        &mut self,
        config: &ConfigMap,
        ctx: Arc<dyn ConnectorContext>,
    ) -> Result<(), ConnectError> {
        self.0.start(config, ctx).await
    }
    fn task_configs(&self, max_tasks: usize) -> Result<Vec<ConfigMap>, ConnectError> {
        self.0.task_configs(max_tasks)
    }
    async fn stop(&mut self) -> Result<(), ConnectError> {
        Ok(())
    }
}

impl SourceConnector for HungTaskSource {
    fn create_task(&self) -> Box<dyn SourceTask> {
        Box::new(QuietTask { hang_on_stop: true })
    }
}

/// A connector whose `start()` fails.
struct FailingSource;

#[async_trait]
impl Connector for FailingSource {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
    }
    async fn start(
        &mut self,
        _config: &ConfigMap,
        _ctx: Arc<dyn ConnectorContext>,
    ) -> Result<(), ConnectError> {
        Err(ConnectError::fatal("database unreachable at db:5432"))
    }
    fn task_configs(&self, _max_tasks: usize) -> Result<Vec<ConfigMap>, ConnectError> {
        Ok(Vec::new())
    }
    async fn stop(&mut self) -> Result<(), ConnectError> {
        Ok(())
    }
}

impl SourceConnector for FailingSource {
    fn create_task(&self) -> Box<dyn SourceTask> {
        Box::new(QuietTask { hang_on_stop: false })
    }
}

fn source(class: &'static str, make: fn() -> Box<dyn SourceConnector>) -> PluginDescriptor {
    PluginDescriptor {
        class,
        version: "test",
        factory: PluginFactory::Source(make),
    }
}

fn registry() -> PluginRegistry {
    let mut r = PluginRegistry::new();
    r.register(ferry_converters::plugins()).register([
        source("test.QuietSource", || Box::<QuietSource>::default()),
        source("test.HungStopSource", || Box::new(HungStopSource)),
        source("test.HungTaskSource", || Box::<HungTaskSource>::default()),
        source("test.FailingSource", || Box::new(FailingSource)),
    ]);
    r
}

// ---- a worker on an in-memory cluster ------------------------------------------------

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
    WorkerConfig::parse(props, Mode::Distributed).expect("test worker config")
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
    Worker::launch(ctx, stores.config, stores.state, loggers, None, None, supervision)
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

// ---- tests -----------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_writes_the_config_then_task_configs_and_their_commit() {
    let cluster = MemoryCluster::new();
    let w = start_worker(&cluster).await;
    let info = w
        .create_connector("c", config("c", "test.QuietSource", &[("tasks.max", "2")]), None)
        .await
        .unwrap();
    assert_eq!(info.name, "c");
    wait_for_state(&w, "c", State::Running).await;
    wait_for_tasks(&w, "c", &[State::Running, State::Running]).await;

    assert_eq!(
        config_keys(&cluster),
        ["connector-c", "task-c-0", "task-c-1", "commit-c"]
    );
    let records = config_records(&cluster);
    let ConfigRecord::Task {
        config: Some(task0), ..
    } = &records[1]
    else {
        panic!("{:?}", records[1]);
    };
    assert_eq!(task0["n"], "0");
    assert_eq!(task0["task.class"], "test.QuietSourceTask");
    assert_eq!(
        records[3],
        ConfigRecord::Commit {
            connector: "c".into(),
            tasks: 2
        }
    );
    let tasks = w.task_configs("c").await.unwrap();
    assert_eq!(tasks.len(), 2);
    assert_eq!(tasks[1].config["n"], "1");

    // A second create of the same name is a conflict and writes nothing.
    let again = w
        .create_connector("c", config("c", "test.QuietSource", &[]), None)
        .await;
    assert!(matches!(again, Err(HerderError::AlreadyExists(_))), "{again:?}");
    assert_eq!(config_records(&cluster).len(), 4);
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_initial_state_is_written_before_the_config() {
    let cluster = MemoryCluster::new();
    let w = start_worker(&cluster).await;
    w.create_connector(
        "p",
        config("p", "test.QuietSource", &[]),
        Some(InitialState::Paused),
    )
    .await
    .unwrap();
    wait_for_state(&w, "p", State::Paused).await;
    wait_for_tasks(&w, "p", &[State::Paused]).await;
    let records = config_records(&cluster);
    assert_eq!(
        records[0],
        ConfigRecord::TargetState {
            connector: "p".into(),
            state: Some(TargetState::Paused)
        }
    );
    assert_eq!(records[1].key(), "connector-p");

    w.create_connector(
        "s",
        config("s", "test.QuietSource", &[]),
        Some(InitialState::Stopped),
    )
    .await
    .unwrap();
    wait_for_state(&w, "s", State::Stopped).await;
    assert!(w.task_configs("s").await.unwrap().is_empty());
    assert!(!config_keys(&cluster).contains(&"task-s-0".to_owned()));
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_resume_and_stop_write_target_states() {
    let cluster = MemoryCluster::new();
    let w = start_worker(&cluster).await;
    w.create_connector("c", config("c", "test.QuietSource", &[]), None)
        .await
        .unwrap();
    wait_for_tasks(&w, "c", &[State::Running]).await;
    let target = |state| ConfigRecord::TargetState {
        connector: "c".into(),
        state: Some(state),
    };

    w.pause_connector("c").await.unwrap();
    assert_eq!(
        config_records(&cluster).last(),
        Some(&target(TargetState::Paused))
    );
    wait_for_state(&w, "c", State::Paused).await;
    wait_for_tasks(&w, "c", &[State::Paused]).await;

    w.resume_connector("c").await.unwrap();
    assert_eq!(
        config_records(&cluster).last(),
        Some(&target(TargetState::Started))
    );
    wait_for_state(&w, "c", State::Running).await;
    wait_for_tasks(&w, "c", &[State::Running]).await;

    // Stopping also commits zero tasks, as Connect does, and removes the task statuses.
    w.stop_connector("c").await.unwrap();
    let records = config_records(&cluster);
    assert_eq!(records[records.len() - 2], target(TargetState::Stopped));
    assert_eq!(
        records[records.len() - 1],
        ConfigRecord::Commit {
            connector: "c".into(),
            tasks: 0
        }
    );
    wait_for_state(&w, "c", State::Stopped).await;
    wait_for_tasks(&w, "c", &[]).await;
    assert!(w.task_configs("c").await.unwrap().is_empty());

    let unknown = w.pause_connector("nope").await;
    assert!(matches!(unknown, Err(HerderError::NotFound(_))), "{unknown:?}");
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_writes_tombstones_and_removes_statuses() {
    let cluster = MemoryCluster::new();
    let w = start_worker(&cluster).await;
    w.create_connector("c", config("c", "test.QuietSource", &[]), None)
        .await
        .unwrap();
    wait_for_tasks(&w, "c", &[State::Running]).await;
    let stopped_before = STOPPED.load(Ordering::SeqCst);

    w.delete_connector("c").await.unwrap();
    let records = config_records(&cluster);
    assert_eq!(
        records[records.len() - 2],
        ConfigRecord::Connector {
            name: "c".into(),
            config: None
        }
    );
    assert_eq!(
        records[records.len() - 1],
        ConfigRecord::TargetState {
            connector: "c".into(),
            state: None
        }
    );
    assert!(
        STOPPED.load(Ordering::SeqCst) > stopped_before,
        "the instance was not stopped"
    );
    assert!(w.connectors().await.unwrap().is_empty());
    assert!(matches!(
        w.connector_info("c").await,
        Err(HerderError::NotFound(_))
    ));
    for key in [StatusKey::Connector("c".into()), StatusKey::Task("c".into(), 0)] {
        eventually(&format!("a tombstone for {}", key.encode()), || {
            last_status(&cluster, &key) == Some(None)
        })
        .await;
    }
    let again = w.delete_connector("c").await;
    assert!(matches!(again, Err(HerderError::NotFound(_))), "{again:?}");
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_config_is_stored_and_regenerates_the_task_configs() {
    let cluster = MemoryCluster::new();
    let w = start_worker(&cluster).await;
    let put = w
        .put_connector_config("c", config("c", "test.QuietSource", &[("generation", "1")]))
        .await
        .unwrap();
    assert!(put.created);
    wait_for_tasks(&w, "c", &[State::Running]).await;

    let put = w
        .put_connector_config(
            "c",
            config(
                "c",
                "test.QuietSource",
                &[("generation", "2"), ("tasks.max", "2")],
            ),
        )
        .await
        .unwrap();
    assert!(!put.created);
    wait_for_tasks(&w, "c", &[State::Running, State::Running]).await;
    let tasks = w.task_configs("c").await.unwrap();
    assert!(tasks.iter().all(|t| t.config["generation"] == "2"), "{tasks:?}");
    let keys = config_keys(&cluster);
    assert_eq!(
        keys,
        [
            "connector-c",
            "task-c-0",
            "commit-c",
            "connector-c",
            "task-c-0",
            "task-c-1",
            "commit-c"
        ]
    );
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flagged_restart_is_recorded_and_answers_with_what_restarts() {
    let cluster = MemoryCluster::new();
    let w = start_worker(&cluster).await;
    w.create_connector("c", config("c", "test.QuietSource", &[("tasks.max", "2")]), None)
        .await
        .unwrap();
    wait_for_tasks(&w, "c", &[State::Running, State::Running]).await;

    // Only failed instances: nothing has failed, so nothing restarts.
    let request = |only_failed| RestartRequest {
        connector: "c".into(),
        only_failed,
        include_tasks: true,
    };
    let answer = w.restart_connector_and_tasks(&request(true)).await.unwrap();
    assert_eq!(answer.connector.state, State::Running);
    assert!(answer.tasks.iter().all(|t| t.state == State::Running));

    let answer = w.restart_connector_and_tasks(&request(false)).await.unwrap();
    assert_eq!(answer.connector.state, State::Restarting);
    assert_eq!(
        answer.tasks.iter().map(|t| t.state).collect::<Vec<_>>(),
        [State::Restarting, State::Restarting]
    );
    let restarts: Vec<ConfigRecord> = config_records(&cluster)
        .into_iter()
        .filter(|r| matches!(r, ConfigRecord::Restart { .. }))
        .collect();
    assert_eq!(
        restarts,
        [
            ConfigRecord::Restart {
                connector: "c".into(),
                include_tasks: true,
                only_failed: true
            },
            ConfigRecord::Restart {
                connector: "c".into(),
                include_tasks: true,
                only_failed: false
            }
        ]
    );
    wait_for_state(&w, "c", State::Running).await;
    wait_for_tasks(&w, "c", &[State::Running, State::Running]).await;

    let unknown_task = w
        .restart_task(&ferry_rest::entities::ConnectorTaskId::new("c", 5))
        .await;
    assert!(
        matches!(unknown_task, Err(HerderError::NotFound(_))),
        "{unknown_task:?}"
    );
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_worker_restores_connectors_in_their_target_states() {
    let cluster = MemoryCluster::new();
    let first = start_worker(&cluster).await;
    for (name, initial) in [
        ("running", None),
        ("paused", Some(InitialState::Paused)),
        ("stopped", Some(InitialState::Stopped)),
    ] {
        first
            .create_connector(
                name,
                config(name, "test.QuietSource", &[("tasks.max", "2")]),
                initial,
            )
            .await
            .unwrap();
    }
    wait_for_tasks(&first, "running", &[State::Running, State::Running]).await;
    wait_for_tasks(&first, "paused", &[State::Paused, State::Paused]).await;
    first.shutdown().await;
    // Statuses reach the topic through a background writer.
    eventually("UNASSIGNED after shutdown", || {
        last_status(&cluster, &StatusKey::Connector("running".into()))
            .flatten()
            .is_some_and(|s| s.state == StoredState::Unassigned)
    })
    .await;

    let second = start_worker(&cluster).await;
    assert_eq!(
        second.connectors().await.unwrap(),
        ["running", "paused", "stopped"]
    );
    wait_for_state(&second, "running", State::Running).await;
    wait_for_state(&second, "paused", State::Paused).await;
    wait_for_state(&second, "stopped", State::Stopped).await;
    wait_for_tasks(&second, "running", &[State::Running, State::Running]).await;
    wait_for_tasks(&second, "paused", &[State::Paused, State::Paused]).await;
    assert_eq!(second.task_configs("paused").await.unwrap().len(), 2);
    assert!(second.task_configs("stopped").await.unwrap().is_empty());
    // The restored task configs equal what the connector generates: nothing new is written.
    let written = config_records(&cluster).len();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(config_records(&cluster).len(), written);
    second.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connector_that_fails_to_start_is_failed_with_its_trace() {
    let cluster = MemoryCluster::new();
    let w = start_worker(&cluster).await;
    w.create_connector("f", config("f", "test.FailingSource", &[]), None)
        .await
        .unwrap();
    wait_for_state(&w, "f", State::Failed).await;
    let status = w.connector_status("f").await.unwrap();
    let trace = status.connector.trace.unwrap_or_default();
    assert!(trace.contains("database unreachable at db:5432"), "{trace}");
    assert!(status.tasks.is_empty());
    eventually("FAILED on the status topic", || {
        last_status(&cluster, &StatusKey::Connector("f".into()))
            .flatten()
            .is_some_and(|s| s.state == StoredState::Failed && s.trace.as_deref() == Some(trace.as_str()))
    })
    .await;
    // The herder still serves other connectors.
    w.create_connector("ok", config("ok", "test.QuietSource", &[]), None)
        .await
        .unwrap();
    wait_for_state(&w, "ok", State::Running).await;
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connector_whose_stop_never_returns_does_not_block_the_herder() {
    let cluster = MemoryCluster::new();
    let w = start_worker(&cluster).await;
    w.create_connector("hung", config("hung", "test.HungStopSource", &[]), None)
        .await
        .unwrap();
    wait_for_state(&w, "hung", State::Running).await;

    let started = Instant::now();
    tokio::time::timeout(Duration::from_secs(5), w.delete_connector("hung"))
        .await
        .expect("delete returns although stop() hangs")
        .unwrap();
    let took = started.elapsed();
    assert!(
        took >= LIMITS.connector,
        "gave up after {took:?}, before the limit"
    );
    // The herder goes on serving changes.
    w.create_connector("next", config("next", "test.QuietSource", &[]), None)
        .await
        .unwrap();
    wait_for_state(&w, "next", State::Running).await;
    tokio::time::timeout(Duration::from_secs(5), w.shutdown())
        .await
        .expect("shutdown ends");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_whose_stop_never_returns_is_abandoned_after_the_limit() {
    let cluster = MemoryCluster::new();
    let w = start_worker(&cluster).await;
    w.create_connector("t", config("t", "test.HungTaskSource", &[]), None)
        .await
        .unwrap();
    wait_for_tasks(&w, "t", &[State::Running]).await;

    // The answer comes first; the herder then stops the task and gives up on it after the limit.
    w.stop_connector("t").await.unwrap();
    let started = Instant::now();
    wait_for_state(&w, "t", State::Stopped).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    tokio::time::timeout(Duration::from_secs(5), w.health_check())
        .await
        .expect("the herder answers")
        .unwrap();
    tokio::time::timeout(Duration::from_secs(5), w.shutdown())
        .await
        .expect("shutdown ends");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_config_write_answers_500_and_changes_nothing() {
    let cluster = MemoryCluster::new();
    let w = start_worker(&cluster).await;
    cluster.fail_writes(CONFIGS, Some("broker unavailable"));
    let err = w
        .create_connector("c", config("c", "test.QuietSource", &[]), None)
        .await
        .unwrap_err();
    let HerderError::Internal(msg) = &err else {
        panic!("{err:?}");
    };
    assert!(msg.starts_with("Failed to write to config topic"), "{msg}");
    assert!(w.connectors().await.unwrap().is_empty());
    assert!(config_records(&cluster).is_empty());

    cluster.fail_writes(CONFIGS, None);
    w.create_connector("c", config("c", "test.QuietSource", &[]), None)
        .await
        .unwrap();
    assert_eq!(w.connectors().await.unwrap(), ["c"]);
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offsets_change_only_when_the_connector_is_stopped() {
    use ferry_rest::entities::ConnectorOffset;
    let cluster = MemoryCluster::new();
    let w = start_worker(&cluster).await;
    w.create_connector("c", config("c", "test.QuietSource", &[]), None)
        .await
        .unwrap();
    let partition: ferry_core::OffsetMap = [("file".to_owned(), "a".into())].into_iter().collect();
    let offset: ferry_core::OffsetMap = [("position".to_owned(), 7.into())].into_iter().collect();
    let body = || {
        vec![ConnectorOffset {
            partition: Some(partition.clone()),
            offset: Some(offset.clone()),
        }]
    };
    let running = w.alter_connector_offsets("c", body()).await;
    assert!(
        matches!(&running, Err(HerderError::BadRequest(m)) if m.starts_with("Connectors must be in the STOPPED state")),
        "{running:?}"
    );
    w.stop_connector("c").await.unwrap();
    w.alter_connector_offsets("c", body()).await.unwrap();
    let stored = w.connector_offsets("c").await.unwrap().offsets;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].offset.as_ref(), Some(&offset));
    // Written to the offsets topic in Connect's key format.
    let records = cluster.records(OFFSETS);
    assert_eq!(
        records.last().and_then(|r| r.key.clone()),
        Some(br#"["c",{"file":"a"}]"#.to_vec())
    );
    w.reset_connector_offsets("c").await.unwrap();
    assert!(w.connector_offsets("c").await.unwrap().offsets.is_empty());
    assert_eq!(
        cluster.records(OFFSETS).last().map(|r| r.value.clone()),
        Some(None)
    );
    w.shutdown().await;
}
