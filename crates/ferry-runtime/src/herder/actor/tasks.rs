//! Task runs: started on the source or sink engine, told when the connector pauses,
//! and stopped within a time limit (a task that does not end in time is aborted with
//! Connect's "Graceful stop of task ... failed." error).

use std::time::Duration;

use ferry_core::{ConfigMap, SinkTask, SourceTask};
use ferry_kafka::records::{State, StatusKey};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::connector::{stop_instance, Instance};
use super::Actor;
use crate::engine::{self, TaskEnv};

/// Starts a task's engine on its own tokio task.
pub trait EngineSpawner: Send + Sync {
    /// Runs a source task until cancelled or failed.
    fn spawn_source(&self, env: TaskEnv, task: Box<dyn SourceTask>) -> JoinHandle<()>;
    /// Runs a sink task until cancelled or failed.
    fn spawn_sink(&self, env: TaskEnv, task: Box<dyn SinkTask>) -> JoinHandle<()>;
}

/// The engines on the worker's Kafka clients (`WorkerContext::clients`).
pub struct WorkerEngines;

impl EngineSpawner for WorkerEngines {
    fn spawn_source(&self, env: TaskEnv, task: Box<dyn SourceTask>) -> JoinHandle<()> {
        tokio::spawn(engine::source::run(env, task))
    }
    fn spawn_sink(&self, env: TaskEnv, task: Box<dyn SinkTask>) -> JoinHandle<()> {
        tokio::spawn(engine::sink::run(env, task))
    }
}

/// One running task.
pub(crate) struct TaskHandle {
    /// Cancelled to ask the task to stop.
    cancel: CancellationToken,
    /// True while the connector is paused.
    paused: watch::Sender<bool>,
    /// The task's engine run.
    join: JoinHandle<()>,
    /// The config it runs with (a changed config restarts it).
    config: ConfigMap,
}

/// Waits at most `limit` for a cancelled task run to end; aborts it and logs Connect's
/// error when it does not. Returns whether it ended in time.
async fn await_task_stop(name: &str, id: u32, join: JoinHandle<()>, limit: Duration) -> bool {
    let abort = join.abort_handle();
    if tokio::time::timeout(limit, join).await.is_ok() {
        return true;
    }
    tracing::error!(
        connector = name,
        task = id,
        "Graceful stop of task {name}-{id} failed."
    );
    abort.abort();
    false
}

impl Actor {
    /// Runs exactly the given tasks: restarts those whose config changed, sets the pause flag.
    pub(super) async fn ensure_tasks(
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
                    .filter(|(id, h)| {
                        tasks.get(**id as usize) != Some(&h.config)
                            || h.join.is_finished()
                            || !self.owns_task(name, **id)
                    })
                    .map(|(id, _)| *id)
                    .collect()
            })
            .unwrap_or_default();
        for id in stale {
            self.stop_task(name, id).await;
        }
        // Tasks assigned here whose connector runs on another worker are created from an
        // instance of the connector class that is never started.
        let mut unstarted: Option<Instance> = None;
        for (i, config) in tasks.iter().enumerate() {
            let id = i as u32;
            if !self.owns_task(name, id) {
                continue;
            }
            let local = self.running.get(name).is_some_and(|r| r.instance.is_some());
            if !local && unstarted.is_none() {
                unstarted = self.unstarted_instance(connector_config);
            }
            let running = self.running.entry(name.to_owned()).or_default();
            if let Some(h) = running.tasks.get(&id) {
                let _ = h.paused.send(paused);
                continue;
            }
            let Some(inst) = running.instance.as_ref().or(unstarted.as_ref()) else {
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
                Instance::Source(c) => self.engines.spawn_source(env, c.create_task()),
                Instance::Sink(c) => self.engines.spawn_sink(env, c.create_task()),
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

    /// An instance of the connector's class, not started: only for creating tasks.
    fn unstarted_instance(&self, connector_config: &ConfigMap) -> Option<Instance> {
        let class = connector_config.get("connector.class")?;
        match self.ctx.registry.find(class)?.factory {
            ferry_core::PluginFactory::Source(make) => Some(Instance::Source(make())),
            ferry_core::PluginFactory::Sink(make) => Some(Instance::Sink(make())),
            _ => None,
        }
    }

    /// Stops one task within the task stop limit.
    pub(super) async fn stop_task(&mut self, name: &str, id: u32) {
        let Some(h) = self.running.get_mut(name).and_then(|r| r.tasks.remove(&id)) else {
            return;
        };
        h.cancel.cancel();
        await_task_stop(name, id, h.join, self.limits.task).await;
    }

    /// Stops every task (all asked at once, then waited for together, as Connect's
    /// `stopAndAwaitTasks`), then the connector instance.
    pub(super) async fn stop_all(&mut self, name: &str) {
        let tasks = self
            .running
            .get_mut(name)
            .map(|r| std::mem::take(&mut r.tasks))
            .unwrap_or_default();
        for h in tasks.values() {
            h.cancel.cancel();
        }
        let limit = self.limits.task;
        futures::future::join_all(
            tasks
                .into_iter()
                .map(|(id, h)| await_task_stop(name, id, h.join, limit)),
        )
        .await;
        self.stop_connector(name).await;
    }

    /// Stops everything at worker shutdown: every task at once (so each flushes its
    /// offsets within the limit), then every connector instance; statuses become UNASSIGNED.
    pub(super) async fn shutdown(&mut self) {
        let names: Vec<String> = self.running.keys().cloned().collect();
        let mut joins = Vec::new();
        for name in &names {
            if let Some(r) = self.running.get_mut(name) {
                for (id, h) in std::mem::take(&mut r.tasks) {
                    h.cancel.cancel();
                    joins.push((name.clone(), id, h.join));
                }
            }
        }
        // Waited for together: hung tasks cost one limit in all, not one each.
        let limit = self.limits.task;
        let stopped = futures::future::join_all(joins.into_iter().map(|(name, id, join)| async move {
            await_task_stop(&name, id, join, limit).await;
            (name, id)
        }))
        .await;
        for (name, id) in stopped {
            let version = self.version_of(&name);
            self.ctx
                .status
                .put(StatusKey::Task(name, id), State::Unassigned, None, version)
                .await;
        }
        let instances: Vec<(String, Instance)> = names
            .iter()
            .filter_map(|n| Some((n.clone(), self.running.get_mut(n)?.instance.take()?)))
            .collect();
        let limit = self.limits.connector;
        futures::future::join_all(instances.into_iter().map(|(name, instance)| async move {
            stop_instance(&name, instance, limit).await;
        }))
        .await;
        for name in &names {
            if self.state.connectors.contains_key(name) {
                self.set_connector_state(name, State::Unassigned, None).await;
            }
        }
    }
}
