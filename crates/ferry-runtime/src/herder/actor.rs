//! The herder's single owner of connector and task lifecycles.
//!
//! Every change (config put, delete, pause, restart, offsets) goes through one
//! task that owns the running connectors and tasks, so changes apply in order
//! without locks. Reads never wait for it: they use the shared [`View`].

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use ferry_core::{
    error_trace, ConfigMap, ConnectError, ConnectorContext, ConnectorType, PluginFactory, SinkConnector,
    SourceConnector,
};
use ferry_kafka::records::{ConfigRecord, State, StatusKey, TargetState};
use ferry_rest::HerderError;
use futures::FutureExt;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::{View, ViewEntry};
use crate::engine::{self, TaskEnv, WorkerContext};
use crate::store::{ConfigState, ConfigStore, ConnectorEntry};

/// A reply channel.
pub type Reply<T> = oneshot::Sender<Result<T, HerderError>>;

/// A change requested of the herder.
pub enum Command {
    /// Create or replace a connector's config.
    PutConfig {
        name: String,
        config: ConfigMap,
        kind: ConnectorType,
        allow_replace: bool,
        initial: Option<TargetState>,
        reply: Reply<bool>,
    },
    /// Delete a connector.
    Delete { name: String, reply: Reply<()> },
    /// Pause, resume or stop.
    SetTarget {
        name: String,
        target: TargetState,
        reply: Reply<()>,
    },
    /// Restart the connector instance and, optionally, its tasks.
    Restart {
        name: String,
        connector: bool,
        tasks: Vec<u32>,
        /// `(include_tasks, only_failed)` of a flagged request, recorded on the config topic.
        request: Option<(bool, bool)>,
        reply: Reply<()>,
    },
    /// Write offsets of a stopped source connector (`None` offset resets a partition).
    WriteOffsets {
        name: String,
        offsets: Vec<(ferry_core::OffsetMap, Option<ferry_core::OffsetMap>)>,
        reply: Reply<()>,
    },
    /// Answers once the actor is idle (health check).
    Ping { reply: Reply<()> },
    /// Stop every task and connector, then end.
    Shutdown { reply: oneshot::Sender<()> },
}

/// Something that happened inside a running connector.
pub enum Event {
    /// The connector asked for its task configs to be recomputed.
    Reconfigure(String),
    /// The connector failed in the background.
    Failed(String, String),
}

struct Ctx {
    connector: String,
    events: mpsc::UnboundedSender<Event>,
}

impl ConnectorContext for Ctx {
    fn request_task_reconfiguration(&self) {
        let _ = self.events.send(Event::Reconfigure(self.connector.clone()));
    }
    fn raise_error(&self, error: ConnectError) {
        let _ = self
            .events
            .send(Event::Failed(self.connector.clone(), error_trace(&error)));
    }
}

enum Instance {
    Source(Box<dyn SourceConnector>),
    Sink(Box<dyn SinkConnector>),
}

impl Instance {
    async fn stop(&mut self) -> Result<(), ConnectError> {
        match self {
            Instance::Source(c) => c.stop().await,
            Instance::Sink(c) => c.stop().await,
        }
    }
    fn task_configs(&self, max: usize) -> Result<Vec<ConfigMap>, ConnectError> {
        match self {
            Instance::Source(c) => c.task_configs(max),
            Instance::Sink(c) => c.task_configs(max),
        }
    }
}

struct TaskHandle {
    cancel: CancellationToken,
    paused: watch::Sender<bool>,
    join: JoinHandle<()>,
    config: ConfigMap,
}

#[derive(Default)]
struct Running {
    instance: Option<Instance>,
    failed: bool,
    tasks: BTreeMap<u32, TaskHandle>,
}

/// The actor's state.
pub struct Actor {
    ctx: Arc<WorkerContext>,
    store: Arc<ConfigStore>,
    view: Arc<RwLock<View>>,
    state: ConfigState,
    running: HashMap<String, Running>,
    events_tx: mpsc::UnboundedSender<Event>,
}

impl Actor {
    /// An actor over loaded state.
    pub fn new(
        ctx: Arc<WorkerContext>,
        store: Arc<ConfigStore>,
        view: Arc<RwLock<View>>,
        state: ConfigState,
    ) -> (Actor, mpsc::UnboundedReceiver<Event>) {
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let actor = Actor {
            ctx,
            store,
            view,
            state,
            running: HashMap::new(),
            events_tx,
        };
        (actor, events_rx)
    }

    /// Runs until a Shutdown command: starts every connector in its target state, then serves commands.
    pub async fn run(
        mut self,
        mut commands: mpsc::Receiver<Command>,
        mut events: mpsc::UnboundedReceiver<Event>,
    ) {
        let names: Vec<String> = self.state.connectors.keys().cloned().collect();
        for name in &names {
            self.publish(name);
            self.reconcile(name, false).await;
        }
        loop {
            tokio::select! {
                cmd = commands.recv() => {
                    let Some(cmd) = cmd else { break };
                    if let Command::Shutdown { reply } = cmd {
                        self.shutdown().await;
                        let _ = reply.send(());
                        return;
                    }
                    self.handle(cmd).await;
                }
                Some(ev) = events.recv() => self.on_event(ev).await,
            }
        }
        self.shutdown().await;
    }

    fn kind_of(&self, config: &ConfigMap) -> Option<ConnectorType> {
        let class = config.get("connector.class")?;
        match self.ctx.registry.find(class)?.factory {
            PluginFactory::Source(_) => Some(ConnectorType::Source),
            PluginFactory::Sink(_) => Some(ConnectorType::Sink),
            _ => None,
        }
    }

    /// Copies one connector's state to the read view.
    fn publish(&self, name: &str) {
        let mut view = self.view.write().expect("view lock");
        match self.state.connectors.get(name) {
            Some(e) => {
                view.connectors.insert(
                    name.to_owned(),
                    ViewEntry {
                        config: e.config.clone(),
                        target: e.target,
                        tasks: e.tasks.clone(),
                        kind: self.kind_of(&e.config),
                    },
                );
            }
            None => {
                view.connectors.shift_remove(name);
            }
        }
    }

    /// Writes config records. A plain fn returning a future, so no `&Actor` is held across the await.
    fn write(
        &self,
        records: &[ConfigRecord],
    ) -> impl std::future::Future<Output = Result<(), HerderError>> + Send + 'static {
        let store = self.store.clone();
        let records = records.to_vec();
        async move {
            store.write(&records).await.map_err(|e| {
                HerderError::Internal(format!(
                    "Failed to write to config topic; this may be due to a transient error and the request can be safely retried: {e}"
                ))
            })
        }
    }

    async fn handle(&mut self, cmd: Command) {
        match cmd {
            Command::PutConfig {
                name,
                config,
                kind: _,
                allow_replace,
                initial,
                reply,
            } => {
                let exists = self.state.connectors.contains_key(&name);
                if exists && !allow_replace {
                    let _ = reply.send(Err(HerderError::connector_exists(&name)));
                    return;
                }
                let mut records = Vec::new();
                if !exists {
                    if let Some(t) = initial {
                        records.push(ConfigRecord::TargetState {
                            connector: name.clone(),
                            state: Some(t),
                        });
                    }
                }
                records.push(ConfigRecord::Connector {
                    name: name.clone(),
                    config: Some(config.clone()),
                });
                if let Err(e) = self.write(&records).await {
                    let _ = reply.send(Err(e));
                    return;
                }
                for r in records {
                    self.state.apply(r);
                }
                self.publish(&name);
                let _ = reply.send(Ok(!exists));
                // A changed config restarts the connector and its tasks with the new config.
                self.stop_all(&name, false).await;
                self.reconcile(&name, false).await;
            }
            Command::Delete { name, reply } => {
                if !self.state.connectors.contains_key(&name) {
                    let _ = reply.send(Err(HerderError::connector_not_found(&name)));
                    return;
                }
                let records = [
                    ConfigRecord::Connector {
                        name: name.clone(),
                        config: None,
                    },
                    ConfigRecord::TargetState {
                        connector: name.clone(),
                        state: None,
                    },
                ];
                if let Err(e) = self.write(&records).await {
                    let _ = reply.send(Err(e));
                    return;
                }
                let task_count = self.state.connectors.get(&name).map_or(0, |e| e.tasks.len());
                for r in records {
                    self.state.apply(r);
                }
                self.publish(&name);
                self.stop_all(&name, false).await;
                self.running.remove(&name);
                let status = &self.ctx.status;
                status.remove(StatusKey::Connector(name.clone())).await;
                let mut ids: Vec<u32> = status.task_statuses(&name).into_iter().map(|(t, _)| t).collect();
                ids.extend(0..task_count as u32);
                ids.sort_unstable();
                ids.dedup();
                for t in ids {
                    status.remove(StatusKey::Task(name.clone(), t)).await;
                }
                status.reset_topics(&name).await;
                let _ = reply.send(Ok(()));
            }
            Command::SetTarget { name, target, reply } => {
                let Some(entry) = self.state.connectors.get(&name) else {
                    let _ = reply.send(Err(HerderError::NotFound(format!("Unknown connector {name}"))));
                    return;
                };
                let mut records = vec![ConfigRecord::TargetState {
                    connector: name.clone(),
                    state: Some(target),
                }];
                if target == TargetState::Stopped && !entry.tasks.is_empty() {
                    records.push(ConfigRecord::Commit {
                        connector: name.clone(),
                        tasks: 0,
                    });
                }
                if let Err(e) = self.write(&records).await {
                    let _ = reply.send(Err(e));
                    return;
                }
                for r in records {
                    self.state.apply(r);
                }
                if target == TargetState::Stopped {
                    if let Some(e) = self.state.connectors.get_mut(&name) {
                        e.tasks.clear();
                    }
                }
                self.publish(&name);
                let _ = reply.send(Ok(()));
                self.reconcile(&name, false).await;
            }
            Command::Restart {
                name,
                connector,
                tasks,
                request,
                reply,
            } => {
                if !self.state.connectors.contains_key(&name) {
                    let _ = reply.send(Err(HerderError::connector_not_found(&name)));
                    return;
                }
                if let Some((include_tasks, only_failed)) = request {
                    let record = ConfigRecord::Restart {
                        connector: name.clone(),
                        include_tasks,
                        only_failed,
                    };
                    if let Err(e) = self.write(&[record]).await {
                        let _ = reply.send(Err(e));
                        return;
                    }
                }
                let _ = reply.send(Ok(()));
                if connector {
                    self.stop_connector(&name).await;
                }
                for t in &tasks {
                    self.stop_task(&name, *t).await;
                }
                self.reconcile(&name, false).await;
            }
            Command::WriteOffsets { name, offsets, reply } => {
                let entries: Vec<(&ferry_core::OffsetMap, Option<&ferry_core::OffsetMap>)> =
                    offsets.iter().map(|(p, o)| (p, o.as_ref())).collect();
                let r = self
                    .ctx
                    .offsets
                    .write(&name, &entries)
                    .await
                    .map_err(|e| HerderError::Internal(format!("Failed to write offsets: {e}")));
                let _ = reply.send(r);
            }
            Command::Ping { reply } => {
                let _ = reply.send(Ok(()));
            }
            Command::Shutdown { .. } => unreachable!("handled in run"),
        }
    }

    async fn on_event(&mut self, ev: Event) {
        match ev {
            Event::Reconfigure(name) => {
                if self.running.get(&name).is_some_and(|r| r.instance.is_some()) {
                    self.reconcile(&name, true).await;
                }
            }
            Event::Failed(name, trace) => {
                tracing::error!(connector = %name, "connector failed: {trace}");
                if let Some(r) = self.running.get_mut(&name) {
                    r.failed = true;
                    if let Some(mut inst) = r.instance.take() {
                        let _ = inst.stop().await;
                    }
                }
                self.ctx
                    .status
                    .put(StatusKey::Connector(name), State::Failed, Some(trace))
                    .await;
            }
        }
    }

    fn set_connector_state(
        &self,
        name: &str,
        state: State,
        trace: Option<String>,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        let status = self.ctx.status.clone();
        let key = StatusKey::Connector(name.to_owned());
        async move { status.put(key, state, trace).await }
    }

    /// Brings the running connector and tasks in line with the stored config and target state.
    async fn reconcile(&mut self, name: &str, regenerate: bool) {
        let Some(entry) = self.state.connectors.get(name).cloned() else {
            self.stop_all(name, false).await;
            return;
        };
        let span = tracing::info_span!("connector", connector = %name);
        async {
            match entry.target {
                TargetState::Stopped => {
                    self.stop_all(name, false).await;
                    for (t, _) in self.ctx.status.task_statuses(name) {
                        self.ctx.status.remove(StatusKey::Task(name.to_owned(), t)).await;
                    }
                    self.set_connector_state(name, State::Stopped, None).await;
                }
                TargetState::Started | TargetState::Paused => {
                    let paused = entry.target == TargetState::Paused;
                    let started_now = match self.ensure_connector(name, &entry).await {
                        Ok(s) => s,
                        Err(trace) => {
                            tracing::error!("connector failed to start: {trace}");
                            self.set_connector_state(name, State::Failed, Some(trace)).await;
                            return;
                        }
                    };
                    let tasks = if started_now || regenerate || entry.tasks.is_empty() {
                        match self.generate_tasks(name, &entry).await {
                            Ok(t) => t,
                            Err(trace) => {
                                self.set_connector_state(name, State::Failed, Some(trace)).await;
                                return;
                            }
                        }
                    } else {
                        entry.tasks.clone()
                    };
                    self.set_connector_state(name, if paused { State::Paused } else { State::Running }, None)
                        .await;
                    self.ensure_tasks(name, &entry.config, &tasks, paused).await;
                }
            }
        }
        .instrument(span)
        .await
    }

    /// Starts the connector instance if it is not running. Ok(true) when it was started now.
    async fn ensure_connector(&mut self, name: &str, entry: &ConnectorEntry) -> Result<bool, String> {
        let running = self.running.entry(name.to_owned()).or_default();
        if running.instance.is_some() {
            return Ok(false);
        }
        let class = entry.config.get("connector.class").cloned().unwrap_or_default();
        let desc = self.ctx.registry.find(&class).copied().ok_or_else(|| {
            format!("org.apache.kafka.connect.errors.ConnectException: Failed to find any class that implements Connector and which name matches {class}")
        })?;
        let ctx: Arc<dyn ConnectorContext> = Arc::new(Ctx {
            connector: name.to_owned(),
            events: self.events_tx.clone(),
        });
        let mut inst = match desc.factory {
            PluginFactory::Source(make) => Instance::Source(make()),
            PluginFactory::Sink(make) => Instance::Sink(make()),
            _ => return Err(format!("{class} is not a connector")),
        };
        let start = async {
            match &mut inst {
                Instance::Source(c) => c.start(&entry.config, ctx).await,
                Instance::Sink(c) => c.start(&entry.config, ctx).await,
            }
        };
        let start = std::panic::AssertUnwindSafe(start).catch_unwind();
        match tokio::time::timeout(Duration::from_secs(60), start).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => return Err(error_trace(&e)),
            Ok(Err(p)) => return Err(engine::panic_message(p.as_ref())),
            Err(_) => return Err("the connector did not start within 60 s".into()),
        }
        tracing::info!(class = %class, "connector started");
        let running = self.running.entry(name.to_owned()).or_default();
        running.instance = Some(inst);
        running.failed = false;
        Ok(true)
    }

    /// Asks the connector for task configs and stores them when they changed.
    async fn generate_tasks(&mut self, name: &str, entry: &ConnectorEntry) -> Result<Vec<ConfigMap>, String> {
        let max = entry
            .config
            .get("tasks.max")
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(1)
            .max(1);
        let kind = self.kind_of(&entry.config);
        let Some(inst) = self.running.get(name).and_then(|r| r.instance.as_ref()) else {
            return Err("connector is not running".into());
        };
        let mut configs = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inst.task_configs(max)))
            .map_err(|p| engine::panic_message(p.as_ref()))?
            .map_err(|e| error_trace(&e))?;
        if configs.len() > max {
            return Err(format!(
                "org.apache.kafka.connect.errors.ConnectException: The connector {name} has generated {} tasks, which is greater than {max}, the maximum number of tasks it is configured to create. ",
                configs.len()
            ));
        }
        let class = entry.config.get("connector.class").cloned().unwrap_or_default();
        for c in &mut configs {
            c.insert("task.class".into(), format!("{class}Task"));
            if kind == Some(ConnectorType::Sink) {
                for k in ["topics", "topics.regex"] {
                    if let Some(v) = entry.config.get(k) {
                        c.insert(k.into(), v.clone());
                    }
                }
            }
        }
        if configs != entry.tasks {
            let mut records: Vec<ConfigRecord> = configs
                .iter()
                .enumerate()
                .map(|(i, c)| ConfigRecord::Task {
                    connector: name.to_owned(),
                    task: i as u32,
                    config: Some(c.clone()),
                })
                .collect();
            records.push(ConfigRecord::Commit {
                connector: name.to_owned(),
                tasks: configs.len() as u32,
            });
            self.write(&records).await.map_err(|e| e.to_string())?;
            for r in records {
                self.state.apply(r);
            }
            self.publish(name);
            // Statuses of tasks that no longer exist are removed.
            for (t, _) in self.ctx.status.task_statuses(name) {
                if t as usize >= configs.len() {
                    self.ctx.status.remove(StatusKey::Task(name.to_owned(), t)).await;
                }
            }
        }
        Ok(configs)
    }

    /// Runs exactly the given tasks: restarts those whose config changed, sets the pause flag.
    async fn ensure_tasks(
        &mut self,
        name: &str,
        connector_config: &ConfigMap,
        tasks: &[ConfigMap],
        paused: bool,
    ) {
        let stale: Vec<u32> = self
            .running
            .get(name)
            .map(|r| {
                r.tasks
                    .iter()
                    .filter(|(id, h)| tasks.get(**id as usize) != Some(&h.config) || h.join.is_finished())
                    .map(|(id, _)| *id)
                    .collect()
            })
            .unwrap_or_default();
        for id in stale {
            self.stop_task(name, id).await;
        }
        for (i, config) in tasks.iter().enumerate() {
            let id = i as u32;
            let running = self.running.entry(name.to_owned()).or_default();
            if let Some(h) = running.tasks.get(&id) {
                let _ = h.paused.send(paused);
                continue;
            }
            let Some(inst) = running.instance.as_ref() else {
                return;
            };
            let cancel = CancellationToken::new();
            let (paused_tx, paused_rx) = watch::channel(paused);
            let env = TaskEnv {
                connector: name.to_owned(),
                task: id,
                task_config: config.clone(),
                connector_config: connector_config.clone(),
                worker: self.ctx.clone(),
                cancel: cancel.clone(),
                paused: paused_rx,
            };
            let join = match inst {
                Instance::Source(c) => tokio::spawn(engine::source::run(env, c.create_task())),
                Instance::Sink(c) => tokio::spawn(engine::sink::run(env, c.create_task())),
            };
            running.tasks.insert(
                id,
                TaskHandle {
                    cancel,
                    paused: paused_tx,
                    join,
                    config: config.clone(),
                },
            );
        }
    }

    async fn stop_task(&mut self, name: &str, id: u32) {
        let Some(h) = self.running.get_mut(name).and_then(|r| r.tasks.remove(&id)) else {
            return;
        };
        let grace = Duration::from_millis(self.ctx.config.task_shutdown_graceful_timeout_ms.max(1000));
        h.cancel.cancel();
        let abort = h.join.abort_handle();
        if tokio::time::timeout(grace + Duration::from_secs(5), h.join)
            .await
            .is_err()
        {
            tracing::error!(
                connector = name,
                task = id,
                "Graceful stop of task {name}-{id} failed."
            );
            abort.abort();
        }
    }

    async fn stop_connector(&mut self, name: &str) {
        if let Some(mut inst) = self.running.get_mut(name).and_then(|r| r.instance.take()) {
            if let Err(e) = inst.stop().await {
                tracing::warn!(connector = name, "connector stop failed: {}", error_trace(&e));
            }
        }
    }

    /// Stops every task, then the connector instance.
    async fn stop_all(&mut self, name: &str, mark_unassigned: bool) {
        let ids: Vec<u32> = self
            .running
            .get(name)
            .map(|r| r.tasks.keys().copied().collect())
            .unwrap_or_default();
        for id in &ids {
            self.stop_task(name, *id).await;
            if mark_unassigned {
                self.ctx
                    .status
                    .put(StatusKey::Task(name.to_owned(), *id), State::Unassigned, None)
                    .await;
            }
        }
        self.stop_connector(name).await;
    }

    async fn shutdown(&mut self) {
        let names: Vec<String> = self.running.keys().cloned().collect();
        // Tasks first, all at once, so every task flushes its offsets within the grace period.
        let mut joins = Vec::new();
        for name in &names {
            if let Some(r) = self.running.get_mut(name) {
                for (id, h) in std::mem::take(&mut r.tasks) {
                    h.cancel.cancel();
                    joins.push((name.clone(), id, h.join));
                }
            }
        }
        let grace = Duration::from_millis(self.ctx.config.task_shutdown_graceful_timeout_ms.max(1000));
        for (name, id, join) in joins {
            let abort = join.abort_handle();
            if tokio::time::timeout(grace + Duration::from_secs(5), join)
                .await
                .is_err()
            {
                tracing::error!("Graceful stop of task {name}-{id} failed.");
                abort.abort();
            }
            self.ctx
                .status
                .put(StatusKey::Task(name.clone(), id), State::Unassigned, None)
                .await;
        }
        for name in &names {
            self.stop_connector(name).await;
            if self.state.connectors.contains_key(name) {
                self.set_connector_state(name, State::Unassigned, None).await;
            }
        }
    }
}
