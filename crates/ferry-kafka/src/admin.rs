//! Topic administration: internal topics and connector destination topics.
//!
//! [`TopicAdmin`] is what the worker and the engines need; [`KafkaAdmin`] implements
//! it with librdkafka's admin client, `memory::MemoryCluster` (feature `memory`) in memory.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rdkafka::admin::{AdminClient, AdminOptions, AlterConfig, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::RDKafkaErrorCode;

use crate::{ClientSettings, KafkaStoreError};

/// How a topic should be created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicSpec {
    /// Topic name.
    pub name: String,
    /// Partitions; `None` for the broker's default.
    pub partitions: Option<i32>,
    /// Replication factor; `None` for the broker's default.
    pub replication_factor: Option<i32>,
    /// Topic configs (cleanup.policy, retention.ms, ...).
    pub configs: Vec<(String, String)>,
}

impl TopicSpec {
    /// A topic with the broker's defaults.
    pub fn with_broker_defaults(name: impl Into<String>) -> Self {
        TopicSpec {
            name: name.into(),
            partitions: None,
            replication_factor: None,
            configs: Vec::new(),
        }
    }
    /// A compacted topic, as Connect's internal topics are.
    pub fn compacted(name: impl Into<String>, partitions: i32, replication_factor: Option<i32>) -> Self {
        TopicSpec {
            name: name.into(),
            partitions: Some(partitions),
            replication_factor,
            configs: vec![("cleanup.policy".into(), "compact".into())],
        }
    }
}

/// Creates and inspects topics and consumer groups.
#[async_trait]
pub trait TopicAdmin: Send + Sync {
    /// Partition count of a topic, or `None` when it does not exist.
    async fn partition_count(&self, topic: &str) -> Result<Option<usize>, KafkaStoreError>;

    /// The Kafka cluster id, when the broker reports one.
    async fn cluster_id(&self) -> Option<String>;

    /// Creates a topic; returns false when it already existed.
    async fn create(&self, spec: &TopicSpec) -> Result<bool, KafkaStoreError>;

    /// The topic's `cleanup.policy` as the broker reports it; `None` when the broker
    /// does not say (brokers that return no defaults from DescribeConfigs).
    async fn cleanup_policy(&self, topic: &str) -> Result<Option<String>, KafkaStoreError>;

    /// Deletes a consumer group (and its committed offsets); a group that does not exist is fine.
    async fn delete_group(&self, group: &str) -> Result<(), KafkaStoreError>;

    /// Alters topic configs (used by tests and tools).
    async fn alter_configs(&self, topic: &str, configs: &[(&str, &str)]) -> Result<(), KafkaStoreError>;

    /// Makes sure a compacted internal topic exists, as Kafka Connect does on start:
    /// creates it when missing, and refuses a topic whose cleanup.policy is not only `compact`.
    async fn ensure_internal_topic(
        &self,
        spec: &TopicSpec,
        config_key: &str,
        purpose: &str,
    ) -> Result<(), KafkaStoreError> {
        if self.partition_count(&spec.name).await?.is_none() && self.create(spec).await? {
            tracing::info!(topic = %spec.name, partitions = ?spec.partitions, "created {purpose} topic");
            return Ok(());
        }
        match self.cleanup_policy(&spec.name).await? {
            Some(policy) => {
                let parts: Vec<&str> = policy.split(',').map(str::trim).collect();
                if parts != ["compact"] {
                    return Err(KafkaStoreError::NotCompacted {
                        topic: spec.name.clone(),
                        config_key: config_key.to_owned(),
                        purpose: purpose.to_owned(),
                        policy,
                    });
                }
            }
            None => tracing::debug!(
                topic = %spec.name,
                "the broker did not report cleanup.policy; assuming the {purpose} topic is compacted"
            ),
        }
        Ok(())
    }
}

/// [`TopicAdmin`] over librdkafka's admin client.
pub struct KafkaAdmin {
    client: Arc<AdminClient<DefaultClientContext>>,
    timeout: Duration,
}

impl KafkaAdmin {
    /// An admin client from client settings.
    pub fn new(config: &ClientSettings) -> Result<Self, KafkaStoreError> {
        Ok(KafkaAdmin {
            client: Arc::new(config.rdkafka().create()?),
            timeout: Duration::from_secs(30),
        })
    }

    fn opts(&self) -> AdminOptions {
        AdminOptions::new().operation_timeout(Some(self.timeout))
    }
}

#[async_trait]
impl TopicAdmin for KafkaAdmin {
    async fn partition_count(&self, topic: &str) -> Result<Option<usize>, KafkaStoreError> {
        // Metadata requests block: run them on a blocking thread.
        let client = self.client.clone();
        let name = topic.to_owned();
        let timeout = self.timeout;
        let md = tokio::task::spawn_blocking(move || client.inner().fetch_metadata(Some(&name), timeout))
            .await
            .map_err(|e| KafkaStoreError::Other(format!("metadata request for {topic} failed: {e}")))??;
        Ok(md
            .topics()
            .iter()
            .find(|t| t.name() == topic)
            .filter(|t| t.error().is_none() && !t.partitions().is_empty())
            .map(|t| t.partitions().len()))
    }

    async fn cluster_id(&self) -> Option<String> {
        let client = self.client.clone();
        let timeout = self.timeout;
        tokio::task::spawn_blocking(move || client.inner().fetch_cluster_id(timeout))
            .await
            .ok()
            .flatten()
    }

    async fn create(&self, spec: &TopicSpec) -> Result<bool, KafkaStoreError> {
        let replication = TopicReplication::Fixed(spec.replication_factor.unwrap_or(-1));
        let mut topic = NewTopic::new(&spec.name, spec.partitions.unwrap_or(-1), replication);
        for (k, v) in &spec.configs {
            topic = topic.set(k, v);
        }
        let results = self.client.create_topics([&topic], &self.opts()).await?;
        match results.into_iter().next() {
            Some(Err((_, RDKafkaErrorCode::TopicAlreadyExists))) => Ok(false),
            Some(Err((name, code))) => Err(KafkaStoreError::Other(format!(
                "could not create topic {name}: {code}"
            ))),
            Some(Ok(_)) | None => Ok(true),
        }
    }

    async fn cleanup_policy(&self, topic: &str) -> Result<Option<String>, KafkaStoreError> {
        let results = self
            .client
            .describe_configs([&ResourceSpecifier::Topic(topic)], &self.opts())
            .await?;
        for r in results {
            let resource =
                r.map_err(|code| KafkaStoreError::Other(format!("describe topic {topic}: {code}")))?;
            if let Some(entry) = resource.get("cleanup.policy") {
                return Ok(entry.value.clone());
            }
        }
        Ok(None)
    }

    async fn delete_group(&self, group: &str) -> Result<(), KafkaStoreError> {
        let results = self.client.delete_groups(&[group], &self.opts()).await?;
        for r in results {
            match r {
                Ok(_) | Err((_, RDKafkaErrorCode::GroupIdNotFound)) => {}
                Err((g, code)) => {
                    return Err(KafkaStoreError::Other(format!(
                        "could not delete consumer group {g}: {code}"
                    )))
                }
            }
        }
        Ok(())
    }

    async fn alter_configs(&self, topic: &str, configs: &[(&str, &str)]) -> Result<(), KafkaStoreError> {
        let mut alter = AlterConfig::new(ResourceSpecifier::Topic(topic));
        for (k, v) in configs {
            alter = alter.set(k, v);
        }
        self.client.alter_configs([&alter], &self.opts()).await?;
        Ok(())
    }
}
