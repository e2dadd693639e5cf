//! Building librdkafka client configurations from Java-style client properties.
//!
//! Kafka Connect hands `producer.*`, `consumer.*` and `admin.*` options to the
//! Java clients. librdkafka shares most names; Java-only names are translated
//! where a translation exists (`sasl.jaas.config`, `max.request.size`) and
//! otherwise dropped with one info line, so a worker file written for Kafka
//! Connect starts unchanged. A known key with a value librdkafka rejects is an
//! error naming the key.

use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaConfRes;
use regex::Regex;
use std::sync::OnceLock;

use crate::KafkaStoreError;

/// Java client properties that have no librdkafka meaning and are dropped silently
/// (they are set by every Connect image and would only add noise).
const SILENTLY_DROPPED: &[&str] = &[
    "key.serializer",
    "value.serializer",
    "key.deserializer",
    "value.deserializer",
    "interceptor.classes",
    "metric.reporters",
    "metrics.num.samples",
    "metrics.sample.window.ms",
    "metrics.recording.level",
    "max.block.ms",
    "max.poll.records",
    "default.api.timeout.ms",
    "client.dns.lookup",
];

/// Client properties in Java form, translated for librdkafka.
#[derive(Clone, Debug, Default)]
pub struct ClientProps {
    entries: Vec<(String, String)>,
}

impl ClientProps {
    /// An empty set.
    pub fn new() -> Self {
        ClientProps::default()
    }

    /// Sets a property (a later value for the same key wins).
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        let key = key.into();
        self.entries.retain(|(k, _)| *k != key);
        self.entries.push((key, value.into()));
        self
    }

    /// Sets a property only when it is not set yet.
    pub fn set_default(&mut self, key: &str, value: impl Into<String>) -> &mut Self {
        if self.get(key).is_none() {
            self.entries.push((key.to_owned(), value.into()));
        }
        self
    }

    /// Adds every entry of an iterator.
    pub fn extend<'a>(&mut self, entries: impl IntoIterator<Item = (&'a String, &'a String)>) -> &mut Self {
        for (k, v) in entries {
            self.set(k.clone(), v.clone());
        }
        self
    }

    /// A property's value.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Translates to a librdkafka configuration. `role` names the client in messages
    /// (`producer`, `consumer`, `admin`); `prefix` is how the user wrote the keys
    /// (`producer.`), so errors point at the line in their file.
    pub fn to_client_config(&self, role: &str, prefix: &str) -> Result<ClientSettings, KafkaStoreError> {
        let mut cfg = ClientConfig::new();
        cfg.set_log_level(RDKafkaLogLevel::Warning);
        for (key, value) in &self.entries {
            for (k, v) in translate(key, value) {
                match check_property(&k, &v) {
                    Check::Ok => {
                        cfg.set(k, v);
                    }
                    Check::Unknown => {
                        // Top-level worker settings are mostly not client settings: stay quiet about them.
                        if prefix.is_empty() {
                            tracing::debug!(key = %key, "not a librdkafka setting; not passed to {role} clients");
                        } else if !SILENTLY_DROPPED.contains(&k.as_str()) {
                            tracing::info!(
                                key = %format!("{prefix}{key}"),
                                "{role} option has no librdkafka equivalent; ignored"
                            );
                        }
                    }
                    Check::Invalid(reason) => {
                        return Err(KafkaStoreError::Config {
                            key: format!("{prefix}{key}"),
                            reason,
                        });
                    }
                }
            }
        }
        Ok(ClientSettings(cfg))
    }
}

/// A checked librdkafka client configuration, as [`ClientProps::to_client_config`] builds it.
///
/// Opaque on purpose: the runtime sets and reads options by name and hands the
/// settings to the client constructors of this crate.
#[derive(Clone, Debug, Default)]
pub struct ClientSettings(pub(crate) ClientConfig);

impl ClientSettings {
    /// Empty settings.
    pub fn new() -> Self {
        ClientSettings::default()
    }

    /// Sets an option (a later value for the same key wins).
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.0.set(key, value);
        self
    }

    /// An option's value.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key)
    }

    /// Every option, sorted by key.
    pub fn entries(&self) -> Vec<(String, String)> {
        self.0
            .config_map()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    /// The librdkafka configuration behind these settings.
    pub(crate) fn rdkafka(&self) -> &ClientConfig {
        &self.0
    }
}

enum Check {
    Ok,
    Unknown,
    Invalid(String),
}

fn check_property(key: &str, value: &str) -> Check {
    let mut probe = ClientConfig::new();
    probe.set(key, value);
    match probe.create_native_config() {
        Ok(_) => Check::Ok,
        Err(KafkaError::ClientConfig(RDKafkaConfRes::RD_KAFKA_CONF_UNKNOWN, ..)) => Check::Unknown,
        Err(KafkaError::ClientConfig(_, desc, ..)) => Check::Invalid(desc),
        Err(e) => Check::Invalid(e.to_string()),
    }
}

fn jaas_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r#"(username|password)\s*=\s*"([^"]*)""#).expect("static regex"))
}

/// The `username` and `password` of a `sasl.jaas.config` login module line.
pub(crate) fn jaas_credentials(jaas: &str) -> (Option<String>, Option<String>) {
    let mut out = (None, None);
    for c in jaas_regex().captures_iter(jaas) {
        let value = Some(c[2].to_owned());
        match &c[1] {
            "username" => out.0 = value,
            _ => out.1 = value,
        }
    }
    out
}

/// Maps one Java client property to the librdkafka properties that mean the same.
fn translate(key: &str, value: &str) -> Vec<(String, String)> {
    match key {
        "sasl.jaas.config" => {
            let (user, password) = jaas_credentials(value);
            let user = user.map(|u| ("sasl.username".to_owned(), u));
            let password = password.map(|p| ("sasl.password".to_owned(), p));
            user.into_iter().chain(password).collect()
        }
        "max.request.size" => vec![("message.max.bytes".into(), value.into())],
        "buffer.memory" => match value.trim().parse::<u64>() {
            Ok(bytes) => vec![(
                "queue.buffering.max.kbytes".into(),
                (bytes / 1024).max(1).to_string(),
            )],
            Err(_) => vec![("buffer.memory".into(), value.into())],
        },
        "ssl.truststore.location" => vec![("ssl.ca.location".into(), value.into())],
        "ssl.truststore.type" | "ssl.keystore.type" => Vec::new(),
        _ => vec![(key.to_owned(), value.to_owned())],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_keys_pass_and_java_only_keys_drop() {
        let mut p = ClientProps::new();
        p.set("bootstrap.servers", "127.0.0.1:9092")
            .set(
                "key.serializer",
                "org.apache.kafka.common.serialization.StringSerializer",
            )
            .set("linger.ms", "5")
            .set("definitely.not.a.property", "x");
        let cfg = p.to_client_config("producer", "producer.").unwrap();
        assert_eq!(cfg.get("linger.ms"), Some("5"));
        assert_eq!(cfg.get("key.serializer"), None);
        assert_eq!(cfg.get("definitely.not.a.property"), None);
    }

    #[test]
    fn invalid_value_names_the_key() {
        let mut p = ClientProps::new();
        p.set("acks", "sometimes");
        let err = p.to_client_config("producer", "producer.").unwrap_err();
        assert!(err.to_string().contains("producer.acks"), "{err}");
    }

    #[test]
    fn buffer_memory_becomes_queue_kbytes() {
        let mut p = ClientProps::new();
        p.set("buffer.memory", "67108864");
        let cfg = p.to_client_config("producer", "producer.").unwrap();
        assert_eq!(cfg.get("queue.buffering.max.kbytes"), Some("65536"));
    }

    #[test]
    fn jaas_config_becomes_sasl_credentials() {
        let mut p = ClientProps::new();
        p.set(
            "sasl.jaas.config",
            r#"org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="s3cret";"#,
        );
        let cfg = p.to_client_config("producer", "").unwrap();
        assert_eq!(cfg.get("sasl.username"), Some("alice"));
        assert_eq!(cfg.get("sasl.password"), Some("s3cret"));
    }
}
