//! End-to-end tests against a private PostgreSQL 15 cluster.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{commit_all, config, field, offset_of, poll_until, slot_flush, start, MemOffsets};
use ferry_core::{CancellationToken, OffsetMap, SourceTask, SourceTaskContext, Value};
use ferry_postgres::PostgresSourceTask;
use ferry_test_support::postgres::PgCluster;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_then_stream_with_debezium_shapes() {
    let pg = PgCluster::shared();
    let db = pg.create_database("snap_stream").await;
    let c = pg.connect(&db).await;
    c.batch_execute(
        "CREATE TABLE public.orders (id int PRIMARY KEY, name varchar(50) NOT NULL, amount numeric(10,2), \
         created timestamptz, data jsonb, tags text[]); \
         COMMENT ON COLUMN public.orders.name IS 'customer name'; \
         INSERT INTO public.orders VALUES (1, 'a', 1.5, '2024-01-02 03:04:05+00', '{\"k\": 1}', '{x,y}'), (2, 'b', NULL, NULL, NULL, NULL);",
    )
    .await
    .unwrap();
    let store = MemOffsets::default();
    let cfg = config(pg, &db, "snap_stream", &[]);
    let mut t = start(&cfg, &store).await;
    let snap = poll_until(&mut t, 2, Duration::from_secs(20)).await;
    assert_eq!(snap.len(), 2);
    assert_eq!(&*snap[0].topic, "srv.public.orders");
    assert_eq!(field(&snap[0].value, &["op"]), &Value::String("r".into()));
    assert_eq!(
        field(&snap[0].value, &["source", "snapshot"]),
        &Value::String("first".into())
    );
    assert_eq!(
        field(&snap[1].value, &["source", "snapshot"]),
        &Value::String("last".into())
    );
    let vs = snap[0].value_schema.as_ref().unwrap();
    assert_eq!(vs.name(), Some("srv.public.orders.Envelope"));
    let names: Vec<&str> = vs.fields().iter().map(|f| f.name()).collect();
    assert_eq!(
        names,
        [
            "before",
            "after",
            "source",
            "transaction",
            "op",
            "ts_ms",
            "ts_us",
            "ts_ns"
        ]
    );
    // Debezium 3.6's context headers, one run id for the task run.
    let headers: Vec<(&str, &Value)> = snap[0]
        .headers
        .iter()
        .map(|h| (h.key.as_str(), &h.value))
        .collect();
    assert_eq!(headers.len(), 4);
    assert_eq!(
        headers[0],
        (
            "__debezium.context.connectorLogicalName",
            &Value::String("srv".into())
        )
    );
    assert_eq!(
        headers[1],
        ("__debezium.context.taskId", &Value::String("0".into()))
    );
    assert_eq!(
        headers[2],
        (
            "__debezium.context.connectorName",
            &Value::String("postgresql".into())
        )
    );
    assert_eq!(headers[3].0, "__debezium.context.runId");
    assert_eq!(snap[1].headers, snap[0].headers);
    assert_eq!(
        field(&snap[0].value, &["source", "version"]),
        &Value::String(ferry_core::versions::DEBEZIUM.into())
    );
    let row = vs.field("after").unwrap().schema();
    assert_eq!(row.name(), Some("srv.public.orders.Value"));
    let cols: Vec<&str> = row.fields().iter().map(|f| f.name()).collect();
    assert_eq!(cols, ["id", "name", "amount", "created", "data", "tags"]);
    // Debezium's PostgreSQL connector reads no column comments: no doc.
    assert_eq!(row.field("name").unwrap().schema().doc(), None);
    assert!(!row.field("name").unwrap().schema().is_optional());
    assert_eq!(
        row.field("data").unwrap().schema().name(),
        Some("io.debezium.data.Json")
    );
    assert_eq!(
        snap[0].key_schema.as_ref().unwrap().name(),
        Some("srv.public.orders.Key")
    );
    assert_eq!(field(&snap[0].key, &["id"]), &Value::Int32(1));
    assert_eq!(
        field(&snap[0].value, &["after", "created"]),
        &Value::String("2024-01-02T03:04:05.000000Z".into())
    );
    assert_eq!(
        field(&snap[0].value, &["after", "tags"]),
        &Value::Array(vec![Value::String("x".into()), Value::String("y".into())])
    );
    let src = vs.field("source").unwrap().schema();
    let src_fields: Vec<&str> = src.fields().iter().map(|f| f.name()).collect();
    assert_eq!(
        src_fields,
        [
            "version",
            "connector",
            "name",
            "ts_ms",
            "snapshot",
            "db",
            "sequence",
            "ts_us",
            "ts_ns",
            "schema",
            "table",
            "txId",
            "lsn",
            "xmin",
            "origin",
            "origin_lsn"
        ]
    );
    let off = offset_of(&snap[1]);
    assert_eq!(off.get("snapshot").unwrap(), "INITIAL");
    assert_eq!(off.get("last_snapshot_record").unwrap(), true);
    commit_all(&mut t, &snap, &store).await;

    c.batch_execute(
        "INSERT INTO public.orders (id, name) VALUES (3, 'c'); \
         UPDATE public.orders SET name = 'bb' WHERE id = 2; \
         DELETE FROM public.orders WHERE id = 1;",
    )
    .await
    .unwrap();
    let recs = poll_until(&mut t, 4, Duration::from_secs(20)).await;
    let ops: Vec<Value> = recs
        .iter()
        .map(|r| {
            if r.value.is_null() {
                Value::Null
            } else {
                field(&r.value, &["op"]).clone()
            }
        })
        .collect();
    assert_eq!(
        ops,
        [
            Value::String("c".into()),
            Value::String("u".into()),
            Value::String("d".into()),
            Value::Null
        ]
    );
    assert_eq!(
        field(&recs[0].value, &["after", "name"]),
        &Value::String("c".into())
    );
    assert_eq!(field(&recs[1].value, &["before"]), &Value::Null);
    assert_eq!(field(&recs[2].value, &["before", "id"]), &Value::Int32(1));
    assert_eq!(field(&recs[3].key, &["id"]), &Value::Int32(1));
    let off = offset_of(&recs[0]);
    let keys: Vec<&str> = off.keys().map(String::as_str).collect();
    // First transaction after the snapshot: no lsn_commit yet (as Debezium).
    assert_eq!(keys, ["lsn_proc", "messageType", "lsn", "txId", "ts_usec"]);
    assert_eq!(off.get("messageType").unwrap(), "INSERT");
    let src = field(&recs[0].value, &["source"]).as_struct().unwrap();
    assert_eq!(src.get("connector"), Some(&Value::String("postgresql".into())));
    assert_eq!(src.get("db"), Some(&Value::String(db.clone())));
    assert!(matches!(src.get("lsn"), Some(Value::Int64(_))));

    // The slot only moves after commit().
    let before = slot_flush(&c, "snap_stream").await;
    commit_all(&mut t, &recs, &store).await;
    let _ = poll_until(&mut t, 1, Duration::from_secs(2)).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut after = before.clone();
    while after == before && Instant::now() < deadline {
        let _ = t.poll().await.unwrap();
        after = slot_flush(&c, "snap_stream").await;
    }
    assert_ne!(before, after, "slot confirmed_flush_lsn advanced after commit");
    t.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_resumes_without_gap_or_duplicate() {
    let pg = PgCluster::shared();
    let db = pg.create_database("restart").await;
    let c = pg.connect(&db).await;
    c.batch_execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
        .await
        .unwrap();
    let store = MemOffsets::default();
    let cfg = config(pg, &db, "restart", &[("snapshot.mode", "no_data")]);
    let mut t = start(&cfg, &store).await;
    c.batch_execute("BEGIN; INSERT INTO t SELECT g, 'x' FROM generate_series(1, 5) g; COMMIT; INSERT INTO t VALUES (6, 'y');")
        .await
        .unwrap();
    let recs = poll_until(&mut t, 6, Duration::from_secs(20)).await;
    assert_eq!(recs.len(), 6);
    // Only the first three are durable when the task stops.
    commit_all(&mut t, &recs[..3], &store).await;
    t.stop().await.unwrap();

    let mut t = start(&cfg, &store).await;
    let again = poll_until(&mut t, 3, Duration::from_secs(20)).await;
    let ids: Vec<Value> = again.iter().map(|r| field(&r.key, &["id"]).clone()).collect();
    assert_eq!(ids, [Value::Int32(4), Value::Int32(5), Value::Int32(6)]);
    let extra = poll_until(&mut t, 1, Duration::from_secs(2)).await;
    assert!(extra.is_empty(), "no duplicates: {extra:?}");
    t.stop().await.unwrap();
    // Each task start is a new run: a new __debezium.context.runId, the same for all of
    // a run's records.
    let run_id = |r: &ferry_core::Record| {
        r.headers
            .last_with_name("__debezium.context.runId")
            .map(|h| h.value.clone())
            .expect("a runId header")
    };
    assert!(recs.iter().all(|r| run_id(r) == run_id(&recs[0])));
    assert!(again.iter().all(|r| run_id(r) == run_id(&again[0])));
    assert_ne!(run_id(&recs[0]), run_id(&again[0]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_errors_name_cause_and_fix() {
    let pg = PgCluster::shared();
    let db = pg.create_database("faults").await;
    // Offsets exist but the slot does not.
    let store = MemOffsets::default();
    let mut stored = OffsetMap::new();
    stored.insert("lsn".into(), 1234.into());
    stored.insert("lsn_proc".into(), 1234.into());
    *store.0.lock().unwrap() = Some(stored);
    let cfg = config(pg, &db, "missing_slot", &[]);
    let mut t = PostgresSourceTask::new();
    let err = t
        .start(
            &cfg,
            SourceTaskContext {
                connector: "pg".into(),
                task: 0,
                offsets: Arc::new(store.clone()),
                shutdown: CancellationToken::new(),
            },
        )
        .await
        .expect_err("fails");
    assert!(
        err.message().contains("does not exist although offsets exist"),
        "{err}"
    );

    // A non-superuser cannot create a FOR ALL TABLES publication.
    pg.create_user("plain", "plain", true).await;
    let mut cfg = config(pg, &db, "perm_slot", &[]);
    cfg.insert("database.user".into(), "plain".into());
    cfg.insert("database.password".into(), "plain".into());
    let mut t = PostgresSourceTask::new();
    let err = t
        .start(
            &cfg,
            SourceTaskContext {
                connector: "pg".into(),
                task: 0,
                offsets: Arc::new(MemOffsets::default()),
                shutdown: CancellationToken::new(),
            },
        )
        .await
        .expect_err("fails");
    assert!(err.message().contains("Cannot create publication"), "{err}");
}
