//! What each change requested over REST writes to the config topic (Connect's records,
//! in Connect's order) and how the running connector and tasks follow.

use ferry_core::{ConfigMap, OffsetMap};
use ferry_kafka::records::{ConfigRecord, StatusKey, TargetState};
use ferry_rest::HerderError;

use super::{Actor, Command, Reply};

impl Actor {
    /// In group mode, config changes are the leader's: a follower that gets one (the
    /// leadership moved while it was forwarded) answers Connect's 409.
    fn leader_only(&self) -> Result<(), HerderError> {
        match &self.group {
            Some(g) if g.target() != super::super::group::LeaderTarget::Local => Err(HerderError::Conflict(
                "Cannot complete request because of a conflicting operation (e.g. worker rebalance)".into(),
            )),
            _ => Ok(()),
        }
    }

    /// Applies one command and answers it.
    pub(super) async fn handle(&mut self, cmd: Command) {
        let leader_only = match &cmd {
            Command::PutConfig { .. }
            | Command::Delete { .. }
            | Command::SetTarget { .. }
            | Command::PutTaskConfigs { .. } => self.leader_only(),
            _ => Ok(()),
        };
        if let Err(e) = leader_only {
            match cmd {
                Command::PutConfig { reply, .. } => {
                    let _ = reply.send(Err(e));
                }
                Command::Delete { reply, .. }
                | Command::SetTarget { reply, .. }
                | Command::PutTaskConfigs { reply, .. } => {
                    let _ = reply.send(Err(e));
                }
                _ => {}
            }
            return;
        }
        match cmd {
            Command::PutConfig {
                name,
                config,
                allow_replace,
                initial,
                reply,
            } => self.put_config(name, config, allow_replace, initial, reply).await,
            Command::Delete { name, reply } => self.delete(name, reply).await,
            Command::SetTarget { name, target, reply } => self.set_target(name, target, reply).await,
            Command::Restart {
                name,
                connector,
                tasks,
                request,
                reply,
            } => self.restart(name, connector, tasks, request, reply).await,
            Command::WriteOffsets { name, offsets, reply } => {
                let _ = reply.send(self.write_offsets(&name, &offsets).await);
            }
            Command::PutTaskConfigs { name, configs, reply } => {
                let _ = reply.send(self.put_task_configs(&name, configs).await);
            }
            Command::Ping { reply } => {
                let _ = reply.send(Ok(()));
            }
            Command::Shutdown { .. } | Command::Assign { .. } => unreachable!("handled in run"),
        }
    }

    /// Creates or replaces a connector: its target state first (a new connector with an
    /// initial state), then its config; a changed config restarts it and its tasks.
    async fn put_config(
        &mut self,
        name: String,
        config: ConfigMap,
        allow_replace: bool,
        initial: Option<TargetState>,
        reply: Reply<bool>,
    ) {
        let exists = self.state.connectors.contains_key(&name);
        if exists && !allow_replace {
            let _ = reply.send(Err(HerderError::connector_exists(&name)));
            return;
        }
        let mut records = Vec::new();
        if let Some(t) = initial.filter(|_| !exists) {
            records.push(ConfigRecord::TargetState {
                connector: name.clone(),
                state: Some(t),
            });
        }
        records.push(ConfigRecord::Connector {
            name: name.clone(),
            config: Some(config),
        });
        if let Err(e) = self.write_and_apply(&name, records).await {
            let _ = reply.send(Err(e));
            return;
        }
        let _ = reply.send(Ok(!exists));
        self.stop_all(&name).await;
        self.reconcile(&name, false).await;
    }

    /// Deletes a connector: tombstones for its config and target state, then its
    /// connector and task statuses and active topics.
    async fn delete(&mut self, name: String, reply: Reply<()>) {
        let Some(task_count) = self.state.connectors.get(&name).map(|e| e.tasks.len()) else {
            let _ = reply.send(Err(HerderError::connector_not_found(&name)));
            return;
        };
        let records = vec![
            ConfigRecord::Connector {
                name: name.clone(),
                config: None,
            },
            ConfigRecord::TargetState {
                connector: name.clone(),
                state: None,
            },
        ];
        if let Err(e) = self.write_and_apply(&name, records).await {
            let _ = reply.send(Err(e));
            return;
        }
        self.stop_all(&name).await;
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

    /// Pauses, resumes or stops a connector; stopping also commits zero tasks.
    async fn set_target(&mut self, name: String, target: TargetState, reply: Reply<()>) {
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

    /// Restarts the connector instance and/or tasks; a flagged request is first recorded
    /// on the config topic, as Connect does.
    async fn restart(
        &mut self,
        name: String,
        connector: bool,
        tasks: Vec<u32>,
        request: Option<(bool, bool)>,
        reply: Reply<()>,
    ) {
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

    /// Stores task configs sent by the worker running the connector: task records and a
    /// commit, when they differ from the stored ones.
    async fn put_task_configs(&mut self, name: &str, configs: Vec<ConfigMap>) -> Result<(), HerderError> {
        let Some(entry) = self.state.connectors.get(name) else {
            return Err(HerderError::connector_not_found(name));
        };
        if entry.tasks == configs {
            return Ok(());
        }
        if entry.target == TargetState::Stopped {
            // Generated before the stop and delivered after it (a follower's request in
            // flight): a stopped connector has no tasks, and writing these would give it
            // some back.
            tracing::debug!(connector = %name, tasks = configs.len(), "task configs for a stopped connector ignored");
            return Ok(());
        }
        self.write_and_apply(name, task_config_records(name, &configs))
            .await
    }

    /// Writes a stopped source connector's offsets and waits until they are durable.
    async fn write_offsets(
        &mut self,
        name: &str,
        offsets: &[(OffsetMap, Option<OffsetMap>)],
    ) -> Result<(), HerderError> {
        let entries: Vec<(&OffsetMap, Option<&OffsetMap>)> =
            offsets.iter().map(|(p, o)| (p, o.as_ref())).collect();
        self.ctx
            .offsets
            .write(name, &entries)
            .await
            .map_err(|e| HerderError::Internal(format!("Failed to write offsets: {e}")))
    }
}

/// A connector's task configs as Connect writes them: a record per task, then the commit.
pub(super) fn task_config_records(name: &str, configs: &[ConfigMap]) -> Vec<ConfigRecord> {
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
    records
}
