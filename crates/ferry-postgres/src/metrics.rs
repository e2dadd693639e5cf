//! Debezium's streaming and snapshot metrics for one task, under the names the
//! debezium/connect image's JMX-exporter rules give them
//! (`debezium.postgres<type=connector-metrics, context=streaming, server=PREFIX>Connected`
//! → `debezium_metrics_connected{context="streaming",name="PREFIX",plugin="postgres"}`),
//! and what Ferry adds: the replication slot's lag in bytes, read from the server.
//!
//! The task adds to atomics once per batch; `/metrics` reads them.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ferry_core::metrics::{debezium_name, MetricSource, Sample};
use ferry_core::Record;
use tokio_postgres::Client;

use crate::replication::StreamEvent;

/// How often the slot's lag is read from `pg_replication_slots`.
const SLOT_LAG_EVERY: Duration = Duration::from_secs(5);

/// The metrics of one PostgreSQL source task.
#[derive(Debug)]
pub struct PgMetrics {
    server: String,
    connector: String,
    task: String,
    slot: String,
    started: Instant,
    queue_capacity: u64,
    connected: AtomicBool,
    streaming_events: AtomicU64,
    transactions: AtomicU64,
    behind_source_ms: AtomicU64,
    /// Milliseconds after `started` of the last change event (0: none yet).
    last_event_ms: AtomicU64,
    snapshot_running: AtomicBool,
    snapshot_completed: AtomicBool,
    snapshot_events: AtomicU64,
    snapshot_tables: AtomicU64,
    snapshot_started_ms: AtomicU64,
    snapshot_duration_ms: AtomicU64,
    /// `f64` bits; NaN until first read.
    slot_lag_bytes: AtomicU64,
    slot_retained_bytes: AtomicU64,
}

impl PgMetrics {
    /// Metrics for the task of `connector`, registered for `/metrics` while the `Arc` lives.
    pub fn register(
        topic_prefix: &str,
        slot: &str,
        connector: &str,
        task: u32,
        max_queue_size: usize,
    ) -> Arc<PgMetrics> {
        let metrics = Arc::new(PgMetrics {
            server: topic_prefix.to_owned(),
            connector: connector.to_owned(),
            task: task.to_string(),
            slot: slot.to_owned(),
            started: Instant::now(),
            queue_capacity: max_queue_size as u64,
            connected: AtomicBool::new(false),
            streaming_events: AtomicU64::new(0),
            transactions: AtomicU64::new(0),
            behind_source_ms: AtomicU64::new(0),
            last_event_ms: AtomicU64::new(0),
            snapshot_running: AtomicBool::new(false),
            snapshot_completed: AtomicBool::new(false),
            snapshot_events: AtomicU64::new(0),
            snapshot_tables: AtomicU64::new(0),
            snapshot_started_ms: AtomicU64::new(0),
            snapshot_duration_ms: AtomicU64::new(0),
            slot_lag_bytes: AtomicU64::new(f64::NAN.to_bits()),
            slot_retained_bytes: AtomicU64::new(f64::NAN.to_bits()),
        });
        let source: Arc<dyn MetricSource> = metrics.clone();
        ferry_core::metrics::register(&source);
        metrics
    }

    fn since_start_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// Whether the replication connection is up.
    pub fn set_connected(&self, connected: bool) {
        self.connected.store(connected, Relaxed);
    }

    /// A replication event arrived: a commit moves `MilliSecondsBehindSource` (now minus
    /// its commit time) and `NumberOfCommittedTransactions`.
    pub fn observe(&self, ev: &StreamEvent) {
        if let StreamEvent::Commit { commit_time_us, .. } = ev {
            self.transactions.fetch_add(1, Relaxed);
            let now_us = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_micros() as i64);
            let behind = (now_us - commit_time_us).max(0) as u64 / 1000;
            self.behind_source_ms.store(behind, Relaxed);
        }
    }

    /// A streaming batch was handed to the runtime.
    pub fn streamed(&self, records: &[Record]) {
        if !records.is_empty() {
            self.streaming_events.fetch_add(records.len() as u64, Relaxed);
            self.last_event_ms.store(self.since_start_ms().max(1), Relaxed);
        }
    }

    /// The snapshot of `tables` tables started.
    pub fn snapshot_started(&self, tables: usize) {
        self.snapshot_tables.store(tables as u64, Relaxed);
        self.snapshot_started_ms.store(self.since_start_ms(), Relaxed);
        self.snapshot_running.store(true, Relaxed);
    }

    /// Snapshot rows were handed to the runtime.
    pub fn snapshot_rows(&self, records: usize) {
        self.snapshot_events.fetch_add(records as u64, Relaxed);
        if records > 0 {
            self.last_event_ms.store(self.since_start_ms().max(1), Relaxed);
        }
    }

    /// The snapshot completed.
    pub fn snapshot_completed(&self) {
        let took = self
            .since_start_ms()
            .saturating_sub(self.snapshot_started_ms.load(Relaxed));
        self.snapshot_duration_ms.store(took, Relaxed);
        self.snapshot_running.store(false, Relaxed);
        self.snapshot_completed.store(true, Relaxed);
    }

    /// Reads the slot's lag every few seconds over a session of its own, made by
    /// `connect` (and made again after it fails), until these metrics are dropped.
    pub fn watch_slot<C, F>(self: &Arc<Self>, connect: C)
    where
        C: Fn() -> F + Send + 'static,
        F: Future<Output = crate::error::Result<Client>> + Send,
    {
        let weak: Weak<PgMetrics> = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut client: Option<Client> = None;
            loop {
                let Some(metrics) = weak.upgrade() else { return };
                if client.as_ref().is_none_or(Client::is_closed) {
                    client = connect().await.ok();
                }
                if let Some(c) = &client {
                    match read_slot_lag(c, &metrics.slot).await {
                        Ok(Some((lag, retained))) => {
                            metrics.slot_lag_bytes.store(lag.to_bits(), Relaxed);
                            metrics.slot_retained_bytes.store(retained.to_bits(), Relaxed);
                        }
                        Ok(None) => {}
                        Err(e) => tracing::debug!(error = %e, "could not read the replication slot's lag"),
                    }
                }
                drop(metrics);
                tokio::time::sleep(SLOT_LAG_EVERY).await;
            }
        });
    }
}

/// Bytes of WAL between the server's current position and the slot's confirmed flush
/// position, and its restart position (WAL the slot keeps).
async fn read_slot_lag(c: &Client, slot: &str) -> Result<Option<(f64, f64)>, tokio_postgres::Error> {
    let row = c
        .query_opt(
            "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::float8, \
             pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::float8 \
             FROM pg_replication_slots WHERE slot_name = $1",
            &[&slot],
        )
        .await?;
    Ok(row.and_then(|r| Some((r.get::<_, Option<f64>>(0)?, r.get::<_, Option<f64>>(1)?))))
}

impl MetricSource for PgMetrics {
    fn collect(&self, out: &mut dyn FnMut(Sample<'_>)) {
        let flag = |b: &AtomicBool| if b.load(Relaxed) { 1.0 } else { 0.0 };
        let n = |a: &AtomicU64| a.load(Relaxed) as f64;
        let since_last = match self.last_event_ms.load(Relaxed) {
            0 => -1.0,
            at => self.since_start_ms().saturating_sub(at) as f64,
        };
        let streaming = [
            ("Connected", flag(&self.connected)),
            ("MilliSecondsBehindSource", n(&self.behind_source_ms)),
            ("TotalNumberOfEventsSeen", n(&self.streaming_events)),
            ("NumberOfCommittedTransactions", n(&self.transactions)),
            ("MilliSecondsSinceLastEvent", since_last),
            ("QueueTotalCapacity", self.queue_capacity as f64),
            // Ferry has no queue between the replication stream and poll: events go
            // straight into the batch, so the whole capacity is always free.
            ("QueueRemainingCapacity", self.queue_capacity as f64),
        ];
        let duration_s = if self.snapshot_running.load(Relaxed) {
            self.since_start_ms()
                .saturating_sub(self.snapshot_started_ms.load(Relaxed)) as f64
                / 1000.0
        } else {
            self.snapshot_duration_ms.load(Relaxed) as f64 / 1000.0
        };
        let remaining_tables = if self.snapshot_completed.load(Relaxed) {
            0.0
        } else {
            n(&self.snapshot_tables)
        };
        let snapshot = [
            ("SnapshotRunning", flag(&self.snapshot_running)),
            ("SnapshotCompleted", flag(&self.snapshot_completed)),
            ("SnapshotDurationInSeconds", duration_s),
            ("TotalTableCount", n(&self.snapshot_tables)),
            ("RemainingTableCount", remaining_tables),
            ("TotalNumberOfEventsSeen", n(&self.snapshot_events)),
            ("QueueTotalCapacity", self.queue_capacity as f64),
            ("QueueRemainingCapacity", self.queue_capacity as f64),
        ];
        for (context, values) in [("streaming", &streaming[..]), ("snapshot", &snapshot[..])] {
            let labels = [
                ("context", context),
                ("name", self.server.as_str()),
                ("plugin", "postgres"),
            ];
            for (attribute, value) in values {
                let name = debezium_name(attribute);
                out(Sample {
                    name: &name,
                    help: attribute,
                    labels: &labels,
                    value: *value,
                });
            }
        }
        let labels = [
            ("connector", self.connector.as_str()),
            ("task", self.task.as_str()),
            ("slot", self.slot.as_str()),
        ];
        out(Sample {
            name: "ferry_postgres_replication_slot_lag_bytes",
            help: "Bytes of WAL between the server's current position and the slot's confirmed_flush_lsn.",
            labels: &labels,
            value: f64::from_bits(self.slot_lag_bytes.load(Relaxed)),
        });
        out(Sample {
            name: "ferry_postgres_replication_slot_retained_wal_bytes",
            help: "Bytes of WAL the slot keeps on the server (current position minus restart_lsn).",
            labels: &labels,
            value: f64::from_bits(self.slot_retained_bytes.load(Relaxed)),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lsn::Lsn;

    fn scrape(server: &str) -> Vec<(String, String, f64)> {
        let mut out = Vec::new();
        ferry_core::metrics::collect_all(&mut |s| {
            if s.labels.contains(&("name", server)) {
                let context = s.labels.iter().find(|(k, _)| *k == "context").unwrap().1;
                out.push((s.name.to_owned(), context.to_owned(), s.value));
            }
        });
        out
    }

    #[test]
    fn commits_and_batches_move_the_streaming_metrics() {
        let m = PgMetrics::register("pg-metrics-unit", "slot_u", "c", 0, 8192);
        m.set_connected(true);
        let commit_time_us =
            SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_micros() as i64 - 2_000_000;
        m.observe(&StreamEvent::Commit {
            commit_lsn: Lsn(1),
            end_lsn: Lsn(2),
            commit_time_us,
        });
        m.snapshot_started(3);
        m.snapshot_rows(7);
        m.snapshot_completed();
        let s = scrape("pg-metrics-unit");
        let get = |name: &str, context: &str| {
            s.iter()
                .find(|(n, c, _)| n == name && c == context)
                .unwrap_or_else(|| panic!("{name} {context} in {s:?}"))
                .2
        };
        assert_eq!(get("debezium_metrics_connected", "streaming"), 1.0);
        let behind = get("debezium_metrics_millisecondsbehindsource", "streaming");
        assert!((2000.0..3000.0).contains(&behind), "{behind}");
        assert_eq!(
            get("debezium_metrics_numberofcommittedtransactions", "streaming"),
            1.0
        );
        assert_eq!(get("debezium_metrics_queuetotalcapacity", "streaming"), 8192.0);
        assert_eq!(get("debezium_metrics_totalnumberofeventsseen", "snapshot"), 7.0);
        assert_eq!(get("debezium_metrics_snapshotcompleted", "snapshot"), 1.0);
        assert_eq!(get("debezium_metrics_remainingtablecount", "snapshot"), 0.0);
        assert_eq!(get("debezium_metrics_totaltablecount", "snapshot"), 3.0);
    }
}
