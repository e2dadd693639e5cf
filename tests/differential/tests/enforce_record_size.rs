//! Debezium's EnforceRecordSize on Ferry and on the real Kafka Connect 4.3 with Debezium
//! 3.6.3: streamed PostgreSQL changes, some over `max.bytes`, whose long text and bytea
//! columns (in `after`, and in `before` with REPLICA IDENTITY FULL) are cut in proportion
//! by the same amounts, Debezium's size estimate included; its definition too. (No decimal
//! column: Debezium 3.6.3 fails the task on an over-limit event with one, a
//! `ClassCastException` from BigDecimal to ByteBuffer; Ferry leaves decimals alone.)

use ferry_differential::pair::Pair;
use ferry_differential::postgres::{self, tasks_running};
use ferry_test_support::postgres::PgCluster;
use serde_json::json;

const CLASS: &str = "io.debezium.transforms.EnforceRecordSize";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enforce_record_size_truncates_as_debezium_does() {
    let pg = PgCluster::start();
    let db = pg.create_database("enforce").await;
    let sql = pg.connect(&db).await;
    sql.batch_execute(
        "CREATE TABLE docs (id INT PRIMARY KEY, title TEXT, body TEXT, blob BYTEA, qty INT);
         ALTER TABLE docs REPLICA IDENTITY FULL;",
    )
    .await
    .unwrap();

    let mut pair = Pair::start("pgenforce", &[]);
    for (side, who) in [
        (&mut pair.ferry.side, "ferry"),
        (&mut pair.connect.side, "connect"),
    ] {
        side.alias(format!("{who}_enforce_pub"), "<publication>");
        side.alias(format!("{who}_enforce"), "<slot>");
    }
    let path = format!("/connector-plugins/{CLASS}/config");
    pair.exchange("GET EnforceRecordSize config", "GET", &path, None)
        .await;
    let extra = json!({
        "topic.prefix": "enf",
        "table.include.list": "public.docs",
        "transforms": "size",
        "transforms.size.type": CLASS,
        "transforms.size.max.bytes": "3000",
        "transforms.size.min.field.size": "100",
    });
    pair.exchange_each(
        "POST /connectors (enforce)",
        "POST",
        "/connectors",
        &postgres::connector("enforce", "ferry", &pg, &db, &extra),
        &postgres::connector("enforce", "connect", &pg, &db, &extra),
    )
    .await;
    pair.wait_both("/connectors/enforce/status", tasks_running).await;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    sql.batch_execute(
        "INSERT INTO docs VALUES (1, 'small', 'short body', '\\x0102', 12);
         INSERT INTO docs VALUES (2, 'long body', repeat('b', 5000), NULL, 99999);
         INSERT INTO docs VALUES (3, repeat('t', 150), repeat('é', 2000), decode(repeat('ab', 3000), 'hex'), -1);
         UPDATE docs SET title = repeat('u', 800) WHERE id = 2;
         DELETE FROM docs WHERE id = 3;",
    )
    .await
    .unwrap();
    // 3 inserts, 1 update, 1 delete and its tombstone.
    pair.compare_topic("docs through EnforceRecordSize", "enf.public.docs", 6);
    pair.exchange("GET status", "GET", "/connectors/enforce/status", None)
        .await;
    pair.report.finish("enforce_record_size", &[]);
    assert!(
        pair.report.records >= 6,
        "compared only {} records",
        pair.report.records
    );
}
