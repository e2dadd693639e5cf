//! Ferry and the real Kafka Connect side by side: each on a broker of its own, with the
//! same worker settings and topic names, driven with the same requests.

use std::time::{Duration, Instant};

use ferry_test_support::kafka::Tansu;
use ferry_test_support::net::free_port;
use ferry_test_support::realconnect::RealConnect;
use ferry_test_support::worker::{try_call, unique, Answer, FerryProcess, WorkerProps};
use serde_json::Value;

use crate::diff::{diff, Difference};
use crate::normalise::{normalise, normalise_server_info, Side};
use crate::report::Report;

/// One runtime: its broker and its worker.
pub struct Runtime<W> {
    /// Its own broker.
    pub broker: Tansu,
    /// Its worker.
    pub worker: W,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// What differs by construction on this side.
    pub side: Side,
}

/// Both runtimes, and what the comparisons found so far.
pub struct Pair {
    /// Ferry.
    pub ferry: Runtime<FerryProcess>,
    /// Kafka Connect 4.3 with Debezium 3.6.3.
    pub connect: Runtime<RealConnect>,
    /// Where the workers keep their files.
    pub dir: tempfile::TempDir,
    /// The worker group and internal-topic prefix both use.
    pub prefix: String,
    /// The comparisons' findings.
    pub report: Report,
}

impl Pair {
    /// Starts a broker and a worker for each runtime; `extra` worker settings go to both.
    pub fn start(scenario: &str, extra: &[(&str, &str)]) -> Pair {
        let dir = tempfile::tempdir().unwrap();
        let prefix = unique(scenario);

        let broker = Tansu::start();
        let port = free_port();
        let mut props = WorkerProps::new(&prefix, &broker.bootstrap, port);
        // Tansu 0.6 reports a wrong high watermark after a multi-record produce batch; one
        // record per batch keeps librdkafka's read-to-end exact (docs/compatibility.md).
        props.set("batch.num.messages", "1").set_all(extra);
        let path = dir.path().join("ferry.properties");
        props.write(&path);
        let worker = FerryProcess::start(&path, port, &dir.path().join("ferry.log"), &[]);
        let ferry = Runtime {
            broker,
            base: worker.base.clone(),
            worker,
            side: Side::new(port),
        };

        let broker = Tansu::start();
        let port = free_port();
        let mut props = WorkerProps::new(&prefix, &broker.bootstrap, port);
        // The plugins are on the classpath, not in a plugin path.
        props.set("plugin.discovery", "service_load").set_all(extra);
        let path = dir.path().join("connect.properties");
        props.write(&path);
        let worker = RealConnect::start(&path, port, &dir.path().join("connect.log"))
            .unwrap_or_else(|e| panic!("the real Kafka Connect worker: {e}"));
        let connect = Runtime {
            broker,
            base: worker.base.clone(),
            worker,
            side: Side::new(port),
        };
        Pair {
            ferry,
            connect,
            dir,
            prefix,
            report: Report::default(),
        }
    }

    /// Sends the same request to both and compares status, `Location` and body.
    pub async fn exchange(
        &mut self,
        step: &str,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> (Answer, Answer) {
        let (f, c) = self.send_both(method, path, body).await;
        self.compare_answers(step, path, &f, &c);
        (f, c)
    }

    /// Sends each its own body (e.g. a connector config naming its own slot) and compares
    /// the answers.
    pub async fn exchange_each(
        &mut self,
        step: &str,
        method: &str,
        path: &str,
        ferry_body: &str,
        connect_body: &str,
    ) -> (Answer, Answer) {
        let (f, c) = self
            .send_each(method, path, Some(ferry_body), Some(connect_body))
            .await;
        self.compare_answers(step, path, &f, &c);
        (f, c)
    }

    /// Sends the same request to both without comparing (set-up steps).
    pub async fn send_both(&self, method: &str, path: &str, body: Option<&str>) -> (Answer, Answer) {
        self.send_each(method, path, body, body).await
    }

    /// Sends the request to both at once, each with its own body.
    async fn send_each(
        &self,
        method: &str,
        path: &str,
        ferry_body: Option<&str>,
        connect_body: Option<&str>,
    ) -> (Answer, Answer) {
        let limit = Duration::from_secs(120);
        let (ferry_url, connect_url) = (
            format!("{}{path}", self.ferry.base),
            format!("{}{path}", self.connect.base),
        );
        let (f, c) = tokio::join!(
            try_call(method, &ferry_url, ferry_body, limit),
            try_call(method, &connect_url, connect_body, limit),
        );
        (
            f.unwrap_or_else(|e| panic!("ferry: {e}")),
            c.unwrap_or_else(|e| panic!("connect: {e}")),
        )
    }

    /// Compares two answers to the same request.
    pub fn compare_answers(&mut self, step: &str, path: &str, f: &Answer, c: &Answer) {
        let mut found = Vec::new();
        if f.status != c.status {
            found.push(Difference {
                path: "(status)".into(),
                ferry: Some(Value::from(f.status)),
                connect: Some(Value::from(c.status)),
            });
        }
        let location = |a: &Answer, side: &Side| a.location.as_ref().map(|l| Value::from(side.replace(l)));
        let (lf, lc) = (location(f, &self.ferry.side), location(c, &self.connect.side));
        if lf != lc {
            found.push(Difference {
                path: "(Location)".into(),
                ferry: lf,
                connect: lc,
            });
        }
        let (mut bf, mut bc) = (f.body.clone(), c.body.clone());
        normalise(&mut bf, &self.ferry.side);
        normalise(&mut bc, &self.connect.side);
        if path == "/" {
            normalise_server_info(&mut bf);
            normalise_server_info(&mut bc);
        }
        if std::env::var_os("FERRY_DIFF_DUMP").is_some() {
            println!("[dump] {step} ferry {} {bf}", f.status);
            println!("[dump] {step} connect {} {bc}", c.status);
        }
        diff("$", &bf, &bc, true, &mut found);
        self.report.add(step, found);
    }

    /// Polls `GET path` on both until `done` holds for each answer (or 60 s pass: panics).
    pub async fn wait_both(&self, path: &str, done: impl Fn(&Answer) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (f, c) = self.send_both("GET", path, None).await;
            if done(&f) && done(&c) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "GET {path} did not settle within 60 s\nferry: {} {}\nconnect: {} {}\nferry log:\n{}\nconnect log:\n{}",
                f.status,
                f.body,
                c.status,
                c.body,
                self.ferry.worker.log_tail(),
                self.connect.worker.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}
