//! The herder's single owner of connector and task lifecycles.
//!
//! Every change (config put, delete, pause, restart, offsets) goes through one
//! task that owns the running connectors and tasks, so changes apply in order
//! without locks. Reads never wait for it: they use the shared [`View`].
//!
//! - `commands`: what each REST change writes to the config topic and applies;
//! - `connector`: connector instances (start, task configs, a time-limited stop);
//! - `tasks`: task runs (start, pause flag, a time-limited stop, shutdown).

mod commands;
mod connector;
mod tasks;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use ferry_core::{ConfigMap, ConnectorType, OffsetMap, PluginFactory};
use ferry_kafka::records::{ConfigRecord, State, StatusKey, TargetState};
use ferry_rest::HerderError;
use tokio::sync::{mpsc, oneshot};
use tracing::Instrument;

use super::{View, ViewEntry};
use crate::engine::WorkerContext;
use crate::store::{ConfigState, ConfigStore};
use crate::WorkerConfig;
use connector::Running;
pub use tasks::{EngineSpawner, WorkerEngines};

/// A reply channel.
pub type Reply<T> = oneshot::Sender<Result<T, HerderError>>;

/// A change requested of the herder.
pub enum Command {
    /// Create or replace a connector's config.
    PutConfig {
        /// Connector name.
        name: String,
        /// The validated config.
        config: ConfigMap,
        /// False for `POST /connectors`: an existing name is a conflict.
        allow_replace: bool,
        /// The target state of a new connector (`initial_state`).
        initial: Option<TargetState>,
        /// True when the connector was created.
        reply: Reply<bool>,
    },
    /// Delete a connector.
    Delete {
        /// Connector name.
        name: String,
        /// Done.
        reply: Reply<()>,
    },
    /// Pause, resume or stop.
    SetTarget {
        /// Connector name.
        name: String,
        /// The new target state.
        target: TargetState,
        /// Done.
        reply: Reply<()>,
    },
    /// Restart the connector instance and, optionally, its tasks.
    Restart {
        /// Connector name.
        name: String,
        /// Restart the connector instance.
        connector: bool,
        /// Tasks to restart.
        tasks: Vec<u32>,
        /// `(include_tasks, only_failed)` of a flagged request, recorded on the config topic.
        request: Option<(bool, bool)>,
        /// Answered before the restart happens, as Connect does.
        reply: Reply<()>,
    },
    /// Write offsets of a stopped source connector (`None` offset resets a partition).
    WriteOffsets {
        /// Connector name.
        name: String,
        /// Source partitions and their new offsets.
        offsets: Vec<(OffsetMap, Option<OffsetMap>)>,
        /// Done once durable.
        reply: Reply<()>,
    },
    /// Store task configs another worker's connector generated (the leader's internal
    /// `POST /connectors/NAME/tasks`).
    PutTaskConfigs {
        /// Connector name.
        name: String,
        /// The task configs, in task order.
        configs: Vec<ConfigMap>,
        /// Done once written.
        reply: Reply<()>,
    },
    /// Runs exactly `owned` of the config snapshot `state` (distributed group mode).
    Assign {
        /// The config topic as read for this generation.
        state: Box<ConfigState>,
        /// The connectors and tasks this worker runs from now on.
        owned: ferry_kafka::connect_group::assignor::Load,
        /// The group generation (written in status records).
        generation: i32,
        /// Answered once the work is started and stopped.
        reply: oneshot::Sender<()>,
    },
    /// Answers once the actor is idle (health check).
    Ping {
        /// Answered when the actor reads it.
        reply: Reply<()>,
    },
    /// Stop every task and connector, then end.
    Shutdown {
        /// Answered when everything has stopped.
        reply: oneshot::Sender<()>,
    },
}

/// Something that happened inside a running connector.
pub enum Event {
    /// The connector asked for its task configs to be recomputed.
    Reconfigure(String),
    /// The connector failed in the background.
    Failed(String, String),
}

/// How long a connector's and a task's `stop()` may take before the herder gives up on
/// it, logs an error naming it, and goes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StopLimits {
    /// For a connector instance (Connect's `CONNECTOR_GRACEFUL_SHUTDOWN_TIMEOUT_MS`, 5 s).
    pub connector: Duration,
    /// For a task run to end once cancelled, its final offset flush included.
    pub task: Duration,
}

impl StopLimits {
    /// Connect's 5 s for connectors; for tasks `task.shutdown.graceful.timeout.ms` (at least
    /// 1 s) plus 5 s for the final offset flush.
    pub fn from_config(config: &WorkerConfig) -> Self {
        StopLimits {
            connector: Duration::from_secs(5),
            task: Duration::from_millis(config.task_shutdown_graceful_timeout_ms.max(1000))
                + Duration::from_secs(5),
        }
    }
}

/// How the actor runs and stops plugins: stop time limits and the task engines.
#[derive(Clone)]
pub struct Supervision {
    /// How long a stopping connector or task may take.
    pub limits: StopLimits,
    /// Starts task engines.
    pub engines: Arc<dyn EngineSpawner>,
}

impl Supervision {
    /// The worker's limits, with task engines on the worker's Kafka clients.
    pub fn from_config(config: &WorkerConfig) -> Self {
        Supervision {
            limits: StopLimits::from_config(config),
            engines: Arc::new(WorkerEngines),
        }
    }
}

/// The actor's state.
pub struct Actor {
    ctx: Arc<WorkerContext>,
    store: Arc<ConfigStore>,
    view: Arc<RwLock<View>>,
    state: ConfigState,
    running: HashMap<String, Running>,
    events_tx: mpsc::UnboundedSender<Event>,
    limits: StopLimits,
    engines: Arc<dyn EngineSpawner>,
    /// What this worker runs in group mode (`None`: everything, no group).
    owned: Option<ferry_kafka::connect_group::assignor::Load>,
    /// The worker group, in group mode.
    group: Option<super::group::GroupShared>,
    /// Sends a follower's task configs to the leader.
    forwarder: super::forward::Forwarder,
    /// This worker wrote to the config topic since the last assignment.
    wrote_config: std::sync::atomic::AtomicBool,
}

impl Actor {
    /// An actor over loaded state.
    pub fn new(
        ctx: Arc<WorkerContext>,
        store: Arc<ConfigStore>,
        view: Arc<RwLock<View>>,
        state: ConfigState,
        supervision: Supervision,
    ) -> (Actor, mpsc::UnboundedReceiver<Event>) {
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let actor = Actor {
            ctx,
            store,
            view,
            state,
            running: HashMap::new(),
            events_tx,
            limits: supervision.limits,
            engines: supervision.engines,
            owned: None,
            group: None,
            forwarder: Default::default(),
            wrote_config: Default::default(),
        };
        (actor, events_rx)
    }

    /// Group mode: run nothing until the first assignment, and ask for rebalances after
    /// config writes.
    pub fn in_group(mut self, group: super::group::GroupShared) -> Self {
        self.owned = Some(Default::default());
        self.group = Some(group);
        self
    }

    /// Whether this worker runs the connector instance of `name`.
    fn owns_connector(&self, name: &str) -> bool {
        self.owned.as_ref().is_none_or(|o| o.connectors.contains(name))
    }

    /// Whether this worker runs task `task` of `name`.
    fn owns_task(&self, name: &str, task: u32) -> bool {
        self.owned.as_ref().is_none_or(|o| {
            o.tasks
                .contains(&ferry_kafka::connect_protocol::TaskId::new(name, task as i32))
        })
    }

    /// Applies a group assignment: the new config snapshot, then exactly the owned work.
    async fn assign(
        &mut self,
        state: ConfigState,
        owned: ferry_kafka::connect_group::assignor::Load,
        generation: i32,
    ) {
        self.ctx.status.set_generation(generation);
        // The group loop read `state` before this actor handled the commands queued
        // meanwhile; what they wrote (a new connector, a stop) is in the topic but not in
        // `state`, and replacing the state with it would undo them here until the next
        // rebalance: read the topic to its end again, after them.
        let state = if self.wrote_config.swap(false, std::sync::atomic::Ordering::SeqCst) {
            match self.store.load().await {
                Ok(fresh) => fresh,
                Err(e) => {
                    tracing::warn!("could not read the config topic again: {e}");
                    state
                }
            }
        } else {
            state
        };
        let old = std::mem::replace(&mut self.state, state);
        let mut names: Vec<String> = self.state.connectors.keys().cloned().collect();
        for n in old.connectors.keys().chain(self.running.keys()) {
            if !names.contains(n) {
                names.push(n.clone());
            }
        }
        // A connector whose config changed restarts with it.
        for name in &names {
            let before = old.connectors.get(name).map(|e| &e.config);
            let after = self.state.connectors.get(name).map(|e| &e.config);
            if before != after && self.running.contains_key(name) {
                self.stop_all(name).await;
            }
        }
        // Tasks new to this worker may come from a worker that died: read the offsets it
        // stored before starting them (this worker's copy dates from its own start-up).
        let arriving: std::collections::BTreeSet<String> = owned
            .tasks
            .iter()
            .filter(|t| {
                !self
                    .running
                    .get(&t.connector)
                    .is_some_and(|r| r.tasks.contains_key(&(t.task as u32)))
            })
            .map(|t| t.connector.clone())
            .collect();
        if !arriving.is_empty() {
            match self.ctx.offsets.refresh(&arriving).await {
                Ok(n) => tracing::debug!(connectors = ?arriving, partitions = n, "re-read stored offsets"),
                Err(e) => tracing::warn!(connectors = ?arriving, "could not re-read stored offsets: {e}"),
            }
        }
        self.owned = Some(owned);
        {
            let mut view = self.view.write().expect("view lock");
            view.connectors
                .retain(|n, _| self.state.connectors.contains_key(n));
        }
        for name in &names {
            self.publish(name);
            self.reconcile(name, false).await;
            if !self.state.connectors.contains_key(name) {
                self.running.remove(name);
            }
        }
        if let Err(e) = self.ctx.status.refresh().await {
            tracing::debug!("could not refresh statuses: {e}");
        }
        let running: Vec<StatusKey> = self
            .running
            .iter()
            .flat_map(|(name, r)| {
                let connector = r.instance.is_some().then(|| StatusKey::Connector(name.clone()));
                let tasks = r.tasks.keys().map(|t| StatusKey::Task(name.clone(), *t));
                connector.into_iter().chain(tasks)
            })
            .collect();
        self.ctx.status.reassert(&running).await;
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
                    if let Command::Assign { state, owned, generation, reply } = cmd {
                        self.assign(*state, owned, generation).await;
                        let _ = reply.send(());
                        continue;
                    }
                    self.handle(cmd).await;
                }
                Some(ev) = events.recv() => self.on_event(ev).await,
            }
        }
        self.shutdown().await;
    }

    /// Source or sink, from the config's `connector.class`.
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
        let group = self.group.clone();
        self.wrote_config.store(true, std::sync::atomic::Ordering::SeqCst);
        async move {
            store.write(&records).await.map_err(|e| {
                HerderError::Internal(format!(
                    "Failed to write to config topic; this may be due to a transient error and the request can be safely retried: {e}"
                ))
            })?;
            // The group rebalances so that every worker reads the change and the leader
            // assigns new work.
            if let Some(g) = group {
                g.request_rejoin();
            }
            Ok(())
        }
    }

    /// Writes config records, then applies them to the state and the view.
    async fn write_and_apply(&mut self, name: &str, records: Vec<ConfigRecord>) -> Result<(), HerderError> {
        self.write(&records).await?;
        for r in records {
            self.state.apply(r);
        }
        self.publish(name);
        Ok(())
    }

    /// Something a running connector reported.
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
                }
                self.stop_connector(&name).await;
                let version = self.version_of(&name);
                self.ctx
                    .status
                    .put(StatusKey::Connector(name), State::Failed, Some(trace), version)
                    .await;
            }
        }
    }

    /// Records a connector state; a plain fn returning a future, so no `&Actor` is held across the await.
    fn set_connector_state(
        &self,
        name: &str,
        state: State,
        trace: Option<String>,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        let status = self.ctx.status.clone();
        let key = StatusKey::Connector(name.to_owned());
        let version = self.version_of(name);
        async move { status.put(key, state, trace, version).await }
    }

    /// The plugin version of a connector's class (shown in its and its tasks' statuses).
    fn version_of(&self, name: &str) -> Option<String> {
        let entry = self.state.connectors.get(name)?;
        self.ctx.plugin_version(&entry.config)
    }

    /// Removes the statuses of every task of a connector.
    async fn remove_task_statuses(&mut self, name: &str) {
        for (t, _) in self.ctx.status.task_statuses(name) {
            self.ctx.status.remove(StatusKey::Task(name.to_owned(), t)).await;
        }
    }

    /// Brings the running connector and tasks in line with the stored config and target state.
    async fn reconcile(&mut self, name: &str, regenerate: bool) {
        let Some(entry) = self.state.connectors.get(name).cloned() else {
            self.stop_all(name).await;
            return;
        };
        let span = tracing::info_span!("connector", connector = %name);
        async {
            let owns = self.owns_connector(name);
            match entry.target {
                TargetState::Stopped => {
                    self.stop_all(name).await;
                    if owns {
                        self.remove_task_statuses(name).await;
                        self.set_connector_state(name, State::Stopped, None).await;
                    }
                }
                TargetState::Started | TargetState::Paused if !owns => {
                    // Another worker runs the connector: run only the tasks assigned here.
                    self.stop_connector(name).await;
                    let paused = entry.target == TargetState::Paused;
                    self.ensure_tasks(name, &entry.config, &entry.tasks, paused).await;
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Mode;

    fn config(task_shutdown_ms: &str) -> WorkerConfig {
        let props = [
            ("offset.storage.file.filename", "unused"),
            ("key.converter", "k"),
            ("value.converter", "v"),
            ("rest.advertised.host.name", "w"),
            ("task.shutdown.graceful.timeout.ms", task_shutdown_ms),
        ];
        let props = props
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        WorkerConfig::parse(props, Mode::Standalone).unwrap()
    }

    #[test]
    fn stop_limits_follow_the_worker_config() {
        let limits = StopLimits::from_config(&config("20000"));
        assert_eq!(limits.connector, Duration::from_secs(5));
        assert_eq!(limits.task, Duration::from_secs(25));
        // Tasks get at least a second (plus the flush allowance) however small the setting.
        assert_eq!(StopLimits::from_config(&config("0")).task, Duration::from_secs(6));
    }
}
