//! The REST API ([`Herder`]) of a running worker: each endpoint handed to the module
//! that holds its logic (connectors, status, restart, offsets, plugins, logging).

use std::sync::atomic::Ordering;

use async_trait::async_trait;
use ferry_core::ConfigMap;
use ferry_kafka::records::TargetState;
use ferry_rest::entities::{
    ActiveTopicsInfo, ConfigInfos, ConfigKeyInfo, ConnectorInfo, ConnectorOffset, ConnectorOffsets,
    ConnectorStateInfo, ConnectorTaskId, Created, InitialState, LoggerLevel, LoggerScope, Message,
    NullableConfig, PluginInfo, RestartRequest, ServerInfo, TaskInfo, TaskState,
};
use ferry_rest::{Herder, HerderResult};
use indexmap::IndexMap;
use reqwest::Method;
use serde_json::json;

use super::actor::Command;
use super::{server_info, Worker};

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
        Ok(self.connector_names())
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
        if let Some(url) = self.leader_target()? {
            let mut body = json!({ "name": name, "config": config });
            if let Some(s) = initial_state {
                body["initial_state"] = json!(s);
            }
            let a = self
                .forwarder
                .send(&url, Method::POST, &["connectors"], &[], Some(body))
                .await?;
            return a.parse();
        }
        self.create(name, config, initial_state).await
    }

    async fn put_connector_config(
        &self,
        name: &str,
        config: NullableConfig,
    ) -> HerderResult<Created<ConnectorInfo>> {
        if let Some(url) = self.leader_target()? {
            let path = ["connectors", name, "config"];
            let a = self
                .forwarder
                .send(&url, Method::PUT, &path, &[], Some(json!(config)))
                .await?;
            let created = a.status == 201;
            return Ok(Created {
                created,
                result: a.parse()?,
            });
        }
        let (created, result) = self.put_config(name, config).await?;
        Ok(Created { created, result })
    }

    async fn patch_connector_config(&self, name: &str, patch: NullableConfig) -> HerderResult<ConnectorInfo> {
        if let Some(url) = self.leader_target()? {
            let path = ["connectors", name, "config"];
            let a = self
                .forwarder
                .send(&url, Method::PATCH, &path, &[], Some(json!(patch)))
                .await?;
            return a.parse();
        }
        self.patch_config(name, patch).await
    }

    async fn delete_connector(&self, name: &str) -> HerderResult<()> {
        if let Some(url) = self.leader_target()? {
            self.forwarder
                .send(&url, Method::DELETE, &["connectors", name], &[], None)
                .await?;
            return Ok(());
        }
        self.delete(name).await
    }

    async fn connector_config(&self, name: &str) -> HerderResult<ConfigMap> {
        self.config_of(name)
    }

    async fn connector_status(&self, name: &str) -> HerderResult<ConnectorStateInfo> {
        self.status_of(name)
    }

    async fn task_configs(&self, name: &str) -> HerderResult<Vec<TaskInfo>> {
        self.task_infos(name)
    }

    async fn task_status(&self, id: &ConnectorTaskId) -> HerderResult<TaskState> {
        self.task_status_of(id)
    }

    async fn restart_connector(&self, name: &str) -> HerderResult<()> {
        let key = ferry_kafka::records::StatusKey::Connector(name.to_owned());
        if let Some(url) = self.owner_elsewhere(&key) {
            let path = ["connectors", name, "restart"];
            self.forwarder.send(&url, Method::POST, &path, &[], None).await?;
            return Ok(());
        }
        self.restart_instance(name).await
    }

    async fn restart_connector_and_tasks(
        &self,
        request: &RestartRequest,
    ) -> HerderResult<ConnectorStateInfo> {
        if let Some(url) = self.leader_target()? {
            let path = ["connectors", request.connector.as_str(), "restart"];
            let query = [
                ("includeTasks", request.include_tasks.to_string()),
                ("onlyFailed", request.only_failed.to_string()),
            ];
            let a = self
                .forwarder
                .send(&url, Method::POST, &path, &query, None)
                .await?;
            return a.parse();
        }
        self.restart_with_tasks(request).await
    }

    async fn restart_task(&self, id: &ConnectorTaskId) -> HerderResult<()> {
        let key = ferry_kafka::records::StatusKey::Task(id.connector.clone(), id.task.max(0) as u32);
        if let Some(url) = self.owner_elsewhere(&key) {
            let task = id.task.to_string();
            let path = [
                "connectors",
                id.connector.as_str(),
                "tasks",
                task.as_str(),
                "restart",
            ];
            self.forwarder.send(&url, Method::POST, &path, &[], None).await?;
            return Ok(());
        }
        self.restart_one_task(id).await
    }

    async fn pause_connector(&self, name: &str) -> HerderResult<()> {
        if let Some(url) = self.leader_target()? {
            self.forwarder
                .send(&url, Method::PUT, &["connectors", name, "pause"], &[], None)
                .await?;
            return Ok(());
        }
        self.set_target(name, TargetState::Paused).await
    }

    async fn resume_connector(&self, name: &str) -> HerderResult<()> {
        if let Some(url) = self.leader_target()? {
            self.forwarder
                .send(&url, Method::PUT, &["connectors", name, "resume"], &[], None)
                .await?;
            return Ok(());
        }
        self.set_target(name, TargetState::Started).await
    }

    async fn stop_connector(&self, name: &str) -> HerderResult<()> {
        if let Some(url) = self.leader_target()? {
            self.forwarder
                .send(&url, Method::PUT, &["connectors", name, "stop"], &[], None)
                .await?;
            return Ok(());
        }
        self.set_target(name, TargetState::Stopped).await
    }

    async fn connector_active_topics(&self, name: &str) -> HerderResult<ActiveTopicsInfo> {
        self.active_topics(name)
    }

    async fn reset_connector_active_topics(&self, name: &str) -> HerderResult<()> {
        self.reset_active_topics(name).await
    }

    async fn connector_offsets(&self, name: &str) -> HerderResult<ConnectorOffsets> {
        self.offsets_of(name).await
    }

    async fn alter_connector_offsets(
        &self,
        name: &str,
        offsets: Vec<ConnectorOffset>,
    ) -> HerderResult<Message> {
        if let Some(url) = self.leader_target()? {
            let body = json!({ "offsets": offsets });
            let a = self
                .forwarder
                .send(
                    &url,
                    Method::PATCH,
                    &["connectors", name, "offsets"],
                    &[],
                    Some(body),
                )
                .await?;
            return a.parse();
        }
        self.alter_offsets(name, offsets).await
    }

    async fn reset_connector_offsets(&self, name: &str) -> HerderResult<Message> {
        if let Some(url) = self.leader_target()? {
            let a = self
                .forwarder
                .send(&url, Method::DELETE, &["connectors", name, "offsets"], &[], None)
                .await?;
            return a.parse();
        }
        self.reset_offsets(name).await
    }

    async fn plugins(&self) -> HerderResult<Vec<PluginInfo>> {
        Ok(self.plugin_infos())
    }

    async fn connector_plugin_config(&self, plugin: &str) -> HerderResult<Vec<ConfigKeyInfo>> {
        self.plugin_config_keys(plugin)
    }

    async fn validate_connector_config(&self, config: NullableConfig) -> HerderResult<ConfigInfos> {
        self.validate_config(config).await
    }

    async fn put_task_configs(
        &self,
        name: &str,
        configs: Vec<ConfigMap>,
        signature: Option<ferry_rest::signature::RequestSignature>,
    ) -> HerderResult<()> {
        self.check_internal_signature(signature.as_ref()).await?;
        if let Some(url) = self.leader_target()? {
            let body = serde_json::to_vec(&json!(configs)).expect("JSON values serialize");
            return self
                .forward_signed(&url, Method::POST, &["connectors", name, "tasks"], body)
                .await;
        }
        let name = name.to_owned();
        self.send(move |reply| Command::PutTaskConfigs { name, configs, reply })
            .await
    }

    async fn fence_zombies(
        &self,
        name: &str,
        signature: Option<ferry_rest::signature::RequestSignature>,
    ) -> HerderResult<()> {
        self.check_internal_signature(signature.as_ref()).await?;
        if let Some(url) = self.leader_target()? {
            return self
                .forward_signed(&url, Method::PUT, &["connectors", name, "fence"], Vec::new())
                .await;
        }
        // Ferry runs no exactly-once source tasks and writes no task-count records, so the
        // leader's round has nothing to fence: Connect's answers with
        // exactly.once.source.support disabled.
        let e = self.entry_or_404(name)?;
        if e.kind == Some(ferry_core::ConnectorType::Sink) {
            return Err(ferry_rest::HerderError::BadRequest(format!(
                "Connector {name} is not a source connector"
            )));
        }
        Ok(())
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
            .map_err(ferry_rest::HerderError::BadRequest)
    }
}
