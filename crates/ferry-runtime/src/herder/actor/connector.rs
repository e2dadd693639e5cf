//! Connector instances: started from the registry, asked for task configs, and stopped
//! within a time limit so a plugin whose `stop()` hangs cannot block the herder.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use ferry_core::{
    error_trace, ConfigMap, ConnectError, ConnectorContext, ConnectorType, PluginFactory, SinkConnector,
    SourceConnector,
};
use ferry_kafka::records::StatusKey;
use futures::FutureExt;
use tokio::sync::mpsc;

use super::super::group::LeaderTarget;
use super::tasks::TaskHandle;
use super::{Actor, Event};
use tracing::Instrument as _;

use crate::connector_config::tasks_max;
use crate::engine;
use crate::store::hash_order::java_hash_map;
use crate::store::ConnectorEntry;

/// What a connector's plugin reports back, as events for the actor.
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

/// A started connector plugin.
pub(super) enum Instance {
    /// A source connector.
    Source(Box<dyn SourceConnector>),
    /// A sink connector.
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
    fn task_class(&self) -> Option<&'static str> {
        match self {
            Instance::Source(c) => c.task_class(),
            Instance::Sink(c) => c.task_class(),
        }
    }
}

/// What runs of one connector.
#[derive(Default)]
pub(super) struct Running {
    /// The connector instance, when started.
    pub instance: Option<Instance>,
    /// The instance failed in the background.
    pub failed: bool,
    /// Running tasks by number.
    pub tasks: BTreeMap<u32, TaskHandle>,
}

/// Stops a connector instance on a task of its own and waits at most `limit`: one whose
/// `stop()` does not return is left behind with an error naming it, as Connect does.
/// Returns whether it stopped in time.
pub(super) async fn stop_instance(name: &str, mut instance: Instance, limit: Duration) -> bool {
    let stopping = tokio::spawn(async move { instance.stop().await });
    match tokio::time::timeout(limit, stopping).await {
        Ok(Ok(Ok(()))) => true,
        Ok(Ok(Err(e))) => {
            tracing::warn!(connector = name, "connector stop failed: {}", error_trace(&e));
            true
        }
        Ok(Err(e)) => {
            let why = match e.try_into_panic() {
                Ok(p) => engine::panic_message(p.as_ref()),
                Err(e) => e.to_string(),
            };
            tracing::warn!(connector = name, "connector stop failed: {why}");
            true
        }
        Err(_) => {
            tracing::error!(
                connector = name,
                "Connector '{name}' failed to properly shut down, has become unresponsive, and may be \
                 consuming external resources. Correct the configuration for this connector or remove the \
                 connector. After fixing the connector, it may be necessary to restart this worker to release \
                 any consumed resources."
            );
            false
        }
    }
}

/// The default `task.class` of a connector's tasks: its registered class name (an alias
/// resolved) followed by `Task`, as Debezium names its task classes.
pub(crate) fn task_class_of(registry: &ferry_core::PluginRegistry, entry: &ConnectorEntry) -> String {
    let given = entry.config.get("connector.class").map_or("", |c| c.trim());
    let class = registry.find(given).map_or(given, |p| p.class);
    format!("{class}Task")
}

impl Actor {
    /// Starts the connector instance if it is not running. Ok(true) when it was started now.
    pub(super) async fn ensure_connector(
        &mut self,
        name: &str,
        entry: &ConnectorEntry,
    ) -> Result<bool, String> {
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
        // Config provider variables are resolved for the instance only, never stored.
        let config = crate::config_providers::resolve(&self.ctx.config, &entry.config)
            .map_err(|e| format!("org.apache.kafka.common.config.ConfigException: {e}"))?;
        let start = async {
            match &mut inst {
                Instance::Source(c) => c.start(&config, ctx).await,
                Instance::Sink(c) => c.start(&config, ctx).await,
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
    pub(super) async fn generate_tasks(
        &mut self,
        name: &str,
        entry: &ConnectorEntry,
    ) -> Result<Vec<ConfigMap>, String> {
        let max = tasks_max(&entry.config);
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
        crate::config_providers::reverse_transform(&entry.config, &mut configs);
        let task_class = match inst.task_class() {
            Some(class) => class.to_owned(),
            None => task_class_of(&self.ctx.registry, entry),
        };
        for c in &mut configs {
            // The connector's task class (Connect's `taskClass()`), unless its task configs
            // name one; otherwise the connector's class name followed by `Task`.
            c.entry("task.class".into()).or_insert_with(|| task_class.clone());
            if kind == Some(ConnectorType::Sink) {
                for k in ["topics", "topics.regex"] {
                    if let Some(v) = entry.config.get(k) {
                        c.insert(k.into(), v.clone());
                    }
                }
            }
            // Connect copies each task config into a java.util.HashMap before writing it.
            *c = java_hash_map(std::mem::take(c));
        }
        if configs != entry.tasks {
            let leader = self.group.as_ref().map(|g| g.target());
            match leader {
                None | Some(LeaderTarget::Local) => {
                    let records = super::commands::task_config_records(name, &configs);
                    self.write_and_apply(name, records)
                        .await
                        .map_err(|e| e.to_string())?;
                }
                // A follower: the leader writes them. Sent in the background, so that the
                // actor never waits on another worker (which may be waiting on this one);
                // the stored configs stay until the config topic brings the new ones.
                Some(target) => {
                    tokio::spawn(
                        send_task_configs_to_leader(
                            self.forwarder.clone(),
                            self.group.clone(),
                            self.events_tx.clone(),
                            name.to_owned(),
                            configs,
                            target,
                        )
                        .in_current_span(),
                    );
                    return Ok(entry.tasks.clone());
                }
            }
            // Statuses of tasks that no longer exist are removed.
            for (t, _) in self.ctx.status.task_statuses(name) {
                if t as usize >= configs.len() {
                    self.ctx.status.remove(StatusKey::Task(name.to_owned(), t)).await;
                }
            }
        }
        Ok(configs)
    }

    /// Stops the connector instance, if one runs, within the connector stop limit.
    pub(super) async fn stop_connector(&mut self, name: &str) {
        if let Some(instance) = self.running.get_mut(name).and_then(|r| r.instance.take()) {
            stop_instance(name, instance, self.limits.connector).await;
        }
    }
}

/// A follower's new task configs go to the leader's internal
/// `POST /connectors/NAME/tasks`, signed, as Connect's `DistributedHerder` sends them;
/// the leader alone writes them. A failure (or no known leader) asks for another try in a
/// second, as Connect retries with backoff.
async fn send_task_configs_to_leader(
    forwarder: super::super::forward::Forwarder,
    group: Option<super::super::group::GroupShared>,
    events: mpsc::UnboundedSender<Event>,
    name: String,
    configs: Vec<ConfigMap>,
    target: LeaderTarget,
) {
    let sent = match target {
        LeaderTarget::Remote(url) => {
            let body = serde_json::to_vec(&configs).expect("string maps serialize");
            super::super::forward::send_signed(
                &forwarder,
                group.as_ref(),
                &url,
                reqwest::Method::POST,
                &["connectors", &name, "tasks"],
                body,
            )
            .await
            .map(|()| url)
            .map_err(|e| e.to_string())
        }
        _ => Err("no leader is known (a rebalance is under way)".to_owned()),
    };
    match sent {
        Ok(url) => {
            tracing::info!(leader = %url, tasks = configs.len(), "task configs sent to the leader");
        }
        Err(e) => {
            tracing::warn!("could not send task configs to the leader, retrying in 1 s: {e}");
            tokio::time::sleep(Duration::from_secs(1)).await;
            let _ = events.send(Event::Reconfigure(name));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_core::{PluginDescriptor, PluginRegistry};
    use ferry_kafka::records::TargetState;

    fn not_built() -> Box<dyn SourceConnector> {
        unreachable!("only looked up")
    }

    fn entry(class: &str) -> ConnectorEntry {
        ConnectorEntry {
            config: [("connector.class".to_string(), class.to_string())]
                .into_iter()
                .collect(),
            target: TargetState::Started,
            tasks: Vec::new(),
        }
    }

    #[test]
    fn the_default_task_class_follows_the_registered_class_name() {
        let mut registry = PluginRegistry::new();
        registry.register([PluginDescriptor {
            class: "io.example.ShopConnector",
            version: "1",
            factory: PluginFactory::Source(not_built),
        }]);
        // An alias resolves to the full class name, as Connect's taskClass().getName() is one.
        assert_eq!(
            task_class_of(&registry, &entry("Shop")),
            "io.example.ShopConnectorTask"
        );
        assert_eq!(
            task_class_of(&registry, &entry(" io.example.ShopConnector ")),
            "io.example.ShopConnectorTask"
        );
        assert_eq!(task_class_of(&registry, &entry("a.Unknown")), "a.UnknownTask");
    }
}
