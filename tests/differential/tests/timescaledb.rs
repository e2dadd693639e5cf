//! Debezium's TimescaleDb transform on Ferry and on the real Kafka Connect 4.3 with
//! Debezium 3.6.3 (each with its own slot and publication on one database). TimescaleDB
//! is not installed here: the database holds the catalog tables the transform reads
//! (`_timescaledb_catalog.hypertable`, `chunk`, `continuous_agg`) and real chunk tables;
//! both transforms read that catalog over their own `database.*` settings.

use ferry_differential::pair::Pair;
use ferry_differential::postgres::{self, tasks_running};
use ferry_test_support::postgres::{PgCluster, TIMESCALEDB_CATALOG};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timescaledb_routing_matches_debezium() {
    let pg = PgCluster::start();
    let db = pg.create_database("tsdb").await;
    let sql = pg.connect(&db).await;
    sql.batch_execute(TIMESCALEDB_CATALOG).await.unwrap();

    let mut pair = Pair::start("pgtsdb", &[]);
    for (side, who) in [
        (&mut pair.ferry.side, "ferry"),
        (&mut pair.connect.side, "connect"),
    ] {
        side.alias(format!("{who}_tsdb_pub"), "<publication>");
        side.alias(format!("{who}_tsdb"), "<slot>");
    }
    let extra = json!({
        "topic.prefix": "ts",
        "snapshot.mode": "no_data",
        "table.include.list": "public\\..*,_timescaledb_internal\\..*",
        "transforms": "timescaledb",
        "transforms.timescaledb.type": "io.debezium.connector.postgresql.transforms.timescaledb.TimescaleDb",
        "transforms.timescaledb.database.hostname": "127.0.0.1",
        "transforms.timescaledb.database.port": pg.port().to_string(),
        "transforms.timescaledb.database.user": "postgres",
        "transforms.timescaledb.database.password": "postgres",
        "transforms.timescaledb.database.dbname": db,
        "transforms.timescaledb.target.topic.prefix": "tsdb",
    });
    pair.exchange_each(
        "POST /connectors (timescaledb)",
        "POST",
        "/connectors",
        &postgres::connector("tsdb", "ferry", &pg, &db, &extra),
        &postgres::connector("tsdb", "connect", &pg, &db, &extra),
    )
    .await;
    pair.wait_both("/connectors/tsdb/status", tasks_running).await;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    sql.batch_execute(
        "INSERT INTO _timescaledb_internal._hyper_1_1_chunk VALUES (1, 20), (2, 21);
         UPDATE _timescaledb_internal._hyper_1_1_chunk SET temp = 30 WHERE id = 1;
         INSERT INTO _timescaledb_internal._hyper_2_2_chunk VALUES (3, 22);
         INSERT INTO public.conditions VALUES (4, 23);
         INSERT INTO _timescaledb_internal._hyper_9_9_chunk VALUES (5, 24);",
    )
    .await
    .unwrap();
    pair.compare_topic("a hypertable's chunk", "tsdb.public.conditions", 3);
    pair.compare_topic(
        "a continuous aggregate's chunk",
        "tsdb.public.conditions_summary",
        1,
    );
    pair.compare_topic("outside schema.list", "ts.public.conditions", 1);
    pair.compare_topic(
        "a chunk the catalog does not know",
        "ts._timescaledb_internal._hyper_9_9_chunk",
        1,
    );

    pair.report.finish("timescaledb", &[]);
    assert!(
        pair.report.records >= 6,
        "compared only {} records",
        pair.report.records
    );
}
