//! `provide.transaction.metadata`: BEGIN/END records on `PREFIX.transaction`, the
//! envelope's `transaction` block and the transaction counters in the offsets, as
//! Debezium's TransactionMetadataIT expects them; plus the offsets of events that
//! yield several records.

mod common;

use std::time::Duration;

use common::{commit_all, config, field, offset_of, op, parse, poll_until, start, to_json, MemOffsets};
use ferry_core::serde_json::Value as Json;
use ferry_core::{Record, SourceTask, Value};
use ferry_test_support::postgres::PgCluster;

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => panic!("not a string: {other:?}"),
    }
}

fn i(v: &Value) -> i64 {
    match v {
        Value::Int64(n) => *n,
        other => panic!("not an int64: {other:?}"),
    }
}

fn is_tx(r: &Record) -> bool {
    &*r.topic == "srv.transaction"
}

fn status(r: &Record) -> String {
    s(field(&r.value, &["status"]))
}

fn block(r: &Record) -> (String, i64, i64) {
    (
        s(field(&r.value, &["transaction", "id"])),
        i(field(&r.value, &["transaction", "total_order"])),
        i(field(&r.value, &["transaction", "data_collection_order"])),
    )
}

fn offset_json(r: &Record) -> Json {
    ferry_core::serde_json::to_value(&*offset_of(r)).unwrap()
}

/// A database with tables s1.a and s2.a (as in Debezium's TransactionMetadataIT) and a
/// connector configuration for it with transaction metadata on.
async fn two_tables_with_metadata(name: &str) -> (tokio_postgres::Client, ferry_core::ConfigMap) {
    let pg = PgCluster::shared();
    let db = pg.create_database(name).await;
    let c = pg.connect(&db).await;
    c.batch_execute(
        "CREATE SCHEMA s1; CREATE SCHEMA s2; \
         CREATE TABLE s1.a (pk serial PRIMARY KEY, aa int); CREATE TABLE s2.a (pk serial PRIMARY KEY, aa int);",
    )
    .await
    .unwrap();
    let cfg = config(
        pg,
        &db,
        name,
        &[
            ("snapshot.mode", "no_data"),
            ("provide.transaction.metadata", "true"),
        ],
    );
    (c, cfg)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn begin_events_end_as_debezium() {
    let (c, cfg) = two_tables_with_metadata("txmeta").await;
    let store = MemOffsets::default();
    let mut t = start(&cfg, &store).await;
    // s2.a first: the END record lists tables in Debezium's HashMap order, not first-seen order.
    c.batch_execute("BEGIN; INSERT INTO s2.a (aa) VALUES (1); INSERT INTO s1.a (aa) VALUES (2); INSERT INTO s2.a (aa) VALUES (3); COMMIT;")
        .await
        .unwrap();
    let recs = poll_until(&mut t, 5, Duration::from_secs(20)).await;
    assert_eq!(recs.len(), 5, "{recs:#?}");
    let topics: Vec<&str> = recs.iter().map(|r| &*r.topic).collect();
    assert_eq!(
        topics,
        [
            "srv.transaction",
            "srv.s2.a",
            "srv.s1.a",
            "srv.s2.a",
            "srv.transaction"
        ]
    );
    let xid = match field(&recs[1].value, &["source", "txId"]) {
        Value::Int64(x) => *x,
        v => panic!("txId {v:?}"),
    };
    let lsn_of = |r: &Record| i(field(&r.value, &["source", "lsn"]));
    let commit_ms = i(field(&recs[1].value, &["source", "ts_ms"]));

    // BEGIN: id `xid:lsn` of its first message (the first change on PostgreSQL 15).
    let begin = &recs[0];
    assert_eq!(status(begin), "BEGIN");
    let begin_id = format!("{xid}:{}", lsn_of(&recs[1]));
    assert_eq!(s(field(&begin.value, &["id"])), begin_id);
    assert_eq!(s(field(&begin.key, &["id"])), begin_id);
    assert_eq!(field(&begin.value, &["event_count"]), &Value::Null);
    assert_eq!(field(&begin.value, &["data_collections"]), &Value::Null);
    assert_eq!(i(field(&begin.value, &["ts_ms"])), commit_ms);
    let (k, v) = to_json(begin);
    assert_eq!(
        k.unwrap(),
        format!(
            r#"{{"schema":{{"type":"struct","fields":[{{"type":"string","optional":false,"field":"id"}}],"optional":false,"name":"io.debezium.connector.common.TransactionMetadataKey","version":1}},"payload":{{"id":"{begin_id}"}}}}"#
        )
    );
    assert_eq!(
        v.unwrap(),
        format!(
            concat!(
                r#"{{"schema":{{"type":"struct","fields":[{{"type":"string","optional":false,"field":"status"}},"#,
                r#"{{"type":"string","optional":false,"field":"id"}},{{"type":"int64","optional":true,"field":"event_count"}},"#,
                r#"{{"type":"array","items":{{"type":"struct","fields":[{{"type":"string","optional":false,"field":"data_collection"}},"#,
                r#"{{"type":"int64","optional":false,"field":"event_count"}}],"optional":true,"name":"event.collection","version":1}},"optional":true,"field":"data_collections"}},"#,
                r#"{{"type":"int64","optional":false,"field":"ts_ms"}}],"optional":false,"name":"io.debezium.connector.common.TransactionMetadataValue","version":1}},"#,
                r#""payload":{{"status":"BEGIN","id":"{}","event_count":null,"data_collections":null,"ts_ms":{}}}}}"#
            ),
            begin_id, commit_ms
        )
    );
    let off = offset_json(begin);
    assert_eq!(off["transaction_id"], Json::String(xid.to_string()));
    assert_eq!(off["messageType"], "BEGIN");

    // Change events: the block's id carries each event's own LSN; orders count per
    // transaction and per table, and the offset carries the counts.
    assert_eq!(block(&recs[1]), (format!("{xid}:{}", lsn_of(&recs[1])), 1, 1));
    assert_eq!(block(&recs[2]), (format!("{xid}:{}", lsn_of(&recs[2])), 2, 1));
    assert_eq!(block(&recs[3]), (format!("{xid}:{}", lsn_of(&recs[3])), 3, 2));
    let off = offset_json(&recs[2]);
    assert_eq!(off["transaction_id"], Json::String(xid.to_string()));
    assert_eq!(off["transaction_data_collection_order_s2.a"], 1);
    assert_eq!(off["transaction_data_collection_order_s1.a"], 1);
    let (_, v) = to_json(&recs[3]);
    let v = parse(&v.unwrap());
    let tx_schema = v["schema"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == "transaction")
        .unwrap()
        .to_string();
    assert_eq!(
        tx_schema,
        r#"{"type":"struct","fields":[{"type":"string","optional":false,"field":"id"},{"type":"int64","optional":false,"field":"total_order"},{"type":"int64","optional":false,"field":"data_collection_order"}],"optional":true,"name":"event.block","version":1,"field":"transaction"}"#
    );

    // END: id with the commit's LSN (the offset's), totals, per-table counts.
    let end = &recs[4];
    assert_eq!(status(end), "END");
    let off = offset_json(end);
    let end_id = format!("{xid}:{}", off["lsn"]);
    assert_eq!(s(field(&end.value, &["id"])), end_id);
    assert_eq!(s(field(&end.key, &["id"])), end_id);
    assert_eq!(i(field(&end.value, &["event_count"])), 3);
    assert_eq!(i(field(&end.value, &["ts_ms"])), commit_ms);
    let (_, v) = to_json(end);
    let v = parse(&v.unwrap());
    assert_eq!(
        v["payload"]["data_collections"].to_string(),
        r#"[{"data_collection":"s1.a","event_count":1},{"data_collection":"s2.a","event_count":2}]"#
    );
    assert_eq!(off["messageType"], "COMMIT");
    assert_eq!(off["transaction_id"], Json::String(xid.to_string()));
    assert_eq!(off["transaction_data_collection_order_s2.a"], 2);

    // The next transaction starts fresh; a delete is one event (its tombstone is not counted).
    // One simple-query batch is one transaction.
    c.batch_execute("DELETE FROM s1.a; INSERT INTO s1.a (aa) VALUES (4);")
        .await
        .unwrap();
    let recs = poll_until(&mut t, 5, Duration::from_secs(20)).await;
    let shape: Vec<(String, Option<String>)> = recs
        .iter()
        .map(|r| {
            if is_tx(r) {
                (status(r), None)
            } else {
                (r.topic.to_string(), op(r))
            }
        })
        .collect();
    assert_eq!(
        shape,
        [
            ("BEGIN".to_string(), None),
            ("srv.s1.a".to_string(), Some("d".to_string())),
            ("srv.s1.a".to_string(), None),
            ("srv.s1.a".to_string(), Some("c".to_string())),
            ("END".to_string(), None),
        ]
    );
    assert_ne!(s(field(&recs[0].value, &["id"])), end_id);
    assert_eq!((block(&recs[1]).1, block(&recs[1]).2), (1, 1));
    assert_eq!((block(&recs[3]).1, block(&recs[3]).2), (2, 2));
    assert_eq!(i(field(&recs[4].value, &["event_count"])), 2);
    // The delete's record carries the offset from before it, its tombstone the one after.
    assert_eq!(offset_json(&recs[1]), offset_json(&recs[0]));
    assert_eq!(offset_json(&recs[2])["transaction_data_collection_order_s1.a"], 1);
    assert!(offset_json(&recs[0])
        .get("transaction_data_collection_order_s1.a")
        .is_none());
    t.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_mid_transaction_continues_counters_without_a_second_begin() {
    let (c, cfg) = two_tables_with_metadata("txmeta_restart").await;
    let store = MemOffsets::default();
    let mut t = start(&cfg, &store).await;
    let mut sql = String::from("BEGIN;");
    for n in 0..10 {
        sql.push_str(&format!(
            "INSERT INTO s1.a (aa) VALUES ({n}); INSERT INTO s2.a (aa) VALUES ({n});"
        ));
    }
    sql.push_str("COMMIT;");
    c.batch_execute(&sql).await.unwrap();
    let recs = poll_until(&mut t, 22, Duration::from_secs(20)).await;
    assert_eq!(recs.len(), 22);
    // BEGIN and seven events are durable when the task stops.
    commit_all(&mut t, &recs[..8], &store).await;
    t.stop().await.unwrap();

    let mut t = start(&cfg, &store).await;
    let again = poll_until(&mut t, 14, Duration::from_secs(20)).await;
    assert_eq!(again.len(), 14, "13 events and END, no second BEGIN: {again:#?}");
    assert!(!is_tx(&again[0]), "no BEGIN after the restart");
    let orders: Vec<i64> = again[..13].iter().map(|r| block(r).1).collect();
    assert_eq!(orders, (8..=20).collect::<Vec<i64>>());
    // Per-table orders continue too: event 8 is the 4th of s2.a.
    assert_eq!(&*again[0].topic, "srv.s2.a");
    assert_eq!(block(&again[0]).2, 4);
    let end = &again[13];
    assert_eq!(status(end), "END");
    assert_eq!(i(field(&end.value, &["event_count"])), 20);
    let (_, v) = to_json(end);
    assert_eq!(
        parse(&v.unwrap())["payload"]["data_collections"].to_string(),
        r#"[{"data_collection":"s1.a","event_count":10},{"data_collection":"s2.a","event_count":10}]"#
    );
    t.stop().await.unwrap();
}

/// A key change is delete, tombstone, create at one LSN. If only the delete is durable
/// when the worker dies, the restart must emit the create (and may repeat the delete).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_between_the_records_of_a_key_change_loses_nothing() {
    let pg = PgCluster::shared();
    let db = pg.create_database("keychange_restart").await;
    let c = pg.connect(&db).await;
    c.batch_execute("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'x');")
        .await
        .unwrap();
    let store = MemOffsets::default();
    let cfg = config(pg, &db, "keychange_restart", &[("snapshot.mode", "no_data")]);
    let mut t = start(&cfg, &store).await;
    c.batch_execute("INSERT INTO t VALUES (2, 'y'); UPDATE t SET id = 100 WHERE id = 1;")
        .await
        .unwrap();
    let recs = poll_until(&mut t, 4, Duration::from_secs(20)).await;
    let ops: Vec<Option<String>> = recs.iter().map(op).collect();
    assert_eq!(ops, [Some("c".into()), Some("d".into()), None, Some("c".into())]);
    // Only the insert and the delete half are durable.
    commit_all(&mut t, &recs[..2], &store).await;
    t.stop().await.unwrap();

    let mut t = start(&cfg, &store).await;
    let again = poll_until(&mut t, 3, Duration::from_secs(20)).await;
    let ops: Vec<Option<String>> = again.iter().map(op).collect();
    assert_eq!(ops, [Some("d".into()), None, Some("c".into())]);
    assert_eq!(field(&again[2].key, &["id"]), &Value::Int32(100));
    t.stop().await.unwrap();
}
