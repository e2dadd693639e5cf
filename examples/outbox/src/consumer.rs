//! The notification service: consumes `Order_events` in group `notification-service`
//! and, for each `OrderCreated`, records a notification.
//!
//! - **Idempotent**, as in the seed: the event id (header `id`) is inserted into
//!   `processed_events` in the same database transaction as the notification row.
//!   A redelivered event finds its id there and is acknowledged without effect.
//! - **At least once**: a record's Kafka offset is committed only after its database
//!   transaction (or its dead-lettering) is done.
//! - **Poison pills never block a partition**: a failing record is retried
//!   `max_attempts` times with exponential backoff, then copied to the DLQ topic
//!   with the error in its headers, and the consumer moves on.

use std::future::Future;
use std::time::Duration;

use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Headers, Message};
use rdkafka::producer::FutureProducer;
use serde::{Deserialize, Serialize};
use tokio_postgres::Client;

use crate::event::{self, EventError, EVENT_ID_HEADER};
use crate::{dlq, kafka};

/// How the consumer runs.
#[derive(Clone, Debug)]
pub struct Settings {
    pub bootstrap: String,
    /// libpq-style connection string of the notification database.
    pub db: String,
    pub topic: String,
    pub group: String,
    pub dlq_topic: String,
    /// Attempts per record before it goes to the DLQ (at least 1).
    pub max_attempts: u32,
    /// Wait after the first failed attempt; doubled after each further one.
    pub backoff: Duration,
    /// Commit offsets after this many handled records (1 = after every record).
    pub commit_every: usize,
    /// Fault injection for the demo: after this many records are handled (database
    /// committed), the process kills itself with SIGKILL before committing offsets.
    pub crash_after: Option<usize>,
}

/// What happened to a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Notification recorded; event id stored in `processed_events`.
    Processed,
    /// Event id already in `processed_events`: acknowledged, nothing done.
    Duplicate,
    /// Failed `attempts` times: copied to the DLQ.
    DeadLettered,
}

/// One handled record (the consumer binary prints one JSON line per record).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub outcome: Outcome,
    pub event_id: Option<String>,
    pub order_id: Option<i64>,
    pub partition: i32,
    pub offset: i64,
    pub attempts: u32,
    pub error: Option<String>,
}

/// A reason the consumer stopped.
#[derive(Debug, thiserror::Error)]
pub enum ConsumerError {
    #[error("kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    #[error("database: {0}")]
    Db(#[from] tokio_postgres::Error),
    #[error("topic {0} does not exist")]
    TopicMissing(String),
}

/// Why one processing attempt failed.
#[derive(Debug, thiserror::Error)]
enum AttemptError {
    #[error(transparent)]
    Event(#[from] EventError),
    #[error("database: {0}")]
    Db(#[from] tokio_postgres::Error),
}

/// Runs until `shutdown` completes (then commits what it handled) or an error that
/// retrying cannot fix (lost database connection). `on_report` sees every record.
pub async fn run(
    settings: &Settings,
    shutdown: impl Future<Output = ()>,
    mut on_report: impl FnMut(&Report),
) -> Result<(), ConsumerError> {
    let mut db = crate::connect(&settings.db).await?;
    kafka::ensure_topic(&settings.bootstrap, &settings.dlq_topic, 1).await?;
    let (bootstrap, topic) = (settings.bootstrap.clone(), settings.topic.clone());
    let exists = tokio::task::spawn_blocking(move || {
        kafka::wait_for_topic(&bootstrap, &topic, Duration::from_secs(600))
    })
    .await
    .unwrap_or(false);
    if !exists {
        return Err(ConsumerError::TopicMissing(settings.topic.clone()));
    }
    let mut config = kafka::client(&settings.bootstrap);
    if let Ok(debug) = std::env::var("RDKAFKA_DEBUG") {
        config.set("debug", debug);
    }
    let consumer: StreamConsumer<RebalanceLog> = config
        .set("group.id", &settings.group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", "6000")
        .set("heartbeat.interval.ms", "500")
        .create_with_context(RebalanceLog)?;
    consumer.subscribe(&[&settings.topic])?;
    let producer: FutureProducer = kafka::client(&settings.bootstrap).set("acks", "all").create()?;
    tracing::info!(topic = %settings.topic, group = %settings.group, dlq = %settings.dlq_topic, "consuming");

    tokio::pin!(shutdown);
    let (mut handled, mut uncommitted) = (0usize, 0usize);
    loop {
        let msg = tokio::select! {
            _ = &mut shutdown => break,
            m = consumer.recv() => m,
        };
        let msg = match msg {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "consumer error; continuing");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        let report = process(settings, &mut db, &producer, &msg).await?;
        on_report(&report);
        consumer.store_offset_from_message(&msg)?;
        handled += 1;
        uncommitted += 1;
        if settings.crash_after == Some(handled) {
            crash(uncommitted);
        }
        if uncommitted >= settings.commit_every.max(1) {
            consumer.commit_consumer_state(CommitMode::Sync)?;
            uncommitted = 0;
        }
    }
    if uncommitted > 0 {
        consumer.commit_consumer_state(CommitMode::Sync)?;
    }
    tracing::info!(handled, "stopped; offsets committed");
    Ok(())
}

/// Logs partition assignments and revocations.
struct RebalanceLog;

impl ClientContext for RebalanceLog {}

impl ConsumerContext for RebalanceLog {
    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let list = |tpl: &rdkafka::TopicPartitionList| -> Vec<i32> {
            tpl.elements().iter().map(|e| e.partition()).collect()
        };
        match rebalance {
            Rebalance::Assign(tpl) => tracing::info!(partitions = ?list(tpl), "partitions assigned"),
            Rebalance::Revoke(tpl) => tracing::info!(partitions = ?list(tpl), "partitions revoked"),
            Rebalance::Error(e) => tracing::warn!(error = %e, "rebalance error"),
        }
    }
}

/// Kills this process the hard way: no offset commit, no group leave.
fn crash(uncommitted: usize) -> ! {
    tracing::warn!(uncommitted, "simulated crash: SIGKILL before committing offsets");
    use std::io::Write;
    let _ = std::io::stdout().flush();
    // SAFETY: sending a signal to our own pid has no memory-safety preconditions.
    unsafe {
        libc::kill(libc::getpid(), libc::SIGKILL);
    }
    std::process::abort()
}

/// Handles one record with retries, dead-lettering it when every attempt failed.
async fn process(
    settings: &Settings,
    db: &mut Client,
    producer: &FutureProducer,
    msg: &BorrowedMessage<'_>,
) -> Result<Report, ConsumerError> {
    let event_id = header_text(msg, EVENT_ID_HEADER);
    let mut report = Report {
        outcome: Outcome::Processed,
        event_id: event_id.clone(),
        order_id: None,
        partition: msg.partition(),
        offset: msg.offset(),
        attempts: 0,
        error: None,
    };
    let max_attempts = settings.max_attempts.max(1);
    let mut backoff = settings.backoff;
    loop {
        report.attempts += 1;
        match handle_once(db, event_id.as_deref(), msg.payload()).await {
            Ok((outcome, order_id)) => {
                report.outcome = outcome;
                report.order_id = Some(order_id);
                match outcome {
                    Outcome::Duplicate => {
                        tracing::warn!(event_id = ?event_id, order_id, "duplicate event: already processed, skipped")
                    }
                    _ => tracing::info!(event_id = ?event_id, order_id, "notification recorded"),
                }
                return Ok(report);
            }
            Err(AttemptError::Db(e)) if db.is_closed() => return Err(e.into()),
            Err(e) => {
                tracing::warn!(event_id = ?event_id, attempt = report.attempts, max_attempts, error = %e, "processing failed");
                if report.attempts >= max_attempts {
                    let failure = dlq::Failure {
                        error: e.to_string(),
                        attempts: report.attempts,
                    };
                    dlq::send(producer, &settings.dlq_topic, msg, &failure).await?;
                    tracing::error!(event_id = ?event_id, dlq = %settings.dlq_topic, error = %e, "gave up: record sent to the DLQ");
                    report.outcome = Outcome::DeadLettered;
                    report.error = Some(failure.error);
                    return Ok(report);
                }
                tokio::time::sleep(backoff).await;
                backoff *= 2;
            }
        }
    }
}

/// One attempt: parse, then in ONE transaction claim the event id and record the notification.
async fn handle_once(
    db: &mut Client,
    event_id: Option<&str>,
    value: Option<&[u8]>,
) -> Result<(Outcome, i64), AttemptError> {
    let event_id = event_id.ok_or(EventError::NoEventId)?;
    let order = event::parse_order_created(value)?;
    let tx = db.transaction().await?;
    let claimed = tx
        .execute(
            "INSERT INTO processed_events (event_id) VALUES ($1::text::uuid) ON CONFLICT (event_id) DO NOTHING",
            &[&event_id],
        )
        .await?;
    if claimed == 0 {
        tx.rollback().await?;
        return Ok((Outcome::Duplicate, order.order_id));
    }
    let message = format!(
        "Order {} confirmed: total {} for customer {}",
        order.order_id, order.total, order.customer_id
    );
    tx.execute(
        "INSERT INTO notifications (event_id, order_id, customer_id, message) VALUES ($1::text::uuid, $2, $3, $4)",
        &[&event_id, &order.order_id, &order.customer_id, &message],
    )
    .await?;
    tx.commit().await?;
    Ok((Outcome::Processed, order.order_id))
}

/// The last header named `key`, as UTF-8 text.
fn header_text(msg: &BorrowedMessage<'_>, key: &str) -> Option<String> {
    let headers = msg.headers()?;
    headers
        .iter()
        .filter(|h| h.key == key)
        .last()
        .and_then(|h| h.value)
        .map(|v| String::from_utf8_lossy(v).into_owned())
}
