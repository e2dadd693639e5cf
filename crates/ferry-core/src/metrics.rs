//! Metrics that plugins and the runtime publish for `GET /metrics`.
//!
//! A publisher keeps its numbers in its own atomics and registers itself once as a
//! [`MetricSource`]; the values are read only when `/metrics` is scraped. The
//! registry holds weak references, so a source disappears when its owner (a task)
//! is dropped.
//!
//! Names follow one rule, the one the Strimzi / Confluent JMX-exporter configurations
//! apply to Kafka Connect's MBeans: `kafka.connect<type=GROUP-metrics, …><>ATTRIBUTE`
//! becomes `kafka_connect_GROUP_ATTRIBUTE`, lowercased with `-` turned into `_`
//! (see [`connect_name`]); Debezium's `debezium.PLUGIN<type=connector-metrics,
//! context=C, server=S>Attribute` becomes `debezium_metrics_attribute` with labels
//! `plugin`, `name` and `context` (see [`debezium_name`]).

use std::sync::{Arc, Mutex, Weak};

/// One value of one metric: a gauge, as the JMX exporters type Connect's MBeans.
#[derive(Debug, Clone, Copy)]
pub struct Sample<'a> {
    /// Prometheus metric name.
    pub name: &'a str,
    /// One line of help text.
    pub help: &'a str,
    /// Label names and values.
    pub labels: &'a [(&'a str, &'a str)],
    /// The value.
    pub value: f64,
}

/// Something that reports metric samples when `/metrics` is scraped.
pub trait MetricSource: Send + Sync {
    /// Hands every current sample to `out`.
    fn collect(&self, out: &mut dyn FnMut(Sample<'_>));
}

static SOURCES: Mutex<Vec<Weak<dyn MetricSource>>> = Mutex::new(Vec::new());

/// Registers a source until its last `Arc` is dropped.
pub fn register(source: &Arc<dyn MetricSource>) {
    let mut sources = SOURCES.lock().unwrap_or_else(|e| e.into_inner());
    sources.retain(|s| s.strong_count() > 0);
    sources.push(Arc::downgrade(source));
}

/// Calls `out` with every sample of every live source (the lock is not held while
/// the sources collect).
pub fn collect_all(out: &mut dyn FnMut(Sample<'_>)) {
    let live: Vec<Arc<dyn MetricSource>> = {
        let mut sources = SOURCES.lock().unwrap_or_else(|e| e.into_inner());
        sources.retain(|s| s.strong_count() > 0);
        sources.iter().filter_map(Weak::upgrade).collect()
    };
    for source in live {
        source.collect(out);
    }
}

/// The Prometheus name of a Kafka Connect metric: `group` is the MBean type
/// (`source-task-metrics`), `attribute` its attribute (`source-record-poll-rate`).
///
/// `connect_name("source-task-metrics", "source-record-poll-rate")` is
/// `kafka_connect_source_task_source_record_poll_rate`;
/// `connect-worker-metrics` maps to `kafka_connect_worker_…`.
pub fn connect_name(group: &str, attribute: &str) -> String {
    let group = group.strip_suffix("-metrics").unwrap_or(group);
    let group = group.strip_prefix("connect-").unwrap_or(group);
    sanitize(&format!("kafka_connect_{group}_{attribute}"))
}

/// The Prometheus name of a Debezium MBean attribute (`MilliSecondsBehindSource` →
/// `debezium_metrics_millisecondsbehindsource`).
pub fn debezium_name(attribute: &str) -> String {
    sanitize(&format!("debezium_metrics_{attribute}"))
}

/// Lowercase, and every character outside `[a-z0-9_]` becomes `_`.
fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '_') => c,
            _ => '_',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_jmx_exporter_rules() {
        assert_eq!(
            connect_name("source-task-metrics", "source-record-poll-rate"),
            "kafka_connect_source_task_source_record_poll_rate"
        );
        assert_eq!(
            connect_name("connector-task-metrics", "offset-commit-avg-time-ms"),
            "kafka_connect_connector_task_offset_commit_avg_time_ms"
        );
        assert_eq!(
            connect_name("connect-worker-metrics", "connector-count"),
            "kafka_connect_worker_connector_count"
        );
        assert_eq!(
            connect_name("connect-worker-rebalance-metrics", "completed-rebalances-total"),
            "kafka_connect_worker_rebalance_completed_rebalances_total"
        );
        assert_eq!(
            connect_name("task-error-metrics", "total-record-errors"),
            "kafka_connect_task_error_total_record_errors"
        );
        assert_eq!(
            debezium_name("MilliSecondsBehindSource"),
            "debezium_metrics_millisecondsbehindsource"
        );
    }

    struct Fixed(f64);
    impl MetricSource for Fixed {
        fn collect(&self, out: &mut dyn FnMut(Sample<'_>)) {
            out(Sample {
                name: "ferry_test_fixed",
                help: "test",
                labels: &[("k", "v")],
                value: self.0,
            });
        }
    }

    #[test]
    fn a_dropped_source_is_no_longer_collected() {
        let count = |v: f64| {
            let mut n = 0;
            collect_all(&mut |s| {
                if s.name == "ferry_test_fixed" && s.value == v {
                    n += 1;
                }
            });
            n
        };
        let source: Arc<dyn MetricSource> = Arc::new(Fixed(41.5));
        register(&source);
        assert_eq!(count(41.5), 1);
        drop(source);
        assert_eq!(count(41.5), 0);
    }
}
