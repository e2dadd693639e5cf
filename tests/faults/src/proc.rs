//! A `ferry distributed` process, its worker properties, and HTTP helpers
//! (modelled on crates/ferry/tests/common/mod.rs).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use ferry_test_support::net::free_port;
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
        let prefix = crate::unique(test);
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut lines = vec![
            format!("bootstrap.servers={bootstrap}"),
            format!("group.id={prefix}-group"),
            format!("config.storage.topic={prefix}-configs"),
            format!("offset.storage.topic={prefix}-offsets"),
            format!("status.storage.topic={prefix}-status"),
            "config.storage.replication.factor=1".into(),
            "offset.storage.replication.factor=1".into(),
            "status.storage.replication.factor=1".into(),
            // Few partitions: the fault suite reads the offsets topic back often.
            "offset.storage.partitions=1".into(),
            "status.storage.partitions=1".into(),
            "key.converter=org.apache.kafka.connect.json.JsonConverter".into(),
            "value.converter=org.apache.kafka.connect.json.JsonConverter".into(),
            "offset.flush.interval.ms=500".into(),
            format!("listeners=http://127.0.0.1:{port}"),
            // Tansu 0.6's high watermark is wrong after multi-record batches (docs/compatibility.md).
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

/// A running `ferry distributed`; killed when dropped.
pub struct Ferry {
    child: Option<Child>,
    pub base: String,
    pub log: PathBuf,
}

impl Ferry {
    pub fn spawn(props: &Path, port: u16, log: &Path, env: &[(&str, &str)]) -> Ferry {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let mut cmd = Command::new(crate::bin::ferry_bin());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd
            .arg("distributed")
            .arg(props)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("spawn ferry");
        Ferry {
            child: Some(child),
            base: format!("http://127.0.0.1:{port}"),
            log: log.to_owned(),
        }
    }

    pub fn wait_ready(&mut self) {
        use std::io::{Read, Write};
        let addr = self.base.trim_start_matches("http://").to_owned();
        let deadline = Instant::now() + Duration::from_secs(90);
        while Instant::now() < deadline {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().unwrap()) {
                panic!(
                    "ferry exited with {status} during start-up; log:\n{}",
                    self.log_tail()
                );
            }
            if let Ok(mut s) = std::net::TcpStream::connect(&addr) {
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                let _ = s.write_all(b"GET /health HTTP/1.0\r\n\r\n");
                let mut buf = [0u8; 16];
                if s.read(&mut buf).is_ok_and(|n| n >= 12 && &buf[9..12] == b"200") {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("ferry did not start; log:\n{}", self.log_tail());
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The last 150 lines of the log.
    pub fn log_tail(&self) -> String {
        let text = self.log_text();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(150)..].join("\n")
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// kill -9 and reap.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM, then the exit status (panics after 60 s).
    pub fn terminate(&mut self) -> ExitStatus {
        let mut c = self.child.take().expect("running");
        unsafe {
            libc::kill(c.id() as i32, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = c.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "ferry did not exit after SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Ferry {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

/// One request with a time limit; `Err` on transport failure or time-out.
pub async fn try_call(
    method: &str,
    url: &str,
    body: Option<&str>,
    timeout: Duration,
) -> Result<Answer, String> {
    let client = reqwest::Client::new();
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = client.request(m, url).timeout(timeout);
    if let Some(b) = body {
        req = req.header("Content-Type", "application/json").body(b.to_owned());
    }
    let resp = req.send().await.map_err(|e| format!("{method} {url}: {e}"))?;
    let status = resp.status().as_u16();
    let text = resp.text().await.map_err(|e| format!("{method} {url}: {e}"))?;
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Ok(Answer { status, body })
}

pub async fn call(method: &str, url: &str, body: Option<&str>) -> Answer {
    try_call(method, url, body, Duration::from_secs(120))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
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
