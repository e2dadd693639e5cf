//! Running `ferry distributed` and talking to its REST API.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::LabError;

/// Names of the worker's group and internal topics (as in the compose file).
pub const GROUP_ID: &str = "outbox-lab";
pub const CONFIG_TOPIC: &str = "ferry_connect_configs";
pub const OFFSET_TOPIC: &str = "ferry_connect_offsets";
pub const STATUS_TOPIC: &str = "ferry_connect_statuses";

/// `worker.properties` for one worker on `bootstrap` serving REST on 127.0.0.1:`rest_port`.
///
/// Converters are debezium/connect's defaults (JsonConverter, schemas enabled); the
/// consumer unwraps the envelope (see [`crate::event`]).
pub fn worker_properties(bootstrap: &str, rest_port: u16) -> String {
    [
        format!("bootstrap.servers={bootstrap}"),
        format!("group.id={GROUP_ID}"),
        format!("config.storage.topic={CONFIG_TOPIC}"),
        format!("offset.storage.topic={OFFSET_TOPIC}"),
        format!("status.storage.topic={STATUS_TOPIC}"),
        "config.storage.replication.factor=1".into(),
        "offset.storage.replication.factor=1".into(),
        "status.storage.replication.factor=1".into(),
        "key.converter=org.apache.kafka.connect.json.JsonConverter".into(),
        "value.converter=org.apache.kafka.connect.json.JsonConverter".into(),
        "offset.flush.interval.ms=1000".into(),
        format!("listeners=http://127.0.0.1:{rest_port}"),
        "# Tansu 0.6 reports a wrong high watermark after a multi-record produce batch".into(),
        "# (docs/compatibility.md): one record per batch keeps read-to-end exact, for the".into(),
        "# internal topics (top-level setting) and for Order_events (producer.*): a consumer".into(),
        "# resuming from a committed offset past that wrong watermark would get nothing.".into(),
        "batch.num.messages=1".into(),
        "producer.batch.num.messages=1".into(),
    ]
    .join("\n")
        + "\n"
}

/// A Kafka Connect REST client.
#[derive(Clone, Debug)]
pub struct Rest {
    pub base: String,
    http: reqwest::Client,
}

impl Rest {
    /// Client for `http://127.0.0.1:PORT`.
    pub fn new(port: u16) -> Rest {
        Rest {
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("http client"),
        }
    }

    /// Sends a request; answers status and JSON body (Null when empty or not JSON).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&str>,
    ) -> Result<(u16, Value), LabError> {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.header("Content-Type", "application/json").body(b.to_owned());
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let text = resp.text().await?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    /// Waits until `GET /` answers 200.
    pub async fn wait_ready(&self, timeout: Duration) -> Result<(), LabError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok((200, _)) = self.call(reqwest::Method::GET, "/", None).await {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(LabError::Step(format!(
                    "ferry's REST API at {} did not answer",
                    self.base
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `GET /connectors/NAME/status`.
    pub async fn status(&self, name: &str) -> Result<Value, LabError> {
        let (code, body) = self
            .call(reqwest::Method::GET, &format!("/connectors/{name}/status"), None)
            .await?;
        if code != 200 {
            return Err(LabError::Step(format!(
                "GET /connectors/{name}/status answered {code}: {body}"
            )));
        }
        Ok(body)
    }

    /// Waits until the connector and all its tasks are RUNNING; fails on FAILED.
    pub async fn wait_running(&self, name: &str, timeout: Duration) -> Result<Value, LabError> {
        let deadline = Instant::now() + timeout;
        loop {
            let status = self.status(name).await.unwrap_or(Value::Null);
            let tasks = status["tasks"].as_array().cloned().unwrap_or_default();
            let states = std::iter::once(&status["connector"])
                .chain(tasks.iter())
                .map(|s| s["state"].as_str());
            let states: Vec<Option<&str>> = states.collect();
            if states.contains(&Some("FAILED")) {
                return Err(LabError::Step(format!("connector {name} failed: {status:#}")));
            }
            if !tasks.is_empty() && states.iter().all(|s| *s == Some("RUNNING")) {
                return Ok(status);
            }
            if Instant::now() >= deadline {
                return Err(LabError::Step(format!(
                    "connector {name} not RUNNING in time: {status}"
                )));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}
