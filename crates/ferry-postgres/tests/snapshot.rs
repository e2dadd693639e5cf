//! A 100,000-row snapshot while writes run concurrently: every row arrives exactly
//! once (snapshot `r` or streamed `c`), every concurrent update after the snapshot point
//! arrives once, and replaying the events rebuilds exactly the table's final state.
//! A snapshot taken when the slot already exists emits each row once too.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use common::*;
use ferry_core::Value;
use ferry_test_support::postgres::PgCluster;

const ROWS: i32 = 100_000;
/// Writes committed after the snapshot has visibly begun: these must be streamed.
const WRITES_AFTER_SNAPSHOT_BEGAN: i32 = 500;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_of_100k_rows_with_concurrent_writes_is_exactly_once() {
    let pg = PgCluster::shared();
    let db = pg.create_database("snap_100k").await;
    let c = pg.connect(&db).await;
    c.batch_execute(&format!(
        "CREATE TABLE big (id int PRIMARY KEY, v int NOT NULL); \
         INSERT INTO big SELECT g, g FROM generate_series(1, {ROWS}) g;"
    ))
    .await
    .unwrap();
    let cfg = config(pg, &db, "snap_100k", &[]);
    let store = MemOffsets::default();
    let began = Instant::now();

    // Writes start together with the task: some may commit before the snapshot point
    // (and belong to the snapshot), the rest are streamed. The writer goes on until the
    // first snapshot row has been received (so the snapshot point is behind it), then
    // commits WRITES_AFTER_SNAPSHOT_BEGAN more, which can only arrive streamed. It
    // returns how many transactions it committed.
    let snapshot_began = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let w = pg.connect(&db).await;
        let began_flag = snapshot_began.clone();
        tokio::spawn(async move {
            let mut k = 0;
            let mut after = 0;
            while after < WRITES_AFTER_SNAPSHOT_BEGAN {
                if began_flag.load(std::sync::atomic::Ordering::Acquire) {
                    after += 1;
                }
                k += 1;
                let upd = (k * 37) % ROWS + 1;
                w.batch_execute(&format!(
                    "BEGIN; INSERT INTO big VALUES ({}, {k}); UPDATE big SET v = {} WHERE id = {upd}; COMMIT;",
                    ROWS + k,
                    -k
                ))
                .await
                .unwrap();
            }
            k
        })
    };
    let mut t = start(&cfg, &store).await;
    let mut state: HashMap<i32, i32> = HashMap::with_capacity(ROWS as usize + 10_000);
    let (mut reads, mut creates, mut updates) = (0usize, 0usize, 0usize);
    let mut seen_updates = std::collections::HashSet::new();
    let mut sentinel_sent = false;
    let deadline = Instant::now() + Duration::from_secs(90);
    let id_of = |r: &ferry_core::Record| match field(&r.key, &["id"]) {
        Value::Int32(i) => *i,
        v => panic!("{v:?}"),
    };
    let v_of = |r: &ferry_core::Record| match field(&r.value, &["after", "v"]) {
        Value::Int32(i) => *i,
        v => panic!("{v:?}"),
    };
    'outer: loop {
        assert!(
            Instant::now() < deadline,
            "timed out: r={reads} c={creates} u={updates}"
        );
        let batch = t.poll().await.expect("poll");
        for r in &batch {
            let id = id_of(r);
            match op(r).as_deref() {
                Some("r") => {
                    snapshot_began.store(true, std::sync::atomic::Ordering::Release);
                    reads += 1;
                    assert!(state.insert(id, v_of(r)).is_none(), "row {id} snapshot twice");
                }
                Some("c") => {
                    if id == 0 {
                        break 'outer;
                    }
                    creates += 1;
                    assert!(
                        state.insert(id, v_of(r)).is_none(),
                        "row {id} delivered twice (c)"
                    );
                }
                Some("u") => {
                    updates += 1;
                    let v = v_of(r);
                    assert!(seen_updates.insert(v), "update v={v} delivered twice");
                    assert!(state.insert(id, v).is_some(), "update of unknown row {id}");
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        commit_all(&mut t, &batch, &store).await;
        if !sentinel_sent && writer.is_finished() {
            // Everything committed before the sentinel is streamed before it.
            c.batch_execute("INSERT INTO big VALUES (0, 0)").await.unwrap();
            sentinel_sent = true;
        }
    }
    let writes = writer.await.unwrap();
    let elapsed = began.elapsed();
    t.stop().await.unwrap();
    eprintln!("snapshot+stream: r={reads} c={creates} u={updates} in {elapsed:?}");
    assert!(reads >= ROWS as usize, "every pre-existing row was read");
    assert_eq!(
        reads + creates,
        (ROWS + writes) as usize,
        "every row exactly once"
    );
    assert!(
        creates >= WRITES_AFTER_SNAPSHOT_BEGAN as usize,
        "the writes committed after the snapshot began were streamed (c={creates})"
    );
    // Replaying the events gives the table as it is now.
    let rows = c.query("SELECT id, v FROM big WHERE id <> 0", &[]).await.unwrap();
    assert_eq!(rows.len(), state.len());
    for row in rows {
        let (id, v): (i32, i32) = (row.get(0), row.get(1));
        assert_eq!(state.get(&id), Some(&v), "row {id}");
    }
}

/// A snapshot taken when the slot already exists (no stored offsets) cannot use the slot's
/// exported snapshot: the rows committed between the slot's position and the snapshot are
/// in both. They must come once (from the snapshot), while a transaction still open when
/// the snapshot was taken must still come, streamed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_with_an_existing_slot_emits_each_row_once() {
    let pg = PgCluster::shared();
    let db = pg.create_database("snap_slot_exists").await;
    let c = pg.connect(&db).await;
    c.batch_execute("CREATE TABLE t (id int PRIMARY KEY)")
        .await
        .unwrap();
    // The slot is created at this point; nothing is stored.
    let no_data = config(pg, &db, "snap_slot_exists", &[("snapshot.mode", "no_data")]);
    let mut t = start(&no_data, &MemOffsets::default()).await;
    t.stop().await.unwrap();
    c.batch_execute("INSERT INTO t SELECT g FROM generate_series(1, 50) g")
        .await
        .unwrap();
    // Open while the snapshot is taken: invisible to it, committed afterwards.
    let open = pg.connect(&db).await;
    open.batch_execute("BEGIN; INSERT INTO t VALUES (1000)")
        .await
        .unwrap();
    let store = MemOffsets::default();
    let cfg = config(pg, &db, "snap_slot_exists", &[("snapshot.mode", "initial")]);
    let mut t = start(&cfg, &store).await;
    let snap = poll_until(&mut t, 50, Duration::from_secs(20)).await;
    open.batch_execute("COMMIT").await.unwrap();
    c.batch_execute("INSERT INTO t VALUES (2000)").await.unwrap();
    let mut recs = snap;
    recs.extend(poll_until(&mut t, 2, Duration::from_secs(20)).await);
    recs.extend(poll_for(&mut t, Duration::from_secs(2)).await);
    t.stop().await.unwrap();
    let mut seen: BTreeMap<i32, Vec<String>> = BTreeMap::new();
    for r in &recs {
        let Value::Int32(id) = field(&r.key, &["id"]) else {
            panic!("key {:?}", r.key)
        };
        seen.entry(*id).or_default().push(op(r).unwrap_or_default());
    }
    let twice: Vec<_> = seen.iter().filter(|(_, ops)| ops.len() > 1).collect();
    assert!(twice.is_empty(), "emitted more than once: {twice:?}");
    assert_eq!(seen.len(), 52, "{seen:?}");
    assert_eq!(seen[&1], ["r"]);
    assert_eq!(seen[&1000], ["c"], "the open transaction is streamed");
    assert_eq!(seen[&2000], ["c"]);
}

/// `snapshot.include.collection.list`: the initial snapshot reads only the captured tables
/// it names (as `schema.table` or `"schema"."table"`); the others are streamed only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_include_collection_list_limits_the_initial_snapshot() {
    let pg = PgCluster::shared();
    let db = pg.create_database("snap_include").await;
    let c = pg.connect(&db).await;
    c.batch_execute(
        "CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (id int PRIMARY KEY); \
         CREATE TABLE c (id int PRIMARY KEY); \
         INSERT INTO a VALUES (1), (2); INSERT INTO b VALUES (1); INSERT INTO c VALUES (1);",
    )
    .await
    .unwrap();
    let cfg = config(
        pg,
        &db,
        "snap_include",
        &[("snapshot.include.collection.list", "PUBLIC\\.a,\"public\".\"c\"")],
    );
    let mut t = start(&cfg, &MemOffsets::default()).await;
    c.batch_execute("INSERT INTO b VALUES (2)").await.unwrap();
    let got = poll_while(&mut t, Duration::from_secs(30), |r| {
        r.iter().any(|r| op(r).as_deref() == Some("c"))
    })
    .await;
    let events: Vec<(String, String)> = got
        .iter()
        .filter_map(|r| op(r).map(|o| (r.topic.to_string(), o)))
        .collect();
    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter().map(|(t, o)| (t.to_string(), o.to_string())).collect()
    };
    assert_eq!(
        events,
        pairs(&[
            ("srv.public.a", "r"),
            ("srv.public.a", "r"),
            ("srv.public.c", "r"),
            ("srv.public.b", "c"),
        ])
    );
    t.stop().await.unwrap();
}
