//! A read-only incremental snapshot (`read.only=true`: watermarks from
//! `pg_current_snapshot()`, nothing written to the database) requested through the file
//! signal channel, on Ferry and on the real Kafka Connect 4.3 with Debezium 3.6.3 (each
//! with its own slot, publication and signal file on one database): the same `op: r`
//! records, streaming afterwards, the same offsets, and no row written by either.

use ferry_differential::pair::Pair;
use ferry_differential::postgres::{self, tasks_running};
use ferry_test_support::postgres::PgCluster;
use serde_json::json;

fn connector(slot: &str, pg: &PgCluster, db: &str, signal_file: &std::path::Path) -> String {
    postgres::connector(
        "incrro",
        slot,
        pg,
        db,
        &json!({
            "topic.prefix": "ro",
            "snapshot.mode": "no_data",
            "table.include.list": "public.items",
            "read.only": "true",
            "signal.enabled.channels": "file",
            "signal.file": signal_file.display().to_string(),
            "signal.poll.interval.ms": "200",
            "incremental.snapshot.chunk.size": "25",
        }),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_incremental_snapshot_matches_debezium() {
    let pg = PgCluster::start();
    let db = pg.create_database("incrro").await;
    let sql = pg.connect(&db).await;
    sql.batch_execute(
        "CREATE TABLE items (id INT PRIMARY KEY, name TEXT NOT NULL, qty INT);
         INSERT INTO items SELECT g, 'item-' || g, g % 7 FROM generate_series(1, 120) g;",
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let files = [
        dir.path().join("ferry.signals"),
        dir.path().join("connect.signals"),
    ];
    for f in &files {
        std::fs::write(f, "").unwrap();
    }

    let mut pair = Pair::start("pgincrro", &[]);
    for (side, who) in [
        (&mut pair.ferry.side, "ferry"),
        (&mut pair.connect.side, "connect"),
    ] {
        side.alias(format!("{who}_incrro_pub"), "<publication>");
        side.alias(format!("{who}_incrro"), "<slot>");
        side.alias(
            dir.path().join(format!("{who}.signals")).display().to_string(),
            "<signal file>",
        );
    }
    pair.exchange_each(
        "POST /connectors (read.only)",
        "POST",
        "/connectors",
        &connector("ferry", &pg, &db, &files[0]),
        &connector("connect", &pg, &db, &files[1]),
    )
    .await;
    pair.wait_both("/connectors/incrro/status", tasks_running).await;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    sql.batch_execute("INSERT INTO items VALUES (121, 'item-121', 1)")
        .await
        .unwrap();
    pair.compare_topic("streaming before the signal", "ro.public.items", 1);

    for f in &files {
        std::fs::write(
            f,
            "{\"id\":\"ad-hoc-ro\",\"type\":\"execute-snapshot\",\"data\":{\"data-collections\":[\"public.items\"],\"type\":\"incremental\"}}\n",
        )
        .unwrap();
    }
    // 121 rows in five chunks of 25.
    pair.compare_topic("snapshot to the end", "ro.public.items", 1 + 121);
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    sql.batch_execute("UPDATE items SET qty = 99 WHERE id = 7")
        .await
        .unwrap();
    pair.compare_topic("streaming after the snapshot", "ro.public.items", 1 + 121 + 1);
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    pair.compare_internal_topic("offsets topic after the snapshot", "offsets");

    pair.report.finish("incremental_read_only", &[]);
    assert!(
        pair.report.records >= 120,
        "compared only {} records",
        pair.report.records
    );
}
