//! Every worker setting, declared once: name, type, default and validation, as Kafka
//! Connect's `WorkerConfig` and `DistributedConfig` declare them (plus the pre-3.0 REST
//! names the debezium/connect image still sets).

use ferry_core::config::{ConfigDef, ConfigKey, ConfigType, Importance, Validator};
use ferry_core::ConfigValue;

use super::Mode;

/// `bootstrap.servers`: the brokers every client of the worker connects to.
pub const BOOTSTRAP_SERVERS: &str = "bootstrap.servers";
/// `group.id`: the worker group (one active worker per group).
pub const GROUP_ID: &str = "group.id";
/// `config.storage.topic`: the topic of connector configurations.
pub const CONFIG_STORAGE_TOPIC: &str = "config.storage.topic";
/// `offset.storage.topic`: the topic of source offsets.
pub const OFFSET_STORAGE_TOPIC: &str = "offset.storage.topic";
/// `status.storage.topic`: the topic of connector and task statuses.
pub const STATUS_STORAGE_TOPIC: &str = "status.storage.topic";
/// `config.storage.replication.factor`.
pub const CONFIG_STORAGE_REPLICATION_FACTOR: &str = "config.storage.replication.factor";
/// `offset.storage.replication.factor`.
pub const OFFSET_STORAGE_REPLICATION_FACTOR: &str = "offset.storage.replication.factor";
/// `status.storage.replication.factor`.
pub const STATUS_STORAGE_REPLICATION_FACTOR: &str = "status.storage.replication.factor";
/// `offset.storage.partitions`.
pub const OFFSET_STORAGE_PARTITIONS: &str = "offset.storage.partitions";
/// `status.storage.partitions`.
pub const STATUS_STORAGE_PARTITIONS: &str = "status.storage.partitions";
/// `offset.storage.file.filename`: the standalone worker's offsets file.
pub const OFFSET_STORAGE_FILE: &str = "offset.storage.file.filename";
/// `key.converter`.
pub const KEY_CONVERTER: &str = "key.converter";
/// `value.converter`.
pub const VALUE_CONVERTER: &str = "value.converter";
/// `header.converter`.
pub const HEADER_CONVERTER: &str = "header.converter";
/// `offset.flush.interval.ms`.
pub const OFFSET_FLUSH_INTERVAL_MS: &str = "offset.flush.interval.ms";
/// `offset.flush.timeout.ms`.
pub const OFFSET_FLUSH_TIMEOUT_MS: &str = "offset.flush.timeout.ms";
/// `task.shutdown.graceful.timeout.ms`.
pub const TASK_SHUTDOWN_GRACEFUL_TIMEOUT_MS: &str = "task.shutdown.graceful.timeout.ms";
/// `listeners`: where the REST API listens.
pub const LISTENERS: &str = "listeners";
/// `rest.host.name` (pre-3.0; used when `listeners` is absent).
pub const REST_HOST_NAME: &str = "rest.host.name";
/// `rest.port` (pre-3.0; used when `listeners` is absent).
pub const REST_PORT: &str = "rest.port";
/// `rest.advertised.host.name`.
pub const REST_ADVERTISED_HOST_NAME: &str = "rest.advertised.host.name";
/// `rest.advertised.port`.
pub const REST_ADVERTISED_PORT: &str = "rest.advertised.port";
/// `rest.advertised.listener`.
pub const REST_ADVERTISED_LISTENER: &str = "rest.advertised.listener";
/// `plugin.path` (accepted and ignored: Ferry's plugins are built in).
pub const PLUGIN_PATH: &str = "plugin.path";
/// `session.timeout.ms`.
pub const SESSION_TIMEOUT_MS: &str = "session.timeout.ms";
/// `heartbeat.interval.ms`.
pub const HEARTBEAT_INTERVAL_MS: &str = "heartbeat.interval.ms";
/// `rebalance.timeout.ms`.
pub const REBALANCE_TIMEOUT_MS: &str = "rebalance.timeout.ms";
/// `connect.protocol`: `default` (eager), `compatible` or `sessioned` (incremental cooperative).
pub const CONNECT_PROTOCOL: &str = "connect.protocol";
/// `scheduled.rebalance.max.delay.ms`: how long a departed worker's work waits for it.
pub const SCHEDULED_REBALANCE_MAX_DELAY_MS: &str = "scheduled.rebalance.max.delay.ms";
/// `worker.sync.timeout.ms`.
pub const WORKER_SYNC_TIMEOUT_MS: &str = "worker.sync.timeout.ms";
/// `worker.unsync.backoff.ms`.
pub const WORKER_UNSYNC_BACKOFF_MS: &str = "worker.unsync.backoff.ms";
/// `ferry.group.membership`: `connect` (Kafka Connect's group protocol: every worker
/// serves REST and runs its share) or `lease` (one active worker, the others standbys).
pub const FERRY_GROUP_MEMBERSHIP: &str = "ferry.group.membership";
/// `ferry.group.bootstrap.servers`: where the worker group's coordinator is found, when
/// not on `bootstrap.servers` (tests put the group on librdkafka's mock cluster).
pub const FERRY_GROUP_BOOTSTRAP_SERVERS: &str = "ferry.group.bootstrap.servers";
/// `topic.creation.enable`.
pub const TOPIC_CREATION_ENABLE: &str = "topic.creation.enable";
/// `topic.tracking.enable`.
pub const TOPIC_TRACKING_ENABLE: &str = "topic.tracking.enable";
/// `topic.tracking.allow.reset`.
pub const TOPIC_TRACKING_ALLOW_RESET: &str = "topic.tracking.allow.reset";

/// The three internal topics, each of which must not be empty when given.
pub const STORAGE_TOPICS: [&str; 3] = [CONFIG_STORAGE_TOPIC, OFFSET_STORAGE_TOPIC, STATUS_STORAGE_TOPIC];

/// A replication factor: -1 (the broker's default) or at least 1.
fn replication_factor() -> Validator {
    Validator::custom(|_, v| match v {
        ConfigValue::Short(n) if *n == -1 || *n >= 1 => Ok(()),
        _ => Err("Value must be -1 (broker default) or at least 1".into()),
    })
}

/// A string that is not empty (after the trimming every value gets).
fn not_empty() -> Validator {
    Validator::custom(|_, v| match v {
        ConfigValue::String(s) if s.is_empty() => Err("Must not be empty".into()),
        _ => Ok(()),
    })
}

/// A TCP port a client can reach (1 to 65535).
fn reachable_port() -> Validator {
    Validator::custom(|_, v| match v {
        ConfigValue::Int(n) if (1..=i32::from(u16::MAX)).contains(n) => Ok(()),
        _ => Err("Not a valid port".into()),
    })
}

/// A key required in distributed mode and optional (null) in standalone mode.
fn distributed_only(mode: Mode, key: ConfigKey) -> ConfigKey {
    match mode {
        Mode::Distributed => key,
        Mode::Standalone => key.default_null(),
    }
}

/// The worker's settings for `mode`.
pub fn worker_config_def(mode: Mode) -> ConfigDef {
    let storage_topic = |name: &str, doc: &str| {
        distributed_only(
            mode,
            ConfigKey::new(name, ConfigType::String)
                .importance(Importance::High)
                .validator(not_empty())
                .doc(doc),
        )
    };
    let offsets_file = ConfigKey::new(OFFSET_STORAGE_FILE, ConfigType::String)
        .importance(Importance::High)
        .doc("File to store source connector offsets in (standalone mode).");
    ConfigDef::new()
        .define(
            ConfigKey::new(BOOTSTRAP_SERVERS, ConfigType::List)
                .default_value("localhost:9092")
                .importance(Importance::High)
                .doc("Kafka brokers to connect to."),
        )
        .define(distributed_only(
            mode,
            ConfigKey::new(GROUP_ID, ConfigType::String)
                .importance(Importance::High)
                .validator(not_empty())
                .doc("A unique string that identifies the Connect cluster group this worker belongs to."),
        ))
        .define(storage_topic(
            CONFIG_STORAGE_TOPIC,
            "The name of the Kafka topic where connector configurations are stored.",
        ))
        .define(storage_topic(
            OFFSET_STORAGE_TOPIC,
            "The name of the Kafka topic where source connector offsets are stored.",
        ))
        .define(storage_topic(
            STATUS_STORAGE_TOPIC,
            "The name of the Kafka topic where connector and task status are stored.",
        ))
        .define(
            ConfigKey::new(CONFIG_STORAGE_REPLICATION_FACTOR, ConfigType::Short)
                .default_value("3")
                .validator(replication_factor())
                .doc("Replication factor used when creating the configuration storage topic."),
        )
        .define(
            ConfigKey::new(OFFSET_STORAGE_REPLICATION_FACTOR, ConfigType::Short)
                .default_value("3")
                .validator(replication_factor())
                .doc("Replication factor used when creating the offset storage topic."),
        )
        .define(
            ConfigKey::new(STATUS_STORAGE_REPLICATION_FACTOR, ConfigType::Short)
                .default_value("3")
                .validator(replication_factor())
                .doc("Replication factor used when creating the status storage topic."),
        )
        .define(
            ConfigKey::new(OFFSET_STORAGE_PARTITIONS, ConfigType::Int)
                .default_value("25")
                .validator(Validator::at_least(1.0))
                .doc("The number of partitions used when creating the offset storage topic."),
        )
        .define(
            ConfigKey::new(STATUS_STORAGE_PARTITIONS, ConfigType::Int)
                .default_value("5")
                .validator(Validator::at_least(1.0))
                .doc("The number of partitions used when creating the status storage topic."),
        )
        .define(match mode {
            Mode::Standalone => offsets_file,
            Mode::Distributed => offsets_file.default_null(),
        })
        .define(
            ConfigKey::new(KEY_CONVERTER, ConfigType::Class)
                .importance(Importance::High)
                .doc("Converter class for record keys."),
        )
        .define(
            ConfigKey::new(VALUE_CONVERTER, ConfigType::Class)
                .importance(Importance::High)
                .doc("Converter class for record values."),
        )
        .define(
            ConfigKey::new(HEADER_CONVERTER, ConfigType::Class)
                .default_value("org.apache.kafka.connect.storage.SimpleHeaderConverter")
                .doc("HeaderConverter class for record header values."),
        )
        .define(
            ConfigKey::new(OFFSET_FLUSH_INTERVAL_MS, ConfigType::Long)
                .default_value("60000")
                .validator(Validator::at_least(1.0))
                .doc("Interval at which to try committing offsets for tasks."),
        )
        .define(
            ConfigKey::new(OFFSET_FLUSH_TIMEOUT_MS, ConfigType::Long)
                .default_value("5000")
                .validator(Validator::at_least(1.0))
                .doc(
                    "Maximum time in milliseconds to wait for records to flush before cancelling the commit.",
                ),
        )
        .define(
            ConfigKey::new(TASK_SHUTDOWN_GRACEFUL_TIMEOUT_MS, ConfigType::Long)
                .default_value("5000")
                .validator(Validator::at_least(0.0))
                .doc("Amount of time to wait for tasks to shutdown gracefully."),
        )
        .define(
            ConfigKey::new(LISTENERS, ConfigType::List)
                .default_null()
                .doc("The URL the REST API listens on (http://host:port)."),
        )
        .define(
            ConfigKey::new(REST_HOST_NAME, ConfigType::String)
                .default_null()
                .doc("Hostname for the REST API when `listeners` is not set; every interface when null."),
        )
        .define(
            ConfigKey::new(REST_PORT, ConfigType::Int)
                .default_value("8083")
                .doc("Port for the REST API when `listeners` is not set."),
        )
        .define(
            ConfigKey::new(REST_ADVERTISED_HOST_NAME, ConfigType::String)
                .default_null()
                .doc("The hostname given out to other workers and written in statuses."),
        )
        .define(
            ConfigKey::new(REST_ADVERTISED_PORT, ConfigType::Int)
                .default_null()
                .validator(reachable_port())
                .doc("The port given out to other workers and written in statuses."),
        )
        .define(
            ConfigKey::new(REST_ADVERTISED_LISTENER, ConfigType::String)
                .default_null()
                .doc("The advertised listener (HTTP or HTTPS)."),
        )
        .define(
            ConfigKey::new(PLUGIN_PATH, ConfigType::List)
                .default_null()
                .doc("Accepted for compatibility and ignored: Ferry's plugins are built in."),
        )
        .define(
            ConfigKey::new(SESSION_TIMEOUT_MS, ConfigType::Int)
                .default_value("10000")
                .validator(Validator::at_least(1000.0))
                .doc("How long the group waits for a silent worker before handing its lease to a standby."),
        )
        .define(
            ConfigKey::new(HEARTBEAT_INTERVAL_MS, ConfigType::Int)
                .default_value("3000")
                .doc("The expected time between heartbeats to the group coordinator."),
        )
        .define(
            ConfigKey::new(REBALANCE_TIMEOUT_MS, ConfigType::Int)
                .default_value("60000")
                .validator(Validator::at_least(1.0))
                .doc("How long the coordinator waits for every worker to rejoin during a rebalance."),
        )
        .define(
            ConfigKey::new(CONNECT_PROTOCOL, ConfigType::String)
                .default_value("sessioned")
                .validator(Validator::one_of_ignore_case(["eager", "default", "compatible", "sessioned"]))
                .doc("The Connect group subprotocol: default (eager), compatible or sessioned (incremental cooperative)."),
        )
        .define(
            ConfigKey::new(SCHEDULED_REBALANCE_MAX_DELAY_MS, ConfigType::Int)
                .default_value("300000")
                .validator(Validator::at_least(0.0))
                .doc("How long the leader keeps a departed worker's connectors and tasks for it before reassigning them."),
        )
        .define(
            ConfigKey::new(WORKER_SYNC_TIMEOUT_MS, ConfigType::Int)
                .default_value("3000")
                .doc("How long a worker waits to catch up with the config topic before leaving the group."),
        )
        .define(
            ConfigKey::new(WORKER_UNSYNC_BACKOFF_MS, ConfigType::Int)
                .default_value("300000")
                .doc("How long a worker that could not catch up waits before rejoining."),
        )
        .define(
            ConfigKey::new(FERRY_GROUP_BOOTSTRAP_SERVERS, ConfigType::String)
                .default_null()
                .doc("Brokers on which the worker group's coordinator is found, when not bootstrap.servers."),
        )
        .define(
            ConfigKey::new(FERRY_GROUP_MEMBERSHIP, ConfigType::String)
                .default_value("connect")
                .validator(Validator::one_of_ignore_case(["connect"]))
                .doc("connect (the only value): the worker joins its group on Kafka Connect's group protocol; every worker serves REST and runs its share. The standby lease of earlier releases (lease) was removed."),
        )
        .define(
            ConfigKey::new(TOPIC_CREATION_ENABLE, ConfigType::Boolean)
                .default_value("true")
                .doc("Whether source connectors may create their topics (topic.creation.* settings)."),
        )
        .define(
            ConfigKey::new(TOPIC_TRACKING_ENABLE, ConfigType::Boolean)
                .default_value("true")
                .doc("Whether the worker tracks the topics each connector uses."),
        )
        .define(
            ConfigKey::new(TOPIC_TRACKING_ALLOW_RESET, ConfigType::Boolean)
                .default_value("true")
                .doc("Whether the active topics of a connector may be reset over REST."),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_core::config::ConfigDefault;

    #[test]
    fn storage_settings_are_required_only_in_distributed_mode() {
        for key in [
            GROUP_ID,
            CONFIG_STORAGE_TOPIC,
            OFFSET_STORAGE_TOPIC,
            STATUS_STORAGE_TOPIC,
        ] {
            let distributed = worker_config_def(Mode::Distributed);
            let standalone = worker_config_def(Mode::Standalone);
            assert!(distributed.key(key).unwrap().is_required(), "{key}");
            assert_eq!(standalone.key(key).unwrap().default, ConfigDefault::Null, "{key}");
        }
        assert!(worker_config_def(Mode::Standalone)
            .key(OFFSET_STORAGE_FILE)
            .unwrap()
            .is_required());
        assert!(!worker_config_def(Mode::Distributed)
            .key(OFFSET_STORAGE_FILE)
            .unwrap()
            .is_required());
    }

    #[test]
    fn every_default_parses_as_its_type_and_passes_its_validator() {
        // Defaults are code, not input: a typo in one would otherwise surface only at start-up.
        for mode in [Mode::Distributed, Mode::Standalone] {
            let def = worker_config_def(mode);
            for key in def.keys() {
                if let ConfigDefault::Value(raw) = &key.default {
                    let value = ferry_core::config::parse_type(&key.name, raw, key.ty)
                        .unwrap_or_else(|e| panic!("{}: {e}", key.name));
                    if let Some(v) = &key.validator {
                        v.ensure_valid(&key.name, &value)
                            .unwrap_or_else(|e| panic!("{}: {e}", key.name));
                    }
                }
            }
        }
    }
}
