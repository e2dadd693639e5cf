//! Logical decoding messages (`pg_logical_emit_message`) become `op: m` events on
//! `PREFIX.message`, as Debezium's LogicalDecodingMessageMonitor writes them.

mod common;

use std::time::Duration;

use common::{commit_all, config, field, offset_of, op, parse, poll_until, start, to_json, MemOffsets};
use ferry_core::serde_json::Value as Json;
use ferry_core::{SourceTask, Value};
use ferry_test_support::postgres::PgCluster;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_in_and_outside_transactions_filtered_by_prefix() {
    let pg = PgCluster::shared();
    let db = pg.create_database("ldmsg").await;
    let c = pg.connect(&db).await;
    c.batch_execute("CREATE TABLE t (id int PRIMARY KEY)")
        .await
        .unwrap();
    let store = MemOffsets::default();
    let cfg = config(
        pg,
        &db,
        "ldmsg",
        &[
            ("snapshot.mode", "no_data"),
            ("message.prefix.exclude.list", "noise.*"),
        ],
    );
    let mut t = start(&cfg, &store).await;
    c.batch_execute(
        "BEGIN; INSERT INTO t VALUES (1); SELECT pg_logical_emit_message(true, 'outbox', 'hello'); \
         SELECT pg_logical_emit_message(true, 'noise.x', 'dropped'); COMMIT; \
         SELECT pg_logical_emit_message(false, 'audit', 'x');",
    )
    .await
    .unwrap();
    let recs = poll_until(&mut t, 3, Duration::from_secs(20)).await;
    assert_eq!(recs.len(), 3, "{recs:#?}");
    let topics: Vec<&str> = recs.iter().map(|r| &*r.topic).collect();
    assert_eq!(topics, ["srv.public.t", "srv.message", "srv.message"]);
    let xid = field(&recs[0].value, &["source", "txId"]).clone();

    // In a transaction: its txId and commit time, the message's own LSN.
    let m = &recs[1];
    assert_eq!(op(m).as_deref(), Some("m"));
    assert_eq!(field(&m.value, &["source", "txId"]), &xid);
    assert_eq!(
        field(&m.value, &["source", "ts_ms"]),
        field(&recs[0].value, &["source", "ts_ms"])
    );
    let (k, v) = to_json(m);
    assert_eq!(
        k.unwrap(),
        r#"{"schema":{"type":"struct","fields":[{"type":"string","optional":true,"field":"prefix"}],"optional":false,"name":"io.debezium.connector.postgresql.MessageKey","version":1},"payload":{"prefix":"outbox"}}"#
    );
    let v = parse(&v.unwrap());
    let fields: Vec<&str> = v["schema"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["op", "ts_ms", "source", "transaction", "message"]);
    assert_eq!(
        v["schema"]["name"],
        "io.debezium.connector.postgresql.MessageValue"
    );
    assert_eq!(
        v["schema"]["fields"][4].to_string(),
        r#"{"type":"struct","fields":[{"type":"string","optional":true,"field":"prefix"},{"type":"bytes","optional":true,"field":"content"}],"optional":false,"name":"io.debezium.connector.postgresql.Message","version":1,"field":"message"}"#
    );
    assert_eq!(
        v["payload"]["message"].to_string(),
        r#"{"prefix":"outbox","content":"aGVsbG8="}"#
    );
    assert_eq!(v["payload"]["source"]["schema"], "");
    assert_eq!(v["payload"]["source"]["table"], "");
    assert_eq!(v["payload"]["transaction"], Json::Null);

    // Outside a transaction: no txId, and the offset commits at the message.
    let m = &recs[2];
    assert_eq!(field(&m.value, &["source", "txId"]), &Value::Null);
    assert_eq!(
        field(&m.value, &["message", "prefix"]),
        &Value::String("audit".into())
    );
    let off = offset_of(m);
    assert_eq!(off["messageType"], "MESSAGE");
    assert_eq!(off["lsn_commit"], off["lsn"]);
    assert!(off.get("txId").is_none(), "{off:?}");
    commit_all(&mut t, &recs, &store).await;
    t.stop().await.unwrap();

    // A restart from there emits neither message again.
    let mut t = start(&cfg, &store).await;
    c.batch_execute("INSERT INTO t VALUES (2)").await.unwrap();
    let again = poll_until(&mut t, 1, Duration::from_secs(20)).await;
    let ops: Vec<Option<String>> = again.iter().map(op).collect();
    assert_eq!(ops, [Some("c".to_string())]);
    t.stop().await.unwrap();
}
