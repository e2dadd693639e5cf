//! The real `ferry` binary as a process under test: where it is, its worker properties,
//! starting and stopping it, and JSON calls to its REST API.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The `ferry` executable: `$FERRY_BIN` when set, else built once per test process with
/// `cargo build -p ferry --message-format=json` (same profile and target dir as the running
/// `cargo test`, so under `cargo test --workspace` it is already fresh and this takes a
/// second). Inside the `ferry` package, `env!("CARGO_BIN_EXE_ferry")` is the same file.
pub fn ferry_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(p) = std::env::var_os("FERRY_BIN") {
            let p = PathBuf::from(p);
            assert!(p.exists(), "FERRY_BIN={} does not exist", p.display());
            return p;
        }
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let workspace = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
        let mut cmd = Command::new(cargo);
        // Drop what `cargo test` sets for the test process (package metadata, OUT_DIR, ...):
        // build scripts that watch such variables would otherwise rebuild on every switch
        // between the outer `cargo test` and this build.
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy();
            let set_by_cargo_for_tests = k.starts_with("CARGO_PKG_")
                || k.starts_with("CARGO_MANIFEST_")
                || k.starts_with("CARGO_BIN_")
                || [
                    "CARGO_CRATE_NAME",
                    "CARGO_PRIMARY_PACKAGE",
                    "CARGO_TARGET_TMPDIR",
                    "CARGO_RUSTC_CURRENT_DIR",
                    "OUT_DIR",
                    "RUST_TEST_THREADS",
                ]
                .contains(&k.as_ref());
            if set_by_cargo_for_tests {
                cmd.env_remove(k.as_ref());
            }
        }
        let out = cmd
            .current_dir(workspace)
            .args(["build", "-p", "ferry", "--bin", "ferry", "--message-format=json"])
            .stderr(Stdio::inherit())
            .output()
            .expect("run cargo build -p ferry");
        assert!(out.status.success(), "cargo build -p ferry failed");
        let text = String::from_utf8_lossy(&out.stdout);
        for line in text.lines() {
            let Ok(v) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            if v["reason"] == "compiler-artifact" && v["target"]["name"] == "ferry" {
                if let Some(exe) = v["executable"].as_str() {
                    return PathBuf::from(exe);
                }
            }
        }
        panic!("cargo build -p ferry reported no ferry executable");
    })
    .clone()
}

/// A name unique to this process and moment (for topics, groups, databases, slots).
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{prefix}_{}_{nanos}", std::process::id())
}

/// Properties of a distributed worker (Ferry's or Kafka Connect's: the same file serves
/// both), with internal topics and group named after `prefix`. Later settings replace
/// earlier ones of the same key.
#[derive(Clone, Debug)]
pub struct WorkerProps {
    entries: Vec<(String, String)>,
}

impl WorkerProps {
    /// The settings every test worker needs: the broker, `PREFIX-group`, `PREFIX-configs`,
    /// `PREFIX-offsets` and `PREFIX-status` with replication factor 1, JSON converters, a
    /// 500 ms offset flush, and REST on `127.0.0.1:port`.
    pub fn new(prefix: &str, bootstrap: &str, port: u16) -> WorkerProps {
        let mut props = WorkerProps { entries: Vec::new() };
        props
            .set("bootstrap.servers", bootstrap)
            .set("group.id", format!("{prefix}-group"))
            .set("config.storage.topic", format!("{prefix}-configs"))
            .set("offset.storage.topic", format!("{prefix}-offsets"))
            .set("status.storage.topic", format!("{prefix}-status"))
            .set("config.storage.replication.factor", "1")
            .set("offset.storage.replication.factor", "1")
            .set("status.storage.replication.factor", "1")
            .set("key.converter", "org.apache.kafka.connect.json.JsonConverter")
            .set("value.converter", "org.apache.kafka.connect.json.JsonConverter")
            .set("offset.flush.interval.ms", "500")
            .set("listeners", format!("http://127.0.0.1:{port}"));
        props
    }

    /// Sets `key` to `value`, replacing an earlier value.
    pub fn set(&mut self, key: &str, value: impl Into<String>) -> &mut WorkerProps {
        let value = value.into();
        match self.entries.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = value,
            None => self.entries.push((key.to_owned(), value)),
        }
        self
    }

    /// Sets every pair of `extra`.
    pub fn set_all(&mut self, extra: &[(&str, &str)]) -> &mut WorkerProps {
        for (k, v) in extra {
            self.set(k, *v);
        }
        self
    }

    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Writes the properties file at `path`.
    pub fn write(&self, path: &Path) {
        let text: String = self.entries.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }
}

/// A running `ferry distributed`; killed when dropped.
pub struct FerryProcess {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Where its stdout and stderr go (appended).
    pub log: PathBuf,
}

impl FerryProcess {
    /// Spawns `ferry distributed PROPS` with `env`, REST expected on `port`, without waiting.
    pub fn spawn(props: &Path, port: u16, log: &Path, env: &[(&str, &str)]) -> FerryProcess {
        Self::spawn_binary(&ferry_bin(), props, port, log, env)
    }

    /// [`FerryProcess::spawn`] with an explicit executable.
    pub fn spawn_binary(
        bin: &Path,
        props: &Path,
        port: u16,
        log: &Path,
        env: &[(&str, &str)],
    ) -> FerryProcess {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap_or_else(|e| panic!("open {}: {e}", log.display()));
        let mut cmd = Command::new(bin);
        // `FERRY_TEST_LOG` (a `RUST_LOG` filter) raises a test worker's log level for a diagnosis.
        cmd.env(
            "RUST_LOG",
            std::env::var("FERRY_TEST_LOG").unwrap_or_else(|_| "info".to_owned()),
        );
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd
            .arg("distributed")
            .arg(props)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", bin.display()));
        FerryProcess {
            child: Some(child),
            base: format!("http://127.0.0.1:{port}"),
            log: log.to_owned(),
        }
    }

    /// Spawns and waits until `GET /health` answers 200.
    pub fn start(props: &Path, port: u16, log: &Path, env: &[(&str, &str)]) -> FerryProcess {
        Self::start_binary(&ferry_bin(), props, port, log, env)
    }

    /// [`FerryProcess::start`] with an explicit executable.
    pub fn start_binary(
        bin: &Path,
        props: &Path,
        port: u16,
        log: &Path,
        env: &[(&str, &str)],
    ) -> FerryProcess {
        let mut f = Self::spawn_binary(bin, props, port, log, env);
        f.wait_ready();
        f
    }

    /// True once `GET /health` answers 200 (the worker has started).
    pub fn is_ready(&self) -> bool {
        health_is_ok(
            self.base.trim_start_matches("http://"),
            Duration::from_millis(500),
        )
    }

    /// Waits until `GET /health` answers 200; panics with the log's tail when the process
    /// exits first or 90 s pass.
    pub fn wait_ready(&mut self) {
        let addr = self.base.trim_start_matches("http://").to_owned();
        let deadline = Instant::now() + Duration::from_secs(90);
        while Instant::now() < deadline {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().unwrap()) {
                panic!(
                    "ferry exited with {status} during start-up; log:\n{}",
                    self.log_tail()
                );
            }
            if health_is_ok(&addr, Duration::from_secs(5)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("ferry did not start; log:\n{}", self.log_tail());
    }

    /// The whole log.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The last 150 lines of the log.
    pub fn log_tail(&self) -> String {
        let text = self.log_text();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(150)..].join("\n")
    }

    /// The process id (panics once stopped).
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
        // SAFETY: kill(2) on a child we own and have not reaped.
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

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for FerryProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// `GET /health` over plain HTTP/1.0 answers 200 within `timeout`.
fn health_is_ok(addr: &str, timeout: Duration) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(addr) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(timeout));
    let _ = s.write_all(b"GET /health HTTP/1.0\r\n\r\n");
    let mut buf = [0u8; 16];
    s.read(&mut buf).is_ok_and(|n| n >= 12 && &buf[9..12] == b"200")
}

/// An HTTP answer: status, `Location` header, and the body as JSON (a JSON string when it
/// is not JSON, `null` when empty).
#[derive(Debug, Clone)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The body.
    pub body: Value,
    /// The `Location` header, if any.
    pub location: Option<String>,
}

/// One request with a JSON body (if any) and a time limit; `Err` on transport failure or
/// time-out.
pub async fn try_call(
    method: &str,
    url: &str,
    body: Option<&str>,
    timeout: Duration,
) -> Result<Answer, String> {
    let client = reqwest::Client::new();
    let m = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| format!("method {method}: {e}"))?;
    let mut req = client.request(m, url).timeout(timeout);
    if let Some(b) = body {
        req = req.header("Content-Type", "application/json").body(b.to_owned());
    }
    let resp = req.send().await.map_err(|e| format!("{method} {url}: {e}"))?;
    let status = resp.status().as_u16();
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let text = resp.text().await.map_err(|e| format!("{method} {url}: {e}"))?;
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Ok(Answer {
        status,
        body,
        location,
    })
}

/// [`try_call`] with a 120 s limit; panics on transport failure.
pub async fn call(method: &str, url: &str, body: Option<&str>) -> Answer {
    try_call(method, url, body, Duration::from_secs(120))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_settings_replace_earlier_ones_in_place() {
        let mut p = WorkerProps::new("t", "127.0.0.1:9092", 8083);
        p.set("offset.flush.interval.ms", "200").set("a.b", "c");
        assert_eq!(p.get("offset.flush.interval.ms"), Some("200"));
        assert_eq!(p.get("group.id"), Some("t-group"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.properties");
        p.write(&path);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.matches("offset.flush.interval.ms=").count(), 1);
        assert!(text.ends_with("a.b=c\n"), "{text}");
        assert!(text.contains("listeners=http://127.0.0.1:8083\n"));
    }
}
