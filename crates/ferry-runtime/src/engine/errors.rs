//! Record-level error handling: `errors.tolerance`, error logging, and the sink dead letter queue.

use std::fmt;

use ferry_kafka::{DeadLetterQueue, OutgoingRecord};

use crate::connector_config::ErrorPolicy;
use crate::engine::EngineError;

/// Where in the pipeline a record failed (Connect's `Stage`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// The source task's `poll`.
    TaskPoll,
    /// The sink task's `put`.
    TaskPut,
    /// A transformation or predicate.
    Transformation,
    /// The key converter.
    KeyConverter,
    /// The value converter.
    ValueConverter,
    /// The header converter.
    HeaderConverter,
    /// Producing to Kafka.
    KafkaProduce,
    /// Consuming from Kafka.
    KafkaConsume,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::TaskPoll => "TASK_POLL",
            Stage::TaskPut => "TASK_PUT",
            Stage::Transformation => "TRANSFORMATION",
            Stage::KeyConverter => "KEY_CONVERTER",
            Stage::ValueConverter => "VALUE_CONVERTER",
            Stage::HeaderConverter => "HEADER_CONVERTER",
            Stage::KafkaProduce => "KAFKA_PRODUCE",
            Stage::KafkaConsume => "KAFKA_CONSUME",
        })
    }
}

/// One failed record: where, in which plugin, and why.
#[derive(Debug, Clone)]
pub struct RecordFailure {
    /// Stage.
    pub stage: Stage,
    /// The plugin class that failed.
    pub class: String,
    /// The error text (with causes).
    pub message: String,
    /// `topic/partition/offset` (sink) or the source partition and offset.
    pub record: String,
}

impl RecordFailure {
    /// The FAILED task trace for this failure under errors.tolerance=none.
    pub fn trace(&self) -> String {
        format!(
            "org.apache.kafka.connect.errors.ConnectException: Tolerance exceeded in error handler\n\
             Caused by: Error in stage {} ({}) for record {}: {}",
            self.stage, self.class, self.record, self.message
        )
    }
}

/// Applies a connector's error policy to failed records.
pub struct ErrorHandler {
    policy: ErrorPolicy,
    connector: String,
    task: u32,
    skipped: u64,
    dlq: Option<Box<dyn DeadLetterQueue>>,
}

/// A consumed record's original bytes, for the dead letter queue.
pub struct OriginalRecord<'a> {
    /// Topic it was read from.
    pub topic: &'a str,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// Key bytes.
    pub key: Option<&'a [u8]>,
    /// Value bytes.
    pub value: Option<&'a [u8]>,
    /// Headers.
    pub headers: &'a [(String, Option<Vec<u8>>)],
}

impl ErrorHandler {
    /// A handler for one task; `dlq` is a producer when the connector has a DLQ topic.
    pub fn new(
        policy: ErrorPolicy,
        connector: &str,
        task: u32,
        dlq: Option<Box<dyn DeadLetterQueue>>,
    ) -> Self {
        ErrorHandler {
            policy,
            connector: connector.to_owned(),
            task,
            skipped: 0,
            dlq,
        }
    }

    /// The policy.
    pub fn policy(&self) -> &ErrorPolicy {
        &self.policy
    }

    /// Records skipped so far under errors.tolerance=all.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// Handles a failure: `Ok(())` means skip the record and go on; `Err` fails the task.
    pub async fn handle(
        &mut self,
        failure: RecordFailure,
        original: Option<OriginalRecord<'_>>,
    ) -> Result<(), EngineError> {
        if !self.policy.tolerate_all {
            tracing::error!(stage = %failure.stage, class = %failure.class, record = %failure.record, "{}", failure.message);
            return Err(EngineError::Failed(failure.trace()));
        }
        self.skipped += 1;
        if self.policy.log {
            tracing::error!(
                stage = %failure.stage,
                class = %failure.class,
                record = %failure.record,
                skipped = self.skipped,
                "record skipped under errors.tolerance=all: {}",
                failure.message
            );
        } else {
            tracing::debug!(record = %failure.record, "record skipped: {}", failure.message);
        }
        if let (Some(dlq), Some(topic), Some(orig)) = (&self.dlq, &self.policy.dlq_topic, original) {
            let mut headers = orig.headers.to_vec();
            if self.policy.dlq_context_headers {
                headers.extend(
                    context_headers(&failure, &orig, &self.connector, self.task)
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), Some(v.into_bytes()))),
                );
            }
            let record = OutgoingRecord {
                topic,
                partition: None,
                key: orig.key,
                value: orig.value,
                timestamp: None,
                headers: &headers,
            };
            dlq.send(&record).await.map_err(|e| {
                EngineError::Failed(format!(
                    "org.apache.kafka.connect.errors.ConnectException: could not write to the dead letter queue topic {topic}\nCaused by: {e}"
                ))
            })?;
        }
        Ok(())
    }
}

/// The `__connect.errors.*` headers Connect adds to a dead letter queue record.
fn context_headers(
    failure: &RecordFailure,
    orig: &OriginalRecord<'_>,
    connector: &str,
    task: u32,
) -> [(&'static str, String); 10] {
    [
        ("__connect.errors.topic", orig.topic.to_owned()),
        ("__connect.errors.partition", orig.partition.to_string()),
        ("__connect.errors.offset", orig.offset.to_string()),
        ("__connect.errors.connector.name", connector.to_owned()),
        ("__connect.errors.task.id", task.to_string()),
        ("__connect.errors.stage", failure.stage.to_string()),
        ("__connect.errors.class.name", failure.class.clone()),
        (
            "__connect.errors.exception.class.name",
            "org.apache.kafka.connect.errors.DataException".to_owned(),
        ),
        ("__connect.errors.exception.message", failure.message.clone()),
        ("__connect.errors.exception.stacktrace", failure.message.clone()),
    ]
}
