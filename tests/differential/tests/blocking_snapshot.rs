//! A blocking snapshot (`execute-snapshot` of type `blocking`) requested through the
//! signal table, on Ferry and on the real Kafka Connect 4.3 with Debezium 3.6.3 (each
//! with its own slot and publication on one database): the same `op: r` records with
//! their markers, one table read through its additional condition's SELECT, the same
//! notifications, streaming afterwards, and the same offsets.

use ferry_differential::pair::Pair;
use ferry_differential::postgres::{self, tasks_running};
use ferry_test_support::postgres::PgCluster;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_snapshot_records_notifications_and_offsets_match_debezium() {
    let pg = PgCluster::start();
    let db = pg.create_database("blocking").await;
    let sql = pg.connect(&db).await;
    sql.batch_execute(
        "CREATE TABLE items (id INT PRIMARY KEY, name TEXT NOT NULL, qty INT);
         CREATE TABLE extra (id INT PRIMARY KEY, note TEXT);
         CREATE TABLE dbz_signal (id VARCHAR(64) PRIMARY KEY, type VARCHAR(32) NOT NULL, data VARCHAR(2048));
         INSERT INTO items SELECT g, 'item-' || g, g % 7 FROM generate_series(1, 80) g;
         INSERT INTO extra SELECT g, 'n' || g FROM generate_series(1, 20) g;",
    )
    .await
    .unwrap();

    let mut pair = Pair::start("pgblocking", &[]);
    for (side, who) in [
        (&mut pair.ferry.side, "ferry"),
        (&mut pair.connect.side, "connect"),
    ] {
        side.alias(format!("{who}_blocking_pub"), "<publication>");
        side.alias(format!("{who}_blocking"), "<slot>");
    }
    let extra = json!({
        "topic.prefix": "blk",
        "snapshot.mode": "no_data",
        "table.include.list": "public.items,public.extra",
        "signal.data.collection": "public.dbz_signal",
        "notification.enabled.channels": "sink",
        "notification.sink.topic.name": "blk.notifications",
    });
    pair.exchange_each(
        "POST /connectors (blocking)",
        "POST",
        "/connectors",
        &postgres::connector("blocking", "ferry", &pg, &db, &extra),
        &postgres::connector("blocking", "connect", &pg, &db, &extra),
    )
    .await;
    pair.wait_both("/connectors/blocking/status", tasks_running).await;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    sql.batch_execute("UPDATE items SET qty = 50 WHERE id = 1")
        .await
        .unwrap();
    pair.compare_topic("streaming before the signal", "blk.public.items", 1);

    sql.batch_execute(
        r#"INSERT INTO dbz_signal VALUES ('blocking-1', 'execute-snapshot',
             '{"data-collections": ["public.items", "public.extra"], "type": "blocking",
               "additional-conditions": [{"data-collection": "public.extra", "filter": "SELECT * FROM public.extra WHERE id > 15"}]}')"#,
    )
    .await
    .unwrap();
    pair.compare_topic("items read by the blocking snapshot", "blk.public.items", 1 + 80);
    pair.compare_topic("extra read through its condition", "blk.public.extra", 5);
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    sql.batch_execute("UPDATE items SET qty = 99 WHERE id = 7")
        .await
        .unwrap();
    pair.compare_topic("streaming after the snapshot", "blk.public.items", 1 + 80 + 1);
    // SKIPPED (snapshot.mode=no_data), then STARTED, IN_PROGRESS and
    // TABLE_SCAN_COMPLETED per table, COMPLETED.
    pair.compare_topic("notifications", "blk.notifications", 7);
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    pair.compare_internal_topic("offsets topic after the snapshot", "offsets");

    pair.report.finish("blocking_snapshot", &[]);
    assert!(
        pair.report.records >= 90,
        "compared only {} records",
        pair.report.records
    );
}
