//! Debezium's TimescaleDb transform against a private PostgreSQL 15. TimescaleDB itself
//! is not installed here, so the database holds the part of its catalog the transform
//! reads (`_timescaledb_catalog.hypertable`, `chunk`, `continuous_agg`, with TimescaleDB's
//! column names) and real chunk tables in `_timescaledb_internal`, whose change events
//! come from the connector.

mod common;

use std::time::Duration;

use common::{config, field, start, MemOffsets, SourceTask};
use ferry_core::{ConfigMap, Record, Transformation, Value};
use ferry_postgres::transforms::timescaledb::TimescaleDb;
use ferry_test_support::postgres::{PgCluster, TIMESCALEDB_CATALOG};

fn header<'a>(r: &'a Record, name: &str) -> Option<&'a str> {
    match r.headers.last_with_name(name).map(|h| &h.value) {
        Some(Value::String(s)) => Some(s),
        _ => None,
    }
}

fn transform(pg: &PgCluster, db: &str, port: u16) -> TimescaleDb {
    let mut t = TimescaleDb::default();
    let mut c = ConfigMap::new();
    for (k, v) in [
        ("database.hostname", "127.0.0.1".to_string()),
        ("database.port", port.to_string()),
        ("database.user", "postgres".to_string()),
        ("database.password", "postgres".to_string()),
        ("database.dbname", db.to_string()),
        ("target.topic.prefix", "tsdb".to_string()),
    ] {
        c.insert(k.into(), v);
    }
    let _ = pg;
    t.configure(&c).expect("configure");
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunk_events_are_routed_to_their_hypertable_or_aggregate() {
    let pg = PgCluster::shared();
    let db = pg.create_database("timescale").await;
    let c = pg.connect(&db).await;
    c.batch_execute(&format!(
        "{TIMESCALEDB_CATALOG}
         CREATE TABLE _timescaledb_internal._hyper_1_3_chunk (id int PRIMARY KEY, temp int);"
    ))
    .await
    .unwrap();
    let store = MemOffsets::default();
    let mut task = start(
        &config(
            pg,
            &db,
            "timescale",
            &[
                ("snapshot.mode", "no_data"),
                ("table.include.list", "public\\..*,_timescaledb_internal\\..*"),
            ],
        ),
        &store,
    )
    .await;
    c.batch_execute(
        "INSERT INTO _timescaledb_internal._hyper_1_1_chunk VALUES (1, 20);
         INSERT INTO _timescaledb_internal._hyper_2_2_chunk VALUES (2, 21);
         INSERT INTO public.conditions VALUES (3, 22);
         INSERT INTO _timescaledb_internal._hyper_9_9_chunk VALUES (4, 23);",
    )
    .await
    .unwrap();
    let recs = common::poll_until(&mut task, 4, Duration::from_secs(30)).await;
    assert_eq!(recs.len(), 4, "{recs:?}");
    let mut t = transform(pg, &db, pg.port());
    let out: Vec<Record> = recs.into_iter().map(|r| t.apply(r).unwrap().unwrap()).collect();

    // A hypertable's chunk: topic, source and the chunk headers.
    assert_eq!(&*out[0].topic, "tsdb.public.conditions");
    assert_eq!(
        field(&out[0].value, &["source", "schema"]),
        &Value::String("public".into())
    );
    assert_eq!(
        field(&out[0].value, &["source", "table"]),
        &Value::String("conditions".into())
    );
    assert_eq!(
        header(&out[0], "__debezium_timescaledb_chunk_table"),
        Some("_hyper_1_1_chunk")
    );
    assert_eq!(
        header(&out[0], "__debezium_timescaledb_chunk_schema"),
        Some("_timescaledb_internal")
    );
    assert_eq!(header(&out[0], "__debezium_timescaledb_hypertable_table"), None);
    // A continuous aggregate's chunk: the view, and the materialised hypertable's headers.
    assert_eq!(&*out[1].topic, "tsdb.public.conditions_summary");
    assert_eq!(
        field(&out[1].value, &["source", "table"]),
        &Value::String("conditions_summary".into())
    );
    assert_eq!(
        header(&out[1], "__debezium_timescaledb_hypertable_table"),
        Some("_materialized_hypertable_2")
    );
    assert_eq!(
        header(&out[1], "__debezium_timescaledb_hypertable_schema"),
        Some("_timescaledb_internal")
    );
    // Outside schema.list, and a chunk the catalog does not know: unchanged.
    let untouched = |r: &Record| header(r, "__debezium_timescaledb_chunk_table").is_none();
    assert_eq!(&*out[2].topic, "srv.public.conditions");
    assert!(untouched(&out[2]));
    assert_eq!(&*out[3].topic, "srv._timescaledb_internal._hyper_9_9_chunk");
    assert!(untouched(&out[3]));

    // A chunk created later is found by reading the catalog again.
    c.batch_execute(
        "INSERT INTO _timescaledb_catalog.chunk VALUES (3, 1, '_timescaledb_internal', '_hyper_1_3_chunk');
         INSERT INTO _timescaledb_internal._hyper_1_3_chunk VALUES (5, 24);",
    )
    .await
    .unwrap();
    let later = common::poll_until(&mut task, 1, Duration::from_secs(30)).await;
    let routed = t
        .apply(later.into_iter().next().expect("the new chunk's event"))
        .unwrap()
        .unwrap();
    assert_eq!(&*routed.topic, "tsdb.public.conditions");
    assert_eq!(
        header(&routed, "__debezium_timescaledb_chunk_table"),
        Some("_hyper_1_3_chunk")
    );

    // A catalog that cannot be read fails the record, saying so.
    let mut unreachable = transform(pg, &db, ferry_test_support::net::free_port());
    let chunk_event = {
        c.batch_execute("INSERT INTO _timescaledb_internal._hyper_1_1_chunk VALUES (6, 25);")
            .await
            .unwrap();
        common::poll_until(&mut task, 1, Duration::from_secs(30))
            .await
            .remove(0)
    };
    let err = unreachable.apply(chunk_event).unwrap_err();
    assert!(
        err.to_string().contains("Failed to read TimescaleDB metadata"),
        "{err}"
    );
    task.stop().await.unwrap();
}
