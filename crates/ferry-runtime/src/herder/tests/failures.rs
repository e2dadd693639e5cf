//! Failing and hung plugins, and a config topic that refuses writes: the herder records
//! the failure, gives up on what hangs after its limit, and goes on serving.

use std::time::{Duration, Instant};

use ferry_kafka::memory::MemoryCluster;
use ferry_kafka::records::{State as StoredState, StatusKey};
use ferry_rest::entities::State;
use ferry_rest::{Herder, HerderError};

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connector_that_fails_to_start_is_failed_with_its_trace() {
    let cluster = MemoryCluster::new();
    let w = start_worker(&cluster).await;
    w.create_connector("f", config("f", "test.FailingSource", &[]), None)
        .await
        .unwrap();
    wait_for_state(&w, "f", State::Failed).await;
    let status = w.connector_status("f").await.unwrap();
    let trace = status.connector.trace.unwrap_or_default();
    assert!(trace.contains("database unreachable at db:5432"), "{trace}");
    assert!(status.tasks.is_empty());
    eventually("FAILED on the status topic", || {
        last_status(&cluster, &StatusKey::Connector("f".into()))
            .flatten()
            .is_some_and(|s| s.state == StoredState::Failed && s.trace.as_deref() == Some(trace.as_str()))
    })
    .await;
    // The herder still serves other connectors.
    w.create_connector("ok", config("ok", "test.QuietSource", &[]), None)
        .await
        .unwrap();
    wait_for_state(&w, "ok", State::Running).await;
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connector_whose_stop_never_returns_does_not_block_the_herder() {
    let cluster = MemoryCluster::new();
    let w = start_worker(&cluster).await;
    w.create_connector("hung", config("hung", "test.HungStopSource", &[]), None)
        .await
        .unwrap();
    wait_for_state(&w, "hung", State::Running).await;

    let started = Instant::now();
    tokio::time::timeout(Duration::from_secs(5), w.delete_connector("hung"))
        .await
        .expect("delete returns although stop() hangs")
        .unwrap();
    let took = started.elapsed();
    assert!(
        took >= LIMITS.connector,
        "gave up after {took:?}, before the limit"
    );
    // The herder goes on serving changes.
    w.create_connector("next", config("next", "test.QuietSource", &[]), None)
        .await
        .unwrap();
    wait_for_state(&w, "next", State::Running).await;
    tokio::time::timeout(Duration::from_secs(5), w.shutdown())
        .await
        .expect("shutdown ends");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_whose_stop_never_returns_is_abandoned_after_the_limit() {
    let cluster = MemoryCluster::new();
    let w = start_worker(&cluster).await;
    w.create_connector("t", config("t", "test.HungTaskSource", &[]), None)
        .await
        .unwrap();
    wait_for_tasks(&w, "t", &[State::Running]).await;

    // The answer comes first; the herder then stops the task and gives up on it after the limit.
    w.stop_connector("t").await.unwrap();
    let started = Instant::now();
    wait_for_state(&w, "t", State::Stopped).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    tokio::time::timeout(Duration::from_secs(5), w.health_check())
        .await
        .expect("the herder answers")
        .unwrap();
    tokio::time::timeout(Duration::from_secs(5), w.shutdown())
        .await
        .expect("shutdown ends");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_config_write_answers_500_and_changes_nothing() {
    let cluster = MemoryCluster::new();
    let w = start_worker(&cluster).await;
    cluster.fail_writes(CONFIGS, Some("broker unavailable"));
    let err = w
        .create_connector("c", config("c", "test.QuietSource", &[]), None)
        .await
        .unwrap_err();
    let HerderError::Internal(msg) = &err else {
        panic!("{err:?}");
    };
    assert!(msg.starts_with("Failed to write to config topic"), "{msg}");
    assert!(w.connectors().await.unwrap().is_empty());
    assert!(config_records(&cluster).is_empty());

    cluster.fail_writes(CONFIGS, None);
    w.create_connector("c", config("c", "test.QuietSource", &[]), None)
        .await
        .unwrap();
    assert_eq!(w.connectors().await.unwrap(), ["c"]);
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_connector_waits_for_its_hung_tasks_together() {
    let cluster = MemoryCluster::new();
    let w = start_worker(&cluster).await;
    w.create_connector(
        "t",
        config("t", "test.HungTaskSource", &[("tasks.max", "8")]),
        None,
    )
    .await
    .unwrap();
    wait_for_tasks(&w, "t", &[State::Running; 8]).await;
    let started = Instant::now();
    w.delete_connector("t").await.unwrap();
    let took = started.elapsed();
    assert!(
        took >= LIMITS.task && took < LIMITS.task * 5,
        "delete took {took:?}"
    );
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_waits_for_hung_tasks_together_not_one_after_another() {
    let cluster = MemoryCluster::new();
    let w = start_worker(&cluster).await;
    w.create_connector(
        "t",
        config("t", "test.HungTaskSource", &[("tasks.max", "8")]),
        None,
    )
    .await
    .unwrap();
    wait_for_tasks(&w, "t", &[State::Running; 8]).await;
    let started = Instant::now();
    w.shutdown().await;
    let took = started.elapsed();
    // One after another, eight hung tasks would take 8 x the limit (2.4 s).
    assert!(
        took >= LIMITS.task && took < LIMITS.task * 5,
        "shutdown took {took:?}"
    );
    for t in 0..8 {
        let state = last_status(&cluster, &StatusKey::Task("t".into(), t))
            .flatten()
            .map(|s| s.state);
        assert_eq!(state, Some(StoredState::Unassigned), "task {t}");
    }
}
