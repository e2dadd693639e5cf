//! The sink task engine: consume (group `connect-NAME`) → convert → transform →
//! `put`, and commit consumer offsets only after the task flushed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferry_core::{
    error_trace, Headers, Position, Record, SinkTask, SinkTaskContext, TimestampType, TopicPartition,
};
use ferry_kafka::records::State;
use ferry_kafka::{ClientFactory, ConsumedRecord, KafkaTimestamp, SinkConsumer, TopicSpec};
use ferry_transforms::TransformChain;
use tracing::Instrument;

use super::convert::Converters;
use super::errors::{ErrorHandler, OriginalRecord, RecordFailure, Stage};
use super::trouble::{Trouble, TroubleStatus};
use super::{EngineError, TaskEnv};
use crate::connector_config::ErrorPolicy;
use crate::metrics::{TaskKind, TaskMetrics};

/// Largest batch handed to `put`.
const MAX_BATCH: usize = 500;

/// Runs a sink task until it is cancelled or fails; writes its status as it goes.
pub async fn run(env: TaskEnv, task: Box<dyn SinkTask>) {
    let worker = env.worker.clone();
    run_with(env, task, &worker.clients).await
}

/// [`run`] with the Kafka clients made by `clients`.
pub(crate) async fn run_with<F: ClientFactory>(mut env: TaskEnv, task: Box<dyn SinkTask>, clients: &F) {
    let span = tracing::info_span!("task", connector = %env.connector, task = env.task);
    async move {
        let started = match env.resolve_configs() {
            Ok(()) => super::catch_panic(SinkEngine::start(&env, task, clients)).await,
            Err(e) => Err(e),
        };
        super::drive(&env, started).await;
    }
    .instrument(span)
    .await
}

/// One running sink task with its consumer.
struct SinkEngine<C> {
    task: Box<dyn SinkTask>,
    consumer: C,
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
    trouble: TroubleStatus,
    /// `sink-task-metrics` and friends, published once per batch.
    metrics: Arc<TaskMetrics>,
    /// Records read since the last successful offset commit.
    uncommitted: usize,
}

impl<C: SinkConsumer> SinkEngine<C> {
    async fn start<F: ClientFactory<Consumer = C>>(
        env: &TaskEnv,
        mut task: Box<dyn SinkTask>,
        clients: &F,
    ) -> Result<Self, EngineError> {
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
                Some(clients.dead_letter_queue(&cfg)?)
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
        let mut consumer = clients.sink_consumer(&cfg)?;
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
        consumer.subscribe(&subscription)?;
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
            trouble: TroubleStatus::default(),
            metrics: TaskMetrics::register(TaskKind::Sink, &env.connector, env.task),
            uncommitted: 0,
        })
    }

    async fn run_loop_impl(&mut self, env: &TaskEnv) -> Result<(), EngineError> {
        let mut paused_now = false;
        let mut paused_since: Option<Instant> = None;
        loop {
            if env.cancel.is_cancelled() {
                return Ok(());
            }
            let want_paused = *env.paused.borrow();
            if want_paused != paused_now {
                if let Err(e) = self.consumer.set_paused(want_paused) {
                    tracing::warn!("could not pause/resume partitions: {e}");
                }
                paused_now = want_paused;
                if want_paused {
                    paused_since = Some(Instant::now());
                } else if let Some(since) = paused_since.take() {
                    self.metrics.paused_for(since.elapsed());
                }
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
        let mut read = 0;
        let deadline = Instant::now() + Duration::from_millis(500);
        while out.len() < MAX_BATCH {
            let wait = deadline.saturating_duration_since(Instant::now());
            if wait.is_zero() && !out.is_empty() {
                break;
            }
            let polled = self.consumer.recv(wait.max(Duration::from_millis(1))).await;
            let Some(msg) = polled else { break };
            let msg = match msg {
                Ok(m) => m,
                Err(e) => {
                    self.trouble.report(env, Some(Trouble::ConsumerError(e.0))).await;
                    break;
                }
            };
            self.trouble.report(env, None).await;
            read += 1;
            let tp = TopicPartition {
                topic: msg.topic.clone(),
                partition: msg.partition,
            };
            if env.worker.config.topic_tracking_enable && !self.topic_names.contains_key(&msg.topic) {
                env.worker
                    .status
                    .record_topic(&env.connector, env.task, &msg.topic)
                    .await;
            }
            let next = msg.offset + 1;
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
                            msg.topic, msg.partition, msg.offset
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
        if read > 0 {
            self.metrics.read(read);
            self.uncommitted += read;
            self.metrics.set_active(self.uncommitted);
            self.metrics.set_errors(&self.errors.totals());
        }
        Ok(out)
    }

    async fn put(&mut self, batch: Vec<Record>) -> Result<(), EngineError> {
        let mut delay = Duration::from_millis(100);
        loop {
            let started = Instant::now();
            match self.task.put(&batch).await {
                Ok(()) => {
                    self.metrics.batch(batch.len(), started.elapsed());
                    self.metrics.written(batch.len() as u64);
                    return Ok(());
                }
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
            self.metrics.offset_commit_skipped();
            return Ok(());
        }
        let started = Instant::now();
        if let Err(e) = self.task.flush(&pending).await {
            self.metrics.offset_commit(false, started.elapsed());
            tracing::error!("flush failed; offsets not committed: {}", error_trace(&e));
            return Ok(());
        }
        let offsets: Vec<ferry_kafka::group::GroupOffset> = pending
            .iter()
            .map(|(tp, off)| (tp.topic.clone(), tp.partition, *off))
            .collect();
        match self.consumer.commit(&offsets).await {
            Ok(()) => {
                self.metrics.offset_commit(true, started.elapsed());
                self.committed.extend(pending);
                self.uncommitted = 0;
                self.metrics.set_active(0);
            }
            Err(e) => {
                self.metrics.offset_commit(false, started.elapsed());
                tracing::error!("committing consumer offsets failed: {e}")
            }
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
    msg: &ConsumedRecord,
    converters: &Converters,
    chain: &mut TransformChain,
    topic_names: &mut HashMap<String, Arc<str>>,
) -> Result<Option<Record>, ConvertError> {
    let topic = msg.topic.as_str();
    let topic_arc = match topic_names.get(topic) {
        Some(t) => t.clone(),
        None => topic_names
            .entry(topic.to_owned())
            .or_insert_with(|| Arc::from(topic))
            .clone(),
    };
    let key = converters
        .key
        .to_connect(topic, msg.key.as_deref())
        .map_err(|e| (Stage::KeyConverter, converters.classes[0].clone(), e.to_string()))?;
    let value = converters
        .value
        .to_connect(topic, msg.value.as_deref())
        .map_err(|e| {
            (
                Stage::ValueConverter,
                converters.classes[1].clone(),
                e.to_string(),
            )
        })?;
    let mut headers = Headers::new();
    for (key, value) in &msg.headers {
        let v = converters
            .header
            .to_connect_header(topic, key, value.as_deref())
            .map_err(|e| {
                (
                    Stage::HeaderConverter,
                    "header.converter".to_owned(),
                    e.to_string(),
                )
            })?;
        headers.add(key, v.schema, v.value);
    }
    let (timestamp, timestamp_type) = match msg.timestamp {
        KafkaTimestamp::NotAvailable => (None, TimestampType::NoTimestampType),
        KafkaTimestamp::CreateTime(t) => (Some(t), TimestampType::CreateTime),
        KafkaTimestamp::LogAppendTime(t) => (Some(t), TimestampType::LogAppendTime),
    };
    let record = Record {
        topic: topic_arc.clone(),
        kafka_partition: Some(msg.partition),
        key_schema: key.schema,
        key: key.value,
        value_schema: value.schema,
        value: value.value,
        timestamp,
        headers,
        position: Position::Sink {
            kafka_offset: msg.offset,
            timestamp_type,
            original_topic: topic_arc,
            original_partition: msg.partition,
        },
    };
    chain
        .apply(record)
        .map_err(|e| (Stage::Transformation, e.class.clone(), error_trace(&e)))
}

fn original(msg: &ConsumedRecord) -> OriginalRecord<'_> {
    OriginalRecord {
        topic: &msg.topic,
        partition: msg.partition,
        offset: msg.offset,
        key: msg.key.as_deref(),
        value: msg.value.as_deref(),
        headers: &msg.headers,
    }
}

#[async_trait::async_trait]
impl<C: SinkConsumer> super::TaskLoop for SinkEngine<C> {
    async fn run_loop(&mut self, env: &TaskEnv) -> Result<(), EngineError> {
        self.run_loop_impl(env).await
    }
    async fn shutdown(&mut self, _env: &TaskEnv, failed: bool) {
        self.shutdown_impl(failed).await
    }
}

#[cfg(test)]
mod tests;
