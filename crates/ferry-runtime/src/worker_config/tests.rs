//! Worker configuration: defaults, environment mapping and the errors of malformed settings.

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
        ("listeners", "ftp://0.0.0.0:8083", "listeners"),
        ("listeners", "0.0.0.0:8083", "listeners"),
        ("listeners", "http://0.0.0.0", "listeners"),
        ("listeners", "http://0.0.0.0:port", "listeners"),
        ("listeners", "http://some host:8083", "listeners"),
        ("topic.creation.enable", "yes please", "topic.creation.enable"),
        ("group.id", "", "group.id"),
        // The standby lease of earlier releases was removed.
        ("ferry.group.membership", "lease", "ferry.group.membership"),
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
        env(&[("CONNECT_LISTENERS", "tcp://:8443")]),
    )
    .unwrap_err();
    assert!(bad.to_string().contains("listeners"), "{bad}");
}

#[test]
fn a_config_provider_or_override_policy_ferry_lacks_stops_start_up_naming_the_key() {
    let base = [
        ("group.id", "g"),
        ("config.storage.topic", "c"),
        ("offset.storage.topic", "o"),
        ("status.storage.topic", "s"),
        ("key.converter", "k"),
        ("value.converter", "v"),
        ("rest.advertised.host.name", "w"),
    ];
    let with = |extra: &[(&str, &str)]| -> ConfigMap {
        base.iter()
            .chain(extra)
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let err = WorkerConfig::parse(
        with(&[
            ("config.providers", "vault"),
            ("config.providers.vault.class", "com.example.VaultConfigProvider"),
        ]),
        Mode::Distributed,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("config.providers.vault.class=com.example.VaultConfigProvider")
            && err.contains("Failed to find any class that implements ConfigProvider"),
        "{err}"
    );
    let err = WorkerConfig::parse(
        with(&[("connector.client.config.override.policy", "Sometimes")]),
        Mode::Distributed,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("connector.client.config.override.policy"), "{err}");
    // The three Kafka providers and a known policy start.
    WorkerConfig::parse(
        with(&[
            ("config.providers", "file,env,dir"),
            (
                "config.providers.file.class",
                "org.apache.kafka.common.config.provider.FileConfigProvider",
            ),
            ("config.providers.env.class", "EnvVarConfigProvider"),
            ("config.providers.dir.class", "DirectoryConfigProvider"),
            ("connector.client.config.override.policy", "None"),
        ]),
        Mode::Distributed,
    )
    .unwrap();
}
