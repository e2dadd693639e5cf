//! Worker configuration: a `connect-distributed.properties` file and/or the
//! environment variables of the debezium/connect and cp-kafka-connect images.
//!
//! Precedence: the properties file, then `CONNECT_*` variables, then the
//! debezium/connect short names (BOOTSTRAP_SERVERS, ...), as the images would
//! have written them into the file they generate. Every setting is declared once,
//! in [`def`]; [`WorkerConfig`] is read from the values parsed against it.

pub mod def;
pub mod env;
mod listener;

use std::path::Path;

use ferry_core::config::{with_prefix, ConfigMap, ParsedConfig};
use ferry_core::ConfigError;

pub use def::worker_config_def;
use def::*;
pub use env::{apply_env, env_name_to_property, read_properties_file};

/// Which worker mode a configuration is for (changes what is required).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Stores in Kafka topics.
    Distributed,
    /// Offsets in a local file, connectors from files.
    Standalone,
}

/// A parsed, validated worker configuration.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// Every property as given (after environment mapping).
    pub originals: ConfigMap,
    /// `bootstrap.servers`, comma-separated.
    pub bootstrap_servers: String,
    /// `group.id` (required in distributed mode).
    pub group_id: Option<String>,
    /// `config.storage.topic` (required in distributed mode).
    pub config_storage_topic: Option<String>,
    /// `offset.storage.topic` (required in distributed mode).
    pub offset_storage_topic: Option<String>,
    /// `status.storage.topic` (required in distributed mode).
    pub status_storage_topic: Option<String>,
    /// `config.storage.replication.factor` (-1: the broker's default).
    pub config_storage_replication_factor: i32,
    /// `offset.storage.replication.factor` (-1: the broker's default).
    pub offset_storage_replication_factor: i32,
    /// `status.storage.replication.factor` (-1: the broker's default).
    pub status_storage_replication_factor: i32,
    /// `offset.storage.partitions`.
    pub offset_storage_partitions: i32,
    /// `status.storage.partitions`.
    pub status_storage_partitions: i32,
    /// `offset.storage.file.filename` (required in standalone mode).
    pub offset_storage_file: Option<String>,
    /// `key.converter` class.
    pub key_converter: String,
    /// `value.converter` class.
    pub value_converter: String,
    /// `header.converter` class.
    pub header_converter: String,
    /// `offset.flush.interval.ms`.
    pub offset_flush_interval_ms: u64,
    /// `offset.flush.timeout.ms`.
    pub offset_flush_timeout_ms: u64,
    /// `task.shutdown.graceful.timeout.ms`: how long a stopping task may take.
    pub task_shutdown_graceful_timeout_ms: u64,
    /// Address the REST server binds to.
    pub rest_bind: std::net::SocketAddr,
    /// `host:port` other workers and status records use for this worker.
    pub worker_id: String,
    /// `session.timeout.ms`: how long the group waits for a silent worker.
    pub session_timeout_ms: u64,
    /// The worker group settings (`connect.protocol`, timeouts).
    pub group: GroupConfig,
    /// `topic.creation.enable`.
    pub topic_creation_enable: bool,
    /// `topic.tracking.enable`.
    pub topic_tracking_enable: bool,
    /// `topic.tracking.allow.reset`.
    pub topic_tracking_allow_reset: bool,
}

/// How the worker takes part in its group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupConfig {
    /// Whether a distributed worker joins its group on Kafka Connect's protocol: always,
    /// except for a worker embedded over a cluster without a group coordinator (the
    /// runtime's tests over the in-memory cluster), which runs alone.
    pub join_group: bool,
    /// `connect.protocol`: `default`, `compatible` or `sessioned`.
    pub protocol: String,
    /// `ferry.group.bootstrap.servers` (defaults to `bootstrap.servers`).
    pub bootstrap_servers: Option<String>,
    /// `session.timeout.ms`.
    pub session_timeout_ms: i32,
    /// `heartbeat.interval.ms`.
    pub heartbeat_interval_ms: i32,
    /// `rebalance.timeout.ms`.
    pub rebalance_timeout_ms: i32,
    /// `scheduled.rebalance.max.delay.ms`.
    pub scheduled_rebalance_max_delay_ms: i32,
    /// `worker.sync.timeout.ms`.
    pub worker_sync_timeout_ms: i32,
    /// `worker.unsync.backoff.ms`.
    pub worker_unsync_backoff_ms: i32,
}

/// A worker configuration problem: one line naming the key and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum WorkerConfigError {
    /// A key is missing or has a bad value.
    #[error(transparent)]
    Invalid(#[from] ConfigError),
    /// The properties file could not be read.
    #[error("cannot read worker properties file {path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// Why it could not be read.
        reason: String,
    },
}

/// Typed reads of keys the definition gives a value (a default or a required value):
/// a missing one is a definition bug, reported as the key missing rather than defaulted.
struct Values<'a>(&'a ParsedConfig);

impl Values<'_> {
    fn string(&self, key: &str) -> Result<String, ConfigError> {
        self.0
            .string(key)
            .map(str::to_owned)
            .ok_or_else(|| ConfigError::missing(key))
    }
    fn optional_string(&self, key: &str) -> Option<String> {
        self.0.string(key).map(str::to_owned)
    }
    fn int(&self, key: &str) -> Result<i32, ConfigError> {
        self.0.int(key).ok_or_else(|| ConfigError::missing(key))
    }
    /// A non-negative long (its validator has a lower bound of 0 or more).
    fn millis(&self, key: &str) -> Result<u64, ConfigError> {
        let v = self.0.long(key).ok_or_else(|| ConfigError::missing(key))?;
        u64::try_from(v).map_err(|_| ConfigError::invalid(key, v, "Value must be at least 0"))
    }
    fn boolean(&self, key: &str) -> bool {
        self.0.boolean(key)
    }
}

impl WorkerConfig {
    /// Parses and validates properties for `mode`.
    pub fn parse(props: ConfigMap, mode: Mode) -> Result<WorkerConfig, WorkerConfigError> {
        let parsed = worker_config_def(mode).parse(&props)?;
        if !parsed.list(PLUGIN_PATH).is_empty() {
            tracing::info!("plugin.path is ignored: Ferry's plugins are built in (see /connector-plugins)");
        }
        let rest = listener::rest_addresses(&parsed)?;
        // Connect builds its config providers and override policy when the worker starts,
        // so a wrong class stops start-up there rather than failing connectors later.
        crate::config_providers::ConfigProviders::from_worker(&props)
            .map_err(|e| ConfigError::other(Some("config.providers"), e.to_string()))?;
        crate::config_providers::OverridePolicy::from_worker(&props).map_err(|e| {
            ConfigError::other(Some("connector.client.config.override.policy"), e.to_string())
        })?;
        let v = Values(&parsed);
        Ok(WorkerConfig {
            bootstrap_servers: parsed.list(BOOTSTRAP_SERVERS).join(","),
            group_id: v.optional_string(GROUP_ID),
            config_storage_topic: v.optional_string(CONFIG_STORAGE_TOPIC),
            offset_storage_topic: v.optional_string(OFFSET_STORAGE_TOPIC),
            status_storage_topic: v.optional_string(STATUS_STORAGE_TOPIC),
            config_storage_replication_factor: v.int(CONFIG_STORAGE_REPLICATION_FACTOR)?,
            offset_storage_replication_factor: v.int(OFFSET_STORAGE_REPLICATION_FACTOR)?,
            status_storage_replication_factor: v.int(STATUS_STORAGE_REPLICATION_FACTOR)?,
            offset_storage_partitions: v.int(OFFSET_STORAGE_PARTITIONS)?,
            status_storage_partitions: v.int(STATUS_STORAGE_PARTITIONS)?,
            offset_storage_file: v.optional_string(OFFSET_STORAGE_FILE),
            key_converter: v.string(KEY_CONVERTER)?,
            value_converter: v.string(VALUE_CONVERTER)?,
            header_converter: v.string(HEADER_CONVERTER)?,
            offset_flush_interval_ms: v.millis(OFFSET_FLUSH_INTERVAL_MS)?,
            offset_flush_timeout_ms: v.millis(OFFSET_FLUSH_TIMEOUT_MS)?,
            task_shutdown_graceful_timeout_ms: v.millis(TASK_SHUTDOWN_GRACEFUL_TIMEOUT_MS)?,
            rest_bind: rest.bind,
            worker_id: rest.worker_id,
            session_timeout_ms: v.int(SESSION_TIMEOUT_MS)? as u64,
            group: GroupConfig {
                join_group: v.string(FERRY_GROUP_MEMBERSHIP)?.eq_ignore_ascii_case("connect"),
                protocol: v.string(CONNECT_PROTOCOL)?.to_ascii_lowercase(),
                bootstrap_servers: v.optional_string(FERRY_GROUP_BOOTSTRAP_SERVERS),
                session_timeout_ms: v.int(SESSION_TIMEOUT_MS)?,
                heartbeat_interval_ms: v.int(HEARTBEAT_INTERVAL_MS)?,
                rebalance_timeout_ms: v.int(REBALANCE_TIMEOUT_MS)?,
                scheduled_rebalance_max_delay_ms: v.int(SCHEDULED_REBALANCE_MAX_DELAY_MS)?,
                worker_sync_timeout_ms: v.int(WORKER_SYNC_TIMEOUT_MS)?,
                worker_unsync_backoff_ms: v.int(WORKER_UNSYNC_BACKOFF_MS)?,
            },
            topic_creation_enable: v.boolean(TOPIC_CREATION_ENABLE),
            topic_tracking_enable: v.boolean(TOPIC_TRACKING_ENABLE),
            topic_tracking_allow_reset: v.boolean(TOPIC_TRACKING_ALLOW_RESET),
            originals: props,
        })
    }

    /// Loads from an optional properties file plus the process environment.
    pub fn load(file: Option<&Path>, mode: Mode) -> Result<WorkerConfig, WorkerConfigError> {
        Self::load_with_env(file, mode, std::env::vars())
    }

    /// Loads from an optional properties file plus the given environment.
    pub fn load_with_env(
        file: Option<&Path>,
        mode: Mode,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<WorkerConfig, WorkerConfigError> {
        let mut props = match file {
            Some(f) => read_properties_file(f)?,
            None => ConfigMap::new(),
        };
        apply_env(&mut props, env);
        Self::parse(props, mode)
    }

    /// Options under a prefix (`producer.`, `key.converter.`, ...), prefix removed.
    pub fn with_prefix(&self, prefix: &str) -> ConfigMap {
        with_prefix(&self.originals, prefix)
    }
}

#[cfg(test)]
mod tests;
