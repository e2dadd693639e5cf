//! The initial snapshot's notifications on the sink channel, on Ferry and on the real
//! Kafka Connect 4.3 with Debezium 3.6.3 (each with its own slot and publication on one
//! database): STARTED, per table IN_PROGRESS and TABLE_SCAN_COMPLETED (whose
//! `data_collections` follow Java's set orders), COMPLETED.

use ferry_differential::pair::Pair;
use ferry_differential::postgres::{self, tasks_running};
use ferry_test_support::postgres::PgCluster;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initial_snapshot_notifications_match_debezium() {
    let pg = PgCluster::start();
    let db = pg.create_database("snapnotes").await;
    let sql = pg.connect(&db).await;
    sql.batch_execute(
        "CREATE TABLE orders (id INT PRIMARY KEY, total INT);
         CREATE TABLE customers (id INT PRIMARY KEY, name TEXT);
         CREATE TABLE line_items (id INT PRIMARY KEY, qty INT);
         CREATE TABLE dbz_signal (id VARCHAR(64) PRIMARY KEY, type VARCHAR(32) NOT NULL, data VARCHAR(2048));
         INSERT INTO orders SELECT g, g * 10 FROM generate_series(1, 30) g;
         INSERT INTO customers SELECT g, 'c' || g FROM generate_series(1, 12) g;
         INSERT INTO line_items SELECT g, g % 4 FROM generate_series(1, 45) g;",
    )
    .await
    .unwrap();

    let mut pair = Pair::start("pgsnapnote", &[]);
    for (side, who) in [
        (&mut pair.ferry.side, "ferry"),
        (&mut pair.connect.side, "connect"),
    ] {
        side.alias(format!("{who}_notes_pub"), "<publication>");
        side.alias(format!("{who}_notes"), "<slot>");
    }
    let extra = json!({
        "topic.prefix": "note",
        "snapshot.mode": "initial",
        "table.include.list": "public.orders,public.customers,public.line_items",
        "signal.data.collection": "public.dbz_signal",
        "notification.enabled.channels": "sink",
        "notification.sink.topic.name": "note.notifications",
    });
    pair.exchange_each(
        "POST /connectors (notes)",
        "POST",
        "/connectors",
        &postgres::connector("notes", "ferry", &pg, &db, &extra),
        &postgres::connector("notes", "connect", &pg, &db, &extra),
    )
    .await;
    pair.wait_both("/connectors/notes/status", tasks_running).await;
    pair.compare_topic("orders snapshot", "note.public.orders", 30);
    pair.compare_topic("customers snapshot", "note.public.customers", 12);
    pair.compare_topic("line_items snapshot", "note.public.line_items", 45);
    // STARTED, IN_PROGRESS and TABLE_SCAN_COMPLETED for each of the three tables, COMPLETED.
    pair.compare_topic("notifications", "note.notifications", 8);

    pair.report.finish("snapshot_notifications", &[]);
    assert!(
        pair.report.records >= 95,
        "compared only {} records",
        pair.report.records
    );
}
