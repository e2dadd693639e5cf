//! The [`Herder`] trait: what the runtime provides to the REST API.

use async_trait::async_trait;
use ferry_core::ConfigMap;
use indexmap::IndexMap;

use crate::entities::{
    ActiveTopicsInfo, ConfigInfos, ConfigKeyInfo, ConnectorInfo, ConnectorOffset, ConnectorOffsets,
    ConnectorStateInfo, ConnectorTaskId, Created, InitialState, LoggerLevel, LoggerScope, Message,
    NullableConfig, PluginInfo, RestartRequest, ServerInfo, TaskInfo, TaskState,
};
use crate::error::HerderError;

/// Shorthand for herder results.
pub type HerderResult<T> = Result<T, HerderError>;

/// The runtime behind the REST API: one method per operation.
///
/// The REST layer already does what Connect's resources do before calling the
/// herder: it trims the `POST /connectors` name, rejects a `name` in the config
/// that differs from the connector's name (400), copies the name into the
/// config when it is missing, rejects empty offset lists (400), checks
/// `connector.class` against the plugin of a validate request (400), checks log
/// levels (404) and scopes, applies the 90 s request timeout (500 `Request
/// timed out`) and turns [`HerderError`]s into error bodies.
///
/// Everything else is the herder's job, with Connect's messages:
/// - unknown connector: `NotFound("Connector NAME not found")`
///   ([`HerderError::connector_not_found`]); pause/resume/stop say
///   `Unknown connector NAME`, restart (connector or task) `Unknown connector: NAME`;
/// - create of an existing name: `AlreadyExists("Connector NAME already exists")`;
/// - config validation before create/update (see
///   [`validate_connector_config`](Herder::validate_connector_config)); when it
///   finds errors answer `BadRequest` with
///   [`ConfigInfos::invalid_config_message`];
/// - a request the leader must serve is forwarded by the herder itself (the
///   REST layer never forwards); during a rebalance answer
///   [`HerderError::stale_config`] / [`HerderError::no_known_leader`] (409);
/// - a `Timeout` error whose `stage` says what the worker is busy with
///   (`The worker is currently X, which began at T`) is shown as
///   `Request timed out. STAGE`.
#[async_trait]
pub trait Herder: Send + Sync + 'static {
    /// `GET /`: version, commit and Kafka cluster id.
    async fn server_info(&self) -> HerderResult<ServerInfo>;

    /// `GET /health`: resolves once the herder's main loop has served a no-op
    /// request. The REST layer waits at most 10 s; when that passes (or this
    /// returns `Timeout`) it answers 503 `starting` if [`is_ready`](Herder::is_ready)
    /// is false and 500 `unhealthy` otherwise.
    async fn health_check(&self) -> HerderResult<()>;

    /// True once the worker finished starting (joined the group, read the config topic).
    fn is_ready(&self) -> bool;

    /// `GET /connectors`: names of all connectors.
    async fn connectors(&self) -> HerderResult<Vec<String>>;

    /// `GET /connectors/NAME`.
    async fn connector_info(&self, name: &str) -> HerderResult<ConnectorInfo>;

    /// `POST /connectors`: creates a connector; `AlreadyExists` when it exists. Answers
    /// with the config as sent and no tasks (Connect generates them after answering).
    ///
    /// `name` is trimmed and `config["name"]` equals it (possibly both empty:
    /// validation must then fail with the `name` key's error). The herder
    /// validates the config: a missing `connector.class` is
    /// `BadRequest("Connector config {k=v, ...} contains no connector type")`
    /// (see [`java_map_string`](crate::entities::java_map_string)), an unknown
    /// class `BadRequest("Failed to find any class that implements Connector and which name matches CLASS, available connectors are: ...")`,
    /// and every `None` value gets the error `Null value can not be supplied as
    /// the configuration value.`. `initial_state` `None` means RUNNING.
    async fn create_connector(
        &self,
        name: &str,
        config: NullableConfig,
        initial_state: Option<InitialState>,
    ) -> HerderResult<ConnectorInfo>;

    /// `PUT /connectors/NAME/config`: creates or replaces the config
    /// (`created` decides 201 vs 200). Same validation as `create_connector`;
    /// `config["name"]` equals `name`. Answers with the config as sent and the tasks the
    /// connector had before; `GET` answers show configs in `java.util.HashMap` order.
    async fn put_connector_config(
        &self,
        name: &str,
        config: NullableConfig,
    ) -> HerderResult<Created<ConnectorInfo>>;

    /// `PATCH /connectors/NAME/config`: merges `patch` into the existing
    /// config (a `None` value removes the key), then validates and stores like
    /// `put_connector_config`. `NotFound` when the connector does not exist.
    async fn patch_connector_config(&self, name: &str, patch: NullableConfig) -> HerderResult<ConnectorInfo>;

    /// `DELETE /connectors/NAME`.
    async fn delete_connector(&self, name: &str) -> HerderResult<()>;

    /// `GET /connectors/NAME/config`: the stored config (config provider
    /// references left unresolved).
    async fn connector_config(&self, name: &str) -> HerderResult<ConfigMap>;

    /// `GET /connectors/NAME/status`, each entry with its plugin's `version` (Connect
    /// 4.x). Before the first status record exists:
    /// `NotFound("No status found for connector NAME")`. Tasks sorted by id.
    async fn connector_status(&self, name: &str) -> HerderResult<ConnectorStateInfo>;

    /// `GET /connectors/NAME/tasks`: each task's config.
    async fn task_configs(&self, name: &str) -> HerderResult<Vec<TaskInfo>>;

    /// `GET /connectors/NAME/tasks/N/status`; unknown task:
    /// `NotFound("No status found for task NAME-N")`.
    async fn task_status(&self, id: &ConnectorTaskId) -> HerderResult<TaskState>;

    /// `POST /connectors/NAME/restart` without flags: restarts the connector
    /// instance only (answered 204).
    async fn restart_connector(&self, name: &str) -> HerderResult<()>;

    /// `POST /connectors/NAME/restart?includeTasks=..&onlyFailed=..` with a
    /// flag set: the status after marking the selected instances RESTARTING
    /// (answered 202 with it).
    async fn restart_connector_and_tasks(&self, request: &RestartRequest)
        -> HerderResult<ConnectorStateInfo>;

    /// `POST /connectors/NAME/tasks/N/restart` (204).
    async fn restart_task(&self, id: &ConnectorTaskId) -> HerderResult<()>;

    /// `PUT /connectors/NAME/pause` (202); `NotFound("Unknown connector NAME")`.
    async fn pause_connector(&self, name: &str) -> HerderResult<()>;

    /// `PUT /connectors/NAME/resume` (202); also resumes a STOPPED connector.
    async fn resume_connector(&self, name: &str) -> HerderResult<()>;

    /// `PUT /connectors/NAME/stop` (204): target state STOPPED and an empty task set.
    async fn stop_connector(&self, name: &str) -> HerderResult<()>;

    /// `GET /connectors/NAME/topics`. Connect does not check the connector
    /// exists (unknown: empty list). With `topic.tracking.enable=false`:
    /// `Forbidden("Topic tracking is disabled.")`.
    async fn connector_active_topics(&self, name: &str) -> HerderResult<ActiveTopicsInfo>;

    /// `PUT /connectors/NAME/topics/reset` (202). `Forbidden("Topic tracking is
    /// disabled.")`, or with `topic.tracking.allow.reset=false`
    /// `Forbidden("Topic tracking reset is disabled.")`.
    async fn reset_connector_active_topics(&self, name: &str) -> HerderResult<()>;

    /// `GET /connectors/NAME/offsets`.
    async fn connector_offsets(&self, name: &str) -> HerderResult<ConnectorOffsets>;

    /// `PATCH /connectors/NAME/offsets`; `offsets` is never empty. Unless the
    /// connector is STOPPED: `BadRequest("Connectors must be in the STOPPED
    /// state before their offsets can be modified. This can be done for the
    /// specified connector by issuing a 'PUT' request to the
    /// '/connectors/NAME/stop' endpoint")`. Success:
    /// `The offsets for this connector have been altered successfully`.
    async fn alter_connector_offsets(
        &self,
        name: &str,
        offsets: Vec<ConnectorOffset>,
    ) -> HerderResult<Message>;

    /// `DELETE /connectors/NAME/offsets`; same STOPPED rule. Success:
    /// `The offsets for this connector have been reset successfully`.
    async fn reset_connector_offsets(&self, name: &str) -> HerderResult<Message>;

    /// `GET /connector-plugins`: every plugin, in Connect's order (sink
    /// connectors, source connectors, transformations, predicates, converters,
    /// header converters). The REST layer filters for `connectorsOnly`.
    async fn plugins(&self) -> HerderResult<Vec<PluginInfo>>;

    /// `GET /connector-plugins/P/config`: the plugin's keys, then the common
    /// connector keys it does not redefine. Unknown: `NotFound("Unknown plugin P.")`.
    async fn connector_plugin_config(&self, plugin: &str) -> HerderResult<Vec<ConfigKeyInfo>>;

    /// `PUT /connector-plugins/P/config/validate`: validates a config for the
    /// class in `connector.class` (build the answer with
    /// [`ConfigInfos::generate`]). Missing class: the `contains no connector
    /// type` 400 above; `None` values get the null-value error.
    async fn validate_connector_config(&self, config: NullableConfig) -> HerderResult<ConfigInfos>;

    /// `POST /connectors/NAME/tasks` (internal, from the worker that runs the connector to
    /// the group leader): stores the task configs the connector generated. `signature` is
    /// the request's `X-Connect-Authorization` (KIP-507), checked by a leader whose group
    /// runs on `connect.protocol=sessioned`.
    async fn put_task_configs(
        &self,
        name: &str,
        configs: Vec<ConfigMap>,
        signature: Option<crate::signature::RequestSignature>,
    ) -> HerderResult<()> {
        let _ = (configs, signature);
        Err(HerderError::connector_not_found(name))
    }

    /// `PUT /connectors/NAME/fence` (internal, from a worker to the group leader): a round
    /// of zombie fencing for an exactly-once source connector, signed like
    /// [`Herder::put_task_configs`]. Unknown: 404; a sink: 400.
    async fn fence_zombies(
        &self,
        name: &str,
        signature: Option<crate::signature::RequestSignature>,
    ) -> HerderResult<()> {
        let _ = signature;
        Err(HerderError::connector_not_found(name))
    }

    /// `GET /admin/loggers`: loggers with an explicitly set level (including `root`).
    async fn logger_levels(&self) -> HerderResult<IndexMap<String, LoggerLevel>>;

    /// `GET /admin/loggers/NAME`: its level (the effective one when not set);
    /// `None` answers 404 `Logger NAME not found.`.
    async fn logger_level(&self, name: &str) -> HerderResult<Option<LoggerLevel>>;

    /// `PUT /admin/loggers/NAME`: sets `level` (a valid log4j level, any case)
    /// on `namespace` and its descendants. Worker scope answers 200 with the
    /// affected logger names; cluster scope answers 204 and ignores the list.
    async fn set_logger_level(
        &self,
        namespace: &str,
        level: &str,
        scope: LoggerScope,
    ) -> HerderResult<Vec<String>>;
}
