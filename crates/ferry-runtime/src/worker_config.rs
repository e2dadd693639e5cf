//! Worker configuration: a `connect-distributed.properties` file and/or the
//! environment variables of the debezium/connect and cp-kafka-connect images.
//!
//! Precedence: the properties file, then `CONNECT_*` variables, then the
//! debezium/connect short names (BOOTSTRAP_SERVERS, ...), as the images would
//! have written them into the file they generate.

use std::path::Path;

use ferry_core::config::{with_prefix, ConfigDef, ConfigKey, ConfigMap, ConfigType, Importance, Validator};
use ferry_core::ConfigError;

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
    pub bootstrap_servers: String,
    pub group_id: Option<String>,
    pub config_storage_topic: Option<String>,
    pub offset_storage_topic: Option<String>,
    pub status_storage_topic: Option<String>,
    pub config_storage_replication_factor: i32,
    pub offset_storage_replication_factor: i32,
    pub status_storage_replication_factor: i32,
    pub offset_storage_partitions: i32,
    pub status_storage_partitions: i32,
    pub offset_storage_file: Option<String>,
    pub key_converter: String,
    pub value_converter: String,
    pub header_converter: String,
    pub offset_flush_interval_ms: u64,
    pub offset_flush_timeout_ms: u64,
    pub task_shutdown_graceful_timeout_ms: u64,
    /// Address the REST server binds to.
    pub rest_bind: std::net::SocketAddr,
    /// `host:port` other workers and status records use for this worker.
    pub worker_id: String,
    /// How long the group waits for a silent worker before handing its lease to a standby.
    pub session_timeout_ms: u64,
    pub topic_creation_enable: bool,
    pub topic_tracking_enable: bool,
    pub topic_tracking_allow_reset: bool,
}

fn worker_config_def(mode: Mode) -> ConfigDef {
    let required_in_distributed = |k: ConfigKey| {
        if mode == Mode::Distributed {
            k
        } else {
            k.default_null()
        }
    };
    let rf = Validator::custom(|_, v| match v {
        ferry_core::ConfigValue::Short(n) if *n == -1 || *n >= 1 => Ok(()),
        _ => Err("Value must be -1 (broker default) or at least 1".into()),
    });
    ConfigDef::new()
        .define(
            ConfigKey::new("bootstrap.servers", ConfigType::List)
                .default_value("localhost:9092")
                .importance(Importance::High)
                .doc("Kafka brokers to connect to."),
        )
        .define(required_in_distributed(
            ConfigKey::new("group.id", ConfigType::String).importance(Importance::High),
        ))
        .define(required_in_distributed(
            ConfigKey::new("config.storage.topic", ConfigType::String).importance(Importance::High),
        ))
        .define(required_in_distributed(
            ConfigKey::new("offset.storage.topic", ConfigType::String).importance(Importance::High),
        ))
        .define(required_in_distributed(
            ConfigKey::new("status.storage.topic", ConfigType::String).importance(Importance::High),
        ))
        .define(
            ConfigKey::new("config.storage.replication.factor", ConfigType::Short)
                .default_value("3")
                .validator(rf.clone()),
        )
        .define(
            ConfigKey::new("offset.storage.replication.factor", ConfigType::Short)
                .default_value("3")
                .validator(rf.clone()),
        )
        .define(
            ConfigKey::new("status.storage.replication.factor", ConfigType::Short)
                .default_value("3")
                .validator(rf),
        )
        .define(
            ConfigKey::new("offset.storage.partitions", ConfigType::Int)
                .default_value("25")
                .validator(Validator::at_least(1.0)),
        )
        .define(
            ConfigKey::new("status.storage.partitions", ConfigType::Int)
                .default_value("5")
                .validator(Validator::at_least(1.0)),
        )
        .define(if mode == Mode::Standalone {
            ConfigKey::new("offset.storage.file.filename", ConfigType::String).importance(Importance::High)
        } else {
            ConfigKey::new("offset.storage.file.filename", ConfigType::String).default_null()
        })
        .define(ConfigKey::new("key.converter", ConfigType::Class).importance(Importance::High))
        .define(ConfigKey::new("value.converter", ConfigType::Class).importance(Importance::High))
        .define(
            ConfigKey::new("header.converter", ConfigType::Class)
                .default_value("org.apache.kafka.connect.storage.SimpleHeaderConverter"),
        )
        .define(
            ConfigKey::new("offset.flush.interval.ms", ConfigType::Long)
                .default_value("60000")
                .validator(Validator::at_least(1.0)),
        )
        .define(
            ConfigKey::new("offset.flush.timeout.ms", ConfigType::Long)
                .default_value("5000")
                .validator(Validator::at_least(1.0)),
        )
        .define(
            ConfigKey::new("task.shutdown.graceful.timeout.ms", ConfigType::Long)
                .default_value("5000")
                .validator(Validator::at_least(0.0)),
        )
        .define(ConfigKey::new("listeners", ConfigType::List).default_null())
        .define(ConfigKey::new("rest.host.name", ConfigType::String).default_null())
        .define(ConfigKey::new("rest.port", ConfigType::Int).default_value("8083"))
        .define(ConfigKey::new("rest.advertised.host.name", ConfigType::String).default_null())
        .define(ConfigKey::new("rest.advertised.port", ConfigType::Int).default_null())
        .define(ConfigKey::new("rest.advertised.listener", ConfigType::String).default_null())
        .define(ConfigKey::new("plugin.path", ConfigType::List).default_null())
        .define(
            ConfigKey::new("session.timeout.ms", ConfigType::Int)
                .default_value("10000")
                .validator(Validator::at_least(1000.0)),
        )
        .define(ConfigKey::new("heartbeat.interval.ms", ConfigType::Int).default_value("3000"))
        .define(ConfigKey::new("topic.creation.enable", ConfigType::Boolean).default_value("true"))
        .define(ConfigKey::new("topic.tracking.enable", ConfigType::Boolean).default_value("true"))
        .define(ConfigKey::new("topic.tracking.allow.reset", ConfigType::Boolean).default_value("true"))
}

/// A worker configuration problem: one line naming the key and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum WorkerConfigError {
    /// A key is missing or has a bad value.
    #[error(transparent)]
    Invalid(#[from] ConfigError),
    /// The properties file could not be read.
    #[error("cannot read worker properties file {path}: {reason}")]
    File { path: String, reason: String },
}

/// Reads a Java properties file.
pub fn read_properties_file(path: &Path) -> Result<ConfigMap, WorkerConfigError> {
    let file = std::fs::File::open(path).map_err(|e| WorkerConfigError::File {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    let map = java_properties::read(std::io::BufReader::new(file)).map_err(|e| WorkerConfigError::File {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    // java-properties returns a HashMap; sort for stable logs and originals.
    let mut entries: Vec<_> = map.into_iter().collect();
    entries.sort();
    Ok(entries.into_iter().collect())
}

/// Turns a cp-kafka-connect style variable name (without `CONNECT_`) into a property name:
/// `___` → `_`, `__` → `-`, `_` → `.`, lower case. debezium/connect's rule (`_` → `.`) agrees
/// with it for every name that has no double underscore.
pub fn env_name_to_property(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    let mut out = String::with_capacity(lower.len());
    let bytes = lower.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'_' {
            let run = bytes[i..].iter().take_while(|b| **b == b'_').count();
            match run {
                1 => out.push('.'),
                2 => out.push('-'),
                3 => out.push('_'),
                n => {
                    // Longer runs: read greedily as groups of three, then the rest.
                    for _ in 0..n / 3 {
                        out.push('_');
                    }
                    match n % 3 {
                        1 => out.push('.'),
                        2 => out.push('-'),
                        _ => {}
                    }
                }
            }
            i += run;
        } else {
            out.push(bytes[i] as char);
            i += 1;
        }
    }
    out
}

/// debezium/connect's short variables and the property each sets.
const DEBEZIUM_ENV: &[(&str, &str)] = &[
    ("BOOTSTRAP_SERVERS", "bootstrap.servers"),
    ("GROUP_ID", "group.id"),
    ("CONFIG_STORAGE_TOPIC", "config.storage.topic"),
    ("OFFSET_STORAGE_TOPIC", "offset.storage.topic"),
    ("STATUS_STORAGE_TOPIC", "status.storage.topic"),
    ("KEY_CONVERTER", "key.converter"),
    ("VALUE_CONVERTER", "value.converter"),
    ("OFFSET_FLUSH_INTERVAL_MS", "offset.flush.interval.ms"),
    ("OFFSET_FLUSH_TIMEOUT_MS", "offset.flush.timeout.ms"),
    ("SHUTDOWN_TIMEOUT", "task.shutdown.graceful.timeout.ms"),
    ("ADVERTISED_HOST_NAME", "rest.advertised.host.name"),
    ("ADVERTISED_PORT", "rest.advertised.port"),
    ("REST_PORT", "rest.port"),
    ("REST_HOST_NAME", "rest.host.name"),
];

/// Defaults the debezium/connect entrypoint applies when its variables are used.
const DEBEZIUM_DEFAULTS: &[(&str, &str)] = &[
    ("group.id", "1"),
    ("key.converter", "org.apache.kafka.connect.json.JsonConverter"),
    ("value.converter", "org.apache.kafka.connect.json.JsonConverter"),
    ("offset.flush.interval.ms", "60000"),
    ("offset.flush.timeout.ms", "5000"),
    ("task.shutdown.graceful.timeout.ms", "10000"),
];

/// `CONNECT_*` variables that configure the image, not the worker.
fn is_image_only(prop: &str) -> bool {
    prop.starts_with("log4j.")
        || prop.starts_with("jmx.")
        || prop == "log4j"
        || prop.starts_with("kafka.heap")
}

/// Applies environment variables on top of `props`. Returns the keys that came from the environment.
pub fn apply_env(props: &mut ConfigMap, env: impl IntoIterator<Item = (String, String)>) -> Vec<String> {
    let env: Vec<(String, String)> = env.into_iter().collect();
    let mut from_env = Vec::new();
    for (name, value) in &env {
        if let Some(rest) = name.strip_prefix("CONNECT_") {
            let prop = env_name_to_property(rest);
            if is_image_only(&prop) {
                continue;
            }
            props.insert(prop.clone(), value.clone());
            from_env.push(prop);
        }
    }
    let uses_debezium_names = env.iter().any(|(n, _)| DEBEZIUM_ENV.iter().any(|(e, _)| e == n));
    for (var, prop) in DEBEZIUM_ENV {
        if let Some((_, v)) = env.iter().find(|(n, _)| n == var) {
            props.insert((*prop).to_owned(), v.clone());
            from_env.push((*prop).to_owned());
        }
    }
    if uses_debezium_names {
        for (prop, v) in DEBEZIUM_DEFAULTS {
            if !props.contains_key(*prop) {
                props.insert((*prop).to_owned(), (*v).to_owned());
            }
        }
    }
    from_env
}

fn parse_listener(key: &str, raw: &str) -> Result<std::net::SocketAddr, ConfigError> {
    let lower = raw.trim().to_ascii_lowercase();
    let rest = if let Some(r) = lower.strip_prefix("http://") {
        r
    } else if lower.starts_with("https://") {
        return Err(ConfigError::invalid(
            key,
            raw,
            "HTTPS listeners are not supported by Ferry; terminate TLS in front of it",
        ));
    } else {
        return Err(ConfigError::invalid(
            key,
            raw,
            "Listener must be of the form http://host:port",
        ));
    };
    let (host, port) = rest
        .rsplit_once(':')
        .ok_or_else(|| ConfigError::invalid(key, raw, "Listener must include a port"))?;
    let port: u16 = port
        .trim_end_matches('/')
        .parse()
        .map_err(|_| ConfigError::invalid(key, raw, "Listener port is not a number"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let ip: std::net::IpAddr = if host.is_empty() || host == "0.0.0.0" {
        std::net::Ipv4Addr::UNSPECIFIED.into()
    } else if host == "localhost" {
        std::net::Ipv4Addr::LOCALHOST.into()
    } else {
        host.parse().map_err(|_| {
            ConfigError::invalid(
                key,
                raw,
                "Listener host must be an IP address, localhost or empty",
            )
        })?
    };
    Ok(std::net::SocketAddr::new(ip, port))
}

impl WorkerConfig {
    /// Parses and validates properties for `mode`.
    pub fn parse(props: ConfigMap, mode: Mode) -> Result<WorkerConfig, WorkerConfigError> {
        let def = worker_config_def(mode);
        let p = def.parse(&props)?;
        for key in [
            "group.id",
            "config.storage.topic",
            "offset.storage.topic",
            "status.storage.topic",
        ] {
            if p.string(key).is_some_and(|v| v.trim().is_empty()) {
                return Err(ConfigError::invalid(key, "", "Must not be empty").into());
            }
        }
        if !p.list("plugin.path").is_empty() {
            tracing::info!("plugin.path is ignored: Ferry's plugins are built in (see /connector-plugins)");
        }
        let (rest_bind, listener_port) = match p.list("listeners").first() {
            Some(l) => {
                let addr = parse_listener("listeners", l)?;
                (addr, addr.port())
            }
            None => {
                let port = p.int("rest.port").unwrap_or(8083);
                let port = u16::try_from(port)
                    .map_err(|_| ConfigError::invalid("rest.port", port, "Not a valid port"))?;
                let host = p.string("rest.host.name").unwrap_or("0.0.0.0");
                let addr = parse_listener("rest.host.name", &format!("http://{host}:{port}"))?;
                (addr, port)
            }
        };
        let adv_host = p
            .string("rest.advertised.host.name")
            .map(str::to_owned)
            .unwrap_or_else(|| {
                if rest_bind.ip().is_unspecified() {
                    hostname()
                } else {
                    rest_bind.ip().to_string()
                }
            });
        let adv_port = match p.int("rest.advertised.port") {
            Some(v) => u16::try_from(v)
                .ok()
                .filter(|v| *v > 0)
                .ok_or_else(|| ConfigError::invalid("rest.advertised.port", v, "Not a valid port"))?,
            None => listener_port,
        };
        let ms = |k: &str| p.long(k).unwrap_or_default() as u64;
        let short = |k: &str| p.long(k).unwrap_or(3) as i32;
        Ok(WorkerConfig {
            bootstrap_servers: p.list("bootstrap.servers").join(","),
            group_id: p.string("group.id").map(str::to_owned),
            config_storage_topic: p.string("config.storage.topic").map(str::to_owned),
            offset_storage_topic: p.string("offset.storage.topic").map(str::to_owned),
            status_storage_topic: p.string("status.storage.topic").map(str::to_owned),
            config_storage_replication_factor: short("config.storage.replication.factor"),
            offset_storage_replication_factor: short("offset.storage.replication.factor"),
            status_storage_replication_factor: short("status.storage.replication.factor"),
            offset_storage_partitions: p.int("offset.storage.partitions").unwrap_or(25),
            status_storage_partitions: p.int("status.storage.partitions").unwrap_or(5),
            offset_storage_file: p.string("offset.storage.file.filename").map(str::to_owned),
            key_converter: p.string("key.converter").unwrap_or_default().to_owned(),
            value_converter: p.string("value.converter").unwrap_or_default().to_owned(),
            header_converter: p.string("header.converter").unwrap_or_default().to_owned(),
            offset_flush_interval_ms: ms("offset.flush.interval.ms"),
            offset_flush_timeout_ms: ms("offset.flush.timeout.ms"),
            task_shutdown_graceful_timeout_ms: ms("task.shutdown.graceful.timeout.ms"),
            rest_bind,
            worker_id: format!("{adv_host}:{adv_port}"),
            session_timeout_ms: p.long("session.timeout.ms").unwrap_or(10000) as u64,
            topic_creation_enable: p.boolean("topic.creation.enable"),
            topic_tracking_enable: p.boolean("topic.tracking.enable"),
            topic_tracking_allow_reset: p.boolean("topic.tracking.allow.reset"),
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

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
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
    fn cp_env_names_map_like_the_image() {
        assert_eq!(env_name_to_property("BOOTSTRAP_SERVERS"), "bootstrap.servers");
        assert_eq!(
            env_name_to_property("CONFIG_STORAGE_REPLICATION_FACTOR"),
            "config.storage.replication.factor"
        );
        assert_eq!(env_name_to_property("PRODUCER_CLIENT__ID"), "producer.client-id");
        assert_eq!(env_name_to_property("OFFSET___FLUSH"), "offset_flush");
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
