//! The source engine against an in-memory cluster: acknowledgements, offset
//! flushes, error tolerance and topic creation, step by step.

use std::time::{Duration, Instant};

use ferry_core::{CommittedOffset, Record};
use ferry_kafka::memory::{MemoryCluster, TopicLayout};
use ferry_kafka::records::State;

use super::SourceEngine;
use crate::engine::testing::{map, source_record, CallLog, Harness, ScriptedSource, OFFSETS_TOPIC};

type Engine = SourceEngine<ferry_kafka::memory::MemoryProducer>;

async fn start(h: &Harness, batches: Vec<Vec<Record>>) -> (Engine, CallLog) {
    let calls = CallLog::default();
    let task = ScriptedSource {
        batches,
        calls: calls.clone(),
    };
    let engine = SourceEngine::start(&h.env, Box::new(task), &h.cluster)
        .await
        .unwrap_or_else(|e| panic!("start failed: {e}"));
    (engine, calls)
}

async fn send_all(h: &Harness, engine: &mut Engine, records: Vec<Record>) {
    for r in records {
        engine.send(&h.env, r).await.unwrap();
    }
}

fn committed_positions(calls: &CallLog) -> Vec<Vec<i64>> {
    calls
        .lock()
        .unwrap()
        .commits
        .iter()
        .map(|c| c.iter().map(position).collect())
        .collect()
}

fn position(c: &CommittedOffset) -> i64 {
    c.offset["pos"].as_i64().unwrap()
}

fn values(cluster: &MemoryCluster, topic: &str) -> Vec<String> {
    cluster
        .records(topic)
        .into_iter()
        .map(|r| String::from_utf8(r.value.unwrap()).unwrap())
        .collect()
}

#[tokio::test]
async fn an_offset_becomes_committable_only_when_every_earlier_record_is_acknowledged() {
    let h = Harness::new(&[], &[]);
    h.cluster.hold_acks(true);
    let (mut engine, calls) = start(&h, Vec::new()).await;
    let part = map("part", 0);
    send_all(
        &h,
        &mut engine,
        (1..=3)
            .map(|i| source_record("t", 0, i, &format!("v{i}")))
            .collect(),
    )
    .await;
    assert_eq!(h.cluster.held_acks(), vec![0, 1, 2]);

    // The last record is acknowledged first: nothing before it is durable yet.
    h.cluster.release_ack(2);
    engine.drain_acks(&h.env).await.unwrap();
    engine.maybe_flush(&h.env, true).await;
    assert_eq!(h.stored_offset(&part), None);
    assert!(
        committed_positions(&calls).is_empty(),
        "commit() is not called with nothing durable"
    );

    h.cluster.release_ack(0);
    engine.drain_acks(&h.env).await.unwrap();
    engine.maybe_flush(&h.env, true).await;
    assert_eq!(h.stored_offset(&part), Some(map("pos", 1)));
    assert_eq!(committed_positions(&calls), vec![vec![1]]);

    h.cluster.release_ack(1);
    engine.drain_acks(&h.env).await.unwrap();
    engine.maybe_flush(&h.env, true).await;
    assert_eq!(h.stored_offset(&part), Some(map("pos", 3)));
    assert_eq!(committed_positions(&calls), vec![vec![1], vec![3]]);
    assert_eq!(
        values(&h.cluster, "t"),
        vec!["v3", "v1", "v2"],
        "records land as acknowledged"
    );
}

#[tokio::test]
async fn offsets_flush_on_the_interval_and_on_stop_and_commit_gets_exactly_the_durable_ones() {
    let h = Harness::new(&[("offset.flush.interval.ms", "60000")], &[]);
    let (mut engine, calls) = start(&h, Vec::new()).await;
    send_all(
        &h,
        &mut engine,
        vec![
            source_record("t", 0, 1, "a"),
            source_record("t", 1, 7, "b"),
            source_record("t", 0, 2, "c"),
        ],
    )
    .await;
    engine.drain_acks(&h.env).await.unwrap();
    engine.maybe_flush(&h.env, false).await;
    assert!(
        h.cluster.records(OFFSETS_TOPIC).is_empty(),
        "the interval has not passed"
    );

    engine.last_flush = Instant::now() - Duration::from_secs(61);
    engine.maybe_flush(&h.env, false).await;
    assert_eq!(h.stored_offset(&map("part", 0)), Some(map("pos", 2)));
    assert_eq!(h.stored_offset(&map("part", 1)), Some(map("pos", 7)));
    let mut first = committed_positions(&calls).remove(0);
    first.sort();
    assert_eq!(first, vec![2, 7]);
    // The offsets topic holds Connect's key and value bytes.
    let stored = h.cluster.records(OFFSETS_TOPIC);
    assert!(stored
        .iter()
        .any(|r| r.key.as_deref() == Some(&br#"["c",{"part":0}]"#[..])
            && r.value.as_deref() == Some(&br#"{"pos":2}"#[..])));

    // Only what changed since is written and committed at stop.
    send_all(&h, &mut engine, vec![source_record("t", 1, 8, "d")]).await;
    let before = h.cluster.records(OFFSETS_TOPIC).len();
    engine.shutdown_impl(&h.env, false).await;
    assert_eq!(h.cluster.records(OFFSETS_TOPIC).len(), before + 1);
    assert_eq!(h.stored_offset(&map("part", 1)), Some(map("pos", 8)));
    assert_eq!(committed_positions(&calls)[1], vec![8]);
    assert!(calls.lock().unwrap().stopped);
}

#[tokio::test]
async fn a_failed_offset_flush_shows_in_the_status_and_is_retried() {
    let h = Harness::new(&[], &[]);
    let (mut engine, calls) = start(&h, Vec::new()).await;
    send_all(&h, &mut engine, vec![source_record("t", 0, 1, "a")]).await;
    engine.drain_acks(&h.env).await.unwrap();
    h.cluster
        .fail_writes(OFFSETS_TOPIC, Some("Broker: Not enough in-sync replicas"));
    engine.maybe_flush(&h.env, true).await;
    assert_eq!(
        h.status(),
        Some((
            State::Running,
            Some(
                "Offsets could not be flushed to Kafka: could not write to topic connect-offsets: \
                 Broker: Not enough in-sync replicas"
                    .into()
            )
        ))
    );
    assert!(committed_positions(&calls).is_empty());

    h.cluster.fail_writes(OFFSETS_TOPIC, None);
    engine.maybe_flush(&h.env, true).await;
    assert_eq!(h.stored_offset(&map("part", 0)), Some(map("pos", 1)));
    assert_eq!(committed_positions(&calls), vec![vec![1]]);
    assert_eq!(
        h.status(),
        Some((State::Running, None)),
        "a good flush clears the trouble"
    );
}

#[tokio::test]
async fn a_slow_offset_flush_gives_up_after_the_flush_timeout() {
    let h = Harness::new(&[("offset.flush.timeout.ms", "30")], &[]);
    let (mut engine, calls) = start(&h, Vec::new()).await;
    send_all(&h, &mut engine, vec![source_record("t", 0, 1, "a")]).await;
    engine.drain_acks(&h.env).await.unwrap();
    h.cluster
        .slow_writes(OFFSETS_TOPIC, Some(Duration::from_millis(500)));
    engine.maybe_flush(&h.env, true).await;
    assert_eq!(
        h.status().unwrap().1.as_deref(),
        Some("Offsets could not be flushed to Kafka within offset.flush.timeout.ms (30 ms)")
    );
    assert!(committed_positions(&calls).is_empty());
    assert_eq!(h.stored_offset(&map("part", 0)), None);
}

#[tokio::test]
async fn a_failed_acknowledgement_under_tolerance_none_fails_the_task_with_connects_trace() {
    // Stopping waits this long for the acknowledgement that never comes.
    let h = Harness::new(&[("task.shutdown.graceful.timeout.ms", "1000")], &[]);
    h.cluster.hold_acks(true);
    let (mut engine, calls) = start(&h, Vec::new()).await;
    send_all(
        &h,
        &mut engine,
        vec![source_record("t", 0, 1, "a"), source_record("t", 0, 2, "b")],
    )
    .await;
    h.cluster.release_ack(1);
    h.cluster.fail_ack(0, "Broker: Message size too large");
    let err = engine.drain_acks(&h.env).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "org.apache.kafka.connect.errors.ConnectException: Tolerance exceeded in error handler\n\
         Caused by: Error in stage KAFKA_PRODUCE (org.apache.kafka.clients.producer.KafkaProducer) \
         for record #0 of task 0: Broker: Message size too large"
    );
    engine.shutdown_impl(&h.env, true).await;
    assert_eq!(
        h.stored_offset(&map("part", 0)),
        None,
        "nothing after the failed record is committed"
    );
    assert!(committed_positions(&calls).is_empty());
}

#[tokio::test]
async fn a_failed_acknowledgement_under_tolerance_all_is_skipped_counted_and_passed() {
    let h = Harness::new(&[], &[("errors.tolerance", "all")]);
    h.cluster.hold_acks(true);
    let (mut engine, calls) = start(&h, Vec::new()).await;
    send_all(
        &h,
        &mut engine,
        vec![source_record("t", 0, 1, "a"), source_record("t", 0, 2, "b")],
    )
    .await;
    h.cluster.fail_ack(0, "Broker: Message size too large");
    h.cluster.release_ack(1);
    engine.drain_acks(&h.env).await.unwrap();
    assert_eq!(engine.errors.skipped(), 1);
    engine.maybe_flush(&h.env, true).await;
    assert_eq!(h.stored_offset(&map("part", 0)), Some(map("pos", 2)));
    assert_eq!(committed_positions(&calls), vec![vec![2]]);
    assert_eq!(values(&h.cluster, "t"), vec!["b"]);
}

#[tokio::test]
async fn a_send_the_client_refuses_fails_the_task_naming_the_source_position() {
    let h = Harness::new(&[], &[]);
    let (mut engine, _) = start(&h, Vec::new()).await;
    h.cluster.fail_sends(Some("Broker: Invalid message"));
    let err = engine
        .send(&h.env, source_record("t", 3, 9, "a"))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "org.apache.kafka.connect.errors.ConnectException: Tolerance exceeded in error handler\n\
         Caused by: Error in stage KAFKA_PRODUCE (org.apache.kafka.clients.producer.KafkaProducer) \
         for record source partition {\"part\":3} offset {\"pos\":9}: Broker: Invalid message"
    );
}

#[tokio::test]
async fn a_full_client_queue_is_waited_out() {
    let h = Harness::new(&[], &[]);
    let (mut engine, _) = start(&h, Vec::new()).await;
    h.cluster.fill_queue(3);
    send_all(&h, &mut engine, vec![source_record("t", 0, 1, "a")]).await;
    assert_eq!(values(&h.cluster, "t"), vec!["a"]);
}

#[tokio::test]
async fn destination_topics_are_created_before_their_first_record_and_tracked() {
    let h = Harness::new(
        &[],
        &[
            ("topic.creation.default.partitions", "3"),
            ("topic.creation.default.replication.factor", "1"),
            ("topic.creation.default.cleanup.policy", "compact"),
        ],
    );
    h.cluster.hold_acks(true);
    let (mut engine, _) = start(&h, Vec::new()).await;
    send_all(&h, &mut engine, vec![source_record("orders", 0, 1, "a")]).await;
    // The record is not written yet (its acknowledgement is held): the admin made the topic.
    assert!(h.cluster.records("orders").is_empty());
    assert_eq!(
        h.cluster.topic_layout("orders"),
        Some(TopicLayout::new(3, Some(1), &[("cleanup.policy", "compact")]))
    );
    assert_eq!(h.env.worker.status.active_topics("c"), vec!["orders".to_string()]);
}

#[tokio::test]
async fn kafka_silence_shows_in_the_status_until_an_acknowledgement_arrives() {
    let h = Harness::new(&[], &[]);
    h.cluster.hold_acks(true);
    let (mut engine, _) = start(&h, Vec::new()).await;
    send_all(&h, &mut engine, vec![source_record("t", 0, 1, "a")]).await;
    engine.last_ack = Instant::now() - Duration::from_secs(12);
    engine.drain_acks(&h.env).await.unwrap();
    assert_eq!(
        h.status(),
        Some((
            State::Running,
            Some(
                "Kafka has acknowledged nothing for 12 s (1 records waiting); the producer keeps retrying"
                    .into()
            )
        ))
    );
    h.cluster.release_ack(0);
    engine.drain_acks(&h.env).await.unwrap();
    assert_eq!(h.status(), Some((State::Running, None)));
}

#[tokio::test]
async fn a_running_task_moves_records_flushes_on_its_interval_and_stops() {
    let h = Harness::new(&[("offset.flush.interval.ms", "10")], &[]);
    let calls = CallLog::default();
    let task = ScriptedSource {
        batches: vec![
            vec![source_record("t", 0, 1, "a"), source_record("t", 0, 2, "b")],
            vec![source_record("t", 0, 3, "c")],
        ],
        calls: calls.clone(),
    };
    let env = h.restarted_env();
    let cancel = env.cancel.clone();
    let cluster = h.cluster.clone();
    let run = tokio::spawn(async move { super::run_with(env, Box::new(task), &cluster).await });
    crate::engine::testing::eventually("offset 3 stored", || {
        h.stored_offset(&map("part", 0)) == Some(map("pos", 3))
    })
    .await;
    cancel.cancel();
    run.await.unwrap();
    assert_eq!(values(&h.cluster, "t"), vec!["a", "b", "c"]);
    assert!(calls.lock().unwrap().stopped);
    assert_eq!(h.status().map(|s| s.0), Some(State::Running));
    // The keys went through the worker's StringConverter.
    let keys: Vec<Vec<u8>> = h
        .cluster
        .records("t")
        .into_iter()
        .map(|r| r.key.unwrap())
        .collect();
    assert_eq!(keys, vec![b"k1".to_vec(), b"k2".to_vec(), b"k3".to_vec()]);
}

#[tokio::test]
async fn a_failing_task_run_ends_failed_with_the_trace() {
    let h = Harness::new(&[("task.shutdown.graceful.timeout.ms", "1000")], &[]);
    h.cluster.fail_sends(Some("Broker: Invalid message"));
    let task = ScriptedSource {
        batches: vec![vec![source_record("t", 0, 1, "a")]],
        calls: CallLog::default(),
    };
    let env = h.restarted_env();
    super::run_with(env, Box::new(task), &h.cluster).await;
    let (state, trace) = h.status().unwrap();
    assert_eq!(state, State::Failed);
    assert!(trace
        .unwrap()
        .ends_with("for record source partition {\"part\":0} offset {\"pos\":1}: Broker: Invalid message"),);
}

#[tokio::test]
async fn records_a_transform_drops_still_advance_the_committed_offset() {
    let h = Harness::new(
        &[],
        &[
            ("transforms", "drop"),
            (
                "transforms.drop.type",
                "org.apache.kafka.connect.transforms.Filter",
            ),
        ],
    );
    let (mut engine, calls) = start(&h, Vec::new()).await;
    send_all(
        &h,
        &mut engine,
        vec![source_record("t", 0, 1, "a"), source_record("t", 0, 2, "b")],
    )
    .await;
    assert_eq!(engine.submitted.outstanding(), 0);
    engine.maybe_flush(&h.env, true).await;
    assert_eq!(h.stored_offset(&map("part", 0)), Some(map("pos", 2)));
    assert_eq!(committed_positions(&calls), vec![vec![2]]);
    assert!(
        !h.cluster.has_topic("t"),
        "nothing was sent, so no topic was made"
    );
}
