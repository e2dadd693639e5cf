//! Connector and task statuses and active topics over REST, read from the status store.

use ferry_kafka::records::{self as rec, StatusKey};
use ferry_rest::entities::{
    ActiveTopicsInfo, ConnectorState, ConnectorStateInfo, ConnectorTaskId, State, TaskState,
};
use ferry_rest::{HerderError, HerderResult};

use super::Worker;

/// The REST state of a stored status (DESTROYED reads as UNASSIGNED).
pub(super) fn state_of(r: &rec::StatusRecord) -> State {
    match r.state {
        rec::State::Unassigned | rec::State::Destroyed => State::Unassigned,
        rec::State::Running => State::Running,
        rec::State::Paused => State::Paused,
        rec::State::Failed => State::Failed,
        rec::State::Restarting => State::Restarting,
        rec::State::Stopped => State::Stopped,
    }
}

/// A task's REST status from its stored record.
fn task_state(id: u32, r: &rec::StatusRecord) -> TaskState {
    TaskState {
        id: id as i32,
        state: state_of(r),
        worker_id: r.worker_id.clone(),
        version: r.version.clone(),
        trace: r.trace.clone(),
    }
}

impl Worker {
    /// `GET /connectors/NAME/status`.
    pub(super) fn status_of(&self, name: &str) -> HerderResult<ConnectorStateInfo> {
        let not_found = || HerderError::NotFound(format!("No status found for connector {name}"));
        let e = self.entry(name).ok_or_else(not_found)?;
        let c = self
            .ctx
            .status
            .get(&StatusKey::Connector(name.to_owned()))
            .ok_or_else(not_found)?;
        let tasks = self
            .ctx
            .status
            .task_statuses(name)
            .into_iter()
            .filter(|(_, r)| r.state != rec::State::Destroyed)
            .map(|(id, r)| task_state(id, &r))
            .collect();
        Ok(ConnectorStateInfo {
            name: name.to_owned(),
            connector: ConnectorState {
                state: state_of(&c),
                worker_id: c.worker_id.clone(),
                version: c.version.clone(),
                trace: c.trace.clone(),
            },
            tasks,
            ty: e
                .kind
                .map_or(ferry_rest::entities::ConnectorType::Unknown, Into::into),
        })
    }

    /// `GET /connectors/NAME/tasks/N/status`.
    pub(super) fn task_status_of(&self, id: &ConnectorTaskId) -> HerderResult<TaskState> {
        let task = u32::try_from(id.task).ok();
        task.and_then(|t| self.ctx.status.get(&StatusKey::Task(id.connector.clone(), t)))
            .map(|r| task_state(id.task as u32, &r))
            .ok_or_else(|| HerderError::NotFound(format!("No status found for task {id}")))
    }

    /// `GET /connectors/NAME/topics`: 403 when topic tracking is off.
    pub(super) fn active_topics(&self, name: &str) -> HerderResult<ActiveTopicsInfo> {
        if !self.ctx.config.topic_tracking_enable {
            return Err(HerderError::Forbidden("Topic tracking is disabled.".into()));
        }
        Ok(ActiveTopicsInfo {
            connector: name.to_owned(),
            topics: self.ctx.status.active_topics(name),
        })
    }

    /// `PUT /connectors/NAME/topics/reset`: 403 when tracking or resetting is off.
    pub(super) async fn reset_active_topics(&self, name: &str) -> HerderResult<()> {
        if !self.ctx.config.topic_tracking_enable {
            return Err(HerderError::Forbidden("Topic tracking is disabled.".into()));
        }
        if !self.ctx.config.topic_tracking_allow_reset {
            return Err(HerderError::Forbidden("Topic tracking reset is disabled.".into()));
        }
        self.ctx.status.reset_topics(name).await;
        Ok(())
    }
}
