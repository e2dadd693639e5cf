//! The sink engine against an in-memory cluster: commits after flush, redelivery,
//! error tolerance and the dead letter queue, consumer trouble, pause.

use ferry_kafka::memory::{MemoryCluster, MemoryConsumer, NewRecord, TopicLayout};
use ferry_kafka::records::State;

use super::SinkEngine;
use crate::engine::testing::{eventually, CallLog, Harness, Outcome, ScriptedSink};

type Engine = SinkEngine<MemoryConsumer>;

async fn start(h: &Harness, sink: ScriptedSink) -> Engine {
    SinkEngine::start(&h.env, Box::new(sink), &h.cluster)
        .await
        .unwrap_or_else(|e| panic!("start failed: {e}"))
}

fn produce(cluster: &MemoryCluster, topic: &str, values: &[&str]) {
    for v in values {
        cluster.append(
            topic,
            NewRecord {
                key: Some(b"k".to_vec()),
                value: Some(v.as_bytes().to_vec()),
                ..NewRecord::default()
            },
        );
    }
}

fn puts(calls: &CallLog) -> Vec<Vec<String>> {
    calls.lock().unwrap().puts.clone()
}

/// Polls and puts once, as one turn of the engine's loop does.
async fn turn(h: &Harness, engine: &mut Engine) {
    let batch = engine.poll_batch(&h.env).await.unwrap();
    if !batch.is_empty() {
        engine.put(batch).await.unwrap();
    }
}

#[tokio::test]
async fn offsets_are_committed_only_after_the_task_flushed_them() {
    let h = Harness::new(&[], &[("topics", "in")]);
    h.cluster.create_topic("in", 1);
    produce(&h.cluster, "in", &["a", "b", "c"]);
    let calls = CallLog::default();
    let sink = ScriptedSink {
        calls: calls.clone(),
        flush_failures: vec![Outcome::Retriable("the sink's disk is full")],
        ..ScriptedSink::default()
    };
    let mut engine = start(&h, sink).await;
    turn(&h, &mut engine).await;
    assert_eq!(puts(&calls), vec![vec!["a", "b", "c"]]);

    engine.flush_and_commit().await.unwrap();
    assert!(
        h.cluster.committed("connect-c").is_empty(),
        "flush failed: nothing committed"
    );

    engine.flush_and_commit().await.unwrap();
    let flushes = calls.lock().unwrap().flushes.clone();
    assert_eq!(flushes.len(), 1);
    assert_eq!(flushes[0].values().copied().collect::<Vec<_>>(), vec![3]);
    assert_eq!(h.cluster.committed("connect-c"), vec![("in".to_string(), 0, 3)]);

    // Nothing new: no flush, no commit.
    engine.flush_and_commit().await.unwrap();
    assert_eq!(calls.lock().unwrap().flushes.len(), 1);
}

#[tokio::test]
async fn a_failed_commit_is_retried_and_a_restarted_task_resumes_after_the_committed_offset() {
    let h = Harness::new(&[], &[("topics", "in")]);
    h.cluster.create_topic("in", 1);
    produce(&h.cluster, "in", &["a", "b"]);
    let calls = CallLog::default();
    let mut engine = start(
        &h,
        ScriptedSink {
            calls: calls.clone(),
            ..ScriptedSink::default()
        },
    )
    .await;
    turn(&h, &mut engine).await;
    h.cluster.fail_commits(Some("Broker: Coordinator not available"));
    engine.flush_and_commit().await.unwrap();
    assert!(h.cluster.committed("connect-c").is_empty());
    h.cluster.fail_commits(None);
    engine.flush_and_commit().await.unwrap();
    assert_eq!(h.cluster.committed("connect-c"), vec![("in".to_string(), 0, 2)]);
    engine.shutdown_impl(false).await;
    assert!(calls.lock().unwrap().stopped);

    produce(&h.cluster, "in", &["c"]);
    let calls = CallLog::default();
    let mut engine = start(
        &h,
        ScriptedSink {
            calls: calls.clone(),
            ..ScriptedSink::default()
        },
    )
    .await;
    turn(&h, &mut engine).await;
    assert_eq!(puts(&calls), vec![vec!["c"]]);
}

#[tokio::test]
async fn a_retriable_put_is_redelivered_and_a_fatal_one_fails_with_connects_trace() {
    let h = Harness::new(&[], &[("topics", "in")]);
    h.cluster.create_topic("in", 1);
    produce(&h.cluster, "in", &["a"]);
    let calls = CallLog::default();
    let mut engine = start(
        &h,
        ScriptedSink {
            calls: calls.clone(),
            put_failures: vec![Outcome::Retriable("busy"), Outcome::Fatal("bad row")],
            ..ScriptedSink::default()
        },
    )
    .await;
    let batch = engine.poll_batch(&h.env).await.unwrap();
    let err = engine.put(batch.clone()).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "org.apache.kafka.connect.errors.ConnectException: Exiting WorkerSinkTask due to unrecoverable exception.\n\
         Caused by: bad row"
    );
    engine.put(batch).await.unwrap();
    assert_eq!(puts(&calls), vec![vec!["a"]]);
}

fn json_worker() -> [(&'static str, &'static str); 2] {
    [
        ("value.converter", "org.apache.kafka.connect.json.JsonConverter"),
        ("value.converter.schemas.enable", "false"),
    ]
}

#[tokio::test]
async fn a_bad_record_under_tolerance_all_goes_to_the_dead_letter_queue_with_context_headers() {
    let h = Harness::new(
        &json_worker(),
        &[
            ("topics", "in"),
            ("errors.tolerance", "all"),
            ("errors.deadletterqueue.topic.name", "dlq"),
            ("errors.deadletterqueue.topic.replication.factor", "1"),
            ("errors.deadletterqueue.context.headers.enable", "true"),
        ],
    );
    h.cluster.create_topic("in", 1);
    h.cluster.append(
        "in",
        NewRecord {
            key: Some(b"k1".to_vec()),
            value: Some(b"{not json".to_vec()),
            headers: vec![("trace-id".into(), Some(b"t-1".to_vec()))],
            ..NewRecord::default()
        },
    );
    produce(&h.cluster, "in", &["\"fine\""]);
    let calls = CallLog::default();
    let mut engine = start(
        &h,
        ScriptedSink {
            calls: calls.clone(),
            ..ScriptedSink::default()
        },
    )
    .await;
    assert_eq!(
        h.cluster.topic_layout("dlq"),
        Some(TopicLayout::new(1, Some(1), &[])),
        "created at start"
    );
    turn(&h, &mut engine).await;
    assert_eq!(puts(&calls), vec![vec!["fine"]]);
    assert_eq!(engine.errors.skipped(), 1);

    let dlq = h.cluster.records("dlq");
    assert_eq!(dlq.len(), 1);
    assert_eq!(dlq[0].key.as_deref(), Some(&b"k1"[..]));
    assert_eq!(dlq[0].value.as_deref(), Some(&b"{not json"[..]));
    let header = |name: &str| {
        dlq[0]
            .headers
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.clone())
            .map(|v| String::from_utf8(v).unwrap())
    };
    assert_eq!(dlq[0].headers[0].0, "trace-id", "the original headers come first");
    assert_eq!(header("__connect.errors.topic").as_deref(), Some("in"));
    assert_eq!(header("__connect.errors.partition").as_deref(), Some("0"));
    assert_eq!(header("__connect.errors.offset").as_deref(), Some("0"));
    assert_eq!(header("__connect.errors.connector.name").as_deref(), Some("c"));
    assert_eq!(header("__connect.errors.task.id").as_deref(), Some("0"));
    assert_eq!(
        header("__connect.errors.stage").as_deref(),
        Some("VALUE_CONVERTER")
    );
    assert_eq!(
        header("__connect.errors.class.name").as_deref(),
        Some("org.apache.kafka.connect.json.JsonConverter")
    );
    assert_eq!(
        header("__connect.errors.exception.class.name").as_deref(),
        Some("org.apache.kafka.connect.errors.DataException")
    );
    assert!(header("__connect.errors.exception.message").is_some_and(|m| !m.is_empty()));
    assert_eq!(dlq[0].headers.len(), 11);

    // The skipped record's offset is consumed too.
    engine.flush_and_commit().await.unwrap();
    assert_eq!(h.cluster.committed("connect-c"), vec![("in".to_string(), 0, 2)]);
}

#[tokio::test]
async fn a_bad_record_under_tolerance_none_fails_the_task_naming_stage_class_and_position() {
    let h = Harness::new(&json_worker(), &[("topics", "in")]);
    h.cluster.create_topic("in", 1);
    produce(&h.cluster, "in", &["{not json"]);
    let mut engine = start(&h, ScriptedSink::default()).await;
    let err = engine.poll_batch(&h.env).await.unwrap_err().to_string();
    assert!(
        err.starts_with(
            "org.apache.kafka.connect.errors.ConnectException: Tolerance exceeded in error handler\n\
             Caused by: Error in stage VALUE_CONVERTER (org.apache.kafka.connect.json.JsonConverter) \
             for record topic=in partition=0 offset=0: "
        ),
        "{err}"
    );
    assert!(h.cluster.records("dlq").is_empty());
}

#[tokio::test]
async fn a_consumer_error_shows_in_the_status_until_records_flow_again() {
    let h = Harness::new(&[], &[("topics", "in")]);
    h.cluster.create_topic("in", 1);
    let mut engine = start(&h, ScriptedSink::default()).await;
    h.cluster.fail_next_poll("Broker: Unknown topic or partition");
    assert!(engine.poll_batch(&h.env).await.unwrap().is_empty());
    assert_eq!(
        h.status(),
        Some((
            State::Running,
            Some("Kafka consumer error, retrying: Broker: Unknown topic or partition".into())
        ))
    );
    produce(&h.cluster, "in", &["a"]);
    assert_eq!(engine.poll_batch(&h.env).await.unwrap().len(), 1);
    assert_eq!(h.status(), Some((State::Running, None)));
}

#[tokio::test]
async fn a_pattern_subscription_reads_every_matching_topic() {
    let h = Harness::new(&[], &[("topics.regex", "in-.*")]);
    for t in ["in-a", "in-b", "other"] {
        h.cluster.create_topic(t, 1);
        produce(&h.cluster, t, &[t]);
    }
    let calls = CallLog::default();
    let mut engine = start(
        &h,
        ScriptedSink {
            calls: calls.clone(),
            ..ScriptedSink::default()
        },
    )
    .await;
    turn(&h, &mut engine).await;
    assert_eq!(puts(&calls), vec![vec!["in-a", "in-b"]]);
    let consumer = h.cluster.client_settings("consumer");
    assert_eq!(consumer[0].get("group.id"), Some("connect-c"));
    assert_eq!(consumer[0].get("enable.auto.commit"), Some("false"));
    assert_eq!(consumer[0].get("auto.offset.reset"), Some("earliest"));
}

#[tokio::test]
async fn a_paused_task_receives_nothing_until_resumed_and_commits_on_its_interval() {
    let h = Harness::new(&[("offset.flush.interval.ms", "20")], &[("topics", "in")]);
    h.cluster.create_topic("in", 1);
    h.paused.send(true).unwrap();
    let calls = CallLog::default();
    let sink = ScriptedSink {
        calls: calls.clone(),
        ..ScriptedSink::default()
    };
    let env = h.restarted_env();
    let cancel = env.cancel.clone();
    let cluster = h.cluster.clone();
    let run = tokio::spawn(async move { super::run_with(env, Box::new(sink), &cluster).await });
    eventually("PAUSED", || h.status().is_some_and(|s| s.0 == State::Paused)).await;
    produce(&h.cluster, "in", &["a"]);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(puts(&calls).is_empty(), "a paused task gets no records");

    h.paused.send(false).unwrap();
    eventually("committed", || {
        h.cluster.committed("connect-c") == vec![("in".to_string(), 0, 1)]
    })
    .await;
    assert_eq!(puts(&calls), vec![vec!["a"]]);
    assert_eq!(h.status().map(|s| s.0), Some(State::Running));
    cancel.cancel();
    run.await.unwrap();
    assert!(calls.lock().unwrap().stopped);
}
