//! The initial snapshot's notifications on the sink channel, on Ferry and on the real
//! Kafka Connect 4.3 with Debezium 3.6.3 (each with its own slot and publication on one
//! database): STARTED, per table IN_PROGRESS and TABLE_SCAN_COMPLETED (whose
//! `data_collections` follow Java's set orders), COMPLETED; with
//! `snapshot.include.collection.list`, which limits the snapshot to some captured tables;
//! and with `snapshot.tables.order.by.row.count`, which changes nothing on PostgreSQL.

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
        for name in ["notes", "subset", "ordered"] {
            side.alias(format!("{who}_{name}_pub"), "<publication>");
            side.alias(format!("{who}_{name}"), "<slot>");
        }
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

    // snapshot.include.collection.list: the initial snapshot reads two of the three
    // captured tables; the third is streamed only.
    let subset = json!({
        "topic.prefix": "sub",
        "snapshot.mode": "initial",
        "table.include.list": "public.orders,public.customers,public.line_items",
        "snapshot.include.collection.list": "public.line_items,public.orders",
        "notification.enabled.channels": "sink",
        "notification.sink.topic.name": "sub.notifications",
    });
    postgres::create_on_both(&mut pair, "subset", &pg, &db, &subset).await;
    pair.wait_both("/connectors/subset/status", tasks_running).await;
    pair.compare_topic("subset: orders snapshot", "sub.public.orders", 30);
    pair.compare_topic("subset: line_items snapshot", "sub.public.line_items", 45);
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    sql.batch_execute("INSERT INTO customers VALUES (13, 'streamed')")
        .await
        .unwrap();
    pair.compare_topic("subset: customers streamed only", "sub.public.customers", 1);
    pair.compare_topic("subset: notifications", "sub.notifications", 6);

    // snapshot.tables.order.by.row.count: with one snapshot thread Debezium has no row
    // counts for PostgreSQL tables, so the order stays the include list's (line_items,
    // with the most rows, would come first when descending worked).
    let ordered = json!({
        "topic.prefix": "ord",
        "snapshot.mode": "initial",
        "table.include.list": "public.orders,public.customers,public.line_items",
        "snapshot.tables.order.by.row.count": "descending",
        "notification.enabled.channels": "sink",
        "notification.sink.topic.name": "ord.notifications",
    });
    postgres::create_on_both(&mut pair, "ordered", &pg, &db, &ordered).await;
    pair.wait_both("/connectors/ordered/status", tasks_running).await;
    pair.compare_topic("ordered: notifications", "ord.notifications", 8);

    pair.report.finish("snapshot_notifications", &[]);
    assert!(
        pair.report.records >= 185,
        "compared only {} records",
        pair.report.records
    );
}
