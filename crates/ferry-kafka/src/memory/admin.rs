//! Topic administration, the dead letter queue and the client factory of the
//! in-memory cluster.

use async_trait::async_trait;

use super::consumer::MemoryConsumer;
use super::producer::{new_record, MemoryProducer};
use super::MemoryCluster;
use crate::admin::{TopicAdmin, TopicSpec};
use crate::clients::ClientFactory;
use crate::dlq::DeadLetterQueue;
use crate::producer::{AckReceiver, OutgoingRecord, ProduceError};
use crate::{ClientSettings, KafkaStoreError};

impl MemoryCluster {
    /// Makes every later admin request fail with `error` (`None` heals it).
    pub fn fail_admin(&self, error: Option<&str>) {
        self.lock().failing_admin = error.map(str::to_owned);
    }

    /// Settings of the clients made for `role` (`producer`, `consumer`, `dlq`), oldest first.
    pub fn client_settings(&self, role: &str) -> Vec<ClientSettings> {
        self.lock()
            .clients
            .iter()
            .filter(|(r, _)| *r == role)
            .map(|(_, s)| s.clone())
            .collect()
    }

    fn admin_check(&self) -> Result<(), KafkaStoreError> {
        match &self.lock().failing_admin {
            Some(e) => Err(KafkaStoreError::Other(e.clone())),
            None => Ok(()),
        }
    }
}

#[async_trait]
impl DeadLetterQueue for MemoryCluster {
    async fn send(&self, record: &OutgoingRecord<'_>) -> Result<(), ProduceError> {
        self.before_write(record.topic).await.map_err(ProduceError)?;
        self.append(record.topic, new_record(record));
        Ok(())
    }
}

#[async_trait]
impl TopicAdmin for MemoryCluster {
    async fn partition_count(&self, topic: &str) -> Result<Option<usize>, KafkaStoreError> {
        self.admin_check()?;
        Ok(self.lock().topics.get(topic).map(|t| t.partitions.len()))
    }

    async fn cluster_id(&self) -> Option<String> {
        self.lock().cluster_id.clone()
    }

    async fn create(&self, spec: &TopicSpec) -> Result<bool, KafkaStoreError> {
        self.admin_check()?;
        // The broker's default is one partition.
        Ok(self.create_topic_with(
            &spec.name,
            spec.partitions.unwrap_or(1),
            spec.replication_factor,
            spec.configs.clone(),
        ))
    }

    async fn cleanup_policy(&self, topic: &str) -> Result<Option<String>, KafkaStoreError> {
        self.admin_check()?;
        let state = self.lock();
        let configs = state
            .topics
            .get(topic)
            .map(|t| t.configs.as_slice())
            .unwrap_or_default();
        // Brokers report their default, `delete`, for a topic created without one.
        Ok(Some(
            configs
                .iter()
                .find(|(k, _)| k == "cleanup.policy")
                .map_or_else(|| "delete".to_owned(), |(_, v)| v.clone()),
        ))
    }

    async fn delete_group(&self, group: &str) -> Result<(), KafkaStoreError> {
        self.admin_check()?;
        self.lock().groups.remove(group);
        Ok(())
    }

    async fn alter_configs(&self, topic: &str, configs: &[(&str, &str)]) -> Result<(), KafkaStoreError> {
        self.admin_check()?;
        for (k, v) in configs {
            self.set_topic_config(topic, k, v);
        }
        Ok(())
    }
}

impl ClientFactory for MemoryCluster {
    type Producer = MemoryProducer;
    type Consumer = MemoryConsumer;

    fn producer(&self, settings: &ClientSettings) -> Result<(MemoryProducer, AckReceiver), KafkaStoreError> {
        self.lock().clients.push(("producer", settings.clone()));
        Ok(MemoryProducer::new(self))
    }

    fn sink_consumer(&self, settings: &ClientSettings) -> Result<MemoryConsumer, KafkaStoreError> {
        self.lock().clients.push(("consumer", settings.clone()));
        Ok(MemoryConsumer::new(
            self,
            settings.get("group.id").unwrap_or_default(),
        ))
    }

    fn dead_letter_queue(
        &self,
        settings: &ClientSettings,
    ) -> Result<Box<dyn DeadLetterQueue>, KafkaStoreError> {
        self.lock().clients.push(("dlq", settings.clone()));
        Ok(Box::new(self.clone()))
    }
}
