//! An incremental snapshot with `incremental.snapshot.watermarking.strategy=insert_delete`
//! on Ferry and on the real Kafka Connect 4.3 with Debezium 3.6.3 (each with its own slot
//! and publication on one database): each chunk's window is closed by deleting its open
//! marker; the same `op: r` records and final offsets, and no marker left in the table.

use ferry_differential::pair::Pair;
use ferry_differential::postgres::{self, tasks_running};
use ferry_test_support::postgres::PgCluster;
use serde_json::json;

fn connector(slot: &str, pg: &PgCluster, db: &str) -> String {
    postgres::connector(
        "incrdel",
        slot,
        pg,
        db,
        &json!({
            "topic.prefix": "del",
            "snapshot.mode": "no_data",
            "table.include.list": "public.items",
            "signal.data.collection": "public.dbz_signal",
            "incremental.snapshot.chunk.size": "25",
            "incremental.snapshot.watermarking.strategy": "insert_delete",
        }),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insert_delete_watermarks_match_debezium() {
    let pg = PgCluster::start();
    let db = pg.create_database("incrdel").await;
    let sql = pg.connect(&db).await;
    sql.batch_execute(
        "CREATE TABLE items (id INT PRIMARY KEY, name TEXT NOT NULL, qty INT);
         CREATE TABLE dbz_signal (id VARCHAR(64) PRIMARY KEY, type VARCHAR(32) NOT NULL, data VARCHAR(2048));
         INSERT INTO items SELECT g, 'item-' || g, g % 7 FROM generate_series(1, 120) g;",
    )
    .await
    .unwrap();

    let mut pair = Pair::start("pgincrdel", &[]);
    for (side, who) in [
        (&mut pair.ferry.side, "ferry"),
        (&mut pair.connect.side, "connect"),
    ] {
        side.alias(format!("{who}_incrdel_pub"), "<publication>");
        side.alias(format!("{who}_incrdel"), "<slot>");
    }
    pair.exchange_each(
        "POST /connectors (insert_delete)",
        "POST",
        "/connectors",
        &connector("ferry", &pg, &db),
        &connector("connect", &pg, &db),
    )
    .await;
    pair.wait_both("/connectors/incrdel/status", tasks_running).await;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    sql.batch_execute("INSERT INTO items VALUES (121, 'item-121', 1)")
        .await
        .unwrap();
    pair.compare_topic("streaming before the signal", "del.public.items", 1);

    sql.batch_execute(
        r#"INSERT INTO dbz_signal VALUES ('ad-hoc-d', 'execute-snapshot',
             '{"data-collections": ["public.items"], "type": "incremental"}')"#,
    )
    .await
    .unwrap();
    // 121 rows in five chunks of 25.
    pair.compare_topic("snapshot to the end", "del.public.items", 1 + 121);
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    sql.batch_execute("UPDATE items SET qty = 99 WHERE id = 7")
        .await
        .unwrap();
    pair.compare_topic("streaming after the snapshot", "del.public.items", 1 + 121 + 1);
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    pair.compare_internal_topic("offsets topic after the snapshot", "offsets");

    // Both connectors deleted every open marker they wrote: only the signal is left.
    let left: Vec<String> = sql
        .query("SELECT id FROM dbz_signal ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(left, ["ad-hoc-d"], "watermarks left in the signal table");

    pair.report.finish("incremental_insert_delete", &[]);
    assert!(
        pair.report.records >= 120,
        "compared only {} records",
        pair.report.records
    );
}
