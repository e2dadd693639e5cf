//! A task's Connect metrics: `source-task-metrics` or `sink-task-metrics`,
//! `connector-task-metrics` and `task-error-metrics`, labelled `connector` and `task`.
//!
//! The engine adds to plain atomics once per batch (relaxed, no lock); rates,
//! averages and maxima are worked out when `/metrics` is scraped.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ferry_core::metrics::{connect_name, MetricSource, Sample};

use super::window::{average, rate, Snapshot, Windows};

/// Counter slots (`N`).
mod c {
    pub const RECORDS_IN: usize = 0; // polled (source) or read (sink)
    pub const RECORDS_OUT: usize = 1; // written to Kafka (source) or put (sink)
    pub const BATCHES: usize = 2;
    pub const BATCH_TIME_US: usize = 3;
    pub const COMMITS: usize = 4;
    pub const COMMIT_TIME_US: usize = 5;
    pub const COMMIT_FAILURES: usize = 6;
    pub const COMMIT_SKIPS: usize = 7;
    pub const ACTIVE_SUM: usize = 8;
    pub const ACTIVE_SAMPLES: usize = 9;
    pub const PAUSED_US: usize = 10;
    pub const N: usize = 11;
}

/// Maximum slots (`M`).
mod m {
    pub const BATCH_SIZE: usize = 0;
    pub const BATCH_TIME_US: usize = 1;
    pub const COMMIT_TIME_US: usize = 2;
    pub const ACTIVE: usize = 3;
    pub const N: usize = 4;
}

/// Error-handling totals (`task-error-metrics`), replaced as a whole by the engine.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct ErrorTotals {
    /// Records that failed (`total-record-failures`, `total-record-errors`).
    pub errors: u64,
    /// Records skipped under `errors.tolerance=all`.
    pub skipped: u64,
    /// Errors written to the log (`errors.log.enable`).
    pub logged: u64,
    /// Records sent to the dead letter queue.
    pub dlq_requests: u64,
    /// Dead letter queue sends that failed.
    pub dlq_failures: u64,
    /// Milliseconds since the epoch of the last error (0 when none).
    pub last_error_ms: u64,
}

/// Source or sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskKind {
    /// A source task.
    Source,
    /// A sink task.
    Sink,
}

/// The metrics of one task; the engine keeps an `Arc` and the registry a weak one.
#[derive(Debug)]
pub struct TaskMetrics {
    kind: TaskKind,
    connector: String,
    task: String,
    counters: [AtomicU64; c::N],
    maxes: [AtomicU64; m::N],
    active: AtomicU64,
    errors: [AtomicU64; 6],
    windows: Mutex<Windows<{ c::N }, { m::N }>>,
}

impl TaskMetrics {
    /// Metrics for a task, registered for `/metrics` as long as the `Arc` lives.
    pub fn register(kind: TaskKind, connector: &str, task: u32) -> Arc<TaskMetrics> {
        let metrics = Arc::new(TaskMetrics {
            kind,
            connector: connector.to_owned(),
            task: task.to_string(),
            counters: Default::default(),
            maxes: Default::default(),
            active: AtomicU64::new(0),
            errors: Default::default(),
            windows: Mutex::new(Windows::new(Instant::now())),
        });
        let source: Arc<dyn MetricSource> = metrics.clone();
        ferry_core::metrics::register(&source);
        metrics
    }

    /// A batch came in: `records` polled from the source task, or read from Kafka for
    /// a sink task; `took` is the time of the task's `poll` (source) or `put` (sink).
    pub fn batch(&self, records: usize, took: Duration) {
        let us = took.as_micros() as u64;
        self.counters[c::BATCHES].fetch_add(1, Relaxed);
        self.counters[c::BATCH_TIME_US].fetch_add(us, Relaxed);
        self.maxes[m::BATCH_TIME_US].fetch_max(us, Relaxed);
        self.maxes[m::BATCH_SIZE].fetch_max(records as u64, Relaxed);
        if self.kind == TaskKind::Source {
            self.counters[c::RECORDS_IN].fetch_add(records as u64, Relaxed);
        }
    }

    /// Sink records read from Kafka (before transformations).
    pub fn read(&self, records: usize) {
        self.counters[c::RECORDS_IN].fetch_add(records as u64, Relaxed);
    }

    /// Records written to Kafka and acknowledged (source) or handed to `put` (sink).
    pub fn written(&self, records: u64) {
        if records > 0 {
            self.counters[c::RECORDS_OUT].fetch_add(records, Relaxed);
        }
    }

    /// Records sent and not yet acknowledged (source) or read and not yet committed (sink).
    pub fn set_active(&self, records: usize) {
        let records = records as u64;
        self.active.store(records, Relaxed);
        self.maxes[m::ACTIVE].fetch_max(records, Relaxed);
        self.counters[c::ACTIVE_SUM].fetch_add(records, Relaxed);
        self.counters[c::ACTIVE_SAMPLES].fetch_add(1, Relaxed);
    }

    /// An offset commit finished (`ok`) or failed after `took`.
    pub fn offset_commit(&self, ok: bool, took: Duration) {
        let us = took.as_micros() as u64;
        self.counters[c::COMMITS].fetch_add(1, Relaxed);
        self.counters[c::COMMIT_TIME_US].fetch_add(us, Relaxed);
        self.maxes[m::COMMIT_TIME_US].fetch_max(us, Relaxed);
        if !ok {
            self.counters[c::COMMIT_FAILURES].fetch_add(1, Relaxed);
        }
    }

    /// An offset commit had nothing to commit (sink `offset-commit-skip-*`).
    pub fn offset_commit_skipped(&self) {
        self.counters[c::COMMIT_SKIPS].fetch_add(1, Relaxed);
    }

    /// The task spent `took` paused.
    pub fn paused_for(&self, took: Duration) {
        self.counters[c::PAUSED_US].fetch_add(took.as_micros() as u64, Relaxed);
    }

    /// The error handler's totals.
    pub fn set_errors(&self, t: &ErrorTotals) {
        let values = [
            t.errors,
            t.skipped,
            t.logged,
            t.dlq_requests,
            t.dlq_failures,
            t.last_error_ms,
        ];
        // Errors are rare: a load keeps the cache line shared when nothing changed.
        for (slot, v) in self.errors.iter().zip(values) {
            if slot.load(Relaxed) != v {
                slot.store(v, Relaxed);
            }
        }
    }

    /// The total of records polled (source) or read (sink).
    pub fn records_in(&self) -> u64 {
        self.counters[c::RECORDS_IN].load(Relaxed)
    }

    /// The total of records written (source) or put (sink).
    pub fn records_out(&self) -> u64 {
        self.counters[c::RECORDS_OUT].load(Relaxed)
    }

    /// Every sample at `now`, as `(group, attribute, value)`.
    fn values(&self, now: Instant) -> Vec<(&'static str, &'static str, f64)> {
        let snap = Snapshot::read(&self.counters, now);
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let (base, max) = windows.advance(&snap, &self.maxes);
        let ms = |us: u64| us as f64 / 1000.0;
        let total = |i: usize| snap.values[i] as f64;
        let commits = snap.values[c::COMMITS].saturating_sub(base.values[c::COMMITS]);
        let failures = snap.values[c::COMMIT_FAILURES].saturating_sub(base.values[c::COMMIT_FAILURES]);
        let failure_ratio = if commits == 0 {
            0.0
        } else {
            failures as f64 / commits as f64
        };
        let success_ratio = if commits == 0 { 0.0 } else { 1.0 - failure_ratio };
        let span_us = now.duration_since(base.at).as_micros().max(1) as f64;
        let paused = snap.values[c::PAUSED_US].saturating_sub(base.values[c::PAUSED_US]) as f64;
        let pause_ratio = (paused / span_us).min(1.0);
        let task = "connector-task-metrics";
        let mut out = vec![
            (task, "batch-size-max", max[m::BATCH_SIZE] as f64),
            (
                task,
                "batch-size-avg",
                average(base, &snap, c::RECORDS_IN, c::BATCHES),
            ),
            (task, "offset-commit-max-time-ms", ms(max[m::COMMIT_TIME_US])),
            (
                task,
                "offset-commit-avg-time-ms",
                average(base, &snap, c::COMMIT_TIME_US, c::COMMITS) / 1000.0,
            ),
            (task, "offset-commit-success-percentage", success_ratio),
            (task, "offset-commit-failure-percentage", failure_ratio),
            (task, "pause-ratio", pause_ratio),
            (task, "running-ratio", 1.0 - pause_ratio),
        ];
        match self.kind {
            TaskKind::Source => {
                let g = "source-task-metrics";
                out.extend([
                    (g, "source-record-poll-rate", rate(base, &snap, c::RECORDS_IN)),
                    (g, "source-record-poll-total", total(c::RECORDS_IN)),
                    (g, "source-record-write-rate", rate(base, &snap, c::RECORDS_OUT)),
                    (g, "source-record-write-total", total(c::RECORDS_OUT)),
                    (g, "poll-batch-max-time-ms", ms(max[m::BATCH_TIME_US])),
                    (
                        g,
                        "poll-batch-avg-time-ms",
                        average(base, &snap, c::BATCH_TIME_US, c::BATCHES) / 1000.0,
                    ),
                    (g, "source-record-active-count", self.active.load(Relaxed) as f64),
                    (g, "source-record-active-count-max", max[m::ACTIVE] as f64),
                    (
                        g,
                        "source-record-active-count-avg",
                        average(base, &snap, c::ACTIVE_SUM, c::ACTIVE_SAMPLES),
                    ),
                ]);
            }
            TaskKind::Sink => {
                let g = "sink-task-metrics";
                out.extend([
                    (g, "sink-record-read-rate", rate(base, &snap, c::RECORDS_IN)),
                    (g, "sink-record-read-total", total(c::RECORDS_IN)),
                    (g, "sink-record-send-rate", rate(base, &snap, c::RECORDS_OUT)),
                    (g, "sink-record-send-total", total(c::RECORDS_OUT)),
                    (g, "put-batch-max-time-ms", ms(max[m::BATCH_TIME_US])),
                    (
                        g,
                        "put-batch-avg-time-ms",
                        average(base, &snap, c::BATCH_TIME_US, c::BATCHES) / 1000.0,
                    ),
                    (g, "sink-record-active-count", self.active.load(Relaxed) as f64),
                    (g, "sink-record-active-count-max", max[m::ACTIVE] as f64),
                    (
                        g,
                        "sink-record-active-count-avg",
                        average(base, &snap, c::ACTIVE_SUM, c::ACTIVE_SAMPLES),
                    ),
                    (g, "offset-commit-completion-rate", rate(base, &snap, c::COMMITS)),
                    (g, "offset-commit-completion-total", total(c::COMMITS)),
                    (g, "offset-commit-skip-rate", rate(base, &snap, c::COMMIT_SKIPS)),
                    (g, "offset-commit-skip-total", total(c::COMMIT_SKIPS)),
                ]);
            }
        }
        let e = |i: usize| self.errors[i].load(Relaxed) as f64;
        let g = "task-error-metrics";
        out.extend([
            (g, "total-record-failures", e(0)),
            (g, "total-record-errors", e(0)),
            (g, "total-records-skipped", e(1)),
            (g, "total-retries", 0.0),
            (g, "total-errors-logged", e(2)),
            (g, "deadletterqueue-produce-requests", e(3)),
            (g, "deadletterqueue-produce-failures", e(4)),
            (g, "last-error-timestamp", e(5)),
        ]);
        out
    }
}

impl MetricSource for TaskMetrics {
    fn collect(&self, out: &mut dyn FnMut(Sample<'_>)) {
        let labels = [
            ("connector", self.connector.as_str()),
            ("task", self.task.as_str()),
        ];
        for (group, attribute, value) in self.values(Instant::now()) {
            let name = connect_name(group, attribute);
            out(Sample {
                name: &name,
                help: attribute,
                labels: &labels,
                value,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scrape(connector: &str) -> Vec<(String, f64)> {
        let mut out = Vec::new();
        ferry_core::metrics::collect_all(&mut |s| {
            if s.labels.contains(&("connector", connector)) {
                out.push((s.name.to_owned(), s.value));
            }
        });
        out
    }

    fn value(samples: &[(String, f64)], name: &str) -> f64 {
        samples
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("{name} missing from {samples:?}"))
            .1
    }

    #[test]
    fn a_source_task_reports_its_batches_under_connect_names() {
        let m = TaskMetrics::register(TaskKind::Source, "metrics-unit-source", 3);
        m.batch(10, Duration::from_millis(4));
        m.batch(30, Duration::from_millis(2));
        m.written(25);
        m.set_active(15);
        m.offset_commit(true, Duration::from_millis(8));
        m.offset_commit(false, Duration::from_millis(2));
        m.set_errors(&ErrorTotals {
            errors: 2,
            skipped: 2,
            ..Default::default()
        });
        let s = scrape("metrics-unit-source");
        assert_eq!(
            value(&s, "kafka_connect_source_task_source_record_poll_total"),
            40.0
        );
        assert_eq!(
            value(&s, "kafka_connect_source_task_source_record_write_total"),
            25.0
        );
        assert!(value(&s, "kafka_connect_source_task_source_record_poll_rate") > 0.0);
        assert_eq!(
            value(&s, "kafka_connect_source_task_source_record_active_count"),
            15.0
        );
        assert_eq!(value(&s, "kafka_connect_source_task_poll_batch_max_time_ms"), 4.0);
        assert_eq!(value(&s, "kafka_connect_source_task_poll_batch_avg_time_ms"), 3.0);
        assert_eq!(value(&s, "kafka_connect_connector_task_batch_size_max"), 30.0);
        assert_eq!(value(&s, "kafka_connect_connector_task_batch_size_avg"), 20.0);
        assert_eq!(
            value(&s, "kafka_connect_connector_task_offset_commit_avg_time_ms"),
            5.0
        );
        assert_eq!(
            value(&s, "kafka_connect_connector_task_offset_commit_max_time_ms"),
            8.0
        );
        assert_eq!(
            value(
                &s,
                "kafka_connect_connector_task_offset_commit_failure_percentage"
            ),
            0.5
        );
        assert_eq!(value(&s, "kafka_connect_task_error_total_records_skipped"), 2.0);
        assert!(!s.iter().any(|(n, _)| n.contains("sink_record")));
        drop(m);
        assert!(scrape("metrics-unit-source").is_empty());
    }

    #[test]
    fn a_sink_task_reports_reads_puts_and_commits() {
        let m = TaskMetrics::register(TaskKind::Sink, "metrics-unit-sink", 0);
        m.read(500);
        m.batch(480, Duration::from_millis(1));
        m.written(480);
        m.offset_commit(true, Duration::from_millis(1));
        m.offset_commit_skipped();
        let s = scrape("metrics-unit-sink");
        assert_eq!(value(&s, "kafka_connect_sink_task_sink_record_read_total"), 500.0);
        assert_eq!(value(&s, "kafka_connect_sink_task_sink_record_send_total"), 480.0);
        assert_eq!(
            value(&s, "kafka_connect_sink_task_offset_commit_completion_total"),
            1.0
        );
        assert_eq!(value(&s, "kafka_connect_sink_task_offset_commit_skip_total"), 1.0);
        assert!(!s.iter().any(|(n, _)| n.contains("source_record")));
    }
}
