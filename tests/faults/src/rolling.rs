//! A rolling replacement of a two-worker Kafka Connect 4.3 cluster (Debezium 3.6.3) by two
//! Ferry workers, one worker at a time, while rows are committed to the outbox every 10 ms:
//! start Ferry A, stop JVM 1, start Ferry B, stop JVM 2 (clean stops, as a rolling deploy
//! does). Nothing committed may be lost, and duplicates stay within the flush bound.
//!
//! The group lives on Tansu: the JVM worker cannot run against librdkafka's mock cluster
//! (see docs/cluster.md), and the scenario only needs joins and clean leaves, which Tansu's
//! coordinator handles.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ferry_test_support::kafka::Tansu;
use ferry_test_support::net::free_port;
use ferry_test_support::postgres::PgCluster;
use ferry_test_support::realconnect::RealConnect;
use serde_json::json;

use crate::now_ms;
use crate::outbox::{connector_config, Fault, Figures};
use crate::proc::{call, task_placement, Ferry};
use crate::rng::Rng;
use crate::scenarios::Bench;

/// What the rolling replacement measured, beyond the checker's figures.
#[derive(Debug, Clone)]
pub struct RollingFigures {
    pub figures: Figures,
    /// For each JVM worker stopped: from its SIGTERM until the task was RUNNING on a
    /// remaining worker.
    pub handovers: Vec<Duration>,
    /// How long each JVM worker took to exit after SIGTERM.
    pub exits: Vec<Duration>,
    /// The worker running the task at the end (a Ferry worker).
    pub final_owner: String,
}

impl std::fmt::Display for RollingFigures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = |d: &[Duration]| d.iter().map(Duration::as_millis).collect::<Vec<_>>();
        write!(
            f,
            "{} handovers_ms={:?} jvm_exits_ms={:?} final_owner={}",
            self.figures,
            ms(&self.handovers),
            ms(&self.exits),
            self.final_owner
        )
    }
}

/// Group settings shared by the JVM and the Ferry workers.
const GROUP: &[(&str, &str)] = &[
    ("ferry.group.membership", "connect"),
    ("connect.protocol", "sessioned"),
    ("session.timeout.ms", "10000"),
    ("heartbeat.interval.ms", "1000"),
    ("scheduled.rebalance.max.delay.ms", "2000"),
    ("rest.advertised.host.name", "127.0.0.1"),
    // Tansu 0.6's watermark after multi-record batches (docs/compatibility.md): the JVM's
    // producers send one record per batch too.
    ("batch.size", "1"),
    ("producer.batch.size", "1"),
];

/// One worker's properties: the bench's, with its own REST port.
fn props_for(bench: &Bench<'_>, port: u16, path: &Path) -> PathBuf {
    let base = std::fs::read_to_string(&bench.setup.props).expect("worker properties");
    let text = base.replace(
        &format!("listeners=http://127.0.0.1:{}", bench.setup.port),
        &format!("listeners=http://127.0.0.1:{port}"),
    );
    std::fs::write(path, format!("{text}rest.advertised.port={port}\n")).expect("write properties");
    path.to_owned()
}

/// Waits until the task is RUNNING on one of `owners` (as `base` reports it).
async fn wait_task_placement(
    base: &str,
    connector: &str,
    owners: &[String],
    limit: Duration,
) -> Result<String, String> {
    let deadline = Instant::now() + limit;
    let mut last = None;
    while Instant::now() < deadline {
        last = task_placement(base, connector).await;
        if let Some((w, s)) = &last {
            if s == "RUNNING" && owners.contains(w) {
                return Ok(w.clone());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!(
        "the task was not RUNNING on one of {owners:?} within {limit:?} (last {last:?})"
    ))
}

/// Runs the replacement; see the module doc.
pub async fn jvm_to_ferry(scenario: &str, pg: &PgCluster, broker: &Tansu) -> Result<RollingFigures, String> {
    let mut rng = Rng::for_scenario(scenario);
    let bench = Bench::new("roll", pg, broker, "JSONB", GROUP).await;
    let dir = bench.setup.dir.path().to_owned();
    let ports = [free_port(), free_port(), free_port(), free_port()];
    let id = |i: usize| format!("127.0.0.1:{}", ports[i]);
    let start_jvm = |i: usize| {
        let props = props_for(&bench, ports[i], &dir.join(format!("jvm{i}.properties")));
        RealConnect::spawn(&props, ports[i], &dir.join(format!("jvm{i}.log"))).map_err(|e| e.to_string())
    };
    let start_ferry = |i: usize| {
        let props = props_for(&bench, ports[i], &dir.join(format!("ferry{i}.properties")));
        Ferry::spawn(&props, ports[i], &dir.join(format!("ferry{i}.log")), &[])
    };
    let logs = || {
        ["jvm0", "jvm1", "ferry2", "ferry3"]
            .iter()
            .map(|n| {
                let text = std::fs::read_to_string(dir.join(format!("{n}.log"))).unwrap_or_default();
                let lines: Vec<&str> = text
                    .lines()
                    .filter(|l| !l.contains("GET /") && !l.contains("CONFWARN") && !l.starts_with('\t'))
                    .collect();
                format!(
                    "--- {n}\n{}\n",
                    lines[lines.len().saturating_sub(60)..].join("\n")
                )
            })
            .collect::<String>()
    };

    // A two-worker Kafka Connect cluster runs the outbox connector.
    let mut jvms = [start_jvm(0)?, start_jvm(1)?];
    for j in &mut jvms {
        j.wait_ready(Duration::from_secs(180))
            .map_err(|e| e.to_string())?;
    }
    let config = connector_config(
        pg,
        &bench.db,
        &bench.slot,
        &[
            // Tansu never auto-creates topics; Connect creates the routed topic (KIP-158).
            ("topic.creation.default.replication.factor", "1"),
            ("topic.creation.default.partitions", "1"),
        ],
    );
    let body = json!({"name": bench.connector, "config": config}).to_string();
    let r = call("POST", &jvms[0].url("/connectors"), Some(&body)).await;
    if r.status != 201 {
        return Err(format!(
            "create on Kafka Connect: {} {:?}\n{}",
            r.status,
            r.body,
            logs()
        ));
    }
    let jvm_ids = [id(0), id(1)];
    wait_task_placement(&jvms[0].base, bench.connector, &jvm_ids, Duration::from_secs(120))
        .await
        .map_err(|e| format!("{e}\n{}", logs()))?;
    let writer = bench.writer(&mut rng, Duration::from_millis(10), "JSONB");
    tokio::time::sleep(Duration::from_secs(3)).await;

    let mut faults = Vec::new();
    let mut handovers = Vec::new();
    let mut exits = Vec::new();
    let mut ferries = Vec::new();
    let mut failure = None;
    for step in 0..2 {
        // A Ferry worker joins the group and takes part in it.
        let mut f = start_ferry(2 + step);
        f.wait_ready();
        let joined = Instant::now() + Duration::from_secs(60);
        while Instant::now() < joined
            && !std::fs::read_to_string(dir.join(format!("ferry{}.log", 2 + step)))
                .unwrap_or_default()
                .contains("joined the worker group")
        {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        ferries.push(f);
        tokio::time::sleep(Duration::from_secs(3)).await;
        // The JVM worker stops cleanly; its work moves to the remaining workers.
        let before = task_placement(&ferries[step].url(""), bench.connector)
            .await
            .map(|(w, _)| w);
        let from = now_ms();
        let stopped = Instant::now();
        let exit = tokio::task::block_in_place(|| jvms[step].terminate(Duration::from_secs(60)));
        exits.push(exit);
        let remaining: Vec<String> = (step + 1..2).map(id).chain((2..3 + step).map(id)).collect();
        let ask = ferries[step].url("");
        match wait_task_placement(&ask, bench.connector, &remaining, Duration::from_secs(120)).await {
            Ok(owner) => {
                handovers.push(stopped.elapsed());
                eprintln!(
                    "[{scenario}] JVM worker {step} ({}) stopped (exited after {exit:?}): the task, on {before:?} before, RUNNING on {owner} after {:?}",
                    id(step),
                    stopped.elapsed()
                );
            }
            Err(e) => {
                failure = Some(format!("after stopping JVM worker {step}: {e}"));
                break;
            }
        }
        faults.push(Fault {
            from_ms: from,
            at_ms: now_ms(),
            what: format!("SIGTERM of JVM worker {step}, task handed over"),
        });
        tokio::time::sleep(Duration::from_millis(rng.range(2000, 4000))).await;
    }
    let mut final_owner = String::new();
    if failure.is_none() {
        match wait_task_placement(
            &ferries[0].url(""),
            bench.connector,
            &[id(2), id(3)],
            Duration::from_secs(60),
        )
        .await
        {
            Ok(w) => final_owner = w,
            Err(e) => failure = Some(format!("at the end: {e}")),
        }
    }
    if let Some(f) = failure {
        drop(writer.stop().await);
        let text = logs();
        drop(ferries);
        drop(jvms);
        bench.drop_slot().await;
        return Err(format!("{f}\n{text}"));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let checked = bench.finish(scenario, writer, &faults).await;
    let text = logs();
    drop(ferries);
    drop(jvms);
    bench.drop_slot().await;
    let figures = checked.map_err(|e| format!("{e}\n{text}"))?;
    Ok(RollingFigures {
        figures,
        handovers,
        exits,
        final_owner,
    })
}
