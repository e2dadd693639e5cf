//! The fault scenarios, shared by the tests (tests/faults.rs) and the soak binary.

use std::time::{Duration, Instant};

use ferry_test_support::kafka::Tansu;
use ferry_test_support::postgres::PgCluster;
use serde_json::json;

use crate::outbox::{
    self, check, committed_rows, connector_config, stored_offsets, Fault, Figures, History, Writer,
};
use crate::proc::{call, status, try_call, wait_state, Ferry, WorkerSetup};
use crate::rng::Rng;
use crate::{now_ms, unique};

/// One connector on one worker, with its database, slot and aggregate type.
pub struct Bench<'a> {
    pub pg: &'a PgCluster,
    pub broker: &'a Tansu,
    pub db: String,
    pub slot: String,
    pub aggregate: String,
    pub setup: WorkerSetup,
    pub connector: &'static str,
}

impl<'a> Bench<'a> {
    /// Creates the database (payload column `payload_type`) and the worker setup.
    pub async fn new(
        name: &str,
        pg: &'a PgCluster,
        broker: &'a Tansu,
        payload_type: &str,
        worker: &[(&str, &str)],
    ) -> Bench<'a> {
        let id = unique(name);
        let db = format!("db_{id}");
        outbox::create_outbox_db(pg, &db, payload_type).await;
        Bench {
            pg,
            broker,
            slot: format!("s_{id}").to_ascii_lowercase(),
            aggregate: format!("Agg_{id}"),
            setup: WorkerSetup::new(name, &broker.bootstrap, worker),
            db,
            connector: "outbox-connector",
        }
    }

    pub fn topic(&self) -> String {
        format!("{}_events", self.aggregate)
    }

    /// POSTs the connector (the seed's config plus `extra`) and waits until it runs.
    pub async fn create_connector(&self, ferry: &Ferry, extra: &[(&str, &str)]) {
        let config = connector_config(self.pg, &self.db, &self.slot, extra);
        let body = json!({"name": self.connector, "config": config});
        let r = call("POST", &ferry.url("/connectors"), Some(&body.to_string())).await;
        assert_eq!(r.status, 201, "{:?}\n{}", r.body, ferry.log_tail());
        wait_state(
            ferry,
            self.connector,
            "RUNNING",
            &["RUNNING"],
            Duration::from_secs(60),
        )
        .await;
    }

    pub fn writer(&self, rng: &mut Rng, interval: Duration, payload_type: &str) -> Writer {
        Writer::start(
            self.pg,
            &self.db,
            &self.aggregate,
            5,
            interval,
            Rng::new(rng.next_u64()),
            payload_type,
        )
    }

    /// Stops the writer and checks the promises.
    pub async fn finish(&self, scenario: &str, writer: Writer, faults: &[Fault]) -> Result<Figures, String> {
        let sent = writer.stop().await;
        let committed = committed_rows(self.pg, &self.db, &self.aggregate).await;
        let unacked = sent.iter().filter(|s| !s.acked).count();
        eprintln!(
            "[{scenario}] writer tried {} rows, {} unacknowledged, {} committed",
            sent.len(),
            unacked,
            committed.len()
        );
        let topic = self.topic();
        let offsets_topic = self.setup.offsets_topic();
        tokio::task::block_in_place(|| {
            let offsets = stored_offsets(self.broker, &offsets_topic, self.connector);
            let history = History {
                committed: &committed,
                sent: &sent,
                faults,
                offsets: &offsets,
            };
            check(scenario, self.broker, &topic, &history, Duration::from_secs(90))
        })
    }

    /// Drops the slot so reruns and other scenarios start clean.
    pub async fn drop_slot(&self) {
        let db = self.pg.connect("postgres").await;
        for _ in 0..50 {
            let _ = crate::pg::kill_walsender(&db, &self.slot).await;
            if db
                .execute("SELECT pg_drop_replication_slot($1)", &[&self.slot])
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// kill -9 of the worker at random moments (`kills` times, 0.2–2.5 s apart, including during
/// start-up), a restart after each, while rows are committed every 10 ms.
pub async fn kill9(scenario: &str, kills: usize, pg: &PgCluster, broker: &Tansu) -> Result<Figures, String> {
    let mut rng = Rng::for_scenario(scenario);
    let bench = Bench::new("k9", pg, broker, "JSONB", &[]).await;
    let mut ferry = bench.setup.start();
    // Status updates every 200 ms (Debezium's default is 10 s): whatever the task confirms
    // reaches the server before the next kill, so a slot confirmed too early loses rows here.
    bench
        .create_connector(&ferry, &[("status.update.interval.ms", "200")])
        .await;
    let writer = bench.writer(&mut rng, Duration::from_millis(10), "JSONB");
    let mut faults = Vec::new();
    for i in 0..kills {
        let wait = rng.range(200, 2500);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        ferry.kill9();
        let at = now_ms();
        faults.push(Fault {
            from_ms: at,
            at_ms: at,
            what: format!("kill -9 #{} after {wait} ms", i + 1),
        });
        ferry = bench.setup.spawn();
    }
    ferry.wait_ready();
    wait_state(
        &ferry,
        bench.connector,
        "RUNNING",
        &["RUNNING"],
        Duration::from_secs(60),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let r = bench.finish(scenario, writer, &faults).await;
    let r = r.map_err(|e| format!("{e}\nlog tail:\n{}", ferry.log_tail()));
    drop(ferry);
    bench.drop_slot().await;
    r
}

/// What the REST API showed while the broker was stopped.
#[derive(Debug, Default)]
pub struct PauseReport {
    pub polls: usize,
    pub slowest_ms: u128,
    pub failures: Vec<String>,
    pub traces: Vec<String>,
    pub states: Vec<String>,
}

/// The broker stopped (SIGSTOP) for `pause` while rows are written, then resumed.
pub async fn broker_pause(
    scenario: &str,
    pause: Duration,
    pg: &PgCluster,
    broker: &Tansu,
) -> (Result<Figures, String>, PauseReport) {
    let mut rng = Rng::for_scenario(scenario);
    let bench = Bench::new("pause", pg, broker, "JSONB", &[]).await;
    let ferry = bench.setup.start();
    bench.create_connector(&ferry, &[]).await;
    let writer = bench.writer(&mut rng, Duration::from_millis(20), "JSONB");
    tokio::time::sleep(Duration::from_millis(rng.range(2000, 4000))).await;
    let pid = crate::broker::tansu_pid(broker);
    let guard = crate::broker::ResumeOnDrop(pid);
    crate::broker::pause(pid);
    eprintln!("[{scenario}] broker (pid {pid}) stopped");
    let mut report = PauseReport::default();
    let until = Instant::now() + pause;
    while Instant::now() < until {
        for path in [
            "/connectors".to_owned(),
            format!("/connectors/{}/status", bench.connector),
        ] {
            let t = Instant::now();
            match try_call("GET", &ferry.url(&path), None, Duration::from_secs(5)).await {
                Ok(a) if a.status == 200 => {
                    if path.ends_with("/status") {
                        let (c, tasks, trace) = crate::proc::parse_status(&a.body);
                        report.states.push(format!("{c} {tasks:?}"));
                        if let Some(tr) = trace {
                            report.traces.push(tr);
                        }
                    }
                }
                Ok(a) => report
                    .failures
                    .push(format!("GET {path}: HTTP {} {}", a.status, a.body)),
                Err(e) => report.failures.push(e),
            }
            report.slowest_ms = report.slowest_ms.max(t.elapsed().as_millis());
            report.polls += 1;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    crate::broker::resume(pid);
    drop(guard);
    eprintln!(
        "[{scenario}] broker resumed; REST polls {} slowest {} ms failures {:?}; traces seen {}: {:?}",
        report.polls,
        report.slowest_ms,
        report.failures,
        report.traces.len(),
        report.traces.first()
    );
    // The task recovers by itself: RUNNING, and every row arrives.
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let (c, t, trace) = status(&ferry, bench.connector).await;
        if c == "RUNNING" && t == ["RUNNING"] && trace.is_none() {
            break;
        }
        if Instant::now() > deadline {
            let r = Err(format!(
                "after the pause: {c} {t:?} trace {trace:?}\nlog tail:\n{}",
                ferry.log_tail()
            ));
            return (r, report);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let r = bench.finish(scenario, writer, &[]).await;
    let r = r.map_err(|e| format!("{e}\nlog tail:\n{}", ferry.log_tail()));
    drop(ferry);
    bench.drop_slot().await;
    (r, report)
}

/// PostgreSQL restarted (`-m fast`, then `-m immediate`), then the walsender killed, while
/// rows are written. Each fault counts for the duplicate bound from the offsets stored
/// before it started up to the rows written before it ended.
pub async fn pg_restarts(scenario: &str, pg: &PgCluster, broker: &Tansu) -> Result<Figures, String> {
    let mut rng = Rng::for_scenario(scenario);
    let bench = Bench::new("pgrestart", pg, broker, "JSONB", &[]).await;
    let ferry = bench.setup.start();
    // Heartbeats let the confirmed position reach the shutdown checkpoint: without them a
    // `pg_ctl stop -m fast` waits for wal_sender_timeout (60 s), see docs/guarantees.md.
    bench
        .create_connector(&ferry, &[("heartbeat.interval.ms", "1000")])
        .await;
    let writer = bench.writer(&mut rng, Duration::from_millis(10), "JSONB");
    let mut faults = Vec::new();
    for what in [
        "pg_ctl restart -m fast",
        "pg_ctl restart -m immediate",
        "walsender terminated",
    ] {
        tokio::time::sleep(Duration::from_millis(rng.range(2000, 4000))).await;
        let from = now_ms();
        if what == "walsender terminated" {
            let db = pg.connect("postgres").await;
            let deadline = Instant::now() + Duration::from_secs(60);
            while !crate::pg::kill_walsender(&db, &bench.slot).await {
                assert!(
                    Instant::now() < deadline,
                    "no walsender for the slot; log:\n{}",
                    ferry.log_tail()
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        } else {
            let mode = what.rsplit(' ').next().unwrap().to_owned();
            tokio::task::block_in_place(|| crate::pg::restart(pg, &mode));
        }
        eprintln!("[{scenario}] {what} took {} ms", now_ms() - from);
        faults.push(Fault {
            from_ms: from,
            at_ms: now_ms(),
            what: what.to_owned(),
        });
    }
    // Recovered by itself: RUNNING again, and no FAILED in between is allowed to stick.
    wait_state(
        &ferry,
        bench.connector,
        "RUNNING",
        &["RUNNING"],
        Duration::from_secs(90),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let r = bench.finish(scenario, writer, &faults).await;
    let r = r.map_err(|e| format!("{e}\nlog tail:\n{}", ferry.log_tail()));
    drop(ferry);
    bench.drop_slot().await;
    r
}

/// SIGTERM `stops` times while rows are written, with a flush interval far beyond the run
/// (only the shutdown flush stores offsets): every restart must re-emit nothing.
pub async fn sigterm(
    scenario: &str,
    stops: usize,
    pg: &PgCluster,
    broker: &Tansu,
) -> Result<Figures, String> {
    let mut rng = Rng::for_scenario(scenario);
    let bench = Bench::new(
        "term",
        pg,
        broker,
        "JSONB",
        &[("offset.flush.interval.ms", "600000")],
    )
    .await;
    let mut ferry = bench.setup.start();
    bench.create_connector(&ferry, &[]).await;
    let writer = bench.writer(&mut rng, Duration::from_millis(10), "JSONB");
    for i in 0..stops {
        tokio::time::sleep(Duration::from_millis(rng.range(1500, 3500))).await;
        let t = Instant::now();
        let st = ferry.terminate();
        let log = ferry.log_tail();
        if !st.success() {
            return Err(format!("SIGTERM #{}: exit {st}\nlog tail:\n{log}", i + 1));
        }
        eprintln!(
            "[{scenario}] SIGTERM #{} exited 0 in {} ms",
            i + 1,
            t.elapsed().as_millis()
        );
        ferry = bench.setup.start();
        wait_state(
            &ferry,
            bench.connector,
            "RUNNING",
            &["RUNNING"],
            Duration::from_secs(60),
        )
        .await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let r = bench.finish(scenario, writer, &[]).await;
    let r = r.map_err(|e| format!("{e}\nlog tail:\n{}", ferry.log_tail()));
    drop(ferry);
    bench.drop_slot().await;
    r
}

/// The slot dropped underneath a running connector: the task must become FAILED with a
/// trace naming the slot, never carry on silently. Returns the trace.
pub async fn slot_dropped(scenario: &str, pg: &PgCluster, broker: &Tansu) -> Result<String, String> {
    let mut rng = Rng::for_scenario(scenario);
    let bench = Bench::new("slotdrop", pg, broker, "JSONB", &[]).await;
    let ferry = bench.setup.start();
    bench.create_connector(&ferry, &[]).await;
    let writer = bench.writer(&mut rng, Duration::from_millis(20), "JSONB");
    tokio::time::sleep(Duration::from_millis(rng.range(1500, 3000))).await;
    let db = pg.connect("postgres").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let _ = crate::pg::kill_walsender(&db, &bench.slot).await;
        if db
            .execute("SELECT pg_drop_replication_slot($1)", &[&bench.slot])
            .await
            .is_ok()
        {
            break;
        }
        if Instant::now() > deadline {
            return Err("could not drop the slot within 30 s".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!("[{scenario}] slot {} dropped", bench.slot);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut recreated = false;
    let result = loop {
        let (c, t, trace) = status(&ferry, bench.connector).await;
        let again = db
            .query_opt(
                "SELECT 1 FROM pg_replication_slots WHERE slot_name = $1",
                &[&bench.slot],
            )
            .await
            .unwrap()
            .is_some();
        recreated |= again;
        if t == ["FAILED"] {
            let trace = trace.unwrap_or_default();
            break if trace.to_ascii_lowercase().contains("slot") {
                Ok(trace)
            } else {
                Err(format!(
                    "FAILED, but the trace does not mention the slot: {trace}"
                ))
            };
        }
        if Instant::now() > deadline {
            break Err(format!(
                "SILENT: 60 s after the slot was dropped the connector is {c} {t:?} (trace {trace:?}); \
                 slot re-created: {recreated}\nlog tail:\n{}",
                ferry.log_tail()
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    writer.stop().await;
    drop(ferry);
    bench.drop_slot().await;
    result
}

/// Reads `topic` until the record with event id `id` is there (60 s at most); returns
/// every record read.
async fn wait_for_event(
    broker: &Tansu,
    topic: &str,
    id: &str,
    ferry: &Ferry,
    phase: &str,
) -> Result<Vec<ferry_test_support::kafka::ConsumedRecord>, String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let records = tokio::task::block_in_place(|| broker.consume_to_end(topic));
        let ids: Vec<String> = records.iter().filter_map(outbox::event_id).collect();
        if ids.iter().any(|i| i == id) {
            return Ok(records);
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{phase}: only {ids:?} arrived\nlog tail:\n{}",
                ferry.log_tail()
            ));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// What the bad-input scenario saw.
#[derive(Debug)]
pub struct BadInputReport {
    /// The main stream's figures (rows written around the bad ones, all delivered).
    pub figures: Figures,
    /// The value written for the row whose payload is not JSON.
    pub invalid_json_value: String,
    /// The log line about the oversized record skipped under errors.tolerance=all.
    pub skipped_log: String,
    /// The task's trace when an oversized record failed it under errors.tolerance=none.
    pub failed_trace: String,
}

/// Bad rows among good ones: a payload that is not JSON under
/// `table.expand.json.payload=true`, and records larger than the producer may send
/// (`producer.max.request.size`, what a broker's `message.max.bytes` refuses too).
///
/// 1. errors.tolerance=all: the non-JSON payload is written as the text it is, the
///    oversized record is skipped with a logged error, the task stays RUNNING.
/// 2. errors.tolerance=none: the next oversized record FAILS the task with a trace naming
///    the size; the worker is restarted with a larger limit and everything after the
///    oversized record, it included, arrives.
///
/// Throughout, a writer commits good rows to another aggregate: all of them arrive.
pub async fn bad_input(scenario: &str, pg: &PgCluster, broker: &Tansu) -> Result<BadInputReport, String> {
    const LIMIT: usize = 64 * 1024;
    let mut rng = Rng::for_scenario(scenario);
    let bench = Bench::new(
        "badin",
        pg,
        broker,
        "TEXT",
        &[("producer.max.request.size", "65536")],
    )
    .await;
    let mut ferry = bench.setup.start();
    let tolerate = [
        ("transforms.outboxEventRouter.table.expand.json.payload", "true"),
        ("errors.tolerance", "all"),
        ("errors.log.enable", "true"),
        ("errors.log.include.messages", "false"),
    ];
    bench.create_connector(&ferry, &tolerate).await;
    let writer = bench.writer(&mut rng, Duration::from_millis(20), "TEXT");
    let bad_aggregate = format!("{}Bad", bench.aggregate);
    let bad_topic = format!("{bad_aggregate}_events");
    let db = pg.connect(&bench.db).await;
    let insert_bad = |id: &'static str, payload: String| {
        let (db, agg) = (&db, bad_aggregate.clone());
        async move {
            db.execute(
                "INSERT INTO outbox (id, aggregate_type, aggregate_id, event_type, payload) \
                 VALUES (CAST($1::text AS uuid), $2::text, 'bad', 'Bad', $3::text)",
                &[&id, &agg, &payload],
            )
            .await
            .unwrap();
        }
    };
    const NOT_JSON: &str = "00000000-0000-4000-a000-000000000001";
    const BIG_SKIPPED: &str = "00000000-0000-4000-a000-000000000002";
    const AFTER_BIG: &str = "00000000-0000-4000-a000-000000000003";
    const BIG_FATAL: &str = "00000000-0000-4000-a000-000000000004";
    const AFTER_FATAL: &str = "00000000-0000-4000-a000-000000000005";
    let big = || format!("{{\"blob\":\"{}\"}}", "x".repeat(LIMIT * 3));

    tokio::time::sleep(Duration::from_millis(rng.range(500, 1500))).await;
    insert_bad(NOT_JSON, "{\"order\": 42, oops".into()).await;
    insert_bad(BIG_SKIPPED, big()).await;
    insert_bad(AFTER_BIG, "{\"after\":\"big\"}".into()).await;

    // Phase 1: the non-JSON row and the one after the big one arrive; the big one is skipped.
    let phase1 = wait_for_event(broker, &bad_topic, AFTER_BIG, &ferry, "phase 1").await?;
    let ids: Vec<String> = phase1.iter().filter_map(outbox::event_id).collect();
    if ids != [NOT_JSON, AFTER_BIG] {
        return Err(format!(
            "phase 1: wanted the non-JSON row and the row after the big one, got {ids:?}"
        ));
    }
    let invalid_json_value = phase1[0].value_str().unwrap_or_default().to_owned();
    let v: serde_json::Value =
        serde_json::from_str(&invalid_json_value).map_err(|e| format!("{e}: {invalid_json_value}"))?;
    if v["payload"] != "{\"order\": 42, oops" || v["schema"]["type"] != "string" {
        return Err(format!(
            "the non-JSON payload should pass through as its text: {invalid_json_value}"
        ));
    }
    let log = bench.setup.log_text();
    let skipped_log = log
        .lines()
        .find(|l| {
            l.contains("too large") || l.contains("MessageSizeTooLarge") || l.contains("MsgSizeTooLarge")
        })
        .map(str::to_owned)
        .ok_or_else(|| {
            format!(
                "no log line about the oversized record\nlog tail:\n{}",
                ferry.log_tail()
            )
        })?;
    let (c, t, trace) = status(&ferry, bench.connector).await;
    if c != "RUNNING" || t != ["RUNNING"] {
        return Err(format!("phase 1: {c} {t:?} {trace:?}"));
    }

    // Phase 2: tolerance none; the next oversized record fails the task.
    let mut config = outbox::connector_config(pg, &bench.db, &bench.slot, &tolerate);
    config["errors.tolerance"] = json!("none");
    let r = call(
        "PUT",
        &ferry.url(&format!("/connectors/{}/config", bench.connector)),
        Some(&config.to_string()),
    )
    .await;
    if r.status != 200 {
        return Err(format!("PUT config: {} {}", r.status, r.body));
    }
    wait_state(
        &ferry,
        bench.connector,
        "RUNNING",
        &["RUNNING"],
        Duration::from_secs(60),
    )
    .await;
    insert_bad(BIG_FATAL, big()).await;
    insert_bad(AFTER_FATAL, "{\"after\":\"fatal\"}".into()).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let failed_trace = loop {
        let (_, t, trace) = status(&ferry, bench.connector).await;
        if t == ["FAILED"] {
            break trace.unwrap_or_default();
        }
        if Instant::now() > deadline {
            return Err(format!(
                "phase 2: the oversized record did not fail the task: {t:?}\n{}",
                ferry.log_tail()
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let lower = failed_trace.to_ascii_lowercase();
    if !(lower.contains("too large") || lower.contains("size")) {
        return Err(format!(
            "phase 2: the trace does not say the record is too large: {failed_trace}"
        ));
    }
    // A restart with a limit the record fits in: it and everything after it arrive.
    let restart_at = now_ms();
    ferry.terminate();
    let props = std::fs::read_to_string(&bench.setup.props).unwrap();
    let props = props.replace(
        "producer.max.request.size=65536",
        "producer.max.request.size=1048576",
    );
    std::fs::write(&bench.setup.props, props).unwrap();
    ferry = bench.setup.start();
    wait_state(
        &ferry,
        bench.connector,
        "RUNNING",
        &["RUNNING"],
        Duration::from_secs(60),
    )
    .await;
    let after = wait_for_event(broker, &bad_topic, AFTER_FATAL, &ferry, "after the restart").await?;
    let ids: Vec<String> = after.iter().filter_map(outbox::event_id).collect();
    if !ids.iter().any(|i| i == BIG_FATAL) || ids.iter().any(|i| i == BIG_SKIPPED) {
        return Err(format!("after the restart: {ids:?}"));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let restart = Fault {
        from_ms: restart_at,
        at_ms: now_ms(),
        what: "worker restarted after the FAILED task".into(),
    };
    let figures = bench.finish(scenario, writer, &[restart]).await;
    let figures = figures.map_err(|e| format!("{e}\nlog tail:\n{}", ferry.log_tail()))?;
    drop(ferry);
    bench.drop_slot().await;
    Ok(BadInputReport {
        figures,
        invalid_json_value,
        skipped_log,
        failed_trace,
    })
}
