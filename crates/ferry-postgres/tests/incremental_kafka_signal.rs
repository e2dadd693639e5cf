//! The Kafka signal channel: `execute-snapshot` and `log` as JSON records keyed by
//! `topic.prefix` on a Tansu broker, with the signal table still carrying the watermarks;
//! records with another key or bad JSON are skipped with a log line.

mod common;

use std::time::{Duration, Instant};

use common::{config, field, op, start, MemOffsets, SourceTask};
use ferry_core::Value;
use ferry_test_support::kafka::Tansu;
use ferry_test_support::postgres::PgCluster;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn execute_snapshot_from_the_kafka_signal_topic() {
    let pg = PgCluster::shared();
    let broker = Tansu::shared();
    let db = pg.create_database("incr_kafka").await;
    let c = pg.connect(&db).await;
    c.batch_execute(
        "CREATE TABLE public.t (id int PRIMARY KEY, v int NOT NULL); \
         CREATE TABLE public.dbz_signal (id varchar(64) PRIMARY KEY, type varchar(32) NOT NULL, data varchar(2048)); \
         INSERT INTO public.t SELECT g, g FROM generate_series(1, 300) g;",
    )
    .await
    .unwrap();
    let topic = format!("incr-kafka-signal-{}", std::process::id());
    broker.create_topic(&topic, 1, &[]).await;
    let store = MemOffsets::default();
    let cfg = config(
        pg,
        &db,
        "incr_kafka",
        &[
            ("snapshot.mode", "no_data"),
            ("signal.data.collection", "public.dbz_signal"),
            ("signal.enabled.channels", "kafka"),
            ("signal.kafka.topic", &topic),
            ("signal.kafka.bootstrap.servers", &broker.bootstrap),
            ("signal.kafka.groupId", &format!("g-{topic}")),
            ("incremental.snapshot.chunk.size", "64"),
        ],
    );
    let mut t = start(&cfg, &store).await;
    // The `source` channel is off: a signal row is only a change event.
    c.batch_execute(
        r#"INSERT INTO dbz_signal VALUES ('tbl-1', 'execute-snapshot', '{"data-collections": ["public.t"]}')"#,
    )
    .await
    .unwrap();
    broker
        .produce(
            &topic,
            &[
                (Some(b"another-connector"), Some(br#"{"id": "x", "type": "execute-snapshot", "data": {"data-collections": ["public.t"]}}"#)),
                (Some(b"srv"), Some(b"{not json")),
                (Some(b"srv"), Some(br#"{"id": "k-log", "type": "log", "data": {"message": "kafka signal at {}"}}"#)),
                (Some(b"srv"), Some(br#"{"id": "k-1", "type": "execute-snapshot", "data": {"data-collections": ["public.t"], "type": "INCREMENTAL"}}"#)),
            ],
        )
        .await;
    let mut all = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut done = false;
    while Instant::now() < deadline && !done {
        let batch = t.poll().await.unwrap();
        let seen = all.iter().any(|r: &ferry_core::Record| {
            common::offset_of(r).contains_key("incremental_snapshot_collections")
        });
        done = seen
            && batch
                .iter()
                .any(|r| !common::offset_of(r).contains_key("incremental_snapshot_collections"));
        all.extend(batch);
    }
    assert!(done, "the snapshot requested through Kafka did not finish");
    let keys: Vec<i32> = all
        .iter()
        .filter(|r| op(r).as_deref() == Some("r"))
        .map(|r| match field(&r.key, &["id"]) {
            Value::Int32(i) => *i,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        keys,
        (1..=300).collect::<Vec<_>>(),
        "one snapshot, every row once"
    );
    let correlation = all
        .iter()
        .filter(|r| op(r).as_deref() == Some("r"))
        .map(|r| common::offset_of(r)["incremental_snapshot_correlation_id"].clone())
        .next()
        .unwrap();
    assert_eq!(correlation, "k-1");
    t.stop().await.unwrap();
}
