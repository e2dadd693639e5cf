//! Small Kafka helpers for the services (topic creation and discovery).

use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::types::RDKafkaErrorCode;

/// A client config for `bootstrap`.
pub fn client(bootstrap: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", bootstrap);
    c
}

/// Creates `topic` with `partitions` partitions unless it exists. Brokers that do not
/// auto-create topics (Tansu, many production clusters) need this for the DLQ.
pub async fn ensure_topic(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
) -> Result<(), rdkafka::error::KafkaError> {
    let admin: AdminClient<DefaultClientContext> = client(bootstrap).create()?;
    let new = NewTopic::new(topic, partitions, TopicReplication::Fixed(1));
    for result in admin.create_topics([&new], &AdminOptions::new()).await? {
        match result {
            Ok(_) => tracing::info!(topic, "created topic"),
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((t, code)) => {
                tracing::error!(topic = %t, ?code, "cannot create topic");
                return Err(rdkafka::error::KafkaError::AdminOp(code));
            }
        }
    }
    Ok(())
}

/// Number of partitions of `topic`, or 0 when it does not exist (yet).
pub fn partition_count(consumer: &BaseConsumer, topic: &str) -> usize {
    consumer
        .fetch_metadata(Some(topic), Duration::from_secs(5))
        .ok()
        .and_then(|md| {
            md.topics()
                .iter()
                .find(|t| t.name() == topic && t.error().is_none())
                .map(|t| t.partitions().len())
        })
        .unwrap_or(0)
}

/// Blocks until `topic` exists or `timeout` passes; returns whether it exists.
pub fn wait_for_topic(bootstrap: &str, topic: &str, timeout: Duration) -> bool {
    let Ok(consumer) = client(bootstrap).create::<BaseConsumer>() else {
        return false;
    };
    let deadline = Instant::now() + timeout;
    let mut logged = false;
    loop {
        if partition_count(&consumer, topic) > 0 {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        if !logged {
            tracing::info!(topic, "waiting for the topic to be created");
            logged = true;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}
