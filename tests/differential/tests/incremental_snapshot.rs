//! An incremental snapshot requested through the signal table, on Ferry and on the real
//! Kafka Connect 4.3 with Debezium 3.6.3 (each with its own slot and publication on one
//! database): the same `op: r` records (keys, values, headers; snapshot positions are
//! normalised) and the same final offsets. Each connector also sees the other's watermark
//! rows in the signal table and ignores them (another chunk id), as Debezium does; and
//! the notifications on the sink channel.

use ferry_differential::pair::Pair;
use ferry_differential::postgres::{self, tasks_running};
use ferry_test_support::postgres::PgCluster;
use serde_json::json;

fn connector(slot: &str, pg: &PgCluster, db: &str) -> String {
    postgres::connector(
        "incr",
        slot,
        pg,
        db,
        &json!({
            "topic.prefix": "inc",
            "snapshot.mode": "no_data",
            "table.include.list": "public.items",
            "signal.data.collection": "public.dbz_signal",
            "incremental.snapshot.chunk.size": "40",
            "notification.enabled.channels": "sink,log",
            "notification.sink.topic.name": "inc.notifications",
        }),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_snapshot_records_and_offsets_match_debezium() {
    let pg = PgCluster::start();
    let db = pg.create_database("incremental").await;
    let sql = pg.connect(&db).await;
    sql.batch_execute(
        "CREATE TABLE items (id INT PRIMARY KEY, name TEXT NOT NULL, qty INT, price NUMERIC(8,2));
         CREATE TABLE dbz_signal (id VARCHAR(64) PRIMARY KEY, type VARCHAR(32) NOT NULL, data VARCHAR(2048));
         INSERT INTO items SELECT g, 'item-' || g, g % 13, g * 1.25 FROM generate_series(1, 150) g;",
    )
    .await
    .unwrap();

    let mut pair = Pair::start("pgincr", &[]);
    for (side, who) in [
        (&mut pair.ferry.side, "ferry"),
        (&mut pair.connect.side, "connect"),
    ] {
        side.alias(format!("{who}_incr_pub"), "<publication>");
        side.alias(format!("{who}_incr"), "<slot>");
    }
    pair.exchange_each(
        "POST /connectors (incremental)",
        "POST",
        "/connectors",
        &connector("ferry", &pg, &db),
        &connector("connect", &pg, &db),
    )
    .await;
    pair.wait_both("/connectors/incr/status", tasks_running).await;
    // Both stream (their slots exist) before the signal: a first change shows it.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    sql.batch_execute("INSERT INTO items VALUES (151, 'item-151', 1, 2.50)")
        .await
        .unwrap();
    pair.compare_topic("streaming before the signal", "inc.public.items", 1);

    // The signal and a pause in one transaction: the first chunk (read when the signal is
    // processed) goes out, then the snapshot waits.
    sql.batch_execute(
        r#"BEGIN;
           INSERT INTO dbz_signal VALUES ('ad-hoc-1', 'execute-snapshot',
             '{"data-collections": ["public.items"], "type": "incremental"}');
           INSERT INTO dbz_signal VALUES ('pause-1', 'pause-snapshot', NULL);
           COMMIT;"#,
    )
    .await
    .unwrap();
    pair.compare_topic("first chunk, then paused", "inc.public.items", 1 + 40);
    // A change while paused: its offset (the last one stored) holds the snapshot's progress
    // (incremental_snapshot_primary_key = 40, maximum key 151, collections, correlation id).
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    sql.batch_execute("UPDATE items SET qty = 98 WHERE id = 3")
        .await
        .unwrap();
    pair.compare_topic("a change while paused", "inc.public.items", 1 + 40 + 1);
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    pair.compare_internal_topic("offsets topic while paused", "offsets");
    // Not a vacuous match: both stored offsets hold the snapshot's progress.
    let topic = format!("{}-offsets", pair.prefix);
    for (who, broker) in [("ferry", &pair.ferry.broker), ("connect", &pair.connect.broker)] {
        let records = broker.consume_until_idle(&topic, std::time::Duration::from_secs(2));
        let last = records.last().and_then(|r| r.value.clone()).expect("an offset");
        let offset: serde_json::Value = serde_json::from_slice(&last).unwrap();
        // Java's serialization of new Object[]{Integer.valueOf(40)} (after the first chunk).
        let pk = offset["incremental_snapshot_primary_key"]
            .as_str()
            .unwrap_or_default();
        assert!(
            pk.starts_with("aced0005") && pk.ends_with("787000000028"),
            "{who}: {offset}"
        );
        assert_eq!(
            offset["incremental_snapshot_correlation_id"], "ad-hoc-1",
            "{who}: {offset}"
        );
    }

    sql.batch_execute("INSERT INTO dbz_signal VALUES ('resume-1', 'resume-snapshot', NULL)")
        .await
        .unwrap();
    // The other 111 rows, in three more chunks.
    pair.compare_topic("resumed to the end", "inc.public.items", 1 + 40 + 1 + 111);

    // Once both finished, one more change: the last offsets are the same event's.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    sql.batch_execute("UPDATE items SET qty = 99 WHERE id = 7")
        .await
        .unwrap();
    pair.compare_topic(
        "streaming after the snapshot",
        "inc.public.items",
        1 + 40 + 1 + 111 + 1,
    );
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    pair.compare_internal_topic("offsets topic after the snapshot", "offsets");
    // The notifications: the initial snapshot's SKIPPED (snapshot.mode=no_data); then
    // STARTED, IN_PROGRESS (first chunk), PAUSED, RESUMED, IN_PROGRESS for the three other
    // chunks, TABLE_SCAN_COMPLETED (151 rows), COMPLETED.
    pair.compare_topic("notifications", "inc.notifications", 10);

    pair.report.finish("incremental_snapshot", &[]);
    assert!(
        pair.report.records >= 150,
        "compared only {} records",
        pair.report.records
    );
}
