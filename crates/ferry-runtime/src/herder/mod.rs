//! The herder: answers the REST API, owns connector and task lifecycles.
//!
//! [`Worker`] is the handle: reads are served from a shared [`View`] without
//! waiting, changes are sent to the [`actor::Actor`], which applies them in order.

pub mod actor;
pub mod late;
pub mod logging;
pub mod validate;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use ferry_core::{ConfigMap, ConnectorType, OffsetMap, PluginFactory, PluginKind};
use ferry_kafka::records::{self as rec, StatusKey, TargetState};
use ferry_kafka::{ClientProps, KafkaLog, TopicAdmin, TopicSpec};
use ferry_rest::entities::{
    ActiveTopicsInfo, ConfigInfos, ConfigKeyInfo, ConnectorInfo, ConnectorOffset, ConnectorOffsets,
    ConnectorState, ConnectorStateInfo, ConnectorTaskId, Created, InitialState, LoggerLevel, LoggerScope,
    Message, NullableConfig, PluginInfo, RestartRequest, ServerInfo, State, TaskInfo, TaskState,
};
use ferry_rest::{Herder, HerderError, HerderResult};
use indexmap::IndexMap;
use tokio::sync::{mpsc, oneshot};

use crate::connector_config::config_def_for;
use crate::engine::WorkerContext;
use crate::lease::{Lease, LeaseState};
use crate::store::{ConfigStore, FileOffsetBackend, OffsetStore, StatusStore};
use crate::{Mode, WorkerConfig};
use actor::{Actor, Command};
pub use logging::{LogControl, Loggers};

/// What reads see of one connector.
#[derive(Clone, Debug)]
pub struct ViewEntry {
    /// Stored config.
    pub config: ConfigMap,
    /// Target state.
    pub target: TargetState,
    /// Committed task configs.
    pub tasks: Vec<ConfigMap>,
    /// Source or sink, when the class is known.
    pub kind: Option<ConnectorType>,
}

/// The read side of the herder's state.
#[derive(Clone, Debug, Default)]
pub struct View {
    /// Connectors in creation order.
    pub connectors: IndexMap<String, ViewEntry>,
}

/// Could not start the worker.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A store failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// Kafka failed.
    #[error(transparent)]
    Kafka(#[from] ferry_kafka::KafkaStoreError),
    /// Configuration problem.
    #[error("{0}")]
    Config(String),
}

/// A running worker.
pub struct Worker {
    ctx: Arc<WorkerContext>,
    view: Arc<RwLock<View>>,
    commands: mpsc::Sender<Command>,
    ready: AtomicBool,
    loggers: Loggers,
    actor: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
    lease: std::sync::Mutex<Option<Lease>>,
    lease_state: Option<tokio::sync::watch::Receiver<LeaseState>>,
    cluster_id: Option<String>,
}

/// Settings of the clients behind the internal topics: like Kafka Connect's backing
/// stores, they take the worker's top-level settings (those librdkafka knows).
fn internal_clients(config: &WorkerConfig) -> Result<ferry_kafka::rdkafka::config::ClientConfig, StartError> {
    const NOT_FOR_CLIENTS: &[&str] = &[
        "group.id",
        "client.id",
        "bootstrap.servers",
        "session.timeout.ms",
        "heartbeat.interval.ms",
        "rebalance.timeout.ms",
    ];
    let mut props = ClientProps::new();
    props.set("bootstrap.servers", config.bootstrap_servers.clone());
    for (k, v) in &config.originals {
        let prefixed = [
            "producer.",
            "consumer.",
            "admin.",
            "key.converter",
            "value.converter",
            "header.converter",
        ]
        .iter()
        .any(|p| k.starts_with(p));
        if !prefixed && !NOT_FOR_CLIENTS.contains(&k.as_str()) {
            props.set(k.clone(), v.clone());
        }
    }
    Ok(props.to_client_config("worker", "")?)
}

impl Worker {
    /// Connects to Kafka, prepares the internal topics (distributed) or the offsets file
    /// (standalone), reads all state, and starts every connector in its target state.
    pub async fn start(
        config: WorkerConfig,
        mode: Mode,
        registry: ferry_core::PluginRegistry,
        loggers: Loggers,
    ) -> Result<Arc<Worker>, StartError> {
        let base = internal_clients(&config)?;
        let mut admin_cfg = base.clone();
        for (k, v) in config.with_prefix("admin.") {
            admin_cfg.set(k, v);
        }
        let admin = Arc::new(TopicAdmin::new(&admin_cfg)?);
        let cluster_id = admin.cluster_id().await;
        let mut lease: Option<Lease> = None;
        let (config_store, offsets, status) = match mode {
            Mode::Distributed => {
                let topics = [
                    (
                        config.config_storage_topic.clone(),
                        1,
                        config.config_storage_replication_factor,
                        "config.storage.topic",
                        "connector configurations",
                    ),
                    (
                        config.offset_storage_topic.clone(),
                        config.offset_storage_partitions,
                        config.offset_storage_replication_factor,
                        "offset.storage.topic",
                        "source connector offsets",
                    ),
                    (
                        config.status_storage_topic.clone(),
                        config.status_storage_partitions,
                        config.status_storage_replication_factor,
                        "status.storage.topic",
                        "connector and task statuses",
                    ),
                ];
                for (topic, partitions, rf, key, purpose) in &topics {
                    let topic = topic
                        .as_deref()
                        .ok_or_else(|| StartError::Config(format!("{key} is required")))?;
                    let spec = TopicSpec::compacted(topic, *partitions, Some(*rf).filter(|r| *r > 0));
                    admin.ensure_internal_topic(&spec, key, purpose).await?;
                }
                lease = Some(Self::acquire_lease(&config, &base).await?);
                let log = |t: &Option<String>| KafkaLog::new(t.as_deref().unwrap_or_default(), &base, &base);
                (
                    ConfigStore::kafka(log(&config.config_storage_topic)?),
                    OffsetStore::new(Box::new(log(&config.offset_storage_topic)?)),
                    StatusStore::new(Some(log(&config.status_storage_topic)?), config.worker_id.clone()),
                )
            }
            Mode::Standalone => {
                let file = config
                    .offset_storage_file
                    .clone()
                    .ok_or_else(|| StartError::Config("offset.storage.file.filename is required".into()))?;
                (
                    ConfigStore::memory(),
                    OffsetStore::new(Box::new(FileOffsetBackend::new(file))),
                    StatusStore::new(None, config.worker_id.clone()),
                )
            }
        };
        let (state, offset_count, ()) = tokio::try_join!(config_store.load(), offsets.load(), status.load())?;
        let mut status = status;
        status.start_writer();
        tracing::info!(
            connectors = state.connectors.len(),
            offsets = offset_count,
            generation = status.generation(),
            "read stored state"
        );
        let ctx = Arc::new(WorkerContext {
            config,
            registry,
            offsets: Arc::new(offsets),
            status: Arc::new(status),
            admin,
            producers: ferry_kafka::WarmProducers::default(),
        });
        // A producer with its producer id ready before the first source task starts.
        match ctx.client_config("producer", &ConfigMap::new()) {
            Ok(cfg) => {
                if let Err(e) = ctx.producers.prepare(&cfg) {
                    tracing::warn!("could not prepare a producer for source tasks: {e}");
                }
            }
            Err(e) => tracing::warn!("could not prepare a producer for source tasks: {e}"),
        }
        let view = Arc::new(RwLock::new(View::default()));
        let (actor, events) = Actor::new(ctx.clone(), Arc::new(config_store), view.clone(), state);
        let (tx, rx) = mpsc::channel(64);
        let handle = tokio::spawn(actor.run(rx, events));
        let lease_state = lease.as_ref().map(|l| l.watch());
        let worker = Arc::new(Worker {
            ctx,
            view,
            commands: tx,
            ready: AtomicBool::new(false),
            loggers,
            actor: std::sync::Mutex::new(Some(handle)),
            lease: std::sync::Mutex::new(lease),
            lease_state,
            cluster_id,
        });
        worker.ping().await?;
        worker.ready.store(true, Ordering::SeqCst);
        Ok(worker)
    }

    /// Joins the worker group and waits until this worker is the active one.
    async fn acquire_lease(
        config: &WorkerConfig,
        base: &ferry_kafka::rdkafka::config::ClientConfig,
    ) -> Result<Lease, StartError> {
        let group = config.group_id.clone().unwrap_or_default();
        let topic = config.config_storage_topic.clone().unwrap_or_default();
        let mut lease =
            Lease::join(base, &group, &topic, config.session_timeout_ms).map_err(StartError::Config)?;
        let first =
            tokio::time::timeout(Duration::from_secs(5), lease.changed_from(LeaseState::Standby)).await;
        let state = match first {
            Ok(s) => s,
            Err(_) => {
                tracing::warn!(
                    group_id = %group,
                    "another worker of group.id '{group}' is active: this worker waits as a standby and takes over \
                     when that worker stops or its session expires (session.timeout.ms). Ferry runs one active \
                     worker per group."
                );
                lease.changed_from(LeaseState::Standby).await
            }
        };
        match state {
            LeaseState::Active => {
                tracing::info!(group_id = %group, "this worker is the active worker of its group");
                Ok(lease)
            }
            _ => Err(StartError::Config(format!(
                "lost the worker group lease of group.id '{group}' while starting"
            ))),
        }
    }

    /// Resolves if this worker loses its group lease (another worker took over): it must stop.
    pub async fn lease_lost(&self) {
        let Some(mut rx) = self.lease_state.clone() else {
            return std::future::pending().await;
        };
        loop {
            if *rx.borrow_and_update() == LeaseState::Lost {
                return;
            }
            if rx.changed().await.is_err() {
                return std::future::pending().await;
            }
        }
    }

    async fn ping(&self) -> Result<(), StartError> {
        let (reply, rx) = oneshot::channel();
        self.commands
            .send(Command::Ping { reply })
            .await
            .map_err(|_| StartError::Config("herder stopped".into()))?;
        rx.await
            .map_err(|_| StartError::Config("herder stopped".into()))?
            .map_err(|e| StartError::Config(e.to_string()))
    }

    /// Stops every task (flushing offsets) and connector.
    pub async fn shutdown(&self) {
        let (reply, rx) = oneshot::channel();
        if self.commands.send(Command::Shutdown { reply }).await.is_ok() {
            let _ = rx.await;
        }
        let handle = self.actor.lock().expect("actor handle lock").take();
        if let Some(h) = handle {
            let _ = h.await;
        }
        // Leave the group last, so a standby takes over only once everything is flushed.
        let lease = self.lease.lock().expect("lease lock").take();
        if let Some(l) = lease {
            let _ = tokio::task::spawn_blocking(move || l.leave()).await;
        }
    }

    /// The worker's shared context (stores, registry, config).
    pub fn context(&self) -> &Arc<WorkerContext> {
        &self.ctx
    }

    async fn send<T>(&self, make: impl FnOnce(actor::Reply<T>) -> Command) -> HerderResult<T> {
        let (reply, rx) = oneshot::channel();
        self.commands
            .send(make(reply))
            .await
            .map_err(|_| HerderError::ServiceUnavailable("Worker is shutting down".into()))?;
        rx.await
            .map_err(|_| HerderError::Internal("Worker is shutting down".into()))?
    }

    fn entry(&self, name: &str) -> Option<ViewEntry> {
        self.view.read().expect("view lock").connectors.get(name).cloned()
    }

    fn entry_or_404(&self, name: &str) -> HerderResult<ViewEntry> {
        self.entry(name)
            .ok_or_else(|| HerderError::connector_not_found(name))
    }

    fn info(name: &str, e: &ViewEntry) -> ConnectorInfo {
        ConnectorInfo {
            name: name.to_owned(),
            config: e.config.clone(),
            tasks: (0..e.tasks.len())
                .map(|i| ConnectorTaskId::new(name, i as i32))
                .collect(),
            ty: e
                .kind
                .map_or(ferry_rest::entities::ConnectorType::Unknown, Into::into),
        }
    }

    async fn put_validated(
        &self,
        name: &str,
        config: NullableConfig,
        allow_replace: bool,
        initial: Option<TargetState>,
    ) -> HerderResult<(bool, ConnectorInfo)> {
        let registry = self.ctx.registry.clone();
        let validated = tokio::task::spawn_blocking(move || validate::validate(&registry, &config))
            .await
            .map_err(|e| HerderError::Internal(e.to_string()))??;
        if let Some(msg) = validated.infos.invalid_config_message() {
            return Err(HerderError::BadRequest(msg));
        }
        let kind = validated.kind;
        let cfg = validated.config;
        let name_owned = name.to_owned();
        let created = self
            .send(move |reply| Command::PutConfig {
                name: name_owned,
                config: cfg,
                kind,
                allow_replace,
                initial,
                reply,
            })
            .await?;
        let e = self.entry_or_404(name)?;
        Ok((created, Self::info(name, &e)))
    }

    fn state_of(r: &rec::StatusRecord) -> State {
        match r.state {
            rec::State::Unassigned | rec::State::Destroyed => State::Unassigned,
            rec::State::Running => State::Running,
            rec::State::Paused => State::Paused,
            rec::State::Failed => State::Failed,
            rec::State::Restarting => State::Restarting,
            rec::State::Stopped => State::Stopped,
        }
    }

    fn require_stopped(&self, name: &str) -> HerderResult<ViewEntry> {
        let e = self.entry_or_404(name)?;
        if e.target != TargetState::Stopped || !e.tasks.is_empty() {
            return Err(HerderError::BadRequest(format!(
                "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/{name}/stop' endpoint"
            )));
        }
        Ok(e)
    }

    /// Asks the source connector's plugin whether `entries` may be stored (its
    /// `alter_offsets`), then answers as Connect does: 500 with the plugin's message when
    /// it refuses, else the message for `altered` or `reset`.
    fn source_offsets_check(
        &self,
        name: &str,
        e: &ViewEntry,
        entries: &[(OffsetMap, Option<OffsetMap>)],
        verb: &str,
    ) -> HerderResult<Message> {
        let class = e
            .config
            .get("connector.class")
            .map(String::as_str)
            .unwrap_or_default();
        let owned_elsewhere = match self.ctx.registry.find(class).map(|p| &p.factory) {
            Some(PluginFactory::Source(make)) => {
                let connector = make();
                !connector.alter_offsets(&e.config, entries).map_err(|err| {
                    tracing::error!(
                        connector = name,
                        "Failed to modify offsets for source connector {name}: {err}"
                    );
                    HerderError::Internal(err.to_string())
                })?
            }
            _ => true,
        };
        Ok(Message::new(if owned_elsewhere {
            format!(
                "The Connect framework-managed offsets for this connector have been {verb} successfully. \
                 However, if this connector manages offsets externally, they will need to be manually {verb} \
                 in the system that the connector uses."
            )
        } else {
            format!("The offsets for this connector have been {verb} successfully")
        }))
    }

    async fn write_offsets(
        &self,
        name: &str,
        offsets: Vec<(OffsetMap, Option<OffsetMap>)>,
    ) -> HerderResult<()> {
        let name = name.to_owned();
        self.send(move |reply| Command::WriteOffsets { name, offsets, reply })
            .await
    }

    async fn set_target(&self, name: &str, target: TargetState) -> HerderResult<()> {
        let name = name.to_owned();
        self.send(move |reply| Command::SetTarget { name, target, reply })
            .await
    }

    /// Sink connectors keep their offsets in the consumer group `connect-NAME`.
    fn is_sink(e: &ViewEntry) -> bool {
        e.kind == Some(ConnectorType::Sink)
    }

    fn sink_group(name: &str) -> String {
        format!("connect-{name}")
    }

    async fn sink_offsets(&self, name: &str, e: &ViewEntry) -> HerderResult<ConnectorOffsets> {
        let base = self
            .ctx
            .client_config("consumer", &e.config)
            .map_err(|err| HerderError::Internal(err.to_string()))?;
        let topics_cfg = e.config.get("topics").cloned().unwrap_or_default();
        let regex = e.config.get("topics.regex").cloned().unwrap_or_default();
        let group = Self::sink_group(name);
        let offsets = tokio::task::spawn_blocking(move || {
            let mut topics: Vec<String> = topics_cfg
                .split(',')
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .collect();
            if topics.is_empty() && !regex.is_empty() {
                let re = regex::Regex::new(&format!("^(?:{regex})$")).map_err(|e| e.to_string())?;
                topics = ferry_kafka::group::list_topics(&base)
                    .map_err(|e| e.to_string())?
                    .into_iter()
                    .filter(|t| re.is_match(t))
                    .collect();
            }
            ferry_kafka::group::read_group_offsets(&base, &group, &topics).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| HerderError::Internal(e.to_string()))?
        .map_err(|e| {
            HerderError::Internal(format!(
                "Failed to retrieve consumer group offsets for sink connector {name}: {e}"
            ))
        })?;
        Ok(ConnectorOffsets {
            offsets: offsets
                .into_iter()
                .map(|(t, p, o)| {
                    let mut partition = OffsetMap::new();
                    partition.insert("kafka_topic".into(), t.into());
                    partition.insert("kafka_partition".into(), p.into());
                    let mut offset = OffsetMap::new();
                    offset.insert("kafka_offset".into(), o.into());
                    ConnectorOffset {
                        partition: Some(partition),
                        offset: Some(offset),
                    }
                })
                .collect(),
        })
    }

    fn parse_sink_offsets(
        offsets: Vec<ConnectorOffset>,
    ) -> HerderResult<Vec<ferry_kafka::group::GroupOffset>> {
        let bad = |m: String| HerderError::BadRequest(m);
        offsets
            .into_iter()
            .map(|o| {
                let p = o.partition.ok_or_else(|| bad("The partition for a sink connector offset must not be null".into()))?;
                let topic = p
                    .get("kafka_topic")
                    .and_then(serde_json::Value::as_str)
                    .ok_or_else(|| bad("Kafka topic names must be valid strings and may not be null".into()))?;
                let partition = p
                    .get("kafka_partition")
                    .and_then(|v| v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok())))
                    .ok_or_else(|| bad(format!("Kafka partitions must be valid numbers and may not be null: {p:?}")))?;
                let Some(off) = o.offset else {
                    return Err(bad(
                        "Resetting single sink partitions is not supported by Ferry yet; reset all with DELETE /connectors/NAME/offsets".into(),
                    ));
                };
                let offset = off
                    .get("kafka_offset")
                    .and_then(|v| v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok())))
                    .filter(|v| *v >= 0)
                    .ok_or_else(|| bad(format!("Kafka offsets must be valid non-negative numbers: {off:?}")))?;
                Ok((topic.to_owned(), partition as i32, offset))
            })
            .collect()
    }
}

#[async_trait]
impl Herder for Worker {
    async fn server_info(&self) -> HerderResult<ServerInfo> {
        Ok(server_info(self.cluster_id.clone()))
    }

    async fn health_check(&self) -> HerderResult<()> {
        self.send(|reply| Command::Ping { reply }).await
    }

    fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }

    async fn connectors(&self) -> HerderResult<Vec<String>> {
        Ok(self
            .view
            .read()
            .expect("view lock")
            .connectors
            .keys()
            .cloned()
            .collect())
    }

    async fn connector_info(&self, name: &str) -> HerderResult<ConnectorInfo> {
        let e = self.entry_or_404(name)?;
        Ok(Self::info(name, &e))
    }

    async fn create_connector(
        &self,
        name: &str,
        config: NullableConfig,
        initial_state: Option<InitialState>,
    ) -> HerderResult<ConnectorInfo> {
        let initial = initial_state.map(|s| match s {
            InitialState::Running => TargetState::Started,
            InitialState::Paused => TargetState::Paused,
            InitialState::Stopped => TargetState::Stopped,
        });
        if self.entry(name).is_some() {
            return Err(HerderError::connector_exists(name));
        }
        Ok(self.put_validated(name, config, false, initial).await?.1)
    }

    async fn put_connector_config(
        &self,
        name: &str,
        config: NullableConfig,
    ) -> HerderResult<Created<ConnectorInfo>> {
        let (created, result) = self.put_validated(name, config, true, None).await?;
        Ok(Created { created, result })
    }

    async fn patch_connector_config(&self, name: &str, patch: NullableConfig) -> HerderResult<ConnectorInfo> {
        let e = self.entry_or_404(name)?;
        let mut merged: NullableConfig = e.config.into_iter().map(|(k, v)| (k, Some(v))).collect();
        for (k, v) in patch {
            match v {
                Some(v) => {
                    merged.insert(k, Some(v));
                }
                None => {
                    merged.shift_remove(&k);
                }
            }
        }
        Ok(self.put_validated(name, merged, true, None).await?.1)
    }

    async fn delete_connector(&self, name: &str) -> HerderResult<()> {
        let name = name.to_owned();
        self.send(move |reply| Command::Delete { name, reply }).await
    }

    async fn connector_config(&self, name: &str) -> HerderResult<ConfigMap> {
        Ok(self.entry_or_404(name)?.config)
    }

    async fn connector_status(&self, name: &str) -> HerderResult<ConnectorStateInfo> {
        let not_found = || HerderError::NotFound(format!("No status found for connector {name}"));
        let e = self.entry(name).ok_or_else(not_found)?;
        let c = self
            .ctx
            .status
            .get(&StatusKey::Connector(name.to_owned()))
            .ok_or_else(not_found)?;
        let tasks = self
            .ctx
            .status
            .task_statuses(name)
            .into_iter()
            .filter(|(_, r)| r.state != rec::State::Destroyed)
            .map(|(id, r)| TaskState {
                id: id as i32,
                state: Self::state_of(&r),
                worker_id: r.worker_id.clone(),
                trace: r.trace.clone(),
            })
            .collect();
        Ok(ConnectorStateInfo {
            name: name.to_owned(),
            connector: ConnectorState {
                state: Self::state_of(&c),
                worker_id: c.worker_id.clone(),
                trace: c.trace.clone(),
            },
            tasks,
            ty: e
                .kind
                .map_or(ferry_rest::entities::ConnectorType::Unknown, Into::into),
        })
    }

    async fn task_configs(&self, name: &str) -> HerderResult<Vec<TaskInfo>> {
        let e = self.entry_or_404(name)?;
        Ok(e.tasks
            .into_iter()
            .enumerate()
            .map(|(i, config)| TaskInfo {
                id: ConnectorTaskId::new(name, i as i32),
                config,
            })
            .collect())
    }

    async fn task_status(&self, id: &ConnectorTaskId) -> HerderResult<TaskState> {
        let r = u32::try_from(id.task)
            .ok()
            .and_then(|t| self.ctx.status.get(&StatusKey::Task(id.connector.clone(), t)))
            .ok_or_else(|| HerderError::NotFound(format!("No status found for task {id}")))?;
        Ok(TaskState {
            id: id.task,
            state: Self::state_of(&r),
            worker_id: r.worker_id.clone(),
            trace: r.trace.clone(),
        })
    }

    async fn restart_connector(&self, name: &str) -> HerderResult<()> {
        self.entry_or_404(name)?;
        let name = name.to_owned();
        self.send(move |reply| Command::Restart {
            name,
            connector: true,
            tasks: Vec::new(),
            request: None,
            reply,
        })
        .await
    }

    async fn restart_connector_and_tasks(
        &self,
        request: &RestartRequest,
    ) -> HerderResult<ConnectorStateInfo> {
        let name = &request.connector;
        self.entry_or_404(name)?;
        let mut status = self.connector_status(name).await?;
        let restart_connector = !request.only_failed || status.connector.state == State::Failed;
        if restart_connector {
            status.connector.state = State::Restarting;
        }
        let mut tasks = Vec::new();
        if request.include_tasks {
            for t in &mut status.tasks {
                if !request.only_failed || t.state == State::Failed {
                    t.state = State::Restarting;
                    tasks.push(t.id as u32);
                }
            }
        }
        let st = &self.ctx.status;
        if restart_connector {
            st.put(StatusKey::Connector(name.clone()), rec::State::Restarting, None)
                .await;
        }
        for t in &tasks {
            st.put(StatusKey::Task(name.clone(), *t), rec::State::Restarting, None)
                .await;
        }
        let n = name.clone();
        self.send(move |reply| Command::Restart {
            name: n,
            connector: restart_connector,
            tasks,
            request: Some((request.include_tasks, request.only_failed)),
            reply,
        })
        .await?;
        Ok(status)
    }

    async fn restart_task(&self, id: &ConnectorTaskId) -> HerderResult<()> {
        let e = self
            .entry(&id.connector)
            .ok_or_else(|| HerderError::NotFound(format!("Unknown connector: {}", id.connector)))?;
        if id.task < 0 || id.task as usize >= e.tasks.len() {
            return Err(HerderError::NotFound(format!("Unknown task: {id}")));
        }
        let name = id.connector.clone();
        let task = id.task as u32;
        self.send(move |reply| Command::Restart {
            name,
            connector: false,
            tasks: vec![task],
            request: None,
            reply,
        })
        .await
    }

    async fn pause_connector(&self, name: &str) -> HerderResult<()> {
        self.set_target(name, TargetState::Paused).await
    }

    async fn resume_connector(&self, name: &str) -> HerderResult<()> {
        self.set_target(name, TargetState::Started).await
    }

    async fn stop_connector(&self, name: &str) -> HerderResult<()> {
        self.entry_or_404(name)?;
        self.set_target(name, TargetState::Stopped).await
    }

    async fn connector_active_topics(&self, name: &str) -> HerderResult<ActiveTopicsInfo> {
        if !self.ctx.config.topic_tracking_enable {
            return Err(HerderError::Forbidden("Topic tracking is disabled.".into()));
        }
        Ok(ActiveTopicsInfo {
            connector: name.to_owned(),
            topics: self.ctx.status.active_topics(name),
        })
    }

    async fn reset_connector_active_topics(&self, name: &str) -> HerderResult<()> {
        if !self.ctx.config.topic_tracking_enable {
            return Err(HerderError::Forbidden("Topic tracking is disabled.".into()));
        }
        if !self.ctx.config.topic_tracking_allow_reset {
            return Err(HerderError::Forbidden("Topic tracking reset is disabled.".into()));
        }
        self.ctx.status.reset_topics(name).await;
        Ok(())
    }

    async fn connector_offsets(&self, name: &str) -> HerderResult<ConnectorOffsets> {
        let e = self.entry_or_404(name)?;
        if Self::is_sink(&e) {
            return self.sink_offsets(name, &e).await;
        }
        Ok(ConnectorOffsets {
            offsets: self
                .ctx
                .offsets
                .connector_offsets(name)
                .into_iter()
                .map(|(p, o)| ConnectorOffset {
                    partition: Some(p),
                    offset: Some(o),
                })
                .collect(),
        })
    }

    async fn alter_connector_offsets(
        &self,
        name: &str,
        offsets: Vec<ConnectorOffset>,
    ) -> HerderResult<Message> {
        let e = self.require_stopped(name)?;
        if Self::is_sink(&e) {
            let entries = Self::parse_sink_offsets(offsets)?;
            let base = self
                .ctx
                .client_config("consumer", &e.config)
                .map_err(|err| HerderError::Internal(err.to_string()))?;
            let group = Self::sink_group(name);
            tokio::task::spawn_blocking(move || {
                ferry_kafka::group::commit_group_offsets(&base, &group, &entries)
            })
            .await
            .map_err(|err| HerderError::Internal(err.to_string()))?
            .map_err(|err| {
                HerderError::Internal(format!(
                    "Failed to alter consumer group offsets for connector {name}: {err}"
                ))
            })?;
            return Ok(Message::new(
                "The offsets for this connector have been altered successfully",
            ));
        }
        let mut entries: Vec<(OffsetMap, Option<OffsetMap>)> = Vec::with_capacity(offsets.len());
        for o in offsets {
            let partition = o
                .partition
                .ok_or_else(|| HerderError::BadRequest("Source partitions may not be null".into()))?;
            // Connect collects the request into a map: a later entry for the same partition wins.
            match entries.iter_mut().find(|(p, _)| *p == partition) {
                Some(entry) => entry.1 = o.offset,
                None => entries.push((partition, o.offset)),
            }
        }
        for (partition, offset) in &entries {
            for map in std::iter::once(partition).chain(offset) {
                validate_offset_format(map).map_err(HerderError::Internal)?;
            }
        }
        let answer = self.source_offsets_check(name, &e, &entries, "altered")?;
        self.write_offsets(name, entries).await?;
        Ok(answer)
    }

    async fn reset_connector_offsets(&self, name: &str) -> HerderResult<Message> {
        let e = self.require_stopped(name)?;
        if Self::is_sink(&e) {
            self.ctx
                .admin
                .delete_group(&Self::sink_group(name))
                .await
                .map_err(|err| {
                    HerderError::Internal(format!(
                        "Failed to reset consumer group offsets for connector {name}: {err}"
                    ))
                })?;
            return Ok(Message::new(
                "The offsets for this connector have been reset successfully",
            ));
        }
        let entries: Vec<(OffsetMap, Option<OffsetMap>)> = self
            .ctx
            .offsets
            .connector_offsets(name)
            .into_iter()
            .map(|(p, _)| (p, None))
            .collect();
        let answer = self.source_offsets_check(name, &e, &entries, "reset")?;
        self.write_offsets(name, entries).await?;
        Ok(answer)
    }

    async fn plugins(&self) -> HerderResult<Vec<PluginInfo>> {
        let order = [
            PluginKind::Sink,
            PluginKind::Source,
            PluginKind::Transformation,
            PluginKind::Predicate,
            PluginKind::Converter,
            PluginKind::HeaderConverter,
        ];
        let all = self.ctx.registry.all();
        let mut out = Vec::with_capacity(all.len());
        for kind in order {
            for p in all.iter().filter(|p| p.kind() == kind) {
                out.push(PluginInfo {
                    class: p.class.to_owned(),
                    ty: kind,
                    version: Some(p.version.to_owned()),
                });
            }
        }
        Ok(out)
    }

    async fn connector_plugin_config(&self, plugin: &str) -> HerderResult<Vec<ConfigKeyInfo>> {
        let p = self
            .ctx
            .registry
            .find(plugin)
            .ok_or_else(|| HerderError::NotFound(format!("Unknown plugin {plugin}.")))?;
        let own = p.config_def();
        let mut keys = ConfigKeyInfo::list(&own);
        let common = match p.factory {
            PluginFactory::Source(_) => Some(config_def_for(ConnectorType::Source)),
            PluginFactory::Sink(_) => Some(config_def_for(ConnectorType::Sink)),
            _ => None,
        };
        if let Some(common) = common {
            keys.extend(
                common
                    .keys()
                    .filter(|k| own.key(&k.name).is_none())
                    .map(ConfigKeyInfo::from),
            );
        }
        Ok(keys)
    }

    async fn validate_connector_config(&self, config: NullableConfig) -> HerderResult<ConfigInfos> {
        let registry = self.ctx.registry.clone();
        let v = tokio::task::spawn_blocking(move || validate::validate(&registry, &config))
            .await
            .map_err(|e| HerderError::Internal(e.to_string()))??;
        Ok(v.infos)
    }

    async fn logger_levels(&self) -> HerderResult<IndexMap<String, LoggerLevel>> {
        Ok(self.loggers.levels())
    }

    async fn logger_level(&self, name: &str) -> HerderResult<Option<LoggerLevel>> {
        Ok(self.loggers.level(name))
    }

    async fn set_logger_level(
        &self,
        namespace: &str,
        level: &str,
        _scope: LoggerScope,
    ) -> HerderResult<Vec<String>> {
        self.loggers
            .set(namespace, level)
            .map_err(HerderError::BadRequest)
    }
}

/// `GET /`: version, build commit and the Kafka cluster id when known.
pub(crate) fn server_info(cluster_id: Option<String>) -> ServerInfo {
    ServerInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        commit: option_env!("FERRY_GIT_COMMIT").unwrap_or("unknown").to_owned(),
        kafka_cluster_id: cluster_id,
    }
}

/// Waits for SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("install SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
    let _ = Duration::ZERO;
}

/// Connect's `OffsetUtils.validateFormat`: partition and offset values must be null or
/// primitive (what Jackson reads as a number beyond a long is a BigInteger, not one).
fn validate_offset_format(map: &OffsetMap) -> Result<(), String> {
    use serde_json::Value as J;
    for (field, value) in map {
        let kind = match value {
            J::Null | J::Bool(_) | J::String(_) => continue,
            J::Number(n) if n.is_i64() || n.is_f64() => continue,
            J::Number(_) => "class java.math.BigInteger",
            J::Array(_) => "ARRAY",
            J::Object(_) => "MAP",
        };
        return Err(format!(
            "Offsets may only contain primitive types as values, but field {field} contains {kind}"
        ));
    }
    Ok(())
}
