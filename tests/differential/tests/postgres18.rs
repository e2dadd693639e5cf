//! Settings that need a newer PostgreSQL than 15, on PostgreSQL 18, on Ferry and on the
//! real Kafka Connect 4.3 with Debezium 3.6.3 (each with its own slots and publications on
//! one database):
//! - `slot.failover=true`: both create a failover slot of the same kind, and their
//!   snapshot and streamed records are the same (the promotion of a standby is tested in
//!   crates/ferry-postgres/tests/failover_slot.rs);
//! - `slot.stream.params=origin=none` (pgoutput's `origin`, PostgreSQL 16+): Debezium
//!   passes it to the server, Ferry applies it itself; the same changes come through.

use ferry_differential::diff::diff;
use ferry_differential::pair::Pair;
use ferry_differential::postgres::{self, tasks_running};
use ferry_test_support::postgres::{newer_bin_dir, PgCluster};
use serde_json::{json, Value};

/// What pg_replication_slots says of the kind of `slot`.
async fn slot_kind(sql: &tokio_postgres::Client, slot: &str) -> Value {
    let row = sql
        .query_opt(
            "SELECT plugin::text, slot_type, temporary, two_phase, failover, synced \
             FROM pg_replication_slots WHERE slot_name = $1",
            &[&slot],
        )
        .await
        .unwrap();
    match row {
        None => Value::Null,
        Some(r) => json!({
            "plugin": r.get::<_, Option<String>>(0),
            "slot_type": r.get::<_, String>(1),
            "temporary": r.get::<_, bool>(2),
            "two_phase": r.get::<_, bool>(3),
            "failover": r.get::<_, bool>(4),
            "synced": r.get::<_, bool>(5),
        }),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_slot_and_origin_filter_match_debezium_on_postgresql_18() {
    let pg = PgCluster::start_with_binaries(&newer_bin_dir(), "");
    let db = pg.create_database("failover").await;
    let sql = pg.connect(&db).await;
    sql.batch_execute(
        "CREATE TABLE orders (id INT PRIMARY KEY, note TEXT);
         INSERT INTO orders SELECT g, 'order ' || g FROM generate_series(1, 5) g;",
    )
    .await
    .unwrap();

    let mut pair = Pair::start("pg18", &[]);
    for (side, who) in [
        (&mut pair.ferry.side, "ferry"),
        (&mut pair.connect.side, "connect"),
    ] {
        for name in ["failover", "origin"] {
            side.alias(format!("{who}_{name}_pub"), "<publication>");
            side.alias(format!("{who}_{name}"), "<slot>");
        }
    }
    let extra = json!({
        "topic.prefix": "fo",
        "table.include.list": "public.orders",
        "slot.failover": "true",
    });
    postgres::create_on_both(&mut pair, "failover", &pg, &db, &extra).await;
    pair.wait_both("/connectors/failover/status", tasks_running).await;

    let ferry_slot = slot_kind(&sql, "ferry_failover").await;
    let connect_slot = slot_kind(&sql, "connect_failover").await;
    let mut found = Vec::new();
    diff("$", &ferry_slot, &connect_slot, true, &mut found);
    pair.report
        .add("pg_replication_slots (slot.failover=true)", found);
    assert_eq!(ferry_slot["failover"], json!(true), "Ferry's slot: {ferry_slot}");

    pair.compare_topic("snapshot on PostgreSQL 18", "fo.public.orders", 5);
    sql.batch_execute(
        "INSERT INTO orders VALUES (6, 'order 6');
         UPDATE orders SET note = 'changed' WHERE id = 1;
         DELETE FROM orders WHERE id = 2;",
    )
    .await
    .unwrap();
    pair.compare_topic("streaming on PostgreSQL 18", "fo.public.orders", 9);

    // pgoutput's origin filter: a session bound to a replication origin writes as a
    // replication apply worker does.
    sql.batch_execute("CREATE TABLE replicated (id INT PRIMARY KEY, note TEXT)")
        .await
        .unwrap();
    let origin = json!({
        "topic.prefix": "or",
        "table.include.list": "public.replicated",
        "snapshot.mode": "no_data",
        "slot.stream.params": "origin=none",
    });
    postgres::create_on_both(&mut pair, "origin", &pg, &db, &origin).await;
    pair.wait_both("/connectors/origin/status", tasks_running).await;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    sql.batch_execute(
        "SELECT pg_replication_origin_create('upstream');
         SELECT pg_replication_origin_session_setup('upstream');
         INSERT INTO replicated VALUES (1, 'from upstream');
         BEGIN; INSERT INTO replicated VALUES (2, 'from upstream'); UPDATE replicated SET note = 'x' WHERE id = 1; COMMIT;
         SELECT pg_replication_origin_session_reset();
         INSERT INTO replicated VALUES (3, 'local');
         UPDATE replicated SET note = 'local change' WHERE id = 1;",
    )
    .await
    .unwrap();
    pair.compare_topic("origin=none: only local changes", "or.public.replicated", 2);

    pair.report.finish("postgres18", &[]);
    assert!(
        pair.report.records >= 11,
        "compared only {} records",
        pair.report.records
    );
}
