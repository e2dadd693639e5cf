//! Restarts over REST: the connector alone, a task, or the connector and its tasks
//! (`includeTasks`, `onlyFailed`), with RESTARTING statuses written before the answer.

use ferry_kafka::records::{self as rec, StatusKey};
use ferry_rest::entities::{ConnectorStateInfo, ConnectorTaskId, RestartRequest, State};
use ferry_rest::{HerderError, HerderResult};

use super::actor::Command;
use super::Worker;

impl Worker {
    /// `POST /connectors/NAME/restart` without flags: the connector instance only.
    pub(super) async fn restart_instance(&self, name: &str) -> HerderResult<()> {
        if self.entry(name).is_none() {
            return Err(HerderError::NotFound(format!("Unknown connector: {name}")));
        }
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

    /// `POST /connectors/NAME/restart?includeTasks=..&onlyFailed=..`: the status as it
    /// will be, with what restarts marked RESTARTING.
    pub(super) async fn restart_with_tasks(
        &self,
        request: &RestartRequest,
    ) -> HerderResult<ConnectorStateInfo> {
        let name = &request.connector;
        if self.entry(name).is_none() {
            return Err(HerderError::NotFound(format!("Unknown connector: {name}")));
        }
        let mut status = self.status_of(name)?;
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
            let version = status.connector.version.clone();
            st.put(
                StatusKey::Connector(name.clone()),
                rec::State::Restarting,
                None,
                version,
            )
            .await;
        }
        for t in status.tasks.iter().filter(|t| tasks.contains(&(t.id as u32))) {
            let key = StatusKey::Task(name.clone(), t.id as u32);
            st.put(key, rec::State::Restarting, None, t.version.clone()).await;
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

    /// `POST /connectors/NAME/tasks/N/restart`.
    pub(super) async fn restart_one_task(&self, id: &ConnectorTaskId) -> HerderResult<()> {
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
}
