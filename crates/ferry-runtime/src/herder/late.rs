//! The REST API before the worker has started: `GET /` answers at once, `/health`
//! says `starting`, and every other request waits for the worker (within the REST
//! timeout), as Kafka Connect's REST server does while its herder starts.

use std::sync::Arc;

use async_trait::async_trait;
use ferry_core::ConfigMap;
use ferry_rest::entities::{
    ActiveTopicsInfo, ConfigInfos, ConfigKeyInfo, ConnectorInfo, ConnectorOffset, ConnectorOffsets,
    ConnectorStateInfo, ConnectorTaskId, Created, InitialState, LoggerLevel, LoggerScope, Message,
    NullableConfig, PluginInfo, RestartRequest, ServerInfo, TaskInfo, TaskState,
};
use ferry_rest::{Herder, HerderError, HerderResult};
use indexmap::IndexMap;
use tokio::sync::watch;

use super::Worker;

/// A herder that becomes the worker once it has started.
pub struct LateHerder {
    worker: watch::Receiver<Option<Arc<Worker>>>,
}

/// Sets the worker behind a [`LateHerder`].
pub struct LateHerderHandle(watch::Sender<Option<Arc<Worker>>>);

impl LateHerderHandle {
    /// The worker has started: requests go to it from now on.
    pub fn set(&self, worker: Arc<Worker>) {
        let _ = self.0.send(Some(worker));
    }
}

impl LateHerder {
    /// A herder with no worker yet, and the handle that provides it.
    pub fn new() -> (Arc<LateHerder>, LateHerderHandle) {
        let (tx, rx) = watch::channel(None);
        (Arc::new(LateHerder { worker: rx }), LateHerderHandle(tx))
    }

    async fn worker(&self) -> HerderResult<Arc<Worker>> {
        let mut rx = self.worker.clone();
        let w = rx
            .wait_for(Option::is_some)
            .await
            .map_err(|_| HerderError::ServiceUnavailable("The worker did not start".into()))?;
        Ok(w.clone().expect("waited for Some"))
    }
}

#[async_trait]
impl Herder for LateHerder {
    async fn server_info(&self) -> HerderResult<ServerInfo> {
        let ready = self.worker.borrow().clone();
        match ready {
            Some(w) => w.server_info().await,
            None => Ok(super::server_info(None)),
        }
    }
    async fn health_check(&self) -> HerderResult<()> {
        self.worker().await?.health_check().await
    }
    fn is_ready(&self) -> bool {
        self.worker.borrow().as_ref().is_some_and(|w| w.is_ready())
    }
    async fn connectors(&self) -> HerderResult<Vec<String>> {
        self.worker().await?.connectors().await
    }
    async fn connector_info(&self, name: &str) -> HerderResult<ConnectorInfo> {
        self.worker().await?.connector_info(name).await
    }
    async fn create_connector(
        &self,
        name: &str,
        config: NullableConfig,
        initial_state: Option<InitialState>,
    ) -> HerderResult<ConnectorInfo> {
        self.worker()
            .await?
            .create_connector(name, config, initial_state)
            .await
    }
    async fn put_connector_config(
        &self,
        name: &str,
        config: NullableConfig,
    ) -> HerderResult<Created<ConnectorInfo>> {
        self.worker().await?.put_connector_config(name, config).await
    }
    async fn patch_connector_config(&self, name: &str, patch: NullableConfig) -> HerderResult<ConnectorInfo> {
        self.worker().await?.patch_connector_config(name, patch).await
    }
    async fn delete_connector(&self, name: &str) -> HerderResult<()> {
        self.worker().await?.delete_connector(name).await
    }
    async fn connector_config(&self, name: &str) -> HerderResult<ConfigMap> {
        self.worker().await?.connector_config(name).await
    }
    async fn connector_status(&self, name: &str) -> HerderResult<ConnectorStateInfo> {
        self.worker().await?.connector_status(name).await
    }
    async fn task_configs(&self, name: &str) -> HerderResult<Vec<TaskInfo>> {
        self.worker().await?.task_configs(name).await
    }
    async fn task_status(&self, id: &ConnectorTaskId) -> HerderResult<TaskState> {
        self.worker().await?.task_status(id).await
    }
    async fn restart_connector(&self, name: &str) -> HerderResult<()> {
        self.worker().await?.restart_connector(name).await
    }
    async fn restart_connector_and_tasks(
        &self,
        request: &RestartRequest,
    ) -> HerderResult<ConnectorStateInfo> {
        self.worker().await?.restart_connector_and_tasks(request).await
    }
    async fn restart_task(&self, id: &ConnectorTaskId) -> HerderResult<()> {
        self.worker().await?.restart_task(id).await
    }
    async fn pause_connector(&self, name: &str) -> HerderResult<()> {
        self.worker().await?.pause_connector(name).await
    }
    async fn resume_connector(&self, name: &str) -> HerderResult<()> {
        self.worker().await?.resume_connector(name).await
    }
    async fn stop_connector(&self, name: &str) -> HerderResult<()> {
        self.worker().await?.stop_connector(name).await
    }
    async fn connector_active_topics(&self, name: &str) -> HerderResult<ActiveTopicsInfo> {
        self.worker().await?.connector_active_topics(name).await
    }
    async fn reset_connector_active_topics(&self, name: &str) -> HerderResult<()> {
        self.worker().await?.reset_connector_active_topics(name).await
    }
    async fn connector_offsets(&self, name: &str) -> HerderResult<ConnectorOffsets> {
        self.worker().await?.connector_offsets(name).await
    }
    async fn alter_connector_offsets(
        &self,
        name: &str,
        offsets: Vec<ConnectorOffset>,
    ) -> HerderResult<Message> {
        self.worker().await?.alter_connector_offsets(name, offsets).await
    }
    async fn reset_connector_offsets(&self, name: &str) -> HerderResult<Message> {
        self.worker().await?.reset_connector_offsets(name).await
    }
    async fn put_task_configs(
        &self,
        name: &str,
        configs: Vec<ConfigMap>,
        signature: Option<ferry_rest::signature::RequestSignature>,
    ) -> HerderResult<()> {
        self.worker()
            .await?
            .put_task_configs(name, configs, signature)
            .await
    }
    async fn fence_zombies(
        &self,
        name: &str,
        signature: Option<ferry_rest::signature::RequestSignature>,
    ) -> HerderResult<()> {
        self.worker().await?.fence_zombies(name, signature).await
    }
    async fn plugins(&self) -> HerderResult<Vec<PluginInfo>> {
        self.worker().await?.plugins().await
    }
    async fn connector_plugin_config(&self, plugin: &str) -> HerderResult<Vec<ConfigKeyInfo>> {
        self.worker().await?.connector_plugin_config(plugin).await
    }
    async fn validate_connector_config(&self, config: NullableConfig) -> HerderResult<ConfigInfos> {
        self.worker().await?.validate_connector_config(config).await
    }
    async fn logger_levels(&self) -> HerderResult<IndexMap<String, LoggerLevel>> {
        self.worker().await?.logger_levels().await
    }
    async fn logger_level(&self, name: &str) -> HerderResult<Option<LoggerLevel>> {
        self.worker().await?.logger_level(name).await
    }
    async fn set_logger_level(
        &self,
        namespace: &str,
        level: &str,
        scope: LoggerScope,
    ) -> HerderResult<Vec<String>> {
        self.worker()
            .await?
            .set_logger_level(namespace, level, scope)
            .await
    }
}
