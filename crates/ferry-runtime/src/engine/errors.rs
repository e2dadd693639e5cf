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
    /// What `task-error-metrics` reports.
    totals: crate::metrics::ErrorTotals,
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
            totals: Default::default(),
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

    /// The totals `task-error-metrics` reports.
    pub fn totals(&self) -> crate::metrics::ErrorTotals {
        crate::metrics::ErrorTotals {
            skipped: self.skipped,
            ..self.totals
        }
    }

    /// Handles a failure: `Ok(())` means skip the record and go on; `Err` fails the task.
    pub async fn handle(
        &mut self,
        failure: RecordFailure,
        original: Option<OriginalRecord<'_>>,
    ) -> Result<(), EngineError> {
        self.totals.errors += 1;
        self.totals.last_error_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        if !self.policy.tolerate_all {
            tracing::error!(stage = %failure.stage, class = %failure.class, record = %failure.record, "{}", failure.message);
            return Err(EngineError::Failed(failure.trace()));
        }
        self.skipped += 1;
        if self.policy.log {
            self.totals.logged += 1;
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
            self.totals.dlq_requests += 1;
            dlq.send(&record).await.map_err(|e| {
                self.totals.dlq_failures += 1;
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

#[cfg(test)]
mod tests {
    use ferry_kafka::memory::MemoryCluster;

    use super::*;

    fn failure() -> RecordFailure {
        RecordFailure {
            stage: Stage::ValueConverter,
            class: "org.apache.kafka.connect.json.JsonConverter".into(),
            message: "Converting byte[] to Kafka Connect data failed due to serialization error".into(),
            record: "topic=in partition=2 offset=40".into(),
        }
    }

    fn original<'a>(headers: &'a [(String, Option<Vec<u8>>)]) -> OriginalRecord<'a> {
        OriginalRecord {
            topic: "in",
            partition: 2,
            offset: 40,
            key: Some(b"k"),
            value: Some(b"{oops"),
            headers,
        }
    }

    fn policy(pairs: &[(&str, &str)]) -> ErrorPolicy {
        ErrorPolicy::from_config(&ferry_core::config::config_map(pairs))
    }

    #[tokio::test]
    async fn tolerance_none_fails_with_connects_trace_and_counts_nothing() {
        let mut h = ErrorHandler::new(policy(&[]), "c", 1, None);
        let err = h.handle(failure(), None).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "org.apache.kafka.connect.errors.ConnectException: Tolerance exceeded in error handler\n\
             Caused by: Error in stage VALUE_CONVERTER (org.apache.kafka.connect.json.JsonConverter) for record \
             topic=in partition=2 offset=40: Converting byte[] to Kafka Connect data failed due to serialization error"
        );
        assert_eq!(h.skipped(), 0);
    }

    #[tokio::test]
    async fn without_context_headers_the_dead_letter_is_the_original_record() {
        let cluster = MemoryCluster::new();
        let p = policy(&[
            ("errors.tolerance", "all"),
            ("errors.deadletterqueue.topic.name", "dlq"),
        ]);
        let mut h = ErrorHandler::new(p, "c", 1, Some(Box::new(cluster.clone())));
        let headers = vec![("h".to_string(), Some(b"v".to_vec()))];
        h.handle(failure(), Some(original(&headers))).await.unwrap();
        h.handle(failure(), None).await.unwrap();
        assert_eq!(h.skipped(), 2);
        let dlq = cluster.records("dlq");
        assert_eq!(
            dlq.len(),
            1,
            "only records with their original bytes go to the queue"
        );
        assert_eq!(dlq[0].key.as_deref(), Some(&b"k"[..]));
        assert_eq!(dlq[0].value.as_deref(), Some(&b"{oops"[..]));
        assert_eq!(dlq[0].headers, headers);
    }

    #[tokio::test]
    async fn a_dead_letter_queue_write_failure_fails_the_task_naming_the_topic() {
        let cluster = MemoryCluster::new();
        cluster.fail_writes("dlq", Some("Broker: Topic authorization failed"));
        let p = policy(&[
            ("errors.tolerance", "all"),
            ("errors.deadletterqueue.topic.name", "dlq"),
            ("errors.deadletterqueue.context.headers.enable", "true"),
        ]);
        let mut h = ErrorHandler::new(p, "c", 1, Some(Box::new(cluster.clone())));
        let err = h.handle(failure(), Some(original(&[]))).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "org.apache.kafka.connect.errors.ConnectException: could not write to the dead letter queue topic dlq\n\
             Caused by: Broker: Topic authorization failed"
        );
    }
}
