//! Change events as Debezium emits them: INSERT/UPDATE/DELETE/TRUNCATE under
//! REPLICA IDENTITY DEFAULT and FULL, rolled-back transactions, schema changes
//! mid-stream and unchanged TOASTed values.

mod common;

use std::time::Duration;

use common::*;
use ferry_core::{Record, Value};
use ferry_test_support::postgres::PgCluster;

const WAIT: Duration = Duration::from_secs(20);

fn s(v: &str) -> Value {
    Value::String(v.into())
}

fn ops(recs: &[Record]) -> Vec<Option<String>> {
    recs.iter().map(op).collect()
}

fn value_json(r: &Record) -> ferry_core::serde_json::Value {
    parse(&to_json(r).1.expect("a value"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_identity_insert_update_delete_truncate() {
    let pg = PgCluster::shared();
    let db = pg.create_database("chg_default").await;
    let c = pg.connect(&db).await;
    c.batch_execute("CREATE TABLE t (id int PRIMARY KEY, name text NOT NULL, qty int)")
        .await
        .unwrap();
    let cfg = config(
        pg,
        &db,
        "chg_default",
        &[("snapshot.mode", "no_data"), ("skipped.operations", "none")],
    );
    let mut t = start(&cfg, &MemOffsets::default()).await;
    // One statement per transaction (a multi-statement simple query is one transaction).
    for sql in [
        "INSERT INTO t VALUES (1, 'a', 10)",
        "UPDATE t SET qty = 11 WHERE id = 1",
        "BEGIN; INSERT INTO t VALUES (99, 'rolled back', 0); UPDATE t SET qty = 0; ROLLBACK",
        "UPDATE t SET id = 2 WHERE id = 1",
        "DELETE FROM t WHERE id = 2",
        "INSERT INTO t VALUES (3, 'c', 30)",
        "TRUNCATE t",
    ] {
        c.batch_execute(sql).await.unwrap();
    }
    // c, u, (d, tombstone, c) for the key change, d, tombstone, c, t
    let recs = poll_until(&mut t, 9, WAIT).await;
    let extra = poll_for(&mut t, Duration::from_millis(700)).await;
    assert!(
        extra.is_empty(),
        "nothing more (the rolled-back insert is not emitted): {extra:?}"
    );
    t.stop().await.unwrap();
    let o = |v: &str| Some(v.to_string());
    assert_eq!(
        ops(&recs),
        [o("c"), o("u"), o("d"), None, o("c"), o("d"), None, o("c"), o("t")]
    );
    let j: Vec<_> = recs.iter().map(|r| r.value.clone()).collect();
    // INSERT: no before, the whole row after.
    assert_eq!(field(&j[0], &["before"]), &Value::Null);
    assert_eq!(
        compact(&value_json(&recs[0])["payload"]["after"]),
        r#"{"id":1,"name":"a","qty":10}"#
    );
    // UPDATE under DEFAULT: no old row.
    assert_eq!(field(&j[1], &["before"]), &Value::Null);
    assert_eq!(
        compact(&value_json(&recs[1])["payload"]["after"]),
        r#"{"id":1,"name":"a","qty":11}"#
    );
    // Key change: delete of the old key (before = the old key; other columns are not in the
    // old key tuple: nullable ones null, required ones their type's fallback, as Debezium's
    // converters give), tombstone, create of the new key.
    assert_eq!(
        compact(&value_json(&recs[2])["payload"]["before"]),
        r#"{"id":1,"name":"","qty":null}"#
    );
    assert_eq!(field(&recs[3].key, &["id"]), &Value::Int32(1));
    assert_eq!(
        compact(&value_json(&recs[4])["payload"]["after"]),
        r#"{"id":2,"name":"a","qty":11}"#
    );
    assert!(recs[2].headers.iter().any(|h| h.key == "__debezium.newkey"));
    assert!(recs[4].headers.iter().any(|h| h.key == "__debezium.oldkey"));
    // DELETE under DEFAULT: before has the primary key only.
    assert_eq!(
        compact(&value_json(&recs[5])["payload"]["before"]),
        r#"{"id":2,"name":"","qty":null}"#
    );
    assert_eq!(field(&j[5], &["after"]), &Value::Null);
    assert_eq!(recs[6].value, Value::Null);
    assert_eq!(field(&recs[6].key, &["id"]), &Value::Int32(2));
    // TRUNCATE: no key, no before/after, the table's topic and source.
    let tr = &recs[8];
    assert_eq!(&*tr.topic, "srv.public.t");
    assert!(tr.key_schema.is_none() && tr.key == Value::Null);
    assert_eq!(to_json(tr).0, None);
    assert_eq!(field(&tr.value, &["before"]), &Value::Null);
    assert_eq!(field(&tr.value, &["after"]), &Value::Null);
    assert_eq!(field(&tr.value, &["source", "table"]), &s("t"));
    assert!(matches!(field(&tr.value, &["source", "txId"]), Value::Int64(_)));
    assert_eq!(offset_of(tr).get("messageType").unwrap(), "TRUNCATE");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncate_is_skipped_by_default() {
    let pg = PgCluster::shared();
    let db = pg.create_database("chg_trunc_skip").await;
    let c = pg.connect(&db).await;
    c.batch_execute("CREATE TABLE t (id int PRIMARY KEY); CREATE TABLE u (id int PRIMARY KEY)")
        .await
        .unwrap();
    let cfg = config(pg, &db, "chg_trunc_skip", &[("snapshot.mode", "no_data")]);
    let mut t = start(&cfg, &MemOffsets::default()).await;
    c.batch_execute("INSERT INTO t VALUES (1); TRUNCATE t, u; INSERT INTO t VALUES (2);")
        .await
        .unwrap();
    let recs = poll_until(&mut t, 2, WAIT).await;
    let extra = poll_for(&mut t, Duration::from_millis(500)).await;
    t.stop().await.unwrap();
    assert_eq!(ops(&recs), [Some("c".into()), Some("c".into())]);
    assert!(extra.is_empty(), "{extra:?}");

    // With t allowed, one event per truncated table.
    let cfg = config(
        pg,
        &db,
        "chg_trunc_two",
        &[("snapshot.mode", "no_data"), ("skipped.operations", "c")],
    );
    let mut t = start(&cfg, &MemOffsets::default()).await;
    c.batch_execute("INSERT INTO t VALUES (3); TRUNCATE t, u;")
        .await
        .unwrap();
    let recs = poll_until(&mut t, 2, WAIT).await;
    t.stop().await.unwrap();
    assert_eq!(ops(&recs), [Some("t".into()), Some("t".into())]);
    let topics: Vec<&str> = recs.iter().map(|r| &*r.topic).collect();
    assert_eq!(topics, ["srv.public.t", "srv.public.u"]);
    // Both at the same LSN: the second is the second event there (the first, like every
    // offset of Debezium 3.6.3, has no count).
    assert_eq!(offset_of(&recs[0]).get("lsn_events_processed"), None);
    assert_eq!(offset_of(&recs[1]).get("lsn_events_processed").unwrap(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_identity_before_images_and_toast() {
    let pg = PgCluster::shared();
    let db = pg.create_database("chg_full").await;
    let c = pg.connect(&db).await;
    c.batch_execute(
        "CREATE TABLE t (id int PRIMARY KEY, name text, qty int, big text); \
         ALTER TABLE t ALTER COLUMN big SET STORAGE EXTERNAL; \
         ALTER TABLE t REPLICA IDENTITY FULL;",
    )
    .await
    .unwrap();
    let cfg = config(pg, &db, "chg_full", &[("snapshot.mode", "no_data")]);
    let mut t = start(&cfg, &MemOffsets::default()).await;
    c.batch_execute(
        "INSERT INTO t VALUES (1, 'a', 10, repeat('x', 10000)); \
         UPDATE t SET qty = 11 WHERE id = 1; \
         DELETE FROM t WHERE id = 1;",
    )
    .await
    .unwrap();
    let recs = poll_until(&mut t, 4, WAIT).await;
    t.stop().await.unwrap();
    let o = |v: &str| Some(v.to_string());
    assert_eq!(ops(&recs), [o("c"), o("u"), o("d"), None]);
    let big = "x".repeat(10000);
    let row = |qty: i32| format!(r#"{{"id":1,"name":"a","qty":{qty},"big":"{big}"}}"#);
    let u = value_json(&recs[1]);
    assert_eq!(compact(&u["payload"]["before"]), row(10));
    // The TOASTed value is unchanged, so the new tuple does not carry it: it comes from the old row.
    assert_eq!(compact(&u["payload"]["after"]), row(11));
    let d = value_json(&recs[2]);
    assert_eq!(compact(&d["payload"]["before"]), row(11));
    assert_eq!(d["payload"]["after"], ferry_core::serde_json::Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_identity_unchanged_toast_becomes_placeholder() {
    let pg = PgCluster::shared();
    let db = pg.create_database("chg_toast").await;
    let c = pg.connect(&db).await;
    c.batch_execute(
        "CREATE TABLE t (id int PRIMARY KEY, qty int, big text, bin bytea, ints int[], texts text[], doc jsonb); \
         ALTER TABLE t ALTER COLUMN big SET STORAGE EXTERNAL; \
         ALTER TABLE t ALTER COLUMN bin SET STORAGE EXTERNAL; \
         ALTER TABLE t ALTER COLUMN ints SET STORAGE EXTERNAL; \
         ALTER TABLE t ALTER COLUMN texts SET STORAGE EXTERNAL; \
         ALTER TABLE t ALTER COLUMN doc SET STORAGE EXTERNAL;",
    )
    .await
    .unwrap();
    for (slot, placeholder) in [
        ("chg_toast_default", None),
        ("chg_toast_custom", Some("UNAVAILABLE")),
    ] {
        let mut settings = vec![("snapshot.mode", "no_data")];
        if let Some(p) = placeholder {
            settings.push(("unavailable.value.placeholder", p));
        }
        let cfg = config(pg, &db, slot, &settings);
        let mut t = start(&cfg, &MemOffsets::default()).await;
        c.batch_execute(
            "DELETE FROM t; \
             INSERT INTO t SELECT 1, 10, repeat('y', 9000), decode(repeat('ab', 5000), 'hex'), \
               (SELECT array_agg(g) FROM generate_series(1, 3000) g), \
               (SELECT array_agg(md5(g::text)) FROM generate_series(1, 300) g), \
               (SELECT jsonb_object_agg(g::text, md5(g::text)) FROM generate_series(1, 300) g); \
             UPDATE t SET qty = 11 WHERE id = 1;",
        )
        .await
        .unwrap();
        let recs = poll_while(&mut t, WAIT, |r| r.iter().any(|r| op(r).as_deref() == Some("u"))).await;
        t.stop().await.unwrap();
        let u = recs.iter().find(|r| op(r).as_deref() == Some("u")).unwrap();
        let p = placeholder.unwrap_or("__debezium_unavailable_value");
        let j = value_json(u);
        let after = &j["payload"]["after"];
        assert_eq!(after["qty"], 11);
        assert_eq!(after["big"], p, "{slot}");
        assert_eq!(after["doc"], p, "{slot}");
        assert_eq!(compact(&after["texts"]), format!(r#"["{p}"]"#));
        // Bytes: the placeholder's bytes (base64 in JSON); int[]: the placeholder's bytes as ints.
        use base64::Engine;
        assert_eq!(
            after["bin"],
            base64::engine::general_purpose::STANDARD.encode(p.as_bytes())
        );
        let ints: Vec<String> = p.bytes().map(|b| b.to_string()).collect();
        assert_eq!(compact(&after["ints"]), format!("[{}]", ints.join(",")));
        assert_eq!(j["payload"]["before"], ferry_core::serde_json::Value::Null);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_change_mid_stream_uses_the_new_schema() {
    let pg = PgCluster::shared();
    let db = pg.create_database("chg_schema").await;
    let c = pg.connect(&db).await;
    c.batch_execute("CREATE TABLE t (id int PRIMARY KEY, a text, b int)")
        .await
        .unwrap();
    let cfg = config(pg, &db, "chg_schema", &[("snapshot.mode", "no_data")]);
    let mut t = start(&cfg, &MemOffsets::default()).await;
    c.batch_execute("INSERT INTO t VALUES (1, 'one', 1)")
        .await
        .unwrap();
    let first = poll_until(&mut t, 1, WAIT).await;
    c.batch_execute(
        "ALTER TABLE t ADD COLUMN c varchar(20) NOT NULL DEFAULT 'dflt'; \
         INSERT INTO t VALUES (2, 'two', 2, 'cee'); \
         UPDATE t SET a = 'uno' WHERE id = 1;",
    )
    .await
    .unwrap();
    let second = poll_until(&mut t, 2, WAIT).await;
    c.batch_execute("ALTER TABLE t DROP COLUMN b; INSERT INTO t VALUES (3, 'three', 'c3');")
        .await
        .unwrap();
    let third = poll_until(&mut t, 1, WAIT).await;
    t.stop().await.unwrap();
    let after_fields = |r: &Record| -> Vec<String> {
        r.value_schema
            .as_ref()
            .unwrap()
            .field("after")
            .unwrap()
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().to_string())
            .collect()
    };
    assert_eq!(after_fields(&first[0]), ["id", "a", "b"]);
    assert_eq!(
        compact(&value_json(&first[0])["payload"]["after"]),
        r#"{"id":1,"a":"one","b":1}"#
    );
    assert_eq!(after_fields(&second[0]), ["id", "a", "b", "c"]);
    assert_eq!(
        compact(&value_json(&second[0])["payload"]["after"]),
        r#"{"id":2,"a":"two","b":2,"c":"cee"}"#
    );
    assert_eq!(
        compact(&value_json(&second[1])["payload"]["after"]),
        r#"{"id":1,"a":"uno","b":1,"c":"dflt"}"#
    );
    assert_eq!(after_fields(&third[0]), ["id", "a", "c"]);
    assert_eq!(
        compact(&value_json(&third[0])["payload"]["after"]),
        r#"{"id":3,"a":"three","c":"c3"}"#
    );
    // The added column's default is in its schema, as Debezium reads it from the catalog.
    let c_schema = value_json(&third[0])["schema"]["fields"][1]["fields"][2].clone();
    assert_eq!(
        compact(&c_schema),
        r#"{"type":"string","optional":false,"default":"dflt","field":"c"}"#
    );
}
