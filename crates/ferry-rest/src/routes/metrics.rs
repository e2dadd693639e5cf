//! `GET /metrics`: the worker's metrics in Prometheus text format (version 0.0.4).
//!
//! Connector and task states and the worker's counts come from the herder; task
//! throughput and plugin gauges from the sources registered in
//! [`ferry_core::metrics`]; process memory from `/proc/self/statm`.

use std::fmt;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use ferry_core::metrics::{collect_all, connect_name, Sample};
use indexmap::IndexMap;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use super::AppState;
use crate::entities::ConnectorStateInfo;

/// The `Content-Type` of Prometheus text format 0.0.4.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// One metric name with its help text and its labelled values.
#[derive(Debug, Default)]
struct Family {
    help: String,
    rows: Vec<(Vec<(String, String)>, f64)>,
}

/// Every family of one scrape, in the order first seen.
#[derive(Debug, Default)]
struct Families(IndexMap<String, Family>);

impl Families {
    fn add(&mut self, s: Sample<'_>) {
        let family = self.0.entry(s.name.to_owned()).or_insert_with(|| Family {
            help: s.help.to_owned(),
            rows: Vec::new(),
        });
        let labels = s
            .labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        family.rows.push((labels, s.value));
    }

    fn gauge(&mut self, name: &str, help: &str, labels: &[(&str, &str)], value: f64) {
        self.add(Sample {
            name,
            help,
            labels,
            value,
        });
    }
}

impl prometheus_client::collector::Collector for Families {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), fmt::Error> {
        for (name, family) in &self.0 {
            let mut metric = encoder.encode_descriptor(name, &family.help, None, MetricType::Gauge)?;
            for (labels, value) in &family.rows {
                ConstGauge::new(*value).encode(metric.encode_family(labels)?)?;
            }
        }
        Ok(())
    }
}

/// `GET /metrics`.
pub(super) async fn scrape(State(s): State<AppState>) -> Response {
    let mut families = Families::default();
    herder_metrics(&s, &mut families).await;
    process_metrics(&mut families);
    collect_all(&mut |sample| families.add(sample));
    let mut registry = Registry::default();
    registry.register_collector(Box::new(families));
    let mut text = String::with_capacity(8192);
    if let Err(e) = prometheus_client::encoding::prometheus_text::encode(&mut text, &registry) {
        let msg = format!("could not encode the metrics: {e}");
        return (StatusCode::INTERNAL_SERVER_ERROR, msg).into_response();
    }
    let mut resp = (StatusCode::OK, text).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(TEXT_FORMAT));
    resp
}

/// Connector and task states (`connector-metrics`, `connector-task-metrics` status) and
/// the worker's counts (`connect-worker-metrics`).
async fn herder_metrics(s: &AppState, out: &mut Families) {
    let Ok(names) = s.call(s.herder.connectors()).await else {
        return;
    };
    let mut states = Vec::with_capacity(names.len());
    for name in &names {
        if let Ok(info) = s.call(s.herder.connector_status(name)).await {
            states.push(info);
        }
    }
    worker_families(&states, out);
}

/// The families derived from the connectors' statuses.
fn worker_families(states: &[ConnectorStateInfo], out: &mut Families) {
    let connector_count = connect_name("connect-worker-metrics", "connector-count");
    let task_count = connect_name("connect-worker-metrics", "task-count");
    let tasks: usize = states.iter().map(|c| c.tasks.len()).sum();
    out.gauge(
        &connector_count,
        "The number of connectors run in this worker.",
        &[],
        states.len() as f64,
    );
    out.gauge(
        &task_count,
        "The number of tasks run in this worker.",
        &[],
        tasks as f64,
    );
    let status = connect_name("connector-metrics", "status");
    let task_status = connect_name("connector-task-metrics", "status");
    for c in states {
        let state = c.connector.state.as_str().to_ascii_lowercase();
        let labels = [("connector", c.name.as_str()), ("status", state.as_str())];
        out.gauge(
            &status,
            "The status of the connector (value 1 for the status label).",
            &labels,
            1.0,
        );
        for t in &c.tasks {
            let task = t.id.to_string();
            let state = t.state.as_str().to_ascii_lowercase();
            let labels = [
                ("connector", c.name.as_str()),
                ("task", &task),
                ("status", &state),
            ];
            out.gauge(
                &task_status,
                "The status of the connector task (value 1 for the status label).",
                &labels,
                1.0,
            );
        }
        for (attribute, wanted) in [
            ("connector-running-task-count", "RUNNING"),
            ("connector-paused-task-count", "PAUSED"),
            ("connector-failed-task-count", "FAILED"),
            ("connector-unassigned-task-count", "UNASSIGNED"),
            ("connector-restarting-task-count", "RESTARTING"),
        ] {
            let n = c.tasks.iter().filter(|t| t.state.as_str() == wanted).count();
            let help = "The number of the connector's tasks in this state.";
            let name = connect_name("connect-worker-metrics", attribute);
            out.gauge(&name, help, &[("connector", &c.name)], n as f64);
        }
        let name = connect_name("connect-worker-metrics", "connector-total-task-count");
        let help = "The number of tasks of the connector on the worker.";
        out.gauge(&name, help, &[("connector", &c.name)], c.tasks.len() as f64);
    }
}

/// Resident memory of the process, from `/proc/self/statm` (pages × page size).
fn process_metrics(out: &mut Families) {
    if let Some(bytes) = resident_bytes() {
        let help = "Resident memory size in bytes.";
        out.gauge("process_resident_memory_bytes", help, &[], bytes as f64);
    }
}

/// The resident set size, or `None` where `/proc` is absent.
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * page_size())
}

/// The page size: `KernelPageSize` of the first mapping in `/proc/self/smaps`, read
/// once; 4 KiB when absent.
fn page_size() -> u64 {
    static SIZE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *SIZE.get_or_init(|| {
        std::fs::read_to_string("/proc/self/smaps")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("KernelPageSize:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            })
            .map(|kb| kb * 1024)
            .unwrap_or(4096)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entities::{ConnectorState, ConnectorType, State as St, TaskState};

    fn encode(families: Families) -> String {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(families));
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &registry).unwrap();
        text
    }

    #[test]
    fn statuses_become_labelled_gauges() {
        let task = |id, state| TaskState {
            id,
            state,
            worker_id: "w:8083".into(),
            version: None,
            trace: None,
        };
        let info = ConnectorStateInfo {
            name: "orders".into(),
            connector: ConnectorState {
                state: St::Running,
                worker_id: "w:8083".into(),
                version: None,
                trace: None,
            },
            tasks: vec![task(0, St::Running), task(1, St::Failed)],
            ty: ConnectorType::Source,
        };
        let mut families = Families::default();
        worker_families(&[info], &mut families);
        let text = encode(families);
        assert!(
            text.contains("# TYPE kafka_connect_worker_connector_count gauge\n"),
            "{text}"
        );
        assert!(
            text.contains("kafka_connect_worker_connector_count 1.0\n"),
            "{text}"
        );
        assert!(text.contains("kafka_connect_worker_task_count 2.0\n"), "{text}");
        assert!(
            text.contains("kafka_connect_connector_status{connector=\"orders\",status=\"running\"} 1.0\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "kafka_connect_connector_task_status{connector=\"orders\",task=\"1\",status=\"failed\"} 1.0\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("kafka_connect_worker_connector_failed_task_count{connector=\"orders\"} 1.0\n"),
            "{text}"
        );
    }

    #[test]
    fn resident_memory_is_read() {
        let bytes = resident_bytes().expect("/proc/self/statm");
        assert!(bytes > 1024 * 1024, "{bytes}");
    }
}
