//! Where worker settings come from: a Java properties file, then the environment
//! variables of cp-kafka-connect (`CONNECT_*`, with its name rules) and of the
//! debezium/connect image (short names, with the image's defaults).

use std::path::Path;

use ferry_core::ConfigMap;

use super::WorkerConfigError;

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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn debezium_defaults_apply_only_with_debezium_names_and_never_override() {
        let mut props = ConfigMap::new();
        apply_env(&mut props, [("CONNECT_GROUP_ID".to_owned(), "g".to_owned())]);
        assert!(!props.contains_key("key.converter"));

        let mut props: ConfigMap = [("task.shutdown.graceful.timeout.ms".to_owned(), "7".to_owned())]
            .into_iter()
            .collect();
        let from_env = apply_env(&mut props, [("GROUP_ID".to_owned(), "g".to_owned())]);
        assert_eq!(from_env, ["group.id"]);
        assert_eq!(props["group.id"], "g");
        assert_eq!(props["task.shutdown.graceful.timeout.ms"], "7");
        assert_eq!(
            props["key.converter"],
            "org.apache.kafka.connect.json.JsonConverter"
        );
    }
}
