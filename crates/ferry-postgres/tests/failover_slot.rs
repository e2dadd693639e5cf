//! `slot.failover`: a failover slot (PostgreSQL 17+) is synchronized to a standby, and
//! after the standby's promotion the connector streams on from it without losing a
//! committed change. Runs PostgreSQL 18 (`scripts/setup.sh postgres-newer`); on
//! PostgreSQL 15 the setting creates a regular slot, as Debezium does.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::*;
use ferry_core::Record;
use ferry_test_support::postgres::{newer_bin_dir, PgCluster};

const STANDBY_SLOT: &str = "ferry_standby";

fn tail(log: &str) -> &str {
    &log[log.len().saturating_sub(3000)..]
}

fn ids(records: &[Record]) -> Vec<i64> {
    records
        .iter()
        .filter(|r| op(r).is_some() && r.topic.ends_with(".orders"))
        .filter_map(|r| field(&r.value, &["after", "id"]).as_i64())
        .collect()
}

async fn insert(c: &tokio_postgres::Client, range: std::ops::RangeInclusive<i64>) {
    for id in range {
        c.execute(
            "INSERT INTO orders VALUES ($1::int, 'order ' || $1::int::text)",
            &[&(id as i32)],
        )
        .await
        .expect("insert");
    }
}

/// The slot's row on `c`'s server: (failover, synced, confirmed_flush_lsn).
async fn slot_row(c: &tokio_postgres::Client, slot: &str) -> Option<(bool, bool, Option<String>)> {
    c.query_opt(
        "SELECT failover, synced, confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1",
        &[&slot],
    )
    .await
    .expect("read pg_replication_slots")
    .map(|r| (r.get(0), r.get(1), r.get(2)))
}

/// (failover, synced, persisted, confirmed_flush_lsn >= lsn) of the slot on `c`'s server.
async fn slot_reached(c: &tokio_postgres::Client, slot: &str, lsn: i64) -> Option<(bool, bool, bool, bool)> {
    c.query_opt(
        "SELECT failover, synced, NOT temporary, \
                coalesce((confirmed_flush_lsn - '0/0'::pg_lsn)::bigint >= $2, false) \
         FROM pg_replication_slots WHERE slot_name = $1",
        &[&slot, &lsn],
    )
    .await
    .expect("read pg_replication_slots")
    .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failover_slot_lets_streaming_go_on_from_a_promoted_standby() {
    let primary = PgCluster::start_with_binaries(
        &newer_bin_dir(),
        &format!("synchronized_standby_slots = '{STANDBY_SLOT}'"),
    );
    let db = primary.create_database("failover").await;
    let p = primary.connect(&db).await;
    p.batch_execute(
        "CREATE TABLE orders (id int PRIMARY KEY, note text); CREATE TABLE ticks (id serial PRIMARY KEY)",
    )
    .await
    .unwrap();
    let standby = primary.start_standby(STANDBY_SLOT);

    let slot = "failover_slot";
    let store = MemOffsets::default();
    let cfg = config(
        &primary,
        &db,
        slot,
        &[
            ("slot.failover", "true"),
            ("table.include.list", "public.orders,public.ticks"),
        ],
    );
    let mut task = start(&cfg, &store).await;
    let (failover, synced, _) = slot_row(&p, slot).await.expect("the connector created its slot");
    assert!(
        failover,
        "slot.failover=true must create a failover slot on PostgreSQL 18"
    );
    assert!(!synced);

    // Delivered and committed before the failover.
    insert(&p, 1..=50).await;
    let first = poll_while(&mut task, Duration::from_secs(60), |r| ids(r).len() >= 50).await;
    assert_eq!(ids(&first), (1..=50).collect::<Vec<_>>());
    commit_all(&mut task, &first, &store).await;
    // The connector confirms the committed position to the primary's slot; the standby's
    // slot sync worker copies it, and only a persisted synced slot survives a promotion.
    let committed = offset_of(first.last().unwrap())["lsn"]
        .as_i64()
        .expect("lsn offset");
    let s = standby.connect(&db).await;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        // A synced slot turns persistent once the primary's slot has moved past the oldest
        // transaction the standby could decode from: that takes captured changes the
        // connector confirms and a logged snapshot of running transactions, which a busy
        // primary has anyway (it logs one every 15 s).
        p.batch_execute("INSERT INTO ticks DEFAULT VALUES; SELECT pg_log_standby_snapshot();")
            .await
            .unwrap();
        let ticks = poll_for(&mut task, Duration::from_millis(300)).await;
        assert!(ids(&ticks).is_empty());
        commit_all(&mut task, &ticks, &store).await;
        let primary_done = slot_reached(&p, slot, committed)
            .await
            .is_some_and(|(_, _, _, reached)| reached);
        let standby_done = slot_reached(&s, slot, committed).await == Some((true, true, true, true));
        if primary_done && standby_done {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the standby never held a persisted synchronized copy of the slot at the committed position {committed}: primary {:?}, standby {:?}; standby log: {}",
            slot_row(&p, slot).await,
            slot_row(&s, slot).await,
            tail(&standby.log())
        );
    }

    // Delivered but not committed when the primary dies: they must come again.
    insert(&p, 51..=60).await;
    let uncommitted = poll_while(&mut task, Duration::from_secs(60), |r| ids(r).len() >= 10).await;
    assert_eq!(ids(&uncommitted), (51..=60).collect::<Vec<_>>());
    drop(task);
    primary.stop();
    standby.promote();

    // The connector is pointed at the promoted standby (in production a DNS name or a
    // virtual IP moves) and resumes from its committed offset.
    let s = standby.connect(&db).await;
    let cfg = config(
        &standby,
        &db,
        slot,
        &[
            ("slot.failover", "true"),
            ("table.include.list", "public.orders,public.ticks"),
        ],
    );
    let mut task = start(&cfg, &store).await;
    insert(&s, 61..=70).await;
    let after = poll_while(&mut task, Duration::from_secs(60), |r| {
        ids(r).iter().collect::<BTreeSet<_>>().len() >= 20
    })
    .await;
    let seen: BTreeSet<i64> = ids(&after).into_iter().collect();
    assert_eq!(
        seen,
        (51..=70).collect::<BTreeSet<_>>(),
        "after the promotion the connector must deliver the uncommitted changes and the new ones, nothing older; slot {:?}; log: {}",
        slot_row(&s, slot).await,
        tail(&standby.log())
    );
    assert!(
        after.iter().all(|r| op(r).as_deref() != Some("r")),
        "the connector must stream from the synchronized slot, not snapshot again"
    );
    task.stop().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_15_slot_failover_creates_a_regular_slot() {
    let pg = PgCluster::start();
    let db = pg.create_database("failover15").await;
    let c = pg.connect(&db).await;
    c.batch_execute("CREATE TABLE orders (id int PRIMARY KEY, note text)")
        .await
        .unwrap();
    let store = MemOffsets::default();
    let cfg = config(
        &pg,
        &db,
        "failover15",
        &[("slot.failover", "true"), ("table.include.list", "public.orders")],
    );
    let mut task = start(&cfg, &store).await;
    let slot_exists: bool = c
        .query_one(
            "SELECT count(*) = 1 FROM pg_replication_slots WHERE slot_name = 'failover15'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(slot_exists);
    insert(&c, 1..=3).await;
    let got = poll_while(&mut task, Duration::from_secs(30), |r| ids(r).len() >= 3).await;
    assert_eq!(ids(&got), vec![1, 2, 3]);
    task.stop().await.ok();
}
