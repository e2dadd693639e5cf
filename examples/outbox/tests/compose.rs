//! docker/compose.yaml and docker/Dockerfile, checked without a Docker engine: the
//! environment given to `ferry` is debezium/connect's, and Ferry's own
//! configuration loader understands every variable of it.

use std::collections::BTreeMap;

use ferry_runtime::worker_config::env_name_to_property;
use ferry_runtime::{Mode, WorkerConfig};
use serde::Deserialize;

const COMPOSE: &str = include_str!("../../../docker/compose.yaml");
const DOCKERFILE: &str = include_str!("../../../docker/Dockerfile");

#[derive(Debug, Deserialize)]
struct Compose {
    services: BTreeMap<String, Service>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Service {
    image: Option<String>,
    command: Option<serde_norway::Value>,
    environment: Environment,
    build: Option<Build>,
    volumes: Vec<String>,
    ports: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Build {
    dockerfile: String,
    target: Option<String>,
}

/// `environment:` as a map or as a list of `NAME=value`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Environment {
    Map(BTreeMap<String, serde_norway::Value>),
    List(Vec<String>),
}

impl Default for Environment {
    fn default() -> Self {
        Environment::Map(BTreeMap::new())
    }
}

impl Environment {
    fn pairs(&self) -> Vec<(String, String)> {
        match self {
            Environment::Map(m) => m
                .iter()
                .map(|(k, v)| {
                    let v = match v {
                        serde_norway::Value::String(s) => s.clone(),
                        serde_norway::Value::Number(n) => n.to_string(),
                        serde_norway::Value::Bool(b) => b.to_string(),
                        other => panic!("{k}: unsupported value {other:?}"),
                    };
                    (k.clone(), v)
                })
                .collect(),
            Environment::List(l) => l
                .iter()
                .map(|e| {
                    let (k, v) = e.split_once('=').unwrap_or((e, ""));
                    (k.to_owned(), v.to_owned())
                })
                .collect(),
        }
    }
}

/// debezium/connect's own variables (its docker-entrypoint.sh) and the worker property each sets.
const DEBEZIUM_CONNECT_VARIABLES: &[(&str, &str)] = &[
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

/// Kafka Connect distributed worker properties (DistributedConfig / WorkerConfig).
const WORKER_PROPERTIES: &[&str] = &[
    "bootstrap.servers",
    "group.id",
    "config.storage.topic",
    "offset.storage.topic",
    "status.storage.topic",
    "config.storage.replication.factor",
    "offset.storage.replication.factor",
    "status.storage.replication.factor",
    "offset.storage.partitions",
    "status.storage.partitions",
    "key.converter",
    "value.converter",
    "header.converter",
    "offset.flush.interval.ms",
    "offset.flush.timeout.ms",
    "task.shutdown.graceful.timeout.ms",
    "listeners",
    "rest.host.name",
    "rest.port",
    "rest.advertised.host.name",
    "rest.advertised.port",
    "rest.advertised.listener",
    "plugin.path",
    "topic.creation.enable",
    "session.timeout.ms",
    "heartbeat.interval.ms",
    "client.id",
];

/// Prefixes under which Kafka Connect passes settings on (clients, converters).
const WORKER_PREFIXES: &[&str] = &[
    "producer.",
    "consumer.",
    "admin.",
    "key.converter.",
    "value.converter.",
    "header.converter.",
];

fn compose() -> Compose {
    serde_norway::from_str(COMPOSE).expect("docker/compose.yaml parses")
}

#[test]
fn ferry_understands_every_variable_compose_gives_it() {
    let compose = compose();
    let ferry = &compose.services["ferry"];
    let env = ferry.environment.pairs();
    assert!(!env.is_empty());

    let config = WorkerConfig::load_with_env(None, Mode::Distributed, env.clone())
        .unwrap_or_else(|e| panic!("ferry rejects the compose environment: {e}"));
    assert_eq!(config.bootstrap_servers, "kafka:9092");
    assert_eq!(config.group_id.as_deref(), Some("1"));
    assert_eq!(config.config_storage_topic.as_deref(), Some("my_connect_configs"));
    assert_eq!(config.offset_storage_topic.as_deref(), Some("my_connect_offsets"));
    assert_eq!(
        config.status_storage_topic.as_deref(),
        Some("my_connect_statuses")
    );
    assert_eq!(config.config_storage_replication_factor, 1);
    assert_eq!(config.offset_storage_replication_factor, 1);
    assert_eq!(config.status_storage_replication_factor, 1);
    assert_eq!(
        config.key_converter,
        "org.apache.kafka.connect.json.JsonConverter"
    );
    assert_eq!(
        config.value_converter,
        "org.apache.kafka.connect.json.JsonConverter"
    );
    assert_eq!(config.offset_flush_interval_ms, 10_000);
    assert_eq!(config.rest_bind.port(), 8083);
    assert_eq!(config.worker_id, "ferry:8083");

    for (name, value) in &env {
        let property = if let Some(rest) = name.strip_prefix("CONNECT_") {
            let p = env_name_to_property(rest);
            assert!(
                WORKER_PROPERTIES.contains(&p.as_str())
                    || WORKER_PREFIXES.iter().any(|pre| p.starts_with(pre)),
                "{name} maps to {p}, which is no Kafka Connect worker property"
            );
            p
        } else {
            let (_, p) = DEBEZIUM_CONNECT_VARIABLES
                .iter()
                .find(|(n, _)| n == name)
                .unwrap_or_else(|| panic!("{name} is neither a debezium/connect variable nor CONNECT_*"));
            (*p).to_owned()
        };
        assert_eq!(
            config.originals.get(&property).map(|v| v.to_string()).as_deref(),
            Some(value.as_str()),
            "{name} did not reach ferry's {property}"
        );
    }
    // Settings passed on to clients and converters arrive under their prefix.
    assert_eq!(
        config
            .with_prefix("producer.")
            .get("acks")
            .map(|v| v.to_string())
            .as_deref(),
        Some("all")
    );
    assert_eq!(
        config
            .with_prefix("value.converter.")
            .get("schemas.enable")
            .map(|v| v.to_string())
            .as_deref(),
        Some("true")
    );
}

#[test]
fn compose_runs_postgres_kafka_ferry_and_the_example_services() {
    let compose = compose();
    let s = &compose.services;
    let pg = &s["postgres"];
    assert_eq!(pg.image.as_deref(), Some("postgres:15"));
    let command = serde_norway::to_string(pg.command.as_ref().unwrap()).unwrap();
    assert!(command.contains("wal_level=logical"), "{command}");
    assert!(pg
        .volumes
        .iter()
        .any(|v| v.starts_with("../examples/outbox/schema.sql:")));
    assert!(pg
        .environment
        .pairs()
        .contains(&("POSTGRES_DB".into(), "order_db".into())));

    let kafka = &s["kafka"];
    assert!(kafka.image.as_deref().unwrap().starts_with("apache/kafka:"));
    let kenv: BTreeMap<String, String> = kafka.environment.pairs().into_iter().collect();
    assert_eq!(
        kenv["KAFKA_PROCESS_ROLES"], "broker,controller",
        "KRaft, no ZooKeeper"
    );

    let ferry = &s["ferry"];
    let build = ferry.build.as_ref().unwrap();
    assert_eq!(
        (build.dockerfile.as_str(), build.target.as_deref()),
        ("docker/Dockerfile", Some("ferry"))
    );
    assert_eq!(ferry.ports, ["8083:8083"]);

    let register = &s["register-connector"];
    assert!(register
        .volumes
        .iter()
        .any(|v| v.starts_with("../examples/outbox/connector.json:")));
    for name in ["order-service", "notification-consumer"] {
        let b = s[name]
            .build
            .as_ref()
            .unwrap_or_else(|| panic!("{name} has no build"));
        assert_eq!(b.target.as_deref(), Some("outbox-services"), "{name}");
    }
    let consumer: BTreeMap<String, String> = s["notification-consumer"]
        .environment
        .pairs()
        .into_iter()
        .collect();
    assert_eq!(consumer["BOOTSTRAP_SERVERS"], "kafka:9092");
}

#[test]
fn dockerfile_builds_a_small_non_root_ferry_image() {
    let stages: Vec<&str> = DOCKERFILE.lines().filter(|l| l.starts_with("FROM ")).collect();
    assert!(stages.len() >= 2, "multi-stage: {stages:?}");
    let last = &DOCKERFILE[DOCKERFILE.rfind("\nFROM ").unwrap()..];
    assert!(
        last.contains("-slim AS ferry"),
        "the default target is the ferry image"
    );
    for needle in [
        "\nUSER ferry\n",
        "\nEXPOSE 8083\n",
        "\nHEALTHCHECK ",
        "GET /connectors",
        "\nENTRYPOINT [\"ferry\", \"distributed\"]\n",
    ] {
        assert!(last.contains(needle), "ferry stage lacks {needle:?}");
    }
}
