//! The outbox workload and the checker of Ferry's three promises.
//!
//! A [`Writer`] commits one outbox row per transaction at a steady rate: aggregate type
//! unique to the scenario, aggregate ids from a small set, and a payload holding the
//! row's per-aggregate sequence number `seq` and its transaction id `txid`. After the
//! run, [`check`] reads the committed rows back from PostgreSQL (the truth: a commit
//! whose answer was lost to a fault is settled there) and the `${aggregate_type}_events`
//! topic, and checks:
//!
//! 1. every committed row is in the topic, and nothing else is;
//! 2. a row appears more than once only if a fault happened after the row was written and
//!    the row's transaction was not yet covered by the offsets stored before that fault
//!    (the last offset record with a timestamp before the fault): per row, the number of
//!    extra copies is at most the number of such faults;
//! 3. per aggregate id, rows appear for the first time in sequence order (re-sent
//!    tails repeat earlier rows, but no row overtakes an earlier one).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferry_test_support::kafka::{ConsumedRecord, Tansu};
use ferry_test_support::postgres::PgCluster;
use serde_json::{json, Value};

use crate::rng::Rng;

/// The seed's outbox table, with the payload column's type as given (`JSONB` or `TEXT`).
pub fn outbox_ddl(payload_type: &str) -> String {
    format!(
        "CREATE TABLE outbox (
            id UUID PRIMARY KEY,
            aggregate_type VARCHAR(255) NOT NULL,
            aggregate_id VARCHAR(255) NOT NULL,
            event_type VARCHAR(255) NOT NULL,
            payload {payload_type} NOT NULL,
            created_at TIMESTAMPTZ DEFAULT NOW()
        )"
    )
}

/// Creates database `name` with the outbox table.
pub async fn create_outbox_db(pg: &PgCluster, name: &str, payload_type: &str) {
    pg.create_database(name).await;
    let db = pg.connect(name).await;
    db.batch_execute(&outbox_ddl(payload_type)).await.unwrap();
}

/// The seed's connector config (examples/outbox/connector.json) for a private database,
/// slot and publication, plus `extra`.
pub fn connector_config(pg: &PgCluster, db: &str, slot: &str, extra: &[(&str, &str)]) -> Value {
    let mut c = json!({
        "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
        "database.hostname": pg.host(),
        "database.port": pg.port().to_string(),
        "database.user": "postgres",
        "database.password": "postgres",
        "database.dbname": db,
        "topic.prefix": slot,
        "plugin.name": "pgoutput",
        "slot.name": slot,
        "publication.name": format!("{slot}_pub"),
        "table.include.list": "public.outbox",
        "tombstones.on.delete": "false",
        // A killed worker's walsender lingers briefly: retry the slot quickly.
        "slot.retry.delay.ms": "500",
        "slot.max.retries": "60",
        "transforms": "outboxEventRouter",
        "transforms.outboxEventRouter.type": "io.debezium.transforms.outbox.EventRouter",
        "transforms.outboxEventRouter.route.by.field": "aggregate_type",
        "transforms.outboxEventRouter.route.topic.replacement": "${routedByValue}_events",
        "transforms.outboxEventRouter.table.field.event.key": "aggregate_id",
        "transforms.outboxEventRouter.table.field.event.payload": "payload"
    });
    for (k, v) in extra {
        c[*k] = json!(v);
    }
    c
}

/// A row the writer tried to commit.
#[derive(Clone, Debug)]
pub struct Sent {
    pub id: String,
    pub key: String,
    pub seq: i64,
    /// Wall-clock ms when the INSERT was sent.
    pub started_ms: i64,
    /// The commit was acknowledged (false: failed or unknown; PostgreSQL decides).
    pub acked: bool,
}

/// A background writer committing one outbox row per transaction.
pub struct Writer {
    stop: Arc<AtomicBool>,
    pub acked: Arc<AtomicU64>,
    handle: tokio::task::JoinHandle<Vec<Sent>>,
}

/// A random UUID text.
pub fn uuid(rng: &mut Rng) -> String {
    let a = rng.next_u64();
    let b = rng.next_u64();
    let h = format!("{a:016x}{b:016x}");
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

impl Writer {
    /// Starts writing rows of `aggregate_type` to `db` every `interval`, keys `k0..k{keys}`.
    /// `payload_type` is the column type (`JSONB` or `TEXT`). Survives PostgreSQL restarts
    /// (reconnects every 200 ms).
    pub fn start(
        pg: &PgCluster,
        db: &str,
        aggregate_type: &str,
        keys: u64,
        interval: Duration,
        rng: Rng,
        payload_type: &str,
    ) -> Writer {
        Writer::start_batched(pg, db, aggregate_type, keys, interval, rng, payload_type, 1)
    }

    /// As [`Writer::start`], committing `rows_per_tx` rows per transaction (one INSERT,
    /// rows in sequence order) every `interval`.
    #[allow(clippy::too_many_arguments)]
    pub fn start_batched(
        pg: &PgCluster,
        db: &str,
        aggregate_type: &str,
        keys: u64,
        interval: Duration,
        mut rng: Rng,
        payload_type: &str,
        rows_per_tx: usize,
    ) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(AtomicU64::new(0));
        let conn_str = pg.conn_str(db);
        let agg = aggregate_type.to_owned();
        let cast = if payload_type.eq_ignore_ascii_case("jsonb") {
            ""
        } else {
            "::text"
        };
        let sql = format!(
            "INSERT INTO outbox (id, aggregate_type, aggregate_id, event_type, payload) VALUES \
             (CAST($1::text AS uuid), $2::text, $3::text, 'Tick', \
              jsonb_build_object('key', $3::text, 'seq', $4::bigint, 'txid', txid_current()){cast})"
        );
        let batch_sql = format!(
            "INSERT INTO outbox (id, aggregate_type, aggregate_id, event_type, payload) \
             SELECT CAST(u.id AS uuid), $4::text, u.k, 'Tick', \
              jsonb_build_object('key', u.k, 'seq', u.s, 'txid', txid_current()){cast} \
             FROM unnest($1::text[], $2::text[], $3::bigint[]) WITH ORDINALITY AS u(id, k, s, n) ORDER BY u.n"
        );
        let handle = {
            let (stop, acked) = (stop.clone(), acked.clone());
            tokio::spawn(async move {
                let mut sent = Vec::new();
                let mut seqs: HashMap<String, i64> = HashMap::new();
                let mut client: Option<tokio_postgres::Client> = None;
                let mut next = Instant::now();
                while !stop.load(Ordering::SeqCst) {
                    if client.as_ref().is_none_or(|c| c.is_closed()) {
                        match tokio_postgres::connect(&conn_str, tokio_postgres::NoTls).await {
                            Ok((c, conn)) => {
                                tokio::spawn(async move {
                                    let _ = conn.await;
                                });
                                client = Some(c);
                            }
                            Err(_) => {
                                tokio::time::sleep(Duration::from_millis(200)).await;
                                continue;
                            }
                        }
                    }
                    let mut rows = Vec::with_capacity(rows_per_tx);
                    for _ in 0..rows_per_tx {
                        let key = format!("k{}", rng.range(0, keys));
                        let seq = {
                            let s = seqs.entry(key.clone()).or_default();
                            *s += 1;
                            *s
                        };
                        rows.push((uuid(&mut rng), key, seq));
                    }
                    let started_ms = crate::now_ms();
                    let c = client.as_ref().unwrap();
                    let ok = if rows_per_tx == 1 {
                        let (id, key, seq) = &rows[0];
                        let res = tokio::time::timeout(
                            Duration::from_secs(10),
                            c.execute(&sql, &[id, &agg, key, seq]),
                        )
                        .await;
                        matches!(res, Ok(Ok(1)))
                    } else {
                        let ids: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
                        let ks: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
                        let ss: Vec<i64> = rows.iter().map(|r| r.2).collect();
                        let res = tokio::time::timeout(
                            Duration::from_secs(10),
                            c.execute(&batch_sql, &[&ids, &ks, &ss, &agg]),
                        )
                        .await;
                        matches!(res, Ok(Ok(n)) if n == rows_per_tx as u64)
                    };
                    if ok {
                        acked.fetch_add(rows_per_tx as u64, Ordering::SeqCst);
                    } else {
                        client = None;
                    }
                    for (id, key, seq) in rows {
                        sent.push(Sent {
                            id,
                            key,
                            seq,
                            started_ms,
                            acked: ok,
                        });
                    }
                    next += interval;
                    let now = Instant::now();
                    if next > now {
                        tokio::time::sleep(next - now).await;
                    } else {
                        next = now;
                    }
                }
                sent
            })
        };
        Writer { stop, acked, handle }
    }

    /// Stops and returns every row tried.
    pub async fn stop(self) -> Vec<Sent> {
        self.stop.store(true, Ordering::SeqCst);
        self.handle.await.unwrap()
    }

    pub fn acked(&self) -> u64 {
        self.acked.load(Ordering::SeqCst)
    }
}

/// A committed row, as PostgreSQL has it.
#[derive(Clone, Debug)]
pub struct Committed {
    pub id: String,
    pub key: String,
    pub seq: i64,
    pub txid: i64,
}

/// The committed rows of `aggregate_type`.
pub async fn committed_rows(pg: &PgCluster, db: &str, aggregate_type: &str) -> Vec<Committed> {
    let c = pg.connect(db).await;
    c.query(
        "SELECT id::text, aggregate_id, (payload::jsonb->>'seq')::bigint, (payload::jsonb->>'txid')::bigint \
         FROM outbox WHERE aggregate_type = $1",
        &[&aggregate_type],
    )
    .await
    .unwrap()
    .into_iter()
    .map(|r| Committed {
        id: r.get(0),
        key: r.get(1),
        seq: r.get(2),
        txid: r.get(3),
    })
    .collect()
}

/// A fault: when it happened and what it was.
#[derive(Clone, Debug)]
pub struct Fault {
    /// When the fault began: offsets stored before this moment bound the re-sent tail.
    pub from_ms: i64,
    /// When it ended: rows written before this moment may be re-sent.
    pub at_ms: i64,
    pub what: String,
}

/// The stored offsets of connector `connector`: (record timestamp ms, txId), in topic order.
pub fn stored_offsets(broker: &Tansu, offsets_topic: &str, connector: &str) -> Vec<(i64, Option<i64>)> {
    let mut out = Vec::new();
    // The worker keeps flushing offsets (heartbeats), so the topic may never fall idle:
    // what is stored after the check began does not matter to it.
    for r in broker.consume_until_idle_within(
        offsets_topic,
        Duration::from_millis(1500),
        Duration::from_secs(15),
    ) {
        let Some(k) = r.key_str() else { continue };
        let Ok(k) = serde_json::from_str::<Value>(k) else {
            continue;
        };
        if k[0] != connector {
            continue;
        }
        let txid = r
            .value
            .as_deref()
            .and_then(|v| serde_json::from_slice::<Value>(v).ok())
            .and_then(|v| v["txId"].as_i64());
        out.push((r.timestamp.unwrap_or(0), txid));
    }
    out
}

/// What a check saw.
#[derive(Debug, Default, Clone)]
pub struct Figures {
    pub scenario: String,
    pub faults: usize,
    pub rows: usize,
    pub records: usize,
    pub duplicates: usize,
    /// Sum over rows of the duplicates the promise allows.
    pub bound: usize,
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "[{}] faults={} rows={} records={} duplicates={} bound={}",
            self.scenario, self.faults, self.rows, self.records, self.duplicates, self.bound
        )
    }
}

/// The event id of a routed record (header `id`, as SimpleHeaderConverter writes a string).
pub fn event_id(r: &ConsumedRecord) -> Option<String> {
    let raw = r.header_str("id")?;
    Some(raw.trim_matches('"').to_owned())
}

/// What happened during a scenario, for [`check`].
#[derive(Clone, Copy)]
pub struct History<'a> {
    /// The rows PostgreSQL holds as committed.
    pub committed: &'a [Committed],
    /// Every row the writer tried.
    pub sent: &'a [Sent],
    /// The faults injected.
    pub faults: &'a [Fault],
    /// The connector's stored offsets: (record timestamp, txId).
    pub offsets: &'a [(i64, Option<i64>)],
}

/// Reads `topic` until every committed row is there (or `timeout`), then checks the three
/// promises against `faults` and the offsets stored before each. Returns the figures or a
/// description of every violation.
pub fn check(
    scenario: &str,
    broker: &Tansu,
    topic: &str,
    history: &History<'_>,
    timeout: Duration,
) -> Result<Figures, String> {
    let History {
        committed,
        sent,
        faults,
        offsets,
    } = *history;
    let want: HashSet<&str> = committed.iter().map(|c| c.id.as_str()).collect();
    let deadline = Instant::now() + timeout;
    let records = loop {
        let records = broker.consume_to_end(topic);
        let seen: HashSet<String> = records.iter().filter_map(event_id).collect();
        if want.iter().all(|id| seen.contains(*id)) || Instant::now() > deadline {
            break records;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let by_id: HashMap<&str, &Committed> = committed.iter().map(|c| (c.id.as_str(), c)).collect();
    let started: HashMap<&str, i64> = sent.iter().map(|s| (s.id.as_str(), s.started_ms)).collect();
    let mut problems = Vec::new();

    // 1. Every committed row present, nothing invented.
    let mut count: HashMap<&str, usize> = HashMap::new();
    for r in &records {
        match event_id(r) {
            Some(id) => match by_id.get_key_value(id.as_str()) {
                Some((k, _)) => *count.entry(k).or_default() += 1,
                None => problems.push(format!(
                    "record with unknown event id {id} at offset {}",
                    r.offset
                )),
            },
            None => problems.push(format!("record without id header at offset {}", r.offset)),
        }
    }
    let missing: Vec<&Committed> = committed
        .iter()
        .filter(|c| !count.contains_key(c.id.as_str()))
        .collect();
    if !missing.is_empty() {
        let shown: Vec<String> = missing
            .iter()
            .take(20)
            .map(|c| format!("{} (key {} seq {} txid {})", c.id, c.key, c.seq, c.txid))
            .collect();
        problems.push(format!(
            "LOST {} committed rows, e.g. {}",
            missing.len(),
            shown.join(", ")
        ));
    }

    // 2. Duplicates only after a fault, bounded by the offsets stored before it.
    let stored_before = |at: i64| -> i64 {
        offsets
            .iter()
            .filter(|(ts, _)| *ts < at)
            .filter_map(|(_, t)| *t)
            .next_back()
            .unwrap_or(0)
    };
    let fault_floor: Vec<(i64, i64)> = faults
        .iter()
        .map(|f| (f.at_ms, stored_before(f.from_ms)))
        .collect();
    let mut duplicates = 0;
    let mut bound = 0;
    let mut over = Vec::new();
    for c in committed {
        let start = started.get(c.id.as_str()).copied().unwrap_or(i64::MAX);
        let allowed = fault_floor
            .iter()
            .filter(|(at, floor)| start < *at && c.txid >= *floor)
            .count();
        let n = count.get(c.id.as_str()).copied().unwrap_or(0);
        let extra = n.saturating_sub(1);
        duplicates += extra;
        bound += allowed;
        if extra > allowed {
            over.push(format!(
                "{} (key {} seq {} txid {}) seen {n} times, allowed {} extra",
                c.id, c.key, c.seq, c.txid, allowed
            ));
        }
    }
    if !over.is_empty() {
        problems.push(format!(
            "{} rows duplicated beyond the bound (faults at/stored txid before: {:?}), e.g. {}",
            over.len(),
            fault_floor,
            over.iter().take(10).cloned().collect::<Vec<_>>().join("; ")
        ));
    }

    // 3. Per key: first appearances in sequence order.
    let mut per_key: BTreeMap<&str, Vec<(i32, i64, i64)>> = BTreeMap::new();
    for r in &records {
        if let Some(c) = event_id(r).and_then(|id| by_id.get(id.as_str()).copied()) {
            let key_text = r.key_str().unwrap_or_default();
            if !key_text.contains(&format!("\"{}\"", c.key)) && key_text != c.key {
                problems.push(format!("record {} has key {key_text}, wanted {}", c.id, c.key));
            }
            per_key
                .entry(c.key.as_str())
                .or_default()
                .push((r.partition, r.offset, c.seq));
        }
    }
    for (key, mut recs) in per_key {
        let partitions: HashSet<i32> = recs.iter().map(|r| r.0).collect();
        if partitions.len() > 1 {
            problems.push(format!("key {key} spread over partitions {partitions:?}"));
        }
        recs.sort();
        let mut max = i64::MIN;
        let mut seen = HashSet::new();
        for (p, o, seq) in recs {
            if seen.insert(seq) {
                if seq < max {
                    problems.push(format!(
                        "ORDER: key {key} seq {seq} first appears at {p}/{o}, after seq {max}"
                    ));
                }
                max = max.max(seq);
            }
        }
    }

    let figures = Figures {
        scenario: scenario.to_owned(),
        faults: faults.len(),
        rows: committed.len(),
        records: records.len(),
        duplicates,
        bound,
    };
    eprintln!("{figures}");
    if let Ok(path) = std::env::var("FERRY_FAULTS_FIGURES") {
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
            let _ = writeln!(f, "{figures}");
        }
    }
    if problems.is_empty() {
        Ok(figures)
    } else {
        Err(format!("{figures}\n{}", problems.join("\n")))
    }
}
