//! The `ferry distributed` process under test and its REST API.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ferry_test_support::worker::WorkerProps;
use serde_json::Value;

/// Worker properties as the end-to-end tests write them (Tansu needs batch.num.messages=1
/// for the internal topics' clients; see docs/compatibility.md), without the tests' short
/// offset flush interval: the benchmark measures Connect's default.
pub fn write_props(dir: &Path, name: &str, bootstrap: &str, prefix: &str, port: u16) -> PathBuf {
    let mut props = WorkerProps::new(prefix, bootstrap, port);
    props
        .set("offset.flush.interval.ms", "60000")
        .set("batch.num.messages", "1");
    let path = dir.join(format!("{name}.properties"));
    props.write(&path);
    path
}

pub struct Ferry {
    child: Option<Child>,
    pub port: u16,
    pub log: PathBuf,
    pub spawned_at: Instant,
}

impl Ferry {
    /// Spawns `ferry distributed PROPS` in its own worker group (Tansu 0.6 never expires a
    /// dead member's session, so every start joins a fresh group, as the tests do).
    pub fn spawn(bin: &Path, props: &Path, port: u16, group: &str, log: &Path) -> Ferry {
        let out = std::fs::File::create(log).expect("ferry log");
        let spawned_at = Instant::now();
        let child = Command::new(bin)
            .arg("distributed")
            .arg(props)
            .env("CONNECT_GROUP_ID", group)
            .env(
                "RUST_LOG",
                std::env::var("FERRY_BENCH_RUST_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", bin.display()));
        Ferry {
            child: Some(child),
            port,
            log: log.to_owned(),
            spawned_at,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// True once `GET /` answers 200.
    pub fn answers(&self) -> bool {
        http_ok(self.port, "/")
    }

    /// Polls `GET /` every 2 ms; returns the time from spawn to the first 200.
    pub fn wait_ready(&mut self, timeout: Duration) -> Duration {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.answers() {
                return self.spawned_at.elapsed();
            }
            if let Some(st) = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                panic!("ferry exited with {st}; log:\n{}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        panic!(
            "ferry did not answer GET / in {timeout:?}; log:\n{}",
            self.log_text()
        );
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM and wait (kill -9 after 30 s).
    pub fn terminate(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SAFETY: plain signal to our own child.
            unsafe {
                libc::kill(c.id() as i32, libc::SIGTERM);
            }
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if c.try_wait().ok().flatten().is_some() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Ferry {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// True if `GET path` on 127.0.0.1:`port` answers 200 (HTTP/1.0, 2 s read timeout).
pub fn http_ok(port: u16, path: &str) -> bool {
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = s.write_all(format!("GET {path} HTTP/1.0\r\n\r\n").as_bytes());
    let mut buf = [0u8; 16];
    s.read(&mut buf).is_ok_and(|n| n >= 12 && &buf[9..12] == b"200")
}

/// Polls `GET path` every `every` until it answers 200; the time from `since`, or None
/// after `timeout`.
pub fn poll_ok(
    port: u16,
    path: &str,
    since: Instant,
    every: Duration,
    timeout: Duration,
) -> Option<Duration> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if http_ok(port, path) {
            return Some(since.elapsed());
        }
        std::thread::sleep(every);
    }
    None
}

pub async fn call(method: &str, url: &str, body: Option<&Value>) -> (u16, Value) {
    let client = reqwest::Client::new();
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = client.request(m, url).timeout(Duration::from_secs(60));
    if let Some(b) = body {
        req = req.header("Content-Type", "application/json").body(b.to_string());
    }
    let resp = req.send().await.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// Waits until the connector and its task are RUNNING.
/// A runtime under measurement, Ferry's worker or the real Kafka Connect's: where its REST
/// API is, its process and its log.
#[derive(Clone, Debug)]
pub struct Target {
    /// `Ferry` or `Kafka Connect 4.3 + Debezium 3.6.3`.
    pub label: &'static str,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The worker's process id (the JVM for Kafka Connect).
    pub pid: u32,
    /// Its log file.
    pub log: PathBuf,
}

impl Target {
    /// Ferry's worker.
    pub fn ferry(f: &Ferry) -> Target {
        Target {
            label: "Ferry",
            base: format!("http://127.0.0.1:{}", f.port),
            pid: f.pid(),
            log: f.log.clone(),
        }
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The whole log.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// Waits until the connector and its tasks are RUNNING (panics after 120 s or on FAILED).
pub async fn wait_running(f: &Target, name: &str) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (st, body) = call("GET", &f.url(&format!("/connectors/{name}/status")), None).await;
        if st == 200
            && body["connector"]["state"] == "RUNNING"
            && body["tasks"]
                .as_array()
                .is_some_and(|t| !t.is_empty() && t.iter().all(|t| t["state"] == "RUNNING"))
        {
            return;
        }
        if body["tasks"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t["state"] == "FAILED"))
        {
            panic!("{name} failed: {body}\nlog:\n{}", f.log_text());
        }
        assert!(
            Instant::now() < deadline,
            "{name} not RUNNING: {body}\nlog:\n{}",
            f.log_text()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
