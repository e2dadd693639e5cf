//! Record-level error handling: `errors.tolerance`, error logging, and the sink dead letter queue.

use std::fmt;

use ferry_kafka::rdkafka::message::{Header as KHeader, OwnedHeaders};
use ferry_kafka::rdkafka::producer::{FutureProducer, FutureRecord};

use crate::connector_config::ErrorPolicy;
use crate::engine::EngineError;

/// Where in the pipeline a record failed (Connect's `Stage`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    TaskPoll,
    TaskPut,
    Transformation,
    KeyConverter,
    ValueConverter,
    HeaderConverter,
    KafkaProduce,
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
    dlq: Option<FutureProducer>,
}

/// A consumed record's original bytes, for the dead letter queue.
pub struct OriginalRecord<'a> {
    pub topic: &'a str,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

impl ErrorHandler {
    /// A handler for one task; `dlq` is a producer when the connector has a DLQ topic.
    pub fn new(policy: ErrorPolicy, connector: &str, task: u32, dlq: Option<FutureProducer>) -> Self {
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
            let mut headers = OwnedHeaders::new();
            for (k, v) in &orig.headers {
                headers = headers.insert(KHeader {
                    key: k,
                    value: v.as_deref(),
                });
            }
            if self.policy.dlq_context_headers {
                let partition = orig.partition.to_string();
                let offset = orig.offset.to_string();
                let task = self.task.to_string();
                let stage = failure.stage.to_string();
                let exception = "org.apache.kafka.connect.errors.DataException";
                let context = [
                    ("__connect.errors.topic", orig.topic),
                    ("__connect.errors.partition", partition.as_str()),
                    ("__connect.errors.offset", offset.as_str()),
                    ("__connect.errors.connector.name", self.connector.as_str()),
                    ("__connect.errors.task.id", task.as_str()),
                    ("__connect.errors.stage", stage.as_str()),
                    ("__connect.errors.class.name", failure.class.as_str()),
                    ("__connect.errors.exception.class.name", exception),
                    ("__connect.errors.exception.message", failure.message.as_str()),
                    ("__connect.errors.exception.stacktrace", failure.message.as_str()),
                ];
                for (k, v) in context {
                    headers = headers.insert(KHeader {
                        key: k,
                        value: Some(v.as_bytes()),
                    });
                }
            }
            let mut rec: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(topic).headers(headers);
            if let Some(k) = orig.key {
                rec = rec.key(k);
            }
            if let Some(v) = orig.value {
                rec = rec.payload(v);
            }
            dlq.send(rec, std::time::Duration::from_secs(30))
                .await
                .map_err(|(e, _)| {
                    EngineError::Failed(format!(
                        "org.apache.kafka.connect.errors.ConnectException: could not write to the dead letter queue topic {topic}\nCaused by: {e}"
                    ))
                })?;
        }
        Ok(())
    }
}
