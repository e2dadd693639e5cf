//! The built-in outbox cleanup (`outbox.cleanup.*`) against a real PostgreSQL 15: rows
//! go only once their offsets are stored, in batches, Ferry's own deletes yield no
//! events, and rows published before a restart are still removed after it.

mod common;

use std::time::{Duration, Instant};

use common::*;
use ferry_core::{Record, Value};
use ferry_postgres::PostgresSourceTask;
use ferry_test_support::postgres::PgCluster;

const WAIT: Duration = Duration::from_secs(30);

const OUTBOX: &str = "CREATE TABLE outbox (id uuid PRIMARY KEY, aggregatetype varchar(255) NOT NULL, \
     aggregateid varchar(255) NOT NULL, type varchar(255) NOT NULL, payload jsonb, seq int NOT NULL); \
     CREATE TABLE t (id int PRIMARY KEY)";

fn cleanup_cfg(pg: &PgCluster, db: &str, slot: &str, extra: &[(&str, &str)]) -> ferry_core::ConfigMap {
    let mut all = vec![
        ("outbox.cleanup.enabled", "true"),
        ("outbox.cleanup.table", "public.outbox"),
        ("outbox.cleanup.interval.ms", "100"),
        ("outbox.cleanup.batch.size", "7"),
    ];
    all.extend_from_slice(extra);
    config(pg, db, slot, &all)
}

async fn insert_outbox(c: &tokio_postgres::Client, seq: i32) {
    c.execute(
        "INSERT INTO outbox VALUES (gen_random_uuid(), 'Order', $1, 'OrderCreated', '{}'::jsonb, $2)",
        &[&format!("k{}", seq % 5), &seq],
    )
    .await
    .unwrap();
}

/// The `seq` values still in the table.
async fn remaining(c: &tokio_postgres::Client) -> Vec<i32> {
    c.query("SELECT seq FROM outbox ORDER BY seq", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

fn outbox_seq(r: &Record) -> Option<i32> {
    if !r.topic.ends_with(".public.outbox") || !matches!(op(r).as_deref(), Some("c" | "r" | "u")) {
        return None;
    }
    match field(&r.value, &["after", "seq"]) {
        Value::Int32(i) => Some(*i),
        v => panic!("{v:?}"),
    }
}

/// Polls until the insert of outbox row `seq` arrived, keeping every record.
async fn poll_until_seq(t: &mut PostgresSourceTask, seq: i32, out: &mut Vec<Record>) {
    let deadline = Instant::now() + WAIT;
    while !out.iter().any(|r| outbox_seq(r) == Some(seq)) {
        assert!(Instant::now() < deadline, "row {seq} not streamed");
        out.extend(t.poll().await.expect("poll"));
    }
}

/// Polls until a record of table `t` with id `id` arrived.
async fn poll_until_marker(t: &mut PostgresSourceTask, id: i32, out: &mut Vec<Record>) {
    let deadline = Instant::now() + WAIT;
    let is_marker = |r: &Record| {
        r.topic.ends_with(".public.t")
            && op(r).as_deref() == Some("c")
            && field(&r.value, &["after", "id"]) == &Value::Int32(id)
    };
    while !out.iter().any(is_marker) {
        assert!(Instant::now() < deadline, "marker {id} not streamed");
        out.extend(t.poll().await.expect("poll"));
    }
}

/// Waits until `pred` holds for the rows left, or `WAIT` passed; the rows left.
async fn wait_rows(c: &tokio_postgres::Client, pred: impl Fn(&[i32]) -> bool) -> Vec<i32> {
    let deadline = Instant::now() + WAIT;
    loop {
        let rows = remaining(c).await;
        if pred(&rows) || Instant::now() > deadline {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls `t` for `d` while committing nothing; the records.
async fn poll_quietly(t: &mut PostgresSourceTask, d: Duration) -> Vec<Record> {
    poll_for(t, d).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_are_deleted_only_once_their_offsets_are_stored_in_batches_without_events() {
    let pg = PgCluster::shared();
    let db = pg.create_database("ocl_main").await;
    let c = pg.connect(&db).await;
    c.batch_execute(OUTBOX).await.unwrap();
    for seq in 1..=3 {
        insert_outbox(&c, seq).await;
    }
    let store = MemOffsets::default();
    let cfg = cleanup_cfg(pg, &db, "ocl_main", &[("provide.transaction.metadata", "true")]);
    let mut t = start(&cfg, &store).await;
    let stats = t.cleanup_stats().expect("cleanup on");
    let mut recs = Vec::new();
    poll_until_seq(&mut t, 3, &mut recs).await;
    assert!(recs.iter().all(|r| op(r).as_deref() == Some("r")), "the snapshot");
    // Streaming starts with the next polls.
    recs.extend(poll_quietly(&mut t, Duration::from_millis(300)).await);

    for seq in 4..=53 {
        insert_outbox(&c, seq).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    poll_until_seq(&mut t, 53, &mut recs).await;
    // Everything was handed out, nothing is stored: nothing may go, however long we wait.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        remaining(&c).await,
        (1..=53).collect::<Vec<_>>(),
        "no offset stored yet"
    );
    assert_eq!(stats.deleted.load(std::sync::atomic::Ordering::Relaxed), 0);

    // Store offsets up to row 30 only: rows after it must stay.
    let upto = recs
        .iter()
        .position(|r| outbox_seq(r) == Some(30))
        .expect("row 30 streamed");
    commit_all(&mut t, &recs[..=upto], &store).await;
    let left = wait_rows(&c, |rows| rows.first().is_some_and(|f| *f > 3)).await;
    assert!(
        left.first().is_some_and(|f| *f > 3),
        "the snapshot rows and the first streamed ones are published and stored, so they go: {left:?}"
    );
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let left = remaining(&c).await;
    for seq in 31..=53 {
        assert!(
            left.contains(&seq),
            "row {seq} was deleted before its offset was stored: {left:?}"
        );
    }
    eprintln!(
        "offsets stored up to row 30: rows left {}..={}",
        left[0],
        left[left.len() - 1]
    );

    // Everything stored, then a later change carries the offset past the last outbox row.
    c.batch_execute("INSERT INTO t VALUES (1)").await.unwrap();
    poll_until_marker(&mut t, 1, &mut recs).await;
    commit_all(&mut t, &recs, &store).await;
    let left = wait_rows(&c, |rows| rows.is_empty()).await;
    assert!(
        left.is_empty(),
        "all rows published and stored, all deleted: {left:?}"
    );

    let deleted = stats.deleted.load(std::sync::atomic::Ordering::Relaxed);
    let batches = stats.batches.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(deleted, 53);
    assert!(
        batches >= deleted.div_ceil(7),
        "batches of at most 7 rows: {deleted} rows in {batches} batches"
    );
    eprintln!("53 rows deleted in {batches} transactions of at most 7 rows");

    // Ferry's deletes produced nothing: no delete, no tombstone, no transaction records,
    // no logical decoding message. A user's own delete still does.
    c.batch_execute("DELETE FROM t WHERE id = 1; INSERT INTO t VALUES (2)")
        .await
        .unwrap();
    let before = recs.len();
    poll_until_marker(&mut t, 2, &mut recs).await;
    let after = &recs[before..];
    assert!(
        after.iter().all(|r| !r.topic.ends_with(".public.outbox")),
        "no outbox events from the cleanup: {:?}",
        after.iter().map(|r| (&r.topic, op(r))).collect::<Vec<_>>()
    );
    assert!(after.iter().all(|r| &*r.topic != "srv.message"));
    let user_ops: Vec<Option<String>> = after
        .iter()
        .filter(|r| r.topic.ends_with(".public.t"))
        .map(op)
        .collect();
    assert_eq!(
        user_ops,
        [Some("d".into()), None, Some("c".into())],
        "a user's delete and its tombstone"
    );
    // Transaction records: exactly one BEGIN and one END, the user's transaction.
    let tx_records = after.iter().filter(|r| &*r.topic == "srv.transaction").count();
    assert_eq!(tx_records, 2, "only the user's transaction has metadata");
    t.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_published_before_a_restart_are_deleted_after_it_and_unstored_ones_stay() {
    let pg = PgCluster::shared();
    let db = pg.create_database("ocl_restart").await;
    let c = pg.connect(&db).await;
    c.batch_execute(OUTBOX).await.unwrap();
    let store = MemOffsets::default();

    // First run without cleanup: 30 rows published and their offsets stored, none deleted
    // (what a crash between the offset flush and the delete leaves).
    let plain = config(pg, &db, "ocl_restart", &[]);
    let mut t = start(&plain, &store).await;
    let mut recs = poll_quietly(&mut t, Duration::from_millis(300)).await;
    for seq in 1..=30 {
        insert_outbox(&c, seq).await;
    }
    poll_until_seq(&mut t, 30, &mut recs).await;
    commit_all(&mut t, &recs, &store).await;
    t.stop().await.unwrap();
    assert_eq!(remaining(&c).await.len(), 30);

    // Second run with cleanup: the 30 rows are not streamed again, yet they go once a new
    // offset is stored; 5 rows streamed but not stored stay.
    let cfg = cleanup_cfg(pg, &db, "ocl_restart", &[]);
    let mut t = start(&cfg, &store).await;
    let mut recs = poll_quietly(&mut t, Duration::from_millis(300)).await;
    assert!(
        recs.iter().all(|r| outbox_seq(r).is_none()),
        "nothing re-streamed"
    );
    c.batch_execute("INSERT INTO t VALUES (1)").await.unwrap();
    poll_until_marker(&mut t, 1, &mut recs).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    for seq in 31..=35 {
        insert_outbox(&c, seq).await;
    }
    poll_until_seq(&mut t, 35, &mut recs).await;
    let upto = recs
        .iter()
        .position(|r| r.topic.ends_with(".public.t"))
        .expect("marker");
    commit_all(&mut t, &recs[..=upto], &store).await;
    let left = wait_rows(&c, |rows| rows.first().is_some_and(|f| *f > 30)).await;
    assert_eq!(
        left,
        (31..=35).collect::<Vec<_>>(),
        "the rows of the first run are gone, the unstored ones stay"
    );
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(remaining(&c).await, (31..=35).collect::<Vec<_>>());
    t.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_without_a_primary_key_or_not_captured_is_refused_naming_the_key() {
    let pg = PgCluster::shared();
    let db = pg.create_database("ocl_bad").await;
    let c = pg.connect(&db).await;
    c.batch_execute("CREATE TABLE nopk (id uuid, payload text)")
        .await
        .unwrap();
    let store = MemOffsets::default();
    let cfg = config(
        pg,
        &db,
        "ocl_bad",
        &[
            ("outbox.cleanup.enabled", "true"),
            ("outbox.cleanup.table", "public.nopk"),
        ],
    );
    let e = try_start(&cfg, &store).await.err().expect("refused");
    assert!(
        e.to_string().contains("outbox.cleanup.table") && e.to_string().contains("no primary key"),
        "{e}"
    );
    let cfg = config(
        pg,
        &db,
        "ocl_bad",
        &[
            ("outbox.cleanup.enabled", "true"),
            ("outbox.cleanup.table", "public.missing"),
        ],
    );
    let e = try_start(&cfg, &store).await.err().expect("refused");
    assert!(e.to_string().contains("does not exist"), "{e}");
    let cfg = config(
        pg,
        &db,
        "ocl_bad",
        &[
            ("outbox.cleanup.enabled", "true"),
            ("outbox.cleanup.table", "public.nopk"),
            ("table.include.list", "public.other"),
        ],
    );
    let e = try_start(&cfg, &store).await.err().expect("refused");
    assert!(
        e.to_string().contains("outbox.cleanup.table") && e.to_string().contains("not captured"),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replication_user_that_owns_the_table_needs_no_superuser_for_the_cleanup() {
    let pg = PgCluster::shared();
    let db = pg.create_database("ocl_role").await;
    pg.create_user("ocl_owner", "ocl_pw", true).await;
    let su = pg.connect(&db).await;
    su.batch_execute(&format!(
        "{OUTBOX}; ALTER TABLE outbox OWNER TO ocl_owner; ALTER TABLE t OWNER TO ocl_owner; \
         GRANT CREATE ON DATABASE ocl_role TO ocl_owner"
    ))
    .await
    .unwrap();
    let c = pg.connect_as(&db, "ocl_owner", "ocl_pw").await;
    let mut cfg = cleanup_cfg(
        pg,
        &db,
        "ocl_role",
        &[
            ("publication.autocreate.mode", "filtered"),
            ("table.include.list", "public.outbox,public.t"),
        ],
    );
    cfg.insert("database.user".into(), "ocl_owner".into());
    cfg.insert("database.password".into(), "ocl_pw".into());
    let store = MemOffsets::default();
    let mut t = start(&cfg, &store).await;
    let stats = t.cleanup_stats().unwrap();
    let mut recs = poll_quietly(&mut t, Duration::from_millis(300)).await;
    for seq in 1..=10 {
        insert_outbox(&c, seq).await;
    }
    poll_until_seq(&mut t, 10, &mut recs).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    c.batch_execute("INSERT INTO t VALUES (1)").await.unwrap();
    poll_until_marker(&mut t, 1, &mut recs).await;
    commit_all(&mut t, &recs, &store).await;
    let left = wait_rows(&c, |rows| rows.is_empty()).await;
    assert!(
        left.is_empty(),
        "deleted as ocl_owner (failed rounds: {}): {left:?}",
        stats.failures.load(std::sync::atomic::Ordering::Relaxed)
    );
    assert_eq!(stats.failures.load(std::sync::atomic::Ordering::Relaxed), 0);
    let more = poll_quietly(&mut t, Duration::from_millis(500)).await;
    assert!(
        more.iter().all(|r| !r.topic.ends_with(".public.outbox")),
        "no events from the cleanup"
    );
    t.stop().await.unwrap();
}
