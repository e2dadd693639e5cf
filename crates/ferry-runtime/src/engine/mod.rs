//! Task engines: run one source or sink task, moving records in batches between
//! the task and Kafka through converters and transforms.

#![warn(missing_docs)]

pub mod convert;
pub mod errors;
pub mod sink;
pub mod source;
pub mod submitted;
pub mod topics;
pub mod trouble;

#[cfg(test)]
mod testing;

use std::sync::Arc;

use ferry_core::{ConfigMap, PluginRegistry};
use ferry_kafka::{ClientProps, ClientSettings, KafkaClients, TopicAdmin};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::store::{OffsetStore, StatusStore};
use crate::WorkerConfig;

/// Why a task stopped working.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Bad connector configuration detected while starting the task.
    #[error("{0}")]
    Config(String),
    /// A converter refused its configuration, before the task was created (Connect
    /// reports no task version then).
    #[error("{0}")]
    ConverterConfig(String),
    /// The task or a record failed; the text is the status trace.
    #[error("{0}")]
    Failed(String),
    /// A Kafka client or internal topic failed.
    #[error(transparent)]
    Kafka(#[from] ferry_kafka::KafkaStoreError),
}

/// The part of a task engine that runs after a successful start.
#[async_trait::async_trait]
pub(crate) trait TaskLoop: Send + 'static {
    /// Moves records until cancelled (Ok) or failed (Err with the trace).
    async fn run_loop(&mut self, env: &TaskEnv) -> Result<(), EngineError>;
    /// Flushes what can be flushed and stops the task.
    async fn shutdown(&mut self, env: &TaskEnv, failed: bool);
}

/// The text of a caught panic.
pub(crate) fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    let what = p
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    format!("org.apache.kafka.connect.errors.ConnectException: a plugin panicked: {what}")
}

/// Runs a future, turning a panic inside it into a failure trace.
pub(crate) async fn catch_panic<T>(
    fut: impl std::future::Future<Output = Result<T, EngineError>>,
) -> Result<T, EngineError> {
    use futures::FutureExt;
    match std::panic::AssertUnwindSafe(fut).catch_unwind().await {
        Ok(r) => r,
        Err(p) => Err(EngineError::Failed(panic_message(p.as_ref()))),
    }
}

/// Runs a started (or failed-to-start) engine to the end and records FAILED with its trace.
pub(crate) async fn drive<E: TaskLoop>(env: &TaskEnv, started: Result<E, EngineError>) {
    match started {
        Ok(mut engine) => {
            let result = catch_panic(engine.run_loop(env)).await;
            let failed = result.as_ref().err().map(ToString::to_string);
            let shutdown = catch_panic(async {
                engine.shutdown(env, failed.is_some()).await;
                Ok(())
            });
            if let Err(e) = shutdown.await {
                tracing::error!("task shutdown failed: {e}");
            }
            // Dropping librdkafka clients can block while they close.
            let _ = tokio::task::spawn_blocking(move || drop(engine)).await;
            if let Some(trace) = failed {
                tracing::error!("task failed: {trace}");
                env.set_state(ferry_kafka::records::State::Failed, Some(trace))
                    .await;
            }
        }
        Err(e) => {
            tracing::error!("task failed to start: {e}");
            let created = !matches!(e, EngineError::ConverterConfig(_));
            env.set_state_of(ferry_kafka::records::State::Failed, Some(e.to_string()), created)
                .await;
        }
    }
}

/// What every task of the worker shares.
pub struct WorkerContext {
    /// The worker's configuration.
    pub config: WorkerConfig,
    /// Every plugin.
    pub registry: PluginRegistry,
    /// Source offsets.
    pub offsets: Arc<OffsetStore>,
    /// Connector and task states.
    pub status: Arc<StatusStore>,
    /// Topic administration.
    pub admin: Arc<dyn TopicAdmin>,
    /// Makes the tasks' Kafka clients (and keeps a producer warm for the next source task).
    pub clients: KafkaClients,
}

impl WorkerContext {
    /// The version of the connector plugin a connector config names (Connect 4.x shows
    /// it in connector and task statuses); `None` when the class is unknown.
    pub fn plugin_version(&self, connector: &ConfigMap) -> Option<String> {
        let class = connector.get("connector.class")?;
        Some(self.registry.find(class.trim())?.version.to_owned())
    }

    /// Client properties for a role (`producer`, `consumer`, `admin`): bootstrap servers,
    /// the worker's `ROLE.*` options, then the connector's `ROLE.override.*` (refused
    /// when `connector.client.config.override.policy` does not allow them).
    pub fn client_config(&self, role: &str, connector: &ConfigMap) -> Result<ClientSettings, EngineError> {
        let policy =
            crate::config_providers::OverridePolicy::from_worker(&self.config.originals).map_err(|e| {
                EngineError::Config(format!("org.apache.kafka.common.config.ConfigException: {e}"))
            })?;
        if let Some(refused) = policy.check_task(role, connector) {
            return Err(EngineError::Failed(refused));
        }
        let mut props = ClientProps::new();
        props.set("bootstrap.servers", self.config.bootstrap_servers.clone());
        let worker_prefix = format!("{role}.");
        props.extend(self.config.with_prefix(&worker_prefix).iter());
        let override_prefix = format!("{role}.override.");
        let overrides = ferry_core::config::with_prefix(connector, &override_prefix);
        props.extend(overrides.iter());
        Ok(props.to_client_config(role, &worker_prefix)?)
    }
}

/// Everything one task run needs.
pub struct TaskEnv {
    /// Connector name.
    pub connector: String,
    /// Task number.
    pub task: u32,
    /// The task's own configuration.
    pub task_config: ConfigMap,
    /// The connector's configuration (converters, transforms, errors.*, topic.creation.*).
    pub connector_config: ConfigMap,
    /// Shared worker state.
    pub worker: Arc<WorkerContext>,
    /// Cancelled to stop the task.
    pub cancel: CancellationToken,
    /// True while the connector is paused.
    pub paused: watch::Receiver<bool>,
}

impl TaskEnv {
    /// Replaces the task's and the connector's configs with their values resolved by
    /// the worker's config providers (`${file:…}`, `${env:…}`, `${dir:…}`).
    pub(crate) fn resolve_configs(&mut self) -> Result<(), EngineError> {
        let resolve = |c: &ConfigMap| {
            crate::config_providers::resolve(&self.worker.config, c).map_err(|e| {
                EngineError::Config(format!("org.apache.kafka.common.config.ConfigException: {e}"))
            })
        };
        let task_config = resolve(&self.task_config)?;
        let connector_config = resolve(&self.connector_config)?;
        self.task_config = task_config;
        self.connector_config = connector_config;
        Ok(())
    }

    /// The task's status key.
    pub fn status_key(&self) -> ferry_kafka::records::StatusKey {
        ferry_kafka::records::StatusKey::Task(self.connector.clone(), self.task)
    }

    /// Records a task state.
    pub async fn set_state(&self, state: ferry_kafka::records::State, trace: Option<String>) {
        self.set_state_of(state, trace, true).await;
    }

    /// Records the task's state, with the plugin's version only once the task was created.
    async fn set_state_of(&self, state: ferry_kafka::records::State, trace: Option<String>, created: bool) {
        let version = created
            .then(|| self.worker.plugin_version(&self.connector_config))
            .flatten();
        self.worker
            .status
            .put(self.status_key(), state, trace, version)
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_kafka::records::StatusKey;

    #[tokio::test]
    async fn a_panic_becomes_a_failure_trace() {
        let r: Result<(), EngineError> = catch_panic(async { panic!("boom at record 7") }).await;
        let trace = r.unwrap_err().to_string();
        assert_eq!(
            trace,
            "org.apache.kafka.connect.errors.ConnectException: a plugin panicked: boom at record 7"
        );
        let ok: Result<u8, EngineError> = catch_panic(async { Ok(3) }).await;
        assert_eq!(ok.unwrap(), 3);
    }

    /// Never started: [`drive`] only reports the start failure.
    struct NeverStarted;

    #[async_trait::async_trait]
    impl TaskLoop for NeverStarted {
        async fn run_loop(&mut self, _: &TaskEnv) -> Result<(), EngineError> {
            unreachable!("not started")
        }
        async fn shutdown(&mut self, _: &TaskEnv, _: bool) {}
    }

    #[tokio::test]
    async fn a_converter_refusing_its_configuration_fails_the_task_as_connect_reports_it() {
        let h = testing::Harness::new(
            &[],
            &[
                ("value.converter", "io.debezium.converters.CloudEventsConverter"),
                ("value.converter.serializer.type", "avro"),
            ],
        );
        let w = &h.env.worker;
        let err = convert::Converters::for_connector(&w.registry, &w.config, &h.env.connector_config)
            .err()
            .expect("refused");
        assert!(matches!(err, EngineError::ConverterConfig(_)), "{err:?}");
        drive::<NeverStarted>(&h.env, Err(err)).await;
        let status = w.status.get(&StatusKey::Task("c".into(), 0)).expect("a status");
        // The exception Debezium's converter throws, and no version: the task was never created.
        assert_eq!(
            status.trace.as_deref(),
            Some("java.lang.IllegalStateException: Cannot use 'application/json' data content type within Avro events")
        );
        assert_eq!(status.state, ferry_kafka::records::State::Failed);
        assert_eq!(status.version, None);
    }
}
