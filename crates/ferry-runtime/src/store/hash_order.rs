//! Config maps in the order Kafka Connect shows them.
//!
//! Connect reads connector and task configs back from the config topic through a
//! JsonConverter, which fills a `java.util.HashMap`; it builds task configs in a
//! `HashMap` too, and merges a PATCH into one. Every config it answers over REST (and
//! every task record it writes) therefore iterates in HashMap order, not in the order
//! the client sent.

use ferry_core::java::collections::hashmap_iteration_order;
use ferry_core::ConfigMap;

/// The config as a `java.util.HashMap` filled in the config's order iterates it.
pub fn java_hash_map(config: ConfigMap) -> ConfigMap {
    hashmap_iteration_order(config.into_iter().collect())
        .into_iter()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> ConfigMap {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn configs_iterate_as_connect_shows_them() {
        // The FileStreamSource config of the differential suite, as Connect 4.3 answers it.
        let sent = config(&[
            (
                "connector.class",
                "org.apache.kafka.connect.file.FileStreamSourceConnector",
            ),
            ("tasks.max", "1"),
            ("file", "/tmp/in.txt"),
            ("topic", "lines"),
            ("name", "lines"),
        ]);
        let keys: Vec<String> = java_hash_map(sent.clone()).into_keys().collect();
        assert_eq!(keys, ["connector.class", "file", "tasks.max", "name", "topic"]);

        let mut updated = sent;
        updated.insert("batch.size".into(), "100".into());
        let keys: Vec<String> = java_hash_map(updated).into_keys().collect();
        assert_eq!(
            keys,
            [
                "connector.class",
                "file",
                "tasks.max",
                "batch.size",
                "name",
                "topic"
            ]
        );
    }

    #[test]
    fn values_stay_with_their_keys() {
        let m = java_hash_map(config(&[("topic", "t"), ("name", "x")]));
        assert_eq!(m.iter().next(), Some((&"name".to_string(), &"x".to_string())));
        assert_eq!(m["topic"], "t");
    }
}
