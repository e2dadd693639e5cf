//! Debezium's Kafka signal channel: signals as JSON records (`{"id", "type", "data"}`)
//! keyed by `topic.prefix` on partition 0 of `signal.kafka.topic`, read with consumer group
//! `signal.kafka.groupId` (offsets auto-committed, a new group starts at the earliest
//! record), as `KafkaSignalChannel` reads them.

use std::time::Duration;

use ferry_core::ConfigMap;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use tracing::{info, warn};

use super::signal::Signal;

/// The Kafka signal channel of one task.
pub struct KafkaSignals {
    consumer: BaseConsumer,
    key: String,
    topic: String,
}

/// Why the channel could not start.
#[derive(Debug, thiserror::Error)]
#[error("signal channel kafka: {0}")]
pub struct KafkaSignalError(String);

/// At most this many records are read per poll.
const MAX_PER_POLL: usize = 100;

impl KafkaSignals {
    /// The channel, when `signal.enabled.channels` names `kafka`.
    pub fn from_config(cfg: &ConfigMap, prefix: &str) -> Option<Result<KafkaSignals, KafkaSignalError>> {
        let enabled = cfg
            .get("signal.enabled.channels")
            .is_some_and(|s| s.split(',').any(|c| c.trim().eq_ignore_ascii_case("kafka")));
        if !enabled {
            return None;
        }
        Some(Self::open(cfg, prefix))
    }

    fn open(cfg: &ConfigMap, prefix: &str) -> Result<KafkaSignals, KafkaSignalError> {
        let get = |k: &str| cfg.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
        let bootstrap = get("signal.kafka.bootstrap.servers")
            .ok_or_else(|| KafkaSignalError("signal.kafka.bootstrap.servers is required".into()))?;
        let topic = get("signal.kafka.topic")
            .map(str::to_string)
            .unwrap_or_else(|| format!("{prefix}-signal"));
        let group = get("signal.kafka.groupId").unwrap_or("kafka-signal");
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", bootstrap)
            .set("group.id", group)
            .set("client.id", uuid::Uuid::now_v7().to_string())
            .set("enable.auto.commit", "true")
            .set("auto.offset.reset", "earliest")
            .set("session.timeout.ms", "10000");
        // `signal.consumer.*` settings go to the consumer, as in Debezium.
        for (k, v) in cfg {
            if let Some(name) = k.strip_prefix("signal.consumer.") {
                c.set(name, v);
            }
        }
        let consumer: BaseConsumer = c.create().map_err(|e| KafkaSignalError(e.to_string()))?;
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(&topic, 0, Offset::Stored)
            .map_err(|e| KafkaSignalError(e.to_string()))?;
        consumer
            .assign(&tpl)
            .map_err(|e| KafkaSignalError(e.to_string()))?;
        info!(%topic, group, "reading signals from Kafka");
        Ok(KafkaSignals {
            consumer,
            key: prefix.to_string(),
            topic,
        })
    }

    /// The signals that arrived since the last call (never waits).
    pub fn poll(&self) -> Vec<Signal> {
        let mut out = Vec::new();
        for _ in 0..MAX_PER_POLL {
            match self.consumer.poll(Duration::ZERO) {
                None => break,
                Some(Err(e)) => {
                    warn!(topic = %self.topic, error = %e, "reading the signal topic failed");
                    break;
                }
                Some(Ok(m)) => {
                    let key = m.key().map(String::from_utf8_lossy);
                    if key.as_deref() != Some(self.key.as_str()) {
                        info!(key = ?key, expected = %self.key, "signal key doesn't match the connector's name; ignored");
                        continue;
                    }
                    let Some(value) = m.payload().map(String::from_utf8_lossy) else {
                        continue;
                    };
                    match Signal::from_json(&value) {
                        Some(s) => out.push(s),
                        None => {
                            warn!(offset = m.offset(), value = %value, "skipped a signal that is not a JSON object")
                        }
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_debeziums_kafka_signal_value() {
        let s = Signal::from_json(r#"{"id": "k1", "type": "execute-snapshot", "data": {"data-collections": ["public.t"], "type": "INCREMENTAL"}}"#).unwrap();
        assert_eq!(s.id, "k1");
        assert_eq!(s.kind, "execute-snapshot");
        assert!(matches!(
            s.action(),
            Ok(super::super::signal::Action::ExecuteIncremental { ref collections, .. }) if collections == &["public.t"]
        ));
        assert!(Signal::from_json("not json").is_none());
        assert!(Signal::from_json("[1]").is_none());
        assert_eq!(
            Signal::from_json(r#"{"id": "x", "type": "pause-snapshot"}"#)
                .unwrap()
                .data,
            ""
        );
    }
}
