//! The source task engine: poll → transform → convert → produce, track which
//! offsets are acknowledged, flush them to the offsets topic every
//! `offset.flush.interval.ms`, then tell the task what is durable.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ferry_core::{error_trace, ConfigMap, Position, Record, SourceTask, SourceTaskContext};
use ferry_kafka::records::State;
use ferry_kafka::{Ack, AckReceiver, ClientFactory, OutgoingRecord, RecordProducer, SendError};
use ferry_transforms::TransformChain;
use tracing::Instrument;

use super::convert::Converters;
use super::errors::{ErrorHandler, RecordFailure, Stage};
use super::submitted::SubmittedRecords;
use super::topics::TopicCreator;
use super::trouble::{Trouble, TroubleStatus};
use super::{EngineError, TaskEnv};
use crate::connector_config::ErrorPolicy;
use crate::metrics::{TaskKind, TaskMetrics};
use crate::store::ConnectorOffsetReader;

/// Records sent and not yet acknowledged, at most, before the engine stops polling.
const MAX_IN_FLIGHT: usize = 20_000;

/// How long Kafka may stay silent, with records outstanding, before the status says so.
const STALL_REPORT_AFTER: Duration = Duration::from_secs(10);

/// Runs a source task until it is cancelled or fails; writes its status as it goes.
pub async fn run(env: TaskEnv, task: Box<dyn SourceTask>) {
    let worker = env.worker.clone();
    run_with(env, task, &worker.clients).await
}

/// [`run`] with the Kafka clients made by `clients`.
pub(crate) async fn run_with<F: ClientFactory>(mut env: TaskEnv, task: Box<dyn SourceTask>, clients: &F) {
    let span = tracing::info_span!("task", connector = %env.connector, task = env.task);
    async move {
        let started = match env.resolve_configs() {
            Ok(()) => super::catch_panic(SourceEngine::start(&env, task, clients)).await,
            Err(e) => Err(e),
        };
        super::drive(&env, started).await;
    }
    .instrument(span)
    .await
}

/// One running source task with its producer.
struct SourceEngine<P> {
    task: Box<dyn SourceTask>,
    producer: P,
    acks: AckReceiver,
    converters: Converters,
    chain: TransformChain,
    topics: TopicCreator,
    errors: ErrorHandler,
    submitted: SubmittedRecords,
    last_flush: Instant,
    /// When the last acknowledgement arrived (to notice a silent broker).
    last_ack: Instant,
    /// The trouble currently shown in the task status, if any.
    trouble: TroubleStatus,
    flush_interval: Duration,
    flush_timeout: Duration,
    key_buf: Vec<u8>,
    value_buf: Vec<u8>,
    /// `source-task-metrics` and friends, published once per batch.
    metrics: Arc<TaskMetrics>,
    /// Records acknowledged by Kafka and not yet added to `metrics`.
    acked: u64,
}

fn failure_trace(context: &str, err: &ferry_core::ConnectError) -> String {
    format!("{context}\nCaused by: {}", error_trace(err))
}

impl<P: RecordProducer> SourceEngine<P> {
    async fn start<F: ClientFactory<Producer = P>>(
        env: &TaskEnv,
        mut task: Box<dyn SourceTask>,
        clients: &F,
    ) -> Result<Self, EngineError> {
        let w = &env.worker;
        let converters = Converters::for_connector(&w.registry, &w.config, &env.connector_config)?;
        let chain = TransformChain::from_config(&env.connector_config, &w.registry)
            .map_err(|e| EngineError::Config(e.to_string()))?;
        let topics = TopicCreator::from_config(&env.connector_config, w.config.topic_creation_enable)?;
        let producer_cfg = w.client_config("producer", &env.connector_config)?;
        let (producer, acks) = clients.producer(&producer_cfg)?;
        let errors = ErrorHandler::new(
            ErrorPolicy::from_config(&env.connector_config),
            &env.connector,
            env.task,
            None,
        );
        let ctx = SourceTaskContext {
            connector: env.connector.clone(),
            task: env.task,
            offsets: Arc::new(ConnectorOffsetReader {
                store: w.offsets.clone(),
                connector: env.connector.clone(),
            }),
            shutdown: env.cancel.child_token(),
        };
        task.start(&env.task_config, ctx)
            .await
            .map_err(|e| EngineError::Failed(failure_trace("The source task could not start", &e)))?;
        env.set_state(State::Running, None).await;
        tracing::info!("source task started");
        Ok(SourceEngine {
            task,
            producer,
            acks,
            converters,
            chain,
            topics,
            errors,
            submitted: SubmittedRecords::new(),
            last_flush: Instant::now(),
            last_ack: Instant::now(),
            trouble: TroubleStatus::default(),
            flush_interval: Duration::from_millis(w.config.offset_flush_interval_ms),
            flush_timeout: Duration::from_millis(w.config.offset_flush_timeout_ms),
            key_buf: Vec::with_capacity(256),
            value_buf: Vec::with_capacity(1024),
            metrics: TaskMetrics::register(TaskKind::Source, &env.connector, env.task),
            acked: 0,
        })
    }

    async fn run_loop_impl(&mut self, env: &TaskEnv) -> Result<(), EngineError> {
        let mut paused = env.paused.clone();
        let mut retry_delay = Duration::from_millis(100);
        loop {
            if env.cancel.is_cancelled() {
                return Ok(());
            }
            if *paused.borrow() {
                env.set_state(State::Paused, None).await;
                tracing::info!("paused");
                let paused_at = Instant::now();
                while *paused.borrow() && !env.cancel.is_cancelled() {
                    tokio::select! {
                        _ = env.cancel.cancelled() => {}
                        _ = paused.changed() => {}
                        _ = tokio::time::sleep(self.flush_interval.min(Duration::from_secs(1))) => {}
                    }
                    self.drain_acks(env).await?;
                    self.maybe_flush(env, false).await;
                }
                self.metrics.paused_for(paused_at.elapsed());
                if env.cancel.is_cancelled() {
                    return Ok(());
                }
                env.set_state(State::Running, None).await;
                tracing::info!("resumed");
            }
            // Backpressure: records in flight are bounded, whatever the broker's speed.
            while self.submitted.outstanding() >= MAX_IN_FLIGHT && !env.cancel.is_cancelled() {
                if let Ok(Some(ack)) =
                    tokio::time::timeout(Duration::from_millis(100), self.acks.recv()).await
                {
                    self.last_ack = Instant::now();
                    self.apply_ack(env, ack).await?;
                }
                self.drain_acks(env).await?;
            }
            // poll is never cancelled midway: a task may hold data it already read.
            let polled_at = Instant::now();
            let batch = match self.task.poll().await {
                Ok(b) => {
                    retry_delay = Duration::from_millis(100);
                    if !b.is_empty() {
                        self.metrics.batch(b.len(), polled_at.elapsed());
                    }
                    b
                }
                Err(e) if e.is_retriable() => {
                    tracing::warn!("poll failed, retrying in {retry_delay:?}: {}", error_trace(&e));
                    tokio::select! {
                        _ = env.cancel.cancelled() => {}
                        _ = tokio::time::sleep(retry_delay) => {}
                    }
                    retry_delay = (retry_delay * 2).min(Duration::from_secs(10));
                    continue;
                }
                Err(e) => return Err(EngineError::Failed(failure_trace(
                    "org.apache.kafka.connect.errors.ConnectException: the source task failed while polling",
                    &e,
                ))),
            };
            if !batch.is_empty() && self.submitted.outstanding() == 0 {
                tracing::debug!(records = batch.len(), "polled a batch with nothing in flight");
            }
            for record in batch {
                self.send(env, record).await?;
            }
            self.drain_acks(env).await?;
            self.maybe_flush(env, false).await;
        }
    }

    async fn send(&mut self, env: &TaskEnv, record: Record) -> Result<(), EngineError> {
        let (partition, offset) = match &record.position {
            Position::Source { partition, offset } => (partition.clone(), offset.clone()),
            _ => {
                return Err(EngineError::Failed(
                    "org.apache.kafka.connect.errors.ConnectException: the source task returned a record without a source partition and offset".into(),
                ))
            }
        };
        let seq = self.submitted.submit(partition.clone(), offset.clone());
        let describe = || {
            format!(
                "source partition {} offset {}",
                serde_json::Value::Object((*partition).clone()),
                serde_json::Value::Object((*offset).clone())
            )
        };
        let record = match self.chain.apply(record) {
            Ok(Some(r)) => r,
            Ok(None) => {
                self.submitted.ack(seq);
                return Ok(());
            }
            Err(e) => {
                let failure = RecordFailure {
                    stage: Stage::Transformation,
                    class: e.class.clone(),
                    message: error_trace(&e),
                    record: describe(),
                };
                self.errors.handle(failure, None).await?;
                self.submitted.ack(seq);
                return Ok(());
            }
        };
        let topic = record.topic.clone();
        let has_key = match self.converters.key.from_connect_into(
            &topic,
            record.key_schema.as_ref(),
            &record.key,
            &mut self.key_buf,
        ) {
            Ok(b) => b,
            Err(e) => {
                return self
                    .skip_or_fail(seq, Stage::KeyConverter, e.to_string(), describe())
                    .await
            }
        };
        let has_value = match self.converters.value.from_connect_into(
            &topic,
            record.value_schema.as_ref(),
            &record.value,
            &mut self.value_buf,
        ) {
            Ok(b) => b,
            Err(e) => {
                return self
                    .skip_or_fail(seq, Stage::ValueConverter, e.to_string(), describe())
                    .await
            }
        };
        let mut headers = Vec::with_capacity(record.headers.len());
        for h in &record.headers {
            match self
                .converters
                .header
                .from_connect_header(&topic, &h.key, h.schema.as_ref(), &h.value)
            {
                Ok(bytes) => headers.push((h.key.clone(), bytes)),
                Err(e) => {
                    return self
                        .skip_or_fail(seq, Stage::HeaderConverter, e.to_string(), describe())
                        .await
                }
            }
        }
        if !self.topics.is_known(&topic) {
            self.topics.ensure(env.worker.admin.as_ref(), &topic).await?;
            if env.worker.config.topic_tracking_enable {
                env.worker
                    .status
                    .record_topic(&env.connector, env.task, &topic)
                    .await;
            }
        }
        let out = OutgoingRecord {
            topic: &topic,
            partition: record.kafka_partition,
            key: has_key.then_some(self.key_buf.as_slice()),
            value: has_value.then_some(self.value_buf.as_slice()),
            timestamp: record.timestamp,
            headers: &headers,
        };
        loop {
            match self.producer.send(seq, &out) {
                Ok(()) => return Ok(()),
                Err(SendError::QueueFull) => {
                    // Backpressure: the client frees queue space as the broker acknowledges.
                    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                }
                Err(SendError::Failed(e)) => {
                    return self
                        .skip_or_fail(seq, Stage::KafkaProduce, e.to_string(), describe())
                        .await
                }
            }
        }
    }

    async fn skip_or_fail(
        &mut self,
        seq: u64,
        stage: Stage,
        message: String,
        record: String,
    ) -> Result<(), EngineError> {
        let class = match stage {
            Stage::KeyConverter => self.converters.classes[0].clone(),
            Stage::ValueConverter => self.converters.classes[1].clone(),
            Stage::HeaderConverter => self.converters.classes[2].clone(),
            _ => "org.apache.kafka.clients.producer.KafkaProducer".to_owned(),
        };
        self.errors
            .handle(
                RecordFailure {
                    stage,
                    class,
                    message,
                    record,
                },
                None,
            )
            .await?;
        self.submitted.ack(seq);
        Ok(())
    }

    async fn drain_acks(&mut self, env: &TaskEnv) -> Result<(), EngineError> {
        let mut acked = false;
        while let Ok(ack) = self.acks.try_recv() {
            acked = true;
            self.apply_ack(env, ack).await?;
        }
        self.publish_metrics();
        // One clock read per drain, not per acknowledgement. With nothing waiting, the
        // silence clock starts with the next record.
        if acked || self.submitted.outstanding() == 0 {
            self.last_ack = Instant::now();
        }
        let silent = self.last_ack.elapsed();
        let stalled = matches!(self.trouble.current(), Some(Trouble::KafkaSilent { .. }));
        if silent >= STALL_REPORT_AFTER {
            if !stalled {
                let trouble = Trouble::KafkaSilent {
                    secs: silent.as_secs(),
                    waiting: self.submitted.outstanding(),
                };
                self.trouble.report(env, Some(trouble)).await;
            }
        } else if stalled {
            self.trouble.report(env, None).await;
        }
        Ok(())
    }

    /// Adds what happened since the last call to the task's metrics.
    fn publish_metrics(&mut self) {
        self.metrics.written(std::mem::take(&mut self.acked));
        self.metrics.set_active(self.submitted.outstanding());
        self.metrics.set_errors(&self.errors.totals());
    }

    async fn apply_ack(&mut self, env: &TaskEnv, ack: Ack) -> Result<(), EngineError> {
        if ack.seq == 0 {
            tracing::debug!(seq = ack.seq, "first acknowledgement");
        }
        if ack.result.is_ok() {
            self.acked += 1;
        }
        if let Err(e) = ack.result {
            self.errors
                .handle(
                    RecordFailure {
                        stage: Stage::KafkaProduce,
                        class: "org.apache.kafka.clients.producer.KafkaProducer".into(),
                        message: e.to_string(),
                        record: format!("#{} of task {}", ack.seq, env.task),
                    },
                    None,
                )
                .await?;
        }
        self.submitted.ack(ack.seq);
        Ok(())
    }

    /// Writes committable offsets when the flush interval passed (or always when `force`).
    async fn maybe_flush(&mut self, env: &TaskEnv, force: bool) {
        if !force && self.last_flush.elapsed() < self.flush_interval {
            return;
        }
        self.last_flush = Instant::now();
        let changed = self.submitted.take_changed();
        if changed.is_empty() {
            return;
        }
        let entries: Vec<(&ferry_core::OffsetMap, Option<&ferry_core::OffsetMap>)> = changed
            .iter()
            .map(|c| (&*c.partition, Some(&*c.offset)))
            .collect();
        let write = env.worker.offsets.write(&env.connector, &entries);
        let started = Instant::now();
        let outcome = tokio::time::timeout(self.flush_timeout, write).await;
        self.metrics
            .offset_commit(matches!(outcome, Ok(Ok(()))), started.elapsed());
        match outcome {
            Ok(Ok(())) => {
                tracing::debug!(partitions = changed.len(), "offsets flushed");
                if self.trouble.current().is_some_and(Trouble::is_offset_flush) {
                    self.trouble.report(env, None).await;
                }
                if let Err(e) = self.task.commit(&changed).await {
                    tracing::warn!("task commit hook failed: {}", error_trace(&e));
                }
            }
            Ok(Err(e)) => {
                tracing::error!("Failed to flush offsets to storage: {e}");
                self.submitted.restore(&changed);
                let trouble = Trouble::OffsetFlushFailed(e.to_string());
                self.trouble.report(env, Some(trouble)).await;
            }
            Err(_) => {
                tracing::error!(
                    "Failed to flush offsets to storage: timed out after {:?} (offset.flush.timeout.ms)",
                    self.flush_timeout
                );
                self.submitted.restore(&changed);
                let trouble = Trouble::OffsetFlushTimedOut {
                    timeout_ms: self.flush_timeout.as_millis(),
                };
                self.trouble.report(env, Some(trouble)).await;
            }
        }
    }

    /// Waits for outstanding records, flushes offsets (acknowledged records only) and stops the task.
    async fn shutdown_impl(&mut self, env: &TaskEnv, failed: bool) {
        let grace = Duration::from_millis(env.worker.config.task_shutdown_graceful_timeout_ms.max(1000));
        let deadline = Instant::now() + grace;
        while self.submitted.outstanding() > 0 && Instant::now() < deadline {
            match tokio::time::timeout(Duration::from_millis(100), self.acks.recv()).await {
                Ok(Some(ack)) => {
                    // Under errors.tolerance=none a failed send stops waiting; its offset stays uncommitted.
                    if self.apply_ack(env, ack).await.is_err() {
                        break;
                    }
                }
                Ok(None) => break,
                Err(_) => {}
            }
        }
        if self.submitted.outstanding() > 0 {
            tracing::warn!(
                outstanding = self.submitted.outstanding(),
                failed,
                "stopping with unacknowledged records; their offsets are not committed and they will be sent again"
            );
        }
        self.maybe_flush(env, true).await;
        self.publish_metrics();
        if let Err(e) = self.task.stop().await {
            tracing::warn!("task stop failed: {}", error_trace(&e));
        }
        tracing::info!(skipped = self.errors.skipped(), "source task stopped");
    }
}

/// The task config a source connector's task gets, as Connect adds it.
pub fn decorate_task_config(mut config: ConfigMap, task_class: &str) -> ConfigMap {
    config.insert("task.class".into(), task_class.into());
    config
}

#[async_trait::async_trait]
impl<P: RecordProducer> super::TaskLoop for SourceEngine<P> {
    async fn run_loop(&mut self, env: &TaskEnv) -> Result<(), EngineError> {
        self.run_loop_impl(env).await
    }
    async fn shutdown(&mut self, env: &TaskEnv, failed: bool) {
        self.shutdown_impl(env, failed).await
    }
}

#[cfg(test)]
mod tests;
