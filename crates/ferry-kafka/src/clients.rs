//! Making the Kafka clients of one task: [`ClientFactory`], with [`KafkaClients`] for
//! a real cluster and `memory::MemoryCluster` (feature `memory`) for tests.

use crate::consumer::{KafkaSinkConsumer, SinkConsumer};
use crate::dlq::{DeadLetterQueue, KafkaDeadLetterQueue};
use crate::producer::{AckReceiver, DataProducer, RecordProducer, WarmProducers};
use crate::{ClientSettings, KafkaStoreError};

/// Creates the clients a task needs from its client settings.
pub trait ClientFactory: Send + Sync {
    /// The source-task producer.
    type Producer: RecordProducer;
    /// The sink-task consumer.
    type Consumer: SinkConsumer;

    /// A producer and the stream of its acknowledgements.
    fn producer(&self, settings: &ClientSettings) -> Result<(Self::Producer, AckReceiver), KafkaStoreError>;

    /// A consumer in the group the settings name (`group.id`), not yet subscribed.
    fn sink_consumer(&self, settings: &ClientSettings) -> Result<Self::Consumer, KafkaStoreError>;

    /// A producer for dead letter queue records.
    fn dead_letter_queue(
        &self,
        settings: &ClientSettings,
    ) -> Result<Box<dyn DeadLetterQueue>, KafkaStoreError>;
}

/// librdkafka clients; source producers come from a pool that keeps one warm.
#[derive(Default)]
pub struct KafkaClients {
    producers: WarmProducers,
}

impl KafkaClients {
    /// Creates a spare producer for `settings` ahead of the first task that needs one.
    pub fn prepare_producer(&self, settings: &ClientSettings) -> Result<(), KafkaStoreError> {
        self.producers.prepare(settings)
    }
}

impl ClientFactory for KafkaClients {
    type Producer = DataProducer;
    type Consumer = KafkaSinkConsumer;

    fn producer(&self, settings: &ClientSettings) -> Result<(DataProducer, AckReceiver), KafkaStoreError> {
        let (producer, warm) = self.producers.take(settings)?;
        tracing::debug!(warm, "producer ready");
        Ok(producer)
    }

    fn sink_consumer(&self, settings: &ClientSettings) -> Result<KafkaSinkConsumer, KafkaStoreError> {
        KafkaSinkConsumer::new(settings)
    }

    fn dead_letter_queue(
        &self,
        settings: &ClientSettings,
    ) -> Result<Box<dyn DeadLetterQueue>, KafkaStoreError> {
        Ok(Box::new(KafkaDeadLetterQueue::new(settings)?))
    }
}
