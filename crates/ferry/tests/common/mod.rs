//! Drives the real `ferry` binary against a real (Tansu) broker.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ferry_test_support::kafka::Tansu;
use ferry_test_support::net::free_port;
pub use ferry_test_support::worker::{call, Answer, FerryProcess as Ferry};
use serde_json::Value;

/// Unique names for one test: topics, group, connector prefix.
pub struct Names {
    pub prefix: String,
}

impl Names {
    pub fn new(test: &str) -> Names {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        Names {
            prefix: format!("{test}-{}-{nanos}", std::process::id()),
        }
    }
    pub fn topic(&self, what: &str) -> String {
        format!("{}-{what}", self.prefix)
    }
}

/// Settings of one worker.
pub struct WorkerSetup {
    pub dir: tempfile::TempDir,
    pub props: PathBuf,
    pub port: u16,
    pub names: Names,
}

impl WorkerSetup {
    /// A distributed worker on the shared broker with unique internal topics.
    pub fn new(test: &str, broker: &Tansu, extra: &[(&str, &str)]) -> WorkerSetup {
        let names = Names::new(test);
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut lines = vec![
            format!("bootstrap.servers={}", broker.bootstrap),
            format!("group.id={}", names.topic("group")),
            format!("config.storage.topic={}", names.topic("configs")),
            format!("offset.storage.topic={}", names.topic("offsets")),
            format!("status.storage.topic={}", names.topic("status")),
            "config.storage.replication.factor=1".into(),
            "offset.storage.replication.factor=1".into(),
            "status.storage.replication.factor=1".into(),
            "key.converter=org.apache.kafka.connect.json.JsonConverter".into(),
            "value.converter=org.apache.kafka.connect.json.JsonConverter".into(),
            "offset.flush.interval.ms=500".into(),
            format!("listeners=http://127.0.0.1:{port}"),
            // Tansu 0.6 reports a wrong high watermark after a multi-record produce batch;
            // one record per batch on the internal topics keeps read-to-end exact there.
            "batch.num.messages=1".into(),
        ];
        for (k, v) in extra {
            lines.retain(|l| !l.starts_with(&format!("{k}=")));
            lines.push(format!("{k}={v}"));
        }
        let props = dir.path().join("worker.properties");
        std::fs::write(&props, lines.join("\n")).unwrap();
        WorkerSetup {
            dir,
            props,
            port,
            names,
        }
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }

    /// Starts a worker. Each start joins its own worker group: Tansu 0.6 never expires the
    /// session of a killed member, so a restart in the same group would wait forever
    /// (see docs/compatibility.md). [`WorkerSetup::start_in_group`] shares a group on purpose.
    pub fn start(&self) -> Ferry {
        let group = format!("{}-{}", self.names.topic("group"), free_port());
        Ferry::start_binary(
            ferry_exe(),
            &self.props,
            self.port,
            &self.dir.path().join("ferry.log"),
            &[("CONNECT_GROUP_ID", &group)],
        )
    }

    /// Starts a worker in the group of the properties file, on `port`, logging to `log`.
    pub fn start_in_group(&self, port: u16, log: &str) -> Ferry {
        let props = std::fs::read_to_string(&self.props).unwrap().replace(
            &format!("listeners=http://127.0.0.1:{}", self.port),
            &format!("listeners=http://127.0.0.1:{port}"),
        );
        let path = self.dir.path().join(format!("{log}.properties"));
        std::fs::write(&path, props).unwrap();
        spawn_ferry(&path, port, &self.dir.path().join(format!("{log}.log")), &[])
    }
}

/// The binary under test, as cargo built it for this package's tests.
pub fn ferry_exe() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_ferry"))
}

/// Spawns `ferry distributed PROPS` without waiting.
pub fn spawn_ferry(props: &Path, port: u16, log: &Path, env: &[(&str, &str)]) -> Ferry {
    Ferry::spawn_binary(ferry_exe(), props, port, log, env)
}

/// `POST /connectors` with `{"name": name, "config": config}`.
pub async fn create_connector(f: &Ferry, name: &str, config: &Value) -> Answer {
    let body = serde_json::json!({"name": name, "config": config});
    call("POST", &f.url("/connectors"), Some(&body.to_string())).await
}

/// Polls `f` every 100 ms until it returns true (true) or `timeout` passes (false).
pub async fn poll_until<F, Fut>(timeout: Duration, mut f: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// Polls `f` until it returns true; panics after `timeout`.
pub async fn eventually<F, Fut>(timeout: Duration, what: &str, f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    assert!(poll_until(timeout, f).await, "timed out waiting for {what}");
}

/// Like [`eventually`], but shows the worker's log on time-out.
pub async fn eventually_on<F, Fut>(ferry: &Ferry, timeout: Duration, what: &str, f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    assert!(
        poll_until(timeout, f).await,
        "timed out waiting for {what}; log:\n{}",
        ferry.log_text()
    );
}

/// The connector and task states from `/status`.
pub async fn states(f: &Ferry, name: &str) -> (String, Vec<String>) {
    let a = call("GET", &f.url(&format!("/connectors/{name}/status")), None).await;
    if a.status != 200 {
        return (format!("HTTP {}", a.status), Vec::new());
    }
    let c = a.body["connector"]["state"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let t = a.body["tasks"]
        .as_array()
        .map(|ts| {
            ts.iter()
                .map(|t| t["state"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default();
    (c, t)
}

pub async fn wait_state(f: &Ferry, name: &str, connector: &str, tasks: &[&str]) {
    let want: Vec<String> = tasks.iter().map(|s| s.to_string()).collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (c, t) = states(f, name).await;
        if c == connector && t == want {
            return;
        }
        if Instant::now() > deadline {
            panic!(
                "{name}: wanted {connector} {want:?}, have {c} {t:?}\nlog:\n{}",
                f.log_text()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Lines of a text file (empty when missing).
pub fn read_lines(p: &Path) -> Vec<String> {
    std::fs::read_to_string(p)
        .map(|s| s.lines().map(str::to_owned).collect())
        .unwrap_or_default()
}
