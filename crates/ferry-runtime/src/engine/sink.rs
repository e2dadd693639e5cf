//! The sink task engine: consume (group `connect-NAME`) → convert → transform →
//! `put`, and commit consumer offsets only after the task flushed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferry_core::{
    error_trace, Headers, Position, Record, SinkTask, SinkTaskContext, TimestampType, TopicPartition,
};
use ferry_kafka::rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use ferry_kafka::rdkafka::message::{BorrowedMessage, Headers as _, Message};
use ferry_kafka::rdkafka::producer::FutureProducer;
use ferry_kafka::rdkafka::{Offset, TopicPartitionList};
use ferry_kafka::records::State;
use ferry_kafka::TopicSpec;
use ferry_transforms::TransformChain;
use tracing::Instrument;

use super::convert::Converters;
use super::errors::{ErrorHandler, OriginalRecord, RecordFailure, Stage};
use super::{EngineError, TaskEnv};
use crate::connector_config::ErrorPolicy;

/// Largest batch handed to `put`.
const MAX_BATCH: usize = 500;

/// Runs a sink task until it is cancelled or fails; writes its status as it goes.
pub async fn run(env: TaskEnv, task: Box<dyn SinkTask>) {
    let span = tracing::info_span!("task", connector = %env.connector, task = env.task);
    async move {
        let started = super::catch_panic(SinkEngine::start(&env, task)).await;
        super::drive(&env, started).await;
    }
    .instrument(span)
    .await
}

struct SinkEngine {
    task: Box<dyn SinkTask>,
    consumer: BaseConsumer,
    converters: Converters,
    chain: TransformChain,
    errors: ErrorHandler,
    /// Next offset to read per partition, for what was put so far.
    consumed: HashMap<TopicPartition, i64>,
    committed: HashMap<TopicPartition, i64>,
    last_flush: Instant,
    flush_interval: Duration,
    topic_names: HashMap<String, Arc<str>>,
    /// The consumer problem currently shown in the task status, if any.
    trouble: Option<String>,
}

impl SinkEngine {
    async fn start(env: &TaskEnv, mut task: Box<dyn SinkTask>) -> Result<SinkEngine, EngineError> {
        let w = &env.worker;
        let converters = Converters::for_connector(&w.registry, &w.config, &env.connector_config)?;
        let chain = TransformChain::from_config(&env.connector_config, &w.registry)
            .map_err(|e| EngineError::Config(e.to_string()))?;
        let policy = ErrorPolicy::from_config(&env.connector_config);
        let dlq = match &policy.dlq_topic {
            Some(topic) if policy.tolerate_all => {
                let mut spec = TopicSpec::with_broker_defaults(topic.clone());
                spec.partitions = Some(1);
                spec.replication_factor = Some(policy.dlq_replication_factor).filter(|r| *r > 0);
                if w.admin.partition_count(topic).await?.is_none() {
                    w.admin.create(&spec).await?;
                }
                let cfg = w.client_config("producer", &env.connector_config)?;
                let producer: FutureProducer = cfg
                    .create()
                    .map_err(|e| EngineError::Kafka(ferry_kafka::KafkaStoreError::Kafka(e)))?;
                Some(producer)
            }
            _ => None,
        };
        let errors = ErrorHandler::new(policy, &env.connector, env.task, dlq);
        let mut cfg = w.client_config("consumer", &env.connector_config)?;
        cfg.set("group.id", format!("connect-{}", env.connector))
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false");
        if cfg.get("auto.offset.reset").is_none() {
            cfg.set("auto.offset.reset", "earliest");
        }
        let consumer: BaseConsumer = cfg
            .create()
            .map_err(|e| EngineError::Kafka(ferry_kafka::KafkaStoreError::Kafka(e)))?;
        let topics: Vec<String> = env
            .connector_config
            .get("topics")
            .map(|t| {
                t.split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let subscription: Vec<String> = if topics.is_empty() {
            let regex = env
                .connector_config
                .get("topics.regex")
                .cloned()
                .unwrap_or_default();
            vec![if regex.starts_with('^') {
                regex
            } else {
                format!("^{regex}")
            }]
        } else {
            topics
        };
        let refs: Vec<&str> = subscription.iter().map(String::as_str).collect();
        consumer
            .subscribe(&refs)
            .map_err(|e| EngineError::Kafka(ferry_kafka::KafkaStoreError::Kafka(e)))?;
        let ctx = SinkTaskContext {
            connector: env.connector.clone(),
            task: env.task,
            shutdown: env.cancel.child_token(),
        };
        task.start(&env.task_config, ctx).await.map_err(|e| {
            EngineError::Failed(format!(
                "The sink task could not start\nCaused by: {}",
                error_trace(&e)
            ))
        })?;
        env.set_state(State::Running, None).await;
        tracing::info!(topics = ?subscription, "sink task started");
        Ok(SinkEngine {
            task,
            consumer,
            converters,
            chain,
            errors,
            consumed: HashMap::new(),
            committed: HashMap::new(),
            last_flush: Instant::now(),
            flush_interval: Duration::from_millis(w.config.offset_flush_interval_ms),
            topic_names: HashMap::new(),
            trouble: None,
        })
    }

    async fn run_loop_impl(&mut self, env: &TaskEnv) -> Result<(), EngineError> {
        let mut paused_now = false;
        loop {
            if env.cancel.is_cancelled() {
                return Ok(());
            }
            let want_paused = *env.paused.borrow();
            if want_paused != paused_now {
                let assignment = self.consumer.assignment().unwrap_or_default();
                let r = if want_paused {
                    self.consumer.pause(&assignment)
                } else {
                    self.consumer.resume(&assignment)
                };
                if let Err(e) = r {
                    tracing::warn!("could not pause/resume partitions: {e}");
                }
                paused_now = want_paused;
                env.set_state(
                    if want_paused {
                        State::Paused
                    } else {
                        State::Running
                    },
                    None,
                )
                .await;
            }
            let batch = self.poll_batch(env).await?;
            if !batch.is_empty() {
                self.put(batch).await?;
            }
            if self.last_flush.elapsed() >= self.flush_interval {
                self.flush_and_commit().await?;
            }
        }
    }

    /// Reads up to [`MAX_BATCH`] messages (waiting at most ~500 ms) and converts them.
    async fn poll_batch(&mut self, env: &TaskEnv) -> Result<Vec<Record>, EngineError> {
        let mut out = Vec::new();
        let deadline = Instant::now() + Duration::from_millis(500);
        while out.len() < MAX_BATCH {
            let wait = deadline.saturating_duration_since(Instant::now());
            if wait.is_zero() && !out.is_empty() {
                break;
            }
            let polled =
                tokio::task::block_in_place(|| self.consumer.poll(wait.max(Duration::from_millis(1))));
            let Some(msg) = polled else { break };
            let msg = match msg {
                Ok(m) => m,
                Err(e) => {
                    let text = format!("Kafka consumer error, retrying: {e}");
                    if self.trouble.as_deref() != Some(text.as_str()) {
                        tracing::warn!("{text}");
                        self.trouble = Some(text.clone());
                        if !*env.paused.borrow() {
                            env.set_state(State::Running, Some(text)).await;
                        }
                    }
                    break;
                }
            };
            if self.trouble.take().is_some() {
                tracing::info!("recovered");
                if !*env.paused.borrow() {
                    env.set_state(State::Running, None).await;
                }
            }
            let tp = TopicPartition {
                topic: msg.topic().to_owned(),
                partition: msg.partition(),
            };
            if env.worker.config.topic_tracking_enable && !self.topic_names.contains_key(msg.topic()) {
                env.worker
                    .status
                    .record_topic(&env.connector, env.task, msg.topic())
                    .await;
            }
            let next = msg.offset() + 1;
            let converted = convert_message(&msg, &self.converters, &mut self.chain, &mut self.topic_names);
            match converted {
                Ok(Some(rec)) => out.push(rec),
                Ok(None) => {}
                Err((stage, class, message)) => {
                    let orig = original(&msg);
                    let failure = RecordFailure {
                        stage,
                        class,
                        message,
                        record: format!(
                            "topic={} partition={} offset={}",
                            msg.topic(),
                            msg.partition(),
                            msg.offset()
                        ),
                    };
                    self.errors.handle(failure, Some(orig)).await?;
                }
            }
            self.consumed.insert(tp, next);
            if env.cancel.is_cancelled() {
                break;
            }
        }
        Ok(out)
    }

    async fn put(&mut self, batch: Vec<Record>) -> Result<(), EngineError> {
        let mut delay = Duration::from_millis(100);
        loop {
            match self.task.put(&batch).await {
                Ok(()) => return Ok(()),
                Err(e) if e.is_retriable() => {
                    tracing::warn!("put failed, redelivering in {delay:?}: {}", error_trace(&e));
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(10));
                }
                Err(e) => {
                    return Err(EngineError::Failed(format!(
                        "org.apache.kafka.connect.errors.ConnectException: Exiting WorkerSinkTask due to unrecoverable exception.\nCaused by: {}",
                        error_trace(&e)
                    )))
                }
            }
        }
    }

    async fn flush_and_commit(&mut self) -> Result<(), EngineError> {
        self.last_flush = Instant::now();
        let pending: HashMap<TopicPartition, i64> = self
            .consumed
            .iter()
            .filter(|(tp, off)| self.committed.get(*tp) != Some(off))
            .map(|(tp, off)| (tp.clone(), *off))
            .collect();
        if pending.is_empty() {
            return Ok(());
        }
        if let Err(e) = self.task.flush(&pending).await {
            tracing::error!("flush failed; offsets not committed: {}", error_trace(&e));
            return Ok(());
        }
        let mut tpl = TopicPartitionList::new();
        for (tp, off) in &pending {
            tpl.add_partition_offset(&tp.topic, tp.partition, Offset::Offset(*off))
                .map_err(|e| EngineError::Kafka(ferry_kafka::KafkaStoreError::Kafka(e)))?;
        }
        match tokio::task::block_in_place(|| self.consumer.commit(&tpl, CommitMode::Sync)) {
            Ok(()) => {
                self.committed.extend(pending);
            }
            Err(e) => tracing::error!("committing consumer offsets failed: {e}"),
        }
        Ok(())
    }

    async fn shutdown_impl(&mut self, failed: bool) {
        if !failed {
            if let Err(e) = self.flush_and_commit().await {
                tracing::warn!("final commit failed: {e}");
            }
        }
        if let Err(e) = self.task.stop().await {
            tracing::warn!("task stop failed: {}", error_trace(&e));
        }
        tracing::info!(skipped = self.errors.skipped(), "sink task stopped");
    }
}

type ConvertError = (Stage, String, String);

fn convert_message(
    msg: &BorrowedMessage<'_>,
    converters: &Converters,
    chain: &mut TransformChain,
    topic_names: &mut HashMap<String, Arc<str>>,
) -> Result<Option<Record>, ConvertError> {
    let topic = msg.topic();
    let topic_arc = topic_names
        .entry(topic.to_owned())
        .or_insert_with(|| Arc::from(topic))
        .clone();
    let key = converters
        .key
        .to_connect(topic, msg.key())
        .map_err(|e| (Stage::KeyConverter, converters.classes[0].clone(), e.to_string()))?;
    let value = converters.value.to_connect(topic, msg.payload()).map_err(|e| {
        (
            Stage::ValueConverter,
            converters.classes[1].clone(),
            e.to_string(),
        )
    })?;
    let mut headers = Headers::new();
    if let Some(hs) = msg.headers() {
        for h in hs.iter() {
            let v = converters
                .header
                .to_connect_header(topic, h.key, h.value)
                .map_err(|e| {
                    (
                        Stage::HeaderConverter,
                        "header.converter".to_owned(),
                        e.to_string(),
                    )
                })?;
            headers.add(h.key, v.schema, v.value);
        }
    }
    let (timestamp, timestamp_type) = match msg.timestamp() {
        ferry_kafka::rdkafka::Timestamp::NotAvailable => (None, TimestampType::NoTimestampType),
        ferry_kafka::rdkafka::Timestamp::CreateTime(t) => (Some(t), TimestampType::CreateTime),
        ferry_kafka::rdkafka::Timestamp::LogAppendTime(t) => (Some(t), TimestampType::LogAppendTime),
    };
    let record = Record {
        topic: topic_arc.clone(),
        kafka_partition: Some(msg.partition()),
        key_schema: key.schema,
        key: key.value,
        value_schema: value.schema,
        value: value.value,
        timestamp,
        headers,
        position: Position::Sink {
            kafka_offset: msg.offset(),
            timestamp_type,
            original_topic: topic_arc,
            original_partition: msg.partition(),
        },
    };
    chain
        .apply(record)
        .map_err(|e| (Stage::Transformation, e.class.clone(), error_trace(&e)))
}

fn original<'a>(msg: &'a BorrowedMessage<'a>) -> OriginalRecord<'a> {
    let headers = msg
        .headers()
        .map(|hs| {
            hs.iter()
                .map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec)))
                .collect()
        })
        .unwrap_or_default();
    OriginalRecord {
        topic: msg.topic(),
        partition: msg.partition(),
        offset: msg.offset(),
        key: msg.key(),
        value: msg.payload(),
        headers,
    }
}

#[async_trait::async_trait]
impl super::TaskLoop for SinkEngine {
    async fn run_loop(&mut self, env: &TaskEnv) -> Result<(), EngineError> {
        self.run_loop_impl(env).await
    }
    async fn shutdown(&mut self, _env: &TaskEnv, failed: bool) {
        self.shutdown_impl(failed).await
    }
}
