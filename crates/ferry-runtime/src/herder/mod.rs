//! The herder: answers the REST API, owns connector and task lifecycles.
//!
//! [`Worker`] is the handle: reads are served from a shared [`View`] without
//! waiting, changes are sent to the actor, which applies them in order.
//!
//! - [`start`]: Kafka clients, internal topics, the group lease, shutdown;
//! - `api`: the REST API ([`ferry_rest::Herder`]), each endpoint handed to one of:
//! - `connectors` (configs, target states), `status`, `restart`, `offsets`, `plugins`;
//! - `actor`: the single owner of running connectors and tasks;
//! - [`late`]: the REST API before the worker has started;
//! - [`logging`]: `/admin/loggers`; [`validate`]: connector config validation.

mod actor;
mod api;
mod connectors;
pub mod enrich;
mod forward;
pub mod group;
pub mod late;
pub mod logging;
mod offsets;
mod plugins;
mod restart;
pub mod signing;
pub mod start;
mod status;
pub mod validate;

#[cfg(test)]
mod tests;

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, RwLock};

use ferry_core::{ConfigMap, ConnectorType};
use ferry_kafka::records::TargetState;
use ferry_rest::entities::{ConnectorInfo, ConnectorTaskId, ServerInfo};
use ferry_rest::{HerderError, HerderResult};
use indexmap::IndexMap;
use tokio::sync::{mpsc, oneshot};

use crate::engine::WorkerContext;
use actor::Command;
pub use logging::{LogControl, Loggers};
pub use start::shutdown_signal;

/// What reads see of one connector.
#[derive(Clone, Debug)]
pub struct ViewEntry {
    /// Stored config.
    pub config: ConfigMap,
    /// Target state.
    pub target: TargetState,
    /// Committed task configs.
    pub tasks: Vec<ConfigMap>,
    /// Source or sink, when the class is known.
    pub kind: Option<ConnectorType>,
}

/// The read side of the herder's state.
#[derive(Clone, Debug, Default)]
pub struct View {
    /// Connectors in creation order.
    pub connectors: IndexMap<String, ViewEntry>,
}

/// Could not start the worker.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A store failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// Kafka failed.
    #[error(transparent)]
    Kafka(#[from] ferry_kafka::KafkaStoreError),
    /// Configuration problem.
    #[error("{0}")]
    Config(String),
}

/// A running worker.
pub struct Worker {
    ctx: Arc<WorkerContext>,
    view: Arc<RwLock<View>>,
    commands: mpsc::Sender<Command>,
    ready: AtomicBool,
    loggers: Loggers,
    actor: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
    cluster_id: Option<String>,
    /// The worker group (distributed mode).
    group: Option<Arc<group::GroupHandle>>,
    /// Background work of group mode (status refresh), stopped at shutdown.
    background: tokio_util::sync::CancellationToken,
    /// Sends requests on to the leader or a connector's owner.
    forwarder: forward::Forwarder,
}

impl Worker {
    /// The worker's shared context (stores, registry, config).
    pub fn context(&self) -> &Arc<WorkerContext> {
        &self.ctx
    }

    /// Sends a command to the actor and waits for its answer.
    async fn send<T>(&self, make: impl FnOnce(actor::Reply<T>) -> Command) -> HerderResult<T> {
        let (reply, rx) = oneshot::channel();
        self.commands
            .send(make(reply))
            .await
            .map_err(|_| HerderError::ServiceUnavailable("Worker is shutting down".into()))?;
        rx.await
            .map_err(|_| HerderError::Internal("Worker is shutting down".into()))?
    }

    /// What the view holds of a connector.
    fn entry(&self, name: &str) -> Option<ViewEntry> {
        self.view.read().expect("view lock").connectors.get(name).cloned()
    }

    /// What the view holds of a connector, or Connect's 404.
    fn entry_or_404(&self, name: &str) -> HerderResult<ViewEntry> {
        self.entry(name)
            .ok_or_else(|| HerderError::connector_not_found(name))
    }

    /// `GET /connectors/NAME`'s body.
    fn info(name: &str, e: &ViewEntry) -> ConnectorInfo {
        ConnectorInfo {
            name: name.to_owned(),
            config: e.config.clone(),
            tasks: (0..e.tasks.len())
                .map(|i| ConnectorTaskId::new(name, i as i32))
                .collect(),
            ty: e
                .kind
                .map_or(ferry_rest::entities::ConnectorType::Unknown, Into::into),
        }
    }
}

impl Worker {
    /// The group this worker is in, in group mode.
    fn group_shared(&self) -> Option<&group::GroupShared> {
        self.group.as_ref().map(|g| &g.shared)
    }

    /// The leader's URL when a leader-only request must be forwarded there; `None` to
    /// serve it here; Connect's 409 while no leader is known.
    fn leader_target(&self) -> HerderResult<Option<String>> {
        forward::leader_url(self.group_shared())
    }

    /// Checks an internal request's KIP-507 signature, in group mode, as Connect's
    /// `DistributedHerder` does on every worker before serving or forwarding it; a refused
    /// one is checked again against the config topic's newest key (the leader may have
    /// rotated it).
    async fn check_internal_signature(
        &self,
        signature: Option<&ferry_rest::signature::RequestSignature>,
    ) -> HerderResult<()> {
        if let Some(g) = self.group_shared() {
            if g.signing.check(signature).is_err() {
                g.refresh_session_key().await;
            }
            g.signing.check(signature)?;
        }
        Ok(())
    }

    /// Sends an internal request on to the leader at `url`, signed with the session key
    /// ([`forward::send_signed`]).
    async fn forward_signed(
        &self,
        url: &str,
        method: reqwest::Method,
        path: &[&str],
        body: Vec<u8>,
    ) -> HerderResult<()> {
        forward::send_signed(&self.forwarder, self.group_shared(), url, method, path, body).await
    }

    /// The URL of the worker that runs `key` (from its status record), when it is
    /// another worker of the group.
    fn owner_elsewhere(&self, key: &ferry_kafka::records::StatusKey) -> Option<String> {
        let g = self.group_shared()?;
        let rec = self.ctx.status.get(key)?;
        if rec.worker_id.is_empty() || rec.worker_id == self.ctx.config.worker_id {
            return None;
        }
        let own = g.membership.read().expect("membership lock").own_url.clone();
        let scheme = own.split("://").next().unwrap_or("http").to_owned();
        Some(format!("{scheme}://{}/", rec.worker_id))
    }

    /// This worker's group role, for logs and tests: `(is_leader, leader_url, generation)`.
    pub fn group_role(&self) -> Option<(bool, Option<String>, i32)> {
        let g = self.group_shared()?;
        let m = g.membership.read().expect("membership lock");
        Some((m.is_leader, m.leader_url.clone(), m.generation))
    }
}

/// `GET /`: the Kafka Connect version Ferry emulates, Ferry's identity as the commit, and
/// the Kafka cluster id when known.
pub(crate) fn server_info(cluster_id: Option<String>) -> ServerInfo {
    ServerInfo {
        version: ferry_core::versions::KAFKA_CONNECT.to_owned(),
        commit: ferry_commit(option_env!("FERRY_GIT_COMMIT")),
        kafka_cluster_id: cluster_id,
    }
}

/// `ferry-VERSION`, followed by `-GITCOMMIT` when the build knows its commit.
fn ferry_commit(git: Option<&str>) -> String {
    match git.filter(|c| !c.is_empty()) {
        Some(c) => format!("ferry-{}-{c}", ferry_core::versions::FERRY),
        None => format!("ferry-{}", ferry_core::versions::FERRY),
    }
}
