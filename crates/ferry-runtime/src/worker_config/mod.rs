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
    /// How long the group waits for a silent worker before handing its lease to a standby.
    pub session_timeout_ms: u64,
    /// `topic.creation.enable`.
    pub topic_creation_enable: bool,
    /// `topic.tracking.enable`.
    pub topic_tracking_enable: bool,
    /// `topic.tracking.allow.reset`.
    pub topic_tracking_allow_reset: bool,
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
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn unset_settings_take_connects_defaults() {
        let props: ConfigMap = [
            ("group.id", "g"),
            ("config.storage.topic", "c"),
            ("offset.storage.topic", "o"),
            ("status.storage.topic", "s"),
            ("key.converter", "k"),
            ("value.converter", "v"),
            // Named, so the test does not read this machine's host name.
            ("rest.advertised.host.name", "w"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let cfg = WorkerConfig::parse(props, Mode::Distributed).unwrap();
        assert_eq!(cfg.bootstrap_servers, "localhost:9092");
        assert_eq!(
            (
                cfg.config_storage_replication_factor,
                cfg.offset_storage_replication_factor,
                cfg.status_storage_replication_factor
            ),
            (3, 3, 3)
        );
        assert_eq!(
            (cfg.offset_storage_partitions, cfg.status_storage_partitions),
            (25, 5)
        );
        assert_eq!(
            cfg.header_converter,
            "org.apache.kafka.connect.storage.SimpleHeaderConverter"
        );
        assert_eq!(cfg.offset_flush_interval_ms, 60_000);
        assert_eq!(cfg.offset_flush_timeout_ms, 5_000);
        assert_eq!(cfg.task_shutdown_graceful_timeout_ms, 5_000);
        assert_eq!(cfg.session_timeout_ms, 10_000);
        assert_eq!(cfg.rest_bind.to_string(), "0.0.0.0:8083");
        assert_eq!(cfg.worker_id, "w:8083");
        assert!(cfg.topic_creation_enable && cfg.topic_tracking_enable && cfg.topic_tracking_allow_reset);
        assert_eq!(cfg.offset_storage_file, None);
    }

    #[test]
    fn standalone_needs_the_offsets_file_and_no_storage_topics() {
        let props: ConfigMap = [
            ("key.converter", "k"),
            ("value.converter", "v"),
            ("rest.advertised.host.name", "w"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let err = WorkerConfig::parse(props.clone(), Mode::Standalone).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Missing required configuration \"offset.storage.file.filename\" which has no default value."
        );
        let mut props = props;
        props.insert("offset.storage.file.filename".into(), "/tmp/o".into());
        let cfg = WorkerConfig::parse(props, Mode::Standalone).unwrap();
        assert_eq!(cfg.offset_storage_file.as_deref(), Some("/tmp/o"));
        assert_eq!(cfg.group_id, None);
    }

    #[test]
    fn debezium_env_alone_configures_a_distributed_worker() {
        let cfg = WorkerConfig::load_with_env(
            None,
            Mode::Distributed,
            env(&[
                ("BOOTSTRAP_SERVERS", "kafka:9092"),
                ("CONFIG_STORAGE_TOPIC", "my_connect_configs"),
                ("OFFSET_STORAGE_TOPIC", "my_connect_offsets"),
                ("STATUS_STORAGE_TOPIC", "my_connect_statuses"),
                ("ADVERTISED_HOST_NAME", "connect"),
                ("CONNECT_KEY_CONVERTER_SCHEMAS_ENABLE", "false"),
                ("HOME", "/root"),
            ]),
        )
        .unwrap();
        assert_eq!(cfg.bootstrap_servers, "kafka:9092");
        assert_eq!(cfg.group_id.as_deref(), Some("1"));
        assert_eq!(cfg.key_converter, "org.apache.kafka.connect.json.JsonConverter");
        assert_eq!(cfg.task_shutdown_graceful_timeout_ms, 10000);
        assert_eq!(cfg.worker_id, "connect:8083");
        assert_eq!(
            cfg.with_prefix("key.converter.")
                .get("schemas.enable")
                .map(String::as_str),
            Some("false")
        );
    }

    #[test]
    fn cp_env_configures_a_distributed_worker() {
        let cfg = WorkerConfig::load_with_env(
            None,
            Mode::Distributed,
            env(&[
                ("CONNECT_BOOTSTRAP_SERVERS", "broker:29092"),
                ("CONNECT_REST_ADVERTISED_HOST_NAME", "connect"),
                ("CONNECT_GROUP_ID", "compose-connect-group"),
                ("CONNECT_CONFIG_STORAGE_TOPIC", "docker-connect-configs"),
                ("CONNECT_CONFIG_STORAGE_REPLICATION_FACTOR", "1"),
                ("CONNECT_OFFSET_STORAGE_TOPIC", "docker-connect-offsets"),
                ("CONNECT_STATUS_STORAGE_TOPIC", "docker-connect-status"),
                (
                    "CONNECT_KEY_CONVERTER",
                    "org.apache.kafka.connect.storage.StringConverter",
                ),
                (
                    "CONNECT_VALUE_CONVERTER",
                    "org.apache.kafka.connect.json.JsonConverter",
                ),
                ("CONNECT_PLUGIN_PATH", "/usr/share/java"),
                ("CONNECT_LOG4J_LOGGERS", "org.reflections=ERROR"),
            ]),
        )
        .unwrap();
        assert_eq!(cfg.group_id.as_deref(), Some("compose-connect-group"));
        assert_eq!(cfg.config_storage_replication_factor, 1);
        assert_eq!(cfg.offset_storage_replication_factor, 3);
        assert!(!cfg.originals.contains_key("log4j.loggers"));
    }

    #[test]
    fn missing_or_bad_settings_name_the_key() {
        let err = WorkerConfig::load_with_env(
            None,
            Mode::Distributed,
            env(&[("CONNECT_BOOTSTRAP_SERVERS", "b:9092")]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("\"group.id\""), "{err}");

        let err = WorkerConfig::load_with_env(
            None,
            Mode::Distributed,
            env(&[
                ("BOOTSTRAP_SERVERS", "b:9092"),
                ("CONFIG_STORAGE_TOPIC", "c"),
                ("OFFSET_STORAGE_TOPIC", "o"),
                ("STATUS_STORAGE_TOPIC", "s"),
                ("OFFSET_FLUSH_INTERVAL_MS", "soon"),
            ]),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Invalid value soon for configuration offset.flush.interval.ms: Not a number of type LONG"
        );
    }

    /// Each malformed worker setting, given in a properties file or through the
    /// environment, is refused with one line naming the key; none is silently accepted.
    #[test]
    fn malformed_settings_are_refused_naming_the_key() {
        let base = [
            ("bootstrap.servers", "b:9092"),
            ("group.id", "g"),
            ("config.storage.topic", "c"),
            ("offset.storage.topic", "o"),
            ("status.storage.topic", "s"),
            ("key.converter", "org.apache.kafka.connect.json.JsonConverter"),
            ("value.converter", "org.apache.kafka.connect.json.JsonConverter"),
        ];
        let cases: &[(&str, &str, &str)] = &[
            ("offset.flush.interval.ms", "soon", "offset.flush.interval.ms"),
            ("offset.flush.interval.ms", "0", "offset.flush.interval.ms"),
            (
                "offset.flush.interval.ms",
                "99999999999999999999",
                "offset.flush.interval.ms",
            ),
            ("offset.flush.timeout.ms", "-5", "offset.flush.timeout.ms"),
            (
                "task.shutdown.graceful.timeout.ms",
                "1.5",
                "task.shutdown.graceful.timeout.ms",
            ),
            (
                "config.storage.replication.factor",
                "0",
                "config.storage.replication.factor",
            ),
            (
                "offset.storage.replication.factor",
                "three",
                "offset.storage.replication.factor",
            ),
            (
                "status.storage.replication.factor",
                "70000",
                "status.storage.replication.factor",
            ),
            ("offset.storage.partitions", "0", "offset.storage.partitions"),
            ("status.storage.partitions", "-1", "status.storage.partitions"),
            ("session.timeout.ms", "10", "session.timeout.ms"),
            ("rest.port", "70000", "rest.port"),
            ("rest.port", "http", "rest.port"),
            ("rest.advertised.port", "70000", "rest.advertised.port"),
            ("rest.advertised.port", "-1", "rest.advertised.port"),
            ("listeners", "https://0.0.0.0:8083", "listeners"),
            ("listeners", "0.0.0.0:8083", "listeners"),
            ("listeners", "http://0.0.0.0", "listeners"),
            ("listeners", "http://0.0.0.0:port", "listeners"),
            ("listeners", "http://some host:8083", "listeners"),
            ("topic.creation.enable", "yes please", "topic.creation.enable"),
            ("group.id", "", "group.id"),
        ];
        for (key, value, named) in cases {
            let mut props: ConfigMap = base.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            props.insert(key.to_string(), value.to_string());
            let err = WorkerConfig::parse(props, Mode::Distributed)
                .map(|_| ())
                .expect_err(&format!("{key}={value} was accepted"));
            let line = err.to_string();
            assert!(line.contains(named), "{key}={value}: {line}");
            assert!(!line.contains('\n'), "{key}={value}: not one line: {line}");

            // The same value through the cp-kafka-connect environment.
            let mut vars = env(&base.map(|(k, v)| (k, v)).map(|(k, v)| {
                let name = format!("CONNECT_{}", k.to_ascii_uppercase().replace('.', "_"));
                (Box::leak(name.into_boxed_str()) as &str, v)
            }));
            vars.push((
                format!("CONNECT_{}", key.to_ascii_uppercase().replace('.', "_")),
                value.to_string(),
            ));
            let err = WorkerConfig::load_with_env(None, Mode::Distributed, vars)
                .map(|_| ())
                .expect_err(&format!("env {key}={value} was accepted"));
            assert!(err.to_string().contains(named), "env {key}={value}: {err}");
        }
    }

    #[test]
    fn properties_file_and_listeners() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("worker.properties");
        std::fs::write(
            &path,
            "bootstrap.servers=127.0.0.1:9092\ngroup.id=g\nconfig.storage.topic=c\noffset.storage.topic=o\n\
             status.storage.topic=s\nkey.converter=org.apache.kafka.connect.json.JsonConverter\n\
             value.converter=org.apache.kafka.connect.json.JsonConverter\nlisteners=http://127.0.0.1:18083\n\
             rest.advertised.host.name=w1\n",
        )
        .unwrap();
        let cfg = WorkerConfig::load_with_env(Some(&path), Mode::Distributed, Vec::new()).unwrap();
        assert_eq!(cfg.rest_bind.to_string(), "127.0.0.1:18083");
        assert_eq!(cfg.worker_id, "w1:18083");
        let bad = WorkerConfig::load_with_env(
            Some(&path),
            Mode::Distributed,
            env(&[("CONNECT_LISTENERS", "https://:8443")]),
        )
        .unwrap_err();
        assert!(bad.to_string().contains("listeners"), "{bad}");
    }
}
