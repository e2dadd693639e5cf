//! Connector configs and target states over REST: create, replace, patch, delete,
//! pause, resume, stop, and the reads of configs and task configs.

use ferry_core::ConfigMap;
use ferry_kafka::records::TargetState;
use ferry_rest::entities::{ConnectorInfo, ConnectorTaskId, InitialState, NullableConfig, TaskInfo};
use ferry_rest::{HerderError, HerderResult};

use super::actor::Command;
use super::enrich::WorkerConverters;
use super::{validate, Worker};
use crate::store::hash_order::java_hash_map;

impl Worker {
    /// Connector names in creation order.
    pub(super) fn connector_names(&self) -> Vec<String> {
        self.view
            .read()
            .expect("view lock")
            .connectors
            .keys()
            .cloned()
            .collect()
    }

    /// `POST /connectors`: 409 when the name is taken.
    pub(super) async fn create(
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

    /// `PUT /connectors/NAME/config`: whether it was created, and the connector.
    pub(super) async fn put_config(
        &self,
        name: &str,
        config: NullableConfig,
    ) -> HerderResult<(bool, ConnectorInfo)> {
        self.put_validated(name, config, true, None).await
    }

    /// `PATCH /connectors/NAME/config`: a null value removes the key.
    pub(super) async fn patch_config(
        &self,
        name: &str,
        patch: NullableConfig,
    ) -> HerderResult<ConnectorInfo> {
        let e = self.entry_or_404(name)?;
        let mut merged = e.config;
        for (k, v) in patch {
            match v {
                Some(v) => {
                    merged.insert(k, v);
                }
                None => {
                    merged.shift_remove(&k);
                }
            }
        }
        // Connect merges the patch into a java.util.HashMap copy of the config.
        let merged: NullableConfig = java_hash_map(merged)
            .into_iter()
            .map(|(k, v)| (k, Some(v)))
            .collect();
        Ok(self.put_validated(name, merged, true, None).await?.1)
    }

    /// Validates a config (400 when invalid), then has the actor store and apply it.
    async fn put_validated(
        &self,
        name: &str,
        config: NullableConfig,
        allow_replace: bool,
        initial: Option<TargetState>,
    ) -> HerderResult<(bool, ConnectorInfo)> {
        let registry = self.ctx.registry.clone();
        let worker = WorkerConverters::of(&self.ctx.config);
        let validated = tokio::task::spawn_blocking(move || validate::validate(&registry, &worker, &config))
            .await
            .map_err(|e| HerderError::Internal(e.to_string()))??;
        if let Some(msg) = validated.infos.invalid_config_message() {
            return Err(HerderError::BadRequest(msg));
        }
        let config = validated.config;
        // Connect answers with the config as sent and the tasks as they were before the
        // change (none for a new connector: its tasks are generated after the answer).
        let tasks_before = self.entry(name).map_or(0, |e| e.tasks.len());
        let info = ConnectorInfo {
            name: name.to_owned(),
            config: config.clone(),
            tasks: (0..tasks_before)
                .map(|i| ConnectorTaskId::new(name, i as i32))
                .collect(),
            ty: validated.kind.into(),
        };
        let name_owned = name.to_owned();
        let created = self
            .send(move |reply| Command::PutConfig {
                name: name_owned,
                config,
                allow_replace,
                initial,
                reply,
            })
            .await?;
        Ok((created, info))
    }

    /// `DELETE /connectors/NAME`.
    pub(super) async fn delete(&self, name: &str) -> HerderResult<()> {
        let name = name.to_owned();
        self.send(move |reply| Command::Delete { name, reply }).await
    }

    /// `GET /connectors/NAME/config`.
    pub(super) fn config_of(&self, name: &str) -> HerderResult<ConfigMap> {
        Ok(self.entry_or_404(name)?.config)
    }

    /// `GET /connectors/NAME/tasks`.
    pub(super) fn task_infos(&self, name: &str) -> HerderResult<Vec<TaskInfo>> {
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

    /// Pause, resume or stop: records the target state, then the actor applies it.
    pub(super) async fn set_target(&self, name: &str, target: TargetState) -> HerderResult<()> {
        let name = name.to_owned();
        self.send(move |reply| Command::SetTarget { name, target, reply })
            .await
    }
}
