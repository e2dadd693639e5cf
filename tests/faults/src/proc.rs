//! The fault suite's worker set-up (a group per start, few internal partitions) on
//! `ferry_test_support::worker`, and status helpers.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use ferry_test_support::net::free_port;
pub use ferry_test_support::worker::{call, try_call, Answer, FerryProcess as Ferry};
use ferry_test_support::worker::{unique, WorkerProps};
use serde_json::Value;

/// Worker properties with unique internal topics.
pub struct WorkerSetup {
    pub dir: tempfile::TempDir,
    pub props: PathBuf,
    pub port: u16,
    pub prefix: String,
    starts: std::cell::Cell<u32>,
}

impl WorkerSetup {
    pub fn new(test: &str, bootstrap: &str, extra: &[(&str, &str)]) -> WorkerSetup {
        let prefix = unique(test);
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut props = WorkerProps::new(&prefix, bootstrap, port);
        props
            // Few partitions: the fault suite reads the offsets topic back often.
            .set("offset.storage.partitions", "1")
            .set("status.storage.partitions", "1")
            // Tansu 0.6's high watermark is wrong after multi-record batches (docs/compatibility.md).
            .set("batch.num.messages", "1")
            .set_all(extra);
        let path = dir.path().join("worker.properties");
        props.write(&path);
        WorkerSetup {
            dir,
            props: path,
            port,
            prefix,
            starts: std::cell::Cell::new(0),
        }
    }

    pub fn offsets_topic(&self) -> String {
        format!("{}-offsets", self.prefix)
    }

    /// Spawns a worker in a group of its own (Tansu 0.6 never expires a killed member's
    /// session, see docs/compatibility.md) without waiting for it.
    pub fn spawn(&self) -> Ferry {
        let n = self.starts.get() + 1;
        self.starts.set(n);
        let group = format!("{}-group-{n}", self.prefix);
        Ferry::spawn(
            &self.props,
            self.port,
            &self.dir.path().join("ferry.log"),
            &[("CONNECT_GROUP_ID", &group)],
        )
    }

    /// Spawns and waits until `/health` answers.
    pub fn start(&self) -> Ferry {
        let mut f = self.spawn();
        f.wait_ready();
        f
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("ferry.log")).unwrap_or_default()
    }
}

/// The connector state, the task states and the first task's trace.
pub async fn status(f: &Ferry, name: &str) -> (String, Vec<String>, Option<String>) {
    let a = call("GET", &f.url(&format!("/connectors/{name}/status")), None).await;
    if a.status != 200 {
        return (format!("HTTP {}", a.status), Vec::new(), None);
    }
    parse_status(&a.body)
}

pub fn parse_status(body: &Value) -> (String, Vec<String>, Option<String>) {
    let c = body["connector"]["state"].as_str().unwrap_or_default().to_owned();
    let tasks = body["tasks"].as_array().cloned().unwrap_or_default();
    let t = tasks
        .iter()
        .map(|t| t["state"].as_str().unwrap_or_default().to_owned())
        .collect();
    let trace = tasks.iter().find_map(|t| t["trace"].as_str().map(str::to_owned));
    (c, t, trace)
}

/// Waits until the connector and its tasks reach the given states; panics after `timeout`.
pub async fn wait_state(f: &Ferry, name: &str, connector: &str, tasks: &[&str], timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let (c, t, trace) = status(f, name).await;
        if c == connector && t.iter().map(String::as_str).eq(tasks.iter().copied()) {
            return;
        }
        if Instant::now() > deadline {
            panic!(
                "{name}: wanted {connector} {tasks:?}, have {c} {t:?} trace {trace:?}\nlog:\n{}",
                f.log_tail()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The first task's worker and state, as the worker at `base` (`http://host:port`) reports them.
pub async fn task_placement(base: &str, connector: &str) -> Option<(String, String)> {
    let a = try_call(
        "GET",
        &format!("{base}/connectors/{connector}/status"),
        None,
        Duration::from_secs(5),
    )
    .await
    .ok()?;
    if a.status != 200 {
        return None;
    }
    let (_, states, _) = parse_status(&a.body);
    let worker = a.body["tasks"][0]["worker_id"].as_str()?.to_owned();
    Some((worker, states.first()?.clone()))
}
