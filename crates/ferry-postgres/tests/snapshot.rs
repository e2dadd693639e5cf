//! A 100,000-row snapshot while writes run concurrently: every row arrives exactly
//! once (snapshot `r` or streamed `c`), every concurrent update after the snapshot point
//! arrives once, and replaying the events rebuilds exactly the table's final state.

mod common;

use std::collections::HashMap;
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
