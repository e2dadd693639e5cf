//! Blocking snapshots (`execute-snapshot` of type `blocking`) against a private
//! PostgreSQL 15: streaming stops at the signal, the tables are read with Debezium's
//! markers and offsets, streaming resumes where it stopped, and a restart in the middle
//! streams on instead of snapshotting again.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{commit_all, config, field, offset_of, op, start, MemOffsets, SourceTask};
use ferry_core::serde_json::Value as Json;
use ferry_core::{Record, Value};
use ferry_test_support::postgres::PgCluster;

fn int(v: &Value) -> i64 {
    match v {
        Value::Int32(i) => i64::from(*i),
        Value::Int64(i) => *i,
        other => panic!("not an integer: {other:?}"),
    }
}

fn text(v: &Value) -> &str {
    match v {
        Value::String(s) => s,
        other => panic!("not a string: {other:?}"),
    }
}

fn is_update_of(r: &Record, topic: &str, id: i64) -> bool {
    &*r.topic == topic && op(r).as_deref() == Some("u") && int(field(&r.key, &["id"])) == id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocking_snapshot_pauses_streaming_reads_the_tables_and_resumes() {
    let pg = PgCluster::shared();
    let db = pg.create_database("blocking_snap").await;
    let c = pg.connect(&db).await;
    c.batch_execute(
        "CREATE TABLE public.a (id int PRIMARY KEY, v bigint NOT NULL); \
         CREATE TABLE public.b (id int PRIMARY KEY, v bigint NOT NULL); \
         CREATE TABLE public.dbz_signal (id varchar(64) PRIMARY KEY, type varchar(32) NOT NULL, data varchar(2048)); \
         INSERT INTO public.a SELECT g, g FROM generate_series(1, 120) g; \
         INSERT INTO public.b SELECT g, g FROM generate_series(1, 10) g;",
    )
    .await
    .unwrap();
    let cfg = config(
        pg,
        &db,
        "blocking_snap",
        &[
            ("snapshot.mode", "no_data"),
            ("signal.data.collection", "public.dbz_signal"),
            ("snapshot.fetch.size", "50"),
            ("notification.enabled.channels", "sink"),
            ("notification.sink.topic.name", "notes"),
        ],
    );
    let store = MemOffsets::default();
    let mut t = start(&cfg, &store).await;
    c.batch_execute("UPDATE public.a SET v = -1 WHERE id = 1")
        .await
        .unwrap();
    // Patterns match whole names case-insensitively; b's additional condition is the
    // whole SELECT that reads it, as Debezium takes it for a blocking snapshot.
    c.execute(
        "INSERT INTO public.dbz_signal VALUES ('blk-1', 'execute-snapshot', $1)",
        &[&r#"{"data-collections": ["PUBLIC\\.(a|b)", "public.dbz_signal"], "type": "blocking",
              "additional-conditions": [{"data-collection": "public.b", "filter": "SELECT * FROM public.b WHERE id <= 3"}]}"#],
    )
    .await
    .unwrap();
    c.batch_execute("UPDATE public.a SET v = -2 WHERE id = 2")
        .await
        .unwrap();
    let recs = common::poll_while(&mut t, Duration::from_secs(60), |rs| {
        rs.iter().any(|r| is_update_of(r, "srv.public.a", 2))
    })
    .await;
    let pos = |pred: &dyn Fn(&Record) -> bool| recs.iter().position(pred);
    let first_update = pos(&|r| is_update_of(r, "srv.public.a", 1)).expect("the update before the signal");
    let signal = pos(&|r| &*r.topic == "srv.public.dbz_signal").expect("the signal's own event");
    let second_update = pos(&|r| is_update_of(r, "srv.public.a", 2)).expect("streaming resumed");
    let reads: Vec<(usize, &Record)> = recs
        .iter()
        .enumerate()
        .filter(|(_, r)| op(r).as_deref() == Some("r"))
        .collect();
    assert!(first_update < signal, "streamed in order");
    assert!(
        reads.iter().all(|(i, _)| signal < *i && *i < second_update),
        "the snapshot's rows come after the signal and before what was written after it"
    );
    let ids = |topic: &str| -> BTreeSet<i64> {
        reads
            .iter()
            .filter(|(_, r)| &*r.topic == topic)
            .map(|(_, r)| int(field(&r.key, &["id"])))
            .collect()
    };
    assert_eq!(ids("srv.public.a"), (1..=120).collect());
    assert_eq!(
        ids("srv.public.b"),
        (1..=3).collect(),
        "b read with its condition's SELECT"
    );
    assert_eq!(reads.len(), 123, "each row once, the signal table not read");
    let a1 = reads
        .iter()
        .find(|(_, r)| &*r.topic == "srv.public.a" && int(field(&r.key, &["id"])) == 1)
        .unwrap()
        .1;
    assert_eq!(
        int(field(&a1.value, &["after", "v"])),
        -1,
        "the snapshot sees what was committed before it"
    );

    // Debezium's markers: first, true, last_in_data_collection, first_in_data_collection, last.
    let markers: Vec<&str> = reads
        .iter()
        .map(|(_, r)| text(field(&r.value, &["source", "snapshot"])))
        .collect();
    assert_eq!(markers[0], "first");
    assert_eq!(markers[119], "last_in_data_collection");
    assert_eq!(markers[120], "first_in_data_collection");
    assert_eq!(markers[122], "last");
    assert!(markers[1..119].iter().all(|m| *m == "true"));
    // The rows carry the position where streaming stopped, marked BLOCKING; the last one
    // says the snapshot completed.
    for (n, (_, r)) in reads.iter().enumerate() {
        let off = offset_of(r);
        assert_eq!(
            off.get("snapshot"),
            Some(&Json::String("BLOCKING".into())),
            "{off:?}"
        );
        let last = n == reads.len() - 1;
        assert_eq!(off.get("last_snapshot_record"), Some(&Json::Bool(last)));
        assert_eq!(off.get("snapshot_completed"), Some(&Json::Bool(last)));
        assert!(!off.contains_key("transaction_id"));
    }
    let lsn = |r: &Record| offset_of(r).get("lsn").and_then(Json::as_i64).expect("lsn");
    assert!(reads.iter().all(|(_, r)| lsn(r) >= lsn(&recs[signal])));
    assert!(!offset_of(&recs[second_update]).contains_key("snapshot"));
    // Notifications: the initial snapshot's kind, STARTED ... COMPLETED.
    let notes: Vec<&str> = recs
        .iter()
        .filter(|r| &*r.topic == "notes")
        .map(|r| text(field(&r.value, &["type"])))
        .collect();
    assert_eq!(
        notes,
        [
            "SKIPPED", // the initial snapshot's (snapshot.mode=no_data)
            "STARTED",
            "IN_PROGRESS",
            "TABLE_SCAN_COMPLETED",
            "IN_PROGRESS",
            "TABLE_SCAN_COMPLETED",
            "COMPLETED"
        ]
    );
    assert!(recs
        .iter()
        .filter(|r| &*r.topic == "notes")
        .all(|r| text(field(&r.value, &["aggregate_type"])) == "Initial Snapshot"));

    // A restart from an offset in the middle of the snapshot streams on from where the
    // snapshot started: nothing is read again, what was written after the signal comes.
    commit_all(&mut t, &recs[..reads[60].0 + 1], &store).await;
    t.stop().await.unwrap();
    drop(t);
    let mut t = start(&cfg, &store).await;
    c.batch_execute("UPDATE public.a SET v = -3 WHERE id = 3")
        .await
        .unwrap();
    let again = common::poll_while(&mut t, Duration::from_secs(60), |rs| {
        rs.iter().any(|r| is_update_of(r, "srv.public.a", 3))
    })
    .await;
    assert!(
        again.iter().any(|r| is_update_of(r, "srv.public.a", 2)),
        "the change after the signal is streamed"
    );
    assert!(again.iter().any(|r| is_update_of(r, "srv.public.a", 3)));
    assert!(
        again.iter().all(|r| op(r).as_deref() != Some("r")),
        "no snapshot after the restart"
    );
    t.stop().await.unwrap();
}
