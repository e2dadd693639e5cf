//! `ferry-bench`: Ferry end to end against a private PostgreSQL 15 (wal_level=logical) and a
//! private Tansu broker. Measures outbox throughput (next to pg_recvlogical and a plain
//! librdkafka producer), commit-to-consumer latency, memory, CPU and start-up time, and
//! rewrites BENCHMARKS.md. Run it with `benches/run.sh` (builds everything first).

mod ferry;
mod kafka;
mod procfs;
mod report;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use clap::Parser;
use ferry_test_support::kafka::Tansu;
use ferry_test_support::net::free_port;
use ferry_test_support::postgres::PgCluster;
use ferry_test_support::realconnect::{self, RealConnect};
use ferry_test_support::worker::WorkerProps;
use futures::{StreamExt, TryStreamExt};
use serde_json::{json, Value};
use tokio_postgres::{Client, Statement};

use crate::ferry::{call, wait_running, Ferry, Target};
use crate::kafka::Counter;

#[derive(Parser, Debug, Clone)]
#[command(about = "Ferry end-to-end benchmarks; rewrites BENCHMARKS.md")]
pub struct Args {
    /// Outbox rows per throughput scenario.
    #[arg(long, default_value_t = 200_000)]
    pub rows: usize,
    /// Transaction sizes of the throughput scenarios (rows per transaction).
    #[arg(long, value_delimiter = ',', default_value = "1000,10,1")]
    pub tx_sizes: Vec<usize>,
    /// Steady writer rates (events/s) of the latency scenarios.
    #[arg(long, value_delimiter = ',', default_value = "1000,10000")]
    pub latency_rates: Vec<u64>,
    /// Seconds per latency scenario.
    #[arg(long, default_value_t = 20)]
    pub latency_secs: u64,
    /// Measured start-ups for REST-ready time.
    #[arg(long, default_value_t = 10)]
    pub ready_reps: usize,
    /// The ferry binary (default: next to this one).
    #[arg(long)]
    pub ferry_bin: Option<PathBuf>,
    /// Where to write the report (default: the workspace's BENCHMARKS.md).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Skip the system-wide perf profile of the largest-transaction run.
    #[arg(long)]
    pub no_perf: bool,
    /// Extra connector settings for the latency connector (key=value,...), e.g. max.batch.size=64.
    #[arg(long, value_delimiter = ',')]
    pub latency_connector_extra: Vec<String>,
    /// Skip the diagnostic latency run with max.batch.size=16.
    #[arg(long)]
    pub no_diagnose: bool,
    /// Keep the worker logs (printed path) instead of deleting them.
    #[arg(long)]
    pub keep_logs: bool,
    /// Skip the reference run of the real Kafka Connect 4.3 with Debezium 3.6.3.
    #[arg(long)]
    pub no_reference: bool,
    /// Outbox rows of the reference throughput scenarios (default: the same as --rows).
    #[arg(long)]
    pub reference_rows: Option<usize>,
    /// Measured start-ups of the real Kafka Connect worker (each takes seconds).
    #[arg(long, default_value_t = 3)]
    pub reference_ready_reps: usize,
    /// Run nothing: copy benches/analysis.md into the analysis section of the existing
    /// report (the figures stay those of the run that wrote it).
    #[arg(long)]
    pub refresh_analysis: bool,
}

const DB: &str = "order_db";
const PUBLICATION: &str = "dbz_publication";
const AGGREGATES: [&str; 4] = ["Order", "Customer", "Payment", "Shipment"];
const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

fn base() -> Instant {
    static B: OnceLock<Instant> = OnceLock::new();
    *B.get_or_init(Instant::now)
}

/// Microseconds since the benchmark started (never 0).
fn micros() -> u64 {
    base().elapsed().as_micros() as u64 + 1
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

/// An outbox payload of ~200 bytes (jsonb text form).
fn payload(seq: u64) -> String {
    let mut s = format!(
        "{{\"seq\": {seq}, \"orderId\": \"ord-{seq:010}\", \"customerId\": \"cust-{:06}\", \"currency\": \"EUR\", \
         \"total\": {}.{:02}, \"items\": [{{\"sku\": \"SKU-{:05}\", \"qty\": {}, \"price\": 19.99}}], \"note\": \"",
        seq % 97_331,
        10 + seq % 990,
        seq % 100,
        seq % 20_000,
        1 + seq % 5
    );
    while s.len() < 196 {
        s.push('x');
    }
    s.push_str("\"}");
    s
}

fn aggregate_id(seq: u64) -> String {
    format!("{}", 100_000 + seq % 50_000)
}

/// One connection with the outbox insert prepared: one statement = one transaction of N rows.
#[derive(Clone)]
struct Writer {
    client: Arc<Client>,
    insert: Statement,
}

impl Writer {
    async fn connect(pg: &PgCluster) -> Writer {
        let client = pg.connect(DB).await;
        // The private cluster runs with synchronous_commit=off (ferry-test-support); with it the
        // WAL writer flushes only every wal_writer_delay (200 ms) and a logical walsender sends
        // nothing before the flush. Writers use PostgreSQL's default, as applications do.
        client
            .batch_execute("SET synchronous_commit = on")
            .await
            .expect("set synchronous_commit");
        let insert = client
            .prepare(
                "INSERT INTO outbox (id, aggregate_type, aggregate_id, event_type, payload) \
                 SELECT gen_random_uuid(), t, a, 'OrderCreated', p::jsonb \
                 FROM unnest($1::text[], $2::text[], $3::text[]) AS u(t, a, p)",
            )
            .await
            .expect("prepare insert");
        Writer {
            client: Arc::new(client),
            insert,
        }
    }

    /// Commits rows `seqs` in one transaction.
    async fn write(
        &self,
        seqs: std::ops::Range<u64>,
        types: &[String],
    ) -> Result<u64, tokio_postgres::Error> {
        let n = (seqs.end - seqs.start) as usize;
        let (mut t, mut a, mut p) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for s in seqs {
            t.push(types[(s % types.len() as u64) as usize].clone());
            a.push(aggregate_id(s));
            p.push(payload(s));
        }
        self.client.execute(&self.insert, &[&t, &a, &p]).await
    }
}

/// Everything measured, for the report.
#[derive(Default, Debug)]
pub struct Results {
    pub machine: Vec<(String, String)>,
    pub versions: Vec<(String, String)>,
    pub args: String,
    pub first_ready_ms: f64,
    pub ready_ms: Vec<f64>,
    /// Start → `GET /connectors` answers 200 (the worker has read its state), same starts.
    pub ready_connectors_ms: Vec<f64>,
    /// The load average (/proc/loadavg) when each phase began.
    pub loads: Vec<(String, String)>,
    /// The warm-up batch: the largest-transaction scenario as the worker's first connector.
    pub cold: Option<Throughput>,
    pub ready_rss_kb: Vec<u64>,
    pub idle_rss_kb: u64,
    pub throughput: Vec<Throughput>,
    pub baseline: Option<Baseline>,
    pub latency: Vec<Latency>,
    /// Plain producer → consumer at the same rates: (rate, received, p50, p90, p99, max) in ms.
    pub broker_latency: Vec<(u64, usize, f64, f64, f64, f64)>,
    /// The same producer's send → acknowledgement latency.
    pub broker_ack_latency: Vec<(u64, usize, f64, f64, f64, f64)>,
    /// Median start-up phases from the worker's log, ms: (phase, median).
    pub startup_phases: Vec<(String, f64)>,
    /// ms for N sequential fetch_watermarks calls on the offsets topic, and N.
    pub watermarks_ms: (f64, usize),
    /// Median ms of KafkaLog::read_all's steps on an empty topic: create, metadata, watermarks, drop.
    pub read_log_steps: Vec<f64>,
    pub peak_rss_kb: u64,
    pub hwm_kb: u64,
    pub perf: Option<String>,
    pub perf_threads: Option<String>,
    /// The real Kafka Connect 4.3 with Debezium 3.6.3, measured in the same run.
    pub reference: Option<Reference>,
}

/// The reference run's figures (throughput's `ferry_*` fields hold the JVM worker's).
#[derive(Debug, Clone, Default)]
pub struct Reference {
    /// First start (creates the internal topics): spawn → `GET /` and → `GET /connectors` answer 200, ms.
    pub first_ready_ms: f64,
    pub first_connectors_ms: f64,
    /// Restarts with existing topics: spawn → `GET /` answers 200, ms.
    pub ready_ms: Vec<f64>,
    /// The same starts: spawn → `GET /connectors` answers 200, ms.
    pub connectors_ms: Vec<f64>,
    /// 5 s after the first start, no connector.
    pub idle_rss_kb: u64,
    /// Sampled every 50 ms during the scenarios.
    pub peak_rss_kb: u64,
    /// VmHWM after the scenarios.
    pub hwm_kb: u64,
    /// The warm-up batch (the JVM's first connector, cold JIT).
    pub cold: Option<Throughput>,
    /// The measured scenarios, after the warm-up batch.
    pub throughput: Vec<Throughput>,
    pub latency: Vec<Latency>,
}

#[derive(Debug, Clone, Default)]
pub struct Throughput {
    pub tx_size: usize,
    pub rows: usize,
    pub insert_secs: f64,
    pub recv_secs: f64,
    pub recv_pg_cpu: f64,
    pub ferry_secs: f64,
    pub ferry_first_secs: f64,
    pub ferry_received: usize,
    pub ferry_cpu: f64,
    pub ferry_pg_cpu: f64,
    pub ferry_tansu_cpu: f64,
    pub ferry_bench_cpu: f64,
    pub ferry_peak_rss_kb: u64,
    pub avg_msg_bytes: f64,
}

#[derive(Debug, Clone, Default)]
pub struct Baseline {
    pub n: usize,
    pub avg_msg_bytes: f64,
    pub secs_acked: f64,
    pub secs_consumed: f64,
    pub failed: u64,
    pub tansu_cpu: f64,
}

#[derive(Debug, Clone, Default)]
pub struct Latency {
    pub variant: String,
    pub rate: u64,
    pub rows_per_tx: u64,
    pub sent: usize,
    pub achieved_rate: f64,
    pub received: usize,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub ferry_cpu: f64,
    pub peak_rss_kb: u64,
}

fn cmd_out(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|e| format!("({cmd}: {e})"))
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .trim()
        .to_owned()
}

fn machine() -> Vec<(String, String)> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .unwrap_or("?")
        .trim()
        .to_owned();
    let mhz = cpuinfo
        .lines()
        .find(|l| l.starts_with("cpu MHz"))
        .and_then(|l| l.split(':').nth(1))
        .unwrap_or("?")
        .trim()
        .to_owned();
    let mem = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("MemTotal"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<u64>().ok())
        .map(|kb| format!("{:.1} GiB", kb as f64 / 1024.0 / 1024.0))
        .unwrap_or_default();
    vec![
        ("CPU model".into(), format!("{model} ({mhz} MHz)")),
        ("cores (online)".into(), cmd_out("nproc", &[])),
        ("memory".into(), mem),
        ("kernel".into(), cmd_out("uname", &["-sr"])),
        ("load average at start".into(), loadavg()),
    ]
}

fn versions(ferry_bin: &Path) -> Vec<(String, String)> {
    let root = workspace_root();
    let root = root.to_str().unwrap();
    let commit = cmd_out("git", &["-C", root, "rev-parse", "--short", "HEAD"]);
    let dirty = !cmd_out(
        "git",
        &["-C", root, "status", "--porcelain", "--untracked-files=no"],
    )
    .is_empty();
    vec![
        (
            "Ferry".into(),
            format!(
                "git {commit}{} ({})",
                if dirty {
                    " + uncommitted changes in the work tree"
                } else {
                    ""
                },
                ferry_bin.display()
            ),
        ),
        ("rustc".into(), cmd_out("rustc", &["--version"])),
        (
            "PostgreSQL".into(),
            cmd_out(&format!("{PG_BIN}/postgres"), &["--version"]),
        ),
        (
            "Tansu".into(),
            cmd_out(
                &std::env::var("TANSU_BIN").unwrap_or_else(|_| "tansu".into()),
                &["--version"],
            ),
        ),
        (
            "librdkafka (bench clients)".into(),
            rdkafka::util::get_rdkafka_version().1,
        ),
    ]
}

fn connector(name: &str, slot: &str, pg_port: u16) -> Value {
    // The seed's connector JSON (shared/seeds/003), pointed at the private cluster, with its own
    // slot and snapshot.mode=no_data so that every row is streamed from the slot.
    json!({
        "name": name,
        "config": {
            "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
            "database.hostname": "127.0.0.1",
            "database.port": pg_port.to_string(),
            "database.user": "postgres",
            "database.password": "postgres",
            "database.dbname": DB,
            "database.server.name": "pg-server-1",
            "topic.prefix": name,
            "plugin.name": "pgoutput",
            "table.include.list": "public.outbox",
            "tombstones.on.delete": "false",
            "transforms": "outboxEventRouter",
            "transforms.outboxEventRouter.type": "io.debezium.transforms.outbox.EventRouter",
            "transforms.outboxEventRouter.route.by.field": "aggregate_type",
            "transforms.outboxEventRouter.route.topic.replacement": "${routedByValue}_events",
            "transforms.outboxEventRouter.table.field.event.key": "aggregate_id",
            "transforms.outboxEventRouter.table.field.event.payload": "payload",
            "slot.name": slot,
            "snapshot.mode": "no_data"
        }
    })
}

struct Env {
    args: Args,
    pg: PgCluster,
    broker: Tansu,
    admin: Client,
    writers: Vec<Writer>,
    ferry: Ferry,
    tansu_pid: u32,
    postmaster_pid: u32,
}

impl Env {
    fn tansu_cpu(&self) -> f64 {
        procfs::cpu_secs(self.tansu_pid)
    }
    fn pg_cpu(&self) -> f64 {
        procfs::tree_cpu_secs(self.postmaster_pid)
    }
    fn bench_cpu(&self) -> f64 {
        procfs::cpu_secs(std::process::id())
    }

    async fn create_slot(&self, slot: &str) {
        self.admin
            .execute(
                "SELECT pg_create_logical_replication_slot($1, 'pgoutput')",
                &[&slot],
            )
            .await
            .unwrap_or_else(|e| panic!("create slot {slot}: {e}"));
    }

    async fn drop_slot(&self, slot: &str) {
        for _ in 0..100 {
            if self
                .admin
                .execute("SELECT pg_drop_replication_slot($1)", &[&slot])
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        eprintln!("warning: could not drop slot {slot}");
    }

    async fn create_topics(&self, topics: &[String]) {
        for t in topics {
            self.broker.create_topic(t, 1, &[]).await;
        }
    }

    /// Commits rows `seq0..seq0+rows` in transactions of `tx` rows, 4 connections × 8 in flight.
    async fn bulk_insert(&self, seq0: u64, rows: usize, tx: usize, types: &[String]) -> f64 {
        let t0 = Instant::now();
        let starts: Vec<u64> = (0..rows as u64).step_by(tx).map(|s| seq0 + s).collect();
        let end = seq0 + rows as u64;
        futures::stream::iter(starts.into_iter().enumerate())
            .map(|(i, s)| {
                let w = &self.writers[i % self.writers.len()];
                w.write(s..(s + tx as u64).min(end), types)
            })
            .buffer_unordered(32)
            .try_collect::<Vec<u64>>()
            .await
            .expect("insert");
        t0.elapsed().as_secs_f64()
    }

    async fn wal_insert_lsn(&self) -> String {
        self.admin
            .query_one("SELECT pg_current_wal_insert_lsn()::text", &[])
            .await
            .expect("lsn")
            .get(0)
    }

    /// pg_recvlogical draining `slot` through pgoutput to /dev/null up to `endpos`.
    async fn recvlogical(&self, slot: &str, endpos: &str) -> (f64, f64) {
        let pg0 = self.pg_cpu();
        let t0 = Instant::now();
        let out = tokio::process::Command::new(format!("{PG_BIN}/pg_recvlogical"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.pg.port().to_string(),
                "-U",
                "postgres",
                "-d",
                DB,
                "--slot",
                slot,
                "--start",
                "--no-loop",
                "--endpos",
                endpos,
                "--plugin=pgoutput",
                "-o",
                "proto_version=1",
                "-o",
                &format!("publication_names={PUBLICATION}"),
                "-f",
                "/dev/null",
            ])
            .env("PGPASSWORD", "postgres")
            .output()
            .await
            .expect("run pg_recvlogical");
        let secs = t0.elapsed().as_secs_f64();
        assert!(
            out.status.success(),
            "pg_recvlogical failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        (secs, self.pg_cpu() - pg0)
    }
}

fn types_for(tag: &str) -> Vec<String> {
    AGGREGATES.iter().map(|a| format!("{a}{tag}")).collect()
}

fn topics_for(types: &[String]) -> Vec<String> {
    types.iter().map(|t| format!("{t}_events")).collect()
}

struct Perf {
    child: std::process::Child,
    file: PathBuf,
}

fn perf_start(file: &Path) -> Option<Perf> {
    let child = Command::new("perf")
        .args(["record", "-a", "-e", "cpu-clock", "-F", "499", "-o"])
        .arg(file)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    std::thread::sleep(Duration::from_millis(500));
    Some(Perf {
        child,
        file: file.to_owned(),
    })
}

fn perf_stop(mut p: Perf, ferry_pid: u32) -> (String, String) {
    // SAFETY: SIGINT to our own child makes perf write its file and exit.
    unsafe {
        libc::kill(p.child.id() as i32, libc::SIGINT);
    }
    let _ = p.child.wait();
    let report = |sort: &str| {
        let out = Command::new("perf")
            .args([
                "report",
                "--stdio",
                "--no-children",
                "--percent-limit",
                "0.7",
                "--pid",
            ])
            .arg(ferry_pid.to_string())
            .args(["--sort", sort, "-i"])
            .arg(&p.file)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        out.lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .take(40)
            .collect::<Vec<_>>()
            .join("\n")
    };
    (report("dso,symbol"), report("comm"))
}

/// One throughput scenario on `target`: `rows` outbox rows in transactions of `tx`, drained
/// by pg_recvlogical first (the decoding limit), then by the target.
/// `run` names its slots, topics and connector: `ferry`, `ferrycold`, `ref` or `refcold`.
async fn throughput(
    env: &Env,
    target: &Target,
    res: &mut Results,
    run: &str,
    rows: usize,
    tx: usize,
    seq0: u64,
) -> Throughput {
    let tag = format!(
        "Tx{tx}{}",
        match run {
            "ferry" => "",
            "ferrycold" => "Cold",
            "ref" => "Ref",
            _ => "RefCold",
        }
    );
    let types = types_for(&tag);
    let topics = topics_for(&types);
    env.create_topics(&topics).await;
    let (ferry_slot, recv_slot) = (format!("{run}_tx{tx}"), format!("recv_{run}_tx{tx}"));
    env.create_slot(&ferry_slot).await;
    env.create_slot(&recv_slot).await;
    eprintln!("[tx={tx}] inserting {rows} rows");
    let insert_secs = env.bulk_insert(seq0, rows, tx, &types).await;
    let endpos = env.wal_insert_lsn().await;
    eprintln!("[tx={tx}] inserted in {insert_secs:.1} s; pg_recvlogical to {endpos}");
    // Let checkpointer/walwriter settle before timing.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (recv_secs, recv_pg_cpu) = env.recvlogical(&recv_slot, &endpos).await;
    eprintln!("[tx={tx}] pg_recvlogical: {recv_secs:.2} s");
    env.drop_slot(&recv_slot).await;
    tokio::time::sleep(Duration::from_secs(1)).await;

    let keep = if run == "ferry" && tx == *env.args.tx_sizes.iter().max().unwrap() {
        2000
    } else {
        0
    };
    let counter = Counter::start(
        &env.broker.bootstrap,
        &topics,
        rows,
        Duration::from_secs(900),
        keep,
        None,
    );
    let pid = target.pid;
    let perf = if keep > 0 && !env.args.no_perf {
        perf_start(&std::env::temp_dir().join(format!("ferry-bench-{}.perf.data", std::process::id())))
    } else {
        None
    };
    let sampler = procfs::RssSampler::start(pid);
    let (cpu0, pg0, tansu0, bench0) = (
        procfs::cpu_secs(pid),
        env.pg_cpu(),
        env.tansu_cpu(),
        env.bench_cpu(),
    );
    let name = format!("outbox-{run}-tx{tx}");
    let t0 = Instant::now();
    let (st, body) = call(
        "POST",
        &target.url("/connectors"),
        Some(&connector(&name, &ferry_slot, env.pg.port())),
    )
    .await;
    assert_eq!(st, 201, "{body}");
    let consumed = tokio::task::spawn_blocking(move || counter.join()).await.unwrap();
    let (cpu1, pg1, tansu1, bench1) = (
        procfs::cpu_secs(pid),
        env.pg_cpu(),
        env.tansu_cpu(),
        env.bench_cpu(),
    );
    let peak = sampler.finish();
    if let Some(p) = perf {
        let (sym, threads) = perf_stop(p, pid);
        res.perf = Some(sym);
        res.perf_threads = Some(threads);
    }
    let last = consumed.last.map_or(f64::NAN, |l| (l - t0).as_secs_f64());
    let first = consumed.first.map_or(f64::NAN, |f| (f - t0).as_secs_f64());
    eprintln!(
        "[tx={tx}] {}: {} of {rows} records, first after {first:.2} s, all after {last:.2} s ({:.0}/s); cpu {:.2} s",
        target.label,
        consumed.count,
        rows as f64 / last,
        cpu1 - cpu0
    );
    if consumed.count < rows {
        eprintln!("{} log tail:\n{}", target.label, tail(&target.log_text(), 30));
    }
    let (st, _) = call("DELETE", &target.url(&format!("/connectors/{name}")), None).await;
    assert!(st == 204 || st == 200, "delete {name}: {st}");
    env.drop_slot(&ferry_slot).await;
    if !consumed.templates.is_empty() {
        TEMPLATES
            .lock()
            .unwrap()
            .extend(consumed.templates.iter().cloned());
    }
    Throughput {
        tx_size: tx,
        rows,
        insert_secs,
        recv_secs,
        recv_pg_cpu,
        ferry_secs: last,
        ferry_first_secs: first,
        ferry_received: consumed.count,
        ferry_cpu: cpu1 - cpu0,
        ferry_pg_cpu: pg1 - pg0,
        ferry_tansu_cpu: tansu1 - tansu0,
        ferry_bench_cpu: bench1 - bench0,
        ferry_peak_rss_kb: peak,
        avg_msg_bytes: consumed.bytes as f64 / consumed.count.max(1) as f64,
    }
}

static TEMPLATES: Mutex<Vec<kafka::Template>> = Mutex::new(Vec::new());

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

async fn baseline(env: &Env) -> Baseline {
    let n = env.args.rows;
    let templates = TEMPLATES.lock().unwrap().clone();
    let templates = if templates.is_empty() {
        // No Ferry run kept samples: build Ferry-shaped messages (JsonConverter envelopes).
        (0..1000u64)
            .map(|s| kafka::Template {
                key: Some(json!({"schema": {"type": "string", "optional": false}, "payload": aggregate_id(s)}).to_string().into_bytes()),
                value: Some(
                    json!({"schema": {"type": "string", "optional": false, "name": "io.debezium.data.Json", "version": 1}, "payload": payload(s)})
                        .to_string()
                        .into_bytes(),
                ),
                headers: vec![("id".into(), b"0b6a3c4e-7a43-4f3a-9d55-0d5a0c1e0001".to_vec())],
            })
            .collect()
    } else {
        templates
    };
    let avg = templates.iter().map(|t| t.size()).sum::<usize>() as f64 / templates.len() as f64;
    let types = types_for("Base");
    let topics = topics_for(&types);
    env.create_topics(&topics).await;
    let counter = Counter::start(
        &env.broker.bootstrap,
        &topics,
        n,
        Duration::from_secs(600),
        0,
        None,
    );
    let tansu0 = env.tansu_cpu();
    let bootstrap = env.broker.bootstrap.clone();
    let t0 = Instant::now();
    let produced =
        tokio::task::spawn_blocking(move || kafka::produce_baseline(&bootstrap, &topics, &templates, n))
            .await
            .unwrap();
    let consumed = tokio::task::spawn_blocking(move || counter.join()).await.unwrap();
    let b = Baseline {
        n,
        avg_msg_bytes: avg,
        secs_acked: produced.secs_to_all_acked,
        secs_consumed: consumed.last.map_or(f64::NAN, |l| (l - t0).as_secs_f64()),
        failed: produced.failed,
        tansu_cpu: env.tansu_cpu() - tansu0,
    };
    eprintln!(
        "[baseline] {n} messages of {avg:.0} B acked in {:.2} s ({:.0}/s), consumed after {:.2} s ({} seen); producer cpu {:.2} s",
        b.secs_acked,
        n as f64 / b.secs_acked,
        b.secs_consumed,
        consumed.count,
        produced.cpu_secs
    );
    b
}

/// Commit → consumer latency on `target` at each of `rates` for `secs` each.
#[allow(clippy::too_many_arguments)]
async fn latency(
    env: &Env,
    target: &Target,
    run: usize,
    variant: &str,
    extra: &[String],
    rates: &[u64],
    secs: u64,
) -> Vec<Latency> {
    let types = Arc::new(types_for(&format!("Lat{run}")));
    let topics = topics_for(&types);
    env.create_topics(&topics).await;
    let slot = &format!("latency_{run}");
    env.create_slot(slot).await;
    let name = &format!("outbox-latency-{run}");
    let mut cfg = connector(name, slot, env.pg.port());
    for kv in extra {
        if let Some((k, v)) = kv.split_once('=') {
            cfg["config"][k] = Value::String(v.to_owned());
        }
    }
    let (st, body) = call("POST", &target.url("/connectors"), Some(&cfg)).await;
    assert_eq!(st, 201, "{body}");
    wait_running(target, name).await;

    let warmup = 400u64;
    let total: u64 = warmup + rates.iter().map(|r| r * secs).sum::<u64>();
    let commits: Arc<Vec<AtomicU64>> = Arc::new((0..total).map(|_| AtomicU64::new(0)).collect());
    let lats: Arc<Mutex<Vec<(u64, u64)>>> = Arc::new(Mutex::new(Vec::with_capacity(total as usize)));
    let (c2, l2) = (commits.clone(), lats.clone());
    let on_msg: kafka::OnMessage = Box::new(move |m, now| {
        use rdkafka::message::Message;
        let now_us = now.duration_since(base()).as_micros() as u64 + 1;
        let Some(v) = m.payload() else { return };
        let Ok(env) = serde_json::from_slice::<Value>(v) else {
            return;
        };
        let Some(inner) = env["payload"].as_str() else {
            return;
        };
        let Ok(p) = serde_json::from_str::<Value>(inner) else {
            return;
        };
        let Some(seq) = p["seq"].as_u64() else { return };
        let committed = c2.get(seq as usize).map_or(0, |c| c.load(Ordering::Relaxed));
        // A record seen before its writer saw COMMIT's reply counts as 0 latency (before,
        // the time since the benchmark's start was taken as its latency).
        let latency = if committed == 0 {
            0
        } else {
            now_us.saturating_sub(committed)
        };
        l2.lock().unwrap().push((seq, latency));
    });
    let timeout = Duration::from_secs(secs * rates.len() as u64 + 180);
    let counter = Counter::start(
        &env.broker.bootstrap,
        &topics,
        total as usize,
        timeout,
        0,
        Some(on_msg),
    );

    // Warm-up (first records of each topic, topic checks): excluded from the figures.
    paced(env, 200, warmup, 0, types.clone(), commits.clone()).await;
    tokio::time::sleep(Duration::from_secs(3)).await;

    let pid = target.pid;
    let mut seq0 = warmup;
    let mut phases = Vec::new();
    for &rate in rates {
        let n = rate * secs;
        let sampler = procfs::RssSampler::start(pid);
        let cpu0 = procfs::cpu_secs(pid);
        let (achieved, k) = paced(env, rate, n, seq0, types.clone(), commits.clone()).await;
        // Let the tail arrive before the next phase.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let cpu = procfs::cpu_secs(pid) - cpu0;
        let peak = sampler.finish();
        eprintln!("[latency {rate}/s] wrote {n} rows at {achieved:.0}/s");
        phases.push((rate, k, seq0..seq0 + n, achieved, cpu, peak));
        seq0 += n;
    }
    let consumed = tokio::task::spawn_blocking(move || counter.join()).await.unwrap();
    eprintln!("[latency] consumer saw {} of {total}", consumed.count);
    let lats = lats.lock().unwrap().clone();
    let mut out = Vec::new();
    for (rate, k, range, achieved, cpu, peak) in phases {
        let mut l: Vec<u64> = lats
            .iter()
            .filter(|(s, _)| range.contains(s))
            .map(|(_, l)| *l)
            .collect();
        l.sort_unstable();
        let (p50, p90, p99, max) = percentiles(&l);
        let r = Latency {
            variant: variant.to_owned(),
            rate,
            rows_per_tx: k,
            sent: (range.end - range.start) as usize,
            achieved_rate: achieved,
            received: l.len(),
            p50_ms: p50,
            p90_ms: p90,
            p99_ms: p99,
            max_ms: max,
            ferry_cpu: cpu,
            peak_rss_kb: peak,
        };
        eprintln!("[latency {rate}/s] {} {r:?}", target.label);
        out.push(r);
    }
    let _ = call("DELETE", &target.url(&format!("/connectors/{name}")), None).await;
    env.drop_slot(slot).await;
    out
}

/// p50, p90, p99 and max of sorted microseconds, in ms.
fn percentiles(l: &[u64]) -> (f64, f64, f64, f64) {
    if l.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN, f64::NAN);
    }
    let pct = |p: f64| l[((l.len() as f64 * p).ceil() as usize).clamp(1, l.len()) - 1] as f64 / 1000.0;
    (
        pct(0.50),
        pct(0.90),
        pct(0.99),
        *l.last().unwrap() as f64 / 1000.0,
    )
}

/// The broker's latency floor at the same rates: plain producer → consumer, no PostgreSQL, no Ferry.
async fn broker_latency(env: &Env, res: &mut Results) {
    let template = TEMPLATES
        .lock()
        .unwrap()
        .first()
        .cloned()
        .unwrap_or(kafka::Template {
            key: Some(b"{}".to_vec()),
            value: Some(vec![b'x'; 400]),
            headers: Vec::new(),
        });
    for &rate in &env.args.latency_rates {
        let topic = format!("BrokerLatency{rate}_events");
        env.create_topics(std::slice::from_ref(&topic)).await;
        let n = rate * env.args.latency_secs.min(10);
        let lats: Arc<Mutex<Vec<u64>>> = Arc::new(Mutex::new(Vec::new()));
        let l2 = lats.clone();
        let on_msg: kafka::OnMessage = Box::new(move |m, now| {
            use rdkafka::message::{Headers, Message};
            let now_us = now.duration_since(base()).as_micros() as u64 + 1;
            let sent = m
                .headers()
                .and_then(|h| h.iter().find(|h| h.key == "t").and_then(|h| h.value))
                .and_then(|v| std::str::from_utf8(v).ok()?.parse::<u64>().ok());
            if let Some(t) = sent {
                l2.lock().unwrap().push(now_us.saturating_sub(t));
            }
        });
        let counter = Counter::start(
            &env.broker.bootstrap,
            std::slice::from_ref(&topic),
            n as usize + 1,
            Duration::from_secs(120),
            0,
            Some(on_msg),
        );
        let (bootstrap, t) = (env.broker.bootstrap.clone(), template.clone());
        let acks = tokio::task::spawn_blocking(move || {
            kafka::produce_paced(&bootstrap, &topic, &t, rate, n, micros)
        })
        .await
        .unwrap();
        let (a50, a90, a99, amax) = percentiles(&acks);
        let consumed = tokio::task::spawn_blocking(move || counter.join()).await.unwrap();
        let mut l = lats.lock().unwrap().clone();
        l.sort_unstable();
        let (p50, p90, p99, max) = percentiles(&l);
        eprintln!("[broker latency {rate}/s] {} received: p50 {p50:.1} p99 {p99:.1} max {max:.1} ms; acks p50 {a50:.1} p99 {a99:.1} max {amax:.1}", consumed.count);
        res.broker_latency.push((rate, l.len(), p50, p90, p99, max));
        res.broker_ack_latency
            .push((rate, acks.len(), a50, a90, a99, amax));
    }
}

/// Open-loop writer: `n` rows at `rate` rows/s, one transaction per tick (1 row per
/// transaction up to 2,000/s, 10 above), pipelined over the writer connections.
/// Returns the achieved rate and rows per transaction.
async fn paced(
    env: &Env,
    rate: u64,
    n: u64,
    seq0: u64,
    types: Arc<Vec<String>>,
    commits: Arc<Vec<AtomicU64>>,
) -> (f64, u64) {
    let k: u64 = if rate <= 2000 { 1 } else { 10 };
    let interval = Duration::from_secs_f64(k as f64 / rate as f64);
    let n_tx = n.div_ceil(k);
    let sem = Arc::new(tokio::sync::Semaphore::new(256));
    let t0 = tokio::time::Instant::now();
    let mut handles = Vec::with_capacity(n_tx as usize);
    for i in 0..n_tx {
        tokio::time::sleep_until(t0 + interval * i as u32).await;
        let permit = sem.clone().acquire_owned().await.unwrap();
        let w = env.writers[i as usize % env.writers.len()].clone();
        let (types, commits) = (types.clone(), commits.clone());
        let s = seq0 + i * k;
        let e = (s + k).min(seq0 + n);
        handles.push(tokio::spawn(async move {
            w.write(s..e, &types).await.expect("insert");
            let now = micros();
            for q in s..e {
                commits[q as usize].store(now, Ordering::Relaxed);
            }
            drop(permit);
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    (n as f64 / t0.elapsed().as_secs_f64(), k)
}

/// Start-up: one unmeasured first start (creates the internal topics), then `reps` starts.
fn ready_times(env: &Env, dir: &Path, res: &mut Results) {
    let bin = ferry_bin(&env.args);
    let port = free_port();
    let prefix = format!("ready-{}", std::process::id());
    let props = ferry::write_props(dir, "ready", &env.broker.bootstrap, &prefix, port);
    let markers = [
        "starting worker",
        "this worker is the active worker",
        "read stored state",
        "worker ready",
    ];
    let mut phases: Vec<Vec<f64>> = vec![Vec::new(); markers.len() + 1];
    for i in 0..=env.args.ready_reps {
        let spawned = std::time::SystemTime::now();
        let mut f = Ferry::spawn(
            &bin,
            &props,
            port,
            &format!("{prefix}-g{i}"),
            &dir.join(format!("ready-{i}.log")),
        );
        let d = f.wait_ready(Duration::from_secs(60)).as_secs_f64() * 1000.0;
        let dc = ferry::poll_ok(
            port,
            "/connectors",
            f.spawned_at,
            Duration::from_millis(2),
            Duration::from_secs(60),
        )
        .map_or(f64::NAN, |t| t.as_secs_f64() * 1000.0);
        std::thread::sleep(Duration::from_millis(300));
        let rss = procfs::rss_kb(f.pid());
        f.terminate();
        eprintln!("[ready] start {i}: {d:.1} ms (GET /connectors {dc:.1} ms), RSS {rss} KiB");
        if i > 0 {
            // Phase ends from the log's timestamps, relative to the spawn.
            let log = f.log_text();
            let at = |m: &str| -> Option<f64> {
                let line = log.lines().find(|l| l.contains(m))?;
                let clean: String = strip_ansi(line);
                let ts = clean.split_whitespace().next()?;
                let t = chrono::DateTime::parse_from_rfc3339(ts).ok()?;
                let t =
                    std::time::SystemTime::UNIX_EPOCH + Duration::from_micros(t.timestamp_micros() as u64);
                Some(t.duration_since(spawned).ok()?.as_secs_f64() * 1000.0)
            };
            let mut prev = 0.0;
            for (k, m) in markers.iter().enumerate() {
                if let Some(t) = at(m) {
                    phases[k].push(t - prev);
                    prev = t;
                }
            }
            phases[markers.len()].push(d - prev);
        }
        if i == 0 {
            res.first_ready_ms = d;
        } else {
            res.ready_ms.push(d);
            res.ready_connectors_ms.push(dc);
            res.ready_rss_kb.push(rss);
        }
    }
    let names = [
        "spawn → `starting worker` (exec, runtime, config, bind)",
        "→ `active worker` (ensure 3 internal topics, group lease)",
        "→ `read stored state` (read configs + offsets, then status topics to their end)",
        "→ `worker ready` (other REST requests wait until here)",
        "(first `GET /` answered, relative to `worker ready`: negative = answered before)",
    ];
    for (n, v) in names.iter().zip(phases) {
        res.startup_phases.push((n.to_string(), report::median(&v)));
    }
    // What KafkaLog::read_all does per internal topic, timed step by step (same client settings).
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let topic = format!("{prefix}-offsets");
    let mut steps: Vec<Vec<f64>> = vec![Vec::new(); 4];
    let mut n = 0;
    for rep in 0..5 {
        let t0 = Instant::now();
        let consumer: BaseConsumer = env
            .broker
            .client()
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("group.id", format!("ferry-internal-reader-{topic}-{rep}"))
            .set("enable.partition.eof", "false")
            .create()
            .expect("consumer");
        let t1 = Instant::now();
        let _ = consumer.fetch_metadata(Some(&topic), Duration::from_secs(5));
        let t2 = Instant::now();
        n = 0;
        for p in 0..25 {
            if consumer
                .fetch_watermarks(&topic, p, Duration::from_secs(5))
                .is_ok()
            {
                n += 1;
            }
        }
        let t3 = Instant::now();
        drop(consumer);
        let t4 = Instant::now();
        for (k, (a, b)) in [(t0, t1), (t1, t2), (t2, t3), (t3, t4)].into_iter().enumerate() {
            steps[k].push((b - a).as_secs_f64() * 1000.0);
        }
    }
    let med: Vec<f64> = steps.iter().map(|v| report::median(v)).collect();
    res.watermarks_ms = (med[2], n);
    res.read_log_steps = med;
    eprintln!(
        "[ready] read_all steps {:?}; phases {:?}",
        res.read_log_steps, res.startup_phases
    );
}

/// Spawns the real worker with `props` and times spawn → `GET /` and → `GET /connectors`
/// answering 200 (polled every 5 ms), in ms.
fn start_jvm(props: &Path, port: u16, log: &Path) -> (RealConnect, f64, f64) {
    let t0 = Instant::now();
    let worker = RealConnect::spawn(props, port, log).expect("start Kafka Connect");
    let every = Duration::from_millis(5);
    let limit = Duration::from_secs(240);
    let fail = |what: &str| -> ! {
        panic!(
            "Kafka Connect: {what} did not answer within {limit:?}; log:\n{}",
            worker.log_tail()
        )
    };
    let root = ferry::poll_ok(port, "/", t0, every, limit).unwrap_or_else(|| fail("GET /"));
    let conns =
        ferry::poll_ok(port, "/connectors", t0, every, limit).unwrap_or_else(|| fail("GET /connectors"));
    (worker, root.as_secs_f64() * 1000.0, conns.as_secs_f64() * 1000.0)
}

/// The same scenarios on the real Kafka Connect 4.3 with Debezium 3.6.3 (the JVM worker from
/// ferry-test-support, on the same broker and database), after Ferry's have finished: its
/// first start, idle memory, the warm-up batch (the largest-transaction scenario as its first
/// connector, reported as cold), every throughput scenario, every latency rate, the memory
/// high-water mark, then `reference_ready_reps` restarts with existing topics.
async fn reference(env: &Env, dir: &Path, res: &mut Results, seq0: &mut u64) -> Reference {
    let port = free_port();
    let prefix = format!("ref-{}", std::process::id());
    let props_for = |group: &str, name: &str| {
        let mut props = WorkerProps::new(&prefix, &env.broker.bootstrap, port);
        props
            .set("offset.flush.interval.ms", "60000")
            .set("group.id", group)
            // The plugins are on the classpath, not in a plugin path.
            .set("plugin.discovery", "service_load");
        let path = dir.join(format!("{name}.properties"));
        props.write(&path);
        path
    };
    eprintln!("[reference] preparing Kafka Connect 4.3 + Debezium 3.6.3 (downloads its jars once)");
    // Prepare the classpath first, so the start-up time does not include a download.
    let classpath = tokio::task::spawn_blocking(realconnect::classpath).await.unwrap();
    classpath.unwrap_or_else(|e| panic!("the real Kafka Connect: {e}"));
    res.loads.push(("Kafka Connect: first start".into(), loadavg()));
    let path = props_for(&format!("{prefix}-group"), "connect");
    let log = dir.join("connect.log");
    let (worker, first_ready_ms, first_connectors_ms) =
        tokio::task::block_in_place(|| start_jvm(&path, port, &log));
    eprintln!("[reference] first start: GET / after {first_ready_ms:.0} ms, GET /connectors after {first_connectors_ms:.0} ms");
    tokio::time::sleep(Duration::from_secs(5)).await;
    let idle_rss_kb = procfs::rss_kb(worker.pid());
    eprintln!("[reference] idle RSS {idle_rss_kb} KiB");
    let target = Target {
        label: "Kafka Connect 4.3 + Debezium 3.6.3",
        base: worker.base.clone(),
        pid: worker.pid(),
        log: log.clone(),
    };
    let mut scratch = Results::default();
    let rows = env.args.reference_rows.unwrap_or(env.args.rows);
    let largest = *env.args.tx_sizes.iter().max().unwrap();
    res.loads.push(("Kafka Connect: scenarios".into(), loadavg()));
    let cold = throughput(env, &target, &mut scratch, "refcold", rows, largest, *seq0).await;
    *seq0 += rows as u64;
    let mut tps = Vec::new();
    for &tx in &env.args.tx_sizes {
        tps.push(throughput(env, &target, &mut scratch, "ref", rows, tx, *seq0).await);
        *seq0 += rows as u64;
    }
    let mut latency = latency(
        env,
        &target,
        2,
        "seed config",
        &[],
        &env.args.latency_rates,
        env.args.latency_secs,
    )
    .await;
    if !env.args.no_diagnose {
        // Debezium's queue hands a batch to Connect when it holds max.batch.size records or
        // poll.interval.ms (default 500) has passed: the same load with a 10 ms interval.
        let extra = vec!["poll.interval.ms=10".to_owned()];
        let l = self::latency(
            env,
            &target,
            3,
            "diagnostic: + poll.interval.ms=10",
            &extra,
            &env.args.latency_rates,
            env.args.latency_secs.min(10),
        )
        .await;
        latency.extend(l);
    }
    let hwm_kb = procfs::hwm_kb(worker.pid());
    let peak_rss_kb = std::iter::once(&cold)
        .chain(tps.iter())
        .map(|t| t.ferry_peak_rss_kb)
        .chain(latency.iter().map(|l| l.peak_rss_kb))
        .max()
        .unwrap_or(0);
    drop(worker);
    res.loads.push(("Kafka Connect: restarts".into(), loadavg()));
    let (mut ready_ms, mut connectors_ms) = (Vec::new(), Vec::new());
    for i in 0..env.args.reference_ready_reps {
        // A fresh group per start, as for Ferry (Tansu keeps a killed member's session).
        let path = props_for(&format!("{prefix}-g{i}"), &format!("connect-ready-{i}"));
        let log = dir.join(format!("connect-ready-{i}.log"));
        let (w, r, c) = tokio::task::block_in_place(|| start_jvm(&path, port, &log));
        drop(w);
        eprintln!("[reference] restart {i}: GET / after {r:.0} ms, GET /connectors after {c:.0} ms");
        ready_ms.push(r);
        connectors_ms.push(c);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    Reference {
        first_ready_ms,
        first_connectors_ms,
        ready_ms,
        connectors_ms,
        idle_rss_kb,
        peak_rss_kb,
        hwm_kb,
        cold: Some(cold),
        throughput: tps,
        latency,
    }
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_esc = false;
    for c in s.chars() {
        if in_esc {
            if c == 'm' {
                in_esc = false;
            }
        } else if c == '\u{1b}' {
            in_esc = true;
        } else {
            out.push(c);
        }
    }
    out
}

fn ferry_bin(args: &Args) -> PathBuf {
    args.ferry_bin.clone().unwrap_or_else(|| {
        std::env::current_exe()
            .expect("current exe")
            .parent()
            .unwrap()
            .join("ferry")
    })
}

fn main() {
    let args = Args::parse();
    base();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run(args));
}

async fn run(args: Args) {
    let bin = ferry_bin(&args);
    assert!(
        bin.exists(),
        "{} missing: run benches/run.sh (it builds ferry first)",
        bin.display()
    );
    if args.refresh_analysis {
        let out = args
            .out
            .clone()
            .unwrap_or_else(|| workspace_root().join("BENCHMARKS.md"));
        let text = std::fs::read_to_string(&out).expect("read the report");
        std::fs::write(&out, report::refresh_analysis(&text)).expect("write report");
        eprintln!("refreshed the analysis section of {}", out.display());
        return;
    }
    let mut res = Results {
        machine: machine(),
        versions: versions(&bin),
        args: std::env::args().skip(1).collect::<Vec<_>>().join(" "),
        ..Default::default()
    };
    eprintln!("starting PostgreSQL and Tansu");
    let pg = tokio::task::spawn_blocking(PgCluster::start).await.unwrap();
    let broker = tokio::task::spawn_blocking(Tansu::start).await.unwrap();
    pg.create_database(DB).await;
    let admin = pg.connect(DB).await;
    admin
        .batch_execute(&format!(
            "CREATE TABLE outbox (
                id UUID PRIMARY KEY,
                aggregate_type VARCHAR(255) NOT NULL,
                aggregate_id VARCHAR(255) NOT NULL,
                event_type VARCHAR(255) NOT NULL,
                payload JSONB NOT NULL,
                created_at TIMESTAMPTZ DEFAULT NOW()
            );
            CREATE PUBLICATION {PUBLICATION} FOR TABLE outbox;"
        ))
        .await
        .expect("schema");
    let mut writers = Vec::new();
    for _ in 0..4 {
        writers.push(Writer::connect(&pg).await);
    }
    let postmaster_pid: u32 = std::fs::read_to_string(pg.data_dir().join("postmaster.pid"))
        .expect("postmaster.pid")
        .lines()
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let tansu_pid = procfs::children_named(std::process::id(), "tansu")
        .into_iter()
        .next()
        .expect("tansu pid");

    let dir = tempfile::Builder::new().prefix("ferry-bench-").tempdir().unwrap();
    let port = free_port();
    let prefix = format!("bench-{}", std::process::id());
    let props = ferry::write_props(dir.path(), "worker", &broker.bootstrap, &prefix, port);
    let mut main_worker = Ferry::spawn(
        &bin,
        &props,
        port,
        &format!("{prefix}-group"),
        &dir.path().join("worker.log"),
    );
    let d = main_worker.wait_ready(Duration::from_secs(60));
    eprintln!(
        "worker ready after {:.1} ms (first start, creates its internal topics)",
        d.as_secs_f64() * 1000.0
    );
    let mut env = Env {
        args: args.clone(),
        pg,
        broker,
        admin,
        writers,
        ferry: main_worker,
        tansu_pid,
        postmaster_pid,
    };
    tokio::time::sleep(Duration::from_secs(5)).await;
    res.idle_rss_kb = procfs::rss_kb(env.ferry.pid());
    eprintln!("idle RSS {} KiB", res.idle_rss_kb);

    let dir_path = dir.path().to_owned();
    tokio::task::block_in_place(|| ready_times(&env, &dir_path, &mut res));

    let ferry_target = Target::ferry(&env.ferry);
    let mut seq0 = 1_000_000_000u64;
    let sizes = args.tx_sizes.clone();
    let largest = *sizes.iter().max().unwrap();
    res.loads.push(("Ferry: scenarios".into(), loadavg()));
    // The warm-up batch (the worker's first connector), as for the JVM worker.
    let cold = throughput(
        &env,
        &ferry_target,
        &mut res,
        "ferrycold",
        args.rows,
        largest,
        seq0,
    )
    .await;
    res.cold = Some(cold);
    seq0 += args.rows as u64;
    for tx in sizes {
        let t = throughput(&env, &ferry_target, &mut res, "ferry", args.rows, tx, seq0).await;
        res.throughput.push(t);
        seq0 += args.rows as u64;
        if tx == largest {
            res.baseline = Some(baseline(&env).await);
        }
    }
    let extra = args.latency_connector_extra.clone();
    let label = if extra.is_empty() {
        "seed config".to_owned()
    } else {
        extra.join(", ")
    };
    let l = latency(
        &env,
        &ferry_target,
        0,
        &label,
        &extra,
        &args.latency_rates,
        args.latency_secs,
    )
    .await;
    res.latency.extend(l);
    if !args.no_diagnose {
        // Same load with small poll batches: isolates the task's batching delay.
        let extra = vec!["max.batch.size=16".to_owned()];
        let l = latency(
            &env,
            &ferry_target,
            1,
            "diagnostic: + max.batch.size=16",
            &extra,
            &args.latency_rates,
            args.latency_secs.min(10),
        )
        .await;
        res.latency.extend(l);
    }
    broker_latency(&env, &mut res).await;

    res.hwm_kb = procfs::hwm_kb(env.ferry.pid());
    res.peak_rss_kb = res
        .throughput
        .iter()
        .map(|t| t.ferry_peak_rss_kb)
        .chain(res.latency.iter().map(|l| l.peak_rss_kb))
        .max()
        .unwrap_or(0);
    env.ferry.terminate();

    if !args.no_reference {
        res.reference = Some(reference(&env, dir.path(), &mut res, &mut seq0).await);
    }
    res.loads.push(("end".into(), loadavg()));
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| workspace_root().join("BENCHMARKS.md"));
    let text = report::render(&res);
    std::fs::write(&out, text).expect("write report");
    eprintln!("wrote {}", out.display());
    if args.keep_logs {
        eprintln!("logs kept in {}", dir.keep().display());
    }
    // Keep the services alive until here; they are stopped when dropped.
    drop(env);
}
