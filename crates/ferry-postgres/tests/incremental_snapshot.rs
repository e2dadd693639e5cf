//! Signals and incremental snapshots against a private PostgreSQL 15: the signal table
//! channel, DBLog watermarks under concurrent writes, restart from the offsets, pause,
//! resume, stop, `log` and bad signals.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{commit_all, config, field, offset_of, op, start, MemOffsets, SourceTask};
use ferry_core::serde_json::Value as Json;
use ferry_core::{Record, Value};
use ferry_postgres::PostgresSourceTask;
use ferry_test_support::postgres::PgCluster;

const SIGNAL_DDL: &str = "CREATE TABLE public.dbz_signal (id varchar(64) PRIMARY KEY, type varchar(32) NOT NULL, data varchar(2048));";

fn cfg(pg: &PgCluster, db: &str, slot: &str, chunk: &str) -> ferry_core::ConfigMap {
    config(
        pg,
        db,
        slot,
        &[
            ("snapshot.mode", "no_data"),
            ("signal.data.collection", "public.dbz_signal"),
            ("incremental.snapshot.chunk.size", chunk),
        ],
    )
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Int32(i) => Some(i64::from(*i)),
        Value::Int64(i) => Some(*i),
        _ => None,
    }
}

/// The table as the records describe it: key -> `v`, applying events in order.
#[derive(Default)]
struct View {
    rows: BTreeMap<i64, i64>,
    /// op:r events per key.
    reads: HashMap<i64, u32>,
    snapshot_events: u64,
}

impl View {
    fn apply(&mut self, recs: &[Record], topic: &str) {
        for r in recs.iter().filter(|r| &*r.topic == topic) {
            let Some(o) = op(r) else { continue };
            let key = int(field(&r.key, &["id"])).expect("int key");
            match o.as_str() {
                "d" => {
                    self.rows.remove(&key);
                }
                _ => {
                    let v = int(field(&r.value, &["after", "v"])).expect("v");
                    if o == "r" {
                        assert_eq!(
                            field(&r.value, &["source", "snapshot"]),
                            &Value::String("incremental".into())
                        );
                        *self.reads.entry(key).or_default() += 1;
                        self.snapshot_events += 1;
                    }
                    self.rows.insert(key, v);
                }
            }
        }
    }
}

async fn db_rows(c: &tokio_postgres::Client) -> BTreeMap<i64, i64> {
    c.query("SELECT id::int8, v FROM public.t", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

fn has_incremental(r: &Record) -> bool {
    offset_of(r).contains_key("incremental_snapshot_collections")
}

/// Polls until the incremental snapshot started and then finished (an offset after
/// the last snapshot row has no `incremental_snapshot_*` keys), or `timeout`.
async fn poll_snapshot(t: &mut PostgresSourceTask, all: &mut Vec<Record>, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    let mut seen_running = false;
    while Instant::now() < deadline {
        let batch = t.poll().await.expect("poll");
        for r in &batch {
            if has_incremental(r) {
                seen_running = true;
            } else if seen_running {
                all.extend(batch);
                return true;
            }
        }
        all.extend(batch);
    }
    false
}

async fn setup(pg: &PgCluster, name: &str, rows: i64) -> (String, tokio_postgres::Client) {
    let db = pg.create_database(name).await;
    let c = pg.connect(&db).await;
    c.batch_execute(&format!(
        "CREATE TABLE public.t (id int PRIMARY KEY, v bigint NOT NULL, pad text); {SIGNAL_DDL} \
         INSERT INTO public.t SELECT g, 0, md5(g::text) FROM generate_series(1, {rows}) g;"
    ))
    .await
    .unwrap();
    (db, c)
}

async fn signal(c: &tokio_postgres::Client, id: &str, kind: &str, data: &str) {
    c.execute(
        "INSERT INTO public.dbz_signal VALUES ($1, $2, $3)",
        &[&id, &kind, &data],
    )
    .await
    .unwrap();
}

/// The required proof: an incremental snapshot of a table under concurrent updates,
/// inserts and deletes ends with every key's last value right and nothing lost.
/// `FERRY_INCR_ROWS` (default 20000) and `FERRY_INCR_RATE` (updates/s, default 1000)
/// scale it; docs/guarantees.md quotes the 1,000,000-row run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_snapshot_under_concurrent_updates_keeps_every_last_value() {
    concurrent_updates("incr_concurrent", false).await;
}

/// The same under `read.only=true`: watermarks from `pg_current_snapshot()`, the signal
/// from the file channel, and nothing written to the database by the connector.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_incremental_snapshot_under_concurrent_updates_keeps_every_last_value() {
    concurrent_updates("incr_read_only", true).await;
}

async fn concurrent_updates(name: &str, read_only: bool) {
    let rows: i64 = std::env::var("FERRY_INCR_ROWS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let rate: u64 = std::env::var("FERRY_INCR_RATE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let pg = PgCluster::shared();
    let (db, c) = setup(pg, name, rows).await;
    let store = MemOffsets::default();
    let mut settings = cfg(pg, &db, name, "1024");
    let dir = tempfile::tempdir().unwrap();
    let signal_file = dir.path().join("signals.txt");
    if read_only {
        settings.shift_remove("signal.data.collection");
        for (k, v) in [
            ("read.only", "true"),
            ("signal.enabled.channels", "file"),
            ("signal.file", signal_file.to_str().unwrap()),
            ("signal.poll.interval.ms", "100"),
        ] {
            settings.insert(k.into(), v.into());
        }
    }
    let mut t = start(&settings, &store).await;

    // Writers: updates of random keys at `rate`/s, and every 50th write an insert of a new
    // key or a delete, in transactions of 10 statements.
    let stop = Arc::new(AtomicBool::new(false));
    let writes = Arc::new(AtomicU64::new(0));
    let writer = {
        let (stop, writes) = (stop.clone(), writes.clone());
        let w = pg.connect(&db).await;
        tokio::spawn(async move {
            let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
            let mut next_new = rows + 1;
            let started = Instant::now();
            let mut n: u64 = 0;
            while !stop.load(Ordering::Relaxed) {
                let mut sql = String::from("BEGIN;");
                for _ in 0..10 {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let id = (seed % rows as u64) as i64 + 1;
                    n += 1;
                    if n.is_multiple_of(50) {
                        sql.push_str(&format!("INSERT INTO public.t VALUES ({next_new}, {n}, 'new');"));
                        next_new += 1;
                    } else if n % 50 == 25 {
                        sql.push_str(&format!("DELETE FROM public.t WHERE id = {id};"));
                    } else {
                        sql.push_str(&format!("UPDATE public.t SET v = {n} WHERE id = {id};"));
                    }
                }
                sql.push_str("COMMIT;");
                w.batch_execute(&sql).await.unwrap();
                writes.store(n, Ordering::Relaxed);
                let due = started + Duration::from_secs_f64(n as f64 / rate as f64);
                tokio::time::sleep_until(due.into()).await;
            }
        })
    };
    // Let writes stream for a moment, then ask for the snapshot.
    let mut all = common::poll_for(&mut t, Duration::from_millis(500)).await;
    let began = Instant::now();
    if read_only {
        std::fs::write(
            &signal_file,
            "{\"id\":\"sig-1\",\"type\":\"execute-snapshot\",\"data\":{\"data-collections\":[\"public.t\"],\"type\":\"incremental\"}}\n",
        )
        .unwrap();
    } else {
        signal(
            &c,
            "sig-1",
            "execute-snapshot",
            r#"{"data-collections": ["public.t"], "type": "incremental"}"#,
        )
        .await;
    }
    let finished = poll_snapshot(&mut t, &mut all, Duration::from_secs(600)).await;
    let snapshot_secs = began.elapsed().as_secs_f64();
    assert!(finished, "the incremental snapshot did not finish");
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();
    let total_writes = writes.load(Ordering::Relaxed);
    // Drain what was written up to the writers' end (a marker row shows the end).
    signal(&c, "end", "log", r#"{"message": "end of test {}"}"#).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let batch = t.poll().await.expect("poll");
        let end = batch.iter().any(|r| {
            &*r.topic == "srv.public.dbz_signal"
                && field(&r.value, &["after", "id"]) == &Value::String("end".into())
        });
        all.extend(batch);
        if end {
            break;
        }
        assert!(Instant::now() < deadline, "the stream did not catch up");
    }
    let mut view = View::default();
    view.apply(&all, "srv.public.t");
    let expected = db_rows(&c).await;
    let wrong: Vec<_> = expected
        .iter()
        .filter(|(k, v)| view.rows.get(k) != Some(v))
        .take(10)
        .collect();
    let extra: Vec<_> = view
        .rows
        .keys()
        .filter(|k| !expected.contains_key(k))
        .take(10)
        .collect();
    let duplicates = view.reads.values().filter(|n| **n > 1).count();
    let stats = t.incremental_stats().expect("signals configured");
    eprintln!(
        "FIGURES read_only={read_only} rows={rows} keys_checked={} snapshot_events={} duplicates={duplicates} deduplicated={} chunks={} writes={total_writes} rate={rate}/s snapshot_secs={snapshot_secs:.1} rows_per_sec={:.0}",
        expected.len(),
        view.snapshot_events,
        stats.deduplicated,
        stats.chunks,
        view.snapshot_events as f64 / snapshot_secs
    );
    assert!(
        wrong.is_empty(),
        "keys with a wrong or missing last value: {wrong:?}"
    );
    assert!(extra.is_empty(), "keys the table does not have: {extra:?}");
    assert_eq!(duplicates, 0, "a key was read twice by the snapshot");
    assert!(
        view.snapshot_events > (rows as u64) / 2,
        "the snapshot read {}",
        view.snapshot_events
    );
    assert!(total_writes > 0);
    // The last offset has no incremental snapshot keys left.
    assert!(!has_incremental(all.last().unwrap()));
    if read_only {
        let written: i64 = c
            .query_one("SELECT count(*) FROM public.dbz_signal", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(written, 1, "only the test's own end marker: no watermark rows");
    }
    t.stop().await.unwrap();
}

/// A restart mid-snapshot resumes after the last row sent, from the offsets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_resumes_the_snapshot_from_the_offsets() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("ferry_postgres=info")
        .with_test_writer()
        .try_init();
    let pg = PgCluster::shared();
    let (db, c) = setup(pg, "incr_restart", 1000).await;
    let store = MemOffsets::default();
    let conf = cfg(pg, &db, "incr_restart", "100");
    let mut t = start(&conf, &store).await;
    signal(
        &c,
        "sig-r",
        "execute-snapshot",
        r#"{"data-collections": ["public\\.t"]}"#,
    )
    .await;
    let mut first = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while first.iter().filter(|r| op(r).as_deref() == Some("r")).count() < 300 && Instant::now() < deadline {
        first.extend(t.poll().await.unwrap());
    }
    let reads: Vec<&Record> = first.iter().filter(|r| op(r).as_deref() == Some("r")).collect();
    assert!(reads.len() >= 300, "{}", reads.len());
    // Commit up to the 250th snapshot row, then stop.
    let cut = first.iter().position(|r| std::ptr::eq(r, reads[249])).unwrap();
    commit_all(&mut t, &first[..=cut], &store).await;
    let stored = store.0.lock().unwrap().clone().unwrap();
    assert_eq!(
        stored["incremental_snapshot_collections"],
        Json::String(
            r#"[{"incremental_snapshot_collections_id":"public.t","incremental_snapshot_collections_additional_condition":null,"incremental_snapshot_collections_surrogate_key":null}]"#.into()
        )
    );
    assert_eq!(
        stored["incremental_snapshot_correlation_id"],
        Json::String("sig-r".into())
    );
    assert_eq!(stored["snapshot"], Json::String("INCREMENTAL".into()));
    // Java's serialization of new Object[]{Integer.valueOf(250)}.
    assert!(stored["incremental_snapshot_primary_key"]
        .as_str()
        .unwrap()
        .ends_with("7870000000fa"));
    t.stop().await.unwrap();

    // snapshot.mode=initial now: the stored offset is an incremental snapshot row's
    // (`snapshot: INCREMENTAL`, last_snapshot_record false), which is no initial snapshot
    // in progress, so nothing is snapshotted again.
    let mut conf = conf;
    conf.insert("snapshot.mode".into(), "initial".into());
    let mut t = start(&conf, &store).await;
    let mut rest = Vec::new();
    assert!(poll_snapshot(&mut t, &mut rest, Duration::from_secs(30)).await);
    let keys: Vec<i64> = rest
        .iter()
        .filter(|r| op(r).as_deref() == Some("r"))
        .map(|r| int(field(&r.key, &["id"])).unwrap())
        .collect();
    assert_eq!(keys.first(), Some(&251), "resumes after the last row committed");
    assert_eq!(keys.last(), Some(&1000));
    assert_eq!(keys.len(), 750);
    assert!(keys.windows(2).all(|w| w[0] < w[1]));
    t.stop().await.unwrap();
}

/// Pause, resume, stop, `log`, additional conditions, and signals Ferry cannot act on:
/// each gets a log line and the stream goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_resume_stop_conditions_and_bad_signals() {
    let pg = PgCluster::shared();
    let (db, c) = setup(pg, "incr_signals", 600).await;
    let store = MemOffsets::default();
    let mut t = start(&cfg(pg, &db, "incr_signals", "50"), &store).await;
    // Bad signals first: none stops the stream.
    signal(&c, "bad-1", "execute-snapshot", "{not json").await;
    signal(&c, "bad-2", "execute-snapshot", r#"{"data-collections": []}"#).await;
    signal(&c, "bad-3", "frobnicate", "").await;
    signal(
        &c,
        "bad-4",
        "execute-snapshot",
        r#"{"data-collections": ["public.nosuch"], "type": "blocking"}"#,
    )
    .await;
    signal(
        &c,
        "bad-5",
        "execute-snapshot",
        r#"{"data-collections": ["public.nosuch"]}"#,
    )
    .await;
    c.batch_execute("UPDATE public.t SET v = 7 WHERE id = 1")
        .await
        .unwrap();
    let recs = common::poll_while(&mut t, Duration::from_secs(20), |rs| {
        rs.iter().any(|r| &*r.topic == "srv.public.t")
    })
    .await;
    assert!(recs.iter().all(|r| op(r).as_deref() != Some("r")));
    assert!(recs.iter().all(|r| !has_incremental(r)));
    assert_eq!(
        recs.iter()
            .filter(|r| &*r.topic == "srv.public.dbz_signal")
            .count(),
        5
    );

    // Additional condition: only ids 1..=200.
    signal(
        &c,
        "sig-c",
        "execute-snapshot",
        r#"{"data-collections": ["public.t"], "additional-conditions": [{"data-collection": "public.t", "filter": "id <= 200"}]}"#,
    )
    .await;
    let mut all = Vec::new();
    let mut paused_at = None;
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        all.extend(t.poll().await.unwrap());
        let n = all.iter().filter(|r| op(r).as_deref() == Some("r")).count();
        if n >= 50 && paused_at.is_none() {
            signal(&c, "p", "pause-snapshot", "").await;
            paused_at = Some(Instant::now());
        }
        if paused_at.is_some_and(|p| p.elapsed() > Duration::from_secs(2)) {
            break;
        }
    }
    let reads_paused = all.iter().filter(|r| op(r).as_deref() == Some("r")).count();
    assert!(reads_paused < 200, "paused after {reads_paused}");
    let more = common::poll_for(&mut t, Duration::from_secs(1)).await;
    assert_eq!(
        more.iter().filter(|r| op(r).as_deref() == Some("r")).count(),
        0,
        "paused"
    );
    all.extend(more);
    assert!(has_incremental(all.last().unwrap()), "still running while paused");
    signal(&c, "r", "resume-snapshot", "").await;
    assert!(poll_snapshot(&mut t, &mut all, Duration::from_secs(30)).await);
    let keys: Vec<i64> = all
        .iter()
        .filter(|r| op(r).as_deref() == Some("r"))
        .map(|r| int(field(&r.key, &["id"])).unwrap())
        .collect();
    assert_eq!(keys, (1..=200).collect::<Vec<_>>());

    // Stop: a snapshot of the whole table stopped after its first chunks.
    signal(
        &c,
        "sig-s",
        "execute-snapshot",
        r#"{"data-collections": ["public.t"]}"#,
    )
    .await;
    let mut stopped = Vec::new();
    let mut sent_stop = false;
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let batch = t.poll().await.unwrap();
        let done = sent_stop && batch.iter().any(|r| !has_incremental(r));
        stopped.extend(batch);
        if !sent_stop && stopped.iter().filter(|r| op(r).as_deref() == Some("r")).count() >= 50 {
            signal(
                &c,
                "s",
                "stop-snapshot",
                r#"{"data-collections": ["public.t"], "type": "incremental"}"#,
            )
            .await;
            sent_stop = true;
        }
        if done {
            break;
        }
    }
    let n = stopped.iter().filter(|r| op(r).as_deref() == Some("r")).count();
    assert!(sent_stop && (50..600).contains(&n), "stopped after {n}");
    signal(&c, "l", "log", r#"{"message": "still streaming at {}"}"#).await;
    c.batch_execute("UPDATE public.t SET v = 8 WHERE id = 2")
        .await
        .unwrap();
    let tail = common::poll_while(&mut t, Duration::from_secs(20), |rs| {
        rs.iter().any(|r| &*r.topic == "srv.public.t")
    })
    .await;
    assert!(tail
        .iter()
        .all(|r| op(r).as_deref() != Some("r") && !has_incremental(r)));
    t.stop().await.unwrap();
}

/// Composite text/uuid keys of a table created after the start chunk by row comparison (the key's text is compared as the
/// column's type), with no key read twice or skipped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn composite_text_and_uuid_keys_chunk_in_key_order() {
    let pg = PgCluster::shared();
    let db = pg.create_database("incr_composite").await;
    let c = pg.connect(&db).await;
    c.batch_execute(SIGNAL_DDL).await.unwrap();
    let store = MemOffsets::default();
    let mut t = start(&cfg(pg, &db, "incr_composite", "40"), &store).await;
    // A table created after the task started can be snapshotted too.
    c.batch_execute(
        "CREATE TABLE public.k (a text, b uuid, v int NOT NULL, PRIMARY KEY (a, b)); \
         INSERT INTO public.k SELECT 'grp-' || (g % 7), md5(g::text)::uuid, g FROM generate_series(1, 250) g;",
    )
    .await
    .unwrap();
    signal(
        &c,
        "sig-k",
        "execute-snapshot",
        r#"{"data-collections": ["public.k"]}"#,
    )
    .await;
    let mut all = Vec::new();
    assert!(poll_snapshot(&mut t, &mut all, Duration::from_secs(30)).await);
    let reads: Vec<&Record> = all.iter().filter(|r| op(r).as_deref() == Some("r")).collect();
    let keys: Vec<(String, String)> = reads
        .iter()
        .map(|r| {
            let s = |f: &str| match field(&r.key, &[f]) {
                Value::String(s) => s.clone(),
                other => panic!("{other:?}"),
            };
            (s("a"), s("b"))
        })
        .collect();
    let expected: Vec<(String, String)> = c
        .query("SELECT a, b::text FROM public.k ORDER BY a, b", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(keys.len(), 250);
    assert_eq!(keys, expected, "key order, each once");
    // Mid-snapshot offsets hold the last key as two java.lang.Strings (TC_STRING = 0x74).
    let mid = offset_of(reads[100]);
    let pk = mid["incremental_snapshot_primary_key"].as_str().unwrap();
    assert!(pk.contains(&format!("74{:04x}", keys[100].0.len())), "{pk}");
    t.stop().await.unwrap();
}

/// The replication connection drops mid-snapshot: the task reconnects and the snapshot
/// goes on from memory; every row is read once and the last values are right.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_snapshot_survives_a_replication_reconnect() {
    let pg = PgCluster::shared();
    let (db, c) = setup(pg, "incr_reconnect", 2000).await;
    let store = MemOffsets::default();
    let mut t = start(&cfg(pg, &db, "incr_reconnect", "50"), &store).await;
    signal(
        &c,
        "sig-x",
        "execute-snapshot",
        r#"{"data-collections": ["public.t"]}"#,
    )
    .await;
    let mut all = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while all.iter().filter(|r| op(r).as_deref() == Some("r")).count() < 500 && Instant::now() < deadline {
        all.extend(t.poll().await.unwrap());
    }
    let killed: i64 = c
        .query_one(
            "SELECT count(pg_terminate_backend(active_pid)) FROM pg_replication_slots WHERE slot_name = 'incr_reconnect' AND active_pid IS NOT NULL",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(killed, 1);
    c.batch_execute("UPDATE public.t SET v = 5 WHERE id IN (1, 1999)")
        .await
        .unwrap();
    assert!(poll_snapshot(&mut t, &mut all, Duration::from_secs(60)).await);
    let mut view = View::default();
    view.apply(&all, "srv.public.t");
    assert_eq!(view.reads.len(), 2000, "every row read");
    assert!(view.reads.values().all(|n| *n == 1), "no row read twice");
    assert_eq!(view.rows, db_rows(&c).await);
    t.stop().await.unwrap();
}

/// `incremental.snapshot.watermarking.strategy=insert_delete`: each chunk's window opens
/// with an inserted marker and closes when that marker is deleted, so the signal table
/// holds no watermark afterwards; every row is still read once and the last values hold.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insert_delete_watermarks_leave_no_marker_behind() {
    let pg = PgCluster::shared();
    let (db, c) = setup(pg, "incr_insdel", 2000).await;
    let store = MemOffsets::default();
    let mut settings = cfg(pg, &db, "incr_insdel", "100");
    settings.insert(
        "incremental.snapshot.watermarking.strategy".into(),
        "insert_delete".into(),
    );
    let mut t = start(&settings, &store).await;
    signal(
        &c,
        "sig-d",
        "execute-snapshot",
        r#"{"data-collections": ["public.t"]}"#,
    )
    .await;
    let mut all = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while all.iter().filter(|r| op(r).as_deref() == Some("r")).count() < 300 && Instant::now() < deadline {
        all.extend(t.poll().await.unwrap());
    }
    c.batch_execute(
        "UPDATE public.t SET v = 7 WHERE id IN (2, 1500, 1999); DELETE FROM public.t WHERE id = 1800",
    )
    .await
    .unwrap();
    assert!(poll_snapshot(&mut t, &mut all, Duration::from_secs(60)).await);
    let mut view = View::default();
    view.apply(&all, "srv.public.t");
    assert_eq!(view.rows, db_rows(&c).await, "every key's last value");
    assert!(view.reads.values().all(|n| *n == 1), "no row read twice");
    assert!(view.reads.len() >= 1999, "every row read: {}", view.reads.len());
    // One open marker per chunk went into the stream, and its delete closed the window.
    let on_signal_table = |o: &str| {
        all.iter()
            .filter(|r| &*r.topic == "srv.public.dbz_signal" && op(r).as_deref() == Some(o))
            .count()
    };
    let (opened, closed) = (on_signal_table("c") - 1, on_signal_table("d"));
    assert!(opened >= 20, "a window per chunk of 100: {opened}");
    assert_eq!(opened, closed, "every open marker deleted");
    let left: Vec<String> = c
        .query("SELECT id FROM public.dbz_signal ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(left, ["sig-d"], "only the execute-snapshot signal stays");
    t.stop().await.unwrap();
}

/// The file signal channel: an `execute-snapshot` line written to `signal.file` starts the
/// incremental snapshot (watermarks still go through the signal table), and the file is
/// emptied once read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signal_written_to_the_signal_file_starts_a_snapshot() {
    let pg = PgCluster::shared();
    let (db, c) = setup(pg, "incr_file", 300).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("signals.txt");
    let store = MemOffsets::default();
    let mut settings = cfg(pg, &db, "incr_file", "100");
    for (k, v) in [
        ("signal.enabled.channels", "source,file"),
        ("signal.file", file.to_str().unwrap()),
        ("signal.poll.interval.ms", "100"),
    ] {
        settings.insert(k.into(), v.into());
    }
    let mut t = start(&settings, &store).await;
    std::fs::write(
        &file,
        "{\"id\":\"file-1\",\"type\":\"execute-snapshot\",\"data\":{\"data-collections\":[\"public.t\"],\"type\":\"incremental\"}}\n",
    )
    .unwrap();
    let mut all = Vec::new();
    assert!(poll_snapshot(&mut t, &mut all, Duration::from_secs(60)).await);
    let mut view = View::default();
    view.apply(&all, "srv.public.t");
    assert_eq!(view.reads.len(), 300, "every row read");
    assert_eq!(view.rows, db_rows(&c).await);
    let correlation: Vec<String> = all
        .iter()
        .filter_map(|r| {
            offset_of(r)
                .get("incremental_snapshot_correlation_id")
                .map(|v| format!("{v:?}"))
        })
        .collect();
    assert!(
        correlation.iter().any(|v| v.contains("file-1")),
        "{correlation:?}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "", "the file is emptied");
    t.stop().await.unwrap();
}

/// The signal table is captured (its inserts stream) but the initial snapshot does not
/// read its rows, as Debezium skips the signal data collection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_initial_snapshot_skips_the_signal_tables_rows() {
    let pg = PgCluster::shared();
    let (db, c) = setup(pg, "incr_initial_signal", 20).await;
    signal(&c, "old-1", "log", r#"{"message": "left over"}"#).await;
    let store = MemOffsets::default();
    let mut settings = cfg(pg, &db, "incr_initial_signal", "100");
    settings.insert("snapshot.mode".into(), "initial".into());
    let mut t = start(&settings, &store).await;
    let mut all: Vec<Record> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while all.iter().filter(|r| &*r.topic == "srv.public.t").count() < 20 && Instant::now() < deadline {
        all.extend(t.poll().await.unwrap());
    }
    signal(&c, "new-1", "log", r#"{"message": "streamed"}"#).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while !all.iter().any(|r| &*r.topic == "srv.public.dbz_signal") && Instant::now() < deadline {
        all.extend(t.poll().await.unwrap());
    }
    let on_signal: Vec<String> = all
        .iter()
        .filter(|r| &*r.topic == "srv.public.dbz_signal")
        .filter_map(op)
        .collect();
    assert_eq!(on_signal, ["c"], "only the streamed insert, no snapshot read");
    assert_eq!(all.iter().filter(|r| &*r.topic == "srv.public.t").count(), 20);
    t.stop().await.unwrap();
}

/// A read-only window that opens: a transaction in progress while the chunk is read
/// commits a change to one of the chunk's rows afterwards. The chunk waits for it (the
/// last streamed transaction began after the one in progress), the change opens the
/// window and takes its row out, so the chunk's older value never follows the change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_window_drops_a_row_changed_after_the_chunk_was_read() {
    let pg = PgCluster::shared();
    let (db, c) = setup(pg, "incr_ro_window", 10).await;
    let dir = tempfile::tempdir().unwrap();
    let signal_file = dir.path().join("signals.txt");
    std::fs::write(&signal_file, "").unwrap();
    let store = MemOffsets::default();
    let mut settings = cfg(pg, &db, "incr_ro_window", "100");
    settings.shift_remove("signal.data.collection");
    for (k, v) in [
        ("read.only", "true"),
        ("signal.enabled.channels", "file"),
        ("signal.file", signal_file.to_str().unwrap()),
        ("signal.poll.interval.ms", "100"),
    ] {
        settings.insert(k.into(), v.into());
    }
    let mut t = start(&settings, &store).await;

    // In progress while the chunk is read.
    let in_progress = pg.connect(&db).await;
    in_progress
        .batch_execute("BEGIN; UPDATE public.t SET v = 1 WHERE id = 5")
        .await
        .unwrap();
    // Begins after it and commits before the chunk is read; streamed before the signal.
    c.batch_execute("UPDATE public.t SET v = 2 WHERE id = 7")
        .await
        .unwrap();
    let mut all = common::poll_while(&mut t, Duration::from_secs(30), |r| {
        r.iter().any(|r| op(r).as_deref() == Some("u"))
    })
    .await;
    assert_eq!(all.iter().filter(|r| op(r).is_some()).count(), 1);
    std::fs::write(
        &signal_file,
        "{\"id\":\"ro-window\",\"type\":\"execute-snapshot\",\"data\":{\"data-collections\":[\"public.t\"],\"type\":\"incremental\"}}\n",
    )
    .unwrap();
    all.extend(common::poll_for(&mut t, Duration::from_secs(3)).await);
    assert!(
        !all.iter().any(|r| op(r).as_deref() == Some("r")),
        "the chunk read while a transaction was in progress must wait for it"
    );
    assert_eq!(
        std::fs::read_to_string(&signal_file).unwrap(),
        "",
        "the signal was read"
    );

    in_progress.batch_execute("COMMIT").await.unwrap();
    c.batch_execute("UPDATE public.t SET v = 3 WHERE id = 9")
        .await
        .unwrap();
    all.extend(common::poll_for(&mut t, Duration::from_secs(2)).await);
    c.batch_execute("UPDATE public.t SET v = 4 WHERE id = 10")
        .await
        .unwrap();
    // Done when the last record's offset has no snapshot left in it.
    all.extend(
        common::poll_while(&mut t, Duration::from_secs(60), |r| {
            r.last().is_some_and(|r| !has_incremental(r))
        })
        .await,
    );
    let summary: Vec<String> = all
        .iter()
        .map(|r| format!("{:?}:{:?}:{}", op(r), r.key, has_incremental(r)))
        .collect();
    assert!(
        all.iter().any(|r| op(r).as_deref() == Some("r")) && !has_incremental(all.last().unwrap()),
        "the snapshot did not end: {summary:?}"
    );

    let mut view = View::default();
    view.apply(&all, "srv.public.t");
    assert_eq!(
        view.rows,
        db_rows(&c).await,
        "every key's last value: {summary:?}"
    );
    assert_eq!(view.rows[&5], 1);
    let read: Vec<i64> = view
        .reads
        .keys()
        .copied()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(
        read,
        vec![1, 2, 3, 4, 6, 7, 8, 9, 10],
        "the row changed while the window was open is not read"
    );
    t.stop().await.unwrap();
}
